#include "virtio/descriptor_chain.h"

#include <cstring>

namespace hostshare::virtio {
namespace {

constexpr uint64_t kMaxPart = 0xffffffffull;  // used.len is a u32

// Appends one descriptor's buffer to the right part of the chain.
ChainError AddBuffer(const GuestMemory& mem, const Desc& d, Chain* chain) {
  bool writable = (d.flags & kDescFWrite) != 0;
  if (!writable && chain->seen_writable) return ChainError::kReadableAfterWritable;
  chain->seen_writable |= writable;
  uint64_t& total = writable ? chain->writable_len : chain->readable_len;
  if (d.len > kMaxPart - total) return ChainError::kTooBig;
  if (d.len == 0) return ChainError::kNone;
  std::vector<iovec>& part = writable ? chain->writable : chain->readable;
  if (!mem.Translate(d.addr, d.len, &part).ok()) return ChainError::kBadAddress;
  total += d.len;
  return ChainError::kNone;
}

// Reads descriptor `i` of an indirect table at guest address `table_gpa`;
// copying through GuestMemory handles a table that straddles regions.
bool ReadIndirect(const GuestMemory& mem, uint64_t table_gpa, uint32_t i, Desc* out) {
  return mem.CopyFrom(table_gpa + uint64_t{i} * sizeof(Desc), out, sizeof(Desc)).ok();
}

ChainError WalkIndirect(const GuestMemory& mem, const Desc& ind, Chain* chain) {
  if (ind.len == 0 || ind.len % sizeof(Desc) != 0) return ChainError::kBadIndirect;
  uint32_t count = ind.len / sizeof(Desc);
  if (count > kMaxQueueSize) return ChainError::kBadIndirect;
  // The whole table must be guest memory before we start (bounds, wrap).
  std::vector<iovec> probe;
  if (!mem.Translate(ind.addr, ind.len, &probe).ok()) return ChainError::kBadAddress;
  uint32_t i = 0;
  for (uint32_t steps = 0;; ++steps) {
    if (steps >= count) return ChainError::kTooLong;
    Desc d;
    if (!ReadIndirect(mem, ind.addr, i, &d)) return ChainError::kBadAddress;
    if (d.flags & kDescFIndirect) return ChainError::kBadIndirect;  // nested
    ChainError e = AddBuffer(mem, d, chain);
    if (e != ChainError::kNone) return e;
    if (!(d.flags & kDescFNext)) return ChainError::kNone;
    if (d.next >= count) return ChainError::kNextOutOfRange;
    i = d.next;
  }
}

}  // namespace

const char* ChainErrorName(ChainError e) {
  switch (e) {
    case ChainError::kNone: return "none";
    case ChainError::kHeadOutOfRange: return "head index out of range";
    case ChainError::kNextOutOfRange: return "next index out of range";
    case ChainError::kTooLong: return "chain longer than its table (loop)";
    case ChainError::kBadIndirect: return "malformed indirect descriptor";
    case ChainError::kIndirectNotNegotiated: return "indirect descriptor not negotiated";
    case ChainError::kReadableAfterWritable: return "readable descriptor after writable";
    case ChainError::kTooBig: return "chain part larger than 4 GiB";
    case ChainError::kBadAddress: return "buffer outside guest memory";
  }
  return "unknown";
}

ChainError WalkChain(const GuestMemory& mem, const Desc* table, uint32_t queue_size,
                     uint16_t head, bool indirect_allowed, Chain* chain) {
  chain->Clear();
  chain->head = head;
  if (head >= queue_size) return ChainError::kHeadOutOfRange;
  uint16_t i = head;
  for (uint32_t steps = 0;; ++steps) {
    if (steps >= queue_size) return ChainError::kTooLong;
    Desc d;
    // Copy out once: the guest may change the table under us.
    memcpy(&d, &table[i], sizeof(d));
    if (d.flags & kDescFIndirect) {
      if (!indirect_allowed) return ChainError::kIndirectNotNegotiated;
      if ((d.flags & kDescFNext) || steps != 0) return ChainError::kBadIndirect;
      return WalkIndirect(mem, d, chain);
    }
    ChainError e = AddBuffer(mem, d, chain);
    if (e != ChainError::kNone) return e;
    if (!(d.flags & kDescFNext)) return ChainError::kNone;
    if (d.next >= queue_size) return ChainError::kNextOutOfRange;
    i = d.next;
  }
}

}  // namespace hostshare::virtio
