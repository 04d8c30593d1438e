// PassthroughFs: opening and closing regular files (OPEN, CREATE, TMPFILE,
// FLUSH, RELEASE, FSYNC).
//
// Only regular files are ever opened for I/O. An existing inode is reopened
// through /proc/self/fd/N of its O_PATH fd after its type was checked, so
// the fd is exactly the inode the guest named; a new file is created with
// O_CREAT | O_EXCL (which never follows or opens anything existing), and an
// existing name reached through CREATE goes the same checked reopen route.
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>

#include "fs/passthrough/credentials.h"
#include "fs/passthrough/host_ops.h"
#include "fs/passthrough/passthrough_fs.h"

namespace hostshare::fs {
namespace {

// The answer for opening an inode of this type for I/O.
Status OpenableType(uint32_t type) {
  if (S_ISREG(type)) return OkStatus();
  if (S_ISDIR(type)) return Errno{EISDIR};
  if (S_ISLNK(type)) return Errno{ELOOP};
  return Errno{ENXIO};  // FIFO, socket, char or block device
}

}  // namespace

Result<fuse::Opened> PassthroughFs::Open(const fuse::Context& ctx, fuse::NodeId node,
                                         uint32_t flags) {
  auto inode = GetInode(node);
  if (!inode.ok()) return Errno{inode.error()};
  HS_RETURN_IF_ERROR(OpenableType(inode->type()));
  auto host_flags = HostOpenFlags(flags);
  if (!host_flags.ok()) return Errno{host_flags.error()};
  auto fd = Reopen(inode->fd(), *host_flags);
  if (!fd.ok()) return Errno{fd.error()};
  if (ctx.kill_suidgid && (*host_flags & O_TRUNC)) HS_RETURN_IF_ERROR(ClearPrivBits(fd->get()));
  auto h = handles_.Add(std::make_shared<OpenFile>(std::move(*fd), node, OpenFile::Kind::kFile));
  if (!h.ok()) return Errno{h.error()};
  return fuse::Opened{*h, FileOpenFlags()};
}

Result<fuse::Created> PassthroughFs::Create(const fuse::Context& ctx, fuse::NodeId parent,
                                            std::string_view name, uint32_t mode, uint32_t flags,
                                            uint32_t umask) {
  HS_RETURN_IF_ERROR(Writable());
  auto cname = ToCName(name);
  if (!cname.ok()) return Errno{cname.error()};
  auto host_flags = HostOpenFlags(flags);
  if (!host_flags.ok()) return Errno{host_flags.error()};
  auto p = GetInode(parent);
  if (!p.ok()) return Errno{p.error()};
  if (!S_ISDIR(p->type())) return Errno{ENOTDIR};

  PrepareThread();
  const mode_t host_mode = CreateMode(mode, umask);
  const int fd = CreateAsCaller(ctx.uid, ctx.gid, p->fd(), (host_mode & S_ISGID) != 0, [&] {
    return openat(p->fd(), cname->s, *host_flags | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC,
                  host_mode);
  });
  if (fd >= 0) {
    ScopedFd file(fd);
    auto entry = EntryForCreated(file.get(), *p, cname->s);
    if (!entry.ok()) return Errno{entry.error()};
    return FinishCreate(std::move(file), *entry);
  }
  if (errno != EEXIST || (flags & O_EXCL)) return LastErrno();

  // The name exists and the guest did not ask for O_EXCL: open it like
  // OPEN would, without following it if it is a symlink.
  auto path = OpenPathAt(p->fd(), cname->s);
  if (!path.ok()) return Errno{path.error()};
  auto st = StatFd(path->get(), nullptr);
  if (!st.ok()) return Errno{st.error()};
  HS_RETURN_IF_ERROR(OpenableType(st->st_mode & S_IFMT));
  auto file = Reopen(path->get(), *host_flags);
  if (!file.ok()) return Errno{file.error()};
  if (ctx.kill_suidgid && (*host_flags & O_TRUNC)) HS_RETURN_IF_ERROR(ClearPrivBits(file->get()));
  auto entry = EntryForFd(std::move(*path), *p);
  if (!entry.ok()) return Errno{entry.error()};
  return FinishCreate(std::move(*file), *entry);
}

Result<fuse::Entry> PassthroughFs::EntryForCreated(int file, const InodeRef& parent,
                                                    const char* name) {
  // The inode table wants an O_PATH fd of the new file. Looking the name up
  // again costs a third of reopening `file` through /proc/self/fd; it is
  // used only if it finds the very inode we created (the name may have been
  // replaced meanwhile, then the reopen is the fallback).
  InodeKey created;
  if (StatFd(file, &created).ok()) {
    auto path = OpenPathAt(parent.fd(), name);
    if (path.ok()) {
      InodeKey key;
      auto st = StatFd(path->get(), &key);
      if (st.ok() && key == created) {
        auto ins = inodes_.Insert(std::move(*path), key, st->st_mode & S_IFMT);
        if (!ins.ok()) return Errno{ins.error()};
        return MakeEntry(*ins, *st, key, parent);
      }
    }
  }
  auto path = Reopen(file, O_PATH);
  if (!path.ok()) return Errno{path.error()};
  return EntryForFd(std::move(*path), parent);
}

Result<fuse::Created> PassthroughFs::TmpFile(const fuse::Context& ctx, fuse::NodeId parent,
                                             uint32_t mode, uint32_t flags, uint32_t umask) {
  HS_RETURN_IF_ERROR(Writable());
  auto host_flags = HostOpenFlags(flags);
  if (!host_flags.ok()) return Errno{host_flags.error()};
  if ((*host_flags & O_ACCMODE) == O_RDONLY) return Errno{EINVAL};  // as O_TMPFILE requires
  auto p = GetInode(parent);
  if (!p.ok()) return Errno{p.error()};
  if (!S_ISDIR(p->type())) return Errno{ENOTDIR};

  PrepareThread();
  const mode_t host_mode = CreateMode(mode, umask);
  const int fd = CreateAsCaller(ctx.uid, ctx.gid, p->fd(), (host_mode & S_ISGID) != 0, [&] {
    return openat(p->fd(), ".", (*host_flags & ~O_TRUNC) | O_TMPFILE | O_CLOEXEC, host_mode);
  });
  if (fd < 0) return LastErrno();
  ScopedFd file(fd);
  auto path = Reopen(file.get(), O_PATH);
  if (!path.ok()) return Errno{path.error()};
  auto entry = EntryForFd(std::move(*path), *p);
  if (!entry.ok()) return Errno{entry.error()};
  return FinishCreate(std::move(file), *entry);
}

Status PassthroughFs::Flush(const fuse::Context&, fuse::NodeId node, fuse::Handle handle,
                            uint64_t) {
  auto file = handles_.Get(handle, node, OpenFile::Kind::kFile);
  if (!file.ok()) return Errno{file.error()};
  // Closing a duplicate releases host POSIX locks of this process and
  // reports deferred write errors (NFS-style), like close() in the guest.
  int dup_fd = fcntl((*file)->fd.get(), F_DUPFD_CLOEXEC, 0);
  if (dup_fd < 0) return LastErrno();
  return StatusFromSyscall(close(dup_fd));
}

Status PassthroughFs::Release(const fuse::Context&, fuse::NodeId node, fuse::Handle handle,
                              uint32_t, uint32_t, uint64_t) {
  return handles_.Remove(handle, node, OpenFile::Kind::kFile);
}

Status PassthroughFs::Fsync(const fuse::Context&, fuse::NodeId node, fuse::Handle handle,
                            bool datasync) {
  auto file = handles_.Get(handle, node, OpenFile::Kind::kFile);
  if (!file.ok()) return Errno{file.error()};
  int fd = (*file)->fd.get();
  return StatusFromSyscall(datasync ? fdatasync(fd) : fsync(fd));
}

}  // namespace hostshare::fs
