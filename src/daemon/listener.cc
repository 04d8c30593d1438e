#include "daemon/listener.h"

#include <fcntl.h>
#include <grp.h>
#include <sys/file.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <cstdio>
#include <cstring>

namespace hostshare::daemon {
namespace {

bool FillAddr(const std::string& path, sockaddr_un* addr) {
  if (path.empty() || path.size() >= sizeof(addr->sun_path)) return false;
  memset(addr, 0, sizeof(*addr));
  addr->sun_family = AF_UNIX;
  memcpy(addr->sun_path, path.c_str(), path.size() + 1);
  return true;
}

// True if a socket is listening at `path`. Read from /proc/net/unix rather
// than probed with connect(): a probe connection would be accepted by the
// daemon that owns the socket, which would take it for its frontend.
bool SomeoneListens(const std::string& path) {
  FILE* f = fopen("/proc/net/unix", "re");
  if (f == nullptr) return false;
  char line[4096];
  bool found = false;
  // Columns: Num RefCount Protocol Flags Type St Inode Path
  while (!found && fgets(line, sizeof(line), f) != nullptr) {
    unsigned long flags = 0;
    char sock_path[sizeof(line)];
    if (sscanf(line, "%*s %*s %*s %lx %*s %*s %*s %4095s", &flags, sock_path) == 2) {
      constexpr unsigned long kAcceptCon = 0x10000;  // __SO_ACCEPTCON
      found = (flags & kAcceptCon) && path == sock_path;
    }
  }
  fclose(f);
  return found;
}

}  // namespace

std::optional<Listener> Listener::Bind(const std::string& path,
                                       const std::optional<std::string>& group,
                                       std::string* error) {
  sockaddr_un addr;
  if (!FillAddr(path, &addr)) {
    *error = "socket path '" + path + "' is empty or longer than " +
             std::to_string(sizeof(addr.sun_path) - 1) + " bytes";
    return std::nullopt;
  }
  const std::string pid_path = path + ".pid";
  ScopedFd pid_fd(open(pid_path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0644));
  if (!pid_fd) {
    *error = "cannot open the pid file '" + pid_path + "': " + strerror(errno);
    return std::nullopt;
  }
  // A daemon killed a moment ago may still hold the lock through its
  // sandboxed child, which dies with its parent (PR_SET_PDEATHSIG) but not
  // at the same instant: give it up to a second.
  int locked = -1;
  for (int i = 0; i < 50; i++) {
    locked = flock(pid_fd.get(), LOCK_EX | LOCK_NB);
    if (locked == 0 || errno != EWOULDBLOCK) break;
    usleep(20 * 1000);
  }
  if (locked != 0) {
    char buf[24] = {};
    ssize_t n = pread(pid_fd.get(), buf, sizeof(buf) - 1, 0);
    std::string owner = n > 0 ? std::string(buf, strnlen(buf, sizeof(buf))) : "?";
    while (!owner.empty() && owner.back() == '\n') owner.pop_back();
    *error = "socket path '" + path + "' is in use by another daemon (pid " + owner + ", " +
             pid_path + ")";
    return std::nullopt;
  }
  const std::string pid = std::to_string(getpid()) + "\n";
  if (ftruncate(pid_fd.get(), 0) != 0 ||
      pwrite(pid_fd.get(), pid.data(), pid.size(), 0) != static_cast<ssize_t>(pid.size())) {
    *error = "cannot write the pid file '" + pid_path + "': " + strerror(errno);
    return std::nullopt;
  }
  struct stat st;
  if (lstat(path.c_str(), &st) == 0) {
    if (!S_ISSOCK(st.st_mode)) {
      *error = "socket path '" + path + "' exists and is not a socket";
      return std::nullopt;
    }
    if (SomeoneListens(path)) {
      *error = "socket path '" + path + "' is in use by another process";
      return std::nullopt;
    }
    unlink(path.c_str());  // stale socket of a daemon that died
  }
  std::optional<gid_t> gid;
  if (group) {
    struct group* g = getgrnam(group->c_str());
    if (g == nullptr) {
      *error = "unknown socket group '" + *group + "'";
      return std::nullopt;
    }
    gid = g->gr_gid;
  }
  Listener l;
  l.fd_.reset(socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0));
  if (!l.fd_) {
    *error = std::string("cannot create a socket: ") + strerror(errno);
    return std::nullopt;
  }
  // Only the owner (and the group, when given) may connect.
  mode_t old = umask(gid ? 0117 : 0177);
  int rc = bind(l.fd_.get(), reinterpret_cast<sockaddr*>(&addr), sizeof(addr));
  int err = errno;
  umask(old);
  if (rc != 0) {
    *error = "cannot bind socket path '" + path + "': " + strerror(err);
    return std::nullopt;
  }
  l.path_ = path;
  l.pid_fd_ = std::move(pid_fd);
  l.pid_path_ = pid_path;
  if (gid && chown(path.c_str(), static_cast<uid_t>(-1), *gid) != 0) {
    *error = "cannot set the group of '" + path + "': " + strerror(errno);
    l.Unlink();
    return std::nullopt;
  }
  if (listen(l.fd_.get(), 1) != 0) {
    *error = std::string("cannot listen: ") + strerror(errno);
    l.Unlink();
    return std::nullopt;
  }
  // Which file is ours, for Unlink() (after listen(): a client that saw the
  // file must not find it refusing connections for longer than necessary).
  struct stat sock_st;
  if (lstat(path.c_str(), &sock_st) == 0) {
    l.dev_ = sock_st.st_dev;
    l.ino_ = sock_st.st_ino;
  }
  return l;
}

std::optional<Listener> Listener::FromFd(int fd, std::string* error) {
  int type = 0;
  socklen_t len = sizeof(type);
  int listening = 0;
  socklen_t len2 = sizeof(listening);
  if (getsockopt(fd, SOL_SOCKET, SO_TYPE, &type, &len) != 0 || type != SOCK_STREAM ||
      getsockopt(fd, SOL_SOCKET, SO_ACCEPTCONN, &listening, &len2) != 0 || !listening) {
    *error = "--fd " + std::to_string(fd) + " is not a listening stream socket";
    return std::nullopt;
  }
  Listener l;
  l.fd_.reset(fd);
  return l;
}

Result<ScopedFd> Listener::Accept() {
  for (;;) {
    int c = accept4(fd_.get(), nullptr, nullptr, SOCK_CLOEXEC);
    if (c >= 0) return ScopedFd(c);
    if (errno != EINTR) return LastErrno();
  }
}

void Listener::LeaveFilesToParent() {
  pid_fd_.reset();
  path_.clear();
  pid_path_.clear();
}

void Listener::Unlink() {
  struct stat st;
  if (!path_.empty() && lstat(path_.c_str(), &st) == 0 && st.st_dev == dev_ &&
      st.st_ino == ino_) {
    // unlinkat: the call the seccomp allow-list has (the passthrough's).
    unlinkat(AT_FDCWD, path_.c_str(), 0);
  }
  path_.clear();
  // The pid file goes with the socket (only if the path still leads to ours).
  struct stat mine;
  if (!pid_path_.empty() && pid_fd_ && fstat(pid_fd_.get(), &mine) == 0 &&
      lstat(pid_path_.c_str(), &st) == 0 && st.st_dev == mine.st_dev &&
      st.st_ino == mine.st_ino) {
    unlinkat(AT_FDCWD, pid_path_.c_str(), 0);
  }
  pid_path_.clear();
}

}  // namespace hostshare::daemon
