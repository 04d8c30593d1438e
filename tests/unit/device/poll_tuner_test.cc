// PollTuner: the adaptive busy-poll window of a queue worker.
#include "device/poll_tuner.h"

#include <gtest/gtest.h>

namespace hostshare::device {
namespace {

constexpr uint64_t kUs = 1000;

TEST(PollTunerTest, StartsClosed) {
  PollTuner t(50 * kUs);
  EXPECT_EQ(t.window_ns(), 0u);
}

TEST(PollTunerTest, ZeroLimitNeverOpens) {
  PollTuner t(0);
  for (int i = 0; i < 10; ++i) t.Update(1 * kUs);
  EXPECT_EQ(t.window_ns(), 0u);
}

TEST(PollTunerTest, ShortSleepsGrowTheWindowUpToTheLimit) {
  PollTuner t(50 * kUs);
  t.Update(30 * kUs);  // slept 30 us: polling that long would have caught it
  EXPECT_EQ(t.window_ns(), PollTuner::kStartNs);
  t.Update(30 * kUs);
  EXPECT_EQ(t.window_ns(), 2 * PollTuner::kStartNs);
  for (int i = 0; i < 10; ++i) t.Update(50 * kUs);
  EXPECT_EQ(t.window_ns(), 50 * kUs);  // capped
}

TEST(PollTunerTest, WorkFoundWhilePollingKeepsTheWindow) {
  PollTuner t(50 * kUs);
  t.Update(30 * kUs);
  t.Update(30 * kUs);
  uint64_t w = t.window_ns();
  t.Update(w / 2);
  t.Update(w);
  EXPECT_EQ(t.window_ns(), w);
}

TEST(PollTunerTest, LongSleepsCloseTheWindow) {
  PollTuner t(50 * kUs);
  for (int i = 0; i < 10; ++i) t.Update(50 * kUs);
  ASSERT_EQ(t.window_ns(), 50 * kUs);
  t.Update(1'000 * kUs);  // a request 1 ms later: polling would have been wasted
  EXPECT_EQ(t.window_ns(), 25 * kUs);
  for (int i = 0; i < 3; ++i) t.Update(1'000 * kUs);
  EXPECT_EQ(t.window_ns(), 0u);  // below kStartNs it closes
}

}  // namespace
}  // namespace hostshare::device
