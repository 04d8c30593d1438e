// Host syscall helpers for the passthrough backend: name validation,
// O_PATH lookups that cannot leave their directory, statx with mount ids,
// and "/proc/self/fd/N" names.
//
// Trust boundary: names arrive from the guest (already checked by the FUSE
// server; checked again here, cheaply, because this layer is the one that
// hands them to the host kernel). fds are ours.
// Thread-safety: stateless except for a once-detected openat2 fallback flag.
#pragma once

#include <limits.h>
#include <sys/stat.h>

#include <string_view>

#include "base/result.h"
#include "base/scoped_fd.h"
#include "fs/passthrough/inode_table.h"

namespace hostshare::fs {

// A validated single path component, NUL-terminated.
struct CName {
  char s[NAME_MAX + 1];
};
// EINVAL unless `name` is non-empty, not "." or "..", has no '/' or NUL and
// is at most NAME_MAX bytes (ENAMETOOLONG beyond that).
[[nodiscard]] Result<CName> ToCName(std::string_view name);

// The decimal text of an fd, for openat(proc_self_fd, FdName(fd).s, ...).
struct FdName {
  explicit FdName(int fd);
  char s[16];
};

// openat(dirfd, name, O_PATH | O_NOFOLLOW | O_CLOEXEC) through openat2 with
// RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS when the
// kernel has it: the result is `name` itself (a symlink stays a symlink) and
// can never resolve outside dirfd.
[[nodiscard]] Result<ScopedFd> OpenPathAt(int dirfd, const char* name);

// statx(fd, "", AT_EMPTY_PATH | AT_SYMLINK_NOFOLLOW) as a struct stat, plus
// the table key (dev, ino, mount id).
[[nodiscard]] Result<struct stat> StatFd(int fd, InodeKey* key);
// The same for `name` (a validated single component) under `dirfd`, not
// following it: one syscall where OpenPathAt + StatFd take two (or three,
// with the close, when the inode is already known).
[[nodiscard]] Result<struct stat> StatAt(int dirfd, const char* name, InodeKey* key);

// Clears S_ISUID, and S_ISGID if the file is group-executable, on the open
// regular file `fd`: what the kernel does when an unprivileged caller
// writes or truncates. The daemon holds CAP_FSETID, so the host kernel
// would not; the guest asks for it with a *_KILL_SUIDGID flag.
[[nodiscard]] Status ClearPrivBits(int fd);

}  // namespace hostshare::fs
