// RequestHandler: what a queue worker does with one request, transport-free.
//
// The device layer hands each chain's readable bytes and writable space to
// the handler as ByteReader/ByteWriter; the handler returns the reply length.
// For virtio-fs the handler is the FUSE server.
//
// Thread-safety: Handle and MayBlock are called concurrently from every
// queue worker and pool thread.
#pragma once

#include <cstddef>
#include <cstdint>

#include "base/byte_io.h"

namespace hostshare::device {

class RequestHandler {
 public:
  virtual ~RequestHandler() = default;
  // Returns the number of bytes written into `out` (0: no reply).
  virtual size_t Handle(ByteReader& in, ByteWriter& out) = 0;
  // Routing hint, asked only when a blocking pool exists: true when the
  // request may block or run long and should leave the queue's thread.
  // `head` is a copy of the request's first `n` bytes (n may be short). The
  // answer only routes the request: Handle() decodes it again, so a guest
  // that changes the bytes in between gains nothing.
  virtual bool MayBlock(const uint8_t* head, size_t n) {
    (void)head;
    (void)n;
    return false;
  }
};

}  // namespace hostshare::device
