// Reply: writes one FUSE reply (fuse_out_header + body) into a ByteWriter.
//
// Every method checks the writer's room first and never writes past it: a
// reply that does not fit becomes an error reply if a header fits, else
// nothing (return 0, the transport then completes the request with no
// reply bytes). Zero-copy replies (READ, READDIR) reserve the header slot,
// let the payload be written behind it, then fill the header in.
//
// Each method returns the total reply length (what the transport reports
// as used length), 0 if nothing could be written.
//
// Trust boundary: the writer's buffers belong to the guest; the reply's
// contents come from us. Thread-safety: one thread per object.
#pragma once

#include <cstddef>
#include <cstdint>

#include "base/byte_io.h"

namespace hostshare::fuse {

class Reply {
 public:
  Reply(ByteWriter& out, uint64_t unique)
      : out_(out), unique_(unique), start_(out.BytesWritten()) {}

  // An error reply: header only, error = -err. err outside (0, 4095] is
  // reported as EIO.
  size_t Error(int err);
  // A success reply with no body.
  size_t Ok() { return Ok(nullptr, 0); }
  // A success reply carrying [body, body + n) and then [body2, body2 + n2).
  size_t Ok(const void* body, size_t n, const void* body2 = nullptr, size_t n2 = 0);

  // True when a success body of n bytes would fit.
  bool Fits(size_t n) const;

  // Zero copy: reserves the header; the payload is then written straight
  // into out(). False if not even a header fits.
  bool BeginPayload();
  // Fills in the header of a payload reply of `payload` bytes.
  // REQUIRES: BeginPayload() returned true and exactly `payload` bytes
  // were written since.
  size_t FinishPayload(size_t payload);

  ByteWriter& out() { return out_; }
  uint64_t unique() const { return unique_; }

 private:
  size_t WriteHeaderAt(uint32_t len, int32_t error);

  ByteWriter& out_;
  uint64_t unique_;
  size_t start_;
  bool payload_begun_ = false;
};

}  // namespace hostshare::fuse
