// MayBlock: which FUSE requests are worth running off a queue's own thread.
//
// A queue thread serves requests in order; one that waits on the disk or
// moves a lot of data (a 1 MiB READ, an fsync) holds up every short request
// behind it. With a blocking pool (--thread-pool-size), the device asks
// this function and hands those requests to the pool:
//   - READ / WRITE of at least kLongIoBytes (a small one is cheaper to run
//     in place than to hand over),
//   - FSYNC, FSYNCDIR, SYNCFS, FLUSH, FALLOCATE, COPY_FILE_RANGE, SETLKW,
//   - READDIR / READDIRPLUS (READDIRPLUS does a lookup per entry).
//
// Trust boundary: `head` is a copy of guest bytes, used only to route; the
// server decodes the request again from the transport. Thread-safety: pure.
#pragma once

#include <cstddef>
#include <cstdint>

namespace hostshare::fuse {

inline constexpr uint32_t kLongIoBytes = 64 * 1024;

// `head`: the request's first `n` bytes (fuse_in_header, then the body).
[[nodiscard]] bool MayBlock(const uint8_t* head, size_t n);

}  // namespace hostshare::fuse
