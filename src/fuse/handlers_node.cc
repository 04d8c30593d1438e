// Handlers for names and nodes: LOOKUP, FORGET, BATCH_FORGET, GETATTR,
// SETATTR, READLINK, SYMLINK, MKNOD, MKDIR, UNLINK, RMDIR, RENAME(2), LINK,
// ACCESS, STATFS.
#include <fcntl.h>
#include <linux/fs.h>  // RENAME_NOREPLACE, RENAME_EXCHANGE, RENAME_WHITEOUT

#include "base/checked_math.h"
#include "base/log.h"
#include "fuse/handlers.h"
#include "fuse/names.h"
#include "fuse/reply_helpers.h"

namespace hostshare::fuse::handlers {

namespace {

constexpr uint32_t kRenameFlags = RENAME_NOREPLACE | RENAME_EXCHANGE | RENAME_WHITEOUT;

// Takes the two names of RENAME / RENAME2; 0 or the errno to answer.
int TakeTwoNames(Call& c, std::string_view* a, std::string_view* b) {
  Result<std::string_view> first = TakeName(c.tail);
  if (!first.ok()) return first.error();
  Result<std::string_view> second = TakeName(c.tail);
  if (!second.ok()) return second.error();
  *a = *first;
  *b = *second;
  return 0;
}

size_t DoRename(Call& c, NodeId new_parent, uint32_t flags) {
  std::string_view old_name, new_name;
  if ((flags & ~kRenameFlags) != 0) return c.reply.Error(EINVAL);
  if (int err = TakeTwoNames(c, &old_name, &new_name); err != 0) return c.reply.Error(err);
  return ReplyStatus(c, c.fs.Rename(c.ctx, c.node, old_name, new_parent, new_name, flags));
}

constexpr uint32_t kNsPerSec = 1'000'000'000;

// A time the guest sets explicitly must be a real time: the nanoseconds of
// an explicit time may not smuggle in UTIME_NOW / UTIME_OMIT, which carry
// different permission rules than the guest kernel checked. A time not
// being set reads UTIME_OMIT, so a backend can pass both to utimensat().
bool DecodeTime(uint32_t valid, uint32_t set_bit, uint32_t now_bit, uint64_t sec, uint32_t nsec,
                struct timespec* out) {
  if ((valid & now_bit) != 0) {
    *out = {.tv_sec = 0, .tv_nsec = UTIME_NOW};
    return true;
  }
  if ((valid & set_bit) == 0) {
    *out = {.tv_sec = 0, .tv_nsec = UTIME_OMIT};  // not being set
    return true;
  }
  if (nsec >= kNsPerSec) return false;
  *out = {.tv_sec = static_cast<time_t>(sec), .tv_nsec = static_cast<long>(nsec)};
  return true;
}

}  // namespace

// LOOKUP of "." or ".." answers ENOENT (a negative lookup): we never grant
// FUSE_EXPORT_SUPPORT, so a correct guest does not send them, and ENOENT
// creates no state and lets the guest's VFS carry on. Names over NAME_MAX:
// ENAMETOOLONG (what a host file system answers). Other bad names: EINVAL.
size_t Lookup(Call& c) {
  std::optional<std::string_view> name = c.tail.TakeCString();
  if (!name) return c.reply.Error(EINVAL);
  switch (CheckName(*name)) {
    case NameCheck::kOk:
      break;
    case NameCheck::kDotOrDotDot:
      return c.reply.Error(ENOENT);
    case NameCheck::kInvalid:
      return c.reply.Error(EINVAL);
    case NameCheck::kTooLong:
      return c.reply.Error(ENAMETOOLONG);
  }
  return ReplyEntry(c, c.fs.Lookup(c.ctx, c.node, *name));
}

size_t Forget(Call& c) {
  c.fs.Forget(c.node, c.Fixed<fuse_forget_in>().nlookup);
  return 0;
}

// BATCH_FORGET: the fuse_forget_one array is streamed, read once in chunks.
// A count the request does not carry makes the whole batch malformed: it is
// dropped (no reply either way).
size_t BatchForget(Call& c) {
  const uint32_t count = c.Fixed<fuse_batch_forget_in>().count;
  std::optional<uint64_t> bytes = CheckedMul<uint64_t>(count, sizeof(fuse_forget_one));
  if (!bytes || *bytes > c.streamed) {
    LOG_DEBUG("fuse: BATCH_FORGET count %u exceeds the request", count);
    return 0;
  }
  fuse_forget_one chunk[64];
  for (uint32_t done = 0; done < count;) {
    uint32_t n = std::min<uint32_t>(count - done, std::size(chunk));
    if (!c.in.Read(chunk, n * sizeof(fuse_forget_one)).ok()) return 0;
    for (uint32_t i = 0; i < n; ++i) c.fs.Forget(chunk[i].nodeid, chunk[i].nlookup);
    done += n;
  }
  return 0;
}

size_t GetAttr(Call& c) {
  fuse_getattr_in in = c.Fixed<fuse_getattr_in>();  // zero before 7.9: no handle
  const Handle fh = in.fh;
  const Handle* handle = (in.getattr_flags & FUSE_GETATTR_FH) != 0 ? &fh : nullptr;
  return ReplyAttr(c, c.fs.GetAttr(c.ctx, c.node, handle));
}

size_t SetAttr(Call& c) {
  const fuse_setattr_in in = c.Fixed<fuse_setattr_in>();
  SetAttrIn s;
  s.valid = in.valid;
  s.handle = (in.valid & FATTR_FH) != 0 ? in.fh : 0;
  s.size = in.size;
  s.mode = in.mode;
  s.uid = in.uid;
  s.gid = in.gid;
  s.kill_suidgid = (in.valid & FATTR_KILL_SUIDGID) != 0;
  if (!DecodeTime(in.valid, FATTR_ATIME, FATTR_ATIME_NOW, in.atime, in.atimensec, &s.atime) ||
      !DecodeTime(in.valid, FATTR_MTIME, FATTR_MTIME_NOW, in.mtime, in.mtimensec, &s.mtime) ||
      !DecodeTime(in.valid, FATTR_CTIME, 0, in.ctime, in.ctimensec, &s.ctime)) {
    return c.reply.Error(EINVAL);
  }
  return ReplyAttr(c, c.fs.SetAttr(c.ctx, c.node, s));
}

size_t ReadLink(Call& c) {
  Result<std::string> target = c.fs.ReadLink(c.ctx, c.node);
  if (!target.ok()) return c.reply.Error(target.error());
  // The guest offers a page; a longer target cannot be returned whole.
  if (!c.reply.Fits(target->size())) return c.reply.Error(ENAMETOOLONG);
  return c.reply.Ok(target->data(), target->size());
}

// SYMLINK body: name NUL target NUL.
size_t Symlink(Call& c) {
  Result<std::string_view> name = TakeName(c.tail);
  if (!name.ok()) return c.reply.Error(name.error());
  Result<std::string_view> target = TakeSymlinkTarget(c.tail);
  if (!target.ok()) return c.reply.Error(EINVAL);
  return ReplyEntry(c, c.fs.Symlink(c.ctx, c.node, *name, *target));
}

size_t Mknod(Call& c) {
  const fuse_mknod_in in = c.Fixed<fuse_mknod_in>();  // umask reads 0 before 7.12
  Result<std::string_view> name = TakeName(c.tail);
  if (!name.ok()) return c.reply.Error(name.error());
  return ReplyEntry(c, c.fs.Mknod(c.ctx, c.node, *name, in.mode, in.rdev, in.umask));
}

size_t Mkdir(Call& c) {
  const fuse_mkdir_in in = c.Fixed<fuse_mkdir_in>();
  const uint32_t umask = c.neg.minor >= 12 ? in.umask : 0;  // was padding before 7.12
  Result<std::string_view> name = TakeName(c.tail);
  if (!name.ok()) return c.reply.Error(name.error());
  return ReplyEntry(c, c.fs.Mkdir(c.ctx, c.node, *name, in.mode, umask));
}

size_t Unlink(Call& c) {
  Result<std::string_view> name = TakeName(c.tail);
  if (!name.ok()) return c.reply.Error(name.error());
  return ReplyStatus(c, c.fs.Unlink(c.ctx, c.node, *name));
}

size_t Rmdir(Call& c) {
  Result<std::string_view> name = TakeName(c.tail);
  if (!name.ok()) return c.reply.Error(name.error());
  return ReplyStatus(c, c.fs.Rmdir(c.ctx, c.node, *name));
}

size_t Rename(Call& c) { return DoRename(c, c.Fixed<fuse_rename_in>().newdir, 0); }

size_t Rename2(Call& c) {
  const fuse_rename2_in in = c.Fixed<fuse_rename2_in>();
  return DoRename(c, in.newdir, in.flags);
}

// LINK: header node = new parent; link_in.oldnodeid = the node to link.
size_t Link(Call& c) {
  const fuse_link_in in = c.Fixed<fuse_link_in>();
  Result<std::string_view> name = TakeName(c.tail);
  if (!name.ok()) return c.reply.Error(name.error());
  return ReplyEntry(c, c.fs.Link(c.ctx, in.oldnodeid, c.node, *name));
}

size_t Access(Call& c) {
  return ReplyStatus(c, c.fs.Access(c.ctx, c.node, c.Fixed<fuse_access_in>().mask));
}

size_t StatFs(Call& c) {
  Result<struct statvfs> st = c.fs.StatFs(c.ctx, c.node);
  if (!st.ok()) return c.reply.Error(st.error());
  fuse_statfs_out out = EncodeStatfsOut(*st);
  return c.reply.Ok(&out, wire::StatfsOutSize(c.neg.minor));
}

}  // namespace hostshare::fuse::handlers
