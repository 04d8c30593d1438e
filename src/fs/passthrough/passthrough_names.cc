// PassthroughFs: operations on names (LOOKUP, FORGET, READLINK, SYMLINK,
// MKNOD, MKDIR, UNLINK, RMDIR, RENAME, LINK).
//
// Every name is re-validated (ToCName) and used only as the last argument of
// an *at() call on its parent's O_PATH fd.
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <string>

#include "fs/passthrough/credentials.h"
#include "fs/passthrough/host_ops.h"
#include "fs/passthrough/passthrough_fs.h"

namespace hostshare::fs {

Result<fuse::Entry> PassthroughFs::Lookup(const fuse::Context&, fuse::NodeId parent,
                                          std::string_view name) {
  auto cname = ToCName(name);
  if (!cname.ok()) return Errno{cname.error()};
  auto p = GetInode(parent);
  if (!p.ok()) return Errno{p.error()};
  return LookupChild(*p, cname->s);
}

void PassthroughFs::Forget(fuse::NodeId node, uint64_t nlookup) { inodes_.Forget(node, nlookup); }

Result<std::string> PassthroughFs::ReadLink(const fuse::Context&, fuse::NodeId node) {
  auto inode = GetInode(node);
  if (!inode.ok()) return Errno{inode.error()};
  if (!S_ISLNK(inode->type())) return Errno{EINVAL};
  char buf[PATH_MAX];
  ssize_t n = readlinkat(inode->fd(), "", buf, sizeof(buf));
  if (n < 0) return LastErrno();
  if (static_cast<size_t>(n) >= sizeof(buf)) return Errno{ENAMETOOLONG};
  return std::string(buf, static_cast<size_t>(n));
}

Result<fuse::Entry> PassthroughFs::Symlink(const fuse::Context& ctx, fuse::NodeId parent,
                                           std::string_view name, std::string_view target) {
  HS_RETURN_IF_ERROR(Writable());
  auto cname = ToCName(name);
  if (!cname.ok()) return Errno{cname.error()};
  // The target is stored, never resolved by the host: any text is safe.
  if (target.empty()) return Errno{ENOENT};
  if (target.size() >= PATH_MAX) return Errno{ENAMETOOLONG};
  if (target.find('\0') != std::string_view::npos) return Errno{EINVAL};
  std::string ctarget(target);
  auto p = GetInode(parent);
  if (!p.ok()) return Errno{p.error()};
  if (!S_ISDIR(p->type())) return Errno{ENOTDIR};
  PrepareThread();
  if (CreateAsCaller(ctx.uid, ctx.gid, p->fd(), false,
                     [&] { return symlinkat(ctarget.c_str(), p->fd(), cname->s); }) != 0) {
    return LastErrno();
  }
  return LookupChild(*p, cname->s, /*stat_first=*/false);
}

Result<fuse::Entry> PassthroughFs::Mknod(const fuse::Context& ctx, fuse::NodeId parent,
                                         std::string_view name, uint32_t mode, uint32_t rdev,
                                         uint32_t umask) {
  HS_RETURN_IF_ERROR(Writable());
  auto cname = ToCName(name);
  if (!cname.ok()) return Errno{cname.error()};
  uint32_t type = mode & S_IFMT;
  if (type == 0) type = S_IFREG;
  switch (type) {
    case S_IFREG:
    case S_IFIFO:
    case S_IFSOCK:
    case S_IFCHR:
    case S_IFBLK:
      break;
    default:
      return Errno{EINVAL};
  }
  // rdev is the kernel's 32-bit encoding, which mknodat() decodes as is.
  dev_t dev = (type == S_IFCHR || type == S_IFBLK) ? static_cast<dev_t>(rdev) : 0;
  auto p = GetInode(parent);
  if (!p.ok()) return Errno{p.error()};
  if (!S_ISDIR(p->type())) return Errno{ENOTDIR};
  PrepareThread();
  // Device nodes need CAP_MKNOD, which only a guest uid 0 keeps.
  const mode_t host_mode = type | CreateMode(mode, umask);
  if (CreateAsCaller(ctx.uid, ctx.gid, p->fd(), (host_mode & S_ISGID) != 0,
                     [&] { return mknodat(p->fd(), cname->s, host_mode, dev); }) != 0) {
    return LastErrno();
  }
  return LookupChild(*p, cname->s, /*stat_first=*/false);
}

Result<fuse::Entry> PassthroughFs::Mkdir(const fuse::Context& ctx, fuse::NodeId parent,
                                         std::string_view name, uint32_t mode, uint32_t umask) {
  HS_RETURN_IF_ERROR(Writable());
  auto cname = ToCName(name);
  if (!cname.ok()) return Errno{cname.error()};
  auto p = GetInode(parent);
  if (!p.ok()) return Errno{p.error()};
  if (!S_ISDIR(p->type())) return Errno{ENOTDIR};
  PrepareThread();
  if (CreateAsCaller(ctx.uid, ctx.gid, p->fd(), false,
                     [&] { return mkdirat(p->fd(), cname->s, CreateMode(mode, umask)); }) != 0) {
    return LastErrno();
  }
  return LookupChild(*p, cname->s, /*stat_first=*/false);
}

namespace {

Status RemoveName(Result<InodeRef> parent, std::string_view name, int flags) {
  auto cname = ToCName(name);
  if (!cname.ok()) return Errno{cname.error()};
  if (!parent.ok()) return Errno{parent.error()};
  if (!S_ISDIR(parent->type())) return Errno{ENOTDIR};
  return StatusFromSyscall(unlinkat(parent->fd(), cname->s, flags));
}

}  // namespace

Status PassthroughFs::Unlink(const fuse::Context&, fuse::NodeId parent, std::string_view name) {
  HS_RETURN_IF_ERROR(Writable());
  return RemoveName(GetInode(parent), name, 0);
}

Status PassthroughFs::Rmdir(const fuse::Context&, fuse::NodeId parent, std::string_view name) {
  HS_RETURN_IF_ERROR(Writable());
  return RemoveName(GetInode(parent), name, AT_REMOVEDIR);
}

Status PassthroughFs::Rename(const fuse::Context&, fuse::NodeId old_parent,
                             std::string_view old_name, fuse::NodeId new_parent,
                             std::string_view new_name, uint32_t flags) {
  HS_RETURN_IF_ERROR(Writable());
  if (flags & ~static_cast<uint32_t>(RENAME_NOREPLACE | RENAME_EXCHANGE | RENAME_WHITEOUT)) {
    return Errno{EINVAL};
  }
  auto from = ToCName(old_name);
  if (!from.ok()) return Errno{from.error()};
  auto to = ToCName(new_name);
  if (!to.ok()) return Errno{to.error()};
  auto op = GetInode(old_parent);
  if (!op.ok()) return Errno{op.error()};
  auto np = GetInode(new_parent);
  if (!np.ok()) return Errno{np.error()};
  if (!S_ISDIR(op->type()) || !S_ISDIR(np->type())) return Errno{ENOTDIR};
  return StatusFromSyscall(renameat2(op->fd(), from->s, np->fd(), to->s, flags));
}

Result<fuse::Entry> PassthroughFs::Link(const fuse::Context&, fuse::NodeId node,
                                        fuse::NodeId new_parent, std::string_view new_name) {
  HS_RETURN_IF_ERROR(Writable());
  auto cname = ToCName(new_name);
  if (!cname.ok()) return Errno{cname.error()};
  auto inode = GetInode(node);
  if (!inode.ok()) return Errno{inode.error()};
  auto np = GetInode(new_parent);
  if (!np.ok()) return Errno{np.error()};
  if (!S_ISDIR(np->type())) return Errno{ENOTDIR};
  if (S_ISDIR(inode->type())) return Errno{EPERM};
  int rc = linkat(inode->fd(), "", np->fd(), cname->s, AT_EMPTY_PATH);
  if (rc != 0 && errno == ENOENT) {
    // AT_EMPTY_PATH needs CAP_DAC_READ_SEARCH; the /proc magic link does
    // not (and lands on the inode itself, a symlink included).
    rc = linkat(proc_self_fd_.get(), FdName(inode->fd()).s, np->fd(), cname->s,
                AT_SYMLINK_FOLLOW);
  }
  if (rc != 0) return LastErrno();
  return LookupChild(*np, cname->s);
}

}  // namespace hostshare::fs
