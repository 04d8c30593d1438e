// FsDevice behind a real vhost-user Session, driven by FakeFrontend end to
// end: the device stack minus FUSE (the handler echoes).
#include "device/fs_device.h"

#include <gtest/gtest.h>
#include <linux/virtio_fs.h>

#include <future>
#include <thread>

#include "support/fake_frontend.h"
#include "support/fake_guest_memory.h"
#include "vhost_user/session.h"

namespace hostshare::device {
namespace {

using fake::Bytes;
using fake::FakeFrontend;
using fake::FakeGuestMemory;
using fake::FrontendOptions;

class EchoHandler : public RequestHandler {
 public:
  size_t Handle(ByteReader& in, ByteWriter& out) override {
    std::vector<uint8_t> buf(in.Available());
    if (!in.Read(buf.data(), buf.size()).ok()) return 0;
    size_t n = std::min(buf.size(), out.Available());
    if (!out.Write(buf.data(), n).ok()) return 0;
    return out.BytesWritten();
  }
};

TEST(FsDeviceConfigTest, NoTagNoConfigSpace) {
  EchoHandler h;
  FsDevice dev(h, "");
  EXPECT_TRUE(dev.Config().empty());
  EXPECT_EQ(dev.MaxQueues(), 1 + FsDevice::kMaxRequestQueues);
  EXPECT_EQ(dev.DeviceFeatures(), 0u);
}

TEST(FsDeviceConfigTest, TagAndRequestQueues) {
  EchoHandler h;
  FsDevice dev(h, "myfs");
  auto cfg = dev.Config();
  ASSERT_EQ(cfg.size(), sizeof(virtio_fs_config));
  virtio_fs_config c;
  memcpy(&c, cfg.data(), sizeof(c));
  EXPECT_EQ(std::string(reinterpret_cast<char*>(c.tag), 4), "myfs");
  EXPECT_EQ(c.tag[4], 0);
  EXPECT_EQ(c.num_request_queues, FsDevice::kMaxRequestQueues);
}

TEST(FsDeviceConfigTest, LongTagIsTruncatedNotOverflowed) {
  EchoHandler h;
  FsDevice dev(h, std::string(100, 't'));
  auto cfg = dev.Config();
  ASSERT_EQ(cfg.size(), sizeof(virtio_fs_config));
  EXPECT_EQ(cfg[FsDevice::kTagMax - 1], 't');
}

class FsDeviceSessionTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(fmem_.ok());
    FrontendOptions o;
    o.timeout_ms = 5000;
    ScopedFd theirs;
    fe_ = FakeFrontend::Connect(fmem_, &theirs, o);
    ASSERT_NE(fe_, nullptr);
    std::promise<Status> p;
    result_ = p.get_future();
    thread_ = std::thread([this, fd = std::move(theirs), p = std::move(p)]() mutable {
      Status st;
      {
        vhost_user::Session s(std::move(fd), device_);
        st = s.Run();
      }
      p.set_value(st);
    });
  }
  void TearDown() override {
    fe_->Close();
    if (thread_.joinable()) thread_.join();
  }
  Status Finish() {
    fe_->Close();
    EXPECT_EQ(result_.wait_for(std::chrono::seconds(5)), std::future_status::ready);
    thread_.join();
    return result_.get();
  }

  FakeGuestMemory fmem_;
  EchoHandler handler_;
  FsDevice device_{handler_, "tag"};
  std::unique_ptr<FakeFrontend> fe_;
  std::future<Status> result_;
  std::thread thread_;
};

TEST_F(FsDeviceSessionTest, RequestsOnBothQueues) {
  ASSERT_TRUE(fe_->Handshake().ok());
  for (uint32_t q : {1u, 0u, 1u}) {
    auto c = fe_->Submit(q, Bytes("ping"), 64);
    ASSERT_TRUE(c.ok()) << strerror(c.error());
    EXPECT_EQ(c->reply, Bytes("ping"));
    EXPECT_EQ(c->len, 4u);
  }
  EXPECT_TRUE(Finish().ok());
}

TEST_F(FsDeviceSessionTest, ManyRequestsInFlight) {
  ASSERT_TRUE(fe_->Handshake().ok());
  std::vector<uint16_t> heads;
  for (int i = 0; i < 50; ++i) {
    auto c = fe_->queue(1).Chain().Readable(std::to_string(i)).Writable(16).Publish();
    ASSERT_TRUE(c);
    heads.push_back(c->head);
  }
  ASSERT_TRUE(fe_->Kick(1).ok());
  for (int i = 0; i < 50; ++i) {
    auto c = fe_->WaitUsed(1, heads[i]);
    ASSERT_TRUE(c.ok());
    EXPECT_EQ(c->reply, Bytes(std::to_string(i)));
  }
}

TEST_F(FsDeviceSessionTest, GuestRebootRestartsTheRings) {
  ASSERT_TRUE(fe_->Handshake().ok());
  for (int i = 0; i < 3; ++i) ASSERT_TRUE(fe_->Submit(1, Bytes("a"), 8).ok());
  auto bases = fe_->StopQueues();
  ASSERT_TRUE(bases.ok());
  EXPECT_EQ(*bases, (std::vector<uint16_t>{0, 3}));
  ASSERT_TRUE(fe_->Reboot().ok());  // stops again (bases unchanged) and restarts at 0
  auto c = fe_->Submit(1, Bytes("after reboot"), 64);
  ASSERT_TRUE(c.ok());
  EXPECT_EQ(c->reply, Bytes("after reboot"));
  EXPECT_TRUE(Finish().ok());
}

TEST_F(FsDeviceSessionTest, HostileChainStopsOnlyItsQueue) {
  ASSERT_TRUE(fe_->Handshake().ok());
  ASSERT_TRUE(fe_->Submit(1, Bytes("ok"), 8).ok());
  auto& q = fe_->queue(1);
  auto d = q.AllocDesc();
  ASSERT_TRUE(d);
  q.WriteDesc(*d, virtio::Desc{0, 16, virtio::kDescFNext, *d});  // self-loop
  q.PublishHead(*d);
  ASSERT_TRUE(fe_->Kick(1).ok());
  // The hiprio queue and the session are unaffected.
  auto c = fe_->Submit(0, Bytes("still here"), 32);
  ASSERT_TRUE(c.ok());
  EXPECT_EQ(c->reply, Bytes("still here"));
  ASSERT_TRUE(fe_->Sync().ok());
  // GET_VRING_BASE reports where queue 1 broke.
  auto base = fe_->GetVringBase(1);
  ASSERT_TRUE(base.ok());
  EXPECT_EQ(*base, 1u);
  EXPECT_TRUE(Finish().ok());
}

TEST_F(FsDeviceSessionTest, ConfigSpaceOverVhostUser) {
  ASSERT_TRUE(fe_->Handshake().ok());
  EXPECT_NE(fe_->acked_protocol_features() & vhost_user::kPConfig, 0u);
  auto cfg = fe_->GetConfig(0, sizeof(virtio_fs_config));
  ASSERT_TRUE(cfg.ok());
  ASSERT_EQ(cfg->size(), sizeof(virtio_fs_config));
  EXPECT_EQ(std::string(reinterpret_cast<char*>(cfg->data()), 3), "tag");
}

TEST_F(FsDeviceSessionTest, DisconnectWithRequestsPending) {
  ASSERT_TRUE(fe_->Handshake().ok());
  for (int i = 0; i < 10; ++i) {
    ASSERT_TRUE(fe_->queue(1).Chain().Readable("x").Writable(4).Publish());
  }
  ASSERT_TRUE(fe_->Kick(1).ok());
  EXPECT_TRUE(Finish().ok());
}

}  // namespace
}  // namespace hostshare::device
