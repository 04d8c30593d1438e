// IovecReader / IovecWriter: ByteReader / ByteWriter over a list of plain
// memory segments (struct iovec).
//
// This is the one implementation of cursor arithmetic over scattered
// buffers: the virtio layer hands it the host-mapped segments of a
// descriptor chain, tests and other transports hand it ordinary buffers.
// The segments themselves must already be validated by whoever built them.
//
// Two ways to give them the segments: the constructor takes a vector and
// owns it; Reset() points a long-lived object at segments someone else owns
// (a queue worker's descriptor chain), so that serving a request allocates
// nothing: the object's scratch space keeps its capacity across requests.
//
// Thread-safety: one thread per object.
#pragma once

#include <sys/uio.h>

#include <vector>

#include "base/byte_io.h"

namespace hostshare {

// Cursor over iovec segments it does not own. Zero-length segments are
// allowed and skipped.
class IovecCursor {
 public:
  IovecCursor() = default;
  IovecCursor(const iovec* segs, size_t count);

  size_t Remaining() const { return remaining_; }
  // Copies n bytes between `buf` and the segments at the cursor; `to_segs`
  // chooses the direction. REQUIRES: n <= Remaining(). Advances.
  void Copy(void* buf, size_t n, bool to_segs);
  // REQUIRES: n <= Remaining().
  void Advance(size_t n);
  // Fills `out` with iovecs covering the next min(n, Remaining()) bytes
  // (at most IOV_MAX of them), without advancing. Returns the byte count
  // covered.
  size_t Peek(size_t n, std::vector<iovec>* out) const;

 private:
  const iovec* segs_ = nullptr;
  size_t count_ = 0;
  size_t index_ = 0;   // current segment
  size_t offset_ = 0;  // offset inside segs_[index_]
  size_t remaining_ = 0;
};

class IovecReader : public ByteReader {
 public:
  IovecReader() = default;
  explicit IovecReader(std::vector<iovec> segs);
  IovecReader(const IovecReader&) = delete;
  IovecReader& operator=(const IovecReader&) = delete;

  // Restarts over `segs` (not owned: they must outlive the use).
  void Reset(const iovec* segs, size_t count);

  size_t Available() const override { return cur_.Remaining(); }
  Status Read(void* dst, size_t n) override;
  Status Skip(size_t n) override;
  Result<size_t> ReadToFile(int fd, uint64_t offset, size_t n) override;

 private:
  std::vector<iovec> owned_;
  IovecCursor cur_;
  std::vector<iovec> scratch_;
};

class IovecWriter : public ByteWriter {
 public:
  IovecWriter() = default;
  explicit IovecWriter(std::vector<iovec> segs);
  IovecWriter(const IovecWriter&) = delete;
  IovecWriter& operator=(const IovecWriter&) = delete;

  // Restarts over `segs` (not owned: they must outlive the use).
  void Reset(const iovec* segs, size_t count);

  size_t Available() const override { return cur_.Remaining(); }
  size_t BytesWritten() const override { return written_; }
  Status Write(const void* src, size_t n) override;
  Status Skip(size_t n) override;
  Status WriteAt(size_t pos, const void* src, size_t n) override;
  Result<size_t> WriteFromFile(int fd, uint64_t offset, size_t n) override;

 private:
  std::vector<iovec> owned_;
  const iovec* segs_ = nullptr;  // all segments, for WriteAt
  size_t count_ = 0;
  IovecCursor cur_;
  size_t written_ = 0;
  std::vector<iovec> scratch_;
};

}  // namespace hostshare
