// Enter(): the namespace, pivot_root and chroot steps (see sandbox.h).
#include "sandbox/sandbox.h"

#include <dirent.h>
#include <fcntl.h>
#include <sched.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>

#include "base/log.h"
#include "sandbox/pid_namespace.h"

namespace hostshare::sandbox {
namespace {

std::string Why(const std::string& what) { return what + ": " + strerror(errno); }

bool WriteFile(const char* path, const std::string& text, std::string* error) {
  int fd = open(path, O_WRONLY | O_CLOEXEC);
  if (fd < 0) {
    *error = Why(std::string("cannot open ") + path);
    return false;
  }
  ssize_t n = write(fd, text.data(), text.size());
  int err = errno;
  close(fd);
  if (n != static_cast<ssize_t>(text.size())) {
    errno = n < 0 ? err : EIO;
    *error = Why(std::string("cannot write ") + path);
    return false;
  }
  return true;
}

// Unprivileged: a user namespace in which this process has capabilities,
// mapping only its own uid and gid (all an unprivileged process may map).
bool EnterUserNamespace(std::string* error) {
  uid_t uid = geteuid();
  gid_t gid = getegid();
  if (unshare(CLONE_NEWUSER) != 0) {
    *error = Why("--sandbox=namespace without root needs a user namespace, and unshare("
                 "CLONE_NEWUSER) failed (are unprivileged user namespaces disabled?); use "
                 "--sandbox=none");
    return false;
  }
  // setgroups must be denied before an unprivileged process may write gid_map.
  return WriteFile("/proc/self/setgroups", "deny", error) &&
         WriteFile("/proc/self/uid_map", std::to_string(uid) + " " + std::to_string(uid) + " 1",
                   error) &&
         WriteFile("/proc/self/gid_map", std::to_string(gid) + " " + std::to_string(gid) + " 1",
                   error);
}

ScopedFd OpenProcSelfFd() {
  return ScopedFd(open("/proc/self/fd", O_PATH | O_DIRECTORY | O_CLOEXEC));
}

// A proc instance of the new pid namespace on /proc, used only to open
// /proc/self/fd. If that is not allowed (a container hiding parts of
// /proc), the old /proc still resolves "self" for us.
bool MountProc(bool keep_mounted, ScopedFd* proc_self_fd, std::string* error) {
  bool mounted = mount("proc", "/proc", "proc", MS_NODEV | MS_NOEXEC | MS_NOSUID | MS_RELATIME,
                       nullptr) == 0;
  if (!mounted) {
    LOG_WARN("sandbox: cannot mount a proc file system for the new pid namespace (%s); using "
             "the existing /proc",
             strerror(errno));
  }
  *proc_self_fd = OpenProcSelfFd();
  if (!proc_self_fd->valid()) {
    *error = Why("sandbox: cannot open /proc/self/fd");
    return false;
  }
  // The fd stays valid on a detached mount.
  if (mounted && !keep_mounted && umount2("/proc", MNT_DETACH) != 0) {
    LOG_WARN("sandbox: cannot unmount the namespace's /proc: %s", strerror(errno));
  }
  return true;
}

// The share becomes "/": bind it onto itself (pivot_root needs a mount
// point; MS_REC keeps its submounts), pivot into it and detach the old
// root. The bind gets nodev/nosuid as well: the daemon never opens a
// device or runs a program, so nothing legitimate needs them.
bool PivotRoot(const std::string& dir, std::string* error) {
  if (mount(dir.c_str(), dir.c_str(), nullptr, MS_BIND | MS_REC, nullptr) != 0) {
    *error = Why("sandbox: cannot bind-mount '" + dir + "' onto itself");
    return false;
  }
  struct statvfs sv;
  if (statvfs(dir.c_str(), &sv) == 0) {
    // A remount must repeat the flags the mount already has (they may be
    // locked in a user namespace).
    unsigned long keep = MS_BIND | MS_REMOUNT | MS_NODEV | MS_NOSUID;
    if (sv.f_flag & ST_RDONLY) keep |= MS_RDONLY;
    if (sv.f_flag & ST_NOEXEC) keep |= MS_NOEXEC;
    if (sv.f_flag & ST_NOATIME) keep |= MS_NOATIME;
    if (sv.f_flag & ST_NODIRATIME) keep |= MS_NODIRATIME;
    if (sv.f_flag & ST_RELATIME) keep |= MS_RELATIME;
    if (mount(nullptr, dir.c_str(), nullptr, keep, nullptr) != 0) {
      LOG_DEBUG("sandbox: cannot remount the share nodev,nosuid: %s", strerror(errno));
    }
  }
  if (chdir(dir.c_str()) != 0) {
    *error = Why("sandbox: cannot chdir to '" + dir + "'");
    return false;
  }
  // pivot_root(".", "."): the old root ends up stacked on the new one,
  // and the umount below takes it away (pivot_root(2), NOTES).
  if (syscall(SYS_pivot_root, ".", ".") != 0) {
    *error = Why("sandbox: pivot_root into '" + dir + "' failed");
    return false;
  }
  if (umount2(".", MNT_DETACH) != 0) {
    *error = Why("sandbox: cannot detach the old root");
    return false;
  }
  if (chdir("/") != 0) {
    *error = Why("sandbox: chdir(\"/\")");
    return false;
  }
  return true;
}

std::optional<Confined> EnterNamespaces(const Plan& plan, const std::string& shared_dir,
                                        const std::vector<int>& child_only_fds,
                                        const std::function<void()>& remove_socket,
                                        SeccompAction parent_seccomp, std::string* error) {
  static const char kHint[] =
      " (in a container without CAP_SYS_ADMIN, use --sandbox=chroot or --sandbox=none)";
  if (plan.user_namespace && !EnterUserNamespace(error)) return std::nullopt;
  // CLONE_NEWPID applies to the children only; the parent keeps the host's
  // mount namespace, where the socket path still leads to the socket.
  if (unshare(CLONE_NEWPID) != 0) {
    *error = Why(std::string("--sandbox=namespace: cannot create a pid namespace") + kHint);
    return std::nullopt;
  }
  Confined c;
  if (!ForkIntoPidNamespace(child_only_fds, remove_socket, parent_seccomp, &c.parent_channel,
                            error)) {
    return std::nullopt;
  }

  // Child, pid 1: its own mount and network namespaces.
  if (unshare(CLONE_NEWNS | CLONE_NEWNET) != 0) {
    *error = Why(std::string("--sandbox=namespace: cannot create mount and network namespaces") +
                 kHint);
    return std::nullopt;
  }
  // Nothing mounted or unmounted from now on may propagate back to the host.
  if (mount(nullptr, "/", nullptr, MS_REC | MS_SLAVE, nullptr) != 0) {
    *error = Why("sandbox: cannot make the mounts private to the new namespace");
    return std::nullopt;
  }
  // With pivot_root the proc mount goes away with the old root; without
  // (sharing "/"), unmount it so that the guest sees the host's /proc as
  // it would without a sandbox.
  if (!MountProc(/*keep_mounted=*/plan.pivot_root, &c.proc_self_fd, error)) return std::nullopt;
  if (plan.pivot_root) {
    if (!PivotRoot(shared_dir, error)) return std::nullopt;
    c.root.assign(1, '/');  // not = "/": GCC 12 -O3 -Wrestrict false positive (PR105651)
  } else {
    c.root = shared_dir;
  }
  return c;
}

std::optional<Confined> EnterChroot(const std::string& shared_dir, std::string* error) {
  Confined c;
  c.proc_self_fd = OpenProcSelfFd();
  if (!c.proc_self_fd.valid()) {
    *error = Why("sandbox: cannot open /proc/self/fd");
    return std::nullopt;
  }
  if (chroot(shared_dir.c_str()) != 0) {
    *error = Why("sandbox: chroot into '" + shared_dir + "' failed");
    return std::nullopt;
  }
  if (chdir("/") != 0) {
    *error = Why("sandbox: chdir(\"/\")");
    return std::nullopt;
  }
  c.root.assign(1, '/');  // not = "/": GCC 12 -O3 -Wrestrict false positive (PR105651)
  return c;
}

}  // namespace

bool Confined::AskParentToRemoveSocket() {
  if (!parent_channel) return false;
  char b = 'u';
  ssize_t n;
  do {
    n = write(parent_channel.get(), &b, 1);
  } while (n < 0 && errno == EINTR);
  return n == 1;
}

int CloseInheritedFds(int keep) {
  int closed = 0;
  DIR* d = opendir("/proc/self/fd");
  if (d == nullptr) return 0;
  std::vector<int> fds;
  while (dirent* e = readdir(d)) {
    char* end = nullptr;
    long fd = strtol(e->d_name, &end, 10);
    if (end == e->d_name || *end != '\0' || fd < 3 || fd == keep || fd == dirfd(d)) continue;
    fds.push_back(static_cast<int>(fd));
  }
  closedir(d);
  for (int fd : fds) closed += close(fd) == 0 ? 1 : 0;
  return closed;
}

std::optional<Confined> Enter(const Plan& plan, const std::string& shared_dir,
                              const std::vector<int>& child_only_fds,
                              const std::function<void()>& remove_socket,
                              SeccompAction parent_seccomp, std::string* error) {
  switch (plan.mode) {
    case Mode::kNamespace:
      return EnterNamespaces(plan, shared_dir, child_only_fds, remove_socket, parent_seccomp,
                             error);
    case Mode::kChroot:
      return EnterChroot(shared_dir, error);
    case Mode::kNone:
      break;
  }
  Confined c;
  c.root = shared_dir;
  return c;
}

}  // namespace hostshare::sandbox
