#include "device/fs_device.h"

#include <linux/virtio_fs.h>

#include <cstring>

namespace hostshare::device {

FsDevice::FsDevice(RequestHandler& handler, std::string tag, uint32_t pool_threads,
                   uint64_t poll_max_ns)
    : handler_(handler),
      tag_(std::move(tag)),
      poll_max_ns_(poll_max_ns),
      pool_(pool_threads > 0 ? std::make_unique<BlockingPool>(pool_threads, handler) : nullptr) {}

FsDevice::~FsDevice() { Reset(); }

std::vector<uint8_t> FsDevice::Config() const {
  if (tag_.empty()) return {};
  virtio_fs_config cfg{};
  static_assert(sizeof(cfg.tag) == kTagMax);
  memcpy(cfg.tag, tag_.data(), std::min(tag_.size(), kTagMax));
  cfg.num_request_queues = kMaxRequestQueues;
  std::vector<uint8_t> out(sizeof(cfg));
  memcpy(out.data(), &cfg, sizeof(cfg));
  return out;
}

void FsDevice::StartQueue(uint32_t index, std::unique_ptr<virtio::SplitQueue> queue, int kick_fd,
                          std::shared_ptr<virtio::Notifier> call) {
  // The session validated index < MaxQueues().
  workers_.at(index).reset();
  workers_.at(index) =
      std::make_unique<QueueWorker>(index, std::move(queue), kick_fd, std::move(call), handler_,
                                    pool_.get(),
                                    WorkerTuning{poll_max_ns_, nullptr});
}

uint16_t FsDevice::StopQueue(uint32_t index) {
  auto& w = workers_.at(index);
  uint16_t next = w ? w->Stop() : 0;
  w.reset();
  return next;
}

void FsDevice::Reset() {
  for (auto& w : workers_) w.reset();
}

}  // namespace hostshare::device
