// Handlers for open files: OPEN, CREATE, TMPFILE, READ, WRITE, FLUSH,
// RELEASE, FSYNC, FALLOCATE, LSEEK, COPY_FILE_RANGE.
#include <algorithm>

#include "base/log.h"
#include "fuse/bounded_io.h"
#include "fuse/handlers.h"
#include "fuse/names.h"
#include "fuse/reply_helpers.h"

namespace hostshare::fuse::handlers {

// FUSE_OPEN_KILL_SUIDGID (open_flags) reaches the backend as
// Context::kill_suidgid.
size_t Open(Call& c) {
  const fuse_open_in in = c.Fixed<fuse_open_in>();
  c.ctx.kill_suidgid = (in.open_flags & FUSE_OPEN_KILL_SUIDGID) != 0;
  return ReplyOpen(c, c.fs.Open(c.ctx, c.node, in.flags));
}

// CREATE body: create_in (before 7.12: {flags, mode}, no umask) then name.
size_t Create(Call& c) {
  const fuse_create_in in = c.Fixed<fuse_create_in>();
  Result<std::string_view> name = TakeName(c.tail);
  if (!name.ok()) return c.reply.Error(name.error());
  c.ctx.kill_suidgid = (in.open_flags & FUSE_OPEN_KILL_SUIDGID) != 0;
  return ReplyCreated(c, c.fs.Create(c.ctx, c.node, *name, in.mode, in.flags, in.umask));
}

// TMPFILE carries create_in and a placeholder name ("/" in Linux) that
// names nothing; it is ignored.
size_t TmpFile(Call& c) {
  const fuse_create_in in = c.Fixed<fuse_create_in>();
  return ReplyCreated(c, c.fs.TmpFile(c.ctx, c.node, in.mode, in.flags, in.umask));
}

// READ, zero copy: the backend preadv()s into the reply buffers behind the
// header slot; the header is written last with the final length.
size_t Read(Call& c) {
  const fuse_read_in in = c.Fixed<fuse_read_in>();
  if (!c.reply.BeginPayload()) return 0;
  const size_t limit = std::min<size_t>({in.size, c.limits.max_read, c.reply.out().Available()});
  BoundedWriter data(c.reply.out(), limit);
  Result<size_t> r =
      c.fs.Read(c.ctx, c.node, in.fh, in.offset, static_cast<uint32_t>(limit), data);
  if (!r.ok()) return c.reply.Error(r.error());
  if (*r != data.BytesWritten()) {
    LOG_DEBUG("fuse: READ: backend reported %zu bytes but wrote %zu", *r, data.BytesWritten());
  }
  return c.reply.FinishPayload(data.BytesWritten());
}

// WRITE, zero copy: the payload stays in the request buffers and the
// backend pwritev()s it to the file. write_in.size must be carried by the
// request and within max_write.
size_t Write(Call& c) {
  const fuse_write_in in = c.Fixed<fuse_write_in>();
  if (in.size > c.streamed || in.size > c.limits.max_write) {
    LOG_DEBUG("fuse: WRITE of %u bytes: request carries %zu, max_write %u", in.size, c.streamed,
              c.limits.max_write);
    return c.reply.Error(EINVAL);
  }
  BoundedReader data(c.in, in.size);
  const bool kill_suidgid = (in.write_flags & FUSE_WRITE_KILL_SUIDGID) != 0;
  Result<size_t> r =
      c.fs.Write(c.ctx, c.node, in.fh, in.offset, in.size, data, kill_suidgid);
  return ReplyCount(c, r, in.size);
}

size_t Flush(Call& c) {
  const fuse_flush_in in = c.Fixed<fuse_flush_in>();
  return ReplyStatus(c, c.fs.Flush(c.ctx, c.node, in.fh, in.lock_owner));
}

size_t Release(Call& c) {
  const fuse_release_in in = c.Fixed<fuse_release_in>();  // lock_owner 0 before 7.8
  return ReplyStatus(
      c, c.fs.Release(c.ctx, c.node, in.fh, in.flags, in.release_flags, in.lock_owner));
}

size_t Fsync(Call& c) {
  const fuse_fsync_in in = c.Fixed<fuse_fsync_in>();
  return ReplyStatus(
      c, c.fs.Fsync(c.ctx, c.node, in.fh, (in.fsync_flags & FUSE_FSYNC_FDATASYNC) != 0));
}

size_t Fallocate(Call& c) {
  const fuse_fallocate_in in = c.Fixed<fuse_fallocate_in>();
  return ReplyStatus(c, c.fs.Fallocate(c.ctx, c.node, in.fh, in.mode, in.offset, in.length));
}

size_t Lseek(Call& c) {
  const fuse_lseek_in in = c.Fixed<fuse_lseek_in>();
  Result<uint64_t> r = c.fs.Lseek(c.ctx, c.node, in.fh, in.offset, in.whence);
  if (!r.ok()) return c.reply.Error(r.error());
  fuse_lseek_out out{.offset = *r};
  return c.reply.Ok(&out, sizeof out);
}

// The reply's count is 32-bit: ask the backend for at most that much (a
// short copy is allowed; Linux itself caps a copy at UINT_MAX & PAGE_MASK).
size_t CopyFileRange(Call& c) {
  constexpr uint64_t kMaxCopy = UINT32_MAX & ~uint64_t{4095};
  const fuse_copy_file_range_in in = c.Fixed<fuse_copy_file_range_in>();
  const uint64_t len = std::min(in.len, kMaxCopy);
  Result<size_t> r = c.fs.CopyFileRange(c.ctx, c.node, in.fh_in, in.off_in, in.nodeid_out,
                                        in.fh_out, in.off_out, len, in.flags);
  return ReplyCount(c, r, len);
}

}  // namespace hostshare::fuse::handlers
