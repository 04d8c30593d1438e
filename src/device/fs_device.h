// FsDevice: the virtio-fs device (virtio 1.2 §5.11) as a vhost-user backend.
//
// Queue 0 is the high-priority queue, queues 1..N the request queues; every
// queue gets its own worker thread that hands requests to the handler (the
// FUSE server). With pool_threads > 0, requests that may block go to a
// shared BlockingPool of that many threads (--thread-pool-size). The
// config space (tag + num_request_queues) is exposed only when a tag was
// given.
//
// Thread-safety: DeviceBackend methods run on the session thread.
#pragma once

#include <array>
#include <memory>
#include <string>

#include "device/blocking_pool.h"
#include "device/queue_worker.h"
#include "device/request_handler.h"
#include "vhost_user/device_backend.h"

namespace hostshare::device {

class FsDevice : public vhost_user::DeviceBackend {
 public:
  static constexpr uint32_t kMaxRequestQueues = 16;
  static constexpr size_t kTagMax = 36;  // virtio_fs_config.tag

  // `tag` may be empty (no config space). `pool_threads` 0: no pool.
  // `poll_max_ns`: longest adaptive busy-poll of an empty queue (0: none).
  FsDevice(RequestHandler& handler, std::string tag, uint32_t pool_threads = 0,
           uint64_t poll_max_ns = 0);
  ~FsDevice() override;

  uint64_t DeviceFeatures() const override { return 0; }
  uint32_t MaxQueues() const override { return 1 + kMaxRequestQueues; }
  std::vector<uint8_t> Config() const override;
  void StartQueue(uint32_t index, std::unique_ptr<virtio::SplitQueue> queue, int kick_fd,
                  std::shared_ptr<virtio::Notifier> call) override;
  uint16_t StopQueue(uint32_t index) override;
  void Reset() override;

 private:
  RequestHandler& handler_;
  std::string tag_;
  uint64_t poll_max_ns_;
  // Declared before the workers: destroyed after them (they wait for their
  // pool jobs when they stop).
  std::unique_ptr<BlockingPool> pool_;
  std::array<std::unique_ptr<QueueWorker>, 1 + kMaxRequestQueues> workers_;
};

}  // namespace hostshare::device
