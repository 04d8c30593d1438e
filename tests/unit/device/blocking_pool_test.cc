// QueueWorker with a BlockingPool: long requests leave the queue thread,
// short ones keep flowing, Stop() waits for the pool, batches are bounded.
#include "device/blocking_pool.h"

#include <gtest/gtest.h>
#include <poll.h>
#include <sys/eventfd.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <future>
#include <mutex>
#include <set>
#include <thread>

#include "device/queue_worker.h"
#include "support/fake_guest_memory.h"
#include "support/fake_virtqueue.h"

namespace hostshare::device {
namespace {

using fake::Bytes;
using fake::FakeGuestMemory;
using fake::FakeVirtqueue;

// Echoes the request. Requests starting with "slow" may block: they wait
// until Release() (bounded, so that a bug fails the test instead of hanging).
class GateHandler : public RequestHandler {
 public:
  size_t Handle(ByteReader& in, ByteWriter& out) override {
    std::vector<uint8_t> buf(in.Available());
    if (!in.Read(buf.data(), buf.size()).ok()) return 0;
    if (buf.size() >= 4 && memcmp(buf.data(), "slow", 4) == 0) {
      ++slow_started;
      std::unique_lock<std::mutex> lock(mu_);
      cv_.wait_for(lock, std::chrono::seconds(10), [this] { return open_; });
    }
    ++calls;
    size_t n = std::min(buf.size(), out.Available());
    if (!out.Write(buf.data(), n).ok()) return 0;
    return out.BytesWritten();
  }
  bool MayBlock(const uint8_t* head, size_t n) override {
    ++asked;
    return n >= 4 && memcmp(head, "slow", 4) == 0;
  }
  void Release() {
    {
      std::lock_guard<std::mutex> lock(mu_);
      open_ = true;
    }
    cv_.notify_all();
  }
  std::atomic<int> calls{0}, asked{0}, slow_started{0};

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  bool open_ = false;
};

class BlockingPoolTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(fmem_.ok());
    ASSERT_TRUE(vq_.ok());
    mem_ = fmem_.Borrowed();
    kick_.reset(eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK));
    call_.reset(eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK));
    notifier_ = std::make_shared<virtio::Notifier>();
    notifier_->Set(ScopedFd(dup(call_.get())));
  }
  void TearDown() override {
    handler_.Release();
    worker_.reset();
  }
  void Start(BlockingPool* pool) {
    auto q = std::make_unique<virtio::SplitQueue>(mem_, vq_.HostLayout(), 0, true, true);
    worker_ = std::make_unique<QueueWorker>(1, std::move(q), kick_.get(), notifier_, handler_,
                                            pool);
  }
  void Kick() { ASSERT_EQ(eventfd_write(kick_.get(), 1), 0); }
  bool WaitUsed(uint16_t n, int timeout_ms = 5000) {
    for (int i = 0; i < timeout_ms; ++i) {
      if (vq_.used_idx() == n) return true;
      usleep(1000);
    }
    return false;
  }

  FakeGuestMemory fmem_;
  FakeVirtqueue vq_{fmem_, 256};
  std::shared_ptr<const virtio::GuestMemory> mem_;
  ScopedFd kick_, call_;
  std::shared_ptr<virtio::Notifier> notifier_;
  GateHandler handler_;
  std::unique_ptr<QueueWorker> worker_;
};

TEST_F(BlockingPoolTest, SlowRequestDoesNotHoldUpFastOnes) {
  BlockingPool pool(2, handler_);
  Start(&pool);
  auto slow = vq_.Chain().Readable("slow-1").Writable(16).Publish();
  auto fast = vq_.Chain().Readable("fast").Writable(16).Publish();
  ASSERT_TRUE(slow && fast);
  Kick();
  ASSERT_TRUE(WaitUsed(1));
  auto d = vq_.TakeUsed();
  ASSERT_TRUE(d);
  EXPECT_EQ(d->head, fast->head);
  EXPECT_EQ(d->reply, Bytes("fast"));
  for (int i = 0; i < 5000 && handler_.slow_started == 0; ++i) usleep(1000);
  EXPECT_EQ(handler_.slow_started, 1);
  EXPECT_EQ(vq_.used_idx(), 1);  // the slow one is still held
  handler_.Release();
  ASSERT_TRUE(WaitUsed(2));
  d = vq_.TakeUsed();
  ASSERT_TRUE(d);
  EXPECT_EQ(d->head, slow->head);
  EXPECT_EQ(d->reply, Bytes("slow-1"));
}

TEST_F(BlockingPoolTest, StopWaitsForRequestsInThePool) {
  BlockingPool pool(1, handler_);
  Start(&pool);
  ASSERT_TRUE(vq_.Chain().Readable("slow").Writable(8).Publish());
  Kick();
  for (int i = 0; i < 5000 && handler_.slow_started == 0; ++i) usleep(1000);
  ASSERT_EQ(handler_.slow_started, 1);
  auto stopped = std::async(std::launch::async, [this] { return worker_->Stop(); });
  EXPECT_EQ(stopped.wait_for(std::chrono::milliseconds(100)), std::future_status::timeout);
  handler_.Release();
  ASSERT_EQ(stopped.wait_for(std::chrono::seconds(5)), std::future_status::ready);
  EXPECT_EQ(stopped.get(), 1);
  EXPECT_EQ(vq_.used_idx(), 1);  // the reply landed before Stop returned
}

TEST_F(BlockingPoolTest, ManyRequestsEachCompleteOnce) {
  handler_.Release();  // nothing blocks for real
  BlockingPool pool(3, handler_);
  Start(&pool);
  std::set<uint16_t> pending;
  constexpr int kRounds = 8, kPerRound = 40;
  for (int round = 0; round < kRounds; ++round) {
    for (int i = 0; i < kPerRound; ++i) {
      auto c = vq_.Chain().Readable(i % 2 ? "slow" : "fast").Writable(8).Publish();
      ASSERT_TRUE(c);
      pending.insert(c->head);
    }
    Kick();
    ASSERT_TRUE(WaitUsed(static_cast<uint16_t>((round + 1) * kPerRound)));
    while (auto d = vq_.TakeUsed()) {
      ASSERT_EQ(pending.erase(d->head), 1u) << "head " << d->head << " returned twice";
      EXPECT_EQ(d->len, 4u);
    }
  }
  EXPECT_TRUE(pending.empty());
  EXPECT_EQ(handler_.calls, kRounds * kPerRound);
}

TEST_F(BlockingPoolTest, WithoutAPoolTheHandlerIsNotAsked) {
  Start(nullptr);
  ASSERT_TRUE(vq_.Chain().Readable("slowish but inline").Writable(32).Publish());
  handler_.Release();
  Kick();
  ASSERT_TRUE(WaitUsed(1));
  EXPECT_EQ(handler_.asked, 0);
}

TEST_F(BlockingPoolTest, LongBatchesArePublishedInSlices) {
  // More chains than kMaxBatch, all ready before the kick: the worker
  // publishes them in slices, so the guest hears about the first ones early.
  handler_.Release();
  Start(nullptr);
  constexpr int kChains = QueueWorker::kMaxBatch + 40;  // two descriptors each: fits 256
  for (int i = 0; i < kChains; ++i) ASSERT_TRUE(vq_.Chain().Readable("x").Writable(1).Publish());
  Kick();
  ASSERT_TRUE(WaitUsed(kChains));
  int n = 0;
  while (vq_.TakeUsed()) ++n;
  EXPECT_EQ(n, kChains);
}

TEST_F(BlockingPoolTest, PoolThreadsStartOnFirstUse) {
  BlockingPool pool(4, handler_);
  EXPECT_EQ(pool.threads(), 4u);
  // Destroying a pool that never ran anything must not hang.
}

}  // namespace
}  // namespace hostshare::device
