// Runner: runs one workload for a warm-up and a measured window, either
// through a backend (one thread per request queue, `depth` requests in
// flight on each) or natively (one thread per "queue", one op at a time),
// and samples the backend's CPU time over exactly the measured window.
//
// Thread-safety: one Run* call at a time.
#pragma once

#include <sys/types.h>

#include <string>
#include <vector>

#include "queue_driver.h"
#include "workloads.h"

namespace hostshare::bench {

struct RunOptions {
  // Native mode only: how READ/WRITE workloads issue I/O.
  enum class Engine { kSync, kUring, kUringAsync };
  Engine engine = Engine::kSync;
  uint32_t native_depth = 16;  // requests in flight per thread with io_uring
  double warmup_s = 0.5;
  double duration_s = 3.0;
  int timeout_ms = 10000;  // a backend that answers nothing for this long has failed
};

struct RunResult {
  std::string workload;
  Counters c;
  double seconds = 0;         // measured window
  uint64_t daemon_cpu_ns = 0;  // backend process tree, over the window
  uint64_t bench_cpu_ns = 0;   // this process, over the window
  uint64_t kicks = 0, interrupts = 0;
  int first_error = 0;
  std::string failure;  // non-empty: the run could not complete
};

RunResult RunVirtio(Workload& w, const std::vector<QueueDriver*>& queues, const Fixture& fx,
                    const RunOptions& opts, pid_t daemon_root);
RunResult RunNative(Workload& w, uint32_t threads, const Fixture& fx, const RunOptions& opts);

}  // namespace hostshare::bench
