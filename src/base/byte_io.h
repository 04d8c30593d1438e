// ByteReader / ByteWriter: the transport-neutral view of a request and its
// reply buffer.
//
// The virtio layer implements them over a descriptor chain (guest memory);
// tests and other transports (e.g. /dev/fuse) implement them over plain
// buffers. The FUSE layer only ever sees these interfaces, so it knows
// nothing of virtio.
//
// Zero copy: ReadToFile / WriteFromFile move file data between a host fd and
// the underlying buffers directly (pwritev / preadv on the buffers' iovecs),
// so a READ or WRITE payload is never copied through an intermediate buffer.
//
// Trust boundary: the bytes behind a reader are hostile; every read is
// bounds-checked by the implementation and fails with EINVAL/EFAULT rather
// than reading past the request. Thread-safety: one thread per object.
#pragma once

#include <cstddef>
#include <cstdint>

#include "base/result.h"

namespace hostshare {

class ByteReader {
 public:
  virtual ~ByteReader() = default;
  // Bytes not yet consumed.
  virtual size_t Available() const = 0;
  // Copies exactly n bytes out, or fails (EINVAL if fewer remain) consuming nothing.
  virtual Status Read(void* dst, size_t n) = 0;
  // Discards exactly n bytes, or fails consuming nothing.
  virtual Status Skip(size_t n) = 0;
  // pwritev()s up to n bytes of the remaining buffers to fd at offset;
  // consumes and returns what the file took (a short count is possible).
  virtual Result<size_t> ReadToFile(int fd, uint64_t offset, size_t n) = 0;
};

class ByteWriter {
 public:
  virtual ~ByteWriter() = default;
  // Bytes of space left.
  virtual size_t Available() const = 0;
  // Bytes written so far (the reply length).
  virtual size_t BytesWritten() const = 0;
  // Writes exactly n bytes, or fails (EOVERFLOW/ENOSPC-free: returns EINVAL) writing nothing.
  virtual Status Write(const void* src, size_t n) = 0;
  // Leaves n bytes unwritten (to be filled with WriteAt), counting them as written.
  virtual Status Skip(size_t n) = 0;
  // Overwrites bytes at [pos, pos+n) which must lie within BytesWritten().
  virtual Status WriteAt(size_t pos, const void* src, size_t n) = 0;
  // preadv()s up to n bytes from fd at offset into the remaining space;
  // returns what was read (short at end of file).
  virtual Result<size_t> WriteFromFile(int fd, uint64_t offset, size_t n) = 0;
};

}  // namespace hostshare
