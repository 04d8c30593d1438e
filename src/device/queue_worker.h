// QueueWorker: the thread that serves one virtqueue.
//
// It waits on the queue's kick eventfd and serves the ring in place: pop,
// decode, execute and reply on one thread, no hand-off. Serving a request
// allocates nothing: the chain's vectors and the reader/writer over them
// are reused.
//
// How replies reach the guest depends on whether the worker has a CPU to
// itself (ContentionMonitor):
//   - it has (latency mode): each reply is published as soon as it is
//     written, and the guest is interrupted mid-pass once a quarter of the
//     requests it waits for are ready (EVENT_IDX; without it, after the
//     first reply of a pass) and at the end of the pass. The guest then
//     refills the ring while the worker still serves it. When the ring runs
//     empty the worker busy-polls it for an adaptive window (PollTuner, at
//     most `poll_max_ns`) with kicks still suppressed, then re-arms kicks
//     and sleeps. This hides the cost of waking threads, which dominates
//     short requests on a host that is itself a VM.
//   - it is preempted (throughput mode, for ContentionMonitor::kHoldNs):
//     replies are published in batches, with one used-index store and at
//     most one interrupt per pass over the ring (kMaxBatch at most), and the
//     worker sleeps as soon as the ring is empty: with more busy threads
//     than CPUs, early interrupts and polling take CPU time from the threads
//     that feed the ring.
// Either way the guest's suppression hints (EVENT_IDX used_event, or
// VRING_AVAIL_F_NO_INTERRUPT) are honoured.
//
// With a BlockingPool, requests the handler says may block (large READ or
// WRITE, fsync, ...) go to the pool with their chain; the pool thread
// returns them to the used ring under the worker's used-ring lock, so that
// a slow request never holds up the short ones behind it.
//
// A chain the guest corrupted breaks the queue (virtio "needs reset"): the
// worker logs why and stops serving it; the process and other queues go on.
//
// Thread-safety: construction and Stop() from the session thread; the
// worker thread owns popping; used-ring updates are serialised by used_mu_
// when a pool is in use.
#pragma once

#include <atomic>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

#include "base/iovec_io.h"
#include "base/scoped_fd.h"
#include "device/blocking_pool.h"
#include "device/contention_monitor.h"
#include "device/poll_tuner.h"
#include "device/request_handler.h"
#include "virtio/notifier.h"
#include "virtio/split_queue.h"

namespace hostshare::device {

struct WorkerTuning {
  uint64_t poll_max_ns = 0;  // 0: never poll an empty ring
  // Test hook: where ContentionMonitor reads involuntary switches.
  ContentionMonitor::SwitchCounter switch_counter = nullptr;
};

class QueueWorker : public PoolClient {
 public:
  // Largest batch published at once in throughput mode: bounds how long a
  // completed request waits.
  static constexpr uint32_t kMaxBatch = 64;
  // Latency mode: interrupt mid-pass once 1/kEarlyFraction of the requests
  // the guest waits for are ready.
  static constexpr uint32_t kEarlyFraction = 4;

  // `pool` may be null (every request runs on this worker's thread); it
  // must outlive the worker.
  QueueWorker(uint32_t index, std::unique_ptr<virtio::SplitQueue> queue, int kick_fd,
              std::shared_ptr<virtio::Notifier> call, RequestHandler& handler,
              BlockingPool* pool = nullptr, WorkerTuning tuning = {});
  ~QueueWorker() override;
  QueueWorker(const QueueWorker&) = delete;
  QueueWorker& operator=(const QueueWorker&) = delete;

  // Asks the thread to finish the request in flight and exit, waits for the
  // requests handed to the pool, joins it, and returns the next avail index
  // to resume from.
  uint16_t Stop();

  // PoolClient: a pool thread finished `job`.
  void Done(PoolJob* job, size_t len) override;

 private:
  void Run();
  // Serves until the ring is empty (after polling it) and notifications are
  // re-armed. Returns false if the queue broke.
  bool Drain();
  // Pops and serves chains until the ring is empty. False: the queue broke.
  bool ServeAvailable();
  // Busy-polls the empty ring for the tuner's window; true if chains came.
  bool PollForMore();
  // Runs the popped chain here, or hands it to the pool.
  void Serve();
  // Returns a served chain to the guest (at once or batched, by mode) and
  // interrupts it if it wants.
  void Complete(uint16_t head, uint32_t len);
  // Publishes the batched completions and interrupts the guest if it wants.
  void Flush();
  // Interrupts the guest if it wants one for what was published; true if so.
  bool SignalIfWanted();
  // Runs `f` on the used ring: under used_mu_ when pool threads share it.
  template <typename F>
  void WithUsedRing(F&& f) {
    if (pool_ == nullptr) {
      f();
      return;
    }
    std::lock_guard<std::mutex> lock(used_mu_);
    f();
  }

  uint32_t index_;
  std::unique_ptr<virtio::SplitQueue> queue_;
  int kick_fd_;
  std::shared_ptr<virtio::Notifier> call_;
  RequestHandler& handler_;
  BlockingPool* pool_;
  ScopedFd stop_fd_;
  bool stopped_ = false;
  std::atomic<bool> stop_requested_{false};  // read by a polling worker

  // Worker-thread state, reused for every request.
  virtio::Chain chain_;
  IovecReader in_;
  IovecWriter out_;
  struct Completed {
    uint16_t head;
    uint32_t len;
  };
  std::vector<Completed> batch_;      // throughput mode
  bool latency_mode_ = true;          // decided at the start of each pass
  bool signalled_this_pass_ = false;  // latency mode without EVENT_IDX
  ContentionMonitor contention_;
  PollTuner poll_;
  uint64_t empty_since_ns_ = 0;  // when the ring was last found empty

  // Used ring and pool bookkeeping.
  std::mutex used_mu_;
  std::condition_variable idle_cv_;
  uint32_t in_pool_ = 0;               // jobs handed to the pool; guarded by used_mu_
  PoolJob* free_jobs_ = nullptr;       // guarded by used_mu_
  std::vector<std::unique_ptr<PoolJob>> jobs_;  // every job ever made; worker thread only

  std::thread thread_;  // last: starts after everything above is built
};

}  // namespace hostshare::device
