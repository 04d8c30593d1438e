#include "fs/passthrough/cache_policy.h"

#include <linux/fuse.h>

#include <cmath>

namespace hostshare::fs {
namespace {

constexpr uint64_t kNsPerSec = 1'000'000'000ULL;
constexpr uint64_t kLongTimeoutNs = 86400 * kNsPerSec;
// Ten years: far beyond any useful cache lifetime, far below overflow.
constexpr double kMaxTimeoutS = 10.0 * 365 * 86400;

uint64_t SecondsToNs(double s) {
  if (!(s > 0)) return 0;  // also catches NaN
  if (s > kMaxTimeoutS) s = kMaxTimeoutS;
  return static_cast<uint64_t>(std::llround(s * static_cast<double>(kNsPerSec)));
}

bool BypassesDataCache(CacheMode mode) {
  return mode == CacheMode::kNever || mode == CacheMode::kMetadata;
}

}  // namespace

Timeouts TimeoutsFor(const PassthroughConfig& config) {
  Timeouts t;
  switch (config.cache) {
    case CacheMode::kNever:
      t = {0, 0};
      break;
    case CacheMode::kAuto:
      t = {kNsPerSec, kNsPerSec};
      break;
    case CacheMode::kAlways:
    case CacheMode::kMetadata:
      t = {kLongTimeoutNs, kLongTimeoutNs};
      break;
  }
  if (config.entry_timeout_s) t.entry_ns = SecondsToNs(*config.entry_timeout_s);
  if (config.attr_timeout_s) t.attr_ns = SecondsToNs(*config.attr_timeout_s);
  return t;
}

const char* CacheModeName(CacheMode mode) {
  switch (mode) {
    case CacheMode::kNever:
      return "never";
    case CacheMode::kAuto:
      return "auto";
    case CacheMode::kAlways:
      return "always";
    case CacheMode::kMetadata:
      return "metadata";
  }
  return "?";
}

uint64_t WantedInitFlags(const PassthroughConfig& config, uint64_t kernel_flags) {
  // Deliberately not asked for:
  //  - FUSE_EXPORT_SUPPORT: it makes the kernel look up "." and "..", which
  //    this backend refuses (a ".." of the share root would leave it).
  //  - FUSE_DONT_MASK / POSIX_ACL: the guest applies its umask itself and the
  //    worker threads run with umask 0 (credentials.h).
  //  - POSIX_LOCKS / FLOCK_LOCKS: locks stay local to the guest.
  //  - FUSE_MAX_PAGES: the server owns max_pages (it sizes the buffers).
  // FUSE_ASYNC_DIO: without it the guest turns every asynchronous O_DIRECT
  // request (libaio, io_uring) into a synchronous one, so an application's
  // I/O depth never reaches us: fio at iodepth 16 runs at depth 1.
  // FUSE_HANDLE_KILLPRIV_V2: the daemon writes, truncates and opens with
  // CAP_FSETID, so the host keeps S_ISUID/S_ISGID where the guest kernel
  // would clear them for an unprivileged caller. Under V2 the guest says so
  // in every such request (WRITE_KILL_SUIDGID, FATTR_KILL_SUIDGID,
  // OPEN_KILL_SUIDGID) and we clear them. Without it, an open(O_TRUNC)
  // under ATOMIC_O_TRUNC would keep them: the guest skips its own SETATTR.
  uint64_t want = FUSE_ASYNC_READ | FUSE_PARALLEL_DIROPS | FUSE_ATOMIC_O_TRUNC | FUSE_BIG_WRITES |
                  FUSE_ASYNC_DIO | FUSE_HANDLE_KILLPRIV_V2;
  if (config.readdirplus) want |= FUSE_DO_READDIRPLUS | FUSE_READDIRPLUS_AUTO;
  if (config.writeback && !config.readonly) want |= FUSE_WRITEBACK_CACHE;
  if (config.announce_submounts) want |= FUSE_SUBMOUNTS;
  if (config.cache == CacheMode::kAlways) want |= FUSE_CACHE_SYMLINKS;
  if (config.allow_mmap && BypassesDataCache(config.cache)) want |= kFuseDirectIoAllowMmap;
  return want & kernel_flags;
}

uint32_t FileOpenFlags(const PassthroughConfig& config, bool allow_mmap_negotiated) {
  switch (config.cache) {
    case CacheMode::kNever:
    case CacheMode::kMetadata:
      if (config.allow_mmap && !allow_mmap_negotiated) return 0;
      return FOPEN_DIRECT_IO;
    case CacheMode::kAuto:
      return 0;
    case CacheMode::kAlways:
      return FOPEN_KEEP_CACHE;
  }
  return 0;
}

uint32_t DirOpenFlags(const PassthroughConfig& config) {
  return config.cache == CacheMode::kAlways ? FOPEN_CACHE_DIR : 0;
}

}  // namespace hostshare::fs
