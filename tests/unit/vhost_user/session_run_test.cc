// Session::Run over a real socketpair, driven by FakeFrontend: the QEMU 7.2
// sequences, disconnects, and framing errors that only a socket can produce.
#include <gtest/gtest.h>

#include "unit/vhost_user/session_fixture.h"

namespace hostshare::vhost_user::test {
namespace {

constexpr uint64_t kTransportFeatures =
    kFVersion1 | kFRingIndirectDesc | kFRingEventIdx | kFProtocolFeatures;

class RunTest : public ::testing::Test {
 protected:
  void SetUp() override { ASSERT_TRUE(fmem_.ok()); }
  void TearDown() override {
    if (fe_) fe_->Close();
    session_.reset();  // joins
    EXPECT_EQ(backend_.stops_of_unstarted(), 0);
  }
  void Connect(FrontendOptions o = {}) {
    o.queue_size = 256;
    o.timeout_ms = 3000;
    ScopedFd theirs;
    fe_ = FakeFrontend::Connect(fmem_, &theirs, o);
    ASSERT_NE(fe_, nullptr);
    session_ = std::make_unique<SessionThread>(std::move(theirs), backend_);
  }
  // Run's result once the frontend is gone or the session gave up.
  Status Finish() {
    auto st = session_->Wait();
    EXPECT_TRUE(st.has_value()) << "Session::Run did not return";
    return st.value_or(Status(Errno{ETIMEDOUT}));
  }
  // Lets the "device" consume n chains on queue i.
  void Consume(uint32_t i, int n) {
    for (int k = 0; k < n; ++k) ASSERT_TRUE(fe_->queue(i).Chain().Readable("x").Publish());
    ASSERT_TRUE(backend_.WithQueue(i, [&](virtio::SplitQueue& q, virtio::Notifier&) {
      virtio::Chain c;
      for (int k = 0; k < n; ++k) {
        ASSERT_EQ(q.Pop(&c), virtio::SplitQueue::PopResult::kChain);
        q.PushUsed(c.head, 0);
      }
    }));
  }

  FakeGuestMemory fmem_;
  RecordingBackend backend_;
  std::unique_ptr<FakeFrontend> fe_;
  std::unique_ptr<SessionThread> session_;
};

FrontendOptions QemuLike() {
  FrontendOptions o;
  o.ack_every_message = false;  // NEED_REPLY only where QEMU 7.2 sets it
  return o;
}

TEST_F(RunTest, Qemu72BootStartsBothQueues) {
  Connect(QemuLike());
  ASSERT_TRUE(fe_->Handshake().ok());
  EXPECT_EQ(backend_.events(), (std::vector<Ev::Event>{Ev::Started(0), Ev::Started(1)}));
  EXPECT_EQ(fe_->acked_features(), kTransportFeatures);
  uint64_t want_proto = kPMq | kPReplyAck | kPBackendReq | kPBackendSendFd |
                        kPConfigureMemSlots | kPResetDevice;
  EXPECT_EQ(fe_->acked_protocol_features(), want_proto);
  EXPECT_GE(fe_->backend_req_fd(), 0);
  EXPECT_EQ(fe_->offered_protocol_features() & kPConfig, 0u);  // no config space
  fe_->Close();
  EXPECT_TRUE(Finish().ok());
  EXPECT_EQ(backend_.running_count(), 0u);
}

TEST_F(RunTest, BootWithSetMemTable) {
  FrontendOptions o = QemuLike();
  o.prefer_mem_slots = false;
  Connect(o);
  ASSERT_TRUE(fe_->Handshake().ok());
  EXPECT_EQ(backend_.running_count(), 2u);
}

TEST_F(RunTest, BootWithAckedEveryMessage) {
  Connect();
  ASSERT_TRUE(fe_->Handshake().ok());
  EXPECT_EQ(backend_.running_count(), 2u);
}

TEST_F(RunTest, BootWithoutProtocolFeatures) {
  FrontendOptions o;
  o.features = kFVersion1 | kFRingEventIdx;  // no PROTOCOL_FEATURES: rings start on kick
  Connect(o);
  ASSERT_TRUE(fe_->Handshake().ok());
  EXPECT_EQ(fe_->acked_protocol_features(), 0u);
  EXPECT_EQ(backend_.running_count(), 2u);
}

TEST_F(RunTest, BootWithoutReplyAck) {
  FrontendOptions o;
  o.protocol_features = fake::kQemu72ProtocolFeatures & ~kPReplyAck;
  Connect(o);
  ASSERT_TRUE(fe_->Handshake().ok());
  EXPECT_EQ(backend_.running_count(), 2u);
}

TEST_F(RunTest, GetVringBaseReturnsWhereTheDeviceStopped) {
  Connect();
  ASSERT_TRUE(fe_->Handshake().ok());
  Consume(1, 5);
  auto bases = fe_->StopQueues();
  ASSERT_TRUE(bases.ok());
  EXPECT_EQ(*bases, (std::vector<uint16_t>{0, 5}));
  EXPECT_EQ(backend_.running_count(), 0u);
}

TEST_F(RunTest, GuestRebootAsInTheTrace) {
  Connect(QemuLike());
  ASSERT_TRUE(fe_->Handshake().ok());
  Consume(1, 2);
  backend_.ClearEvents();
  ASSERT_TRUE(fe_->Reboot().ok());
  auto ev = backend_.events();
  ASSERT_EQ(ev.size(), 4u);
  EXPECT_EQ(ev[0], Ev::Stopped(0, 0));
  EXPECT_EQ(ev[1], Ev::Stopped(1, 2));
  EXPECT_EQ(ev[2], Ev::Started(0, 0));
  EXPECT_EQ(ev[3], Ev::Started(1, 0));
}

TEST_F(RunTest, RestartWithoutResendingQueue1Geometry) {
  // The trace's second boot sends SET_VRING_NUM / SET_VRING_ADDR for queue 0
  // only; queue 1 gets just BASE and KICK. The session keeps ring geometry
  // across GET_VRING_BASE, so queue 1 must start too.
  Connect(QemuLike());
  ASSERT_TRUE(fe_->Handshake().ok());
  ASSERT_TRUE(fe_->StopQueues().ok());
  backend_.ClearEvents();
  ASSERT_TRUE(fe_->SetVringCall(0).ok());
  ASSERT_TRUE(fe_->SetFeatures(kTransportFeatures).ok());
  ASSERT_TRUE(fe_->SetVringNum(0, 256).ok());
  ASSERT_TRUE(fe_->SetVringBase(0, 0).ok());
  ASSERT_TRUE(fe_->SetVringAddr(0).ok());
  ASSERT_TRUE(fe_->SetVringKick(0).ok());
  ASSERT_TRUE(fe_->SetVringBase(1, 0).ok());
  ASSERT_TRUE(fe_->SetVringKick(1).ok());
  ASSERT_TRUE(fe_->SetVringEnable(0, true).ok());
  ASSERT_TRUE(fe_->SetVringEnable(1, true).ok());
  ASSERT_TRUE(fe_->Sync().ok());
  EXPECT_EQ(backend_.events(), (std::vector<Ev::Event>{Ev::Started(0), Ev::Started(1)}));
}

TEST_F(RunTest, NeedReplyGetsAZeroAckOnlyWithReplyAck) {
  Connect();
  ASSERT_TRUE(fe_->GetFeatures().ok());
  // Before SET_PROTOCOL_FEATURES: NEED_REPLY is ignored; the next reply on
  // the wire is GET_FEATURES's.
  ASSERT_TRUE(fe_->SendRaw(kSetOwner, kVersion | kFlagNeedReply, nullptr, 0).ok());
  auto f = fe_->GetFeatures();
  ASSERT_TRUE(f.ok()) << strerror(f.error());
  ASSERT_TRUE(fe_->SetProtocolFeatures(kPReplyAck).ok());
  ASSERT_TRUE(fe_->SendRaw(kSetOwner, kVersion | kFlagNeedReply, nullptr, 0).ok());
  auto r = fe_->ReceiveReply();
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->header.request, kSetOwner);
  EXPECT_EQ(r->header.flags, kVersion | kFlagReply);
  ASSERT_EQ(r->payload.size(), 8u);
  EXPECT_EQ(r->payload, std::vector<uint8_t>(8, 0));
}

TEST_F(RunTest, GetConfigOverTheSocket) {
  std::vector<uint8_t> config(48);
  for (size_t i = 0; i < config.size(); ++i) config[i] = static_cast<uint8_t>(i);
  RecordingBackend with_config(2, config);
  ScopedFd theirs;
  auto fe = FakeFrontend::Connect(fmem_, &theirs);
  ASSERT_NE(fe, nullptr);
  SessionThread t(std::move(theirs), with_config);
  auto pf = fe->GetProtocolFeatures();
  ASSERT_TRUE(pf.ok());
  EXPECT_NE(*pf & kPConfig, 0u);
  ASSERT_TRUE(fe->SetProtocolFeatures(*pf).ok());
  auto c = fe->GetConfig(4, 8);
  ASSERT_TRUE(c.ok());
  EXPECT_EQ(*c, std::vector<uint8_t>(config.begin() + 4, config.begin() + 12));
  auto whole = fe->GetConfig(0, 48);
  ASSERT_TRUE(whole.ok());
  EXPECT_EQ(*whole, config);
  auto past = fe->GetConfig(40, 16);
  ASSERT_TRUE(past.ok());
  EXPECT_TRUE(past->empty());
  fe->Close();
  auto st = t.Wait();
  ASSERT_TRUE(st.has_value());
  EXPECT_TRUE(st->ok());
}

// ---- Disconnects ----------------------------------------------------------------------

TEST_F(RunTest, DisconnectBeforeAnything) {
  Connect();
  fe_->Close();
  EXPECT_TRUE(Finish().ok());
  EXPECT_TRUE(backend_.events().empty());
}

TEST_F(RunTest, DisconnectWhileRunningStopsQueuesAndReturnsOk) {
  Connect();
  ASSERT_TRUE(fe_->Handshake().ok());
  backend_.ClearEvents();
  fe_->Close();
  EXPECT_TRUE(Finish().ok());
  auto ev = backend_.events();
  ASSERT_EQ(ev.size(), 3u);
  EXPECT_EQ(ev[0].op, Ev::Op::kStop);
  EXPECT_EQ(ev[1].op, Ev::Op::kStop);
  EXPECT_EQ(ev[2], Ev::WasReset());
}

TEST_F(RunTest, DisconnectInsideAHeaderIsAnError) {
  Connect();
  Header h{kGetFeatures, kVersion, 0};
  ASSERT_TRUE(fe_->SendBytes(&h, 5).ok());
  fe_->Close();
  Status st = Finish();
  EXPECT_FALSE(st.ok());
}

TEST_F(RunTest, DisconnectInsideAPayloadIsAnError) {
  Connect();
  ASSERT_TRUE(fe_->Handshake().ok());
  Header h{kSetVringAddr, kVersion, sizeof(VringAddr)};
  uint8_t buf[sizeof(h) + 10] = {};
  memcpy(buf, &h, sizeof(h));
  ASSERT_TRUE(fe_->SendBytes(buf, sizeof(buf)).ok());
  fe_->Close();
  EXPECT_FALSE(Finish().ok());
  EXPECT_EQ(backend_.running_count(), 0u);
}

TEST_F(RunTest, HeaderSplitAcrossWritesIsReassembled) {
  Connect();
  Header h{kGetFeatures, kVersion, 0};
  ASSERT_TRUE(fe_->SendBytes(&h, 3).ok());
  usleep(20000);
  ASSERT_TRUE(fe_->SendBytes(reinterpret_cast<uint8_t*>(&h) + 3, sizeof(h) - 3).ok());
  auto r = fe_->ReceiveReply();
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->header.request, kGetFeatures);
}

// ---- Framing errors close the connection -------------------------------------------------

TEST_F(RunTest, TooManyFdsClosesTheConnectionWithoutLeaks) {
  int before = CountOpenFds();
  Connect();
  {
    std::vector<ScopedFd> owned = EventFds(kMaxFds + 1);
    std::vector<int> fds;
    for (auto& f : owned) fds.push_back(f.get());
    uint64_t v = 0;
    ASSERT_TRUE(fe_->SendRaw(kSetVringCall, kVersion, &v, sizeof(v), fds).ok());
  }
  EXPECT_EQ(Finish().error(), EMSGSIZE);
  EXPECT_TRUE(fe_->WaitForClose(1000));
  fe_.reset();
  EXPECT_EQ(CountOpenFds(), before);
}

TEST_F(RunTest, OversizedPayloadClosesTheConnection) {
  Connect();
  std::vector<uint8_t> big(kMaxPayload + 1);
  ASSERT_TRUE(fe_->SendRaw(kSetMemTable, kVersion, big.data(), big.size()).ok());
  EXPECT_EQ(Finish().error(), EMSGSIZE);
}

TEST_F(RunTest, HeaderClaimingAHugePayload) {
  Connect();
  ASSERT_TRUE(fe_->SendRaw(kSetVringNum, kVersion, nullptr, 0, {}, 0xffffffffu).ok());
  EXPECT_EQ(Finish().error(), EMSGSIZE);
}

TEST_F(RunTest, UnknownRequestClosesTheConnection) {
  Connect();
  ASSERT_TRUE(fe_->Handshake().ok());
  ASSERT_TRUE(fe_->SendRaw(999, kVersion, nullptr, 0).ok());
  EXPECT_FALSE(Finish().ok());
  EXPECT_TRUE(fe_->WaitForClose(1000));
  EXPECT_EQ(backend_.running_count(), 0u);
  EXPECT_EQ(backend_.events().back(), Ev::WasReset());
}

TEST_F(RunTest, BadVersionClosesTheConnection) {
  Connect();
  ASSERT_TRUE(fe_->SendRaw(kGetFeatures, 0x2, nullptr, 0).ok());
  EXPECT_FALSE(Finish().ok());
  EXPECT_TRUE(fe_->WaitForClose(1000));
}

TEST_F(RunTest, TypedCallsSeeTheClose) {
  Connect();
  ASSERT_TRUE(fe_->SendRaw(kGetFeatures, 0x0, nullptr, 0).ok());
  EXPECT_FALSE(Finish().ok());
  auto f = fe_->GetFeatures();
  ASSERT_FALSE(f.ok());
  EXPECT_TRUE(f.error() == ECONNRESET || f.error() == EPIPE) << strerror(f.error());
}

TEST_F(RunTest, FdsArriveThroughScmRights) {
  Connect();
  ASSERT_TRUE(fe_->Handshake().ok());
  // The session passed its own copy of the kick fd: a write to ours is
  // readable from it.
  int theirs = backend_.kick_fd(1);
  ASSERT_GE(theirs, 0);
  EXPECT_NE(theirs, fe_->kick_fd(1));
  ASSERT_TRUE(fe_->Kick(1).ok());
  EXPECT_TRUE(Readable(theirs, 1000));
}

}  // namespace
}  // namespace hostshare::vhost_user::test
