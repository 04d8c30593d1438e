// QueueWorker: the thread that serves one virtqueue.
//
// It waits on the queue's kick eventfd and serves the ring in batches: it
// pops what the guest made available, has the handler execute each request
// in place (pop, decode, execute and reply on one thread, no hand-off), and
// after each batch publishes the used elements with one index store and
// sends at most one interrupt (EVENT_IDX aware). Serving a request
// allocates nothing: the chain's vectors and the reader/writer over them
// are reused.
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

#include <condition_variable>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

#include "base/iovec_io.h"
#include "base/scoped_fd.h"
#include "device/blocking_pool.h"
#include "device/request_handler.h"
#include "virtio/notifier.h"
#include "virtio/split_queue.h"

namespace hostshare::device {

class QueueWorker : public PoolClient {
 public:
  // Largest batch served before used elements are published and the guest
  // is interrupted: bounds how long a completed request waits.
  static constexpr uint32_t kMaxBatch = 64;

  // `pool` may be null (every request runs on this worker's thread); it
  // must outlive the worker.
  QueueWorker(uint32_t index, std::unique_ptr<virtio::SplitQueue> queue, int kick_fd,
              std::shared_ptr<virtio::Notifier> call, RequestHandler& handler,
              BlockingPool* pool = nullptr);
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
  struct Completed {
    uint16_t head;
    uint32_t len;
  };
  void Run();
  // Serves until the ring is empty and notifications are re-armed.
  // Returns false if the queue broke.
  bool Drain();
  // Runs the popped chain here, or hands it to the pool.
  void Serve();
  // Publishes this thread's completions and interrupts the guest if it wants.
  void Flush();

  uint32_t index_;
  std::unique_ptr<virtio::SplitQueue> queue_;
  int kick_fd_;
  std::shared_ptr<virtio::Notifier> call_;
  RequestHandler& handler_;
  BlockingPool* pool_;
  ScopedFd stop_fd_;
  bool stopped_ = false;

  // Worker-thread state, reused for every request.
  virtio::Chain chain_;
  IovecReader in_;
  IovecWriter out_;
  std::vector<Completed> batch_;

  // Used ring and pool bookkeeping.
  std::mutex used_mu_;
  std::condition_variable idle_cv_;
  uint32_t in_pool_ = 0;               // jobs handed to the pool; guarded by used_mu_
  PoolJob* free_jobs_ = nullptr;       // guarded by used_mu_
  std::vector<std::unique_ptr<PoolJob>> jobs_;  // every job ever made; worker thread only

  std::thread thread_;  // last: starts after everything above is built
};

}  // namespace hostshare::device
