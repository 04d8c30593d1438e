// Listener: the vhost-user socket the frontend connects to.
//
// Either created at --socket-path (a stale socket left by a dead daemon is
// replaced; a live one, or a non-socket file, is an error) or inherited
// with --fd. One frontend at a time: Accept() returns the first connection.
#pragma once

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
  // Removes the socket file (after a connection was accepted, so that no
  // second frontend can connect, and at exit).
  void Unlink();

 private:
  ScopedFd fd_;
  std::string path_;
};

}  // namespace hostshare::daemon
