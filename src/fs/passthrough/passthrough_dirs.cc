// PassthroughFs: directories (OPENDIR, READDIR[PLUS], RELEASEDIR, FSYNCDIR)
// and SYNCFS.
//
// READDIR cookies are the host's d_off values: each call seeks the handle's
// fd to the guest's cookie and reads with getdents64, so a call that stops
// early (reply full) loses nothing. READDIRPLUS looks up each entry (an
// inode we already hold: one statx of the name; a new one: one openat2 and
// one statx of the fd) and counts the lookup only if the sink accepts the
// entry; "." and ".." go out with node id 0 and are never looked up.
#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstddef>
#include <cstring>
#include <vector>

#include "fs/passthrough/host_ops.h"
#include "fs/passthrough/passthrough_fs.h"

namespace hostshare::fs {
namespace {

// The getdents64 record (not in glibc's headers under this name).
struct LinuxDirent64 {
  uint64_t d_ino;
  int64_t d_off;
  uint16_t d_reclen;
  uint8_t d_type;
  char d_name[];
};
constexpr size_t kDirentHeader = offsetof(LinuxDirent64, d_name);
constexpr size_t kMinDirBuf = 1024;   // > one record with a NAME_MAX name
constexpr size_t kMaxDirBuf = 64 * 1024;

bool IsDotOrDotDot(std::string_view name) { return name == "." || name == ".."; }

}  // namespace

Result<fuse::Opened> PassthroughFs::OpenDir(const fuse::Context&, fuse::NodeId node, uint32_t) {
  auto inode = GetInode(node);
  if (!inode.ok()) return Errno{inode.error()};
  if (!S_ISDIR(inode->type())) return Errno{ENOTDIR};
  auto fd = Reopen(inode->fd(), O_RDONLY | O_DIRECTORY | O_NONBLOCK);
  if (!fd.ok()) return Errno{fd.error()};
  auto h = handles_.Add(std::make_shared<OpenFile>(std::move(*fd), node, OpenFile::Kind::kDir));
  if (!h.ok()) return Errno{h.error()};
  return fuse::Opened{*h, DirOpenFlags(config_)};
}

Status PassthroughFs::ReadDir(const fuse::Context&, fuse::NodeId node, fuse::Handle handle,
                              uint64_t offset, uint32_t size, fuse::DirSink& sink) {
  auto file = handles_.Get(handle, node, OpenFile::Kind::kDir);
  if (!file.ok()) return Errno{file.error()};
  if (offset > static_cast<uint64_t>(INT64_MAX)) return Errno{EINVAL};
  const bool plus = sink.Plus();
  Result<InodeRef> dir = Errno{ENOENT};
  if (plus) {
    dir = GetInode(node);
    if (!dir.ok()) return Errno{dir.error()};
  }

  // Size the host read to roughly what the reply can hold; READDIRPLUS
  // records are much larger than dirents, so read less for them. One
  // buffer per worker thread: the guest can open many directories, but it
  // cannot add threads.
  const size_t want = std::clamp<size_t>(plus ? size / 4 : size, kMinDirBuf, kMaxDirBuf);
  thread_local std::vector<char> buf;
  if (buf.size() < want) buf.resize(want);

  OpenFile& f = **file;
  std::lock_guard<std::mutex> lock(f.dir_mu);
  const int fd = f.fd.get();
  if (lseek(fd, static_cast<off_t>(offset), SEEK_SET) < 0) return LastErrno();

  bool emitted = false;
  for (;;) {
    long n = syscall(SYS_getdents64, fd, buf.data(), want);
    if (n < 0) {
      if (emitted) return OkStatus();  // the error recurs on the next call
      return LastErrno();
    }
    if (n == 0) return OkStatus();  // end of directory
    size_t pos = 0;
    const size_t len = static_cast<size_t>(n);
    while (pos < len) {
      // The kernel wrote these records, but check before trusting lengths.
      if (len - pos < kDirentHeader) return Errno{EIO};
      LinuxDirent64 d;
      memcpy(&d, buf.data() + pos, kDirentHeader);
      if (d.d_reclen < kDirentHeader || d.d_reclen > len - pos) return Errno{EIO};
      const char* name_ptr = buf.data() + pos + kDirentHeader;
      size_t name_len = strnlen(name_ptr, d.d_reclen - kDirentHeader);
      pos += d.d_reclen;
      std::string_view name(name_ptr, name_len);
      if (name.empty()) continue;

      fuse::DirEntry de;
      de.name = name;
      de.ino = d.d_ino;
      de.offset = static_cast<uint64_t>(d.d_off);
      de.type = d.d_type;
      if (!plus) {
        if (!sink.Add(de, nullptr)) return OkStatus();
        emitted = true;
        continue;
      }
      fuse::Entry entry;  // node 0: "no lookup" (kernel treats as plain dirent)
      if (!IsDotOrDotDot(name)) {
        auto cname = ToCName(name);
        if (cname.ok()) {
          // Stat the name first only when getdents' inode number says we
          // probably hold the inode (then that one statx is the whole
          // lookup); a new inode costs an open and a stat, never two stats.
          const InodeKey probe{dir->key().dev, d.d_ino, dir->key().mnt_id};
          auto looked = LookupChild(*dir, cname->s, inodes_.Contains(probe));
          if (looked.ok()) {
            entry = *looked;
          } else if (looked.error() == ENOENT) {
            continue;  // removed since getdents: skip it
          }
          // Other errors (EMFILE ...): send the plain entry without a node.
        }
      }
      if (entry.node == 0) {
        entry.attr.st.st_ino = d.d_ino;
        entry.attr.st.st_mode = DTTOIF(d.d_type);
      }
      if (!sink.Add(de, &entry)) {
        if (entry.node != 0) inodes_.Forget(entry.node, 1);  // not sent: not counted
        return OkStatus();
      }
      emitted = true;
    }
  }
}

Status PassthroughFs::ReleaseDir(const fuse::Context&, fuse::NodeId node, fuse::Handle handle) {
  return handles_.Remove(handle, node, OpenFile::Kind::kDir);
}

Status PassthroughFs::FsyncDir(const fuse::Context&, fuse::NodeId node, fuse::Handle handle,
                               bool datasync) {
  auto file = handles_.Get(handle, node, OpenFile::Kind::kDir);
  if (!file.ok()) return Errno{file.error()};
  int fd = (*file)->fd.get();
  return StatusFromSyscall(datasync ? fdatasync(fd) : fsync(fd));
}

Status PassthroughFs::SyncFs(const fuse::Context&, fuse::NodeId node) {
  // syncfs() refuses O_PATH fds: reopen a directory (the node itself when it
  // is one, else the root: never open a file just to sync its filesystem).
  auto inode = GetInode(node);
  if (!inode.ok()) return Errno{inode.error()};
  if (!S_ISDIR(inode->type())) {
    inode = GetInode(fuse::kRootNodeId);
    if (!inode.ok()) return Errno{inode.error()};
  }
  auto fd = Reopen(inode->fd(), O_RDONLY | O_DIRECTORY | O_NONBLOCK);
  if (!fd.ok()) return Errno{fd.error()};
  return StatusFromSyscall(syncfs(fd->get()));
}

}  // namespace hostshare::fs
