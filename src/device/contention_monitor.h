// ContentionMonitor: does this thread share its CPU with other busy
// threads? Answered from the thread's involuntary context switches.
//
// Why: a queue worker has two good ways to serve a ring, and which one is
// faster depends on this. With a CPU to spare, replying early and polling
// the empty ring hide the cost of waking threads (the guest refills while
// the worker still runs). When threads compete for the CPUs, every early
// interrupt wakes a guest thread that preempts the worker to reap one
// reply, and every microsecond of polling is taken from the thread that
// would refill the ring; then one interrupt per batch and sleeping at once
// are faster. The kernel preempting the worker is the sign: while it keeps
// happening (within kHoldNs of the last time) the thread counts as
// contended.
//
// The check is one getrusage(RUSAGE_THREAD) call, made at most every
// kCheckNs.
//
// Thread-safety: one thread, the one it watches.
#pragma once

#include <cstdint>

namespace hostshare::device {

class ContentionMonitor {
 public:
  static constexpr uint64_t kCheckNs = 50'000;
  static constexpr uint64_t kHoldNs = 20'000'000;

  // Reads the calling thread's involuntary context switches (a test hook;
  // the default reads getrusage(RUSAGE_THREAD)). Returns -1 on failure.
  using SwitchCounter = long (*)();
  explicit ContentionMonitor(SwitchCounter counter = nullptr);

  // Whether the thread counts as contended at `now_ns` (a monotonic clock).
  bool Contended(uint64_t now_ns);

 private:
  SwitchCounter counter_;
  long switches_ = -1;        // at the last check; -1: none yet
  uint64_t next_check_ns_ = 0;
  uint64_t contended_until_ns_ = 0;
};

}  // namespace hostshare::device
