// PollTuner: how long a queue worker busy-polls an empty ring before it
// sleeps on the kick eventfd (adaptive polling, as QEMU's iothreads do it).
//
// Why: waking a sleeping thread costs more than serving a short request
// (tens of microseconds when the host is itself a VM and the CPU halted),
// and a guest that keeps requests in flight refills the ring a few
// microseconds after each interrupt. Polling that long keeps the worker
// awake and lets the guest skip its kick. A queue whose requests come
// further apart than the limit gains nothing from polling, so the window
// shrinks back to zero and the worker just sleeps.
//
// The rule, after each wait for the guest (`waited_ns` from the moment the
// ring was found empty until work arrived, by polling or after a sleep):
//   - found while polling: keep the window;
//   - slept, but work arrived within the limit: a longer window would have
//     caught it: grow (double, from kStartNs), up to the limit;
//   - slept longer than the limit: halve the window (zero below kStartNs).
//
// Whether to poll at all is the worker's decision (ContentionMonitor).
//
// Thread-safety: one thread (the queue's worker).
#pragma once

#include <cstdint>

namespace hostshare::device {

class PollTuner {
 public:
  static constexpr uint64_t kStartNs = 4'000;
  // `max_ns` 0 disables polling.
  explicit PollTuner(uint64_t max_ns) : max_ns_(max_ns) {}

  // The current window: poll this long before sleeping (0: sleep at once).
  uint64_t window_ns() const { return window_ns_; }

  // Work arrived `waited_ns` after the ring was found empty.
  void Update(uint64_t waited_ns) {
    if (max_ns_ == 0) return;
    if (waited_ns <= window_ns_) return;  // the poll found it
    if (waited_ns <= max_ns_) {
      window_ns_ = window_ns_ == 0 ? kStartNs : window_ns_ * 2;
      if (window_ns_ > max_ns_) window_ns_ = max_ns_;
      return;
    }
    window_ns_ /= 2;
    if (window_ns_ < kStartNs) window_ns_ = 0;
  }

 private:
  uint64_t max_ns_;
  uint64_t window_ns_ = 0;
};

}  // namespace hostshare::device
