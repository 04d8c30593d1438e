// Handlers for the session: INIT, DESTROY, INTERRUPT, and the opcodes we
// answer ENOSYS (locks, ioctl, poll, bmap, DAX mapping, notify replies).
#include <mutex>

#include "base/log.h"
#include "fuse/handlers.h"
#include "fuse/init.h"
#include "fuse/reply_helpers.h"

namespace hostshare::fuse::handlers {

// Logging here is at debug level only: INIT's contents are guest-controlled
// and a guest can send INIT (or INIT + DESTROY) as often as it likes.
size_t Init(Call& c) {
  // How much of fuse_init_in is present depends on what it says.
  Result<InitRequest> req = ParseInitIn(c.body);
  if (!req.ok()) return c.reply.Error(EINVAL);
  if (req->major < wire::kKernelMajor) {
    LOG_DEBUG("fuse: INIT: unsupported kernel protocol %u.%u", req->major, req->minor);
    return c.reply.Error(EPROTO);
  }
  if (req->major > wire::kKernelMajor) {
    // The kernel speaks a newer major: tell it ours so it can retry.
    fuse_init_out out{};
    out.major = wire::kKernelMajor;
    out.minor = wire::kMaxMinor;
    return c.reply.Ok(&out, FUSE_COMPAT_INIT_OUT_SIZE);
  }
  const uint32_t minor = std::min(req->minor, wire::kMaxMinor);
  if (!c.reply.Fits(wire::InitOutSize(minor))) return c.reply.Error(EINVAL);

  std::lock_guard<std::mutex> lock(c.session.mu());
  if (c.session.Snapshot().initialized) {
    // A second INIT: the guest rebooted or remounted. Nothing the old
    // session handed out is valid any more.
    LOG_DEBUG("fuse: INIT on an initialised session: resetting the filesystem");
    c.session.Set(Negotiated{});
    c.fs.Reset();
  }
  const uint64_t server_flags = kServerFlags & req->flags;
  InitWants wants = c.fs.Init(InitInfo{.major = wire::kKernelMajor,
                                       .minor = minor,
                                       .kernel_flags = req->flags,
                                       .flags = server_flags});
  const uint64_t flags = NegotiateFlags(req->flags, wants.flags);
  fuse_init_out out = BuildInitOut(*req, minor, flags, c.limits);
  c.session.Set(Negotiated{.initialized = true, .minor = minor, .flags = flags});
  LOG_DEBUG("fuse: INIT: protocol 7.%u (kernel 7.%u), flags %#llx", minor, req->minor,
           static_cast<unsigned long long>(flags));
  return c.reply.Ok(&out, wire::InitOutSize(minor));
}

size_t Destroy(Call& c) {
  {
    std::lock_guard<std::mutex> lock(c.session.mu());
    c.session.Set(Negotiated{});
    c.fs.Reset();
  }
  return c.reply.Ok();
}

// We handle each request synchronously, so there is never anything to
// interrupt; INTERRUPT never gets a reply of its own (the interrupted
// request gets its one normal reply).
size_t Interrupt(Call&) { return 0; }

size_t NotImplemented(Call& c) { return c.reply.Error(ENOSYS); }

}  // namespace hostshare::fuse::handlers
