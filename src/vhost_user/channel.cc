#include "vhost_user/channel.h"

#include <sys/socket.h>
#include <sys/uio.h>

#include <cstring>

namespace hostshare::vhost_user {

Status Channel::ReadFully(void* buf, size_t n) {
  auto* p = static_cast<uint8_t*>(buf);
  while (n > 0) {
    ssize_t rc = recv(fd_.get(), p, n, 0);
    if (rc < 0 && errno == EINTR) continue;
    if (rc < 0) return LastErrno();
    if (rc == 0) return Errno{EPROTO};  // closed mid-message
    p += rc;
    n -= static_cast<size_t>(rc);
  }
  return OkStatus();
}

Status Channel::Receive(Message* msg) {
  msg->fds.clear();
  alignas(cmsghdr) char control[CMSG_SPACE(sizeof(int) * kMaxFds)];
  iovec iov{&msg->header, sizeof(Header)};
  msghdr mh{};
  mh.msg_iov = &iov;
  mh.msg_iovlen = 1;
  mh.msg_control = control;
  mh.msg_controllen = sizeof(control);
  ssize_t rc;
  do {
    rc = recvmsg(fd_.get(), &mh, MSG_CMSG_CLOEXEC);
  } while (rc < 0 && errno == EINTR);
  if (rc < 0) return LastErrno();
  if (rc == 0) return Errno{ECONNRESET};
  // Take ownership of every fd first, so nothing leaks on any error below.
  for (cmsghdr* c = CMSG_FIRSTHDR(&mh); c != nullptr; c = CMSG_NXTHDR(&mh, c)) {
    if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS) continue;
    size_t n = (c->cmsg_len - CMSG_LEN(0)) / sizeof(int);
    for (size_t i = 0; i < n; ++i) {
      int fd;
      memcpy(&fd, CMSG_DATA(c) + i * sizeof(int), sizeof(int));
      msg->fds.emplace_back(fd);
    }
  }
  if (mh.msg_flags & MSG_CTRUNC) return Errno{EMSGSIZE};
  if (static_cast<size_t>(rc) < sizeof(Header)) {
    HS_RETURN_IF_ERROR(ReadFully(reinterpret_cast<uint8_t*>(&msg->header) + rc,
                                 sizeof(Header) - static_cast<size_t>(rc)));
  }
  if (msg->header.size > kMaxPayload) return Errno{EMSGSIZE};
  return ReadFully(msg->payload, msg->header.size);
}

Status Channel::Send(uint32_t request, uint32_t flags, const void* payload, uint32_t size) {
  Header h{request, flags, size};
  iovec iov[2] = {{&h, sizeof(h)}, {const_cast<void*>(payload), size}};
  msghdr mh{};
  mh.msg_iov = iov;
  mh.msg_iovlen = size > 0 ? 2 : 1;
  ssize_t rc;
  do {
    rc = sendmsg(fd_.get(), &mh, MSG_NOSIGNAL);
  } while (rc < 0 && errno == EINTR);
  if (rc < 0) return LastErrno();
  if (static_cast<size_t>(rc) != sizeof(h) + size) return Errno{EIO};
  return OkStatus();
}

}  // namespace hostshare::vhost_user
