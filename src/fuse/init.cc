#include "fuse/init.h"

#include <cstring>

namespace hostshare::fuse {

Result<InitRequest> ParseInitIn(std::span<const char> body) {
  fuse_init_in in{};
  if (body.size() < wire::kInitInMajorMinorSize) return Errno{EINVAL};
  memcpy(&in, body.data(), std::min(sizeof in, body.size()));
  InitRequest req{.major = in.major, .minor = in.minor};
  if (in.major != wire::kKernelMajor || in.minor < 6) return req;  // nothing more to read
  if (body.size() < wire::kCompatInitInSize) return Errno{EINVAL};
  req.max_readahead = in.max_readahead;
  req.flags = in.flags;
  if ((in.flags & FUSE_INIT_EXT) != 0) {
    if (body.size() < sizeof(fuse_init_in)) return Errno{EINVAL};
    req.flags |= uint64_t{in.flags2} << 32;
  }
  return req;
}

uint64_t NegotiateFlags(uint64_t kernel_flags, uint64_t wanted) {
  return (wanted | kServerFlags) & kernel_flags & ~kUnsupportedFlags;
}

fuse_init_out BuildInitOut(const InitRequest& req, uint32_t minor, uint64_t flags,
                           const Limits& limits) {
  fuse_init_out out{};
  out.major = wire::kKernelMajor;
  out.minor = minor;
  out.max_readahead = req.max_readahead;
  out.flags = static_cast<uint32_t>(flags);
  out.flags2 = (flags & FUSE_INIT_EXT) != 0 ? static_cast<uint32_t>(flags >> 32) : 0;
  out.max_background = limits.max_background;
  out.congestion_threshold = limits.congestion_threshold;
  out.max_write = limits.max_write;
  out.time_gran = 1;
  out.max_pages = (flags & FUSE_MAX_PAGES) != 0 ? limits.max_pages : 0;
  out.map_alignment = 0;
  return out;
}

}  // namespace hostshare::fuse
