// Measurement helpers: a latency histogram, a monotonic clock, and the CPU
// time and memory of a process tree read from /proc.
//
// Thread-safety: a Histogram belongs to one thread (Merge() afterwards);
// the /proc readers are stateless.
#pragma once

#include <sys/types.h>
#include <time.h>

#include <array>
#include <cstdint>

namespace hostshare::bench {

inline uint64_t NowNs() {
  timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return static_cast<uint64_t>(ts.tv_sec) * 1000000000ull + static_cast<uint64_t>(ts.tv_nsec);
}

// Log-linear histogram of nanosecond values: 32 sub-buckets per power of
// two (about 3% resolution), values up to 2^42 ns.
class Histogram {
 public:
  void Add(uint64_t ns) {
    ++buckets_[Index(ns)];
    ++count_;
    sum_ += ns;
  }
  void Merge(const Histogram& o) {
    for (size_t i = 0; i < buckets_.size(); ++i) buckets_[i] += o.buckets_[i];
    count_ += o.count_;
    sum_ += o.sum_;
  }
  uint64_t count() const { return count_; }
  double MeanNs() const { return count_ ? static_cast<double>(sum_) / count_ : 0; }
  // The value below which a fraction q (0..1) of the samples lie.
  uint64_t Percentile(double q) const;

 private:
  static constexpr int kSubBits = 5;
  static constexpr int kMaxExp = 42;
  static size_t Index(uint64_t v);
  static uint64_t Middle(size_t index);
  std::array<uint64_t, (kMaxExp + 1) << kSubBits> buckets_{};
  uint64_t count_ = 0;
  uint64_t sum_ = 0;
};

struct ProcUsage {
  uint64_t cpu_ns = 0;  // user + system time of every process in the tree
  uint64_t rss_kib = 0;  // VmRSS summed over the tree
  uint64_t shmem_kib = 0;  // RssShmem summed over the tree (mapped guest memory)
  uint64_t max_rss_kib = 0;  // the largest single process's VmRSS
  // Pss - Pss_Shmem summed over the tree: each shared page (libc, the pages
  // a forked parent shares with its child) counted once across all the
  // processes mapping it; guest memory excluded. What the daemon costs.
  uint64_t pss_kib = 0;
  uint32_t processes = 0;
  uint32_t threads = 0;
};

// `root` and all its descendants (the reference virtiofsd forks into its
// sandbox: the work happens in a child).
ProcUsage ReadProcessTree(pid_t root);

// This process's own CPU time (all threads).
uint64_t SelfCpuNs();

}  // namespace hostshare::bench
