// Filesystem: the interface the FUSE server dispatches to.
//
// It speaks in host terms (struct stat, errno, names already validated) and
// never in wire structs, so a backend needs no knowledge of the FUSE ABI
// beyond node ids and handles.
//
// Trust boundary: the server guarantees that every name passed here is a
// valid single path component (non-empty, not "." or "..", no '/', no NUL,
// <= NAME_MAX). Node ids and handles are NOT validated by the server: they
// are guest-controlled and each backend must validate them (ENOENT / EBADF).
//
// Thread-safety: every method may be called concurrently from several queue
// threads; implementations synchronise internally.
#pragma once

#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/types.h>

#include <cstdint>
#include <span>
#include <string>
#include <string_view>

#include "base/byte_io.h"
#include "base/result.h"

namespace hostshare::fuse {

using NodeId = uint64_t;
using Handle = uint64_t;

// The FUSE root node id (FUSE_ROOT_ID).
inline constexpr NodeId kRootNodeId = 1;

// Who is asking: the caller's credentials as the guest kernel reports them.
struct Context {
  uint32_t uid = 0;
  uint32_t gid = 0;
  uint32_t pid = 0;
  uint64_t unique = 0;
  // OPEN/CREATE only: FUSE_OPEN_KILL_SUIDGID. The caller lacks CAP_FSETID in
  // the guest, so a truncation by O_TRUNC must clear S_ISUID (and S_ISGID on
  // a group-executable file) as the kernel would for it. Sent only under
  // FUSE_HANDLE_KILLPRIV_V2.
  bool kill_suidgid = false;
};

// What INIT negotiated, told to the backend so it can pick its behaviour.
struct InitInfo {
  uint32_t major = 0;
  uint32_t minor = 0;
  uint64_t kernel_flags = 0;  // FUSE_* capability bits the kernel offered
  uint64_t flags = 0;         // bits the server agreed to (subset of kernel_flags)
};

// Capabilities a backend wants the server to request at INIT.
struct InitWants {
  uint64_t flags = 0;  // FUSE_* bits; the server masks with what the kernel offers
};

struct Attr {
  struct stat st {};
  uint32_t attr_flags = 0;      // FUSE_ATTR_* (e.g. FUSE_ATTR_SUBMOUNT)
  uint64_t timeout_ns = 0;      // how long the guest may cache it
};

struct Entry {
  NodeId node = 0;              // 0 = negative entry (cached absence)
  uint64_t generation = 0;
  Attr attr;
  uint64_t entry_timeout_ns = 0;
};

struct Opened {
  Handle handle = 0;
  uint32_t open_flags = 0;      // FOPEN_* (DIRECT_IO, KEEP_CACHE, ...)
};

struct Created {
  Entry entry;
  Opened opened;
};

// SETATTR request, host-typed. `valid` uses the FATTR_* bits of fuse.h.
struct SetAttrIn {
  uint32_t valid = 0;
  Handle handle = 0;            // meaningful when valid & FATTR_FH
  uint64_t size = 0;
  uint32_t mode = 0;
  uint32_t uid = 0;
  uint32_t gid = 0;
  struct timespec atime {};     // tv_nsec may be UTIME_NOW when FATTR_ATIME_NOW
  struct timespec mtime {};
  struct timespec ctime {};
  bool kill_suidgid = false;    // FATTR_KILL_SUIDGID
};

// One directory entry as READDIR(PLUS) reports it.
struct DirEntry {
  std::string_view name;
  uint64_t ino = 0;
  uint64_t offset = 0;          // cookie of the *next* entry
  uint32_t type = 0;            // DT_* value
};

// Where ReadDir puts entries. The server encodes them into the reply.
class DirSink {
 public:
  virtual ~DirSink() = default;
  // Adds an entry (READDIRPLUS: with its Entry, which counts as a lookup
  // when accepted). Returns false when the reply has no room for it: the
  // backend must stop and must NOT count the lookup.
  virtual bool Add(const DirEntry& dirent, const Entry* plus) = 0;
  // READDIRPLUS: true when each Add must carry an Entry.
  virtual bool Plus() const = 0;
};

class Filesystem {
 public:
  virtual ~Filesystem() = default;

  // --- session ---
  virtual InitWants Init(const InitInfo& info) = 0;
  // DESTROY, or a second INIT (guest reboot): drop every inode and handle
  // except the root, which starts afresh with a lookup count of 1.
  virtual void Reset() = 0;

  // --- names and nodes ---
  virtual Result<Entry> Lookup(const Context& ctx, NodeId parent, std::string_view name) = 0;
  virtual void Forget(NodeId node, uint64_t nlookup) = 0;
  virtual Result<Attr> GetAttr(const Context& ctx, NodeId node, const Handle* handle) = 0;
  virtual Result<Attr> SetAttr(const Context& ctx, NodeId node, const SetAttrIn& in) = 0;
  virtual Result<std::string> ReadLink(const Context& ctx, NodeId node) = 0;
  virtual Result<Entry> Symlink(const Context& ctx, NodeId parent, std::string_view name,
                                std::string_view target) = 0;
  virtual Result<Entry> Mknod(const Context& ctx, NodeId parent, std::string_view name,
                              uint32_t mode, uint32_t rdev, uint32_t umask) = 0;
  virtual Result<Entry> Mkdir(const Context& ctx, NodeId parent, std::string_view name,
                              uint32_t mode, uint32_t umask) = 0;
  virtual Status Unlink(const Context& ctx, NodeId parent, std::string_view name) = 0;
  virtual Status Rmdir(const Context& ctx, NodeId parent, std::string_view name) = 0;
  // flags: RENAME_NOREPLACE / RENAME_EXCHANGE / RENAME_WHITEOUT (0 for RENAME).
  virtual Status Rename(const Context& ctx, NodeId old_parent, std::string_view old_name,
                        NodeId new_parent, std::string_view new_name, uint32_t flags) = 0;
  virtual Result<Entry> Link(const Context& ctx, NodeId node, NodeId new_parent,
                             std::string_view new_name) = 0;
  virtual Status Access(const Context& ctx, NodeId node, uint32_t mask) = 0;
  virtual Result<struct statvfs> StatFs(const Context& ctx, NodeId node) = 0;

  // --- files ---
  // flags: the guest's open(2) flags.
  virtual Result<Opened> Open(const Context& ctx, NodeId node, uint32_t flags) = 0;
  virtual Result<Created> Create(const Context& ctx, NodeId parent, std::string_view name,
                                 uint32_t mode, uint32_t flags, uint32_t umask) = 0;
  virtual Result<Created> TmpFile(const Context& ctx, NodeId parent, uint32_t mode,
                                  uint32_t flags, uint32_t umask) = 0;
  // Moves up to `size` bytes at `offset` straight into `out` (out.WriteFromFile).
  virtual Result<size_t> Read(const Context& ctx, NodeId node, Handle handle, uint64_t offset,
                              uint32_t size, ByteWriter& out) = 0;
  // Moves `size` bytes from `in` straight to the file (in.ReadToFile).
  // kill_suidgid: FUSE_WRITE_KILL_SUIDGID was set.
  virtual Result<size_t> Write(const Context& ctx, NodeId node, Handle handle, uint64_t offset,
                               uint32_t size, ByteReader& in, bool kill_suidgid) = 0;
  virtual Status Flush(const Context& ctx, NodeId node, Handle handle, uint64_t lock_owner) = 0;
  virtual Status Release(const Context& ctx, NodeId node, Handle handle, uint32_t flags,
                         uint32_t release_flags, uint64_t lock_owner) = 0;
  virtual Status Fsync(const Context& ctx, NodeId node, Handle handle, bool datasync) = 0;
  virtual Status Fallocate(const Context& ctx, NodeId node, Handle handle, uint32_t mode,
                           uint64_t offset, uint64_t length) = 0;
  virtual Result<uint64_t> Lseek(const Context& ctx, NodeId node, Handle handle, uint64_t offset,
                                 uint32_t whence) = 0;
  virtual Result<size_t> CopyFileRange(const Context& ctx, NodeId node_in, Handle handle_in,
                                       uint64_t offset_in, NodeId node_out, Handle handle_out,
                                       uint64_t offset_out, uint64_t length, uint64_t flags) = 0;

  // --- directories ---
  virtual Result<Opened> OpenDir(const Context& ctx, NodeId node, uint32_t flags) = 0;
  // Emits entries starting after cookie `offset` until the sink is full or
  // the directory ends. `size` is the guest's reply buffer size (a hint).
  virtual Status ReadDir(const Context& ctx, NodeId node, Handle handle, uint64_t offset,
                         uint32_t size, DirSink& sink) = 0;
  virtual Status ReleaseDir(const Context& ctx, NodeId node, Handle handle) = 0;
  virtual Status FsyncDir(const Context& ctx, NodeId node, Handle handle, bool datasync) = 0;
  virtual Status SyncFs(const Context& ctx, NodeId node) = 0;

  // --- extended attributes ---
  // flags: XATTR_CREATE / XATTR_REPLACE.
  virtual Status SetXattr(const Context& ctx, NodeId node, std::string_view name,
                          std::span<const char> value, uint32_t flags) = 0;
  // With an empty `buf`, returns the value's size; else fills buf and returns
  // the bytes used (ERANGE if it does not fit).
  virtual Result<size_t> GetXattr(const Context& ctx, NodeId node, std::string_view name,
                                  std::span<char> buf) = 0;
  // Same contract as GetXattr, for the NUL-separated name list.
  virtual Result<size_t> ListXattr(const Context& ctx, NodeId node, std::span<char> buf) = 0;
  virtual Status RemoveXattr(const Context& ctx, NodeId node, std::string_view name) = 0;
};

}  // namespace hostshare::fuse
