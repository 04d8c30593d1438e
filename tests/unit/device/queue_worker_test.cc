// QueueWorker: one thread per virtqueue, driven through a fake driver.
#include "device/queue_worker.h"

#include <gtest/gtest.h>
#include <poll.h>
#include <fcntl.h>
#include <sys/eventfd.h>
#include <sys/mman.h>

#include <time.h>

#include <atomic>
#include <thread>

#include "support/fake_guest_memory.h"
#include "support/fake_virtqueue.h"

namespace hostshare::device {
namespace {

using fake::Bytes;
using fake::FakeGuestMemory;
using fake::FakeVirtqueue;
using fake::IndirectTable;
using virtio::Desc;

// Reply = the request bytes (as many as fit).
class EchoHandler : public RequestHandler {
 public:
  size_t Handle(ByteReader& in, ByteWriter& out) override {
    ++calls;
    std::vector<uint8_t> buf(in.Available());
    if (!in.Read(buf.data(), buf.size()).ok()) return 0;
    size_t n = std::min(buf.size(), out.Available());
    if (!out.Write(buf.data(), n).ok()) return 0;
    return out.BytesWritten();
  }
  std::atomic<int> calls{0};
};

uint64_t ReadCount(int efd) {
  eventfd_t v = 0;
  if (eventfd_read(efd, &v) != 0) return 0;
  return v;
}

bool WaitReadable(int fd, int timeout_ms) {
  pollfd p{fd, POLLIN, 0};
  return poll(&p, 1, timeout_ms) > 0;
}

class QueueWorkerTest : public ::testing::Test {
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
  void TearDown() override { worker_.reset(); }

  void Start(uint16_t base = 0, bool event_idx = true, bool indirect = true) {
    auto q = std::make_unique<virtio::SplitQueue>(mem_, vq_.HostLayout(), base, event_idx,
                                                  indirect);
    worker_ = std::make_unique<QueueWorker>(1, std::move(q), kick_.get(), notifier_, handler_);
  }
  void Kick() { ASSERT_EQ(eventfd_write(kick_.get(), 1), 0); }
  // Waits for one interrupt; returns the eventfd count (signals since last read).
  uint64_t WaitCall(int timeout_ms = 5000) {
    if (!WaitReadable(call_.get(), timeout_ms)) return 0;
    return ReadCount(call_.get());
  }
  // Waits until the device has returned `n` chains in total.
  bool WaitUsed(uint16_t n, int timeout_ms = 5000) {
    for (int i = 0; i < timeout_ms; ++i) {
      if (vq_.used_idx() == n) return true;
      usleep(1000);
    }
    return false;
  }

  FakeGuestMemory fmem_;
  FakeVirtqueue vq_{fmem_, 64};
  std::shared_ptr<const virtio::GuestMemory> mem_;
  ScopedFd kick_, call_;
  std::shared_ptr<virtio::Notifier> notifier_;
  EchoHandler handler_;
  std::unique_ptr<QueueWorker> worker_;
};

TEST_F(QueueWorkerTest, EchoesOneRequest) {
  Start();
  auto c = vq_.Chain().Readable("hello").Writable(16).Publish();
  ASSERT_TRUE(c);
  Kick();
  EXPECT_EQ(WaitCall(), 1u);
  auto done = vq_.TakeUsed();
  ASSERT_TRUE(done);
  EXPECT_EQ(done->head, c->head);
  EXPECT_EQ(done->len, 5u);
  EXPECT_EQ(done->reply, Bytes("hello"));
}

TEST_F(QueueWorkerTest, ScatteredRequestAndReplyAcrossRegions) {
  constexpr uint64_t C = FakeGuestMemory::kRegionC;
  ASSERT_TRUE(fmem_.Reserve(C - 3, 6));
  ASSERT_TRUE(fmem_.Write(C - 3, Bytes("abcdef")));
  ASSERT_TRUE(fmem_.Reserve(C - 0x100 - 2, 8));
  Start();
  auto c = vq_.Chain()
               .Readable("01")
               .ReadableAt(C - 3, 6)  // straddles B|C
               .Writable(3)
               .WritableAt(C - 0x100 - 2, 8)
               .Publish();
  ASSERT_TRUE(c);
  Kick();
  EXPECT_EQ(WaitCall(), 1u);
  auto done = vq_.TakeUsed();
  ASSERT_TRUE(done);
  EXPECT_EQ(done->len, 8u);
  EXPECT_EQ(done->reply, Bytes("01abcdef"));
}

TEST_F(QueueWorkerTest, IndirectChain) {
  Start();
  auto c = vq_.Chain().Indirect(IndirectTable().Readable("ind").Readable("irect").Writable(32))
               .Publish();
  ASSERT_TRUE(c);
  Kick();
  EXPECT_EQ(WaitCall(), 1u);
  auto done = vq_.TakeUsed();
  ASSERT_TRUE(done);
  EXPECT_EQ(done->reply, Bytes("indirect"));
}

TEST_F(QueueWorkerTest, ChainsWaitingAtStartAreServed) {
  for (int i = 0; i < 3; ++i) ASSERT_TRUE(vq_.Chain().Readable("x").Writable(1).Publish());
  Start();  // no kick: the worker drains what is there
  EXPECT_EQ(WaitCall(), 1u);  // one interrupt for the batch
  EXPECT_TRUE(WaitUsed(3));
  EXPECT_EQ(handler_.calls, 3);
}

TEST_F(QueueWorkerTest, OneInterruptPerBatch) {
  for (int round = 0; round < 3; ++round) {
    // Each batch is complete before the worker can see it: the first one
    // before it starts, the others before the kick.
    for (int i = 0; i < 5; ++i) ASSERT_TRUE(vq_.Chain().Readable("abc").Writable(8).Publish());
    if (round == 0) {
      Start();
    } else {
      Kick();
    }
    EXPECT_EQ(WaitCall(), 1u) << "round " << round;
    EXPECT_TRUE(WaitUsed(static_cast<uint16_t>(5 * (round + 1))));
    for (int i = 0; i < 5; ++i) {
      auto d = vq_.TakeUsed();
      ASSERT_TRUE(d);
      EXPECT_EQ(d->reply, Bytes("abc"));
    }
  }
  EXPECT_FALSE(WaitReadable(call_.get(), 50));  // no stray interrupts
}

TEST_F(QueueWorkerTest, EventIdxSuppressesInterrupts) {
  vq_.set_auto_used_event(false);
  vq_.SetUsedEvent(10);  // "interrupt me once entry 10 is used"
  Start(0, /*event_idx=*/true);
  ASSERT_TRUE(vq_.Chain().Readable("a").Writable(1).Publish());
  Kick();
  EXPECT_TRUE(WaitUsed(1));
  EXPECT_FALSE(WaitReadable(call_.get(), 100));
  // The worker re-armed kicks through avail_event.
  EXPECT_EQ(vq_.avail_event(), 1);
}

TEST_F(QueueWorkerTest, NoInterruptFlagWithoutEventIdx) {
  vq_.SetAvailFlags(1);  // VRING_AVAIL_F_NO_INTERRUPT
  Start(0, /*event_idx=*/false);
  ASSERT_TRUE(vq_.Chain().Readable("a").Writable(1).Publish());
  Kick();
  EXPECT_TRUE(WaitUsed(1));
  EXPECT_FALSE(WaitReadable(call_.get(), 100));
}

TEST_F(QueueWorkerTest, NoReplyBufferMeansZeroLength) {
  Start();
  auto c = vq_.Chain().Readable("forget me").Publish();
  ASSERT_TRUE(c);
  Kick();
  EXPECT_EQ(WaitCall(), 1u);
  auto d = vq_.TakeUsed();
  ASSERT_TRUE(d);
  EXPECT_EQ(d->len, 0u);
}

TEST_F(QueueWorkerTest, StopReturnsTheNextAvailIndex) {
  Start(/*base=*/0);
  for (int i = 0; i < 4; ++i) ASSERT_TRUE(vq_.Chain().Readable("x").Writable(1).Publish());
  Kick();
  ASSERT_TRUE(WaitUsed(4));
  EXPECT_EQ(worker_->Stop(), 4);
  EXPECT_EQ(worker_->Stop(), 4);  // idempotent
}

TEST_F(QueueWorkerTest, StopWhileIdleIsPrompt) {
  Start();
  auto t0 = std::chrono::steady_clock::now();
  EXPECT_EQ(worker_->Stop(), 0);
  EXPECT_LT(std::chrono::steady_clock::now() - t0, std::chrono::seconds(2));
}

TEST_F(QueueWorkerTest, ResumesFromBase) {
  vq_.SetAvailIdx(100);
  fmem_.Store<uint16_t>(vq_.used_gpa() + 2, 100);
  Start(/*base=*/100);
  auto c = vq_.Chain().Readable("late").Writable(8).Publish();
  ASSERT_TRUE(c);
  Kick();
  ASSERT_TRUE(WaitUsed(101));
  EXPECT_EQ(vq_.used_elem(100).id, c->head);
  EXPECT_EQ(worker_->Stop(), 101);
}

TEST_F(QueueWorkerTest, HostileChainStopsTheQueueNotTheProcess) {
  // Two good chains, then a self-loop, then another good one (all there
  // before the worker starts, so that they are one batch).
  ASSERT_TRUE(vq_.Chain().Readable("a").Writable(1).Publish());
  ASSERT_TRUE(vq_.Chain().Readable("b").Writable(1).Publish());
  auto bad = vq_.AllocDesc();
  ASSERT_TRUE(bad);
  vq_.WriteDesc(*bad, Desc{0x1000, 1, virtio::kDescFNext, *bad});
  vq_.PublishHead(*bad);
  ASSERT_TRUE(vq_.Chain().Readable("c").Writable(1).Publish());
  Start();
  EXPECT_TRUE(WaitUsed(2));
  EXPECT_EQ(WaitCall(), 1u);  // the good ones were still returned and signalled
  // Nothing after the bad chain is served, however often the guest kicks.
  Kick();
  Kick();
  usleep(100 * 1000);
  EXPECT_EQ(vq_.used_idx(), 2);
  EXPECT_EQ(handler_.calls, 2);
  EXPECT_FALSE(WaitReadable(call_.get(), 0));
  // The session can still stop it and learn where it broke.
  EXPECT_EQ(worker_->Stop(), 2);
}

TEST_F(QueueWorkerTest, HostileAvailIndexStopsTheQueue) {
  Start();
  vq_.SetAvailIdx(1000);
  Kick();
  usleep(100 * 1000);
  EXPECT_EQ(handler_.calls, 0);
  EXPECT_EQ(worker_->Stop(), 0);
}

TEST_F(QueueWorkerTest, HostileBufferOutsideMemory) {
  Start();
  ASSERT_TRUE(vq_.Chain().Readable("x").WritableAt(FakeGuestMemory::kGapStart, 16).Publish());
  Kick();
  usleep(100 * 1000);
  EXPECT_EQ(handler_.calls, 0);
  EXPECT_EQ(vq_.used_idx(), 0);
  EXPECT_EQ(worker_->Stop(), 0);
}

TEST_F(QueueWorkerTest, CallFdSwappedWhileRunning) {
  Start();
  ScopedFd call2(eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK));
  notifier_->Set(ScopedFd(dup(call2.get())));
  ASSERT_TRUE(vq_.Chain().Readable("x").Writable(1).Publish());
  Kick();
  EXPECT_TRUE(WaitReadable(call2.get(), 5000));
  EXPECT_EQ(ReadCount(call2.get()), 1u);
  EXPECT_FALSE(WaitReadable(call_.get(), 0));
  // Dropping the call fd drops interrupts, nothing else.
  notifier_->Set(ScopedFd());
  ASSERT_TRUE(vq_.Chain().Readable("y").Writable(1).Publish());
  Kick();
  EXPECT_TRUE(WaitUsed(2));
}

// CPU time this process used during `ms` milliseconds of the test sleeping.
double CpuMsWhileSleeping(int ms) {
  timespec a, b;
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &a);
  usleep(ms * 1000);
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &b);
  return (b.tv_sec - a.tv_sec) * 1e3 + (b.tv_nsec - a.tv_nsec) / 1e6;
}

// The frontend chooses the kick fd. One that is not an eventfd must not
// make the worker spin: a pipe whose writer is gone polls POLLHUP forever
// and reads 0 bytes; a regular file is always readable.
TEST_F(QueueWorkerTest, KickFdAtEofDoesNotSpin) {
  int p[2];
  ASSERT_EQ(pipe2(p, O_CLOEXEC | O_NONBLOCK), 0);
  close(p[1]);
  kick_.reset(p[0]);
  Start();
  double cpu = CpuMsWhileSleeping(300);
  EXPECT_LT(cpu, 100.0) << "the worker spins on a dead kick fd";
  EXPECT_EQ(worker_->Stop(), 0);
}

TEST_F(QueueWorkerTest, KickFdThatIsARegularFileDoesNotSpin) {
  kick_.reset(memfd_create("not-an-eventfd", MFD_CLOEXEC));
  ASSERT_TRUE(kick_.valid());
  ASSERT_EQ(write(kick_.get(), "0123456789abcdef", 16), 16);
  lseek(kick_.get(), 0, SEEK_SET);
  Start();
  double cpu = CpuMsWhileSleeping(300);
  EXPECT_LT(cpu, 100.0) << "the worker spins on an always-readable kick fd";
  EXPECT_EQ(worker_->Stop(), 0);
}

}  // namespace
}  // namespace hostshare::device
