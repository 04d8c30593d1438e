// PassthroughFs: data on open files (READ, WRITE, FALLOCATE, LSEEK,
// COPY_FILE_RANGE).
//
// READ and WRITE payloads move between the host file and the request's
// buffers with preadv/pwritev on those buffers (ByteWriter::WriteFromFile,
// ByteReader::ReadToFile): no intermediate copy. Offsets and sizes are
// guest-controlled: every sum is checked and every offset must fit off_t.
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdint>

#include "base/checked_math.h"
#include "fs/passthrough/host_ops.h"
#include "fs/passthrough/passthrough_fs.h"

namespace hostshare::fs {
namespace {

constexpr uint64_t kMaxOffset = static_cast<uint64_t>(INT64_MAX);
// COPY_FILE_RANGE replies with a 32-bit count; stay page-aligned below it.
constexpr uint64_t kMaxCopyChunk = 0xFFFFF000ULL;

}  // namespace

Result<size_t> PassthroughFs::Read(const fuse::Context&, fuse::NodeId node, fuse::Handle handle,
                                   uint64_t offset, uint32_t size, ByteWriter& out) {
  auto file = handles_.Get(handle, node, OpenFile::Kind::kFile);
  if (!file.ok()) return Errno{file.error()};
  if (offset > kMaxOffset) return Errno{EINVAL};
  const int fd = (*file)->fd.get();
  size_t done = 0;
  while (done < size) {
    auto pos = CheckedAdd<uint64_t>(offset, done);
    if (!pos || *pos > kMaxOffset) break;
    auto n = out.WriteFromFile(fd, *pos, size - done);
    if (!n.ok()) {
      if (done > 0) break;  // report what was read; the error recurs next time
      return Errno{n.error()};
    }
    if (*n == 0) break;  // end of file, or no room left in the reply
    done += *n;
  }
  return done;
}

Result<size_t> PassthroughFs::Write(const fuse::Context&, fuse::NodeId node, fuse::Handle handle,
                                    uint64_t offset, uint32_t size, ByteReader& in,
                                    bool kill_suidgid) {
  HS_RETURN_IF_ERROR(Writable());
  auto file = handles_.Get(handle, node, OpenFile::Kind::kFile);
  if (!file.ok()) return Errno{file.error()};
  if (size > in.Available()) return Errno{EINVAL};
  if (offset > kMaxOffset) return Errno{EINVAL};
  if (offset + size > kMaxOffset) return Errno{EFBIG};  // no overflow: both < 2^63
  const int fd = (*file)->fd.get();
  // FUSE_WRITE_KILL_SUIDGID: the writer was unprivileged in the guest.
  if (kill_suidgid) HS_RETURN_IF_ERROR(ClearPrivBits(fd));
  size_t done = 0;
  while (done < size) {
    auto n = in.ReadToFile(fd, offset + done, size - done);
    if (!n.ok()) {
      if (done > 0) break;
      return Errno{n.error()};
    }
    if (*n == 0) break;  // short write (e.g. file size limit reached)
    done += *n;
  }
  return done;
}

Status PassthroughFs::Fallocate(const fuse::Context&, fuse::NodeId node, fuse::Handle handle,
                                uint32_t mode, uint64_t offset, uint64_t length) {
  HS_RETURN_IF_ERROR(Writable());
  auto file = handles_.Get(handle, node, OpenFile::Kind::kFile);
  if (!file.ok()) return Errno{file.error()};
  if (offset > kMaxOffset || length > kMaxOffset) return Errno{EINVAL};
  // The kernel validates the mode bits (KEEP_SIZE, PUNCH_HOLE, ZERO_RANGE...)
  // and offset + length overflow (EFBIG).
  return StatusFromSyscall(fallocate((*file)->fd.get(), static_cast<int>(mode),
                                     static_cast<off_t>(offset), static_cast<off_t>(length)));
}

Result<uint64_t> PassthroughFs::Lseek(const fuse::Context&, fuse::NodeId node,
                                      fuse::Handle handle, uint64_t offset, uint32_t whence) {
  auto file = handles_.Get(handle, node, OpenFile::Kind::kFile);
  if (!file.ok()) return Errno{file.error()};
  switch (whence) {
    case SEEK_SET:
    case SEEK_CUR:
    case SEEK_END:
    case SEEK_DATA:
    case SEEK_HOLE:
      break;
    default:
      return Errno{EINVAL};
  }
  // The offset is a signed loff_t on the wire; the conversion keeps its bits.
  off_t r = lseek((*file)->fd.get(), static_cast<off_t>(offset), static_cast<int>(whence));
  if (r < 0) return LastErrno();
  return static_cast<uint64_t>(r);
}

Result<size_t> PassthroughFs::CopyFileRange(const fuse::Context&, fuse::NodeId node_in,
                                            fuse::Handle handle_in, uint64_t offset_in,
                                            fuse::NodeId node_out, fuse::Handle handle_out,
                                            uint64_t offset_out, uint64_t length,
                                            uint64_t flags) {
  HS_RETURN_IF_ERROR(Writable());
  auto in = handles_.Get(handle_in, node_in, OpenFile::Kind::kFile);
  if (!in.ok()) return Errno{in.error()};
  auto out = handles_.Get(handle_out, node_out, OpenFile::Kind::kFile);
  if (!out.ok()) return Errno{out.error()};
  if (flags != 0) return Errno{EINVAL};
  if (offset_in > kMaxOffset || offset_out > kMaxOffset) return Errno{EINVAL};
  off_t off_in = static_cast<off_t>(offset_in);
  off_t off_out = static_cast<off_t>(offset_out);
  size_t len = static_cast<size_t>(std::min(length, kMaxCopyChunk));
  ssize_t n = copy_file_range((*in)->fd.get(), &off_in, (*out)->fd.get(), &off_out, len, 0);
  if (n < 0) return LastErrno();
  return static_cast<size_t>(n);
}

}  // namespace hostshare::fs
