// Channel: message framing over the vhost-user Unix socket, with fds passed
// as SCM_RIGHTS ancillary data.
//
// Trust boundary: the frontend is untrusted. A message whose header claims
// more than kMaxPayload bytes, that carries more than kMaxFds fds, whose
// ancillary data was truncated, or that ends early is rejected (the caller
// closes the connection). Received fds are owned (ScopedFd) from the moment
// they arrive, so a rejected message leaks nothing.
//
// Thread-safety: one thread reads; replies are sent by the same thread.
#pragma once

#include <cstdint>
#include <vector>

#include "base/result.h"
#include "base/scoped_fd.h"
#include "vhost_user/protocol.h"

namespace hostshare::vhost_user {

struct Message {
  Header header{};
  uint8_t payload[kMaxPayload]{};
  std::vector<ScopedFd> fds;
};

class Channel {
 public:
  explicit Channel(ScopedFd fd) : fd_(std::move(fd)) {}
  // Receives one message. ECONNRESET on orderly close (EOF), EPROTO/EMSGSIZE
  // on malformed framing, other errno on socket errors.
  Status Receive(Message* msg);
  // Sends a reply header+payload.
  Status Send(uint32_t request, uint32_t flags, const void* payload, uint32_t size);
  int fd() const { return fd_.get(); }

 private:
  Status ReadFully(void* buf, size_t n);
  ScopedFd fd_;
};

}  // namespace hostshare::vhost_user
