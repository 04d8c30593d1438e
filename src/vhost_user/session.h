// Session: one vhost-user connection with a frontend (QEMU, Cloud Hypervisor).
//
// Handles every message the backend side of vhost-user-fs needs: feature
// negotiation, memory table (SET_MEM_TABLE and the CONFIGURE_MEM_SLOTS
// ADD/REM_MEM_REG pair), vring setup and start/stop, the backend request fd,
// config space when the device has one, and resets. Honours NEED_REPLY
// whenever REPLY_ACK was negotiated.
//
// Trust boundary: the frontend is untrusted. Every field is validated: the
// message size for its code, the fd count, the queue index, the ring size
// (power of two, <= 32768), region count == fd count, regions that neither
// wrap nor overlap, ring addresses inside guest memory. A violation ends the
// session with a log line; the caller then closes the connection.
//
// Thread-safety: Run() runs on one thread; the device's queue threads are
// started and stopped from it.
#pragma once

#include <array>
#include <memory>
#include <string>

#include "base/result.h"
#include "vhost_user/channel.h"
#include "vhost_user/device_backend.h"
#include "virtio/guest_memory.h"

namespace hostshare::vhost_user {

class Session {
 public:
  static constexpr uint32_t kMaxQueues = 64;

  Session(ScopedFd conn, DeviceBackend& device);
  ~Session();

  // Serves messages until the frontend disconnects (returns OK) or breaks
  // the protocol (returns the error, already logged).
  Status Run();

  // Handles one already-received message; exposed for tests and fuzzers.
  // A non-OK status means the connection must be closed.
  Status Handle(Message& msg);

 private:
  struct Vring {
    uint32_t num = 0;
    bool addr_set = false;
    uint64_t desc = 0, avail = 0, used = 0;
    uint16_t base = 0;
    ScopedFd kick;
    bool has_kick = false;
    std::shared_ptr<virtio::Notifier> call = std::make_shared<virtio::Notifier>();
    ScopedFd err;
    bool enabled = false;
    bool started = false;
  };

  Status Fail(const char* why);
  Status Reply(const Message& msg, const void* payload, uint32_t size);
  Status ReplyU64(const Message& msg, uint64_t value);
  Status Ack(const Message& msg, bool ok);
  Status ExpectPayload(const Message& msg, uint32_t size, size_t nfds);
  Result<uint32_t> QueueIndex(uint64_t index);

  Status SetMemTable(Message& msg);
  Status AddMemReg(Message& msg);
  Status RemMemReg(Message& msg);
  Status ReplaceMemory(std::shared_ptr<const virtio::GuestMemory> mem);
  Status HandleVringFd(Message& msg);
  Status MaybeStart(uint32_t index);
  void Stop(uint32_t index);
  void ResetAll();

  uint64_t OfferedFeatures() const;
  uint64_t OfferedProtocolFeatures() const;

  Channel channel_;
  DeviceBackend& device_;
  uint64_t acked_features_ = 0;
  uint64_t acked_protocol_ = 0;
  bool features_set_ = false;
  std::shared_ptr<const virtio::GuestMemory> mem_;
  std::array<Vring, kMaxQueues> vrings_;
  ScopedFd backend_req_;
};

}  // namespace hostshare::vhost_user
