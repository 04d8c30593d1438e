// The hostile-input suite's fixture: the whole daemon stack in-process,
// driven by a FakeFrontend (as a hostile VMM) and a FuseClient (as a hostile
// guest driver), plus the helpers that check each case's defined answer:
//
//   malformed FUSE message      -> an error reply (EINVAL ...) and the queue goes on
//   malformed ring / chain      -> that queue stops (no used element, nothing
//                                  served on it until the frontend restarts it);
//                                  the other queues go on
//   malformed vhost-user message-> the connection is closed cleanly (Serve()
//                                  returns an error, no fd leaks, the Service
//                                  can serve a new connection)
//
// and that afterwards the daemon still answers a fresh GETATTR wherever the
// connection survives (ExpectServes).
//
// Thread-safety: the test thread drives everything; Service::Serve runs on
// a thread of its own, the device's queue workers on theirs.
#pragma once

#include <dirent.h>
#include <fcntl.h>
#include <gtest/gtest.h>
#include <linux/fuse.h>
#include <poll.h>
#include <sys/stat.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <future>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "daemon/config.h"
#include "daemon/service.h"
#include "support/fake_frontend.h"
#include "support/fake_guest_memory.h"
#include "support/fuse_client.h"
#include "hostile/malloc_guard.h"

namespace hostshare::hostile {

namespace fsys = std::filesystem;
using fake::Bytes;
using fake::FakeFrontend;
using fake::FakeGuestMemory;
using fake::FuseClient;
using virtio::Desc;
using virtio::kDescFIndirect;
using virtio::kDescFNext;
using virtio::kDescFWrite;

inline constexpr uint64_t kRoot = FUSE_ROOT_ID;
inline constexpr uint32_t kHiprio = 0;
inline constexpr uint32_t kQ1 = 1;  // the queue a case attacks
inline constexpr uint32_t kQ2 = 2;  // a second request queue that must keep working

inline int CountOpenFds() {
  int n = 0;
  DIR* d = opendir("/proc/self/fd");
  if (d == nullptr) return -1;
  while (readdir(d) != nullptr) ++n;
  closedir(d);
  return n;
}

inline void WriteHostFile(const fsys::path& p, const std::string& content) {
  std::ofstream out(p, std::ios::binary);
  out << content;
}

inline std::string ReadHostFile(const fsys::path& p) {
  std::ifstream in(p, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

template <typename T>
std::vector<uint8_t> Body(const T& v) {
  return FuseClient::Body(v);
}

inline std::vector<uint8_t> Cat(std::vector<uint8_t> a, const std::vector<uint8_t>& b) {
  a.insert(a.end(), b.begin(), b.end());
  return a;
}

// A NUL-terminated name as request bytes.
inline std::vector<uint8_t> Name(const std::string& s) {
  std::vector<uint8_t> v(s.begin(), s.end());
  v.push_back(0);
  return v;
}

struct DaemonOptions {
  bool xattr = true;
  bool readonly = false;
  uint32_t num_queues = 3;  // hiprio + two request queues
  uint32_t queue_size = 256;
  int timeout_ms = 10000;
};

class DaemonTest : public ::testing::Test {
 protected:
  // Subclasses may change options_ before SetUp runs (in their constructor).
  void SetUp() override {
    fds_at_start_ = CountOpenFds();
    char tmpl[] = "/tmp/hostshare-hostile-XXXXXX";
    ASSERT_NE(mkdtemp(tmpl), nullptr);
    base_ = tmpl;
    share_ = base_ / "share";
    outside_ = base_ / "outside";
    fsys::create_directory(share_);
    fsys::create_directory(outside_);
    PrepareTree();
    daemon::Config config;
    config.shared_dir = share_.string();
    config.cache = daemon::Cache::kAuto;
    config.xattr = options_.xattr;
    config.readonly = options_.readonly;
    std::string error;
    service_ = daemon::Service::Create(config, &error);
    ASSERT_NE(service_, nullptr) << error;
    ASSERT_TRUE(fmem_.ok());
    fds_with_service_ = CountOpenFds();
    Connect();
    ASSERT_TRUE(fe_ != nullptr);
    ASSERT_TRUE(fe_->Handshake().ok());
    Init();
  }

  void TearDown() override {
    Disconnect();
    service_.reset();
    std::error_code ec;
    fsys::remove_all(base_, ec);
  }

  // Hook for subclasses: files to create before the service starts.
  virtual void PrepareTree() {}

  // Opens a new vhost-user connection to the service (Serve on a thread).
  void Connect() {
    fake::FrontendOptions o;
    o.num_queues = options_.num_queues;
    o.queue_size = options_.queue_size;
    o.timeout_ms = options_.timeout_ms;
    ScopedFd theirs;
    fe_ = FakeFrontend::Connect(fmem_, &theirs, o);
    if (!fe_) return;
    std::promise<Status> p;
    served_ = p.get_future();
    thread_ = std::thread([this, fd = std::move(theirs), p = std::move(p)]() mutable {
      p.set_value(service_->Serve(std::move(fd)));
    });
    fc_ = std::make_unique<FuseClient>(*fe_);
  }

  // Closes the frontend (if still open) and joins Serve; returns its status
  // (nullopt if Serve did not return within 10 s).
  std::optional<Status> Disconnect() {
    if (fe_) fe_->Close();
    std::optional<Status> st;
    if (thread_.joinable()) {
      if (served_.wait_for(std::chrono::seconds(10)) == std::future_status::ready) {
        st = served_.get();
      }
      thread_.join();
    }
    fc_.reset();
    fe_.reset();
    return st;
  }

  void Init() {
    auto init = fc_->Init();
    ASSERT_TRUE(init.ok()) << strerror(init.error());
  }

  // The daemon answers a fresh GETATTR of the root on queue q.
  void ExpectServes(uint32_t q = kQ1) {
    fuse_getattr_in in{};
    auto r = fc_->Call(FUSE_GETATTR, kRoot, Body(in), FuseClient::kReplySize, q);
    ASSERT_TRUE(r.ok()) << "queue " << q << ": " << strerror(r.error());
    ASSERT_EQ(r->error, 0) << "queue " << q;
    ASSERT_EQ(r->body.size(), sizeof(fuse_attr_out));
    fuse_attr_out out;
    memcpy(&out, r->body.data(), sizeof(out));
    EXPECT_TRUE(S_ISDIR(out.attr.mode));
  }

  // Sends `req` (a whole request, header included) on queue q and returns
  // the parsed reply for `unique`.
  Result<FuseClient::Reply> Raw(const std::vector<uint8_t>& req, uint64_t unique,
                                uint32_t reply_size = FuseClient::kReplySize, uint32_t q = kQ1) {
    auto c = fe_->Submit(q, req, reply_size);
    if (!c.ok()) return Errno{c.error()};
    return FuseClient::Parse(*c, unique);
  }

  // A request whose fuse_in_header the caller may have edited.
  std::vector<uint8_t> Request(uint32_t opcode, uint64_t node, const std::vector<uint8_t>& body,
                               uint64_t* unique = nullptr) {
    auto r = fc_->BuildRequest(opcode, node, body);
    if (unique != nullptr) *unique = fc_->last_unique();
    return r;
  }
  static fuse_in_header& Hdr(std::vector<uint8_t>& req) {
    return *reinterpret_cast<fuse_in_header*>(req.data());
  }

  // The error a request gets (EPROTO if the reply is malformed, -1 if no reply).
  int ErrorOf(uint32_t opcode, uint64_t node, const std::vector<uint8_t>& body,
              uint32_t q = kQ1) {
    auto r = fc_->Call(opcode, node, body, FuseClient::kReplySize, q);
    if (!r.ok()) return r.error() == ETIMEDOUT ? -2 : r.error();
    if (r->used_len == 0) return -1;
    return r->error;
  }

  // Publishes a chain someone built on queue q and kicks.
  void Kick(uint32_t q = kQ1) { ASSERT_TRUE(fe_->Kick(q).ok()); }

  // The queue's defined answer to a malformed ring or chain: it stops. The
  // chain at `head` never comes back, a well-formed request published after
  // it is not served, and the daemon goes on serving on queue kQ2. Then the
  // frontend restarts the queue (as on a device reset) and it serves again.
  void ExpectQueueStopped(uint32_t q = kQ1) {
    auto& vq = fe_->queue(q);
    // Every earlier chain on q was consumed by the test; the hostile one
    // must not come back. (Serving queue kQ2 first gives the worker time.)
    ExpectServes(kQ2);
    EXPECT_EQ(vq.used_idx(), vq.last_used()) << "a malformed chain was returned";
    fe_->TakeCalls(q);  // an interrupt of an earlier request may still be pending
    // A stopped queue gives no sign the frontend can wait for, and the chain
    // published below may reuse the hostile chain's descriptors (a loop over
    // the whole table is repaired by it): give the worker time to reach the
    // hostile chain first, or a loaded machine serves the repaired chain.
    std::this_thread::sleep_for(std::chrono::milliseconds(500));
    fuse_getattr_in in{};
    auto req = fc_->BuildRequest(FUSE_GETATTR, kRoot, Body(in));
    auto c = vq.Chain().Readable(req).Writable(4096).Publish();
    ASSERT_TRUE(c.has_value());
    Kick(q);
    EXPECT_EQ(fe_->WaitCall(q, 200), 0u) << "a stopped queue signalled";
    EXPECT_EQ(vq.used_idx(), vq.last_used()) << "a stopped queue served a request";
    ExpectServes(kQ2);
    RestartQueue(q);
    ExpectServes(q);
  }

  // What a frontend does to bring a queue back after NEEDS_RESET: stop it
  // (GET_VRING_BASE), re-initialise the rings and start it again from 0.
  void RestartQueue(uint32_t q) {
    ASSERT_TRUE(fe_->SetVringEnable(q, false).ok());
    ASSERT_TRUE(fe_->GetVringBase(q).ok());
    fe_->queue(q).Reset();
    fe_->TakeCalls(q);
    ASSERT_TRUE(fe_->SetVringNum(q, fe_->queue(q).size()).ok());
    ASSERT_TRUE(fe_->SetVringBase(q, 0).ok());
    ASSERT_TRUE(fe_->SetVringAddr(q).ok());
    ASSERT_TRUE(fe_->SetVringKick(q).ok());
    ASSERT_TRUE(fe_->SetVringEnable(q, true).ok());
    ASSERT_TRUE(fe_->Sync().ok());
  }

  // The connection's defined answer to a malformed vhost-user message: the
  // backend closes it, Serve() returns an error, nothing leaks, and the
  // service serves a new connection (handshake, INIT, GETATTR).
  void ExpectConnectionClosed() {
    EXPECT_TRUE(fe_->WaitForClose(5000)) << "the backend did not close the connection";
    auto st = Disconnect();
    ASSERT_TRUE(st.has_value()) << "Serve() did not return";
    EXPECT_FALSE(st->ok()) << "Serve() reported a clean disconnect";
    // Every fd the frontend sent and every queue's eventfd is closed again
    // (the cases run right after INIT: the filesystem holds no inode yet).
    EXPECT_EQ(CountOpenFds(), fds_with_service_) << "fds leaked";
    ExpectFreshConnectionServes();
  }

  void ExpectFreshConnectionServes() {
    Connect();
    ASSERT_TRUE(fe_ != nullptr);
    ASSERT_TRUE(fe_->Handshake().ok());
    Init();
    ExpectServes(kQ1);
    ExpectServes(kQ2);
  }

  DaemonOptions options_;
  int fds_at_start_ = 0;
  int fds_with_service_ = 0;  // open fds once the service exists, before any connection
  fsys::path base_, share_, outside_;
  std::unique_ptr<daemon::Service> service_;
  FakeGuestMemory fmem_;
  std::unique_ptr<FakeFrontend> fe_;
  std::unique_ptr<FuseClient> fc_;
  std::future<Status> served_;
  std::thread thread_;
};

}  // namespace hostshare::hostile
