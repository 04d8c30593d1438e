#include "queue_driver.h"

#include <poll.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "virtio/descriptor_chain.h"

namespace hostshare::bench {
namespace {

uint32_t Pages(uint32_t bytes) { return (bytes + kPage - 1) / kPage; }

}  // namespace

QueueDriver::QueueDriver(GuestRam& ram, uint32_t index, uint16_t ring_size, uint32_t depth,
                         uint32_t data_size)
    : ram_(ram), index_(index), ring_(ram, ring_size), data_size_(data_size) {
  ok_ = ring_.ok() && depth > 0 && depth <= ring_size;
  const uint32_t max_desc = 4 + 2 * Pages(data_size);
  slots_.resize(ok_ ? depth : 0);
  for (uint32_t i = 0; i < slots_.size() && ok_; ++i) {
    Slot& s = slots_[i];
    s.head = static_cast<uint16_t>(i);
    s.table_gpa = ram.Alloc(16ull * max_desc, 16);
    s.req_gpa = ram.Alloc(kReqBuf, 64);
    s.reply_gpa = ram.Alloc(kReplyBuf, 64);
    s.data_gpa = ram.Alloc(data_size, kPage);
    ok_ = s.table_gpa != UINT64_MAX && s.req_gpa != UINT64_MAX && s.reply_gpa != UINT64_MAX &&
          s.data_gpa != UINT64_MAX;
    if (!ok_) break;
    s.req = ram.Host(s.req_gpa);
    s.reply = ram.Host(s.reply_gpa);
    s.data = ram.Host(s.data_gpa);
  }
  done_.reserve(depth);
}

void QueueDriver::Prepare(Slot& s, uint32_t opcode, uint64_t nodeid, uint32_t uid, uint32_t gid) {
  fuse_in_header* h = s.in_header();
  h->len = static_cast<uint32_t>(sizeof(fuse_in_header)) + s.args_len + s.data_in;
  h->opcode = opcode;
  h->unique = unique();
  h->nodeid = nodeid;
  h->uid = uid;
  h->gid = gid;
  h->pid = 1;
  h->total_extlen = 0;
  h->padding = 0;
}

void QueueDriver::Add(Slot& s) {
  auto* t = ram_.As<virtio::Desc>(s.table_gpa);
  uint32_t n = 0;
  auto put = [&](uint64_t gpa, uint32_t len, bool writable) {
    t[n] = virtio::Desc{gpa, len, static_cast<uint16_t>(writable ? virtio::kDescFWrite : 0),
                        static_cast<uint16_t>(n + 1)};
    t[n].flags |= virtio::kDescFNext;
    ++n;
  };
  put(s.req_gpa, sizeof(fuse_in_header), false);
  if (s.args_len > 0) put(s.req_gpa + sizeof(fuse_in_header), s.args_len, false);
  for (uint32_t off = 0; off < s.data_in; off += kPage) {
    put(s.data_gpa + off, std::min(kPage, s.data_in - off), false);
  }
  if (!s.no_reply) {
    put(s.reply_gpa, sizeof(fuse_out_header), true);
    if (s.out_args > 0) put(s.reply_gpa + sizeof(fuse_out_header), s.out_args, true);
    for (uint32_t off = 0; off < s.data_out; off += kPage) {
      put(s.data_gpa + off, std::min(kPage, s.data_out - off), true);
    }
    // Poison the header so that a reply that was never written shows up.
    memset(s.reply, 0xff, sizeof(fuse_out_header));
  }
  t[n - 1].flags &= static_cast<uint16_t>(~virtio::kDescFNext);
  t[n - 1].next = 0;
  s.in_flight = true;
  ring_.AddIndirect(s.head, s.table_gpa, n);
}

void QueueDriver::Flush() {
  if (ring_.Publish()) {
    ++kicks_;
    (void)eventfd_write(kick_fd_, 1);
  }
}

const std::vector<uint32_t>& QueueDriver::Wait(int timeout_ms) {
  done_.clear();
  for (;;) {
    uint32_t id, len;
    while (ring_.PopUsed(&id, &len)) {
      // A backend that returns a chain twice, or one it never got, is
      // ignored here (and shows up as a stuck or short run).
      if (id < slots_.size() && slots_[id].in_flight) {
        slots_[id].in_flight = false;
        done_.push_back(id);
      }
    }
    if (!done_.empty()) return done_;
    if (ring_.EnableInterrupts()) continue;  // raced with the device
    pollfd p{call_fd_, POLLIN, 0};
    int rc = poll(&p, 1, timeout_ms);
    if (rc < 0 && errno == EINTR) continue;
    if (rc <= 0) return done_;
    eventfd_t v;
    (void)eventfd_read(call_fd_, &v);
    ++interrupts_;
  }
}

int QueueDriver::Call(Slot& s, int timeout_ms) {
  Add(s);
  Flush();
  for (;;) {
    const auto& done = Wait(timeout_ms);
    if (done.empty()) return -ETIMEDOUT;
    for (uint32_t i : done) {
      if (&slots_[i] == &s) {
        if (s.no_reply) return 0;
        const fuse_out_header* h = s.out_header();
        if (h->len == UINT32_MAX) return -EPROTO;  // the poison is still there
        return -h->error;
      }
    }
  }
}

}  // namespace hostshare::bench
