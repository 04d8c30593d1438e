#include "fuse/reply.h"

#include "base/log.h"
#include "fuse/wire.h"

namespace hostshare::fuse {

size_t Reply::Error(int err) {
  if (err <= 0 || err > wire::kMaxErrno) {
    LOG_DEBUG("fuse: unique %llu: bad errno %d from handler, replying EIO",
              static_cast<unsigned long long>(unique_), err);
    err = EIO;
  }
  if (payload_begun_) return WriteHeaderAt(wire::kOutHeaderSize, -err);
  fuse_out_header h{.len = wire::kOutHeaderSize, .error = -err, .unique = unique_};
  if (!out_.Write(&h, sizeof h).ok()) {
    LOG_DEBUG("fuse: unique %llu: no room for a reply header",
              static_cast<unsigned long long>(unique_));
    return 0;
  }
  return sizeof h;
}

bool Reply::Fits(size_t n) const {
  return !payload_begun_ && out_.Available() >= wire::kOutHeaderSize &&
         n <= out_.Available() - wire::kOutHeaderSize;
}

size_t Reply::Ok(const void* body, size_t n, const void* body2, size_t n2) {
  // n and n2 are our own struct sizes or buffers bounded by 64 KiB: no overflow.
  size_t total = wire::kOutHeaderSize + n + n2;
  if (!Fits(n + n2)) {
    LOG_DEBUG("fuse: unique %llu: reply of %zu bytes does not fit in %zu",
              static_cast<unsigned long long>(unique_), total, out_.Available());
    return Error(EINVAL);
  }
  fuse_out_header h{.len = static_cast<uint32_t>(total), .error = 0, .unique = unique_};
  bool ok = out_.Write(&h, sizeof h).ok();
  if (ok && n > 0) ok = out_.Write(body, n).ok();
  if (ok && n2 > 0) ok = out_.Write(body2, n2).ok();
  if (!ok) {
    // Cannot happen with a writer that honours Available(); never leave a
    // half-written success reply behind.
    payload_begun_ = true;
    return Error(EIO);
  }
  return total;
}

bool Reply::BeginPayload() {
  if (out_.Available() < wire::kOutHeaderSize || !out_.Skip(wire::kOutHeaderSize).ok()) {
    LOG_DEBUG("fuse: unique %llu: no room for a reply header",
              static_cast<unsigned long long>(unique_));
    return false;
  }
  payload_begun_ = true;
  return true;
}

size_t Reply::FinishPayload(size_t payload) {
  // payload is bounded by the writer's size, which is far below 4 GiB; the
  // transport limits a reply to what a descriptor chain can describe.
  size_t total = wire::kOutHeaderSize + payload;
  if (total > UINT32_MAX) return Error(EIO);
  return WriteHeaderAt(static_cast<uint32_t>(total), 0);
}

size_t Reply::WriteHeaderAt(uint32_t len, int32_t error) {
  fuse_out_header h{.len = len, .error = error, .unique = unique_};
  if (!out_.WriteAt(start_, &h, sizeof h).ok()) return 0;
  return len;
}

}  // namespace hostshare::fuse
