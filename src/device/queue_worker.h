// QueueWorker: the thread that serves one virtqueue.
//
// It waits on the queue's kick eventfd, pops every available chain, has the
// handler execute it in place (no hand-off for a request: pop, decode,
// execute and reply on one thread), returns it to the used ring, and sends
// at most one interrupt per batch (EVENT_IDX aware).
//
// A chain the guest corrupted breaks the queue (virtio "needs reset"): the
// worker logs why and stops serving it; the process and other queues go on.
//
// Thread-safety: Start/Stop from the session thread; the worker owns the
// queue while running.
#pragma once

#include <memory>
#include <thread>

#include "base/scoped_fd.h"
#include "device/request_handler.h"
#include "virtio/notifier.h"
#include "virtio/split_queue.h"

namespace hostshare::device {

class QueueWorker {
 public:
  QueueWorker(uint32_t index, std::unique_ptr<virtio::SplitQueue> queue, int kick_fd,
              std::shared_ptr<virtio::Notifier> call, RequestHandler& handler);
  ~QueueWorker();
  QueueWorker(const QueueWorker&) = delete;
  QueueWorker& operator=(const QueueWorker&) = delete;

  // Asks the thread to finish the request in flight and exit; joins it and
  // returns the next avail index to resume from.
  uint16_t Stop();

 private:
  void Run();
  // Pops and serves until the ring is empty and notifications are re-armed.
  // Returns false if the queue broke.
  bool Drain();

  uint32_t index_;
  std::unique_ptr<virtio::SplitQueue> queue_;
  int kick_fd_;
  std::shared_ptr<virtio::Notifier> call_;
  RequestHandler& handler_;
  ScopedFd stop_fd_;
  std::thread thread_;
  bool stopped_ = false;
};

}  // namespace hostshare::device
