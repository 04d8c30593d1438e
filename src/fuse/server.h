// Server: the transport-neutral FUSE server. It decodes one request from a
// ByteReader, dispatches it through the opcode table to a Filesystem and
// encodes the reply into a ByteWriter. The same Server serves virtio-fs
// (reader/writer over a descriptor chain) and could serve /dev/fuse.
//
// Trust boundary: every request byte is guest-controlled. The server copies
// the header and body out once, validates lengths, names and sizes with
// checked arithmetic, and answers a malformed request with EINVAL, an
// unknown opcode with ENOSYS and anything but INIT before INIT with EIO. No
// guest input can make it assert, abort or throw.
//
// Thread-safety: Handle() may be called concurrently from any number of
// threads (one per queue). INIT and DESTROY serialise internally.
#pragma once

#include <cstddef>
#include <cstdint>

#include "base/byte_io.h"
#include "fuse/filesystem.h"
#include "fuse/session.h"

namespace hostshare::fuse {

struct ServerOptions {
  // Largest WRITE payload, announced in INIT (clamped to [4 KiB, 16 MiB]).
  uint32_t max_write = 1 << 20;
  // Pages per request, announced with FUSE_MAX_PAGES (clamped to [1, 65535]).
  uint32_t max_pages = 256;
  // Background request limits announced in INIT; 0 keeps the kernel's default.
  // The virtio queue already bounds what is in flight, so allow plenty.
  uint16_t max_background = 256;
  uint16_t congestion_threshold = 192;
};

class Server {
 public:
  Server(Filesystem& fs, ServerOptions opts);
  Server(const Server&) = delete;
  Server& operator=(const Server&) = delete;

  // Handles one request read from `in` and writes the whole reply
  // (fuse_out_header + body) into `out`. Returns the reply length; 0 means
  // this request gets no reply (FORGET, BATCH_FORGET, INTERRUPT), or no
  // reply could be written (`out` has no room for even a header, or `in`
  // holds no complete header).
  // REQUIRES: `in` holds exactly one request (it may have trailing bytes
  // beyond fuse_in_header.len, which are ignored).
  size_t Handle(ByteReader& in, ByteWriter& out);

 private:
  Filesystem& fs_;
  const Limits limits_;
  Session session_;
};

}  // namespace hostshare::fuse
