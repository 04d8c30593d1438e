// PassthroughFs: attributes (GETATTR, SETATTR, ACCESS, STATFS).
//
// Attributes are read with statx on the O_PATH fd (never following a
// symlink) or fstat on an open handle; changed with the *at(AT_EMPTY_PATH)
// calls, the /proc/self/fd magic link where no such call exists (chmod), or
// the open handle when the guest gave one.
#include <fcntl.h>
#include <linux/fuse.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>
#include <cstdint>

#include "fs/passthrough/credentials.h"
#include "fs/passthrough/host_ops.h"
#include "fs/passthrough/passthrough_fs.h"

namespace hostshare::fs {
namespace {

constexpr uint32_t kChangingAttrs = FATTR_MODE | FATTR_UID | FATTR_GID | FATTR_SIZE | FATTR_ATIME |
                                    FATTR_MTIME | FATTR_ATIME_NOW | FATTR_MTIME_NOW | FATTR_CTIME |
                                    FATTR_KILL_SUIDGID;

// Bits the kernel clears when an unprivileged writer changes a file:
// set-user-ID always, set-group-ID only together with group execute.
mode_t PrivBits(mode_t mode) {
  mode_t bits = mode & S_ISUID;
  if ((mode & (S_ISGID | S_IXGRP)) == (S_ISGID | S_IXGRP)) bits |= S_ISGID;
  return bits;
}

}  // namespace

Result<std::shared_ptr<OpenFile>> PassthroughFs::AnyHandle(fuse::Handle handle,
                                                           fuse::NodeId node) const {
  auto f = handles_.Get(handle, node, OpenFile::Kind::kFile);
  if (f.ok()) return f;
  return handles_.Get(handle, node, OpenFile::Kind::kDir);
}

Result<fuse::Attr> PassthroughFs::GetAttr(const fuse::Context&, fuse::NodeId node,
                                          const fuse::Handle* handle) {
  auto inode = GetInode(node);
  if (!inode.ok()) return Errno{inode.error()};
  if (handle != nullptr) {
    // The kernel sends a handle for regular files only; a directory handle
    // of the same node is accepted too (it names the same inode).
    auto file = AnyHandle(*handle, node);
    if (!file.ok()) return Errno{file.error()};
    struct stat st;
    if (fstat((*file)->fd.get(), &st) != 0) return LastErrno();
    return MakeAttr(st);
  }
  auto st = StatFd(inode->fd(), nullptr);
  if (!st.ok()) return Errno{st.error()};
  return MakeAttr(*st);
}

Result<fuse::Attr> PassthroughFs::SetAttr(const fuse::Context&, fuse::NodeId node,
                                          const fuse::SetAttrIn& in) {
  auto inode = GetInode(node);
  if (!inode.ok()) return Errno{inode.error()};
  const uint32_t valid = in.valid;
  if (valid & kChangingAttrs) HS_RETURN_IF_ERROR(Writable());
  std::shared_ptr<OpenFile> file;
  if (valid & FATTR_FH) {
    auto f = AnyHandle(in.handle, node);
    if (!f.ok()) return Errno{f.error()};
    file = std::move(*f);
  }
  const int hfd = file ? file->fd.get() : -1;
  const int pfd = inode->fd();
  const uint32_t type = inode->type();

  if (valid & FATTR_MODE) {
    mode_t m = in.mode & 07777;
    // No fchmod on O_PATH fds: go through the magic link (a symlink yields
    // EOPNOTSUPP, as chmod on a symlink does on Linux).
    int rc = hfd >= 0 ? fchmod(hfd, m) : fchmodat(proc_self_fd_.get(), FdName(pfd).s, m, 0);
    if (rc != 0) return LastErrno();
  }
  if (valid & (FATTR_UID | FATTR_GID)) {
    uid_t uid = (valid & FATTR_UID) ? in.uid : static_cast<uid_t>(-1);
    gid_t gid = (valid & FATTR_GID) ? in.gid : static_cast<gid_t>(-1);
    if (fchownat(pfd, "", uid, gid, AT_EMPTY_PATH | AT_SYMLINK_NOFOLLOW) != 0) return LastErrno();
  }
  if (valid & FATTR_SIZE) {
    if (in.size > static_cast<uint64_t>(INT64_MAX)) return Errno{EINVAL};
    off_t size = static_cast<off_t>(in.size);
    if (hfd >= 0) {
      if (ftruncate(hfd, size) != 0) return LastErrno();
    } else {
      if (S_ISDIR(type)) return Errno{EISDIR};
      if (!S_ISREG(type)) return Errno{EINVAL};  // never open a special file
      auto fd = Reopen(pfd, O_WRONLY | O_NONBLOCK);
      if (!fd.ok()) return Errno{fd.error()};
      if (ftruncate(fd->get(), size) != 0) return LastErrno();
    }
  }
  if (valid & (FATTR_ATIME | FATTR_MTIME | FATTR_ATIME_NOW | FATTR_MTIME_NOW)) {
    struct timespec ts[2];
    ts[0].tv_sec = ts[1].tv_sec = 0;
    ts[0].tv_nsec = ts[1].tv_nsec = UTIME_OMIT;
    if (valid & FATTR_ATIME_NOW) {
      ts[0].tv_nsec = UTIME_NOW;
    } else if (valid & FATTR_ATIME) {
      ts[0] = in.atime;
    }
    if (valid & FATTR_MTIME_NOW) {
      ts[1].tv_nsec = UTIME_NOW;
    } else if (valid & FATTR_MTIME) {
      ts[1] = in.mtime;
    }
    int rc = hfd >= 0 ? futimens(hfd, ts) : utimensat(pfd, "", ts, AT_EMPTY_PATH);
    if (rc != 0) return LastErrno();
  }
  // FATTR_KILL_SUIDGID: the guest asks us to drop privilege bits along with
  // a size or owner change (as the kernel would for an unprivileged caller;
  // we run with CAP_FSETID, so the host kernel would not). An explicit
  // FATTR_MODE already says what the guest wants.
  const bool kill = in.kill_suidgid || (valid & FATTR_KILL_SUIDGID);
  if (kill && S_ISREG(type) && !(valid & FATTR_MODE) &&
      (valid & (FATTR_SIZE | FATTR_UID | FATTR_GID))) {
    auto st = StatFd(pfd, nullptr);
    if (!st.ok()) return Errno{st.error()};
    mode_t bits = PrivBits(st->st_mode);
    if (bits != 0) {
      mode_t m = st->st_mode & 07777 & ~bits;
      int rc = hfd >= 0 ? fchmod(hfd, m) : fchmodat(proc_self_fd_.get(), FdName(pfd).s, m, 0);
      if (rc != 0) return LastErrno();
    }
  }

  if (hfd >= 0) {
    struct stat st;
    if (fstat(hfd, &st) != 0) return LastErrno();
    return MakeAttr(st);
  }
  auto st = StatFd(pfd, nullptr);
  if (!st.ok()) return Errno{st.error()};
  return MakeAttr(*st);
}

Status PassthroughFs::Access(const fuse::Context& ctx, fuse::NodeId node, uint32_t mask) {
  auto inode = GetInode(node);
  if (!inode.ok()) return Errno{inode.error()};
  if (mask & ~static_cast<uint32_t>(R_OK | W_OK | X_OK)) return Errno{EINVAL};
  if ((mask & W_OK) && config_.readonly) return Errno{EROFS};
  auto creds = ScopedCreds::Enter(ctx.uid, ctx.gid);
  if (!creds.ok()) return Errno{creds.error()};
  // faccessat2 with AT_EACCESS checks with the fsuid/fsgid just set (plain
  // access(2) would use the real ids). Raw syscall: glibc's fallback
  // emulation does not know AT_EMPTY_PATH.
  long rc = syscall(SYS_faccessat2, inode->fd(), "", static_cast<int>(mask),
                    AT_EACCESS | AT_EMPTY_PATH);
  return StatusFromSyscall(rc);
}

Result<struct statvfs> PassthroughFs::StatFs(const fuse::Context&, fuse::NodeId node) {
  auto inode = GetInode(node);
  if (!inode.ok()) return Errno{inode.error()};
  struct statvfs out;
  if (fstatvfs(inode->fd(), &out) != 0) return LastErrno();
  return out;
}

}  // namespace hostshare::fs
