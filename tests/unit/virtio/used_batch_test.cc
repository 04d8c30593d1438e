// SplitQueue used-ring batching (AddUsed / PublishUsed) and kick
// suppression while draining (DisableNotifications).
#include <gtest/gtest.h>

#include "support/fake_guest_memory.h"
#include "support/fake_virtqueue.h"
#include "virtio/split_queue.h"

namespace hostshare::virtio {
namespace {

using fake::FakeGuestMemory;
using fake::FakeVirtqueue;

constexpr uint16_t kUsedFNoNotify = 1;

class UsedBatchTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(fmem_.ok());
    ASSERT_TRUE(vq_.ok());
    mem_ = fmem_.Borrowed();
  }
  std::unique_ptr<SplitQueue> MakeQueue(bool event_idx) {
    return std::make_unique<SplitQueue>(mem_, vq_.HostLayout(), 0, event_idx, true);
  }
  // Publishes n chains and pops them all.
  std::vector<uint16_t> PopN(SplitQueue& q, int n) {
    std::vector<uint16_t> heads;
    for (int i = 0; i < n; ++i) EXPECT_TRUE(vq_.Chain().Readable("r").Writable(4).Publish());
    Chain c;
    while (q.Pop(&c) == SplitQueue::PopResult::kChain) heads.push_back(c.head);
    return heads;
  }

  FakeGuestMemory fmem_;
  FakeVirtqueue vq_{fmem_, 8};
  std::shared_ptr<const GuestMemory> mem_;
};

TEST_F(UsedBatchTest, AddedElementsAreInvisibleUntilPublished) {
  auto q = MakeQueue(false);
  auto heads = PopN(*q, 3);
  ASSERT_EQ(heads.size(), 3u);
  for (uint16_t h : heads) q->AddUsed(h, 7);
  EXPECT_EQ(vq_.used_idx(), 0);
  EXPECT_FALSE(q->NeedsInterrupt());  // nothing the guest can see yet
  q->PublishUsed();
  EXPECT_EQ(vq_.used_idx(), 3);
  EXPECT_TRUE(q->NeedsInterrupt());
  for (uint16_t h : heads) {
    auto d = vq_.TakeUsed();
    ASSERT_TRUE(d);
    EXPECT_EQ(d->head, h);
    EXPECT_EQ(d->len, 7u);
  }
  q->PublishUsed();  // nothing new: no store, no interrupt
  EXPECT_FALSE(q->NeedsInterrupt());
}

TEST_F(UsedBatchTest, OneEventIdxInterruptPerPublishedBatch) {
  auto q = MakeQueue(true);
  vq_.set_auto_used_event(false);
  vq_.SetUsedEvent(0);  // interrupt me when entry 0 is used
  auto heads = PopN(*q, 4);
  for (uint16_t h : heads) q->AddUsed(h, 1);
  q->PublishUsed();
  EXPECT_TRUE(q->NeedsInterrupt());   // crossed used_event 0 within the batch
  EXPECT_FALSE(q->NeedsInterrupt());  // and only once
}

TEST_F(UsedBatchTest, DisableNotificationsWithoutEventIdxSetsNoNotify) {
  auto q = MakeQueue(false);
  q->DisableNotifications();
  EXPECT_EQ(vq_.used_flags() & kUsedFNoNotify, kUsedFNoNotify);
  EXPECT_FALSE(q->EnableNotifications());
  EXPECT_EQ(vq_.used_flags() & kUsedFNoNotify, 0);
}

TEST_F(UsedBatchTest, DisableNotificationsWithEventIdxLeavesFlagsAlone) {
  auto q = MakeQueue(true);
  q->DisableNotifications();
  EXPECT_EQ(vq_.used_flags(), 0);
}

}  // namespace
}  // namespace hostshare::virtio
