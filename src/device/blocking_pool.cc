#include "device/blocking_pool.h"

#include "base/iovec_io.h"

namespace hostshare::device {

BlockingPool::BlockingPool(uint32_t threads, RequestHandler& handler)
    : nthreads_(threads), handler_(handler) {}

BlockingPool::~BlockingPool() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stopping_ = true;
  }
  cv_.notify_all();
  for (auto& t : threads_) t.join();
}

void BlockingPool::Submit(PoolJob* job) {
  job->next = nullptr;
  bool wake;
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (threads_.empty()) {
      threads_.reserve(nthreads_);
      for (uint32_t i = 0; i < nthreads_; ++i) threads_.emplace_back([this] { Run(); });
    }
    if (tail_ != nullptr) {
      tail_->next = job;
    } else {
      head_ = job;
    }
    tail_ = job;
    wake = idle_ > 0;
  }
  if (wake) cv_.notify_one();
}

void BlockingPool::Run() {
  // Reused for every job this thread serves: no allocation per request.
  IovecReader in;
  IovecWriter out;
  std::unique_lock<std::mutex> lock(mu_);
  for (;;) {
    while (head_ == nullptr && !stopping_) {
      ++idle_;
      cv_.wait(lock);
      --idle_;
    }
    if (head_ == nullptr) return;  // stopping, and nothing left
    PoolJob* job = head_;
    head_ = job->next;
    if (head_ == nullptr) tail_ = nullptr;
    lock.unlock();
    in.Reset(job->chain.readable.data(), job->chain.readable.size());
    out.Reset(job->chain.writable.data(), job->chain.writable.size());
    size_t len = handler_.Handle(in, out);
    job->client->Done(job, len);
    lock.lock();
  }
}

}  // namespace hostshare::device
