// PassthroughConfig: how the passthrough backend shares one host directory.
//
// Trust boundary: filled in by the daemon from its command line (trusted);
// nothing here comes from the guest. Thread-safety: a plain value, copied
// into the filesystem at Create() and never changed afterwards.
#pragma once

#include <optional>
#include <string>

namespace hostshare::fs {

// What the guest may cache. See cache_policy.h for the exact timeouts and
// FOPEN_* flags each mode produces.
enum class CacheMode {
  kNever,     // no metadata or data caching: 0 s timeouts, FOPEN_DIRECT_IO
  kAuto,      // 1 s metadata timeouts, close-to-open data consistency
  kAlways,    // long timeouts, page cache kept across opens (KEEP_CACHE)
  kMetadata,  // long metadata timeouts, no data cache (FOPEN_DIRECT_IO)
};

struct PassthroughConfig {
  std::string root;  // the shared directory; must be absolute
  CacheMode cache = CacheMode::kAuto;
  bool writeback = false;        // negotiate FUSE_WRITEBACK_CACHE
  bool xattr = false;            // extended attributes (else ENOSYS)
  bool readonly = false;         // every mutating operation fails EROFS
  bool allow_direct_io = false;  // honour the guest's O_DIRECT (else stripped)
  // With cache=never/metadata: still let the guest mmap(MAP_SHARED) files.
  // Negotiates FUSE_DIRECT_IO_ALLOW_MMAP when the guest kernel offers it;
  // otherwise files are opened without FOPEN_DIRECT_IO (and without
  // KEEP_CACHE), like the Rust virtiofsd's --allow-mmap.
  bool allow_mmap = false;
  bool readdirplus = true;  // negotiate READDIRPLUS (--no-readdirplus: false)
  bool announce_submounts = false;  // FUSE_SUBMOUNTS + FUSE_ATTR_SUBMOUNT
  // Explicit timeouts in seconds; unset means "from the cache mode".
  // Negative values are treated as 0.
  std::optional<double> entry_timeout_s;
  std::optional<double> attr_timeout_s;
};

}  // namespace hostshare::fs
