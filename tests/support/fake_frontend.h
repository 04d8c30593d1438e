// FakeFrontend: plays the VMM (QEMU) on a vhost-user connection.
//
// It speaks the real wire protocol over a Unix socket (normally one end of a
// socketpair whose other end goes to the backend under test), passes fds
// with real SCM_RIGHTS, owns the guest memory's driver side (one
// FakeVirtqueue per queue, laid out in a FakeGuestMemory) and the kick/call
// eventfds. Three levels of use:
//
//  * Raw: SendRaw / SendBytes / ReceiveReply put arbitrary (malformed)
//    messages on the wire: for hostile-input tests and fuzzers.
//  * Typed: one call per vhost-user message (GetFeatures, SetVringAddr, ...).
//    When REPLY_ACK is negotiated and options().ack_every_message is set,
//    messages without a reply of their own carry NEED_REPLY and the call
//    waits for the ack, so that it returns only once the backend handled it.
//    Sync() is a round trip that does the same without REPLY_ACK.
//  * Scripted: Handshake() replays what QEMU 7.2 sends when a
//    vhost-user-fs-pci device boots (see
//    /work/shared/design/qemu-7.2-vhost-user-trace.txt); StopQueues() and
//    Reboot() what it sends when the guest reboots; Submit() publishes a
//    [request | reply buffer] chain, kicks, waits for the interrupt and
//    returns the used element and the reply bytes.
//
// Every wait is bounded by options().timeout_ms (ETIMEDOUT), and a closed
// backend shows up as ECONNRESET: a broken backend fails a test, it never
// hangs it. Nothing here uses gtest, so benchmarks and fuzzers can use it.
//
// Thread-safety: one thread drives a FakeFrontend.
#pragma once

#include <poll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <sys/uio.h>

#include <chrono>
#include <cstring>
#include <map>
#include <memory>
#include <vector>

#include "base/result.h"
#include "base/scoped_fd.h"
#include "support/fake_guest_memory.h"
#include "support/fake_virtqueue.h"
#include "vhost_user/protocol.h"

namespace hostshare::fake {

namespace vu = ::hostshare::vhost_user;

// Protocol features QEMU 7.2 supports and acks for vhost-user-fs (the trace
// shows 0x8c2b acked against the reference virtiofsd; QEMU also knows
// CONFIG and RESET_DEVICE).
inline constexpr uint64_t kQemu72ProtocolFeatures =
    0x8c2b | vu::kPConfig | vu::kPResetDevice;
inline constexpr uint64_t kQemu72Features =
    vu::kFVersion1 | vu::kFRingIndirectDesc | vu::kFRingEventIdx | vu::kFProtocolFeatures;

struct FrontendOptions {
  uint32_t num_queues = 2;     // virtio-fs: hiprio + one request queue
  uint32_t queue_size = 1024;  // what QEMU 7.2 uses for vhost-user-fs
  uint64_t features = kQemu72Features;                    // acked: offered & these
  uint64_t protocol_features = kQemu72ProtocolFeatures;   // acked: offered & these
  bool prefer_mem_slots = true;    // ADD_MEM_REG when CONFIGURE_MEM_SLOTS was negotiated
  bool ack_every_message = true;   // NEED_REPLY on every reply-less message (with REPLY_ACK)
  int timeout_ms = 5000;
};

class FakeFrontend {
 public:
  struct Reply {
    vu::Header header{};
    std::vector<uint8_t> payload;
    size_t fds = 0;  // fds that came with it (closed)
  };
  using Completion = FakeVirtqueue::Completion;

  // Creates a socketpair: the frontend keeps one end, `backend_end` gets the
  // other. nullptr if the socketpair, eventfds or rings cannot be created.
  static std::unique_ptr<FakeFrontend> Connect(FakeGuestMemory& mem, ScopedFd* backend_end,
                                               FrontendOptions opts = {}) {
    int sv[2];
    if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) != 0) return nullptr;
    backend_end->reset(sv[1]);
    auto f = std::make_unique<FakeFrontend>(ScopedFd(sv[0]), mem, opts);
    if (!f->ok()) return nullptr;
    return f;
  }

  FakeFrontend(ScopedFd sock, FakeGuestMemory& mem, FrontendOptions opts = {})
      : sock_(std::move(sock)), mem_(mem), opts_(opts) {
    ok_ = sock_.valid() && mem.ok();
    for (uint32_t i = 0; i < opts_.num_queues && ok_; ++i) {
      auto q = std::make_unique<Queue>();
      q->vq = std::make_unique<FakeVirtqueue>(mem, opts_.queue_size);
      q->kick.reset(eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK));
      q->call.reset(eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK));
      q->err.reset(eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK));
      ok_ = q->vq->ok() && q->kick.valid() && q->call.valid() && q->err.valid();
      queues_.push_back(std::move(q));
    }
  }
  FakeFrontend(const FakeFrontend&) = delete;
  FakeFrontend& operator=(const FakeFrontend&) = delete;

  bool ok() const { return ok_; }
  const FrontendOptions& options() const { return opts_; }
  FrontendOptions& mutable_options() { return opts_; }
  FakeGuestMemory& memory() { return mem_; }
  int socket_fd() const { return sock_.get(); }
  uint64_t offered_features() const { return offered_features_; }
  uint64_t offered_protocol_features() const { return offered_protocol_; }
  uint64_t acked_features() const { return acked_features_; }
  uint64_t acked_protocol_features() const { return acked_protocol_; }
  // Our end of the SET_BACKEND_REQ_FD socketpair (-1 before Negotiate()).
  int backend_req_fd() const { return backend_req_.get(); }

  uint32_t num_queues() const { return static_cast<uint32_t>(queues_.size()); }
  FakeVirtqueue& queue(uint32_t i) { return *queues_.at(i)->vq; }
  int kick_fd(uint32_t i) const { return queues_.at(i)->kick.get(); }
  int call_fd(uint32_t i) const { return queues_.at(i)->call.get(); }

  // Closes our socket: the backend sees EOF.
  void Close() { sock_.reset(); }

  // ---- Raw ---------------------------------------------------------------------

  // Sends exactly `n` bytes with `fds` attached (SCM_RIGHTS) in one sendmsg.
  Status SendBytes(const void* data, size_t n, const std::vector<int>& fds = {}) {
    iovec iov{const_cast<void*>(data), n};
    msghdr mh{};
    mh.msg_iov = &iov;
    mh.msg_iovlen = 1;
    std::vector<char> control;
    if (!fds.empty()) {
      control.resize(CMSG_SPACE(sizeof(int) * fds.size()));
      mh.msg_control = control.data();
      mh.msg_controllen = control.size();
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
    if (rc < 0) return LastErrno();
    if (static_cast<size_t>(rc) != n) return Errno{EIO};
    return OkStatus();
  }

  // Sends a header (with `flags` verbatim, so the version bits can be wrong)
  // and `size` payload bytes. `header_size` overrides the header's size field.
  Status SendRaw(uint32_t request, uint32_t flags, const void* payload, size_t size,
                 const std::vector<int>& fds = {},
                 std::optional<uint32_t> header_size = std::nullopt) {
    std::vector<uint8_t> buf(sizeof(vu::Header) + size);
    vu::Header h{request, flags, header_size ? *header_size : static_cast<uint32_t>(size)};
    memcpy(buf.data(), &h, sizeof(h));
    if (size > 0) memcpy(buf.data() + sizeof(h), payload, size);
    return SendBytes(buf.data(), buf.size(), fds);
  }

  // Receives one message from the backend. ETIMEDOUT after the timeout,
  // ECONNRESET if the backend closed the connection.
  Result<Reply> ReceiveReply() {
    Reply r;
    HS_RETURN_IF_ERROR(ReadFully(&r.header, sizeof(r.header), &r.fds));
    if (r.header.size > vu::kMaxPayload) return Errno{EMSGSIZE};
    r.payload.resize(r.header.size);
    HS_RETURN_IF_ERROR(ReadFully(r.payload.data(), r.payload.size(), &r.fds));
    return r;
  }

  // True when the backend closes the connection within `timeout_ms`
  // (anything it sends meanwhile is discarded).
  bool WaitForClose(int timeout_ms) {
    auto deadline = Clock::now() + std::chrono::milliseconds(timeout_ms);
    for (;;) {
      int left = MsLeft(deadline);
      pollfd p{sock_.get(), POLLIN, 0};
      int rc = poll(&p, 1, left);
      if (rc < 0 && errno == EINTR) continue;
      if (rc <= 0) return false;
      char buf[256];
      ssize_t n = recv(sock_.get(), buf, sizeof(buf), MSG_DONTWAIT);
      if (n == 0) return true;
      if (n < 0 && errno != EAGAIN && errno != EINTR) return true;  // ECONNRESET etc.
    }
  }

  // ---- Typed messages -----------------------------------------------------------

  Result<uint64_t> GetFeatures() {
    auto v = GetU64(vu::kGetFeatures);
    if (v.ok()) offered_features_ = *v;
    return v;
  }
  Status SetFeatures(uint64_t f) {
    HS_RETURN_IF_ERROR(SendU64(vu::kSetFeatures, f));
    acked_features_ = f;
    return OkStatus();
  }
  Result<uint64_t> GetProtocolFeatures() {
    auto v = GetU64(vu::kGetProtocolFeatures);
    if (v.ok()) offered_protocol_ = *v;
    return v;
  }
  Status SetProtocolFeatures(uint64_t f) {
    HS_RETURN_IF_ERROR(SendU64(vu::kSetProtocolFeatures, f));
    acked_protocol_ = f;
    return OkStatus();
  }
  Status SetOwner() { return SendMessage(vu::kSetOwner, nullptr, 0); }
  Status ResetOwner() { return SendMessage(vu::kResetOwner, nullptr, 0); }
  Status ResetDevice() { return SendMessage(vu::kResetDevice, nullptr, 0); }
  Result<uint64_t> GetQueueNum() { return GetU64(vu::kGetQueueNum); }
  Result<uint64_t> GetMaxMemSlots() { return GetU64(vu::kGetMaxMemSlots); }

  // Sends one end of a new socketpair (the backend's request channel).
  Status SetBackendReqFd() {
    int sv[2];
    if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) != 0) return LastErrno();
    backend_req_.reset(sv[0]);
    ScopedFd theirs(sv[1]);
    return SendMessage(vu::kSetBackendReqFd, nullptr, 0, {theirs.get()});
  }

  // SET_MEM_TABLE with the given regions and fds (counts may differ: hostile).
  Status SetMemTable(const std::vector<virtio::RegionSpec>& regions, const std::vector<int>& fds,
                     std::optional<uint32_t> nregions = std::nullopt) {
    std::vector<uint8_t> p(8 + regions.size() * sizeof(vu::MemoryRegion));
    uint32_t n = nregions ? *nregions : static_cast<uint32_t>(regions.size());
    memcpy(p.data(), &n, 4);
    for (size_t i = 0; i < regions.size(); ++i) {
      vu::MemoryRegion r = ToWire(regions[i]);
      memcpy(p.data() + 8 + i * sizeof(r), &r, sizeof(r));
    }
    return SendMessage(vu::kSetMemTable, p.data(), p.size(), fds);
  }
  // SET_MEM_TABLE with every region of the guest memory.
  Status SetMemTable() {
    return SetMemTable(mem_.specs(), std::vector<int>(mem_.specs().size(), mem_.fd()));
  }
  Status AddMemReg(const virtio::RegionSpec& spec, int fd) {
    vu::SingleMemoryRegion m{0, ToWire(spec)};
    return SendMessage(vu::kAddMemReg, &m, sizeof(m), {fd});
  }
  Status RemMemReg(const virtio::RegionSpec& spec, bool with_fd = false) {
    vu::SingleMemoryRegion m{0, ToWire(spec)};
    std::vector<int> fds;
    if (with_fd) fds.push_back(mem_.fd());
    return SendMessage(vu::kRemMemReg, &m, sizeof(m), fds);
  }

  Status SetVringNum(uint32_t index, uint32_t num) {
    return SendState(vu::kSetVringNum, index, num);
  }
  Status SetVringBase(uint32_t index, uint32_t base) {
    return SendState(vu::kSetVringBase, index, base);
  }
  Status SetVringEnable(uint32_t index, bool enable) {
    return SendState(vu::kSetVringEnable, index, enable ? 1 : 0);
  }
  Status SetVringAddr(uint32_t index, uint64_t desc_uva, uint64_t avail_uva, uint64_t used_uva) {
    vu::VringAddr a{index, 0, desc_uva, used_uva, avail_uva, 0};
    return SendMessage(vu::kSetVringAddr, &a, sizeof(a));
  }
  // The rings of queue(index), at their frontend addresses.
  Status SetVringAddr(uint32_t index) {
    FakeVirtqueue& q = queue(index);
    return SetVringAddr(index, q.desc_uva(), q.avail_uva(), q.used_uva());
  }
  Result<uint32_t> GetVringBase(uint32_t index) {
    vu::VringState s{index, 0};
    HS_RETURN_IF_ERROR(SendRaw(vu::kGetVringBase, vu::kVersion, &s, sizeof(s)));
    auto r = ExpectReply(vu::kGetVringBase, sizeof(vu::VringState));
    if (!r.ok()) return Errno{r.error()};
    vu::VringState out;
    memcpy(&out, r->payload.data(), sizeof(out));
    if (out.index != index) return Errno{EPROTO};
    return out.num;
  }
  // fd < 0 sends the "no fd" flag (bit 8) instead of an fd.
  Status SetVringKick(uint32_t index, int fd) { return SendVringFd(vu::kSetVringKick, index, fd); }
  Status SetVringCall(uint32_t index, int fd) { return SendVringFd(vu::kSetVringCall, index, fd); }
  Status SetVringErr(uint32_t index, int fd) { return SendVringFd(vu::kSetVringErr, index, fd); }
  Status SetVringKick(uint32_t index) { return SetVringKick(index, kick_fd(index)); }
  Status SetVringCall(uint32_t index) { return SetVringCall(index, call_fd(index)); }

  // GET_CONFIG; returns the config bytes (empty when the backend refused).
  Result<std::vector<uint8_t>> GetConfig(uint32_t offset, uint32_t size) {
    std::vector<uint8_t> p(sizeof(vu::ConfigHeader) + size);
    vu::ConfigHeader h{offset, size, 0};
    memcpy(p.data(), &h, sizeof(h));
    HS_RETURN_IF_ERROR(SendRaw(vu::kGetConfig, vu::kVersion, p.data(), p.size()));
    auto r = ExpectReply(vu::kGetConfig, std::nullopt);
    if (!r.ok()) return Errno{r.error()};
    if (r->payload.empty()) return std::vector<uint8_t>{};
    if (r->payload.size() != sizeof(h) + size) return Errno{EPROTO};
    return std::vector<uint8_t>(r->payload.begin() + sizeof(h), r->payload.end());
  }

  // A round trip: when it returns, the backend handled every earlier message.
  Status Sync() {
    auto v = GetU64(vu::kGetFeatures);
    if (!v.ok()) return Errno{v.error()};
    return OkStatus();
  }

  // ---- QEMU 7.2 sequences ----------------------------------------------------------

  // vhost_dev_init + vhost_user_backend_init: feature and protocol-feature
  // negotiation, queue count, memory slots, backend request channel, owner,
  // and the first SET_VRING_CALL / SET_VRING_ERR of every queue.
  Status Negotiate() {
    auto f = GetFeatures();
    if (!f.ok()) return Errno{f.error()};
    if (*f & opts_.features & vu::kFProtocolFeatures) {
      auto pf = GetProtocolFeatures();
      if (!pf.ok()) return Errno{pf.error()};
      HS_RETURN_IF_ERROR(SetProtocolFeatures(*pf & opts_.protocol_features));
      if (acked_protocol_ & vu::kPMq) {
        auto n = GetQueueNum();
        if (!n.ok()) return Errno{n.error()};
        if (*n < num_queues()) return Errno{ENOTSUP};
      }
      if (acked_protocol_ & vu::kPConfigureMemSlots) {
        auto n = GetMaxMemSlots();
        if (!n.ok()) return Errno{n.error()};
        max_mem_slots_ = *n;
      }
      if ((acked_protocol_ & vu::kPBackendReq) && (acked_protocol_ & vu::kPReplyAck)) {
        HS_RETURN_IF_ERROR(SetBackendReqFd());
      }
    }
    HS_RETURN_IF_ERROR(SetOwner());
    f = GetFeatures();
    if (!f.ok()) return Errno{f.error()};
    for (uint32_t i = 0; i < num_queues(); ++i) {
      HS_RETURN_IF_ERROR(SetVringCall(i));
      HS_RETURN_IF_ERROR(SetVringErr(i, queues_[i]->err.get()));
    }
    return OkStatus();
  }

  // vhost_dev_start, first half: SET_FEATURES and the memory table (one
  // ADD_MEM_REG per region when CONFIGURE_MEM_SLOTS is on, as QEMU 7.2).
  Status SendMemory() {
    HS_RETURN_IF_ERROR(SetFeatures(offered_features_ & opts_.features));
    if (opts_.prefer_mem_slots && (acked_protocol_ & vu::kPConfigureMemSlots)) {
      for (const auto& s : mem_.specs()) HS_RETURN_IF_ERROR(AddMemReg(s, mem_.fd()));
      return OkStatus();
    }
    return SetMemTable();
  }

  // vhost_dev_start, second half: every ring (NUM, BASE, ADDR, KICK), then
  // SET_VRING_ENABLE 1 on each (with PROTOCOL_FEATURES), then the call fds
  // again (QEMU re-sends them after unmasking).
  Status StartQueues(const std::vector<uint16_t>& bases = {}) {
    for (uint32_t i = 0; i < num_queues(); ++i) {
      HS_RETURN_IF_ERROR(SetVringNum(i, queue(i).size()));
      HS_RETURN_IF_ERROR(SetVringBase(i, i < bases.size() ? bases[i] : 0));
      HS_RETURN_IF_ERROR(SetVringAddr(i));
      HS_RETURN_IF_ERROR(SetVringKick(i));
    }
    if (acked_features_ & vu::kFProtocolFeatures) {
      for (uint32_t i = 0; i < num_queues(); ++i) HS_RETURN_IF_ERROR(SetVringEnable(i, true));
    }
    for (uint32_t i = 0; i < num_queues(); ++i) HS_RETURN_IF_ERROR(SetVringCall(i));
    return Sync();
  }

  // Boot: Negotiate + SendMemory + StartQueues.
  Status Handshake() {
    HS_RETURN_IF_ERROR(Negotiate());
    HS_RETURN_IF_ERROR(SendMemory());
    return StartQueues();
  }

  // vhost_dev_stop: SET_VRING_ENABLE 0 on every ring, then GET_VRING_BASE
  // on each (which stops it); returns the bases.
  Result<std::vector<uint16_t>> StopQueues() {
    if (acked_features_ & vu::kFProtocolFeatures) {
      for (uint32_t i = 0; i < num_queues(); ++i) {
        Status st = SetVringEnable(i, false);
        if (!st.ok()) return Errno{st.error()};
      }
    }
    std::vector<uint16_t> bases;
    for (uint32_t i = 0; i < num_queues(); ++i) {
      auto b = GetVringBase(i);
      if (!b.ok()) return Errno{b.error()};
      bases.push_back(static_cast<uint16_t>(*b));
    }
    return bases;
  }

  // A guest reboot as QEMU 7.2 plays it (no reset message): stop the rings,
  // the rebooted driver re-initialises them, then SET_FEATURES and a restart
  // from base 0. The memory table is not re-sent.
  Status Reboot() {
    auto bases = StopQueues();
    if (!bases.ok()) return Errno{bases.error()};
    for (auto& q : queues_) {
      q->vq->Reset();
      Drain(q->call.get());
      Drain(q->kick.get());
    }
    HS_RETURN_IF_ERROR(SetFeatures(offered_features_ & opts_.features));
    return StartQueues();
  }

  // ---- Data path ----------------------------------------------------------------

  Status Kick(uint32_t q) {
    if (eventfd_write(kick_fd(q), 1) != 0) return LastErrno();
    return OkStatus();
  }

  // Waits up to `timeout_ms` for an interrupt on queue q; returns how many
  // signals were pending (0 on timeout) and resets the eventfd.
  uint64_t WaitCall(uint32_t q, int timeout_ms) {
    pollfd p{call_fd(q), POLLIN, 0};
    int rc;
    do {
      rc = poll(&p, 1, timeout_ms);
    } while (rc < 0 && errno == EINTR);
    if (rc <= 0) return 0;
    return Drain(call_fd(q));
  }
  // Pending interrupt count without waiting (resets it).
  uint64_t TakeCalls(uint32_t q) { return Drain(call_fd(q)); }

  // Waits for the used element of `head` on queue q (interrupt-driven:
  // a device that forgets to signal makes this time out).
  Result<Completion> WaitUsed(uint32_t q, uint16_t head) {
    auto deadline = Clock::now() + std::chrono::milliseconds(opts_.timeout_ms);
    auto& stash = queues_.at(q)->done;
    for (;;) {
      while (auto c = queue(q).TakeUsed()) stash.emplace(c->head, std::move(*c));
      auto it = stash.find(head);
      if (it != stash.end()) {
        Completion c = std::move(it->second);
        stash.erase(it);
        return c;
      }
      int left = MsLeft(deadline);
      if (left == 0 || WaitCall(q, left) == 0) return Errno{ETIMEDOUT};
    }
  }

  // Publishes [request (device-readable) | reply_len bytes (device-writable)]
  // on queue q, kicks, and waits for it to come back. A zero reply_len gives
  // a chain with no writable part (FORGET).
  Result<Completion> Submit(uint32_t q, const std::vector<uint8_t>& request, uint32_t reply_len) {
    ChainBuilder b = queue(q).Chain();
    if (!request.empty()) b.Readable(request);
    if (reply_len > 0) b.Writable(reply_len);
    auto c = b.Publish();
    if (!c) return Errno{ENOSPC};
    HS_RETURN_IF_ERROR(Kick(q));
    return WaitUsed(q, c->head);
  }

 private:
  using Clock = std::chrono::steady_clock;
  struct Queue {
    std::unique_ptr<FakeVirtqueue> vq;
    ScopedFd kick, call, err;
    std::map<uint16_t, Completion> done;  // completions taken while waiting for another
  };

  static int MsLeft(Clock::time_point deadline) {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now());
    return left.count() > 0 ? static_cast<int>(left.count()) : 0;
  }
  static uint64_t Drain(int efd) {
    eventfd_t v = 0;
    if (eventfd_read(efd, &v) != 0) return 0;
    return v;
  }
  static vu::MemoryRegion ToWire(const virtio::RegionSpec& s) {
    return {s.guest_addr, s.size, s.user_addr, s.mmap_offset};
  }

  // Reads exactly n bytes within the timeout; counts (and closes) any fds.
  Status ReadFully(void* buf, size_t n, size_t* nfds) {
    auto deadline = Clock::now() + std::chrono::milliseconds(opts_.timeout_ms);
    auto* p = static_cast<uint8_t*>(buf);
    while (n > 0) {
      pollfd pfd{sock_.get(), POLLIN, 0};
      int rc = poll(&pfd, 1, MsLeft(deadline));
      if (rc < 0 && errno == EINTR) continue;
      if (rc < 0) return LastErrno();
      if (rc == 0) return Errno{ETIMEDOUT};
      alignas(cmsghdr) char control[CMSG_SPACE(sizeof(int) * 8)];
      iovec iov{p, n};
      msghdr mh{};
      mh.msg_iov = &iov;
      mh.msg_iovlen = 1;
      mh.msg_control = control;
      mh.msg_controllen = sizeof(control);
      ssize_t got = recvmsg(sock_.get(), &mh, MSG_DONTWAIT | MSG_CMSG_CLOEXEC);
      if (got < 0 && (errno == EAGAIN || errno == EINTR)) continue;
      if (got < 0) return LastErrno();
      if (got == 0) return Errno{ECONNRESET};
      for (cmsghdr* c = CMSG_FIRSTHDR(&mh); c != nullptr; c = CMSG_NXTHDR(&mh, c)) {
        if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS) continue;
        size_t k = (c->cmsg_len - CMSG_LEN(0)) / sizeof(int);
        for (size_t i = 0; i < k; ++i) {
          int fd;
          memcpy(&fd, CMSG_DATA(c) + i * sizeof(int), sizeof(int));
          close(fd);
          ++*nfds;
        }
      }
      p += got;
      n -= static_cast<size_t>(got);
    }
    return OkStatus();
  }

  // Receives the reply to `request`: REPLY flag, same code, and (when given) that size.
  Result<Reply> ExpectReply(uint32_t request, std::optional<uint32_t> size) {
    auto r = ReceiveReply();
    if (!r.ok()) return r;
    if (r->header.request != request || (r->header.flags & vu::kVersionMask) != vu::kVersion ||
        !(r->header.flags & vu::kFlagReply) || (size && r->header.size != *size)) {
      return Errno{EPROTO};
    }
    return r;
  }

  bool WantAck(uint32_t request) const {
    if (!(acked_protocol_ & vu::kPReplyAck)) return false;
    if (opts_.ack_every_message) return true;
    // What QEMU 7.2 sends with NEED_REPLY (see the trace).
    return request == vu::kSetBackendReqFd || request == vu::kAddMemReg ||
           request == vu::kRemMemReg || request == vu::kSetMemTable;
  }

  // Sends a message that has no reply of its own; waits for the ack when
  // NEED_REPLY is used. A non-zero ack is EREMOTEIO.
  Status SendMessage(uint32_t request, const void* payload, size_t size,
                     const std::vector<int>& fds = {}) {
    bool ack = WantAck(request);
    HS_RETURN_IF_ERROR(SendRaw(request, vu::kVersion | (ack ? vu::kFlagNeedReply : 0), payload,
                               size, fds));
    if (!ack) return OkStatus();
    auto r = ExpectReply(request, 8);
    if (!r.ok()) return Errno{r.error()};
    uint64_t v;
    memcpy(&v, r->payload.data(), 8);
    return v == 0 ? OkStatus() : Status(Errno{EREMOTEIO});
  }
  Status SendU64(uint32_t request, uint64_t v) { return SendMessage(request, &v, sizeof(v)); }
  Status SendState(uint32_t request, uint32_t index, uint32_t num) {
    vu::VringState s{index, num};
    return SendMessage(request, &s, sizeof(s));
  }
  Status SendVringFd(uint32_t request, uint32_t index, int fd) {
    uint64_t v = index;
    std::vector<int> fds;
    if (fd < 0) {
      v |= vu::kVringNoFdMask;
    } else {
      fds.push_back(fd);
    }
    return SendMessage(request, &v, sizeof(v), fds);
  }
  Result<uint64_t> GetU64(uint32_t request) {
    HS_RETURN_IF_ERROR(SendRaw(request, vu::kVersion, nullptr, 0));
    auto r = ExpectReply(request, 8);
    if (!r.ok()) return Errno{r.error()};
    uint64_t v;
    memcpy(&v, r->payload.data(), 8);
    return v;
  }

  ScopedFd sock_;
  FakeGuestMemory& mem_;
  FrontendOptions opts_;
  bool ok_ = false;
  std::vector<std::unique_ptr<Queue>> queues_;
  ScopedFd backend_req_;
  uint64_t offered_features_ = 0;
  uint64_t offered_protocol_ = 0;
  uint64_t acked_features_ = 0;
  uint64_t acked_protocol_ = 0;
  uint64_t max_mem_slots_ = 0;
};

}  // namespace hostshare::fake
