#include "device/queue_worker.h"

#include <poll.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <cstring>

#include "base/iovec_io.h"
#include "base/log.h"

namespace hostshare::device {

QueueWorker::QueueWorker(uint32_t index, std::unique_ptr<virtio::SplitQueue> queue, int kick_fd,
                         std::shared_ptr<virtio::Notifier> call, RequestHandler& handler)
    : index_(index),
      queue_(std::move(queue)),
      kick_fd_(kick_fd),
      call_(std::move(call)),
      handler_(handler),
      stop_fd_(eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK)) {
  thread_ = std::thread([this] { Run(); });
}

QueueWorker::~QueueWorker() { Stop(); }

uint16_t QueueWorker::Stop() {
  if (!stopped_) {
    stopped_ = true;
    (void)eventfd_write(stop_fd_.get(), 1);
    if (thread_.joinable()) thread_.join();
  }
  return queue_->next_avail();
}

bool QueueWorker::Drain() {
  virtio::Chain chain;
  for (;;) {
    for (;;) {
      auto r = queue_->Pop(&chain);
      if (r == virtio::SplitQueue::PopResult::kEmpty) break;
      if (r == virtio::SplitQueue::PopResult::kBroken) {
        LOG_ERROR("queue %u: the guest corrupted the ring (%s); queue stopped", index_,
                  queue_->broken_reason());
        return false;
      }
      IovecReader in(std::move(chain.readable));
      IovecWriter out(std::move(chain.writable));
      size_t len = handler_.Handle(in, out);
      queue_->PushUsed(chain.head, static_cast<uint32_t>(len));
    }
    if (!queue_->EnableNotifications()) return true;
  }
}

void QueueWorker::Run() {
  // Chains may already be waiting when a ring (re)starts.
  bool broken = !Drain();
  if (queue_->NeedsInterrupt()) call_->Signal();
  pollfd fds[2] = {{stop_fd_.get(), POLLIN, 0}, {kick_fd_, POLLIN, 0}};
  for (;;) {
    // A broken queue is no longer served: only a stop request matters.
    int rc = poll(fds, broken ? 1 : 2, -1);
    if (rc < 0) {
      if (errno == EINTR) continue;
      LOG_ERROR("queue %u: poll failed: %s", index_, strerror(errno));
      return;
    }
    if (fds[0].revents) return;
    if (broken) continue;
    if (fds[1].revents & (POLLERR | POLLNVAL)) {
      LOG_ERROR("queue %u: kick fd failed; queue stopped", index_);
      broken = true;
      continue;
    }
    // The frontend picked the fd: unless it reads like an eventfd (8 bytes
    // when poll says readable), polling it again would spin forever (a pipe
    // at EOF reports POLLHUP, a regular file is always readable).
    eventfd_t v;
    ssize_t n = read(kick_fd_, &v, sizeof(v));
    if (n != sizeof(v) && !(n < 0 && (errno == EAGAIN || errno == EINTR))) {
      LOG_ERROR("queue %u: kick fd is not a working eventfd; queue stopped", index_);
      broken = true;
      continue;
    }
    broken = !Drain();
    if (queue_->NeedsInterrupt()) call_->Signal();
  }
}

}  // namespace hostshare::device
