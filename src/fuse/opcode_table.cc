#include "fuse/opcode_table.h"

#include <array>

#include "fuse/handlers.h"
#include "fuse/wire.h"

namespace hostshare::fuse {

namespace {

namespace h = handlers;
using enum ReplyKind;
using enum BodyMode;

// A fixed body of N bytes.
template <uint32_t N>
uint32_t Size(const Negotiated&) {
  return N;
}

// A fixed body of N bytes, or Compat bytes when the minor is below Minor.
template <uint32_t N, uint32_t Compat, uint32_t Minor>
uint32_t SizeSince(const Negotiated& neg) {
  return neg.minor < Minor ? Compat : N;
}

uint32_t SetxattrSize(const Negotiated& neg) {
  return (neg.flags & FUSE_SETXATTR_EXT) != 0 ? sizeof(fuse_setxattr_in)
                                              : wire::kCompatSetxattrInSize;
}

constexpr auto kReadIn = SizeSince<sizeof(fuse_read_in), wire::kCompatReadInSize, 9>;
constexpr auto kReleaseIn = SizeSince<sizeof(fuse_release_in), wire::kCompatReleaseInSize, 8>;

constexpr uint32_t kMaxOpcode = FUSE_TMPFILE;

constexpr std::array<OpcodeSpec, kMaxOpcode + 1> BuildTable() {
  std::array<OpcodeSpec, kMaxOpcode + 1> t{};
  // clang-format off
  //                         name               fixed body size                                     reply      body       handler
  t[FUSE_LOOKUP]          = {"LOOKUP",          Size<0>,                                            kEntry,    kBuffered, h::Lookup};
  t[FUSE_FORGET]          = {"FORGET",          Size<sizeof(fuse_forget_in)>,                       kNone,     kBuffered, h::Forget};
  t[FUSE_GETATTR]         = {"GETATTR",         SizeSince<sizeof(fuse_getattr_in), wire::kCompatGetattrInSize, 9>, kAttr, kBuffered, h::GetAttr};
  t[FUSE_SETATTR]         = {"SETATTR",         Size<sizeof(fuse_setattr_in)>,                      kAttr,     kBuffered, h::SetAttr};
  t[FUSE_READLINK]        = {"READLINK",        Size<0>,                                            kVariable, kBuffered, h::ReadLink};
  t[FUSE_SYMLINK]         = {"SYMLINK",         Size<0>,                                            kEntry,    kBuffered, h::Symlink};
  t[FUSE_MKNOD]           = {"MKNOD",           SizeSince<sizeof(fuse_mknod_in), wire::kCompatMknodInSize, 12>, kEntry, kBuffered, h::Mknod};
  t[FUSE_MKDIR]           = {"MKDIR",           Size<sizeof(fuse_mkdir_in)>,                        kEntry,    kBuffered, h::Mkdir};
  t[FUSE_UNLINK]          = {"UNLINK",          Size<0>,                                            kEmpty,    kBuffered, h::Unlink};
  t[FUSE_RMDIR]           = {"RMDIR",           Size<0>,                                            kEmpty,    kBuffered, h::Rmdir};
  t[FUSE_RENAME]          = {"RENAME",          Size<sizeof(fuse_rename_in)>,                       kEmpty,    kBuffered, h::Rename};
  t[FUSE_LINK]            = {"LINK",            Size<sizeof(fuse_link_in)>,                         kEntry,    kBuffered, h::Link};
  t[FUSE_OPEN]            = {"OPEN",            Size<sizeof(fuse_open_in)>,                         kOpen,     kBuffered, h::Open};
  t[FUSE_READ]            = {"READ",            kReadIn,                                            kVariable, kBuffered, h::Read};
  t[FUSE_WRITE]           = {"WRITE",           SizeSince<sizeof(fuse_write_in), wire::kCompatWriteInSize, 9>, kCount, kStreamed, h::Write};
  t[FUSE_STATFS]          = {"STATFS",          Size<0>,                                            kStatfs,   kBuffered, h::StatFs};
  t[FUSE_RELEASE]         = {"RELEASE",         kReleaseIn,                                         kEmpty,    kBuffered, h::Release};
  t[FUSE_FSYNC]           = {"FSYNC",           Size<sizeof(fuse_fsync_in)>,                        kEmpty,    kBuffered, h::Fsync};
  t[FUSE_SETXATTR]        = {"SETXATTR",        SetxattrSize,                                       kEmpty,    kBuffered, h::SetXattr};
  t[FUSE_GETXATTR]        = {"GETXATTR",        Size<sizeof(fuse_getxattr_in)>,                     kVariable, kBuffered, h::GetXattr};
  t[FUSE_LISTXATTR]       = {"LISTXATTR",       Size<sizeof(fuse_getxattr_in)>,                     kVariable, kBuffered, h::ListXattr};
  t[FUSE_REMOVEXATTR]     = {"REMOVEXATTR",     Size<0>,                                            kEmpty,    kBuffered, h::RemoveXattr};
  t[FUSE_FLUSH]           = {"FLUSH",           Size<sizeof(fuse_flush_in)>,                        kEmpty,    kBuffered, h::Flush};
  t[FUSE_INIT]            = {"INIT",            Size<wire::kInitInMajorMinorSize>,                  kVariable, kBuffered, h::Init};
  t[FUSE_OPENDIR]         = {"OPENDIR",         Size<sizeof(fuse_open_in)>,                         kOpen,     kBuffered, h::OpenDir};
  t[FUSE_READDIR]         = {"READDIR",         kReadIn,                                            kVariable, kBuffered, h::ReadDir};
  t[FUSE_RELEASEDIR]      = {"RELEASEDIR",      kReleaseIn,                                         kEmpty,    kBuffered, h::ReleaseDir};
  t[FUSE_FSYNCDIR]        = {"FSYNCDIR",        Size<sizeof(fuse_fsync_in)>,                        kEmpty,    kBuffered, h::FsyncDir};
  t[FUSE_GETLK]           = {"GETLK",           Size<sizeof(fuse_lk_in)>,                           kVariable, kBuffered, h::NotImplemented};
  t[FUSE_SETLK]           = {"SETLK",           Size<sizeof(fuse_lk_in)>,                           kVariable, kBuffered, h::NotImplemented};
  t[FUSE_SETLKW]          = {"SETLKW",          Size<sizeof(fuse_lk_in)>,                           kVariable, kBuffered, h::NotImplemented};
  t[FUSE_ACCESS]          = {"ACCESS",          Size<sizeof(fuse_access_in)>,                       kEmpty,    kBuffered, h::Access};
  t[FUSE_CREATE]          = {"CREATE",          SizeSince<sizeof(fuse_create_in), wire::kCompatCreateInSize, 12>, kCreate, kBuffered, h::Create};
  t[FUSE_INTERRUPT]       = {"INTERRUPT",       Size<sizeof(fuse_interrupt_in)>,                    kNone,     kBuffered, h::Interrupt};
  t[FUSE_BMAP]            = {"BMAP",            Size<sizeof(fuse_bmap_in)>,                         kVariable, kBuffered, h::NotImplemented};
  t[FUSE_DESTROY]         = {"DESTROY",         Size<0>,                                            kEmpty,    kBuffered, h::Destroy};
  t[FUSE_IOCTL]           = {"IOCTL",           Size<sizeof(fuse_ioctl_in)>,                        kVariable, kBuffered, h::NotImplemented};
  t[FUSE_POLL]            = {"POLL",            Size<sizeof(fuse_poll_in)>,                         kVariable, kBuffered, h::NotImplemented};
  t[FUSE_NOTIFY_REPLY]    = {"NOTIFY_REPLY",    Size<0>,                                            kVariable, kBuffered, h::NotImplemented};
  t[FUSE_BATCH_FORGET]    = {"BATCH_FORGET",    Size<sizeof(fuse_batch_forget_in)>,                 kNone,     kStreamed, h::BatchForget};
  t[FUSE_FALLOCATE]       = {"FALLOCATE",       Size<sizeof(fuse_fallocate_in)>,                    kEmpty,    kBuffered, h::Fallocate};
  t[FUSE_READDIRPLUS]     = {"READDIRPLUS",     kReadIn,                                            kVariable, kBuffered, h::ReadDirPlus};
  t[FUSE_RENAME2]         = {"RENAME2",         Size<sizeof(fuse_rename2_in)>,                      kEmpty,    kBuffered, h::Rename2};
  t[FUSE_LSEEK]           = {"LSEEK",           Size<sizeof(fuse_lseek_in)>,                        kLseek,    kBuffered, h::Lseek};
  t[FUSE_COPY_FILE_RANGE] = {"COPY_FILE_RANGE", Size<sizeof(fuse_copy_file_range_in)>,              kCount,    kBuffered, h::CopyFileRange};
  t[FUSE_SETUPMAPPING]    = {"SETUPMAPPING",    Size<sizeof(fuse_setupmapping_in)>,                 kVariable, kBuffered, h::NotImplemented};
  t[FUSE_REMOVEMAPPING]   = {"REMOVEMAPPING",   Size<sizeof(fuse_removemapping_in)>,                kVariable, kBuffered, h::NotImplemented};
  t[FUSE_SYNCFS]          = {"SYNCFS",          Size<sizeof(fuse_syncfs_in)>,                       kEmpty,    kBuffered, h::SyncFs};
  t[FUSE_TMPFILE]         = {"TMPFILE",         Size<sizeof(fuse_create_in)>,                       kCreate,   kBuffered, h::TmpFile};
  // clang-format on
  return t;
}

constexpr std::array<OpcodeSpec, kMaxOpcode + 1> kTable = BuildTable();

}  // namespace

const OpcodeSpec* FindOpcode(uint32_t opcode) {
  if (opcode >= kTable.size() || kTable[opcode].name == nullptr) return nullptr;
  return &kTable[opcode];
}

size_t MinReplyBody(ReplyKind kind, uint32_t minor) {
  switch (kind) {
    case kEntry:
      return wire::EntryOutSize(minor);
    case kAttr:
      return wire::AttrOutSize(minor);
    case kOpen:
      return sizeof(fuse_open_out);
    case kCreate:
      return wire::EntryOutSize(minor) + sizeof(fuse_open_out);
    case kStatfs:
      return wire::StatfsOutSize(minor);
    case kCount:
      return sizeof(fuse_write_out);
    case kLseek:
      return sizeof(fuse_lseek_out);
    case kNone:
    case kEmpty:
    case kVariable:
      return 0;
  }
  return 0;
}

}  // namespace hostshare::fuse
