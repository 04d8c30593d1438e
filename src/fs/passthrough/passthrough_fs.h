// PassthroughFs: a fuse::Filesystem that shares one host directory.
//
// Every host call is relative to an O_PATH fd held in the InodeTable:
// "*at(parent_fd, name)" for names, AT_EMPTY_PATH on the inode's fd, or a
// reopen through /proc/self/fd/N (an fd to /proc/self/fd is opened at
// Create()). No host path is ever built from the share root, and lookups go
// through openat2(RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS): a symlink in the
// share is a symlink node to the guest, never followed on the host.
//
// Policies (see the .cc files for details):
//  - OPEN/CREATE reach regular files only. Directories: EISDIR; symlinks:
//    ELOOP; FIFOs, sockets, char/block devices: ENXIO. The daemon never
//    opens a special file, so a guest cannot make it block on a FIFO or
//    reach a host device (the guest kernel serves those nodes itself).
//  - "." and ".." are never looked up (EINVAL); FUSE_EXPORT_SUPPORT is not
//    negotiated, so a correct guest kernel never asks.
//  - xattrs: regular files and directories through an fd reopened via
//    /proc/self/fd; symlinks and special files through the path
//    "/proc/self/fd/N" with the thread's private cwd at /proc/self/fd (the
//    magic link lands on the inode itself and is not followed further), so
//    special files are never opened. ENOSYS unless config.xattr.
//  - readonly: every mutating operation, and OPEN with write access or
//    O_TRUNC, fails EROFS.
//  - Creation (MKNOD, MKDIR, SYMLINK, CREATE, TMPFILE) and ACCESS run with
//    the caller's fsuid/fsgid (credentials.h); creation also with the parent
//    directory's group when the guest kernel's check may have used it
//    (CreateAsCaller). Other operations run as the daemon: the guest kernel
//    already checked permissions, and host-side checks without the caller's
//    supplementary groups would refuse legitimate calls.
//  - S_ISUID/S_ISGID: the daemon has CAP_FSETID, so it clears them itself
//    where the guest says the caller could not keep them (KILLPRIV_V2).
//
// Trust boundary: node ids, handles, names, flags, modes, offsets and sizes
// are guest-controlled and validated here; errors are errno values, never
// asserts or exceptions.
// Thread-safety: every method may be called concurrently (see the tables).
#pragma once

#include <atomic>
#include <memory>

#include "base/result.h"
#include "base/scoped_fd.h"
#include "fs/passthrough/cache_policy.h"
#include "fs/passthrough/config.h"
#include "fs/passthrough/handle_table.h"
#include "fs/passthrough/inode_table.h"
#include "fuse/filesystem.h"

namespace hostshare::fs {

class PassthroughFs : public fuse::Filesystem {
 public:
  // Opens config.root (O_PATH, must be a directory) and /proc/self/fd.
  [[nodiscard]] static Result<std::unique_ptr<PassthroughFs>> Create(
      const PassthroughConfig& config);
  // The same with /proc/self/fd already open (an O_PATH directory fd): the
  // sandbox opens it before /proc becomes unreachable (pivot_root, chroot).
  [[nodiscard]] static Result<std::unique_ptr<PassthroughFs>> Create(
      const PassthroughConfig& config, ScopedFd proc_self_fd);
  ~PassthroughFs() override;

  // --- session ---
  fuse::InitWants Init(const fuse::InitInfo& info) override;
  void Reset() override;

  // --- names and nodes (passthrough_names.cc, passthrough_attrs.cc) ---
  Result<fuse::Entry> Lookup(const fuse::Context& ctx, fuse::NodeId parent,
                             std::string_view name) override;
  void Forget(fuse::NodeId node, uint64_t nlookup) override;
  Result<fuse::Attr> GetAttr(const fuse::Context& ctx, fuse::NodeId node,
                             const fuse::Handle* handle) override;
  Result<fuse::Attr> SetAttr(const fuse::Context& ctx, fuse::NodeId node,
                             const fuse::SetAttrIn& in) override;
  Result<std::string> ReadLink(const fuse::Context& ctx, fuse::NodeId node) override;
  Result<fuse::Entry> Symlink(const fuse::Context& ctx, fuse::NodeId parent,
                              std::string_view name, std::string_view target) override;
  Result<fuse::Entry> Mknod(const fuse::Context& ctx, fuse::NodeId parent, std::string_view name,
                            uint32_t mode, uint32_t rdev, uint32_t umask) override;
  Result<fuse::Entry> Mkdir(const fuse::Context& ctx, fuse::NodeId parent, std::string_view name,
                            uint32_t mode, uint32_t umask) override;
  Status Unlink(const fuse::Context& ctx, fuse::NodeId parent, std::string_view name) override;
  Status Rmdir(const fuse::Context& ctx, fuse::NodeId parent, std::string_view name) override;
  Status Rename(const fuse::Context& ctx, fuse::NodeId old_parent, std::string_view old_name,
                fuse::NodeId new_parent, std::string_view new_name, uint32_t flags) override;
  Result<fuse::Entry> Link(const fuse::Context& ctx, fuse::NodeId node, fuse::NodeId new_parent,
                           std::string_view new_name) override;
  Status Access(const fuse::Context& ctx, fuse::NodeId node, uint32_t mask) override;
  Result<struct statvfs> StatFs(const fuse::Context& ctx, fuse::NodeId node) override;

  // --- files (passthrough_files.cc, passthrough_io.cc) ---
  Result<fuse::Opened> Open(const fuse::Context& ctx, fuse::NodeId node, uint32_t flags) override;
  Result<fuse::Created> Create(const fuse::Context& ctx, fuse::NodeId parent,
                               std::string_view name, uint32_t mode, uint32_t flags,
                               uint32_t umask) override;
  Result<fuse::Created> TmpFile(const fuse::Context& ctx, fuse::NodeId parent, uint32_t mode,
                                uint32_t flags, uint32_t umask) override;
  Result<size_t> Read(const fuse::Context& ctx, fuse::NodeId node, fuse::Handle handle,
                      uint64_t offset, uint32_t size, ByteWriter& out) override;
  Result<size_t> Write(const fuse::Context& ctx, fuse::NodeId node, fuse::Handle handle,
                       uint64_t offset, uint32_t size, ByteReader& in, bool kill_suidgid) override;
  Status Flush(const fuse::Context& ctx, fuse::NodeId node, fuse::Handle handle,
               uint64_t lock_owner) override;
  Status Release(const fuse::Context& ctx, fuse::NodeId node, fuse::Handle handle, uint32_t flags,
                 uint32_t release_flags, uint64_t lock_owner) override;
  Status Fsync(const fuse::Context& ctx, fuse::NodeId node, fuse::Handle handle,
               bool datasync) override;
  Status Fallocate(const fuse::Context& ctx, fuse::NodeId node, fuse::Handle handle, uint32_t mode,
                   uint64_t offset, uint64_t length) override;
  Result<uint64_t> Lseek(const fuse::Context& ctx, fuse::NodeId node, fuse::Handle handle,
                         uint64_t offset, uint32_t whence) override;
  Result<size_t> CopyFileRange(const fuse::Context& ctx, fuse::NodeId node_in,
                               fuse::Handle handle_in, uint64_t offset_in, fuse::NodeId node_out,
                               fuse::Handle handle_out, uint64_t offset_out, uint64_t length,
                               uint64_t flags) override;

  // --- directories (passthrough_dirs.cc) ---
  Result<fuse::Opened> OpenDir(const fuse::Context& ctx, fuse::NodeId node,
                               uint32_t flags) override;
  Status ReadDir(const fuse::Context& ctx, fuse::NodeId node, fuse::Handle handle,
                 uint64_t offset, uint32_t size, fuse::DirSink& sink) override;
  Status ReleaseDir(const fuse::Context& ctx, fuse::NodeId node, fuse::Handle handle) override;
  Status FsyncDir(const fuse::Context& ctx, fuse::NodeId node, fuse::Handle handle,
                  bool datasync) override;
  Status SyncFs(const fuse::Context& ctx, fuse::NodeId node) override;

  // --- extended attributes (passthrough_xattr.cc) ---
  Status SetXattr(const fuse::Context& ctx, fuse::NodeId node, std::string_view name,
                  std::span<const char> value, uint32_t flags) override;
  Result<size_t> GetXattr(const fuse::Context& ctx, fuse::NodeId node, std::string_view name,
                          std::span<char> buf) override;
  Result<size_t> ListXattr(const fuse::Context& ctx, fuse::NodeId node,
                           std::span<char> buf) override;
  Status RemoveXattr(const fuse::Context& ctx, fuse::NodeId node, std::string_view name) override;

  // --- introspection (tests, metrics) ---
  size_t InodeCount() const { return inodes_.LiveCount(); }
  uint64_t LookupCount(fuse::NodeId node) const { return inodes_.LookupCount(node); }
  size_t HandleCount() const { return handles_.Size(); }
  const PassthroughConfig& config() const { return config_; }

 private:
  PassthroughFs(const PassthroughConfig& config, ScopedFd proc_self_fd);

  // Shared helpers (passthrough_fs.cc).
  Result<InodeRef> GetInode(fuse::NodeId node) { return inodes_.Get(node); }
  // Counts a lookup of `name` under `parent`. With `stat_first` it stats
  // the name and, when the inode is already in the table, is done in that
  // one syscall; otherwise (or without `stat_first`, for a name that was
  // just created) it opens the name O_PATH and stats the fd.
  Result<fuse::Entry> LookupChild(const InodeRef& parent, const char* name,
                                  bool stat_first = true);
  // Counts a lookup of the inode behind O_PATH `fd`, found under `parent`.
  Result<fuse::Entry> EntryForFd(ScopedFd fd, const InodeRef& parent);
  // Counts a lookup of the file `file` just created as `name` under `parent`.
  Result<fuse::Entry> EntryForCreated(int file, const InodeRef& parent, const char* name);
  fuse::Entry MakeEntry(const InodeTable::Inserted& ins, const struct stat& st,
                        const InodeKey& key, const InodeRef& parent) const;
  // Reopens an inode (or any fd of ours) through /proc/self/fd with `flags`.
  Result<ScopedFd> Reopen(int fd, int flags) const;
  fuse::Attr MakeAttr(const struct stat& st) const;
  Status Writable() const;
  // The mode a creating call should pass to the host (umask handling).
  uint32_t CreateMode(uint32_t mode, uint32_t umask) const;
  // Guest open(2) flags -> host flags for reopening an existing file.
  Result<int> HostOpenFlags(uint32_t guest_flags) const;
  uint32_t FileOpenFlags() const;
  // Registers an open regular file; on failure forgets `entry`'s lookup.
  Result<fuse::Created> FinishCreate(ScopedFd file, fuse::Entry entry);
  // A file or directory handle of `node` (GETATTR/SETATTR with a handle).
  Result<std::shared_ptr<OpenFile>> AnyHandle(fuse::Handle handle, fuse::NodeId node) const;

  // passthrough_xattr.cc
  enum class XattrOp { kGet, kSet, kList, kRemove };
  Result<size_t> XattrCall(const InodeRef& inode, XattrOp op, const char* name, void* buf,
                           size_t size, int flags);

  const PassthroughConfig config_;
  const Timeouts timeouts_;
  const ScopedFd proc_self_fd_;  // O_PATH | O_DIRECTORY to /proc/self/fd
  InodeTable inodes_;
  HandleTable handles_;
  // Decided at INIT.
  std::atomic<bool> writeback_{false};
  std::atomic<bool> submounts_{false};
  std::atomic<bool> allow_mmap_negotiated_{false};
  std::atomic<bool> dont_mask_{false};
};

}  // namespace hostshare::fs
