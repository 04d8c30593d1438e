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

  void Start(uint16_t base = 0, bool event_idx = true, bool indirect = true,
             WorkerTuning tuning = {}, RequestHandler* handler = nullptr) {
    auto q = std::make_unique<virtio::SplitQueue>(mem_, vq_.HostLayout(), base, event_idx,
                                                  indirect);
    worker_ = std::make_unique<QueueWorker>(1, std::move(q), kick_.get(), notifier_,
                                            handler != nullptr ? *handler : handler_, nullptr,
                                            tuning);
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

  // `n` kicked requests, each `gap_ms` after the previous reply. Each one
  // the worker sleeps for and is woken within its poll limit doubles its
  // poll window (PollTuner), until the window covers the gap.
  void ServeKickedRequests(int n, int gap_ms) {
    const uint16_t base = vq_.used_idx();
    for (int i = 1; i <= n; ++i) {
      usleep(gap_ms * 1000);
      ASSERT_TRUE(vq_.Chain().Readable("k").Writable(1).Publish());
      Kick();
      ASSERT_TRUE(WaitUsed(static_cast<uint16_t>(base + i)));
    }
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

// Involuntary context switch counters for ContentionMonitor: a thread that
// is never preempted, and one that is preempted between any two checks.
long NeverPreempted() { return 7; }
std::atomic<long> g_preemptions{0};
long AlwaysPreempted() { return ++g_preemptions; }

// Records, for each request, how many replies the guest could already see.
class UsedIdxProbe : public EchoHandler {
 public:
  explicit UsedIdxProbe(FakeVirtqueue& vq) : vq_(vq) {}
  size_t Handle(ByteReader& in, ByteWriter& out) override {
    seen.push_back(vq_.used_idx());
    return EchoHandler::Handle(in, out);
  }
  std::vector<uint16_t> seen;  // read after the worker stopped

 private:
  FakeVirtqueue& vq_;
};

// With a CPU to itself the worker publishes each reply as soon as it is
// written: the guest can reap the first ones while later ones still run.
TEST_F(QueueWorkerTest, UncontendedRepliesArePublishedOneByOne) {
  UsedIdxProbe probe(vq_);
  for (int i = 0; i < 6; ++i) ASSERT_TRUE(vq_.Chain().Readable("r").Writable(1).Publish());
  Start(0, true, true, WorkerTuning{0, NeverPreempted}, &probe);
  ASSERT_TRUE(WaitUsed(6));
  worker_->Stop();
  EXPECT_EQ(probe.seen, (std::vector<uint16_t>{0, 1, 2, 3, 4, 5}));
  EXPECT_EQ(WaitCall(), 1u);  // the guest never reaped: one interrupt was enough
}

// A preempted worker publishes a pass over the ring with one index store.
TEST_F(QueueWorkerTest, ContendedRepliesArePublishedPerBatch) {
  UsedIdxProbe probe(vq_);
  for (int i = 0; i < 6; ++i) ASSERT_TRUE(vq_.Chain().Readable("r").Writable(1).Publish());
  // The first check is only a baseline: start contended from the second.
  Start(0, true, true, WorkerTuning{0, AlwaysPreempted}, &probe);
  ASSERT_TRUE(WaitUsed(6));
  ASSERT_EQ(WaitCall(), 1u);
  for (int round = 1; round <= 2; ++round) {
    // Let the monitor's check interval pass so that it looks again.
    usleep(2 * ContentionMonitor::kCheckNs / 1000);
    for (int i = 0; i < 6; ++i) ASSERT_TRUE(vq_.Chain().Readable("r").Writable(1).Publish());
    Kick();
    ASSERT_TRUE(WaitUsed(static_cast<uint16_t>(6 + 6 * round)));
  }
  worker_->Stop();
  ASSERT_EQ(probe.seen.size(), 18u);
  // The last pass ran contended: none of its replies was visible before the
  // pass ended.
  for (size_t i = 12; i < 18; ++i) EXPECT_EQ(probe.seen[i], 12) << "request " << i;
}

// In latency mode the guest is interrupted once a quarter of what it waits
// for is ready, not only when the whole pass is done.
TEST_F(QueueWorkerTest, UncontendedInterruptComesBeforeThePassEnds) {
  class Gate : public EchoHandler {
   public:
    size_t Handle(ByteReader& in, ByteWriter& out) override {
      if (calls == 4) {
        // Hold the fifth request until the test saw an interrupt.
        for (int i = 0; i < 5000 && !open.load(); ++i) usleep(1000);
      }
      return EchoHandler::Handle(in, out);
    }
    std::atomic<bool> open{false};
  } gate;
  for (int i = 0; i < 8; ++i) ASSERT_TRUE(vq_.Chain().Readable("g").Writable(1).Publish());
  Start(0, true, true, WorkerTuning{0, NeverPreempted}, &gate);
  bool early = WaitReadable(call_.get(), 3000);
  uint16_t used_at_interrupt = vq_.used_idx();
  gate.open = true;
  EXPECT_TRUE(early) << "no interrupt while the pass was held";
  EXPECT_GE(used_at_interrupt, 2);
  EXPECT_LE(used_at_interrupt, 4);
  ASSERT_TRUE(WaitUsed(8));
  worker_->Stop();
}

// An idle worker that polls serves a chain the guest published without a
// kick (kicks stay suppressed while it polls); one that does not poll,
// only after a kick.
TEST_F(QueueWorkerTest, PollingServesUnkickedChains) {
  Start(0, true, true, WorkerTuning{1'000'000'000, NeverPreempted});
  // 4 us doubled 15 times is 131 ms: more than the 40 ms gap.
  ASSERT_NO_FATAL_FAILURE(ServeKickedRequests(16, 40));
  ASSERT_TRUE(vq_.Chain().Readable("p").Writable(1).Publish());  // no kick
  EXPECT_TRUE(WaitUsed(17, 40));
  // Stopping does not wait for the window to run out.
  ASSERT_TRUE(vq_.Chain().Readable("k").Writable(1).Publish());
  Kick();
  ASSERT_TRUE(WaitUsed(18));
  auto t0 = std::chrono::steady_clock::now();
  EXPECT_EQ(worker_->Stop(), 18);
  EXPECT_LT(std::chrono::steady_clock::now() - t0, std::chrono::milliseconds(30));
}

TEST_F(QueueWorkerTest, WithoutPollingUnkickedChainsWait) {
  Start(0, true, true, WorkerTuning{0, NeverPreempted});
  ASSERT_NO_FATAL_FAILURE(ServeKickedRequests(16, 2));
  ASSERT_TRUE(vq_.Chain().Readable("p").Writable(1).Publish());  // no kick
  EXPECT_FALSE(WaitUsed(17, 200));
  Kick();
  EXPECT_TRUE(WaitUsed(17));
  worker_->Stop();
}

// A worker that is preempted does not poll.
TEST_F(QueueWorkerTest, ContendedWorkerDoesNotPoll) {
  Start(0, true, true, WorkerTuning{1'000'000'000, AlwaysPreempted});
  ASSERT_NO_FATAL_FAILURE(ServeKickedRequests(16, 40));
  ASSERT_TRUE(vq_.Chain().Readable("p").Writable(1).Publish());  // no kick
  EXPECT_FALSE(WaitUsed(17, 200));
  Kick();
  EXPECT_TRUE(WaitUsed(17));
  worker_->Stop();
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
