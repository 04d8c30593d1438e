#include "device/queue_worker.h"

#include <poll.h>
#include <sys/eventfd.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <cstring>

#include "base/log.h"

namespace hostshare::device {
namespace {

// Bytes of a request the handler gets to see to decide whether it may block
// (fuse_in_header + the start of the body, e.g. fuse_read_in.size).
constexpr size_t kPeekBytes = 96;

// Copies the first bytes of the chain's readable part.
size_t PeekRequest(const virtio::Chain& chain, uint8_t* buf, size_t cap) {
  size_t n = 0;
  for (const iovec& v : chain.readable) {
    size_t take = std::min(v.iov_len, cap - n);
    memcpy(buf + n, v.iov_base, take);
    n += take;
    if (n == cap) break;
  }
  return n;
}

uint64_t MonotonicNs() {
  timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return static_cast<uint64_t>(ts.tv_sec) * 1000000000ull + static_cast<uint64_t>(ts.tv_nsec);
}

// Tells the CPU this is a spin loop (saves power, yields to an SMT sibling).
inline void CpuRelax() {
#if defined(__x86_64__) || defined(__i386__)
  __builtin_ia32_pause();
#elif defined(__aarch64__)
  asm volatile("yield");
#endif
}

}  // namespace

QueueWorker::QueueWorker(uint32_t index, std::unique_ptr<virtio::SplitQueue> queue, int kick_fd,
                         std::shared_ptr<virtio::Notifier> call, RequestHandler& handler,
                         BlockingPool* pool, WorkerTuning tuning)
    : index_(index),
      queue_(std::move(queue)),
      kick_fd_(kick_fd),
      call_(std::move(call)),
      handler_(handler),
      pool_(pool),
      stop_fd_(eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK)),
      contention_(tuning.switch_counter),
      poll_(tuning.poll_max_ns) {
  batch_.reserve(kMaxBatch);
  thread_ = std::thread([this] { Run(); });
}

QueueWorker::~QueueWorker() { Stop(); }

uint16_t QueueWorker::Stop() {
  if (!stopped_) {
    stopped_ = true;
    stop_requested_.store(true, std::memory_order_relaxed);
    (void)eventfd_write(stop_fd_.get(), 1);
    if (thread_.joinable()) thread_.join();
    // Requests in the pool still write into guest memory and the used ring:
    // the index we report must cover them (vhost-user GET_VRING_BASE).
    std::unique_lock<std::mutex> lock(used_mu_);
    idle_cv_.wait(lock, [this] { return in_pool_ == 0; });
  }
  return queue_->next_avail();
}

void QueueWorker::Serve() {
  if (pool_ != nullptr) {
    uint8_t head[kPeekBytes];
    size_t n = PeekRequest(chain_, head, sizeof head);
    if (handler_.MayBlock(head, n)) {
      PoolJob* job;
      {
        std::lock_guard<std::mutex> lock(used_mu_);
        job = free_jobs_;
        if (job != nullptr) free_jobs_ = job->next;
        ++in_pool_;
      }
      if (job == nullptr) {
        jobs_.push_back(std::make_unique<PoolJob>());
        job = jobs_.back().get();
        job->client = this;
      }
      // Swap, not copy: both sides keep their vectors' capacity.
      std::swap(job->chain, chain_);
      pool_->Submit(job);
      return;
    }
  }
  in_.Reset(chain_.readable.data(), chain_.readable.size());
  out_.Reset(chain_.writable.data(), chain_.writable.size());
  size_t len = handler_.Handle(in_, out_);
  Complete(chain_.head, static_cast<uint32_t>(len));
}

void QueueWorker::Complete(uint16_t head, uint32_t len) {
  if (!latency_mode_) {
    batch_.push_back({head, len});  // ServeAvailable flushes every kMaxBatch
    return;
  }
  virtio::SplitQueue::Backlog b{};
  WithUsedRing([&] {
    queue_->PushUsed(head, len);
    // Read with the index it is computed from (a pool thread moves it).
    if (queue_->event_idx()) b = queue_->GuestBacklog();
  });
  if (queue_->event_idx()) {
    // The guest's used_event says what it has reaped: interrupt once a
    // quarter of what it waits for is ready (not at the first reply: a
    // guest that wakes fast would then reap one reply per interrupt).
    if (b.ready > 0 && uint32_t{b.ready} * kEarlyFraction >= b.waiting) SignalIfWanted();
    return;
  }
  // Without EVENT_IDX every interrupt the guest allows is taken: only the
  // first of a pass is sent here, the rest wait for the end of the pass.
  if (!signalled_this_pass_) signalled_this_pass_ = SignalIfWanted();
}

void QueueWorker::Flush() {
  if (!batch_.empty()) {
    WithUsedRing([&] {
      for (const Completed& c : batch_) queue_->AddUsed(c.head, c.len);
      queue_->PublishUsed();
    });
    batch_.clear();
  }
  SignalIfWanted();
}

bool QueueWorker::SignalIfWanted() {
  bool signal = false;
  WithUsedRing([&] { signal = queue_->NeedsInterrupt(); });
  if (signal) call_->Signal();
  return signal;
}

void QueueWorker::Done(PoolJob* job, size_t len) {
  // Once in_pool_ may reach 0, Stop() can return and the worker be
  // destroyed: after unlocking, touch nothing of `this`.
  std::shared_ptr<virtio::Notifier> call;
  {
    std::lock_guard<std::mutex> lock(used_mu_);
    queue_->AddUsed(job->chain.head, static_cast<uint32_t>(len));
    queue_->PublishUsed();
    if (queue_->NeedsInterrupt()) call = call_;
    job->next = free_jobs_;
    free_jobs_ = job;
    if (--in_pool_ == 0) idle_cv_.notify_all();
  }
  if (call) call->Signal();
}

bool QueueWorker::ServeAvailable() {
  for (uint32_t n = 0;; ++n) {
    if (n == kMaxBatch) {
      // A guest that keeps the ring full never ends the pass: publish what
      // is batched and look at the CPU again.
      Flush();
      latency_mode_ = !contention_.Contended(MonotonicNs());
      n = 0;
    }
    auto r = queue_->Pop(&chain_);
    if (r == virtio::SplitQueue::PopResult::kEmpty) return true;
    if (r == virtio::SplitQueue::PopResult::kBroken) {
      LOG_ERROR("queue %u: the guest corrupted the ring (%s); queue stopped", index_,
                queue_->broken_reason());
      return false;
    }
    Serve();
  }
}

bool QueueWorker::PollForMore() {
  const uint64_t window = poll_.window_ns();
  if (window == 0) return false;
  for (;;) {
    // A few ring reads between clock reads: the clock costs more than a read.
    for (int i = 0; i < 32; ++i) {
      if (queue_->HasAvailable()) {
        poll_.Update(MonotonicNs() - empty_since_ns_);
        return true;
      }
      CpuRelax();
    }
    if (MonotonicNs() - empty_since_ns_ >= window) return false;
    // Stop() must not wait for the window (the poll() that follows sees it).
    if (stop_requested_.load(std::memory_order_relaxed)) return false;
  }
}

bool QueueWorker::Drain() {
  queue_->DisableNotifications();
  for (;;) {
    latency_mode_ = !contention_.Contended(MonotonicNs());
    signalled_this_pass_ = false;
    bool ok = ServeAvailable();
    // The batch (throughput mode), and the end-of-pass interrupt for what
    // completed after a mid-pass one (latency mode).
    Flush();
    if (!ok) return false;
    empty_since_ns_ = MonotonicNs();
    // Kicks stay suppressed while polling: the guest need not kick.
    if (latency_mode_ && PollForMore()) continue;
    if (!queue_->EnableNotifications()) return true;
    queue_->DisableNotifications();
  }
}

void QueueWorker::Run() {
  // Chains may already be waiting when a ring (re)starts.
  bool broken = !Drain();
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
    if (latency_mode_) poll_.Update(MonotonicNs() - empty_since_ns_);
    broken = !Drain();
  }
}

}  // namespace hostshare::device
