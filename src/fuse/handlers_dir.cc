// Handlers for directories: OPENDIR, READDIR, READDIRPLUS, RELEASEDIR,
// FSYNCDIR, and SYNCFS.
#include <algorithm>

#include "fuse/dir_encoder.h"
#include "fuse/handlers.h"
#include "fuse/reply_helpers.h"

namespace hostshare::fuse::handlers {

namespace {

// Entries are encoded straight into the reply behind the header slot. If
// the backend fails after some entries were accepted, those entries are
// returned (a READDIRPLUS entry already counted a lookup, so dropping it
// would leak it); the error is reported only when nothing was added.
size_t DoReadDir(Call& c, bool plus) {
  const fuse_read_in in = c.Fixed<fuse_read_in>();
  if (!c.reply.BeginPayload()) return 0;
  const size_t limit = std::min<size_t>({in.size, c.limits.max_read, c.reply.out().Available()});
  DirEncoder sink(c.reply.out(), limit, plus);
  Status s = c.fs.ReadDir(c.ctx, c.node, in.fh, in.offset, static_cast<uint32_t>(limit), sink);
  if (!s.ok() && sink.entries() == 0) return c.reply.Error(s.error());
  return c.reply.FinishPayload(sink.bytes());
}

}  // namespace

size_t OpenDir(Call& c) {
  return ReplyOpen(c, c.fs.OpenDir(c.ctx, c.node, c.Fixed<fuse_open_in>().flags));
}

size_t ReadDir(Call& c) { return DoReadDir(c, /*plus=*/false); }

size_t ReadDirPlus(Call& c) { return DoReadDir(c, /*plus=*/true); }

size_t ReleaseDir(Call& c) {
  return ReplyStatus(c, c.fs.ReleaseDir(c.ctx, c.node, c.Fixed<fuse_release_in>().fh));
}

size_t FsyncDir(Call& c) {
  const fuse_fsync_in in = c.Fixed<fuse_fsync_in>();
  return ReplyStatus(
      c, c.fs.FsyncDir(c.ctx, c.node, in.fh, (in.fsync_flags & FUSE_FSYNC_FDATASYNC) != 0));
}

size_t SyncFs(Call& c) { return ReplyStatus(c, c.fs.SyncFs(c.ctx, c.node)); }

}  // namespace hostshare::fuse::handlers
