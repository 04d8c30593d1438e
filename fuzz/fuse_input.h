// Shared by the FUSE fuzzers: turns fuzz bytes into a sequence of requests
// fed to a fuse::Server the way the virtio-fs device feeds it (a reader over
// the request's buffers, a writer over the reply buffers), and checks the
// reply framing the server promises.
//
// Input format, repeated until the input ends:
//   u8  ctl     bits 0-1: how the request is scattered over segments
//               (one; two halves; 1-byte segments for the first 64 bytes;
//               a zero-length segment between every 7 bytes)
//               bits 2-4: reply room (0, 8, 16, 40, 256, 4 KiB, 64 KiB + 16, 1 MiB + 16)
//   u16 len     little-endian, request bytes that follow (clipped to what is left)
//   len bytes   the request: fuse_in_header + body, verbatim
//
// Before the fuzzed requests, a well-formed FUSE_INIT (protocol 7.38, the
// flags the Linux driver sends) initialises the session, so most inputs
// reach the opcode handlers; an input may send INIT / DESTROY itself.
#pragma once

#include <linux/fuse.h>
#include <sys/uio.h>

#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <vector>

#include "base/iovec_io.h"
#include "fuse/server.h"

namespace hostshare::fuzz {

inline constexpr size_t kReplyRooms[8] = {0, 8, 16, 40, 256, 4096, 65536 + 16, (1 << 20) + 16};

// A reply buffer big enough for every room, reused across runs.
inline std::vector<char>& ReplyBuffer() {
  static std::vector<char> buf(kReplyRooms[7]);
  return buf;
}

// Splits [p, p+n) into segments according to `mode`.
inline std::vector<iovec> Scatter(uint8_t* p, size_t n, unsigned mode) {
  std::vector<iovec> v;
  switch (mode & 3) {
    case 0:
      v.push_back({p, n});
      break;
    case 1:
      v.push_back({p, n / 2});
      v.push_back({p + n / 2, n - n / 2});
      break;
    case 2: {
      size_t i = 0;
      for (; i < n && i < 64; ++i) v.push_back({p + i, 1});
      if (i < n) v.push_back({p + i, n - i});
      break;
    }
    default:
      for (size_t i = 0; i < n; i += 7) {
        v.push_back({p + i, std::min<size_t>(7, n - i)});
        v.push_back({p, 0});
      }
      break;
  }
  return v;
}

// Runs one request through `server` and checks what the server promises
// about its reply: within the room, and a well-formed fuse_out_header whose
// len is what Handle() returned.
inline void RunOne(fuse::Server& server, uint8_t* req, size_t n, unsigned ctl) {
  IovecReader in(Scatter(req, n, ctl));
  const size_t room = kReplyRooms[(ctl >> 2) & 7];
  std::vector<char>& buf = ReplyBuffer();
  std::vector<iovec> out_segs;
  if (room > 0) out_segs.push_back({buf.data(), room});
  IovecWriter out(out_segs);
  const size_t len = server.Handle(in, out);
  if (len > room) abort();  // wrote past the guest's buffers
  if (len == 0) return;
  if (len < sizeof(fuse_out_header)) abort();  // a cut header
  fuse_out_header h;
  memcpy(&h, buf.data(), sizeof h);
  if (h.len != len) abort();                                       // framing lies
  if (h.error > 0 || h.error < -4095) abort();                     // not a -errno
  if (h.error != 0 && h.len != sizeof(fuse_out_header)) abort();   // an error with a body
  if (n >= sizeof(fuse_in_header)) {
    fuse_in_header ih;
    memcpy(&ih, req, sizeof ih);
    if (h.unique != ih.unique) abort();  // answered another request
  }
}

// A well-formed FUSE_INIT, as the Linux driver sends it.
inline std::vector<uint8_t> InitRequest() {
  struct {
    fuse_in_header h;
    fuse_init_in in;
  } r{};
  r.h.len = sizeof r;
  r.h.opcode = FUSE_INIT;
  r.h.unique = 1;
  r.in.major = FUSE_KERNEL_VERSION;
  r.in.minor = 38;
  r.in.max_readahead = 128 * 1024;
  const uint64_t flags = FUSE_ASYNC_READ | FUSE_POSIX_LOCKS | FUSE_ATOMIC_O_TRUNC |
                         FUSE_EXPORT_SUPPORT | FUSE_BIG_WRITES | FUSE_DONT_MASK |
                         FUSE_AUTO_INVAL_DATA | FUSE_DO_READDIRPLUS | FUSE_READDIRPLUS_AUTO |
                         FUSE_ASYNC_DIO | FUSE_WRITEBACK_CACHE | FUSE_PARALLEL_DIROPS |
                         FUSE_HANDLE_KILLPRIV | FUSE_POSIX_ACL | FUSE_MAX_PAGES |
                         FUSE_CACHE_SYMLINKS | FUSE_EXPLICIT_INVAL_DATA | FUSE_INIT_EXT |
                         FUSE_SETXATTR_EXT | FUSE_HANDLE_KILLPRIV_V2 | FUSE_SUBMOUNTS;
  r.in.flags = static_cast<uint32_t>(flags);
  r.in.flags2 = static_cast<uint32_t>(flags >> 32);
  std::vector<uint8_t> out(sizeof r);
  memcpy(out.data(), &r, sizeof r);
  return out;
}

// Feeds INIT and then every request of the input to `server`.
inline void RunInput(fuse::Server& server, const uint8_t* data, size_t size) {
  std::vector<uint8_t> init = InitRequest();
  RunOne(server, init.data(), init.size(), 5 << 2);
  size_t pos = 0;
  std::vector<uint8_t> req;
  while (pos + 3 <= size) {
    const unsigned ctl = data[pos];
    size_t len = data[pos + 1] | (size_t{data[pos + 2]} << 8);
    pos += 3;
    len = std::min(len, size - pos);
    // A copy in its own heap block: ASan sees any read past the request.
    req.assign(data + pos, data + pos + len);
    req.shrink_to_fit();
    RunOne(server, req.data(), req.size(), ctl);
    pos += len;
  }
}

}  // namespace hostshare::fuzz
