// Session: the per-connection state INIT negotiates, and the limits the
// server was configured with.
//
// Thread-safety: Snapshot() may be called from any thread at any time and
// is lock-free; Set() is called only with mu() held, which serialises INIT
// and DESTROY. A request racing with a re-INIT may see the old or the new
// negotiation (the guest kernel does not send requests during INIT).
#pragma once

#include <atomic>
#include <cstdint>
#include <mutex>

namespace hostshare::fuse {

struct Negotiated {
  bool initialized = false;
  uint32_t minor = 0;   // min(kernel's minor, wire::kMaxMinor)
  uint64_t flags = 0;   // FUSE_* bits both sides agreed to
};

// Server limits derived (and sanitised) from ServerOptions.
struct Limits {
  uint32_t max_write = 0;        // largest WRITE payload we accept and announce
  uint32_t max_read = 0;         // largest READ / READDIR reply payload we produce
  uint16_t max_pages = 0;
  uint16_t max_background = 0;
  uint16_t congestion_threshold = 0;
};

class Session {
 public:
  Negotiated Snapshot() const {
    uint32_t state = state_.load(std::memory_order_acquire);
    return Negotiated{.initialized = (state & kInitializedBit) != 0,
                      .minor = state & ~kInitializedBit,
                      .flags = flags_.load(std::memory_order_relaxed)};
  }

  // REQUIRES: mu() held.
  void Set(const Negotiated& n) {
    flags_.store(n.flags, std::memory_order_relaxed);
    state_.store(n.minor | (n.initialized ? kInitializedBit : 0), std::memory_order_release);
  }

  std::mutex& mu() { return mu_; }

 private:
  static constexpr uint32_t kInitializedBit = 1u << 31;
  std::mutex mu_;
  std::atomic<uint32_t> state_{0};
  std::atomic<uint64_t> flags_{0};
};

}  // namespace hostshare::fuse
