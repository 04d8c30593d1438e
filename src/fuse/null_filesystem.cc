#include "fuse/null_filesystem.h"

namespace hostshare::fuse {

namespace {
constexpr Errno kNoSys{ENOSYS};
}  // namespace

InitWants NullFilesystem::Init(const InitInfo&) { return InitWants{}; }
void NullFilesystem::Reset() {}

Result<Entry> NullFilesystem::Lookup(const Context&, NodeId, std::string_view) { return kNoSys; }
void NullFilesystem::Forget(NodeId, uint64_t) {}
Result<Attr> NullFilesystem::GetAttr(const Context&, NodeId, const Handle*) { return kNoSys; }
Result<Attr> NullFilesystem::SetAttr(const Context&, NodeId, const SetAttrIn&) { return kNoSys; }
Result<std::string> NullFilesystem::ReadLink(const Context&, NodeId) { return kNoSys; }
Result<Entry> NullFilesystem::Symlink(const Context&, NodeId, std::string_view, std::string_view) {
  return kNoSys;
}
Result<Entry> NullFilesystem::Mknod(const Context&, NodeId, std::string_view, uint32_t, uint32_t,
                                    uint32_t) {
  return kNoSys;
}
Result<Entry> NullFilesystem::Mkdir(const Context&, NodeId, std::string_view, uint32_t, uint32_t) {
  return kNoSys;
}
Status NullFilesystem::Unlink(const Context&, NodeId, std::string_view) { return kNoSys; }
Status NullFilesystem::Rmdir(const Context&, NodeId, std::string_view) { return kNoSys; }
Status NullFilesystem::Rename(const Context&, NodeId, std::string_view, NodeId, std::string_view,
                              uint32_t) {
  return kNoSys;
}
Result<Entry> NullFilesystem::Link(const Context&, NodeId, NodeId, std::string_view) {
  return kNoSys;
}
Status NullFilesystem::Access(const Context&, NodeId, uint32_t) { return kNoSys; }
Result<struct statvfs> NullFilesystem::StatFs(const Context&, NodeId) { return kNoSys; }

Result<Opened> NullFilesystem::Open(const Context&, NodeId, uint32_t) { return kNoSys; }
Result<Created> NullFilesystem::Create(const Context&, NodeId, std::string_view, uint32_t,
                                       uint32_t, uint32_t) {
  return kNoSys;
}
Result<Created> NullFilesystem::TmpFile(const Context&, NodeId, uint32_t, uint32_t, uint32_t) {
  return kNoSys;
}
Result<size_t> NullFilesystem::Read(const Context&, NodeId, Handle, uint64_t, uint32_t,
                                    ByteWriter&) {
  return kNoSys;
}
Result<size_t> NullFilesystem::Write(const Context&, NodeId, Handle, uint64_t, uint32_t,
                                     ByteReader&, bool) {
  return kNoSys;
}
Status NullFilesystem::Flush(const Context&, NodeId, Handle, uint64_t) { return kNoSys; }
Status NullFilesystem::Release(const Context&, NodeId, Handle, uint32_t, uint32_t, uint64_t) {
  return kNoSys;
}
Status NullFilesystem::Fsync(const Context&, NodeId, Handle, bool) { return kNoSys; }
Status NullFilesystem::Fallocate(const Context&, NodeId, Handle, uint32_t, uint64_t, uint64_t) {
  return kNoSys;
}
Result<uint64_t> NullFilesystem::Lseek(const Context&, NodeId, Handle, uint64_t, uint32_t) {
  return kNoSys;
}
Result<size_t> NullFilesystem::CopyFileRange(const Context&, NodeId, Handle, uint64_t, NodeId,
                                             Handle, uint64_t, uint64_t, uint64_t) {
  return kNoSys;
}

Result<Opened> NullFilesystem::OpenDir(const Context&, NodeId, uint32_t) { return kNoSys; }
Status NullFilesystem::ReadDir(const Context&, NodeId, Handle, uint64_t, uint32_t, DirSink&) {
  return kNoSys;
}
Status NullFilesystem::ReleaseDir(const Context&, NodeId, Handle) { return kNoSys; }
Status NullFilesystem::FsyncDir(const Context&, NodeId, Handle, bool) { return kNoSys; }
Status NullFilesystem::SyncFs(const Context&, NodeId) { return kNoSys; }

Status NullFilesystem::SetXattr(const Context&, NodeId, std::string_view, std::span<const char>,
                                uint32_t) {
  return kNoSys;
}
Result<size_t> NullFilesystem::GetXattr(const Context&, NodeId, std::string_view,
                                        std::span<char>) {
  return kNoSys;
}
Result<size_t> NullFilesystem::ListXattr(const Context&, NodeId, std::span<char>) {
  return kNoSys;
}
Status NullFilesystem::RemoveXattr(const Context&, NodeId, std::string_view) { return kNoSys; }

}  // namespace hostshare::fuse
