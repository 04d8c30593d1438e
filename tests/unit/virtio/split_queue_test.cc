// SplitQueue and MapQueue: the device side of the rings, driven by a fake driver.
#include "virtio/split_queue.h"

#include <gtest/gtest.h>

#include "support/fake_guest_memory.h"
#include "support/fake_virtqueue.h"

namespace hostshare::virtio {
namespace {

using fake::Bytes;
using fake::FakeGuestMemory;
using fake::FakeVirtqueue;
using fake::IndirectTable;

constexpr uint16_t kAvailFNoInterrupt = 1;
constexpr uint16_t kUsedFNoNotify = 1;

class SplitQueueTest : public ::testing::Test {
 protected:
  static constexpr uint32_t kSize = 8;
  void SetUp() override {
    ASSERT_TRUE(fmem_.ok());
    ASSERT_TRUE(vq_.ok());
    mem_ = fmem_.Borrowed();
  }
  std::unique_ptr<SplitQueue> MakeQueue(uint16_t next_avail = 0, bool event_idx = false,
                                        bool indirect = true) {
    return std::make_unique<SplitQueue>(mem_, vq_.HostLayout(), next_avail, event_idx, indirect);
  }
  uint16_t Publish(std::string_view request, uint32_t reply = 16) {
    auto b = vq_.Chain().Readable(request);
    if (reply > 0) b.Writable(reply);
    auto c = b.Publish();
    EXPECT_TRUE(c);
    return c ? c->head : 0xffff;
  }

  FakeGuestMemory fmem_;
  FakeVirtqueue vq_{fmem_, kSize};
  std::shared_ptr<const GuestMemory> mem_;
  Chain chain_;
};

TEST_F(SplitQueueTest, EmptyQueue) {
  auto q = MakeQueue();
  EXPECT_EQ(q->Pop(&chain_), SplitQueue::PopResult::kEmpty);
  EXPECT_EQ(q->next_avail(), 0);
}

TEST_F(SplitQueueTest, PopsInAvailOrder) {
  auto q = MakeQueue();
  // Descriptor indexes and avail order differ on purpose.
  for (uint16_t i : {5, 2, 7}) vq_.WriteDesc(i, Desc{0x1000u + i, 1, 0, 0});
  vq_.PublishHead(5);
  vq_.PublishHead(2);
  vq_.PublishHead(7);
  for (uint16_t want : {5, 2, 7}) {
    ASSERT_EQ(q->Pop(&chain_), SplitQueue::PopResult::kChain);
    EXPECT_EQ(chain_.head, want);
    ASSERT_EQ(chain_.readable.size(), 1u);
    EXPECT_EQ(chain_.readable[0].iov_base, fmem_.Host(0x1000u + want));
  }
  EXPECT_EQ(q->Pop(&chain_), SplitQueue::PopResult::kEmpty);
  EXPECT_EQ(q->next_avail(), 3);
}

TEST_F(SplitQueueTest, ChainContentsReachTheDevice) {
  auto q = MakeQueue();
  uint16_t head = Publish("request bytes", 32);
  ASSERT_EQ(q->Pop(&chain_), SplitQueue::PopResult::kChain);
  EXPECT_EQ(chain_.head, head);
  EXPECT_EQ(chain_.readable_len, 13u);
  EXPECT_EQ(chain_.writable_len, 32u);
}

TEST_F(SplitQueueTest, ResumesFromBaseAcrossIndexWrap) {
  vq_.SetAvailIdx(65534);
  auto q = MakeQueue(/*next_avail=*/65534);
  for (int i = 0; i < 4; ++i) Publish("x");
  EXPECT_EQ(vq_.avail_idx(), 2);
  for (int i = 0; i < 4; ++i) ASSERT_EQ(q->Pop(&chain_), SplitQueue::PopResult::kChain);
  EXPECT_EQ(q->Pop(&chain_), SplitQueue::PopResult::kEmpty);
  EXPECT_EQ(q->next_avail(), 2);
}

TEST_F(SplitQueueTest, AvailIndexMayRunAQueueSizeAhead) {
  auto q = MakeQueue();
  for (uint32_t i = 0; i < kSize; ++i) Publish("x", /*reply=*/0);
  for (uint32_t i = 0; i < kSize; ++i) ASSERT_EQ(q->Pop(&chain_), SplitQueue::PopResult::kChain);
}

TEST_F(SplitQueueTest, AvailIndexJumpBeyondSizeBreaksTheQueue) {
  auto q = MakeQueue();
  vq_.WriteDesc(0, Desc{0x1000, 1, 0, 0});
  vq_.SetAvailIdx(kSize + 1);
  EXPECT_EQ(q->Pop(&chain_), SplitQueue::PopResult::kBroken);
  EXPECT_NE(q->broken_reason(), nullptr);
  EXPECT_EQ(q->next_avail(), 0);
  // Going backwards is a jump of nearly 65536.
  auto q2 = MakeQueue(/*next_avail=*/100);
  vq_.SetAvailIdx(99);
  EXPECT_EQ(q2->Pop(&chain_), SplitQueue::PopResult::kBroken);
}

TEST_F(SplitQueueTest, HeadOutOfRangeBreaksTheQueue) {
  auto q = MakeQueue();
  vq_.SetAvailEntry(0, kSize);
  vq_.SetAvailIdx(1);
  EXPECT_EQ(q->Pop(&chain_), SplitQueue::PopResult::kBroken);
  EXPECT_EQ(q->error(), ChainError::kHeadOutOfRange);
  EXPECT_EQ(q->next_avail(), 0);
  vq_.SetAvailEntry(0, 0xffff);
  EXPECT_EQ(q->Pop(&chain_), SplitQueue::PopResult::kBroken);
}

TEST_F(SplitQueueTest, BadChainBreaksTheQueue) {
  auto q = MakeQueue();
  vq_.WriteDesc(3, Desc{0x1000, 1, kDescFNext, 3});
  vq_.PublishHead(3);
  EXPECT_EQ(q->Pop(&chain_), SplitQueue::PopResult::kBroken);
  EXPECT_EQ(q->error(), ChainError::kTooLong);
  EXPECT_STREQ(q->broken_reason(), ChainErrorName(ChainError::kTooLong));
}

TEST_F(SplitQueueTest, IndirectFollowsNegotiation) {
  auto on = MakeQueue(0, false, /*indirect=*/true);
  auto off = MakeQueue(0, false, /*indirect=*/false);
  ASSERT_TRUE(vq_.Chain().Indirect(IndirectTable().Readable("x").Writable(4)).Publish());
  EXPECT_EQ(on->Pop(&chain_), SplitQueue::PopResult::kChain);
  EXPECT_EQ(off->Pop(&chain_), SplitQueue::PopResult::kBroken);
  EXPECT_EQ(off->error(), ChainError::kIndirectNotNegotiated);
}

TEST_F(SplitQueueTest, PushUsedWritesElementAndIndex) {
  auto q = MakeQueue();
  uint16_t h1 = Publish("a");
  uint16_t h2 = Publish("b");
  ASSERT_EQ(q->Pop(&chain_), SplitQueue::PopResult::kChain);
  ASSERT_EQ(q->Pop(&chain_), SplitQueue::PopResult::kChain);
  q->PushUsed(h2, 7);
  q->PushUsed(h1, 0);
  EXPECT_EQ(vq_.used_idx(), 2);
  EXPECT_EQ(q->used_idx(), 2);
  EXPECT_EQ(vq_.used_elem(0).id, h2);
  EXPECT_EQ(vq_.used_elem(0).len, 7u);
  EXPECT_EQ(vq_.used_elem(1).id, h1);
  EXPECT_EQ(vq_.used_elem(1).len, 0u);
  auto c = vq_.TakeUsed();
  ASSERT_TRUE(c);
  EXPECT_EQ(c->head, h2);
  EXPECT_EQ(c->reply.size(), 7u);
}

TEST_F(SplitQueueTest, UsedRingWrapsAround) {
  auto q = MakeQueue();
  for (uint32_t i = 0; i < 3 * kSize + 3; ++i) {
    uint16_t h = Publish("x", 4);
    ASSERT_EQ(q->Pop(&chain_), SplitQueue::PopResult::kChain);
    q->PushUsed(h, i);
    auto c = vq_.TakeUsed();
    ASSERT_TRUE(c);
    EXPECT_EQ(c->head, h);
    EXPECT_EQ(c->len, i);
  }
  EXPECT_EQ(vq_.used_idx(), 3 * kSize + 3);
}

TEST_F(SplitQueueTest, UsedIndexResumesFromTheRing) {
  // On restart the device continues from where the used ring says.
  fmem_.Store<uint16_t>(vq_.used_gpa() + 2, 40);
  auto q = MakeQueue(40);
  EXPECT_EQ(q->used_idx(), 40);
  vq_.SetAvailIdx(40);
  uint16_t h = Publish("x");
  ASSERT_EQ(q->Pop(&chain_), SplitQueue::PopResult::kChain);
  q->PushUsed(h, 1);
  EXPECT_EQ(vq_.used_idx(), 41);
  EXPECT_EQ(vq_.used_elem(40).id, h);
}

TEST_F(SplitQueueTest, NoInterruptWithoutPushes) {
  auto q = MakeQueue();
  EXPECT_FALSE(q->NeedsInterrupt());
  auto qe = MakeQueue(0, /*event_idx=*/true);
  EXPECT_FALSE(qe->NeedsInterrupt());
}

TEST_F(SplitQueueTest, InterruptWithoutEventIdx) {
  auto q = MakeQueue();
  uint16_t h = Publish("x");
  ASSERT_EQ(q->Pop(&chain_), SplitQueue::PopResult::kChain);
  q->PushUsed(h, 0);
  EXPECT_TRUE(q->NeedsInterrupt());
  EXPECT_FALSE(q->NeedsInterrupt());  // nothing new since
}

TEST_F(SplitQueueTest, NoInterruptFlagWithoutEventIdx) {
  auto q = MakeQueue();
  vq_.SetAvailFlags(kAvailFNoInterrupt);
  uint16_t h = Publish("x");
  ASSERT_EQ(q->Pop(&chain_), SplitQueue::PopResult::kChain);
  q->PushUsed(h, 0);
  EXPECT_FALSE(q->NeedsInterrupt());
  vq_.SetAvailFlags(0);
  EXPECT_FALSE(q->NeedsInterrupt());  // that push was already decided
  h = Publish("y");
  ASSERT_EQ(q->Pop(&chain_), SplitQueue::PopResult::kChain);
  q->PushUsed(h, 0);
  EXPECT_TRUE(q->NeedsInterrupt());
}

TEST_F(SplitQueueTest, EventIdxIgnoresTheNoInterruptFlag) {
  auto q = MakeQueue(0, /*event_idx=*/true);
  vq_.set_auto_used_event(false);
  vq_.SetAvailFlags(kAvailFNoInterrupt);
  vq_.SetUsedEvent(0);
  uint16_t h = Publish("x");
  ASSERT_EQ(q->Pop(&chain_), SplitQueue::PopResult::kChain);
  q->PushUsed(h, 0);
  EXPECT_TRUE(q->NeedsInterrupt());
}

// Pushes n chains (publishing them first) and returns NeedsInterrupt().
class EventIdxTest : public SplitQueueTest {
 protected:
  void SetUp() override {
    SplitQueueTest::SetUp();
    vq_.set_auto_used_event(false);
  }
  bool PushBatch(SplitQueue& q, int n) {
    for (int i = 0; i < n; ++i) {
      uint16_t h = Publish("x", 1);
      EXPECT_EQ(q.Pop(&chain_), SplitQueue::PopResult::kChain);
      q.PushUsed(h, 0);
      vq_.TakeUsed();
    }
    return q.NeedsInterrupt();
  }
};

TEST_F(EventIdxTest, InterruptOnlyWhenUsedEventIsCrossed) {
  auto q = MakeQueue(0, /*event_idx=*/true);
  vq_.SetUsedEvent(0);
  EXPECT_TRUE(PushBatch(*q, 1));   // used 0 -> 1 crosses event 0
  EXPECT_FALSE(PushBatch(*q, 1));  // 1 -> 2: event 0 already passed
  vq_.SetUsedEvent(4);
  EXPECT_FALSE(PushBatch(*q, 2));  // 2 -> 4: event 4 means "after entry 4 is used"
  EXPECT_TRUE(PushBatch(*q, 1));   // 4 -> 5 crosses it
  vq_.SetUsedEvent(6);
  EXPECT_TRUE(PushBatch(*q, 3));   // 5 -> 8: a batch that jumps over the event still signals
  EXPECT_FALSE(PushBatch(*q, 0));
}

TEST_F(EventIdxTest, InterruptAcrossIndexWrap) {
  fmem_.Store<uint16_t>(vq_.used_gpa() + 2, 65534);
  vq_.SetAvailIdx(65534);
  auto q = MakeQueue(65534, /*event_idx=*/true);
  vq_.SetUsedEvent(0);  // the driver wants to hear after entry 0 (65536) is used
  EXPECT_FALSE(PushBatch(*q, 1));  // 65534 -> 65535
  EXPECT_TRUE(PushBatch(*q, 2));   // 65535 -> 1 crosses 0
  vq_.SetUsedEvent(65535);
  EXPECT_FALSE(PushBatch(*q, 1));  // event 65535 is far behind now
}

TEST_F(EventIdxTest, EventBehindOldIndexDoesNotSignal) {
  auto q = MakeQueue(0, /*event_idx=*/true);
  vq_.SetUsedEvent(0);
  EXPECT_TRUE(PushBatch(*q, 3));
  vq_.SetUsedEvent(1);  // stale
  EXPECT_FALSE(PushBatch(*q, 2));
}

TEST_F(SplitQueueTest, EnableNotificationsWithEventIdxPublishesAvailEvent) {
  auto q = MakeQueue(0, /*event_idx=*/true);
  Publish("a");
  Publish("b");
  ASSERT_EQ(q->Pop(&chain_), SplitQueue::PopResult::kChain);
  ASSERT_EQ(q->Pop(&chain_), SplitQueue::PopResult::kChain);
  EXPECT_FALSE(q->EnableNotifications());
  EXPECT_EQ(vq_.avail_event(), 2);
  EXPECT_EQ(vq_.used_flags(), 0);
}

TEST_F(SplitQueueTest, EnableNotificationsReportsRace) {
  auto q = MakeQueue(0, /*event_idx=*/true);
  Publish("a");
  // The device has not popped "a": re-arming must say "pop again".
  EXPECT_TRUE(q->EnableNotifications());
  EXPECT_EQ(vq_.avail_event(), 0);
  ASSERT_EQ(q->Pop(&chain_), SplitQueue::PopResult::kChain);
  EXPECT_FALSE(q->EnableNotifications());
  EXPECT_EQ(vq_.avail_event(), 1);
}

TEST_F(SplitQueueTest, EnableNotificationsWithoutEventIdxClearsNoNotify) {
  fmem_.Store<uint16_t>(vq_.used_gpa(), kUsedFNoNotify | 0x8000);
  auto q = MakeQueue(0, /*event_idx=*/false);
  EXPECT_FALSE(q->EnableNotifications());
  EXPECT_EQ(vq_.used_flags(), 0x8000);  // other bits untouched
  EXPECT_EQ(vq_.avail_event(), 0);      // not written without EVENT_IDX
  Publish("a");
  EXPECT_TRUE(q->EnableNotifications());
}

// ---- MapQueue --------------------------------------------------------------------

class MapQueueTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(fmem_.ok());
    mem_ = fmem_.Borrowed();
  }
  Status Map(uint32_t size, uint64_t desc_gpa, uint64_t avail_gpa, uint64_t used_gpa) {
    return MapQueue(*mem_, size, fmem_.ToUva(desc_gpa), fmem_.ToUva(avail_gpa),
                    fmem_.ToUva(used_gpa), &layout_);
  }
  FakeGuestMemory fmem_;
  std::shared_ptr<const GuestMemory> mem_;
  QueueLayout layout_;
};

TEST_F(MapQueueTest, MapsRingsToHostPointers) {
  constexpr uint64_t B = FakeGuestMemory::kRegionB;
  ASSERT_TRUE(Map(256, B, B + 0x1000, B + 0x2000).ok());
  EXPECT_EQ(layout_.size, 256u);
  EXPECT_EQ(static_cast<void*>(layout_.desc), fmem_.Host(B));
  EXPECT_EQ(layout_.avail, fmem_.Host(B + 0x1000));
  EXPECT_EQ(layout_.used, fmem_.Host(B + 0x2000));
}

TEST_F(MapQueueTest, RejectsBadSizes) {
  constexpr uint64_t B = FakeGuestMemory::kRegionB;
  EXPECT_EQ(Map(0, B, B + 0x1000, B + 0x2000).error(), EINVAL);
  EXPECT_EQ(Map(100, B, B + 0x1000, B + 0x2000).error(), EINVAL);
  EXPECT_EQ(Map(65536, B, B + 0x1000, B + 0x2000).error(), EINVAL);
  EXPECT_TRUE(Map(32768, FakeGuestMemory::kRegionA, B, FakeGuestMemory::kRegionC).ok());
}

TEST_F(MapQueueTest, RejectsMisalignedRings) {
  constexpr uint64_t B = FakeGuestMemory::kRegionB;
  EXPECT_EQ(Map(8, B + 8, B + 0x1000, B + 0x2000).error(), EINVAL);
  EXPECT_EQ(Map(8, B, B + 0x1001, B + 0x2000).error(), EINVAL);
  EXPECT_EQ(Map(8, B, B + 0x1000, B + 0x2002).error(), EINVAL);
}

TEST_F(MapQueueTest, RejectsRingsOutsideOrAcrossRegions) {
  constexpr uint64_t B = FakeGuestMemory::kRegionB;
  constexpr uint64_t C = FakeGuestMemory::kRegionC;
  // A ring straddling B|C is contiguous in guest space but not on the host.
  EXPECT_EQ(Map(8, C - 64, B, B + 0x1000).error(), EFAULT);
  EXPECT_EQ(Map(8, B, C - 10, B + 0x1000).error(), EFAULT);
  EXPECT_EQ(Map(8, B, B + 0x1000, C - 40).error(), EFAULT);
  // Unmapped user addresses.
  EXPECT_EQ(MapQueue(*mem_, 8, 0x1000, 0x2000, 0x3000, &layout_).error(), EFAULT);
  EXPECT_EQ(MapQueue(*mem_, 8, 0xffff'ffff'ffff'fff0, fmem_.ToUva(B), fmem_.ToUva(B + 0x100),
                     &layout_)
                .error(),
            EFAULT);
}

}  // namespace
}  // namespace hostshare::virtio
