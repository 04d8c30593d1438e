// Notifier: an eventfd the device writes to interrupt the guest (a vring's
// "call" fd), replaceable at any time by the frontend.
//
// QEMU swaps call fds while rings run (masking/unmasking interrupts), so the
// fd is guarded: Signal() never writes to a closed or reused descriptor.
// Thread-safety: all methods are thread-safe.
#pragma once

#include <mutex>

#include "base/scoped_fd.h"

namespace hostshare::virtio {

class Notifier {
 public:
  // Takes ownership of `fd` (may be invalid: then signals are dropped).
  void Set(ScopedFd fd);
  void Signal();

 private:
  std::mutex mu_;
  ScopedFd fd_;
};

}  // namespace hostshare::virtio
