// The vhost-user wire protocol (QEMU docs/interop/vhost-user.rst): message
// codes, header, payload layouts, feature bits.
//
// Trust boundary: these are the frontend's bytes; see session.cc for the
// validation of every field. Little-endian hosts only.
#pragma once

#include <cstdint>

namespace hostshare::vhost_user {

enum Request : uint32_t {
  kGetFeatures = 1,
  kSetFeatures = 2,
  kSetOwner = 3,
  kResetOwner = 4,
  kSetMemTable = 5,
  kSetLogBase = 6,
  kSetLogFd = 7,
  kSetVringNum = 8,
  kSetVringAddr = 9,
  kSetVringBase = 10,
  kGetVringBase = 11,
  kSetVringKick = 12,
  kSetVringCall = 13,
  kSetVringErr = 14,
  kGetProtocolFeatures = 15,
  kSetProtocolFeatures = 16,
  kGetQueueNum = 17,
  kSetVringEnable = 18,
  kSendRarp = 19,
  kNetSetMtu = 20,
  kSetBackendReqFd = 21,
  kIotlbMsg = 22,
  kSetVringEndian = 23,
  kGetConfig = 24,
  kSetConfig = 25,
  kResetDevice = 34,
  kGetMaxMemSlots = 36,
  kAddMemReg = 37,
  kRemMemReg = 38,
};

const char* RequestName(uint32_t request);

struct Header {
  uint32_t request;
  uint32_t flags;
  uint32_t size;
};
static_assert(sizeof(Header) == 12);

inline constexpr uint32_t kVersionMask = 0x3;
inline constexpr uint32_t kVersion = 0x1;
inline constexpr uint32_t kFlagReply = 0x4;
inline constexpr uint32_t kFlagNeedReply = 0x8;

struct VringState {
  uint32_t index;
  uint32_t num;
};

struct VringAddr {
  uint32_t index;
  uint32_t flags;
  uint64_t desc_user_addr;
  uint64_t used_user_addr;
  uint64_t avail_user_addr;
  uint64_t log_guest_addr;
};
static_assert(sizeof(VringAddr) == 40);

struct MemoryRegion {
  uint64_t guest_phys_addr;
  uint64_t memory_size;
  uint64_t userspace_addr;
  uint64_t mmap_offset;
};

inline constexpr uint32_t kMaxMemTableRegions = 8;  // VHOST_MEMORY_BASELINE_NREGIONS

struct MemoryTable {
  uint32_t nregions;
  uint32_t padding;
  MemoryRegion regions[kMaxMemTableRegions];
};

struct SingleMemoryRegion {
  uint64_t padding;
  MemoryRegion region;
};

struct ConfigHeader {
  uint32_t offset;
  uint32_t size;
  uint32_t flags;
};

// u64 payload of SET_VRING_KICK/CALL/ERR: index in bits 0-7, bit 8 = no fd.
inline constexpr uint64_t kVringIndexMask = 0xff;
inline constexpr uint64_t kVringNoFdMask = 0x100;

// Largest payload we accept; anything larger closes the connection.
inline constexpr uint32_t kMaxPayload = 4096;
// Most fds one message may carry.
inline constexpr int kMaxFds = 8;

// Virtio feature bits.
inline constexpr uint64_t kFRingIndirectDesc = 1ull << 28;
inline constexpr uint64_t kFRingEventIdx = 1ull << 29;
inline constexpr uint64_t kFProtocolFeatures = 1ull << 30;
inline constexpr uint64_t kFVersion1 = 1ull << 32;

// Protocol feature bits.
inline constexpr uint64_t kPMq = 1ull << 0;
inline constexpr uint64_t kPReplyAck = 1ull << 3;
inline constexpr uint64_t kPBackendReq = 1ull << 5;
inline constexpr uint64_t kPConfig = 1ull << 9;
inline constexpr uint64_t kPBackendSendFd = 1ull << 10;
inline constexpr uint64_t kPResetDevice = 1ull << 13;
inline constexpr uint64_t kPConfigureMemSlots = 1ull << 15;

}  // namespace hostshare::vhost_user
