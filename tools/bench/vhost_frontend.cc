#include "vhost_frontend.h"

#include <poll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <thread>

#include "vhost_user/protocol.h"

namespace hostshare::bench {
namespace vu = ::hostshare::vhost_user;
namespace {

constexpr int kReplyTimeoutMs = 10000;

std::string Errstr(const char* what) { return std::string(what) + ": " + strerror(errno); }

}  // namespace

std::unique_ptr<VhostUserFrontend> VhostUserFrontend::Connect(const std::string& path,
                                                              int timeout_ms,
                                                              std::string* error) {
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  if (path.size() >= sizeof(addr.sun_path)) {
    *error = "socket path too long: " + path;
    return nullptr;
  }
  memcpy(addr.sun_path, path.c_str(), path.size() + 1);
  auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
  for (;;) {
    ScopedFd s(socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0));
    if (!s.valid()) {
      *error = Errstr("socket");
      return nullptr;
    }
    if (connect(s.get(), reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0) {
      std::unique_ptr<VhostUserFrontend> f(new VhostUserFrontend(std::move(s)));
      ucred cred{};
      socklen_t len = sizeof cred;
      if (getsockopt(f->sock_.get(), SOL_SOCKET, SO_PEERCRED, &cred, &len) == 0) {
        f->peer_pid_ = cred.pid;
      }
      return f;
    }
    if (std::chrono::steady_clock::now() >= deadline) {
      *error = "connect " + path + ": " + strerror(errno);
      return nullptr;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
}

bool VhostUserFrontend::Send(uint32_t request, const void* payload, uint32_t size,
                             const std::vector<int>& fds, bool need_reply, std::string* error) {
  need_reply = need_reply && reply_ack_;
  vu::Header h{request, vu::kVersion | (need_reply ? vu::kFlagNeedReply : 0u), size};
  iovec iov[2] = {{&h, sizeof h}, {const_cast<void*>(payload), size}};
  msghdr mh{};
  mh.msg_iov = iov;
  mh.msg_iovlen = size > 0 ? 2 : 1;
  alignas(cmsghdr) char control[CMSG_SPACE(sizeof(int) * vu::kMaxFds)];
  if (!fds.empty()) {
    mh.msg_control = control;
    mh.msg_controllen = CMSG_SPACE(sizeof(int) * fds.size());
    cmsghdr* c = CMSG_FIRSTHDR(&mh);
    c->cmsg_level = SOL_SOCKET;
    c->cmsg_type = SCM_RIGHTS;
    c->cmsg_len = CMSG_LEN(sizeof(int) * fds.size());
    memcpy(CMSG_DATA(c), fds.data(), sizeof(int) * fds.size());
  }
  ssize_t rc;
  do {
    rc = sendmsg(sock_.get(), &mh, MSG_NOSIGNAL);
  } while (rc < 0 && errno == EINTR);
  if (rc != static_cast<ssize_t>(sizeof h + size)) {
    *error = std::string("sending ") + vu::RequestName(request) + ": " +
             (rc < 0 ? strerror(errno) : "short write");
    return false;
  }
  if (!need_reply) return true;
  uint64_t ack = 0;
  if (!Receive(request, &ack, sizeof ack, error)) return false;
  if (ack != 0) {
    *error = std::string("backend refused ") + vu::RequestName(request);
    return false;
  }
  return true;
}

bool VhostUserFrontend::Receive(uint32_t request, void* payload, uint32_t size,
                                std::string* error) {
  auto read_fully = [&](void* buf, size_t n) {
    auto* p = static_cast<uint8_t*>(buf);
    while (n > 0) {
      pollfd pfd{sock_.get(), POLLIN, 0};
      int rc = poll(&pfd, 1, kReplyTimeoutMs);
      if (rc < 0 && errno == EINTR) continue;
      if (rc <= 0) {
        *error = std::string("no reply to ") + vu::RequestName(request);
        return false;
      }
      ssize_t got = recv(sock_.get(), p, n, 0);
      if (got < 0 && errno == EINTR) continue;
      if (got <= 0) {
        *error = std::string("backend closed the connection after ") + vu::RequestName(request);
        return false;
      }
      p += got;
      n -= static_cast<size_t>(got);
    }
    return true;
  };
  vu::Header h;
  if (!read_fully(&h, sizeof h)) return false;
  if (h.request != request || !(h.flags & vu::kFlagReply) || h.size != size) {
    *error = std::string("malformed reply to ") + vu::RequestName(request);
    return false;
  }
  return read_fully(payload, size);
}

bool VhostUserFrontend::GetU64(uint32_t request, uint64_t* out, std::string* error) {
  return Send(request, nullptr, 0, {}, false, error) && Receive(request, out, 8, error);
}

bool VhostUserFrontend::SetU64(uint32_t request, uint64_t v, std::string* error) {
  return Send(request, &v, sizeof v, {}, true, error);
}

bool VhostUserFrontend::SetState(uint32_t request, uint32_t index, uint32_t num,
                                 std::string* error) {
  vu::VringState s{index, num};
  return Send(request, &s, sizeof s, {}, true, error);
}

bool VhostUserFrontend::SetVringFd(uint32_t request, uint32_t index, int fd, std::string* error) {
  uint64_t v = index;
  return Send(request, &v, sizeof v, {fd}, true, error);
}

bool VhostUserFrontend::Start(GuestRam& ram, const std::vector<DriverRing*>& rings,
                              std::string* error) {
  uint64_t features = 0;
  if (!GetU64(vu::kGetFeatures, &features, error)) return false;
  if (!(features & vu::kFVersion1) || !(features & vu::kFRingIndirectDesc)) {
    *error = "backend offers neither VERSION_1 nor INDIRECT_DESC";
    return false;
  }
  if (features & vu::kFProtocolFeatures) {
    uint64_t pf = 0;
    if (!GetU64(vu::kGetProtocolFeatures, &pf, error)) return false;
    pf &= vu::kPMq | vu::kPReplyAck;
    if (!SetU64(vu::kSetProtocolFeatures, pf, error)) return false;
    reply_ack_ = (pf & vu::kPReplyAck) != 0;
    if (pf & vu::kPMq) {
      if (!GetU64(vu::kGetQueueNum, &backend_queues_, error)) return false;
      if (backend_queues_ < rings.size()) {
        *error = "backend has " + std::to_string(backend_queues_) + " queues, " +
                 std::to_string(rings.size()) + " wanted";
        return false;
      }
    } else if (rings.size() > 2) {
      *error = "backend does not negotiate MQ: only one request queue";
      return false;
    }
  }
  if (!Send(vu::kSetOwner, nullptr, 0, {}, true, error)) return false;
  const uint64_t acked = features & (vu::kFVersion1 | vu::kFRingIndirectDesc |
                                     vu::kFRingEventIdx | vu::kFProtocolFeatures);
  event_idx_ = (acked & vu::kFRingEventIdx) != 0;
  if (!SetU64(vu::kSetFeatures, acked, error)) return false;

  uint8_t table[8 + sizeof(vu::MemoryRegion)] = {};
  uint32_t n = 1;
  memcpy(table, &n, 4);
  vu::MemoryRegion r{0, ram.size(), ram.uva_base(), 0};
  memcpy(table + 8, &r, sizeof r);
  if (!Send(vu::kSetMemTable, table, sizeof table, {ram.fd()}, true, error)) return false;

  for (size_t i = 0; i < rings.size(); ++i) {
    QueueFds q;
    q.kick.reset(eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK));
    q.call.reset(eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK));
    q.err.reset(eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK));
    if (!q.kick.valid() || !q.call.valid() || !q.err.valid()) {
      *error = Errstr("eventfd");
      return false;
    }
    queues_.push_back(std::move(q));
  }
  for (size_t i = 0; i < rings.size(); ++i) {
    const uint32_t idx = static_cast<uint32_t>(i);
    DriverRing& ring = *rings[i];
    ring.set_event_idx(event_idx_);
    vu::VringAddr a{idx, 0, ram.uva_base() + ring.desc_gpa(), ram.uva_base() + ring.used_gpa(),
                    ram.uva_base() + ring.avail_gpa(), 0};
    if (!SetVringFd(vu::kSetVringCall, idx, queues_[i].call.get(), error) ||
        !SetVringFd(vu::kSetVringErr, idx, queues_[i].err.get(), error) ||
        !SetState(vu::kSetVringNum, idx, ring.size(), error) ||
        !SetState(vu::kSetVringBase, idx, 0, error) ||
        !Send(vu::kSetVringAddr, &a, sizeof a, {}, true, error) ||
        !SetVringFd(vu::kSetVringKick, idx, queues_[i].kick.get(), error)) {
      return false;
    }
  }
  if (acked & vu::kFProtocolFeatures) {
    for (size_t i = 0; i < rings.size(); ++i) {
      if (!SetState(vu::kSetVringEnable, static_cast<uint32_t>(i), 1, error)) return false;
    }
  }
  // A round trip: everything above has been handled when it returns.
  uint64_t again = 0;
  return GetU64(vu::kGetFeatures, &again, error);
}

}  // namespace hostshare::bench
