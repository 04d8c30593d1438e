#include "fuse/blocking.h"

#include <linux/fuse.h>

#include <cstring>

namespace hostshare::fuse {

bool MayBlock(const uint8_t* head, size_t n) {
  fuse_in_header h;
  if (n < sizeof h) return false;
  memcpy(&h, head, sizeof h);
  switch (h.opcode) {
    case FUSE_READ:
    case FUSE_WRITE: {
      // fuse_read_in and fuse_write_in both start with fh, offset, size.
      constexpr size_t kSizeAt = sizeof h + offsetof(fuse_read_in, size);
      static_assert(offsetof(fuse_read_in, size) == offsetof(fuse_write_in, size));
      uint32_t size;
      if (n < kSizeAt + sizeof size) return false;
      memcpy(&size, head + kSizeAt, sizeof size);
      return size >= kLongIoBytes;
    }
    case FUSE_FSYNC:
    case FUSE_FSYNCDIR:
    case FUSE_SYNCFS:
    case FUSE_FLUSH:
    case FUSE_FALLOCATE:
    case FUSE_COPY_FILE_RANGE:
    case FUSE_SETLKW:
    case FUSE_READDIR:
    case FUSE_READDIRPLUS:
      return true;
    default:
      return false;
  }
}

}  // namespace hostshare::fuse
