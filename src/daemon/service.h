// Service: the whole device stack for one shared directory, wired together:
// passthrough filesystem -> FUSE server -> virtio-fs device -> vhost-user
// session. The daemon's main() and the in-process integration tests both
// use it, so the tests exercise exactly what the daemon runs.
//
// Thread-safety: Serve() runs on the calling thread and blocks until the
// frontend disconnects; one Serve() at a time.
#pragma once

#include <memory>
#include <string>

#include "base/result.h"
#include "base/scoped_fd.h"
#include "daemon/config.h"

namespace hostshare::daemon {

class Service {
 public:
  // Opens the shared directory (config.shared_dir). On failure `error`
  // holds one line. `proc_self_fd`: an O_PATH fd to /proc/self/fd opened
  // by the sandbox; invalid: the passthrough opens /proc/self/fd itself.
  static std::unique_ptr<Service> Create(const Config& config, std::string* error,
                                         ScopedFd proc_self_fd = ScopedFd());
  ~Service();

  // Serves one vhost-user connection until the frontend disconnects (OK)
  // or breaks the protocol (the error, already logged).
  Status Serve(ScopedFd conn);

 private:
  Service();
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace hostshare::daemon
