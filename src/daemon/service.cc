#include "daemon/service.h"

#include <cstring>

#include "base/log.h"
#include "device/fs_device.h"
#include "device/request_handler.h"
#include "fs/passthrough/passthrough_fs.h"
#include "fuse/blocking.h"
#include "fuse/server.h"
#include "vhost_user/session.h"

namespace hostshare::daemon {
namespace {

// The device's request handler is the FUSE server.
class FuseHandler : public device::RequestHandler {
 public:
  explicit FuseHandler(fuse::Server& server) : server_(server) {}
  size_t Handle(ByteReader& in, ByteWriter& out) override { return server_.Handle(in, out); }
  bool MayBlock(const uint8_t* head, size_t n) override { return fuse::MayBlock(head, n); }

 private:
  fuse::Server& server_;
};

fs::CacheMode ToCacheMode(Cache c) {
  switch (c) {
    case Cache::kNever: return fs::CacheMode::kNever;
    case Cache::kAuto: return fs::CacheMode::kAuto;
    case Cache::kAlways: return fs::CacheMode::kAlways;
    case Cache::kMetadata: return fs::CacheMode::kMetadata;
  }
  return fs::CacheMode::kAuto;
}

}  // namespace

struct Service::Impl {
  std::unique_ptr<fs::PassthroughFs> fs;
  std::unique_ptr<fuse::Server> server;
  std::unique_ptr<FuseHandler> handler;
  std::unique_ptr<device::FsDevice> device;
};

Service::Service() : impl_(std::make_unique<Impl>()) {}
Service::~Service() = default;

std::unique_ptr<Service> Service::Create(const Config& config, std::string* error,
                                         ScopedFd proc_self_fd) {
  fs::PassthroughConfig pc;
  pc.root = config.shared_dir;
  pc.cache = ToCacheMode(config.cache);
  pc.writeback = config.writeback;
  pc.xattr = config.xattr;
  pc.readonly = config.readonly;
  pc.allow_direct_io = config.allow_direct_io;
  pc.allow_mmap = config.allow_mmap;
  pc.readdirplus = config.readdirplus;
  pc.announce_submounts = config.announce_submounts;
  auto fs = proc_self_fd.valid() ? fs::PassthroughFs::Create(pc, std::move(proc_self_fd))
                                 : fs::PassthroughFs::Create(pc);
  if (!fs.ok()) {
    *error = "cannot open shared directory '" + config.shared_dir + "': " + strerror(fs.error());
    return nullptr;
  }
  std::unique_ptr<Service> s(new Service());
  s->impl_->fs = std::move(*fs);
  s->impl_->server = std::make_unique<fuse::Server>(*s->impl_->fs, fuse::ServerOptions{});
  s->impl_->handler = std::make_unique<FuseHandler>(*s->impl_->server);
  s->impl_->device = std::make_unique<device::FsDevice>(*s->impl_->handler, config.tag,
                                                       config.thread_pool_size,
                                                       uint64_t{config.poll_max_us} * 1000);
  return s;
}

Status Service::Serve(ScopedFd conn) {
  vhost_user::Session session(std::move(conn), *impl_->device);
  return session.Run();
}

}  // namespace hostshare::daemon
