// MallocGuard: measures the largest single heap allocation the daemon's
// threads make while it is armed, so a test can prove that no guest request
// makes the daemon allocate in proportion to a size the guest chose
// (LISTXATTR 0xffffffff, BATCH_FORGET counts, READDIR sizes ...).
//
// Under AddressSanitizer it uses the sanitizer's malloc hooks (exact: every
// malloc/new is seen). Without ASan it falls back to the peak resident set
// (VmHWM, reset through /proc/self/clear_refs), which catches any large
// allocation that is actually touched.
//
// HS_DEBUG_GUARD=1 in the environment prints a stack for every armed
// allocation over 256 KiB (under ASan), to find who made it.
//
// The test thread's own allocations (building requests, copying replies)
// are not counted: call IgnoreThisThread() on it.
//
// Thread-safety: Arm/Disarm/Max from the test thread; the hook runs on
// every thread.
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <string>

#if defined(__SANITIZE_ADDRESS__)
#define HS_MALLOC_GUARD_HOOKS 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define HS_MALLOC_GUARD_HOOKS 1
#endif
#endif

#ifdef HS_MALLOC_GUARD_HOOKS
#define HS_MALLOC_GUARD_EXPECTED 1
#else
#define HS_MALLOC_GUARD_EXPECTED 0
#endif

#ifdef HS_MALLOC_GUARD_HOOKS
// From <sanitizer/allocator_interface.h>, which GCC does not install.
extern "C" int __sanitizer_install_malloc_and_free_hooks(
    void (*malloc_hook)(const volatile void*, size_t), void (*free_hook)(const volatile void*));
extern "C" void __sanitizer_print_stack_trace();
#endif

namespace hostshare::hostile {

class MallocGuard {
 public:
  MallocGuard() {
#ifdef HS_MALLOC_GUARD_HOOKS
    static const bool installed = [] {
      // Both hooks are required, or nothing is installed.
      return __sanitizer_install_malloc_and_free_hooks(&Hook, &FreeHook) != 0;
    }();
    exact_ = installed;
#endif
  }

  // True when every allocation is seen (ASan hooks); false: RSS fallback.
  bool exact() const { return exact_; }

  static void IgnoreThisThread(bool ignore = true) { ignored_thread() = ignore; }

  void Arm() {
    max_().store(0);
    armed_().store(true);
    if (!exact_) {
      std::ofstream("/proc/self/clear_refs") << "5";  // resets VmHWM
      rss_start_ = ReadStatusKb("VmRSS:");
    }
  }

  // Largest single allocation (exact) or growth of the peak RSS (fallback), in bytes.
  size_t Disarm() {
    armed_().store(false);
    if (exact_) return max_().load();
    size_t hwm = ReadStatusKb("VmHWM:");
    return hwm > rss_start_ ? (hwm - rss_start_) * 1024 : 0;
  }

 private:
  static std::atomic<bool>& armed_() {
    static std::atomic<bool> a{false};
    return a;
  }
  static std::atomic<size_t>& max_() {
    static std::atomic<size_t> m{0};
    return m;
  }
  static bool& ignored_thread() {
    static thread_local bool ignored = false;
    return ignored;
  }
  static void Hook(const volatile void*, size_t size) {
    if (!armed_().load(std::memory_order_relaxed) || ignored_thread()) return;
    if (size > (256u << 10) && getenv("HS_DEBUG_GUARD")) {
      fprintf(stderr, "big alloc %zu\n", size);
      __sanitizer_print_stack_trace();
    }
    size_t prev = max_().load(std::memory_order_relaxed);
    while (size > prev && !max_().compare_exchange_weak(prev, size)) {
    }
  }
  static void FreeHook(const volatile void*) {}
  static size_t ReadStatusKb(const char* key) {
    std::ifstream in("/proc/self/status");
    std::string line;
    while (std::getline(in, line)) {
      if (line.rfind(key, 0) == 0) return std::stoul(line.substr(strlen(key)));
    }
    return 0;
  }

  bool exact_ = false;
  size_t rss_start_ = 0;
};

}  // namespace hostshare::hostile
