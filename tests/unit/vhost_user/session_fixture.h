// Shared pieces of the vhost-user session tests: building Messages for
// Session::Handle, running Session::Run on a thread, counting open fds.
#pragma once

#include <dirent.h>
#include <gtest/gtest.h>
#include <poll.h>
#include <sys/eventfd.h>

#include <chrono>
#include <cstring>
#include <future>
#include <memory>
#include <thread>
#include <vector>

#include "support/fake_frontend.h"
#include "support/fake_guest_memory.h"
#include "support/recording_backend.h"
#include "vhost_user/channel.h"
#include "vhost_user/protocol.h"
#include "vhost_user/session.h"

namespace hostshare::vhost_user::test {

using fake::FakeFrontend;
using fake::FakeGuestMemory;
using fake::FrontendOptions;
using fake::RecordingBackend;
using Ev = RecordingBackend;

inline ScopedFd EventFd() { return ScopedFd(eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK)); }

inline std::vector<ScopedFd> EventFds(size_t n) {
  std::vector<ScopedFd> v;
  for (size_t i = 0; i < n; ++i) v.push_back(EventFd());
  return v;
}

// A Message as Channel::Receive would have produced it.
inline std::unique_ptr<Message> Msg(uint32_t request, const void* payload, size_t size,
                                    std::vector<ScopedFd> fds = {}, uint32_t flags = kVersion) {
  auto m = std::make_unique<Message>();
  m->header = Header{request, flags, static_cast<uint32_t>(size)};
  if (size > 0) memcpy(m->payload, payload, std::min<size_t>(size, kMaxPayload));
  m->fds = std::move(fds);
  return m;
}
template <typename T>
std::unique_ptr<Message> MsgOf(uint32_t request, const T& v, std::vector<ScopedFd> fds = {},
                               uint32_t flags = kVersion) {
  return Msg(request, &v, sizeof(T), std::move(fds), flags);
}
inline std::unique_ptr<Message> Empty(uint32_t request, uint32_t flags = kVersion) {
  return Msg(request, nullptr, 0, {}, flags);
}

inline MemoryRegion ToWire(const virtio::RegionSpec& s) {
  return {s.guest_addr, s.size, s.user_addr, s.mmap_offset};
}

// SET_MEM_TABLE payload for `regions` (nregions = regions.size()).
inline std::vector<uint8_t> MemTablePayload(const std::vector<MemoryRegion>& regions,
                                            std::optional<uint32_t> nregions = std::nullopt) {
  std::vector<uint8_t> p(8 + regions.size() * sizeof(MemoryRegion));
  uint32_t n = nregions ? *nregions : static_cast<uint32_t>(regions.size());
  memcpy(p.data(), &n, 4);
  for (size_t i = 0; i < regions.size(); ++i) {
    memcpy(p.data() + 8 + i * sizeof(MemoryRegion), &regions[i], sizeof(MemoryRegion));
  }
  return p;
}

// Open fds of this process (for leak checks).
inline int CountOpenFds() {
  int n = 0;
  DIR* d = opendir("/proc/self/fd");
  if (d == nullptr) return -1;
  while (readdir(d) != nullptr) ++n;
  closedir(d);
  return n;
}

// Session::Run on its own thread. The Session lives on that thread and is
// destroyed when Run returns, which closes the connection (as the daemon does).
class SessionThread {
 public:
  SessionThread(ScopedFd conn, DeviceBackend& backend) {
    std::promise<Status> p;
    result_ = p.get_future();
    thread_ = std::thread([conn = std::move(conn), &backend, p = std::move(p)]() mutable {
      Status st;
      {
        Session s(std::move(conn), backend);
        st = s.Run();
      }
      p.set_value(st);
    });
  }
  ~SessionThread() {
    if (thread_.joinable()) thread_.join();
  }
  // Waits for Run to return. nullopt after `timeout_ms` (the thread keeps running).
  std::optional<Status> Wait(int timeout_ms = 5000) {
    if (result_.wait_for(std::chrono::milliseconds(timeout_ms)) != std::future_status::ready) {
      return std::nullopt;
    }
    if (thread_.joinable()) thread_.join();
    return result_.get();
  }
  bool Finished() {
    return result_.wait_for(std::chrono::milliseconds(0)) == std::future_status::ready;
  }

 private:
  std::future<Status> result_;
  std::thread thread_;
};

// True if a byte (or EOF) is waiting on fd right now.
inline bool Readable(int fd, int timeout_ms = 0) {
  pollfd p{fd, POLLIN, 0};
  return poll(&p, 1, timeout_ms) > 0;
}

}  // namespace hostshare::vhost_user::test
