// ContentionMonitor: is a worker thread being preempted?
#include "device/contention_monitor.h"

#include <gtest/gtest.h>

namespace hostshare::device {
namespace {

long g_switches = 0;
long FakeSwitches() { return g_switches; }
long FailingCounter() { return -1; }

constexpr uint64_t kCheck = ContentionMonitor::kCheckNs;
constexpr uint64_t kHold = ContentionMonitor::kHoldNs;

TEST(ContentionMonitorTest, QuietThreadIsNotContended) {
  g_switches = 5;
  ContentionMonitor m(FakeSwitches);
  uint64_t t = 1'000'000;
  for (int i = 0; i < 100; ++i, t += kCheck) EXPECT_FALSE(m.Contended(t));
}

TEST(ContentionMonitorTest, PreemptionMakesItContendedForTheHoldTime) {
  g_switches = 5;
  ContentionMonitor m(FakeSwitches);
  uint64_t t = 1'000'000;
  EXPECT_FALSE(m.Contended(t));  // baseline
  g_switches = 6;
  t += kCheck;
  EXPECT_TRUE(m.Contended(t));
  EXPECT_TRUE(m.Contended(t + kHold - 1));
  EXPECT_FALSE(m.Contended(t + kHold));  // no new preemption meanwhile
}

TEST(ContentionMonitorTest, ChecksAtMostEveryInterval) {
  g_switches = 5;
  ContentionMonitor m(FakeSwitches);
  uint64_t t = 1'000'000;
  EXPECT_FALSE(m.Contended(t));
  g_switches = 6;
  EXPECT_FALSE(m.Contended(t + kCheck - 1));  // not looked at yet
  EXPECT_TRUE(m.Contended(t + kCheck));
}

TEST(ContentionMonitorTest, RepeatedPreemptionExtendsTheHold) {
  g_switches = 0;
  ContentionMonitor m(FakeSwitches);
  uint64_t t = 1'000'000;
  m.Contended(t);
  for (int i = 0; i < 5; ++i) {
    ++g_switches;
    t += kHold / 2;
    EXPECT_TRUE(m.Contended(t));
  }
  EXPECT_TRUE(m.Contended(t + kHold - 1));
}

TEST(ContentionMonitorTest, FailingCounterIsNeverContended) {
  ContentionMonitor m(FailingCounter);
  uint64_t t = 1'000'000;
  for (int i = 0; i < 10; ++i, t += kCheck) EXPECT_FALSE(m.Contended(t));
}

}  // namespace
}  // namespace hostshare::device
