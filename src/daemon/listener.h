// Listener: the vhost-user socket the frontend connects to.
//
// Either created at --socket-path (a stale socket left by a dead daemon is
// replaced; a live one, or a non-socket file, is an error) or inherited
// with --fd. One frontend at a time: Accept() returns the first connection.
//
// With --socket-path, <path>.pid holds the daemon's pid and is locked
// (flock) for the daemon's lifetime: a second daemon on the same path is
// refused even where /proc/net/unix cannot show the first one (another
// network namespace); a daemon killed with SIGKILL leaves the file but not
// its lock, so the next one takes the pid file and the stale socket over.
#pragma once

#include <sys/types.h>

#include <optional>
#include <string>

#include "base/result.h"
#include "base/scoped_fd.h"

namespace hostshare::daemon {

class Listener {
 public:
  // On failure `error` holds one human-readable line.
  static std::optional<Listener> Bind(const std::string& path,
                                      const std::optional<std::string>& group, std::string* error);
  static std::optional<Listener> FromFd(int fd, std::string* error);

  Result<ScopedFd> Accept();
  // Stops listening: a later connect() is refused.
  void Close() { fd_.reset(); }
  // Removes the socket file (after a connection was accepted, and at exit)
  // if it is still the one Bind() created. Only where the path still leads
  // to it: not from inside the sandbox.
  void Unlink();
  // In the sandboxed child of --sandbox=namespace: the parent outside keeps
  // the pid file (and its lock) and removes both files; this copy forgets
  // them, so that no fd of a host file outside the share stays inside.
  void LeaveFilesToParent();
  // The listening socket (-1 after Close()).
  int fd() const { return fd_.get(); }

 private:
  ScopedFd fd_;
  std::string path_;
  dev_t dev_ = 0;  // identity of the socket file Bind() created
  ino_t ino_ = 0;
  ScopedFd pid_fd_;  // <path>.pid, flock'ed while we live
  std::string pid_path_;
};

}  // namespace hostshare::daemon
