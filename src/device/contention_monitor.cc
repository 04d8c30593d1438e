#include "device/contention_monitor.h"

#include <sys/resource.h>

namespace hostshare::device {
namespace {

long ThreadInvoluntarySwitches() {
  rusage ru;
  if (getrusage(RUSAGE_THREAD, &ru) != 0) return -1;
  return ru.ru_nivcsw;
}

}  // namespace

ContentionMonitor::ContentionMonitor(SwitchCounter counter)
    : counter_(counter != nullptr ? counter : ThreadInvoluntarySwitches) {}

bool ContentionMonitor::Contended(uint64_t now_ns) {
  if (now_ns >= next_check_ns_) {
    next_check_ns_ = now_ns + kCheckNs;
    long n = counter_();
    // The first reading is only a baseline; a failed one changes nothing.
    if (n >= 0) {
      if (switches_ >= 0 && n != switches_) contended_until_ns_ = now_ns + kHoldNs;
      switches_ = n;
    }
  }
  return now_ns < contended_until_ns_;
}

}  // namespace hostshare::device
