// VhostUserFrontend: the VMM side of a vhost-user connection, enough to
// start a vhost-user-fs backend the way QEMU does: feature and protocol
// feature negotiation (MQ, REPLY_ACK), SET_OWNER, one memory region, and
// for every queue NUM / BASE / ADDR / KICK / CALL / ENABLE.
//
// Works against any vhost-user-fs backend (hostshared, the C or Rust
// virtiofsd). Every wait is bounded (a dead backend is an error, never a
// hang).
//
// Thread-safety: Start() from one thread; the kick/call fds may then be
// used by one thread per queue.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "base/scoped_fd.h"
#include "driver_ring.h"
#include "guest_ram.h"

namespace hostshare::bench {

class VhostUserFrontend {
 public:
  // Connects to the backend's listening socket, retrying until `timeout_ms`.
  static std::unique_ptr<VhostUserFrontend> Connect(const std::string& path, int timeout_ms,
                                                    std::string* error);

  // Negotiates and starts one queue per ring (ring 0 is the hiprio queue of
  // virtio-fs). False with `error` when the backend refuses or has fewer
  // queues than asked for.
  bool Start(GuestRam& ram, const std::vector<DriverRing*>& rings, std::string* error);

  int kick_fd(size_t q) const { return queues_.at(q).kick.get(); }
  int call_fd(size_t q) const { return queues_.at(q).call.get(); }
  bool event_idx() const { return event_idx_; }
  // GET_QUEUE_NUM's answer (0 when MQ was not negotiated).
  uint64_t backend_queues() const { return backend_queues_; }
  // The process that listens on the socket (SO_PEERCRED), or -1.
  pid_t peer_pid() const { return peer_pid_; }
  // Closes the connection (the backend sees EOF and normally exits).
  void Close() { sock_.reset(); }

 private:
  struct QueueFds {
    ScopedFd kick, call, err;
  };
  explicit VhostUserFrontend(ScopedFd sock) : sock_(std::move(sock)) {}
  bool Send(uint32_t request, const void* payload, uint32_t size, const std::vector<int>& fds,
            bool need_reply, std::string* error);
  bool Receive(uint32_t request, void* payload, uint32_t size, std::string* error);
  bool GetU64(uint32_t request, uint64_t* out, std::string* error);
  bool SetU64(uint32_t request, uint64_t v, std::string* error);
  bool SetState(uint32_t request, uint32_t index, uint32_t num, std::string* error);
  bool SetVringFd(uint32_t request, uint32_t index, int fd, std::string* error);

  ScopedFd sock_;
  std::vector<QueueFds> queues_;
  bool reply_ack_ = false;
  bool event_idx_ = false;
  uint64_t backend_queues_ = 0;
  pid_t peer_pid_ = -1;
};

}  // namespace hostshare::bench
