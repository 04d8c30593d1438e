// Cache policy: turns a PassthroughConfig into INIT capability bits, entry
// and attribute timeouts, and the FOPEN_* flags of each open.
//
// Pure functions of trusted configuration and of what the guest kernel
// offered at INIT; no state, no locks.
//
//   mode      entry/attr timeout   file open flags        dir open flags
//   never     0 s                  DIRECT_IO (*)          -
//   auto      1 s                  - (close-to-open)      -
//   always    86400 s              KEEP_CACHE             CACHE_DIR
//   metadata  86400 s              DIRECT_IO (*)          -
//
// (*) with allow_mmap: DIRECT_IO is kept when FUSE_DIRECT_IO_ALLOW_MMAP was
// negotiated (the guest can then mmap direct-I/O files); when the guest
// kernel lacks that flag, DIRECT_IO is dropped instead (page cache, but no
// KEEP_CACHE, so every open revalidates).
#pragma once

#include <cstdint>

#include "fs/passthrough/config.h"

namespace hostshare::fs {

// Not in every <linux/fuse.h> yet (kernel 6.6+).
inline constexpr uint64_t kFuseDirectIoAllowMmap = 1ULL << 36;

struct Timeouts {
  uint64_t entry_ns = 0;
  uint64_t attr_ns = 0;
};

Timeouts TimeoutsFor(const PassthroughConfig& config);

// "never", "auto", "always", "metadata".
const char* CacheModeName(CacheMode mode);

// The FUSE_* INIT bits to ask for, given what the kernel offered.
uint64_t WantedInitFlags(const PassthroughConfig& config, uint64_t kernel_flags);

// FOPEN_* for a regular-file open. `allow_mmap_negotiated`: the
// FUSE_DIRECT_IO_ALLOW_MMAP bit was agreed at INIT.
uint32_t FileOpenFlags(const PassthroughConfig& config, bool allow_mmap_negotiated);

// FOPEN_* for OPENDIR.
uint32_t DirOpenFlags(const PassthroughConfig& config);

}  // namespace hostshare::fs
