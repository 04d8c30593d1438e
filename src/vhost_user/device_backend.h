// DeviceBackend: what a vhost-user session needs from the device it serves.
//
// The session owns the protocol and the validation of every frontend field;
// the device owns what runs on the queues. The session calls StartQueue only
// with a queue whose rings were mapped and checked inside guest memory.
//
// Thread-safety: all methods are called from the session's thread.
#pragma once

#include <cstdint>
#include <memory>
#include <vector>

#include "base/scoped_fd.h"
#include "virtio/notifier.h"
#include "virtio/split_queue.h"

namespace hostshare::vhost_user {

class DeviceBackend {
 public:
  virtual ~DeviceBackend() = default;
  // Device-specific virtio feature bits to offer (transport bits are added by the session).
  virtual uint64_t DeviceFeatures() const = 0;
  // Number of queues the device supports (GET_QUEUE_NUM).
  virtual uint32_t MaxQueues() const = 0;
  // Device config space; empty means "do not offer VHOST_USER_PROTOCOL_F_CONFIG".
  virtual std::vector<uint8_t> Config() const = 0;
  // Starts serving queue `index`: new chains are announced by the eventfd
  // `kick_fd` (owned by the session; it stays open until StopQueue returns);
  // interrupts go to `call`. Returns immediately.
  virtual void StartQueue(uint32_t index, std::unique_ptr<virtio::SplitQueue> queue, int kick_fd,
                          std::shared_ptr<virtio::Notifier> call) = 0;
  // Stops queue `index` once the request in flight (if any) has completed
  // and returns the next avail index to resume from.
  // REQUIRES: the queue was started.
  virtual uint16_t StopQueue(uint32_t index) = 0;
  // The device was reset (RESET_OWNER / RESET_DEVICE); all queues are stopped.
  virtual void Reset() = 0;
};

}  // namespace hostshare::vhost_user
