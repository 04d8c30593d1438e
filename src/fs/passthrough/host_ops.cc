#include "fs/passthrough/host_ops.h"

#include <fcntl.h>
#include <linux/openat2.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstdio>
#include <cstring>

namespace hostshare::fs {
namespace {

std::atomic<bool> g_have_openat2{true};

}  // namespace

Result<CName> ToCName(std::string_view name) {
  if (name.empty() || name == "." || name == "..") return Errno{EINVAL};
  if (name.size() > NAME_MAX) return Errno{ENAMETOOLONG};
  if (name.find('/') != std::string_view::npos || name.find('\0') != std::string_view::npos) {
    return Errno{EINVAL};
  }
  CName out;
  memcpy(out.s, name.data(), name.size());
  out.s[name.size()] = '\0';
  return out;
}

FdName::FdName(int fd) { snprintf(s, sizeof(s), "%d", fd); }

Result<ScopedFd> OpenPathAt(int dirfd, const char* name) {
  if (g_have_openat2.load(std::memory_order_relaxed)) {
    struct open_how how {};
    how.flags = O_PATH | O_NOFOLLOW | O_CLOEXEC;
    how.resolve = RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS;
    long fd = syscall(SYS_openat2, dirfd, name, &how, sizeof(how));
    if (fd >= 0) return ScopedFd(static_cast<int>(fd));
    if (errno != ENOSYS) return LastErrno();
    g_have_openat2.store(false, std::memory_order_relaxed);
  }
  int fd = openat(dirfd, name, O_PATH | O_NOFOLLOW | O_CLOEXEC);
  if (fd < 0) return LastErrno();
  return ScopedFd(fd);
}

Result<struct stat> StatFd(int fd, InodeKey* key) { return StatAt(fd, "", key); }

Result<struct stat> StatAt(int dirfd, const char* name, InodeKey* key) {
  // A name is a single validated component: no symlink is followed, no
  // automount triggered, nothing outside dirfd reached.
  const int flags = (name[0] == '\0' ? AT_EMPTY_PATH : AT_NO_AUTOMOUNT) | AT_SYMLINK_NOFOLLOW |
                    AT_STATX_SYNC_AS_STAT;
  struct statx stx;
  if (statx(dirfd, name, flags, STATX_BASIC_STATS | (key != nullptr ? STATX_MNT_ID : 0), &stx) !=
      0) {
    return LastErrno();
  }
  struct stat st {};
  st.st_dev = makedev(stx.stx_dev_major, stx.stx_dev_minor);
  st.st_ino = stx.stx_ino;
  st.st_mode = stx.stx_mode;
  st.st_nlink = stx.stx_nlink;
  st.st_uid = stx.stx_uid;
  st.st_gid = stx.stx_gid;
  st.st_rdev = makedev(stx.stx_rdev_major, stx.stx_rdev_minor);
  st.st_size = static_cast<off_t>(stx.stx_size);
  st.st_blksize = stx.stx_blksize;
  st.st_blocks = static_cast<blkcnt_t>(stx.stx_blocks);
  st.st_atim = {stx.stx_atime.tv_sec, stx.stx_atime.tv_nsec};
  st.st_mtim = {stx.stx_mtime.tv_sec, stx.stx_mtime.tv_nsec};
  st.st_ctim = {stx.stx_ctime.tv_sec, stx.stx_ctime.tv_nsec};
  if (key != nullptr) {
    key->dev = st.st_dev;
    key->ino = st.st_ino;
    key->mnt_id = (stx.stx_mask & STATX_MNT_ID) ? stx.stx_mnt_id : 0;
  }
  return st;
}

Status ClearPrivBits(int fd) {
  struct stat st;
  if (fstat(fd, &st) != 0) return LastErrno();
  mode_t bits = st.st_mode & S_ISUID;
  if ((st.st_mode & (S_ISGID | S_IXGRP)) == (S_ISGID | S_IXGRP)) bits |= S_ISGID;
  if (bits == 0) return OkStatus();
  return StatusFromSyscall(fchmod(fd, st.st_mode & 07777 & ~bits));
}

}  // namespace hostshare::fs
