#include "vhost_user/session.h"

#include <fcntl.h>

#include <algorithm>
#include <cstring>

#include "base/log.h"

namespace hostshare::vhost_user {
namespace {

// Kick and call fds are shared with the frontend, which may hand us a
// blocking pipe instead of an eventfd: a call pipe nobody reads would block
// a queue worker's write once full, a kick drained by the frontend between
// poll and read would block its read, and either would then hang the
// session in StopQueue. Non-blocking, neither can wait on the frontend.
bool SetNonBlocking(int fd) {
  int flags = fcntl(fd, F_GETFL);
  if (flags < 0) return false;
  return (flags & O_NONBLOCK) != 0 || fcntl(fd, F_SETFL, flags | O_NONBLOCK) == 0;
}

template <typename T>
T PayloadAs(const Message& msg) {
  T v;
  memcpy(&v, msg.payload, sizeof(T));
  return v;
}

}  // namespace

Session::Session(ScopedFd conn, DeviceBackend& device)
    : channel_(std::move(conn)), device_(device) {}

Session::~Session() { ResetAll(); }

Status Session::Fail(const char* why) {
  LOG_ERROR("vhost-user: %s; closing the connection", why);
  return Errno{EPROTO};
}

uint64_t Session::OfferedFeatures() const {
  return kFVersion1 | kFRingIndirectDesc | kFRingEventIdx | kFProtocolFeatures |
         device_.DeviceFeatures();
}

uint64_t Session::OfferedProtocolFeatures() const {
  uint64_t f = kPMq | kPReplyAck | kPConfigureMemSlots | kPBackendReq | kPBackendSendFd |
               kPResetDevice;
  // QEMU 7.1-8.0 crash when a vhost-user-fs backend offers CONFIG, so it is
  // offered only when the device really has a config space (--tag).
  if (!device_.Config().empty()) f |= kPConfig;
  return f;
}

Status Session::Reply(const Message& msg, const void* payload, uint32_t size) {
  return channel_.Send(msg.header.request, kVersion | kFlagReply, payload, size);
}

Status Session::ReplyU64(const Message& msg, uint64_t value) {
  return Reply(msg, &value, sizeof(value));
}

Status Session::Ack(const Message& msg, bool ok) {
  if ((acked_protocol_ & kPReplyAck) && (msg.header.flags & kFlagNeedReply)) {
    return ReplyU64(msg, ok ? 0 : 1);
  }
  return OkStatus();
}

Status Session::ExpectPayload(const Message& msg, uint32_t size, size_t nfds) {
  if (msg.header.size != size) return Fail("message payload has the wrong size");
  if (msg.fds.size() != nfds) return Fail("message carries the wrong number of fds");
  return OkStatus();
}

Result<uint32_t> Session::QueueIndex(uint64_t index) {
  if (index >= std::min(device_.MaxQueues(), kMaxQueues)) {
    return Errno{Fail("queue index out of range").error()};
  }
  return static_cast<uint32_t>(index);
}

Status Session::Run() {
  Message msg;
  for (;;) {
    Status st = channel_.Receive(&msg);
    if (!st.ok()) {
      if (st.error() == ECONNRESET) {
        LOG_INFO("vhost-user: frontend disconnected");
        ResetAll();
        return OkStatus();
      }
      LOG_ERROR("vhost-user: receive failed: %s; closing the connection", strerror(st.error()));
      ResetAll();
      return st;
    }
    LOG_DEBUG("vhost-user: <- %s flags=0x%x size=%u fds=%zu", RequestName(msg.header.request),
              msg.header.flags, msg.header.size, msg.fds.size());
    st = Handle(msg);
    if (!st.ok()) {
      ResetAll();
      return st;
    }
  }
}

Status Session::Handle(Message& msg) {
  if ((msg.header.flags & kVersionMask) != kVersion) return Fail("unsupported protocol version");
  switch (msg.header.request) {
    case kGetFeatures:
      HS_RETURN_IF_ERROR(ExpectPayload(msg, 0, 0));
      return ReplyU64(msg, OfferedFeatures());
    case kSetFeatures: {
      HS_RETURN_IF_ERROR(ExpectPayload(msg, 8, 0));
      uint64_t f = PayloadAs<uint64_t>(msg);
      if (f & ~OfferedFeatures()) return Fail("frontend acked features we did not offer");
      acked_features_ = f;
      features_set_ = true;
      return Ack(msg, true);
    }
    case kGetProtocolFeatures:
      HS_RETURN_IF_ERROR(ExpectPayload(msg, 0, 0));
      return ReplyU64(msg, OfferedProtocolFeatures());
    case kSetProtocolFeatures: {
      HS_RETURN_IF_ERROR(ExpectPayload(msg, 8, 0));
      uint64_t f = PayloadAs<uint64_t>(msg);
      if (f & ~OfferedProtocolFeatures()) {
        return Fail("frontend acked protocol features we did not offer");
      }
      acked_protocol_ = f;
      return Ack(msg, true);
    }
    case kSetOwner:
      HS_RETURN_IF_ERROR(ExpectPayload(msg, 0, 0));
      return Ack(msg, true);
    case kResetOwner:
    case kResetDevice:
      HS_RETURN_IF_ERROR(ExpectPayload(msg, 0, 0));
      ResetAll();
      return Ack(msg, true);
    case kGetQueueNum:
      HS_RETURN_IF_ERROR(ExpectPayload(msg, 0, 0));
      return ReplyU64(msg, std::min(device_.MaxQueues(), kMaxQueues));
    case kGetMaxMemSlots:
      HS_RETURN_IF_ERROR(ExpectPayload(msg, 0, 0));
      return ReplyU64(msg, virtio::GuestMemory::kMaxRegions);
    case kSetMemTable:
      return SetMemTable(msg);
    case kAddMemReg:
      return AddMemReg(msg);
    case kRemMemReg:
      return RemMemReg(msg);
    case kSetVringNum: {
      HS_RETURN_IF_ERROR(ExpectPayload(msg, sizeof(VringState), 0));
      auto s = PayloadAs<VringState>(msg);
      auto idx = QueueIndex(s.index);
      if (!idx.ok()) return Errno{idx.error()};
      if (s.num == 0 || s.num > virtio::kMaxQueueSize || (s.num & (s.num - 1)) != 0) {
        return Fail("ring size is not a power of two <= 32768");
      }
      Stop(*idx);
      vrings_[*idx].num = s.num;
      return Ack(msg, true);
    }
    case kSetVringAddr: {
      HS_RETURN_IF_ERROR(ExpectPayload(msg, sizeof(VringAddr), 0));
      auto a = PayloadAs<VringAddr>(msg);
      auto idx = QueueIndex(a.index);
      if (!idx.ok()) return Errno{idx.error()};
      Vring& vr = vrings_[*idx];
      Stop(*idx);
      vr.desc = a.desc_user_addr;
      vr.avail = a.avail_user_addr;
      vr.used = a.used_user_addr;
      vr.addr_set = true;
      if (mem_ && vr.num != 0) {
        virtio::QueueLayout layout;
        if (!virtio::MapQueue(*mem_, vr.num, vr.desc, vr.avail, vr.used, &layout).ok()) {
          return Fail("ring addresses are not inside guest memory");
        }
      }
      HS_RETURN_IF_ERROR(MaybeStart(*idx));
      return Ack(msg, true);
    }
    case kSetVringBase: {
      HS_RETURN_IF_ERROR(ExpectPayload(msg, sizeof(VringState), 0));
      auto s = PayloadAs<VringState>(msg);
      auto idx = QueueIndex(s.index);
      if (!idx.ok()) return Errno{idx.error()};
      if (s.num > 0xffff) return Fail("ring base does not fit 16 bits");
      Stop(*idx);
      vrings_[*idx].base = static_cast<uint16_t>(s.num);
      return Ack(msg, true);
    }
    case kGetVringBase: {
      HS_RETURN_IF_ERROR(ExpectPayload(msg, sizeof(VringState), 0));
      auto s = PayloadAs<VringState>(msg);
      auto idx = QueueIndex(s.index);
      if (!idx.ok()) return Errno{idx.error()};
      // Stopping drains the request in flight before we report the index.
      Stop(*idx);
      Vring& vr = vrings_[*idx];
      vr.kick.reset();
      vr.has_kick = false;
      VringState out{*idx, vr.base};
      return Reply(msg, &out, sizeof(out));
    }
    case kSetVringKick:
    case kSetVringCall:
    case kSetVringErr:
      return HandleVringFd(msg);
    case kSetVringEnable: {
      HS_RETURN_IF_ERROR(ExpectPayload(msg, sizeof(VringState), 0));
      auto s = PayloadAs<VringState>(msg);
      auto idx = QueueIndex(s.index);
      if (!idx.ok()) return Errno{idx.error()};
      if (s.num > 1) return Fail("SET_VRING_ENABLE value is not 0 or 1");
      vrings_[*idx].enabled = s.num == 1;
      if (s.num == 1) {
        HS_RETURN_IF_ERROR(MaybeStart(*idx));
      } else {
        Stop(*idx);
      }
      return Ack(msg, true);
    }
    case kSetBackendReqFd:
      HS_RETURN_IF_ERROR(ExpectPayload(msg, 0, 1));
      backend_req_ = std::move(msg.fds[0]);
      return Ack(msg, true);
    case kGetConfig: {
      std::vector<uint8_t> config = device_.Config();
      if (config.empty()) return Fail("GET_CONFIG but the device has no config space");
      if (msg.header.size < sizeof(ConfigHeader) || !msg.fds.empty()) {
        return Fail("GET_CONFIG with a malformed payload");
      }
      auto h = PayloadAs<ConfigHeader>(msg);
      if (msg.header.size != sizeof(ConfigHeader) + uint64_t{h.size} ||
          uint64_t{h.offset} + h.size > config.size()) {
        // vhost-user.rst: a failed GET_CONFIG is answered with an empty payload.
        return Reply(msg, nullptr, 0);
      }
      uint8_t out[kMaxPayload];
      memcpy(out, &h, sizeof(h));
      memcpy(out + sizeof(h), config.data() + h.offset, h.size);
      return Reply(msg, out, static_cast<uint32_t>(sizeof(h) + h.size));
    }
    case kSetConfig:
      // virtio-fs config space is read-only.
      return Ack(msg, false);
    default:
      LOG_ERROR("vhost-user: unsupported request %u (%s)", msg.header.request,
                RequestName(msg.header.request));
      return Fail("unsupported request");
  }
}

Status Session::HandleVringFd(Message& msg) {
  if (msg.header.size != 8) return Fail("message payload has the wrong size");
  uint64_t v = PayloadAs<uint64_t>(msg);
  if (v & ~(kVringIndexMask | kVringNoFdMask)) return Fail("unknown bits in vring fd message");
  bool nofd = (v & kVringNoFdMask) != 0;
  HS_RETURN_IF_ERROR(ExpectPayload(msg, 8, nofd ? 0 : 1));
  auto idx = QueueIndex(v & kVringIndexMask);
  if (!idx.ok()) return Errno{idx.error()};
  Vring& vr = vrings_[*idx];
  ScopedFd fd = nofd ? ScopedFd() : std::move(msg.fds[0]);
  if (fd.valid() && msg.header.request != kSetVringErr && !SetNonBlocking(fd.get())) {
    return Fail("cannot make a vring fd non-blocking");
  }
  switch (msg.header.request) {
    case kSetVringKick:
      if (nofd) return Fail("polling mode (no kick fd) is not supported");
      Stop(*idx);
      vr.kick = std::move(fd);
      vr.has_kick = true;
      // Without PROTOCOL_FEATURES a ring is enabled by its kick (vhost-user.rst "Ring states").
      if (!(acked_features_ & kFProtocolFeatures)) vr.enabled = true;
      HS_RETURN_IF_ERROR(MaybeStart(*idx));
      break;
    case kSetVringCall:
      vr.call->Set(std::move(fd));
      break;
    default:
      vr.err = std::move(fd);
      break;
  }
  return Ack(msg, true);
}

Status Session::SetMemTable(Message& msg) {
  if (msg.header.size < 8) return Fail("SET_MEM_TABLE payload too short");
  auto n = PayloadAs<uint32_t>(msg);
  if (n == 0 || n > kMaxMemTableRegions) return Fail("SET_MEM_TABLE region count out of range");
  HS_RETURN_IF_ERROR(ExpectPayload(msg, 8 + n * sizeof(MemoryRegion), n));
  std::vector<std::shared_ptr<virtio::MappedRegion>> regions;
  for (uint32_t i = 0; i < n; ++i) {
    MemoryRegion r;
    memcpy(&r, msg.payload + 8 + i * sizeof(MemoryRegion), sizeof(r));
    auto mapped = virtio::MappedRegion::Map(
        msg.fds[i].get(), {r.guest_phys_addr, r.memory_size, r.userspace_addr, r.mmap_offset});
    if (!mapped.ok()) return Fail("cannot map a memory region");
    regions.push_back(std::move(*mapped));
  }
  auto mem = virtio::GuestMemory::Create(std::move(regions));
  if (!mem.ok()) return Fail("memory regions overlap or wrap");
  HS_RETURN_IF_ERROR(ReplaceMemory(std::move(*mem)));
  return Ack(msg, true);
}

Status Session::AddMemReg(Message& msg) {
  HS_RETURN_IF_ERROR(ExpectPayload(msg, sizeof(SingleMemoryRegion), 1));
  auto r = PayloadAs<SingleMemoryRegion>(msg).region;
  size_t have = mem_ ? mem_->region_count() : 0;
  if (have >= virtio::GuestMemory::kMaxRegions) return Fail("too many memory regions");
  auto mapped = virtio::MappedRegion::Map(
      msg.fds[0].get(), {r.guest_phys_addr, r.memory_size, r.userspace_addr, r.mmap_offset});
  if (!mapped.ok()) return Fail("cannot map a memory region");
  auto mem = mem_ ? mem_->WithRegion(std::move(*mapped))
                  : virtio::GuestMemory::Create({std::move(*mapped)});
  if (!mem.ok()) return Fail("memory region overlaps or wraps");
  HS_RETURN_IF_ERROR(ReplaceMemory(std::move(*mem)));
  return Ack(msg, true);
}

Status Session::RemMemReg(Message& msg) {
  // The frontend may attach the region's fd; it is closed with the message.
  if (msg.header.size != sizeof(SingleMemoryRegion) || msg.fds.size() > 1) {
    return Fail("REM_MEM_REG with a malformed payload");
  }
  auto r = PayloadAs<SingleMemoryRegion>(msg).region;
  if (!mem_) return Fail("REM_MEM_REG without a memory table");
  auto mem = mem_->WithoutRegion({r.guest_phys_addr, r.memory_size, r.userspace_addr, 0});
  if (!mem.ok()) return Fail("REM_MEM_REG names no known region");
  HS_RETURN_IF_ERROR(ReplaceMemory(std::move(*mem)));
  return Ack(msg, true);
}

Status Session::ReplaceMemory(std::shared_ptr<const virtio::GuestMemory> mem) {
  // Running queues hold host pointers into the old table: restart them on
  // the new one (their rings must still be mapped there).
  std::vector<uint32_t> restart;
  for (uint32_t i = 0; i < kMaxQueues; ++i) {
    if (vrings_[i].started) {
      Stop(i);
      restart.push_back(i);
    }
  }
  mem_ = std::move(mem);
  for (uint32_t i : restart) HS_RETURN_IF_ERROR(MaybeStart(i));
  return OkStatus();
}

Status Session::MaybeStart(uint32_t index) {
  Vring& vr = vrings_[index];
  if (vr.started || !vr.has_kick || !vr.enabled || !vr.addr_set || vr.num == 0 || !mem_) {
    return OkStatus();
  }
  virtio::QueueLayout layout;
  if (!virtio::MapQueue(*mem_, vr.num, vr.desc, vr.avail, vr.used, &layout).ok()) {
    return Fail("ring addresses are not inside guest memory");
  }
  auto q = std::make_unique<virtio::SplitQueue>(mem_, layout, vr.base,
                                                (acked_features_ & kFRingEventIdx) != 0,
                                                (acked_features_ & kFRingIndirectDesc) != 0);
  LOG_DEBUG("vhost-user: starting queue %u (size %u, base %u)", index, vr.num, vr.base);
  device_.StartQueue(index, std::move(q), vr.kick.get(), vr.call);
  vr.started = true;
  return OkStatus();
}

void Session::Stop(uint32_t index) {
  Vring& vr = vrings_[index];
  if (!vr.started) return;
  vr.base = device_.StopQueue(index);
  vr.started = false;
  LOG_DEBUG("vhost-user: stopped queue %u at %u", index, vr.base);
}

void Session::ResetAll() {
  bool any = false;
  for (uint32_t i = 0; i < kMaxQueues; ++i) {
    any |= vrings_[i].started;
    Stop(i);
    vrings_[i] = Vring();
  }
  acked_features_ = 0;
  features_set_ = false;
  if (any) device_.Reset();
}

}  // namespace hostshare::vhost_user
