#include "fuse/bounded_io.h"

#include <algorithm>

namespace hostshare::fuse {

size_t BoundedReader::Available() const {
  return std::min(inner_.Available(), limit_ - consumed_);
}

Status BoundedReader::Read(void* dst, size_t n) {
  if (n > Available()) return Errno{EINVAL};
  HS_RETURN_IF_ERROR(inner_.Read(dst, n));
  consumed_ += n;
  return OkStatus();
}

Status BoundedReader::Skip(size_t n) {
  if (n > Available()) return Errno{EINVAL};
  HS_RETURN_IF_ERROR(inner_.Skip(n));
  consumed_ += n;
  return OkStatus();
}

Result<size_t> BoundedReader::ReadToFile(int fd, uint64_t offset, size_t n) {
  Result<size_t> r = inner_.ReadToFile(fd, offset, std::min(n, Available()));
  if (r.ok()) {
    // The inner reader never reports more than it was asked for; clamp anyway
    // so a faulty implementation cannot push consumed_ past limit_.
    consumed_ += std::min(*r, limit_ - consumed_);
  }
  return r;
}

BoundedWriter::BoundedWriter(ByteWriter& inner, size_t limit)
    : inner_(inner), base_(inner.BytesWritten()), limit_(limit) {}

size_t BoundedWriter::Available() const {
  return std::min(inner_.Available(), limit_ - written_);
}

Status BoundedWriter::Write(const void* src, size_t n) {
  if (n > Available()) return Errno{EINVAL};
  HS_RETURN_IF_ERROR(inner_.Write(src, n));
  written_ += n;
  return OkStatus();
}

Status BoundedWriter::Skip(size_t n) {
  if (n > Available()) return Errno{EINVAL};
  HS_RETURN_IF_ERROR(inner_.Skip(n));
  written_ += n;
  return OkStatus();
}

Status BoundedWriter::WriteAt(size_t pos, const void* src, size_t n) {
  if (pos > written_ || n > written_ - pos) return Errno{EINVAL};
  return inner_.WriteAt(base_ + pos, src, n);
}

Result<size_t> BoundedWriter::WriteFromFile(int fd, uint64_t offset, size_t n) {
  Result<size_t> r = inner_.WriteFromFile(fd, offset, std::min(n, Available()));
  if (r.ok()) written_ += std::min(*r, limit_ - written_);
  return r;
}

}  // namespace hostshare::fuse
