// INIT negotiation as pure functions: parse fuse_init_in, pick the flags,
// build fuse_init_out. The stateful part (Reset on re-INIT, storing the
// result) is in handlers_session.cc.
//
// Version rules (<linux/fuse.h>, "Version negotiation"): major must be 7;
// a kernel with a larger major gets a reply with just our major/minor and
// is expected to retry; minor = min(kernel's, 38).
//
// Trust boundary: fuse_init_in is guest-controlled. Thread-safety: pure.
#pragma once

#include <cstdint>
#include <span>

#include "base/result.h"
#include "fuse/session.h"
#include "fuse/wire.h"

namespace hostshare::fuse {

struct InitRequest {
  uint32_t major = 0;
  uint32_t minor = 0;
  uint32_t max_readahead = 0;
  uint64_t flags = 0;  // flags | flags2 << 32 when FUSE_INIT_EXT is set
};

// Flags the server itself asks for whenever the kernel offers them: they
// concern the transport and the server, not the backend.
inline constexpr uint64_t kServerFlags = FUSE_BIG_WRITES | FUSE_MAX_PAGES | FUSE_INIT_EXT;

// FUSE_INIT_RESERVED is (1 << 31), a negative int: widened to 64 bits it
// would sign-extend over every flags2 bit.
inline constexpr uint64_t kInitReserved = uint64_t{1} << 31;
static_assert(static_cast<uint32_t>(FUSE_INIT_RESERVED) == kInitReserved);

// Flags never granted, whatever the backend wants, because this server
// cannot honour them: lookups of "."/".." are refused (EXPORT_SUPPORT);
// GETLK/SETLK are ENOSYS (POSIX/FLOCK locks: the guest then keeps locks
// local); no security contexts reach the backend (SECURITY_CTX); no DAX
// window (MAP_ALIGNMENT, HAS_INODE_DAX); reserved bits.
inline constexpr uint64_t kUnsupportedFlags = FUSE_EXPORT_SUPPORT | FUSE_POSIX_LOCKS |
                                              FUSE_FLOCK_LOCKS | FUSE_SECURITY_CTX |
                                              FUSE_MAP_ALIGNMENT | FUSE_HAS_INODE_DAX |
                                              kInitReserved;

// Parses fuse_init_in from the request body. EINVAL when the body is
// shorter than its major/minor/flags imply: 8 bytes for {major, minor};
// 16 from 7.6 on; the whole struct when FUSE_INIT_EXT is set.
[[nodiscard]] Result<InitRequest> ParseInitIn(std::span<const char> body);

// The flags to grant: what the backend wants plus kServerFlags, limited to
// what the kernel offered, minus kUnsupportedFlags.
[[nodiscard]] uint64_t NegotiateFlags(uint64_t kernel_flags, uint64_t wanted);

// The reply for an accepted INIT; send the first wire::InitOutSize(minor) bytes.
[[nodiscard]] fuse_init_out BuildInitOut(const InitRequest& req, uint32_t minor, uint64_t flags,
                                         const Limits& limits);

}  // namespace hostshare::fuse
