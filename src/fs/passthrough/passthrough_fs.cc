// PassthroughFs: construction, session (INIT / reset) and the helpers every
// operation family shares.
#include "fs/passthrough/passthrough_fs.h"

#include <fcntl.h>
#include <linux/fuse.h>
#include <sys/stat.h>

#include <cerrno>
#include <climits>

#include "base/log.h"
#include "fs/passthrough/credentials.h"
#include "fs/passthrough/host_ops.h"

namespace hostshare::fs {

Result<std::unique_ptr<PassthroughFs>> PassthroughFs::Create(const PassthroughConfig& config) {
  int proc = open("/proc/self/fd", O_PATH | O_DIRECTORY | O_CLOEXEC);
  if (proc < 0) return LastErrno();
  return Create(config, ScopedFd(proc));
}

Result<std::unique_ptr<PassthroughFs>> PassthroughFs::Create(const PassthroughConfig& config,
                                                             ScopedFd proc_fd) {
  if (config.root.empty() || config.root[0] != '/') return Errno{EINVAL};
  if (!proc_fd.valid()) return Errno{EBADF};
  // The share root itself is trusted configuration: following symlinks in
  // it is the administrator's choice. Everything below it is not.
  int root = open(config.root.c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC);
  if (root < 0) return LastErrno();
  ScopedFd root_fd(root);
  InodeKey key;
  auto st = StatFd(root_fd.get(), &key);
  if (!st.ok()) return Errno{st.error()};
  if (!S_ISDIR(st->st_mode)) return Errno{ENOTDIR};

  std::unique_ptr<PassthroughFs> fs(new PassthroughFs(config, std::move(proc_fd)));
  HS_RETURN_IF_ERROR(fs->inodes_.SetRoot(std::move(root_fd), key, S_IFDIR));
  CredSwitchingEnabled();  // decide (and log) once, up front
  LOG_INFO("passthrough: sharing %s (cache=%s readonly=%d xattr=%d writeback=%d)",
           config.root.c_str(), CacheModeName(config.cache), config.readonly, config.xattr,
           config.writeback);
  return fs;
}

PassthroughFs::PassthroughFs(const PassthroughConfig& config, ScopedFd proc_self_fd)
    : config_(config), timeouts_(TimeoutsFor(config)), proc_self_fd_(std::move(proc_self_fd)) {}

PassthroughFs::~PassthroughFs() = default;

fuse::InitWants PassthroughFs::Init(const fuse::InitInfo& info) {
  uint64_t want = WantedInitFlags(config_, info.kernel_flags);
  writeback_.store((want & FUSE_WRITEBACK_CACHE) != 0);
  submounts_.store((want & FUSE_SUBMOUNTS) != 0);
  allow_mmap_negotiated_.store((want & kFuseDirectIoAllowMmap) != 0);
  // Not asked for; honoured if the server agreed to it on its own.
  dont_mask_.store((info.flags & FUSE_DONT_MASK) != 0);
  return fuse::InitWants{want};
}

void PassthroughFs::Reset() {
  handles_.Clear();
  inodes_.Reset();
}

Result<fuse::Entry> PassthroughFs::LookupChild(const InodeRef& parent, const char* name,
                                                bool stat_first) {
  if (!S_ISDIR(parent.type())) return Errno{ENOTDIR};
  if (stat_first) {
    // The name names an inode we already hold: one statx, no open/close.
    InodeKey key;
    auto st = StatAt(parent.fd(), name, &key);
    if (!st.ok()) return Errno{st.error()};
    auto hit = inodes_.Ref(key);
    if (hit.ok()) return MakeEntry(*hit, *st, key, parent);
  }
  auto fd = OpenPathAt(parent.fd(), name);
  if (!fd.ok()) return Errno{fd.error()};
  return EntryForFd(std::move(*fd), parent);
}

Result<fuse::Entry> PassthroughFs::EntryForFd(ScopedFd fd, const InodeRef& parent) {
  InodeKey key;
  auto st = StatFd(fd.get(), &key);
  if (!st.ok()) return Errno{st.error()};
  auto ins = inodes_.Insert(std::move(fd), key, st->st_mode & S_IFMT);
  if (!ins.ok()) return Errno{ins.error()};
  return MakeEntry(*ins, *st, key, parent);
}

fuse::Entry PassthroughFs::MakeEntry(const InodeTable::Inserted& ins, const struct stat& st,
                                     const InodeKey& key, const InodeRef& parent) const {
  fuse::Entry e;
  e.node = ins.id;
  e.generation = ins.generation;
  e.attr = MakeAttr(st);
  e.entry_timeout_ns = timeouts_.entry_ns;
  if (submounts_.load(std::memory_order_relaxed) && S_ISDIR(st.st_mode) &&
      (key.dev != parent.key().dev || key.mnt_id != parent.key().mnt_id)) {
    e.attr.attr_flags |= FUSE_ATTR_SUBMOUNT;
  }
  return e;
}

Result<ScopedFd> PassthroughFs::Reopen(int fd, int flags) const {
  // The magic link resolves to exactly the inode behind `fd`; O_NOFOLLOW
  // cannot be used (the link itself is a symlink), so callers check the
  // inode type first and never reopen symlinks or special files for I/O.
  int out = openat(proc_self_fd_.get(), FdName(fd).s, flags | O_CLOEXEC);
  if (out < 0) return LastErrno();
  return ScopedFd(out);
}

fuse::Attr PassthroughFs::MakeAttr(const struct stat& st) const {
  fuse::Attr a;
  a.st = st;
  a.timeout_ns = timeouts_.attr_ns;
  return a;
}

Status PassthroughFs::Writable() const {
  if (config_.readonly) return Errno{EROFS};
  return OkStatus();
}

uint32_t PassthroughFs::CreateMode(uint32_t mode, uint32_t umask) const {
  uint32_t m = mode & 07777;
  if (dont_mask_.load(std::memory_order_relaxed)) m &= ~umask;
  return m;
}

Result<int> PassthroughFs::HostOpenFlags(uint32_t guest_flags) const {
  int f = static_cast<int>(guest_flags);
  int acc = f & O_ACCMODE;
  if (acc == O_ACCMODE) return Errno{EINVAL};
  if (config_.readonly && (acc != O_RDONLY || (f & O_TRUNC))) return Errno{EROFS};
  // Everything else (O_CREAT, O_EXCL, O_NOCTTY, O_PATH, O_TMPFILE,
  // O_DIRECTORY, O_ASYNC, O_CLOEXEC ...) is the backend's business or
  // meaningless for a host-side fd, and is dropped.
  constexpr int kPassed =
      O_APPEND | O_NONBLOCK | O_DSYNC | O_SYNC | O_DIRECT | O_NOATIME | O_TRUNC | O_LARGEFILE;
  int out = acc | (f & kPassed);
  if (!config_.allow_direct_io) out &= ~O_DIRECT;
  if (writeback_.load(std::memory_order_relaxed)) {
    // The guest page cache may read to fill partial pages of a write-only
    // file, and it computes append offsets itself.
    if (acc == O_WRONLY) out = (out & ~O_ACCMODE) | O_RDWR;
    out &= ~O_APPEND;
  }
  return out;
}

uint32_t PassthroughFs::FileOpenFlags() const {
  return fs::FileOpenFlags(config_, allow_mmap_negotiated_.load(std::memory_order_relaxed));
}

Result<fuse::Created> PassthroughFs::FinishCreate(ScopedFd file, fuse::Entry entry) {
  auto h = handles_.Add(
      std::make_shared<OpenFile>(std::move(file), entry.node, OpenFile::Kind::kFile));
  if (!h.ok()) {
    inodes_.Forget(entry.node, 1);
    return Errno{h.error()};
  }
  fuse::Created c;
  c.entry = entry;
  c.opened.handle = *h;
  c.opened.open_flags = FileOpenFlags();
  return c;
}

}  // namespace hostshare::fs
