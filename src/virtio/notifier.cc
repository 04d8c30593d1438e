#include "virtio/notifier.h"

#include <sys/eventfd.h>

namespace hostshare::virtio {

void Notifier::Set(ScopedFd fd) {
  std::lock_guard<std::mutex> lock(mu_);
  fd_ = std::move(fd);
}

void Notifier::Signal() {
  std::lock_guard<std::mutex> lock(mu_);
  if (fd_.valid()) {
    // EAGAIN (counter saturated) still means the guest will be woken.
    (void)eventfd_write(fd_.get(), 1);
  }
}

}  // namespace hostshare::virtio
