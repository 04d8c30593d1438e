// Descriptor chain walker: turns the guest's descriptor chain starting at a
// head index into host iovecs, split into the device-readable part followed
// by the device-writable part (virtio 1.2 §2.7.5, §2.7.5.3 indirect).
//
// Trust boundary: the descriptor table lives in guest memory and is hostile.
// Each descriptor is copied out once and then validated; the walk is bounded
// (a loop or an over-long chain is an error, never a hang); `next` must be
// below the table size; an indirect table must be a whole number of
// descriptors, may not be nested, may not be combined with NEXT, and must be
// the chain's only descriptor; a readable descriptor after a writable one is
// an error; each part is at most 4 GiB - 1 bytes; every buffer is translated
// with bounds checks (a buffer may straddle regions; it then becomes several
// iovecs, and so may an indirect table).
//
// Thread-safety: pure function of its inputs; the queue's owner serialises.
#pragma once

#include <sys/uio.h>

#include <cstdint>
#include <vector>

#include "base/result.h"
#include "virtio/guest_memory.h"

namespace hostshare::virtio {

// virtio 1.2 §2.7.5: struct virtq_desc, little-endian (we only run on LE hosts).
struct Desc {
  uint64_t addr;
  uint32_t len;
  uint16_t flags;
  uint16_t next;
};
static_assert(sizeof(Desc) == 16);

inline constexpr uint16_t kDescFNext = 1;
inline constexpr uint16_t kDescFWrite = 2;
inline constexpr uint16_t kDescFIndirect = 4;
inline constexpr uint32_t kMaxQueueSize = 32768;

struct Chain {
  uint16_t head = 0;
  std::vector<iovec> readable;
  std::vector<iovec> writable;
  uint64_t readable_len = 0;
  uint64_t writable_len = 0;
  bool seen_writable = false;  // a writable descriptor (even empty) was seen
  void Clear() {
    readable.clear();
    writable.clear();
    readable_len = writable_len = 0;
    seen_writable = false;
  }
};

// Why a chain was rejected (for logs and tests).
enum class ChainError {
  kNone,
  kHeadOutOfRange,
  kNextOutOfRange,
  kTooLong,           // more descriptors than the table holds (loop)
  kBadIndirect,       // length not a multiple of 16, zero, nested, with NEXT, not alone
  kIndirectNotNegotiated,
  kReadableAfterWritable,
  kTooBig,            // a part exceeds 4 GiB - 1
  kBadAddress,        // a buffer or table outside guest memory
};

const char* ChainErrorName(ChainError e);

// Walks the chain at `head` of the descriptor table at `table` (host
// pointer, `queue_size` entries, inside guest memory). Fills `chain`
// (cleared first; its vectors keep their capacity for reuse).
// REQUIRES: queue_size is a power of two <= kMaxQueueSize.
ChainError WalkChain(const GuestMemory& mem, const Desc* table, uint32_t queue_size,
                     uint16_t head, bool indirect_allowed, Chain* chain);

}  // namespace hostshare::virtio
