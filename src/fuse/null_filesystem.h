// NullFilesystem: a Filesystem whose every operation fails with ENOSYS and
// whose Init asks for nothing. Used by fuzzers (the server's decoding and
// encoding, with no backend behind it) and by tests.
//
// Trust boundary: none. Thread-safety: stateless; safe from any thread.
#pragma once

#include "fuse/filesystem.h"

namespace hostshare::fuse {

class NullFilesystem : public Filesystem {
 public:
  InitWants Init(const InitInfo& info) override;
  void Reset() override;

  Result<Entry> Lookup(const Context& ctx, NodeId parent, std::string_view name) override;
  void Forget(NodeId node, uint64_t nlookup) override;
  Result<Attr> GetAttr(const Context& ctx, NodeId node, const Handle* handle) override;
  Result<Attr> SetAttr(const Context& ctx, NodeId node, const SetAttrIn& in) override;
  Result<std::string> ReadLink(const Context& ctx, NodeId node) override;
  Result<Entry> Symlink(const Context& ctx, NodeId parent, std::string_view name,
                        std::string_view target) override;
  Result<Entry> Mknod(const Context& ctx, NodeId parent, std::string_view name, uint32_t mode,
                      uint32_t rdev, uint32_t umask) override;
  Result<Entry> Mkdir(const Context& ctx, NodeId parent, std::string_view name, uint32_t mode,
                      uint32_t umask) override;
  Status Unlink(const Context& ctx, NodeId parent, std::string_view name) override;
  Status Rmdir(const Context& ctx, NodeId parent, std::string_view name) override;
  Status Rename(const Context& ctx, NodeId old_parent, std::string_view old_name,
                NodeId new_parent, std::string_view new_name, uint32_t flags) override;
  Result<Entry> Link(const Context& ctx, NodeId node, NodeId new_parent,
                     std::string_view new_name) override;
  Status Access(const Context& ctx, NodeId node, uint32_t mask) override;
  Result<struct statvfs> StatFs(const Context& ctx, NodeId node) override;

  Result<Opened> Open(const Context& ctx, NodeId node, uint32_t flags) override;
  Result<Created> Create(const Context& ctx, NodeId parent, std::string_view name, uint32_t mode,
                         uint32_t flags, uint32_t umask) override;
  Result<Created> TmpFile(const Context& ctx, NodeId parent, uint32_t mode, uint32_t flags,
                          uint32_t umask) override;
  Result<size_t> Read(const Context& ctx, NodeId node, Handle handle, uint64_t offset,
                      uint32_t size, ByteWriter& out) override;
  Result<size_t> Write(const Context& ctx, NodeId node, Handle handle, uint64_t offset,
                       uint32_t size, ByteReader& in, bool kill_suidgid) override;
  Status Flush(const Context& ctx, NodeId node, Handle handle, uint64_t lock_owner) override;
  Status Release(const Context& ctx, NodeId node, Handle handle, uint32_t flags,
                 uint32_t release_flags, uint64_t lock_owner) override;
  Status Fsync(const Context& ctx, NodeId node, Handle handle, bool datasync) override;
  Status Fallocate(const Context& ctx, NodeId node, Handle handle, uint32_t mode,
                   uint64_t offset, uint64_t length) override;
  Result<uint64_t> Lseek(const Context& ctx, NodeId node, Handle handle, uint64_t offset,
                         uint32_t whence) override;
  Result<size_t> CopyFileRange(const Context& ctx, NodeId node_in, Handle handle_in,
                               uint64_t offset_in, NodeId node_out, Handle handle_out,
                               uint64_t offset_out, uint64_t length, uint64_t flags) override;

  Result<Opened> OpenDir(const Context& ctx, NodeId node, uint32_t flags) override;
  Status ReadDir(const Context& ctx, NodeId node, Handle handle, uint64_t offset, uint32_t size,
                 DirSink& sink) override;
  Status ReleaseDir(const Context& ctx, NodeId node, Handle handle) override;
  Status FsyncDir(const Context& ctx, NodeId node, Handle handle, bool datasync) override;
  Status SyncFs(const Context& ctx, NodeId node) override;

  Status SetXattr(const Context& ctx, NodeId node, std::string_view name,
                  std::span<const char> value, uint32_t flags) override;
  Result<size_t> GetXattr(const Context& ctx, NodeId node, std::string_view name,
                          std::span<char> buf) override;
  Result<size_t> ListXattr(const Context& ctx, NodeId node, std::span<char> buf) override;
  Status RemoveXattr(const Context& ctx, NodeId node, std::string_view name) override;
};

}  // namespace hostshare::fuse
