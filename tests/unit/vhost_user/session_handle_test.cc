// Session::Handle, one message at a time: validation of every frontend
// field, and what each message does to the device.
#include <gtest/gtest.h>

#include "unit/vhost_user/session_fixture.h"

namespace hostshare::vhost_user::test {
namespace {

constexpr uint64_t kTransportFeatures =
    kFVersion1 | kFRingIndirectDesc | kFRingEventIdx | kFProtocolFeatures;
constexpr uint64_t kBaseProtocol =
    kPMq | kPReplyAck | kPConfigureMemSlots | kPBackendReq | kPBackendSendFd | kPResetDevice;

class HandleTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(fmem_.ok());
    Recreate();
  }
  void TearDown() override {
    session_.reset();
    EXPECT_EQ(backend_->stops_of_unstarted(), 0) << "StopQueue on a queue that was not started";
  }
  void Recreate(uint32_t max_queues = 2, std::vector<uint8_t> config = {}) {
    session_.reset();
    fe_.reset();
    backend_ = std::make_unique<RecordingBackend>(max_queues, std::move(config));
    ScopedFd theirs;
    FrontendOptions o;
    o.num_queues = 2;
    o.queue_size = 256;
    o.timeout_ms = 2000;
    fe_ = FakeFrontend::Connect(fmem_, &theirs, o);
    ASSERT_NE(fe_, nullptr);
    session_ = std::make_unique<Session>(std::move(theirs), *backend_);
  }

  Status H(std::unique_ptr<Message> m) { return session_->Handle(*m); }
  Status H(Message& m) { return session_->Handle(m); }

  // The next message from the session: must be a reply to `request`.
  std::vector<uint8_t> ReplyTo(uint32_t request) {
    auto r = fe_->ReceiveReply();
    EXPECT_TRUE(r.ok()) << "no reply: " << strerror(r.ok() ? 0 : r.error());
    if (!r.ok()) return {};
    EXPECT_EQ(r->header.request, request);
    EXPECT_EQ(r->header.flags, kVersion | kFlagReply);
    EXPECT_EQ(r->fds, 0u);
    return r->payload;
  }
  uint64_t ReplyU64(uint32_t request) {
    auto p = ReplyTo(request);
    EXPECT_EQ(p.size(), 8u);
    uint64_t v = 0;
    if (p.size() == 8) memcpy(&v, p.data(), 8);
    return v;
  }
  bool NoReply() { return !Readable(fe_->socket_fd()); }

  uint64_t GetU64(uint32_t request) {
    EXPECT_TRUE(H(Empty(request)).ok());
    return ReplyU64(request);
  }
  void SetFeatures(uint64_t f = kTransportFeatures) {
    ASSERT_TRUE(H(MsgOf(kSetFeatures, f)).ok());
  }
  void SetProtocol(uint64_t f = kBaseProtocol) {
    ASSERT_TRUE(H(MsgOf(kSetProtocolFeatures, f)).ok());
  }
  void SetMemTable() {
    std::vector<MemoryRegion> regions;
    std::vector<ScopedFd> fds;
    for (const auto& s : fmem_.specs()) {
      regions.push_back(ToWire(s));
      fds.emplace_back(dup(fmem_.fd()));
    }
    auto p = MemTablePayload(regions);
    ASSERT_TRUE(H(Msg(kSetMemTable, p.data(), p.size(), std::move(fds))).ok());
  }
  void State(uint32_t request, uint32_t index, uint32_t num) {
    ASSERT_TRUE(H(MsgOf(request, VringState{index, num})).ok()) << RequestName(request);
  }
  VringAddr AddrOf(uint32_t i) {
    auto& q = fe_->queue(i);
    return VringAddr{i, 0, q.desc_uva(), q.used_uva(), q.avail_uva(), 0};
  }
  void SetupRing(uint32_t i, uint16_t base = 0) {
    State(kSetVringNum, i, fe_->queue(i).size());
    State(kSetVringBase, i, base);
    ASSERT_TRUE(H(MsgOf(kSetVringAddr, AddrOf(i))).ok());
  }
  Status Kick(uint32_t i) {
    std::vector<ScopedFd> fds;
    fds.push_back(EventFd());
    return H(MsgOf(kSetVringKick, uint64_t{i}, std::move(fds)));
  }
  void Enable(uint32_t i, bool on = true) { State(kSetVringEnable, i, on ? 1 : 0); }
  // Features + memory + ring + kick + enable: queue i runs.
  void StartQueue(uint32_t i) {
    SetupRing(i);
    ASSERT_TRUE(Kick(i).ok());
    Enable(i);
  }
  void Boot() {
    SetFeatures();
    SetProtocol();
    SetMemTable();
    StartQueue(0);
    StartQueue(1);
    ASSERT_EQ(backend_->running_count(), 2u);
  }
  // Lets the "device" consume n published chains on queue i.
  void Consume(uint32_t i, int n) {
    for (int k = 0; k < n; ++k) ASSERT_TRUE(fe_->queue(i).Chain().Readable("x").Publish());
    ASSERT_TRUE(backend_->WithQueue(i, [&](virtio::SplitQueue& q, virtio::Notifier&) {
      virtio::Chain c;
      for (int k = 0; k < n; ++k) {
        ASSERT_EQ(q.Pop(&c), virtio::SplitQueue::PopResult::kChain);
        q.PushUsed(c.head, 0);
      }
    }));
  }

  FakeGuestMemory fmem_;
  std::unique_ptr<RecordingBackend> backend_;
  std::unique_ptr<FakeFrontend> fe_;
  std::unique_ptr<Session> session_;
};

// ---- Feature negotiation ------------------------------------------------------

TEST_F(HandleTest, GetFeaturesOffersTransportBits) {
  EXPECT_EQ(GetU64(kGetFeatures), kTransportFeatures);
}

TEST_F(HandleTest, DeviceFeaturesAreAddedToTheOffer) {
  session_.reset();
  backend_ = std::make_unique<RecordingBackend>(2, std::vector<uint8_t>{}, uint64_t{1} << 0);
  ScopedFd theirs;
  fe_ = FakeFrontend::Connect(fmem_, &theirs);
  session_ = std::make_unique<Session>(std::move(theirs), *backend_);
  EXPECT_EQ(GetU64(kGetFeatures), kTransportFeatures | 1);
}

TEST_F(HandleTest, SetFeaturesRejectsBitsNotOffered) {
  EXPECT_TRUE(H(MsgOf(kSetFeatures, kFVersion1)).ok());
  EXPECT_FALSE(H(MsgOf(kSetFeatures, kTransportFeatures | (uint64_t{1} << 40))).ok());
}

TEST_F(HandleTest, ProtocolFeatureOffer) {
  EXPECT_EQ(GetU64(kGetProtocolFeatures), kBaseProtocol);
  EXPECT_FALSE(H(MsgOf(kSetProtocolFeatures, kBaseProtocol | kPConfig)).ok());
}

TEST_F(HandleTest, ConfigOfferedOnlyWithAConfigSpace) {
  Recreate(2, {1, 2, 3, 4});
  EXPECT_EQ(GetU64(kGetProtocolFeatures), kBaseProtocol | kPConfig);
  EXPECT_TRUE(H(MsgOf(kSetProtocolFeatures, kBaseProtocol | kPConfig)).ok());
}

TEST_F(HandleTest, GetQueueNumAndMaxMemSlots) {
  EXPECT_EQ(GetU64(kGetQueueNum), 2u);
  EXPECT_EQ(GetU64(kGetMaxMemSlots), 32u);
  Recreate(100);
  EXPECT_EQ(GetU64(kGetQueueNum), 64u);  // capped by the session
}

// ---- REPLY_ACK ------------------------------------------------------------------

TEST_F(HandleTest, NeedReplyIgnoredWithoutReplyAck) {
  SetProtocol(kBaseProtocol & ~kPReplyAck);
  ASSERT_TRUE(H(Empty(kSetOwner, kVersion | kFlagNeedReply)).ok());
  ASSERT_TRUE(H(MsgOf(kSetFeatures, kTransportFeatures, {}, kVersion | kFlagNeedReply)).ok());
  EXPECT_TRUE(NoReply());
}

TEST_F(HandleTest, NeedReplyAnsweredWithReplyAck) {
  SetProtocol();
  EXPECT_TRUE(NoReply());  // SET_PROTOCOL_FEATURES had no NEED_REPLY
  ASSERT_TRUE(H(Empty(kSetOwner, kVersion | kFlagNeedReply)).ok());
  EXPECT_EQ(ReplyU64(kSetOwner), 0u);
  ASSERT_TRUE(H(MsgOf(kSetFeatures, kTransportFeatures, {}, kVersion | kFlagNeedReply)).ok());
  EXPECT_EQ(ReplyU64(kSetFeatures), 0u);
  // Without NEED_REPLY, still no reply.
  ASSERT_TRUE(H(Empty(kSetOwner)).ok());
  EXPECT_TRUE(NoReply());
}

TEST_F(HandleTest, NeedReplyOnEveryReplylessMessage) {
  SetProtocol();
  SetFeatures();
  const uint32_t nr = kVersion | kFlagNeedReply;
  std::vector<ScopedFd> fds;
  fds.push_back(EventFd());
  ASSERT_TRUE(H(MsgOf(kSetVringCall, uint64_t{0}, std::move(fds), nr)).ok());
  EXPECT_EQ(ReplyU64(kSetVringCall), 0u);
  ASSERT_TRUE(H(MsgOf(kSetVringNum, VringState{0, 256}, {}, nr)).ok());
  EXPECT_EQ(ReplyU64(kSetVringNum), 0u);
  ASSERT_TRUE(H(MsgOf(kSetVringAddr, AddrOf(0), {}, nr)).ok());
  EXPECT_EQ(ReplyU64(kSetVringAddr), 0u);
  ASSERT_TRUE(H(MsgOf(kSetVringEnable, VringState{0, 0}, {}, nr)).ok());
  EXPECT_EQ(ReplyU64(kSetVringEnable), 0u);
  std::vector<ScopedFd> req;
  req.push_back(EventFd());
  ASSERT_TRUE(H(Msg(kSetBackendReqFd, nullptr, 0, std::move(req), nr)).ok());
  EXPECT_EQ(ReplyU64(kSetBackendReqFd), 0u);
  EXPECT_TRUE(NoReply());
}

TEST_F(HandleTest, SetConfigIsRefusedThroughTheAck) {
  Recreate(2, {1, 2, 3, 4});
  SetProtocol(kBaseProtocol | kPConfig);
  std::vector<uint8_t> p(sizeof(ConfigHeader) + 4);
  ConfigHeader h{0, 4, 0};
  memcpy(p.data(), &h, sizeof(h));
  ASSERT_TRUE(H(Msg(kSetConfig, p.data(), p.size(), {}, kVersion | kFlagNeedReply)).ok());
  EXPECT_NE(ReplyU64(kSetConfig), 0u);
}

// ---- GET_CONFIG --------------------------------------------------------------------

class ConfigTest : public HandleTest {
 protected:
  void SetUp() override {
    ASSERT_TRUE(fmem_.ok());
    Recreate(2, {10, 11, 12, 13, 14, 15, 16, 17});
  }
  std::unique_ptr<Message> GetConfig(uint32_t offset, uint32_t size, uint32_t payload_extra) {
    std::vector<uint8_t> p(sizeof(ConfigHeader) + payload_extra);
    ConfigHeader h{offset, size, 0};
    memcpy(p.data(), &h, sizeof(h));
    return Msg(kGetConfig, p.data(), p.size());
  }
};

TEST_F(ConfigTest, ReturnsTheRequestedBytes) {
  ASSERT_TRUE(H(GetConfig(2, 4, 4)).ok());
  auto p = ReplyTo(kGetConfig);
  ASSERT_EQ(p.size(), sizeof(ConfigHeader) + 4);
  EXPECT_EQ(std::vector<uint8_t>(p.begin() + sizeof(ConfigHeader), p.end()),
            (std::vector<uint8_t>{12, 13, 14, 15}));
  ASSERT_TRUE(H(GetConfig(0, 8, 8)).ok());
  EXPECT_EQ(ReplyTo(kGetConfig).size(), sizeof(ConfigHeader) + 8);
}

TEST_F(ConfigTest, OutOfRangeGetsAnEmptyReply) {
  ASSERT_TRUE(H(GetConfig(6, 4, 4)).ok());  // runs past the end
  EXPECT_TRUE(ReplyTo(kGetConfig).empty());
  ASSERT_TRUE(H(GetConfig(0xffffffff, 1, 1)).ok());
  EXPECT_TRUE(ReplyTo(kGetConfig).empty());
  ASSERT_TRUE(H(GetConfig(0, 0xffffffff, 4)).ok());  // size field != payload
  EXPECT_TRUE(ReplyTo(kGetConfig).empty());
  ASSERT_TRUE(H(GetConfig(0, 4, 3)).ok());
  EXPECT_TRUE(ReplyTo(kGetConfig).empty());
}

TEST_F(ConfigTest, TruncatedHeaderIsAnError) {
  std::vector<uint8_t> p(sizeof(ConfigHeader) - 1);
  EXPECT_FALSE(H(Msg(kGetConfig, p.data(), p.size())).ok());
  std::vector<ScopedFd> fds;
  fds.push_back(EventFd());
  auto m = GetConfig(0, 4, 4);
  m->fds = std::move(fds);
  EXPECT_FALSE(H(std::move(m)).ok());
}

TEST_F(HandleTest, GetConfigWithoutConfigSpaceIsAnError) {
  std::vector<uint8_t> p(sizeof(ConfigHeader) + 4);
  ConfigHeader h{0, 4, 0};
  memcpy(p.data(), &h, sizeof(h));
  EXPECT_FALSE(H(Msg(kGetConfig, p.data(), p.size())).ok());
}

// ---- Framing-level checks --------------------------------------------------------

TEST_F(HandleTest, BadVersionFlags) {
  for (uint32_t flags : {0u, 2u, 3u, kFlagNeedReply, kFlagReply}) {
    EXPECT_FALSE(H(Empty(kGetFeatures, flags)).ok()) << flags;
  }
  EXPECT_TRUE(NoReply());
}

TEST_F(HandleTest, UnknownRequestCodes) {
  for (uint32_t code : {0u, 26u, 33u, 39u, 1000u, 0xffffffffu, uint32_t{kSetLogBase},
                        uint32_t{kSetLogFd}, uint32_t{kSendRarp}, uint32_t{kIotlbMsg},
                        uint32_t{kSetVringEndian}, uint32_t{kNetSetMtu}}) {
    EXPECT_FALSE(H(Empty(code)).ok()) << code;
  }
}

// One valid form of each message with a fixed layout.
struct MessageSpec {
  uint32_t request;
  std::vector<uint8_t> payload;
  size_t nfds;
};

template <typename T>
std::vector<uint8_t> P(const T& v) {
  std::vector<uint8_t> out(sizeof(T));
  memcpy(out.data(), &v, sizeof(T));
  return out;
}

std::vector<MessageSpec> FixedLayoutMessages(FakeGuestMemory& fmem) {
  SingleMemoryRegion add{0, ToWire(fmem.spec(0))};
  add.region.guest_phys_addr = 0x40000000;  // clear of everything
  return {
      {kGetFeatures, {}, 0},
      {kSetFeatures, P(uint64_t{kFVersion1}), 0},
      {kGetProtocolFeatures, {}, 0},
      {kSetProtocolFeatures, P(uint64_t{kPReplyAck}), 0},
      {kSetOwner, {}, 0},
      {kResetOwner, {}, 0},
      {kResetDevice, {}, 0},
      {kGetQueueNum, {}, 0},
      {kGetMaxMemSlots, {}, 0},
      {kSetVringNum, P(VringState{0, 256}), 0},
      {kSetVringAddr, P(VringAddr{0, 0, 0x1000, 0x3000, 0x2000, 0}), 0},
      {kSetVringBase, P(VringState{0, 5}), 0},
      {kGetVringBase, P(VringState{0, 0}), 0},
      {kSetVringKick, P(uint64_t{0}), 1},
      {kSetVringCall, P(uint64_t{0}), 1},
      {kSetVringErr, P(uint64_t{0}), 1},
      {kSetVringEnable, P(VringState{0, 1}), 0},
      {kSetBackendReqFd, {}, 1},
      {kAddMemReg, P(add), 1},
      {kSetMemTable, MemTablePayload({ToWire(fmem.spec(0))}), 1},
  };
}

std::vector<ScopedFd> FdsFor(uint32_t request, size_t n, FakeGuestMemory& fmem) {
  std::vector<ScopedFd> fds;
  for (size_t i = 0; i < n; ++i) {
    bool mem = request == kAddMemReg || request == kSetMemTable || request == kRemMemReg;
    fds.emplace_back(mem ? dup(fmem.fd()) : eventfd(0, EFD_CLOEXEC));
  }
  return fds;
}

TEST_F(HandleTest, EveryFixedLayoutMessageIsAcceptedWhenWellFormed) {
  for (const auto& spec : FixedLayoutMessages(fmem_)) {
    Recreate();
    EXPECT_TRUE(H(Msg(spec.request, spec.payload.data(), spec.payload.size(),
                      FdsFor(spec.request, spec.nfds, fmem_)))
                    .ok())
        << RequestName(spec.request);
  }
}

TEST_F(HandleTest, EveryMessageWithTheWrongSizeIsAnError) {
  for (const auto& spec : FixedLayoutMessages(fmem_)) {
    std::vector<size_t> sizes = {spec.payload.size() + 1, spec.payload.size() + 8};
    if (!spec.payload.empty()) {
      sizes.push_back(0);
      sizes.push_back(spec.payload.size() - 1);
    }
    for (size_t size : sizes) {
      Recreate();
      std::vector<uint8_t> p = spec.payload;
      p.resize(size);
      EXPECT_FALSE(
          H(Msg(spec.request, p.data(), p.size(), FdsFor(spec.request, spec.nfds, fmem_))).ok())
          << RequestName(spec.request) << " with " << size << " payload bytes";
      EXPECT_EQ(backend_->running_count(), 0u);
    }
  }
}

TEST_F(HandleTest, EveryMessageWithTheWrongFdCountIsAnError) {
  for (const auto& spec : FixedLayoutMessages(fmem_)) {
    std::vector<size_t> counts = {spec.nfds + 1, spec.nfds + 3};
    if (spec.nfds > 0) counts.push_back(0);
    for (size_t n : counts) {
      Recreate();
      EXPECT_FALSE(H(Msg(spec.request, spec.payload.data(), spec.payload.size(),
                         FdsFor(spec.request, n, fmem_)))
                       .ok())
          << RequestName(spec.request) << " with " << n << " fds";
    }
  }
}

TEST_F(HandleTest, RemMemRegSizeAndFds) {
  SetMemTable();
  SingleMemoryRegion rem{0, ToWire(fmem_.spec(0))};
  auto p = P(rem);
  p.push_back(0);
  EXPECT_FALSE(H(Msg(kRemMemReg, p.data(), p.size())).ok());
  p.resize(sizeof(rem) - 1);
  EXPECT_FALSE(H(Msg(kRemMemReg, p.data(), p.size())).ok());
  EXPECT_FALSE(H(MsgOf(kRemMemReg, rem, FdsFor(kRemMemReg, 2, fmem_))).ok());
  // The frontend may attach the region's fd (QEMU does): accepted.
  EXPECT_TRUE(H(MsgOf(kRemMemReg, rem, FdsFor(kRemMemReg, 1, fmem_))).ok());
}

TEST_F(HandleTest, RejectedMessagesLeakNoFds) {
  int before = CountOpenFds();
  {
    auto m = MsgOf(kSetVringCall, uint64_t{0}, EventFds(5));
    EXPECT_FALSE(H(*m).ok());
    auto m2 = MsgOf(kSetVringKick, uint64_t{77}, EventFds(1));
    EXPECT_FALSE(H(*m2).ok());
  }
  EXPECT_EQ(CountOpenFds(), before);
}

// ---- Queue indexes ----------------------------------------------------------------

TEST_F(HandleTest, QueueIndexOutOfRangeForEveryPerQueueMessage) {
  for (uint32_t bad : {2u, 63u, 64u, 255u, 0xffffffffu}) {
    for (uint32_t req : {kSetVringNum, kSetVringBase, kGetVringBase, kSetVringEnable}) {
      Recreate();
      EXPECT_FALSE(H(MsgOf(req, VringState{bad, 1})).ok()) << RequestName(req) << " " << bad;
    }
    Recreate();
    EXPECT_FALSE(H(MsgOf(kSetVringAddr, VringAddr{bad, 0, 0x1000, 0x3000, 0x2000, 0})).ok());
    if (bad <= 0xff) {
      for (uint32_t req : {kSetVringKick, kSetVringCall, kSetVringErr}) {
        Recreate();
        EXPECT_FALSE(H(MsgOf(req, uint64_t{bad}, EventFds(1))).ok()) << RequestName(req) << bad;
      }
    }
  }
  EXPECT_EQ(backend_->running_count(), 0u);
}

TEST_F(HandleTest, QueueIndexLimitedTo64EvenIfTheDeviceHasMore) {
  Recreate(100);
  EXPECT_TRUE(H(MsgOf(kSetVringNum, VringState{63, 8})).ok());
  EXPECT_FALSE(H(MsgOf(kSetVringNum, VringState{64, 8})).ok());
}

TEST_F(HandleTest, VringFdMessageWithUnknownBits) {
  EXPECT_FALSE(H(MsgOf(kSetVringCall, uint64_t{0x200}, EventFds(1))).ok());
  EXPECT_FALSE(H(MsgOf(kSetVringCall, uint64_t{1} << 63, EventFds(1))).ok());
}

TEST_F(HandleTest, VringFdNoFdFlag) {
  // No call fd: interrupts are dropped, but that is allowed.
  EXPECT_TRUE(H(MsgOf(kSetVringCall, uint64_t{kVringNoFdMask | 1})).ok());
  EXPECT_TRUE(H(MsgOf(kSetVringErr, uint64_t{kVringNoFdMask})).ok());
  // The flag and an fd together.
  EXPECT_FALSE(H(MsgOf(kSetVringCall, uint64_t{kVringNoFdMask}, EventFds(1))).ok());
  // Polling mode (no kick fd) is not supported.
  EXPECT_FALSE(H(MsgOf(kSetVringKick, uint64_t{kVringNoFdMask})).ok());
}

// ---- Ring parameters ----------------------------------------------------------------

TEST_F(HandleTest, RingSizes) {
  for (uint32_t bad : {0u, 3u, 100u, 1000u, 32769u, 65535u, 65536u, 0x80000000u}) {
    EXPECT_FALSE(H(MsgOf(kSetVringNum, VringState{0, bad})).ok()) << bad;
  }
  for (uint32_t ok : {1u, 2u, 256u, 1024u, 32768u}) {
    EXPECT_TRUE(H(MsgOf(kSetVringNum, VringState{1, ok})).ok()) << ok;
  }
}

TEST_F(HandleTest, RingBaseMustFit16Bits) {
  EXPECT_TRUE(H(MsgOf(kSetVringBase, VringState{0, 0xffff})).ok());
  EXPECT_FALSE(H(MsgOf(kSetVringBase, VringState{0, 0x10000})).ok());
}

TEST_F(HandleTest, EnableValueMustBe0Or1) {
  EXPECT_FALSE(H(MsgOf(kSetVringEnable, VringState{0, 2})).ok());
  EXPECT_FALSE(H(MsgOf(kSetVringEnable, VringState{0, 0xffffffff})).ok());
}

TEST_F(HandleTest, RingAddressesOutsideMemoryAtSetVringAddr) {
  SetFeatures();
  SetMemTable();
  State(kSetVringNum, 0, 256);
  VringAddr a = AddrOf(0);
  EXPECT_TRUE(H(MsgOf(kSetVringAddr, a)).ok());
  for (int which = 0; which < 3; ++which) {
    VringAddr bad = a;
    uint64_t* field = which == 0 ? &bad.desc_user_addr
                      : which == 1 ? &bad.avail_user_addr
                                   : &bad.used_user_addr;
    *field = 0x1000;  // not a frontend address of any region
    EXPECT_FALSE(H(MsgOf(kSetVringAddr, bad)).ok()) << which;
    // At the end of a region: the ring runs off it.
    *field = fmem_.spec(0).user_addr + fmem_.spec(0).size - 16;
    EXPECT_FALSE(H(MsgOf(kSetVringAddr, bad)).ok()) << which;
  }
  // Misaligned.
  VringAddr mis = a;
  mis.desc_user_addr += 8;
  EXPECT_FALSE(H(MsgOf(kSetVringAddr, mis)).ok());
}

TEST_F(HandleTest, RingAddressesAreCheckedAtStartWhenMemoryCameLater) {
  SetFeatures();
  State(kSetVringNum, 0, 256);
  VringAddr bad = AddrOf(0);
  bad.used_user_addr = 0x4000;
  // No memory yet: nothing to check against.
  EXPECT_TRUE(H(MsgOf(kSetVringAddr, bad)).ok());
  ASSERT_TRUE(Kick(0).ok());
  SetMemTable();
  EXPECT_FALSE(H(MsgOf(kSetVringEnable, VringState{0, 1})).ok());
  EXPECT_EQ(backend_->running_count(), 0u);
}

TEST_F(HandleTest, RingAddressesCheckedWhenTheSizeGrowsAfterTheAddress) {
  SetFeatures();
  SetMemTable();
  // A small ring at the very end of region A: fine for 8 entries...
  uint64_t end = fmem_.spec(0).user_addr + fmem_.spec(0).size;
  State(kSetVringNum, 0, 8);
  VringAddr a{0, 0, end - 0x1000, end - 0x200, end - 0x400, 0};
  ASSERT_TRUE(H(MsgOf(kSetVringAddr, a)).ok());
  // ...but not for 1024.
  State(kSetVringNum, 0, 1024);
  ASSERT_TRUE(Kick(0).ok());
  EXPECT_FALSE(H(MsgOf(kSetVringEnable, VringState{0, 1})).ok());
}

// ---- Memory tables --------------------------------------------------------------------

TEST_F(HandleTest, SetMemTableRegionCounts) {
  auto zero = MemTablePayload({});
  EXPECT_FALSE(H(Msg(kSetMemTable, zero.data(), zero.size())).ok());
  std::vector<MemoryRegion> nine;
  for (uint64_t i = 0; i < 9; ++i) {
    MemoryRegion r = ToWire(fmem_.spec(0));
    r.guest_phys_addr = i * 0x10000000;
    r.userspace_addr += i * 0x10000000;
    r.memory_size = 0x1000;
    nine.push_back(r);
  }
  auto p9 = MemTablePayload(nine);
  EXPECT_FALSE(H(Msg(kSetMemTable, p9.data(), p9.size(), FdsFor(kSetMemTable, 9, fmem_))).ok());
  // 8 is the most.
  nine.pop_back();
  auto p8 = MemTablePayload(nine);
  EXPECT_TRUE(H(Msg(kSetMemTable, p8.data(), p8.size(), FdsFor(kSetMemTable, 8, fmem_))).ok());
}

TEST_F(HandleTest, SetMemTableCountMustMatchPayloadAndFds) {
  std::vector<MemoryRegion> regions = {ToWire(fmem_.spec(0)), ToWire(fmem_.spec(1))};
  auto p = MemTablePayload(regions);
  EXPECT_FALSE(H(Msg(kSetMemTable, p.data(), p.size(), FdsFor(kSetMemTable, 1, fmem_))).ok());
  EXPECT_FALSE(H(Msg(kSetMemTable, p.data(), p.size(), FdsFor(kSetMemTable, 3, fmem_))).ok());
  auto lie = MemTablePayload(regions, 3);  // nregions says 3, payload holds 2
  EXPECT_FALSE(H(Msg(kSetMemTable, lie.data(), lie.size(), FdsFor(kSetMemTable, 3, fmem_))).ok());
  auto lie1 = MemTablePayload(regions, 1);
  EXPECT_FALSE(
      H(Msg(kSetMemTable, lie1.data(), lie1.size(), FdsFor(kSetMemTable, 1, fmem_))).ok());
  std::vector<uint8_t> tiny(4, 0);
  EXPECT_FALSE(H(Msg(kSetMemTable, tiny.data(), tiny.size())).ok());
  EXPECT_TRUE(H(Msg(kSetMemTable, p.data(), p.size(), FdsFor(kSetMemTable, 2, fmem_))).ok());
}

TEST_F(HandleTest, SetMemTableRejectsOverlapAndWrap) {
  MemoryRegion a = ToWire(fmem_.spec(0));
  MemoryRegion b = ToWire(fmem_.spec(1));
  MemoryRegion overlap_gpa = b;
  overlap_gpa.guest_phys_addr = a.guest_phys_addr + 0x1000;
  auto p1 = MemTablePayload({a, overlap_gpa});
  EXPECT_FALSE(H(Msg(kSetMemTable, p1.data(), p1.size(), FdsFor(kSetMemTable, 2, fmem_))).ok());
  MemoryRegion overlap_uva = b;
  overlap_uva.userspace_addr = a.userspace_addr + 0x1000;
  auto p2 = MemTablePayload({a, overlap_uva});
  EXPECT_FALSE(H(Msg(kSetMemTable, p2.data(), p2.size(), FdsFor(kSetMemTable, 2, fmem_))).ok());
  MemoryRegion wrap = a;
  wrap.guest_phys_addr = ~uint64_t{0} - 0xfff;
  auto p3 = MemTablePayload({wrap});
  EXPECT_FALSE(H(Msg(kSetMemTable, p3.data(), p3.size(), FdsFor(kSetMemTable, 1, fmem_))).ok());
  MemoryRegion wrap_uva = a;
  wrap_uva.userspace_addr = ~uint64_t{0} - 0xfff;
  auto p4 = MemTablePayload({wrap_uva});
  EXPECT_FALSE(H(Msg(kSetMemTable, p4.data(), p4.size(), FdsFor(kSetMemTable, 1, fmem_))).ok());
  MemoryRegion zero = a;
  zero.memory_size = 0;
  auto p5 = MemTablePayload({zero});
  EXPECT_FALSE(H(Msg(kSetMemTable, p5.data(), p5.size(), FdsFor(kSetMemTable, 1, fmem_))).ok());
  MemoryRegion past_eof = a;
  past_eof.memory_size = fmem_.file_size() + 0x1000;
  auto p6 = MemTablePayload({past_eof});
  EXPECT_FALSE(H(Msg(kSetMemTable, p6.data(), p6.size(), FdsFor(kSetMemTable, 1, fmem_))).ok());
}

TEST_F(HandleTest, SetMemTableWithAnFdThatCannotBeMapped) {
  auto p = MemTablePayload({ToWire(fmem_.spec(0))});
  EXPECT_FALSE(H(Msg(kSetMemTable, p.data(), p.size(), EventFds(1))).ok());
}

TEST_F(HandleTest, AddAndRemoveMemoryRegions) {
  for (const auto& s : fmem_.specs()) {
    std::vector<ScopedFd> fds;
    fds.emplace_back(dup(fmem_.fd()));
    ASSERT_TRUE(H(MsgOf(kAddMemReg, SingleMemoryRegion{0, ToWire(s)}, std::move(fds))).ok());
  }
  // Overlapping an existing region.
  SingleMemoryRegion dup_region{0, ToWire(fmem_.spec(1))};
  EXPECT_FALSE(H(MsgOf(kAddMemReg, dup_region, FdsFor(kAddMemReg, 1, fmem_))).ok());
  // Remove B, then its range can be added again.
  EXPECT_TRUE(H(MsgOf(kRemMemReg, dup_region)).ok());
  EXPECT_FALSE(H(MsgOf(kRemMemReg, dup_region)).ok());  // already gone
  EXPECT_TRUE(H(MsgOf(kAddMemReg, dup_region, FdsFor(kAddMemReg, 1, fmem_))).ok());
  // Unknown region.
  SingleMemoryRegion unknown = dup_region;
  unknown.region.guest_phys_addr = 0x50000000;
  EXPECT_FALSE(H(MsgOf(kRemMemReg, unknown)).ok());
}

TEST_F(HandleTest, RemMemRegWithoutATable) {
  EXPECT_FALSE(H(MsgOf(kRemMemReg, SingleMemoryRegion{0, ToWire(fmem_.spec(0))})).ok());
}

TEST_F(HandleTest, AtMost32RegionsThroughAddMemReg) {
  for (uint64_t i = 0; i < 32; ++i) {
    MemoryRegion r = ToWire(fmem_.spec(0));
    r.guest_phys_addr = i * 0x10000;
    r.userspace_addr += i * 0x1000;
    r.memory_size = 0x1000;
    r.mmap_offset = i * 0x1000;
    ASSERT_TRUE(H(MsgOf(kAddMemReg, SingleMemoryRegion{0, r}, FdsFor(kAddMemReg, 1, fmem_))).ok())
        << i;
  }
  MemoryRegion r = ToWire(fmem_.spec(1));
  EXPECT_FALSE(H(MsgOf(kAddMemReg, SingleMemoryRegion{0, r}, FdsFor(kAddMemReg, 1, fmem_))).ok());
}

TEST_F(HandleTest, AddMemRegRejectsWrapAndPastEof) {
  MemoryRegion wrap = ToWire(fmem_.spec(0));
  wrap.guest_phys_addr = ~uint64_t{0};
  EXPECT_FALSE(
      H(MsgOf(kAddMemReg, SingleMemoryRegion{0, wrap}, FdsFor(kAddMemReg, 1, fmem_))).ok());
  MemoryRegion eof = ToWire(fmem_.spec(2));
  eof.memory_size = fmem_.file_size();
  EXPECT_FALSE(
      H(MsgOf(kAddMemReg, SingleMemoryRegion{0, eof}, FdsFor(kAddMemReg, 1, fmem_))).ok());
}

// ---- Start / stop ------------------------------------------------------------------------

TEST_F(HandleTest, QueueStartsOnlyWhenEverythingIsThere) {
  SetFeatures();
  SetMemTable();
  SetupRing(0);
  Enable(0);
  EXPECT_TRUE(backend_->events().empty());  // no kick yet
  ASSERT_TRUE(Kick(0).ok());
  EXPECT_EQ(backend_->events(), std::vector<Ev::Event>{Ev::Started(0)});
}

TEST_F(HandleTest, WithProtocolFeaturesRingsStartDisabled) {
  SetFeatures();
  SetMemTable();
  SetupRing(0);
  ASSERT_TRUE(Kick(0).ok());
  EXPECT_TRUE(backend_->events().empty());
  Enable(0);
  EXPECT_EQ(backend_->events(), std::vector<Ev::Event>{Ev::Started(0)});
}

TEST_F(HandleTest, WithoutProtocolFeaturesTheKickStartsTheRing) {
  SetFeatures(kFVersion1 | kFRingEventIdx);
  SetMemTable();
  SetupRing(1, 7);
  ASSERT_TRUE(Kick(1).ok());
  EXPECT_EQ(backend_->events(), std::vector<Ev::Event>{Ev::Started(1, 7)});
}

TEST_F(HandleTest, GetVringBaseStopsAndReturnsTheBase) {
  Boot();
  Consume(1, 3);
  backend_->ClearEvents();
  ASSERT_TRUE(H(MsgOf(kGetVringBase, VringState{1, 0})).ok());
  auto p = ReplyTo(kGetVringBase);
  ASSERT_EQ(p.size(), sizeof(VringState));
  VringState s;
  memcpy(&s, p.data(), sizeof(s));
  EXPECT_EQ(s.index, 1u);
  EXPECT_EQ(s.num, 3u);
  EXPECT_EQ(backend_->events(), std::vector<Ev::Event>{Ev::Stopped(1, 3)});
  EXPECT_FALSE(backend_->running(1));
  EXPECT_TRUE(backend_->running(0));
  // The ring lost its kick: a new one is needed to run again.
  Enable(1);
  EXPECT_FALSE(backend_->running(1));
  ASSERT_TRUE(Kick(1).ok());
  EXPECT_TRUE(backend_->running(1));
  EXPECT_EQ(backend_->events().back(), Ev::Started(1, 3));
}

TEST_F(HandleTest, GetVringBaseOfAStoppedRingReturnsTheSetBase) {
  State(kSetVringBase, 0, 42);
  ASSERT_TRUE(H(MsgOf(kGetVringBase, VringState{0, 0})).ok());
  auto p = ReplyTo(kGetVringBase);
  ASSERT_EQ(p.size(), sizeof(VringState));
  VringState s;
  memcpy(&s, p.data(), sizeof(s));
  EXPECT_EQ(s.num, 42u);
  EXPECT_TRUE(backend_->events().empty());
}

TEST_F(HandleTest, DisableStopsAndEnableRestartsWithTheSavedBase) {
  Boot();
  Consume(0, 2);
  backend_->ClearEvents();
  Enable(0, false);
  EXPECT_EQ(backend_->events(), std::vector<Ev::Event>{Ev::Stopped(0, 2)});
  Enable(0, false);  // idempotent
  EXPECT_EQ(backend_->events().size(), 1u);
  Enable(0, true);
  EXPECT_EQ(backend_->events(), (std::vector<Ev::Event>{Ev::Stopped(0, 2), Ev::Started(0, 2)}));
  Enable(0, true);  // already running: no restart
  EXPECT_EQ(backend_->events().size(), 2u);
}

TEST_F(HandleTest, RingChangesWhileRunningRestartTheRing) {
  Boot();
  Consume(1, 1);
  backend_->ClearEvents();
  ASSERT_TRUE(Kick(1).ok());  // new kick fd
  EXPECT_EQ(backend_->events(), (std::vector<Ev::Event>{Ev::Stopped(1, 1), Ev::Started(1, 1)}));
  backend_->ClearEvents();
  ASSERT_TRUE(H(MsgOf(kSetVringAddr, AddrOf(1))).ok());
  EXPECT_EQ(backend_->events(), (std::vector<Ev::Event>{Ev::Stopped(1, 1), Ev::Started(1, 1)}));
  backend_->ClearEvents();
  // SET_VRING_BASE / NUM stop it; it needs a kick (or enable) to start again.
  State(kSetVringBase, 1, 0);
  EXPECT_EQ(backend_->events(), std::vector<Ev::Event>{Ev::Stopped(1, 1)});
  Enable(1);
  EXPECT_EQ(backend_->events().back(), Ev::Started(1, 0));
}

TEST_F(HandleTest, MemoryReplacementRestartsRunningQueues) {
  Boot();
  Consume(0, 1);
  Consume(1, 4);
  backend_->ClearEvents();
  // A fourth region (another memfd) via ADD_MEM_REG.
  FakeGuestMemory extra({{0x10000000, 0x100000}});
  ASSERT_TRUE(extra.ok());
  std::vector<ScopedFd> fds;
  fds.emplace_back(dup(extra.fd()));
  ASSERT_TRUE(H(MsgOf(kAddMemReg, SingleMemoryRegion{0, ToWire(extra.spec(0))}, std::move(fds)))
                  .ok());
  auto ev = backend_->events();
  ASSERT_EQ(ev.size(), 4u);
  EXPECT_EQ(ev[0], Ev::Stopped(0, 1));
  EXPECT_EQ(ev[1], Ev::Stopped(1, 4));
  EXPECT_EQ(ev[2], Ev::Started(0, 1));
  EXPECT_EQ(ev[3], Ev::Started(1, 4));
  // Removing it restarts them again.
  backend_->ClearEvents();
  ASSERT_TRUE(H(MsgOf(kRemMemReg, SingleMemoryRegion{0, ToWire(extra.spec(0))})).ok());
  EXPECT_EQ(backend_->events().size(), 4u);
  // So does a whole new SET_MEM_TABLE.
  backend_->ClearEvents();
  SetMemTable();
  EXPECT_EQ(backend_->events().size(), 4u);
  EXPECT_EQ(backend_->running_count(), 2u);
}

TEST_F(HandleTest, RemovingTheRegionHoldingTheRingsIsAnError) {
  Boot();
  // The rings live in region A (first fit).
  ASSERT_EQ(fmem_.RegionOf(fe_->queue(0).desc_gpa()), 0);
  EXPECT_FALSE(H(MsgOf(kRemMemReg, SingleMemoryRegion{0, ToWire(fmem_.spec(0))})).ok());
}

TEST_F(HandleTest, ResetStopsEverything) {
  Boot();
  backend_->ClearEvents();
  ASSERT_TRUE(H(Empty(kResetDevice)).ok());
  auto ev = backend_->events();
  ASSERT_EQ(ev.size(), 3u);
  EXPECT_EQ(ev[0].op, Ev::Op::kStop);
  EXPECT_EQ(ev[1].op, Ev::Op::kStop);
  EXPECT_EQ(ev[2], Ev::WasReset());
  EXPECT_EQ(backend_->running_count(), 0u);
  // Rings must be set up again from scratch.
  Enable(0);
  EXPECT_EQ(backend_->running_count(), 0u);
}

TEST_F(HandleTest, ResetOwnerStopsEverything) {
  Boot();
  ASSERT_TRUE(H(Empty(kResetOwner)).ok());
  EXPECT_EQ(backend_->running_count(), 0u);
  EXPECT_EQ(backend_->events().back(), Ev::WasReset());
}

TEST_F(HandleTest, ResetWithNothingRunningDoesNotResetTheDevice) {
  ASSERT_TRUE(H(Empty(kResetDevice)).ok());
  EXPECT_TRUE(backend_->events().empty());
}

TEST_F(HandleTest, SessionDestructionStopsQueues) {
  Boot();
  backend_->ClearEvents();
  session_.reset();
  EXPECT_EQ(backend_->running_count(), 0u);
  EXPECT_EQ(backend_->events().back(), Ev::WasReset());
}

TEST_F(HandleTest, StartedQueueGetsTheNegotiatedIndirectFeature) {
  SetFeatures(kFVersion1 | kFRingEventIdx | kFProtocolFeatures);
  SetMemTable();
  StartQueue(0);
  ASSERT_TRUE(fe_->queue(0).Chain().Indirect(fake::IndirectTable().Readable("x")).Publish());
  ASSERT_TRUE(backend_->WithQueue(0, [&](virtio::SplitQueue& q, virtio::Notifier&) {
    virtio::Chain c;
    // INDIRECT was not acked: the indirect chain breaks the queue.
    EXPECT_EQ(q.Pop(&c), virtio::SplitQueue::PopResult::kBroken);
    EXPECT_EQ(q.error(), virtio::ChainError::kIndirectNotNegotiated);
  }));
}

}  // namespace
}  // namespace hostshare::vhost_user::test
