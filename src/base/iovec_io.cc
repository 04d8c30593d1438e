#include "base/iovec_io.h"

#include <limits.h>
#include <sys/uio.h>

#include <algorithm>
#include <cstring>

namespace hostshare {

IovecCursor::IovecCursor(const iovec* segs, size_t count) : segs_(segs), count_(count) {
  for (size_t i = 0; i < count; ++i) remaining_ += segs[i].iov_len;
}

void IovecCursor::Copy(void* buf, size_t n, bool to_segs) {
  auto* p = static_cast<char*>(buf);
  while (n > 0) {
    const iovec& v = segs_[index_];
    size_t take = std::min(n, v.iov_len - offset_);
    char* seg = static_cast<char*>(v.iov_base) + offset_;
    if (to_segs) {
      memcpy(seg, p, take);
    } else {
      memcpy(p, seg, take);
    }
    p += take;
    n -= take;
    Advance(take);
  }
}

void IovecCursor::Advance(size_t n) {
  remaining_ -= n;
  while (index_ < count_) {
    size_t left = segs_[index_].iov_len - offset_;
    if (n < left) {
      offset_ += n;
      return;
    }
    n -= left;
    ++index_;
    offset_ = 0;
    if (n == 0 && (index_ >= count_ || segs_[index_].iov_len > 0)) return;
  }
}

size_t IovecCursor::Peek(size_t n, std::vector<iovec>* out) const {
  out->clear();
  size_t covered = 0;
  size_t off = offset_;
  for (size_t i = index_; i < count_ && covered < n && out->size() < IOV_MAX; ++i) {
    size_t len = std::min(segs_[i].iov_len - off, n - covered);
    if (len > 0) {
      out->push_back({static_cast<char*>(segs_[i].iov_base) + off, len});
      covered += len;
    }
    off = 0;
  }
  return covered;
}

IovecReader::IovecReader(std::vector<iovec> segs)
    : owned_(std::move(segs)), cur_(owned_.data(), owned_.size()) {}

void IovecReader::Reset(const iovec* segs, size_t count) {
  owned_.clear();
  cur_ = IovecCursor(segs, count);
}

Status IovecReader::Read(void* dst, size_t n) {
  if (n > cur_.Remaining()) return Errno{EINVAL};
  cur_.Copy(dst, n, /*to_segs=*/false);
  return OkStatus();
}

Status IovecReader::Skip(size_t n) {
  if (n > cur_.Remaining()) return Errno{EINVAL};
  cur_.Advance(n);
  return OkStatus();
}

Result<size_t> IovecReader::ReadToFile(int fd, uint64_t offset, size_t n) {
  size_t want = cur_.Peek(n, &scratch_);
  if (want == 0) return size_t{0};
  ssize_t rc = pwritev(fd, scratch_.data(), static_cast<int>(scratch_.size()),
                       static_cast<off_t>(offset));
  if (rc < 0) return LastErrno();
  cur_.Advance(static_cast<size_t>(rc));
  return static_cast<size_t>(rc);
}

IovecWriter::IovecWriter(std::vector<iovec> segs)
    : owned_(std::move(segs)),
      segs_(owned_.data()),
      count_(owned_.size()),
      cur_(owned_.data(), owned_.size()) {}

void IovecWriter::Reset(const iovec* segs, size_t count) {
  owned_.clear();
  segs_ = segs;
  count_ = count;
  cur_ = IovecCursor(segs, count);
  written_ = 0;
}

Status IovecWriter::Write(const void* src, size_t n) {
  if (n > cur_.Remaining()) return Errno{EINVAL};
  cur_.Copy(const_cast<void*>(src), n, /*to_segs=*/true);
  written_ += n;
  return OkStatus();
}

Status IovecWriter::Skip(size_t n) {
  if (n > cur_.Remaining()) return Errno{EINVAL};
  cur_.Advance(n);
  written_ += n;
  return OkStatus();
}

Status IovecWriter::WriteAt(size_t pos, const void* src, size_t n) {
  if (pos > written_ || n > written_ - pos) return Errno{EINVAL};
  IovecCursor c(segs_, count_);
  c.Advance(pos);
  c.Copy(const_cast<void*>(src), n, /*to_segs=*/true);
  return OkStatus();
}

Result<size_t> IovecWriter::WriteFromFile(int fd, uint64_t offset, size_t n) {
  size_t want = cur_.Peek(n, &scratch_);
  if (want == 0) return size_t{0};
  ssize_t rc;
  do {
    rc = preadv(fd, scratch_.data(), static_cast<int>(scratch_.size()),
                static_cast<off_t>(offset));
  } while (rc < 0 && errno == EINTR);
  if (rc < 0) return LastErrno();
  cur_.Advance(static_cast<size_t>(rc));
  written_ += static_cast<size_t>(rc);
  return static_cast<size_t>(rc);
}

}  // namespace hostshare
