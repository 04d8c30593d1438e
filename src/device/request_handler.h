// RequestHandler: what a queue worker does with one request, transport-free.
//
// The device layer hands each chain's readable bytes and writable space to
// the handler as ByteReader/ByteWriter; the handler returns the reply length.
// For virtio-fs the handler is the FUSE server.
//
// Thread-safety: Handle is called concurrently from every queue worker.
#pragma once

#include <cstddef>

#include "base/byte_io.h"

namespace hostshare::device {

class RequestHandler {
 public:
  virtual ~RequestHandler() = default;
  // Returns the number of bytes written into `out` (0: no reply).
  virtual size_t Handle(ByteReader& in, ByteWriter& out) = 0;
};

}  // namespace hostshare::device
