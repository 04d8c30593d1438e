#include "native_uring.h"

#include <cerrno>
#include <cstring>
#include <vector>

#include "stats.h"

#ifdef HOSTSHARE_HAVE_URING
#include <liburing.h>
#endif

namespace hostshare::bench {

#ifdef HOSTSHARE_HAVE_URING

bool UringAvailable() { return true; }

std::string RunUringLoop(ThreadCtx& t, const Workload::IoShape& shape, uint32_t depth,
                         bool force_async, uint64_t t0, uint64_t tend, Counters* out) {
  io_uring ring;
  int rc = io_uring_queue_init(depth * 2, &ring, 0);
  if (rc < 0) return std::string("io_uring_queue_init: ") + strerror(-rc);
  const int fd = shape.write ? t.fx->write_fd : t.fx->read_fd;
  const uint64_t fsize = shape.write ? t.fx->write_size : t.fx->read_size;
  std::vector<std::vector<char>> bufs(depth, std::vector<char>(shape.size, 'x'));
  std::vector<uint64_t> started(depth);
  auto submit = [&](uint32_t i) {
    io_uring_sqe* sqe = io_uring_get_sqe(&ring);
    uint64_t off = shape.random ? RandomOffset(t, fsize, shape.size)
                                : SequentialOffset(t, fsize, shape.size);
    if (shape.write) {
      io_uring_prep_write(sqe, fd, bufs[i].data(), shape.size, off);
    } else {
      io_uring_prep_read(sqe, fd, bufs[i].data(), shape.size, off);
    }
    if (force_async) sqe->flags |= IOSQE_ASYNC;
    io_uring_sqe_set_data64(sqe, i);
    started[i] = NowNs();
  };
  for (uint32_t i = 0; i < depth; ++i) submit(i);
  io_uring_submit(&ring);
  uint32_t inflight = depth;
  std::string error;
  while (inflight > 0) {
    io_uring_cqe* cqe;
    rc = io_uring_wait_cqe(&ring, &cqe);
    if (rc < 0) {
      if (rc == -EINTR) continue;
      error = std::string("io_uring_wait_cqe: ") + strerror(-rc);
      break;
    }
    uint32_t reaped = 0;
    const uint64_t now = NowNs();
    unsigned head;
    io_uring_for_each_cqe(&ring, head, cqe) {
      ++reaped;
      --inflight;
      uint32_t i = static_cast<uint32_t>(io_uring_cqe_get_data64(cqe));
      if (cqe->res < 0) {
        ++out->errors;
        if (t.first_error == 0) t.first_error = -cqe->res;
      } else if (now >= t0 && now < tend) {
        out->latency.Add(now - started[i]);
        ++out->requests;
        ++out->ops;
        out->bytes += static_cast<uint64_t>(cqe->res);
      }
      if (now < tend) {
        submit(i);
        ++inflight;
      }
    }
    io_uring_cq_advance(&ring, reaped);
    io_uring_submit(&ring);
  }
  io_uring_queue_exit(&ring);
  return error;
}

#else

bool UringAvailable() { return false; }

std::string RunUringLoop(ThreadCtx&, const Workload::IoShape&, uint32_t, bool, uint64_t,
                         uint64_t, Counters*) {
  return "this build has no io_uring (liburing-dev was not found)";
}

#endif

}  // namespace hostshare::bench
