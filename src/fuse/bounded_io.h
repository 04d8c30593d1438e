// BoundedReader / BoundedWriter: ByteReader / ByteWriter decorators that
// expose at most `limit` bytes of the wrapped object.
//
// The server hands these to a Filesystem for the zero-copy READ and WRITE
// paths, so a backend can neither consume more of the request than the
// WRITE payload (e.g. the extension area behind it) nor write a READ reply
// longer than the guest asked for.
//
// Trust boundary: the limit comes from a validated request; the wrapped
// object does the bounds checks against the real buffers.
// Thread-safety: one thread per object (as the wrapped object).
#pragma once

#include <cstddef>
#include <cstdint>

#include "base/byte_io.h"

namespace hostshare::fuse {

class BoundedReader final : public ByteReader {
 public:
  BoundedReader(ByteReader& inner, size_t limit) : inner_(inner), limit_(limit) {}

  size_t Available() const override;
  Status Read(void* dst, size_t n) override;
  Status Skip(size_t n) override;
  Result<size_t> ReadToFile(int fd, uint64_t offset, size_t n) override;

  size_t consumed() const { return consumed_; }

 private:
  ByteReader& inner_;
  size_t limit_;
  size_t consumed_ = 0;
};

// Positions (BytesWritten, WriteAt) are relative to where the inner writer
// stood when this object was made.
class BoundedWriter final : public ByteWriter {
 public:
  BoundedWriter(ByteWriter& inner, size_t limit);

  size_t Available() const override;
  size_t BytesWritten() const override { return written_; }
  Status Write(const void* src, size_t n) override;
  Status Skip(size_t n) override;
  Status WriteAt(size_t pos, const void* src, size_t n) override;
  Result<size_t> WriteFromFile(int fd, uint64_t offset, size_t n) override;

 private:
  ByteWriter& inner_;
  size_t base_;  // inner.BytesWritten() at construction
  size_t limit_;
  size_t written_ = 0;
};

}  // namespace hostshare::fuse
