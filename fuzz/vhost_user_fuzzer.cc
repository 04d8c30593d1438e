// libFuzzer target: the vhost-user session (every message handler) behind a
// RecordingBackend, and the message framing (Channel::Receive).
//
// Input: u8 mode, then
//  mode even: Session::Handle over a sequence of messages, as the session's
//    Run loop would hand them over. Each message is
//      u8 fds      bits 0-3: how many fds to attach (mod 9: 0..8);
//                  bits 4-7: which are the guest memory fd (else eventfds)
//      12 bytes    the header (request, flags, size), verbatim, except that
//                  size is cut to 4096 (what Channel accepts)
//      size bytes  the payload (what is left if the input ends first)
//    A non-OK status ends the sequence (the connection would close). After
//    each message every running queue is popped a little, so ring addresses
//    the session accepted are really used.
//  mode odd: the rest of the input is written to the socket (with 2
//    eventfds attached to the first chunk) and Channel::Receive parses
//    messages until it fails.
//
// The guest memory fd is a 64 KiB memfd whose first bytes come from the
// input's last 256 bytes, so started queues see fuzzed rings.
#include <fcntl.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <vector>

#include "base/log.h"
#include "support/recording_backend.h"
#include "vhost_user/channel.h"
#include "vhost_user/session.h"

namespace {

using namespace hostshare;
namespace vu = hostshare::vhost_user;

constexpr size_t kMemSize = 64 * 1024;

int MemFd() {
  static int fd = [] {
    int f = memfd_create("hostshare-fuzz-guest", MFD_CLOEXEC);
    if (f < 0 || ftruncate(f, kMemSize) != 0) abort();
    return f;
  }();
  return fd;
}

void Drain(int fd) {
  char buf[8192];
  while (recv(fd, buf, sizeof buf, MSG_DONTWAIT) > 0) {
  }
}

void RunSession(const uint8_t* data, size_t size) {
  int sv[2];
  if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) != 0) abort();
  ScopedFd peer(sv[0]);
  std::vector<uint8_t> config(40, 0);
  memcpy(config.data(), "fuzzfs", 6);
  fake::RecordingBackend backend(17, config);
  {
    vu::Session session{ScopedFd(sv[1]), backend};
    size_t pos = 0;
    auto msg = std::make_unique<vu::Message>();
    while (pos + 13 <= size) {
      const uint8_t fdspec = data[pos++];
      memcpy(&msg->header, data + pos, sizeof(vu::Header));
      pos += sizeof(vu::Header);
      msg->header.size = std::min<uint32_t>(msg->header.size, vu::kMaxPayload);
      memset(msg->payload, 0, sizeof msg->payload);
      size_t take = std::min<size_t>(msg->header.size, size - pos);
      memcpy(msg->payload, data + pos, take);
      pos += take;
      msg->fds.clear();
      const int nfds = (fdspec & 15) % 9;
      for (int i = 0; i < nfds; ++i) {
        int fd = (fdspec >> (4 + i % 4)) & 1 ? fcntl(MemFd(), F_DUPFD_CLOEXEC, 0)
                                             : eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
        if (fd < 0) abort();
        msg->fds.emplace_back(fd);
      }
      Status st = session.Handle(*msg);
      Drain(peer.get());
      if (!st.ok()) break;
      for (uint32_t q = 0; q < backend.MaxQueues(); ++q) {
        backend.WithQueue(q, [](virtio::SplitQueue& queue, virtio::Notifier& call) {
          virtio::Chain chain;
          for (int i = 0; i < 4; ++i) {
            if (queue.Pop(&chain) != virtio::SplitQueue::PopResult::kChain) break;
            queue.PushUsed(chain.head, 0);
          }
          if (queue.NeedsInterrupt()) call.Signal();
        });
      }
    }
  }  // the session stops every queue
  Drain(peer.get());
}

void RunChannel(const uint8_t* data, size_t size) {
  int sv[2];
  if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) != 0) abort();
  ScopedFd writer(sv[0]);
  vu::Channel channel{ScopedFd(sv[1])};
  // The input must fit the socket buffer: we write all of it first.
  size = std::min<size_t>(size, 64 * 1024);
  ScopedFd e1(eventfd(0, EFD_CLOEXEC)), e2(eventfd(0, EFD_CLOEXEC));
  int fds[2] = {e1.get(), e2.get()};
  size_t first = std::min<size_t>(size, 20);
  iovec iov{const_cast<uint8_t*>(data), first};
  alignas(cmsghdr) char control[CMSG_SPACE(sizeof fds)];
  msghdr mh{};
  mh.msg_iov = &iov;
  mh.msg_iovlen = 1;
  mh.msg_control = control;
  mh.msg_controllen = sizeof control;
  cmsghdr* c = CMSG_FIRSTHDR(&mh);
  c->cmsg_level = SOL_SOCKET;
  c->cmsg_type = SCM_RIGHTS;
  c->cmsg_len = CMSG_LEN(sizeof fds);
  memcpy(CMSG_DATA(c), fds, sizeof fds);
  if (first > 0 && sendmsg(writer.get(), &mh, MSG_NOSIGNAL) < 0) abort();
  if (size > first && send(writer.get(), data + first, size - first, MSG_NOSIGNAL) < 0) abort();
  shutdown(writer.get(), SHUT_WR);
  auto msg = std::make_unique<vu::Message>();
  for (int i = 0; i < 10000; ++i) {
    if (!channel.Receive(msg.get()).ok()) break;
    if (msg->header.size > vu::kMaxPayload) abort();
  }
}

}  // namespace

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  hostshare::log::Level off;
  if (hostshare::log::ParseLevel("off", &off)) hostshare::log::SetLevel(off);
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 1) return 0;
  const uint8_t mode = data[0];
  ++data;
  --size;
  if (mode & 1) {
    RunChannel(data, size);
    return 0;
  }
  // Guest memory contents: the input's tail.
  size_t mem_bytes = std::min<size_t>(size, 256);
  if (pwrite(MemFd(), data + size - mem_bytes, mem_bytes, 0) < 0) abort();
  RunSession(data, size);
  return 0;
}
