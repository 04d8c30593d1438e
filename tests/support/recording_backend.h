// RecordingBackend: a vhost_user::DeviceBackend that serves nothing and
// records what the session asks of it (StartQueue / StopQueue / Reset).
//
// Started queues are kept, so a test can act as the device on them
// (WithQueue: pop chains, push used elements); StopQueue returns the kept
// queue's next avail index, as a real device does.
//
// Thread-safety: the session calls it from its own thread while the test
// thread inspects it; everything is under one mutex.
#pragma once

#include <map>
#include <memory>
#include <mutex>
#include <vector>

#include "vhost_user/device_backend.h"

namespace hostshare::fake {

class RecordingBackend : public vhost_user::DeviceBackend {
 public:
  enum class Op { kStart, kStop, kReset };
  struct Event {
    Op op;
    uint32_t index = 0;   // kStart / kStop
    uint16_t base = 0;    // kStart: the queue's next avail; kStop: what was returned
    bool kick_fd = false; // kStart: a kick fd was passed
    bool operator==(const Event& o) const {
      return op == o.op && index == o.index && base == o.base;
    }
  };
  static Event Started(uint32_t i, uint16_t base = 0) { return {Op::kStart, i, base, true}; }
  static Event Stopped(uint32_t i, uint16_t base = 0) { return {Op::kStop, i, base, false}; }
  static Event WasReset() { return {Op::kReset, 0, 0, false}; }

  RecordingBackend(uint32_t max_queues = 2, std::vector<uint8_t> config = {},
                   uint64_t device_features = 0)
      : max_queues_(max_queues), config_(std::move(config)), features_(device_features) {}

  uint64_t DeviceFeatures() const override { return features_; }
  uint32_t MaxQueues() const override { return max_queues_; }
  std::vector<uint8_t> Config() const override { return config_; }

  void StartQueue(uint32_t index, std::unique_ptr<virtio::SplitQueue> queue, int kick_fd,
                  std::shared_ptr<virtio::Notifier> call) override {
    std::lock_guard<std::mutex> lock(mu_);
    events_.push_back({Op::kStart, index, queue->next_avail(), kick_fd >= 0});
    running_[index] = Running{std::move(queue), kick_fd, std::move(call)};
  }
  uint16_t StopQueue(uint32_t index) override {
    std::lock_guard<std::mutex> lock(mu_);
    uint16_t base = 0;
    auto it = running_.find(index);
    if (it != running_.end()) {
      base = it->second.queue->next_avail();
      running_.erase(it);
    } else {
      ++stops_of_unstarted_;  // the session broke DeviceBackend's REQUIRES
    }
    events_.push_back({Op::kStop, index, base, false});
    return base;
  }
  void Reset() override {
    std::lock_guard<std::mutex> lock(mu_);
    running_.clear();
    events_.push_back({Op::kReset, 0, 0, false});
  }

  std::vector<Event> events() const {
    std::lock_guard<std::mutex> lock(mu_);
    return events_;
  }
  void ClearEvents() {
    std::lock_guard<std::mutex> lock(mu_);
    events_.clear();
  }
  bool running(uint32_t index) const {
    std::lock_guard<std::mutex> lock(mu_);
    return running_.count(index) != 0;
  }
  size_t running_count() const {
    std::lock_guard<std::mutex> lock(mu_);
    return running_.size();
  }
  int stops_of_unstarted() const {
    std::lock_guard<std::mutex> lock(mu_);
    return stops_of_unstarted_;
  }
  // The kick fd the session passed for a running queue (-1 if not running).
  int kick_fd(uint32_t index) const {
    std::lock_guard<std::mutex> lock(mu_);
    auto it = running_.find(index);
    return it == running_.end() ? -1 : it->second.kick_fd;
  }

  // Runs fn(queue, call notifier) on a running queue, as the device would.
  // Returns false if the queue is not running.
  template <typename Fn>
  bool WithQueue(uint32_t index, Fn&& fn) {
    std::lock_guard<std::mutex> lock(mu_);
    auto it = running_.find(index);
    if (it == running_.end()) return false;
    fn(*it->second.queue, *it->second.call);
    return true;
  }

 private:
  struct Running {
    std::unique_ptr<virtio::SplitQueue> queue;
    int kick_fd;
    std::shared_ptr<virtio::Notifier> call;
  };
  mutable std::mutex mu_;
  uint32_t max_queues_;
  std::vector<uint8_t> config_;
  uint64_t features_;
  std::vector<Event> events_;
  std::map<uint32_t, Running> running_;
  int stops_of_unstarted_ = 0;
};

}  // namespace hostshare::fake
