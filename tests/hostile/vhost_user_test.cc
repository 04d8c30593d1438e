// Hostile vhost-user messages, end to end: each malformed message is sent
// on a running connection (handshake done, FUSE initialised) to
// daemon::Service::Serve over a real Unix socket, with fds passed as real
// SCM_RIGHTS. Its defined answer is a clean close of the connection:
// Serve() returns an error, every fd the frontend sent is closed again, and
// the service then serves a new connection (handshake, INIT, GETATTR on two
// queues). Frontend fds that merely misbehave (a kick fd that is not an
// eventfd, a call fd nobody reads) stop one queue at most, and never hang
// the daemon.
#include <sys/eventfd.h>
#include <sys/mman.h>

#include <csignal>
#include <functional>

#include "daemon/startup.h"
#include "hostile/hostile_fixture.h"
#include "vhost_user/protocol.h"

namespace hostshare::hostile {
namespace {

namespace vu = ::hostshare::vhost_user;

constexpr uint64_t kMiB = 1 << 20;

struct Case {
  std::string label;
  std::function<void(FakeFrontend&)> send;
};

class VhostUserTest : public DaemonTest {
 protected:
  // Runs each case on a connection of its own and checks that it was closed.
  void RunClosingCases(const std::vector<Case>& cases) {
    for (const Case& c : cases) {
      SCOPED_TRACE(c.label);
      c.send(*fe_);
      ExpectConnectionClosed();
      if (HasFatalFailure()) return;
    }
  }

  static ScopedFd EventFd(int flags = EFD_NONBLOCK) {
    return ScopedFd(eventfd(0, EFD_CLOEXEC | flags));
  }

  // A region of the fake memory's fd, as the wire carries it.
  static vu::MemoryRegion Region(uint64_t gpa, uint64_t size, uint64_t uva, uint64_t off) {
    return {gpa, size, uva, off};
  }
};

std::vector<uint8_t> Zeros(size_t n) { return std::vector<uint8_t>(n, 0); }

TEST_F(VhostUserTest, EveryMessageWithAWrongSize) {
  struct Msg {
    uint32_t code;
    uint32_t size;
    int fds;  // eventfds to attach
  };
  const Msg msgs[] = {
      {vu::kGetFeatures, 0, 0},         {vu::kSetFeatures, 8, 0},
      {vu::kSetOwner, 0, 0},            {vu::kResetOwner, 0, 0},
      {vu::kGetProtocolFeatures, 0, 0}, {vu::kSetProtocolFeatures, 8, 0},
      {vu::kGetQueueNum, 0, 0},         {vu::kGetMaxMemSlots, 0, 0},
      {vu::kSetVringNum, 8, 0},         {vu::kSetVringAddr, 40, 0},
      {vu::kSetVringBase, 8, 0},        {vu::kGetVringBase, 8, 0},
      {vu::kSetVringEnable, 8, 0},      {vu::kSetVringKick, 8, 1},
      {vu::kSetVringCall, 8, 1},        {vu::kSetVringErr, 8, 1},
      {vu::kSetBackendReqFd, 0, 1},     {vu::kAddMemReg, 40, 1},
      {vu::kRemMemReg, 40, 0},          {vu::kSetMemTable, 8 + 32, 1},
      {vu::kResetDevice, 0, 0},         {vu::kGetConfig, 12, 0},
  };
  std::vector<Case> cases;
  for (const Msg& m : msgs) {
    std::vector<uint32_t> sizes = {m.size + 1, m.size + 8, vu::kMaxPayload};
    if (m.size > 0) sizes.push_back(m.size - 1);
    if (m.size > 8) sizes.push_back(8);
    for (uint32_t size : sizes) {
      cases.push_back({std::string(vu::RequestName(m.code)) + " size " + std::to_string(size),
                       [m, size](FakeFrontend& fe) {
                         std::vector<ScopedFd> owned;
                         std::vector<int> fds;
                         for (int i = 0; i < m.fds; ++i) {
                           owned.push_back(EventFd());
                           fds.push_back(owned.back().get());
                         }
                         auto payload = Zeros(size);
                         if (m.code == vu::kSetMemTable) payload[0] = 1;  // nregions
                         ASSERT_TRUE(fe.SendRaw(m.code, vu::kVersion, payload.data(), size, fds)
                                         .ok());
                       }});
    }
  }
  // Headers that promise more payload than any message has.
  for (uint32_t size : {vu::kMaxPayload + 1, 0x10000u, 0xffffffffu}) {
    cases.push_back({"header size " + std::to_string(size), [size](FakeFrontend& fe) {
                       auto payload = Zeros(64);
                       ASSERT_TRUE(fe.SendRaw(vu::kGetFeatures, vu::kVersion, payload.data(),
                                              payload.size(), {}, size)
                                       .ok());
                     }});
  }
  RunClosingCases(cases);
}

TEST_F(VhostUserTest, TruncatedMessageThenEof) {
  // The header promises 40 bytes, 10 come, then the frontend hangs up.
  auto payload = Zeros(10);
  ASSERT_TRUE(fe_->SendRaw(vu::kSetVringAddr, vu::kVersion, payload.data(), 10, {}, 40).ok());
  fe_->Close();
  auto st = Disconnect();
  ASSERT_TRUE(st.has_value());
  EXPECT_FALSE(st->ok());
  EXPECT_EQ(CountOpenFds(), fds_with_service_);
  ExpectFreshConnectionServes();
}

TEST_F(VhostUserTest, UnknownAndUnsupportedCodes) {
  std::vector<Case> cases;
  for (uint32_t code : {0u, 26u, 27u, 33u, 35u, 39u, 40u, 1000u, 0xffffu, 0xffffffffu,
                        uint32_t{vu::kSetLogBase}, uint32_t{vu::kSetLogFd},
                        uint32_t{vu::kSendRarp}, uint32_t{vu::kNetSetMtu},
                        uint32_t{vu::kIotlbMsg}, uint32_t{vu::kSetVringEndian}}) {
    cases.push_back({"code " + std::to_string(code), [code](FakeFrontend& fe) {
                       auto payload = Zeros(8);
                       ASSERT_TRUE(fe.SendRaw(code, vu::kVersion, payload.data(), 8).ok());
                     }});
  }
  for (uint32_t flags : {0u, 2u, 3u, vu::kVersion | 0x2u /* bit 1 is version too */}) {
    cases.push_back({"flags " + std::to_string(flags), [flags](FakeFrontend& fe) {
                       ASSERT_TRUE(fe.SendRaw(vu::kGetFeatures, flags, nullptr, 0).ok());
                     }});
  }
  cases.push_back({"GET_CONFIG without a config space", [](FakeFrontend& fe) {
                     vu::ConfigHeader h{0, 4, 0};
                     auto p = Cat(Body(h), Zeros(4));
                     ASSERT_TRUE(fe.SendRaw(vu::kGetConfig, vu::kVersion, p.data(), p.size()).ok());
                   }});
  cases.push_back({"SET_FEATURES with bits not offered", [](FakeFrontend& fe) {
                     (void)fe.SetFeatures(~0ull);
                   }});
  cases.push_back({"SET_PROTOCOL_FEATURES with bits not offered", [](FakeFrontend& fe) {
                     (void)fe.SetProtocolFeatures(~0ull);
                   }});
  RunClosingCases(cases);
}

TEST_F(VhostUserTest, WrongFdCounts) {
  std::vector<Case> cases;
  auto with_fds = [](uint32_t code, std::vector<uint8_t> payload, int nfds) {
    return [code, payload, nfds](FakeFrontend& fe) {
      std::vector<ScopedFd> owned;
      std::vector<int> fds;
      for (int i = 0; i < nfds; ++i) {
        owned.emplace_back(eventfd(0, EFD_CLOEXEC));
        fds.push_back(owned.back().get());
      }
      ASSERT_TRUE(fe.SendRaw(code, vu::kVersion, payload.data(), payload.size(), fds).ok());
    };
  };
  uint64_t q1 = 1;
  uint64_t q1_nofd = 1 | vu::kVringNoFdMask;
  cases.push_back({"9 fds (one more than any message)", with_fds(vu::kGetFeatures, {}, 9)});
  cases.push_back({"253 fds (SCM_MAX_FD)", with_fds(vu::kSetOwner, {}, 253)});
  cases.push_back({"GET_FEATURES with an fd", with_fds(vu::kGetFeatures, {}, 1)});
  cases.push_back({"SET_VRING_KICK with 2 fds", with_fds(vu::kSetVringKick, Body(q1), 2)});
  cases.push_back({"SET_VRING_CALL with no fd", with_fds(vu::kSetVringCall, Body(q1), 0)});
  cases.push_back({"SET_VRING_ERR with an fd and NOFD",
                   with_fds(vu::kSetVringErr, Body(q1_nofd), 1)});
  cases.push_back({"SET_VRING_KICK with NOFD (polling)",
                   with_fds(vu::kSetVringKick, Body(q1_nofd), 0)});
  cases.push_back({"SET_BACKEND_REQ_FD with no fd", with_fds(vu::kSetBackendReqFd, {}, 0)});
  cases.push_back({"REM_MEM_REG with 2 fds", with_fds(vu::kRemMemReg, Zeros(40), 2)});
  RunClosingCases(cases);
}

TEST_F(VhostUserTest, QueueIndexOutOfRangeForEveryPerQueueMessage) {
  std::vector<Case> cases;
  for (uint32_t idx : {17u /* MaxQueues */, 63u, 64u, 255u, 256u, 0x80000000u, 0xffffffffu}) {
    auto s = [idx](uint32_t num) { return Body(vu::VringState{idx, num}); };
    const std::string i = " index " + std::to_string(idx);
    cases.push_back({"SET_VRING_NUM" + i, [s](FakeFrontend& fe) {
                       auto p = s(256);
                       ASSERT_TRUE(fe.SendRaw(vu::kSetVringNum, vu::kVersion, p.data(), 8).ok());
                     }});
    cases.push_back({"SET_VRING_BASE" + i, [s](FakeFrontend& fe) {
                       auto p = s(0);
                       ASSERT_TRUE(fe.SendRaw(vu::kSetVringBase, vu::kVersion, p.data(), 8).ok());
                     }});
    cases.push_back({"GET_VRING_BASE" + i, [s](FakeFrontend& fe) {
                       auto p = s(0);
                       ASSERT_TRUE(fe.SendRaw(vu::kGetVringBase, vu::kVersion, p.data(), 8).ok());
                     }});
    cases.push_back({"SET_VRING_ENABLE" + i, [s](FakeFrontend& fe) {
                       auto p = s(1);
                       ASSERT_TRUE(
                           fe.SendRaw(vu::kSetVringEnable, vu::kVersion, p.data(), 8).ok());
                     }});
    cases.push_back({"SET_VRING_ADDR" + i, [idx](FakeFrontend& fe) {
                       auto& q = fe.queue(1);
                       vu::VringAddr a{idx, 0, q.desc_uva(), q.used_uva(), q.avail_uva(), 0};
                       ASSERT_TRUE(
                           fe.SendRaw(vu::kSetVringAddr, vu::kVersion, &a, sizeof(a)).ok());
                     }});
    if (idx <= 0xff) {
      // The fd messages carry the index in bits 0-7 of a u64.
      for (uint32_t code : {uint32_t{vu::kSetVringKick}, uint32_t{vu::kSetVringCall},
                            uint32_t{vu::kSetVringErr}}) {
        cases.push_back({std::string(vu::RequestName(code)) + i, [code, idx](FakeFrontend& fe) {
                           ScopedFd fd(eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK));
                           uint64_t v = idx;
                           ASSERT_TRUE(fe.SendRaw(code, vu::kVersion, &v, 8, {fd.get()}).ok());
                         }});
      }
    }
  }
  // Bits above the index and the NOFD flag.
  for (uint32_t code : {uint32_t{vu::kSetVringKick}, uint32_t{vu::kSetVringCall},
                        uint32_t{vu::kSetVringErr}}) {
    cases.push_back({std::string(vu::RequestName(code)) + " unknown bits", [code](FakeFrontend& fe) {
                       ScopedFd fd(eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK));
                       uint64_t v = 1 | (1ull << 12) | (1ull << 40);
                       ASSERT_TRUE(fe.SendRaw(code, vu::kVersion, &v, 8, {fd.get()}).ok());
                     }});
  }
  RunClosingCases(cases);
}

TEST_F(VhostUserTest, MemoryTablesWithBadRegionCountsOrRegions) {
  const auto& A = fmem_.spec(0);
  const int mfd = fmem_.fd();
  const uint64_t file = fmem_.file_size();
  auto table = [mfd](std::vector<vu::MemoryRegion> regions, std::optional<uint32_t> n,
                     int nfds) {
    return [regions, n, nfds, mfd](FakeFrontend& fe) {
      std::vector<uint8_t> p(8 + regions.size() * sizeof(vu::MemoryRegion));
      uint32_t count = n ? *n : static_cast<uint32_t>(regions.size());
      memcpy(p.data(), &count, 4);
      for (size_t i = 0; i < regions.size(); ++i) {
        memcpy(p.data() + 8 + i * sizeof(vu::MemoryRegion), &regions[i], sizeof(regions[i]));
      }
      std::vector<int> fds(nfds, mfd);
      ASSERT_TRUE(fe.SendRaw(vu::kSetMemTable, vu::kVersion, p.data(), p.size(), fds).ok());
    };
  };
  const vu::MemoryRegion ra = Region(A.guest_addr, A.size, A.user_addr, A.mmap_offset);
  std::vector<Case> cases = {
      {"0 regions", table({}, 0, 0)},
      {"9 regions, 8 fds", table(std::vector<vu::MemoryRegion>(9, ra), 9, 8)},
      {"9 regions, 9 fds", table(std::vector<vu::MemoryRegion>(9, ra), 9, 9)},
      {"count 2, one region", table({ra}, 2, 1)},
      {"count 0xffffffff", table({ra}, 0xffffffffu, 1)},
      {"overlap in guest space",
       table({ra, Region(A.guest_addr + A.size / 2, A.size, A.user_addr + 16 * kMiB, 0)}, {}, 2)},
      {"overlap in frontend space",
       table({ra, Region(A.guest_addr + 16 * kMiB, A.size, A.user_addr + A.size / 2, 0)}, {}, 2)},
      {"guest address wraps", table({Region(~0ull - 4095, A.size, A.user_addr, 0)}, {}, 1)},
      {"frontend address wraps", table({Region(0, A.size, ~0ull - 4095, 0)}, {}, 1)},
      {"size 0", table({Region(0, 0, A.user_addr, 0)}, {}, 1)},
      {"beyond the end of the fd", table({Region(0, 2 * kMiB, A.user_addr, file - kMiB)}, {}, 1)},
      {"mmap offset 2^63", table({Region(0, kMiB, A.user_addr, 1ull << 63)}, {}, 1)},
      {"mmap offset + size wraps", table({Region(0, kMiB, A.user_addr, ~0ull - 4095)}, {}, 1)},
      {"a table without the rings' region",
       table({Region(0x40000000, kMiB, A.user_addr + 64 * kMiB, 0)}, {}, 1)},
  };
  // ADD_MEM_REG / REM_MEM_REG (CONFIGURE_MEM_SLOTS).
  auto add = [mfd](vu::MemoryRegion r) {
    return [r, mfd](FakeFrontend& fe) {
      vu::SingleMemoryRegion m{0, r};
      ASSERT_TRUE(fe.SendRaw(vu::kAddMemReg, vu::kVersion, &m, sizeof(m), {mfd}).ok());
    };
  };
  cases.push_back({"ADD_MEM_REG overlapping", add(Region(A.guest_addr + 4096, 4096,
                                                         A.user_addr + 64 * kMiB, 0))});
  cases.push_back({"ADD_MEM_REG wrapping", add(Region(~0ull - 4095, 8192, 1ull << 40, 0))});
  cases.push_back({"ADD_MEM_REG beyond the fd", add(Region(1ull << 32, 2 * file, 1ull << 40, 0))});
  cases.push_back({"ADD_MEM_REG 33rd region", [mfd](FakeFrontend& fe) {
                     // 3 regions are there; 29 small ones fill the 32 slots.
                     for (int i = 0; i < 30; ++i) {
                       vu::SingleMemoryRegion m{
                           0, Region((1ull << 32) + i * 4096ull, 4096, (1ull << 40) + i * 4096ull,
                                     0)};
                       if (!fe.SendRaw(vu::kAddMemReg, vu::kVersion, &m, sizeof(m), {mfd}).ok()) {
                         return;
                       }
                       if (i < 29) {
                         ASSERT_TRUE(fe.Sync().ok()) << i;
                       }
                     }
                   }});
  cases.push_back({"REM_MEM_REG of an unknown region", [](FakeFrontend& fe) {
                     vu::SingleMemoryRegion m{0, Region(0x40000000, kMiB, 1ull << 40, 0)};
                     ASSERT_TRUE(fe.SendRaw(vu::kRemMemReg, vu::kVersion, &m, sizeof(m)).ok());
                   }});
  cases.push_back({"REM_MEM_REG of the rings' region while they run", [&A](FakeFrontend& fe) {
                     vu::SingleMemoryRegion m{0, Region(A.guest_addr, A.size, A.user_addr, 0)};
                     ASSERT_TRUE(fe.SendRaw(vu::kRemMemReg, vu::kVersion, &m, sizeof(m)).ok());
                   }});
  RunClosingCases(cases);
}

TEST_F(VhostUserTest, RingsOutsideGuestMemoryOrBadlySized) {
  const auto& A = fmem_.spec(0);
  auto addr = [](uint64_t d, uint64_t a, uint64_t u) {
    return [d, a, u](FakeFrontend& fe) {
      vu::VringAddr va{1, 0, d, u, a, 0};
      ASSERT_TRUE(fe.SendRaw(vu::kSetVringAddr, vu::kVersion, &va, sizeof(va)).ok());
    };
  };
  auto state = [](uint32_t code, uint32_t num) {
    return [code, num](FakeFrontend& fe) {
      vu::VringState s{1, num};
      ASSERT_TRUE(fe.SendRaw(code, vu::kVersion, &s, sizeof(s)).ok());
    };
  };
  std::vector<Case> cases;
  auto& q = fe_->queue(1);
  const uint64_t d = q.desc_uva(), a = q.avail_uva(), u = q.used_uva();
  const uint64_t end = A.user_addr + A.size;  // first byte after region A (a gap follows)
  cases.push_back({"descriptor table outside", addr(0xdead0000, a, u)});
  cases.push_back({"avail ring outside", addr(d, 0xdead0000, u)});
  cases.push_back({"used ring outside", addr(d, a, 0xdead0000)});
  cases.push_back({"descriptor table across the end of a region", addr(end - 16 * 16, a, u)});
  cases.push_back({"used ring across the end of a region", addr(d, a, end - 64)});
  cases.push_back({"ring at the top of the address space", addr(~0ull & ~15ull, a, u)});
  cases.push_back({"misaligned descriptor table", addr(d + 8, a, u)});
  cases.push_back({"misaligned avail ring", addr(d, a + 1, u)});
  cases.push_back({"misaligned used ring", addr(d, a, u + 2)});
  for (uint32_t num : {0u, 3u, 1000u, 65536u, 0xffffffffu}) {
    cases.push_back({"ring size " + std::to_string(num), state(vu::kSetVringNum, num)});
  }
  cases.push_back({"ring base 0x10000", state(vu::kSetVringBase, 0x10000)});
  cases.push_back({"enable 2", state(vu::kSetVringEnable, 2)});
  cases.push_back({"ring grown past its region", [end, a, u](FakeFrontend& fe) {
                     // 256 descriptors end exactly at the region's end; 32768 at the
                     // same address do not fit, which is checked when the ring restarts.
                     (void)fe.SetVringNum(1, 256);
                     (void)fe.SetVringAddr(1, end - 256 * 16, a, u);
                     (void)fe.SetVringNum(1, 32768);
                     (void)fe.SetVringKick(1);
                   }});
  RunClosingCases(cases);
}

// --- frontend fds that misbehave: one queue at most, never a hang ----------------

TEST_F(VhostUserTest, KickFdThatIsNotAnEventfdStopsItsQueue) {
  char path[] = "/tmp/hostshare-kick-XXXXXX";
  ScopedFd file(mkstemp(path));
  ASSERT_TRUE(file.valid());
  unlink(path);
  ASSERT_EQ(write(file.get(), "12345678", 8), 8);
  ASSERT_TRUE(fe_->SetVringKick(kQ1, file.get()).ok());
  ExpectServes(kQ2);
  ASSERT_TRUE(fe_->Sync().ok());
  RestartQueue(kQ1);
  ExpectServes(kQ1);
  ExpectServes(kQ2);
}

TEST_F(VhostUserTest, CallFdWhoseReaderIsGone) {
  daemon::SetUpSignals();  // as the daemon does at start-up (SIGPIPE ignored)
  int p[2];
  ASSERT_EQ(pipe2(p, O_CLOEXEC), 0);
  close(p[0]);
  ScopedFd w(p[1]);
  ASSERT_TRUE(fe_->SetVringCall(kQ1, w.get()).ok());
  // Requests are served; the interrupts go nowhere, so watch the used ring.
  auto& vq = fe_->queue(kQ1);
  for (int i = 0; i < 10; ++i) {
    fuse_getattr_in in{};
    auto c = vq.Chain().Readable(fc_->BuildRequest(FUSE_GETATTR, kRoot, Body(in))).Writable(256)
                 .Publish();
    ASSERT_TRUE(c);
    Kick(kQ1);
    auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(5);
    while (!vq.TakeUsed() && std::chrono::steady_clock::now() < deadline) {
      std::this_thread::sleep_for(std::chrono::microseconds(100));
    }
  }
  EXPECT_EQ(vq.in_flight(), 0u);
  ASSERT_TRUE(fe_->SetVringCall(kQ1).ok());
  ExpectServes(kQ1);
  ExpectServes(kQ2);
}

TEST_F(VhostUserTest, CallFdThatIsNeverReadDoesNotHangTheDaemon) {
  // A call fd that is a blocking pipe nobody reads fills after 512
  // interrupts (a one-page pipe). The queue's worker must not block on it:
  // stopping the queue (GET_VRING_BASE) and disconnecting must still work.
  int p[2];
  ASSERT_EQ(pipe2(p, O_CLOEXEC), 0);
  ScopedFd r(p[0]), w(p[1]);
  ASSERT_GE(fcntl(w.get(), F_SETPIPE_SZ, 4096), 0);
  ASSERT_TRUE(fe_->SetVringCall(kQ1, w.get()).ok());
  auto& vq = fe_->queue(kQ1);
  const uint16_t start = vq.avail_idx();
  for (int i = 0; i < 600; ++i) {
    fuse_getattr_in in{};
    auto c = vq.Chain().Readable(fc_->BuildRequest(FUSE_GETATTR, kRoot, Body(in))).Writable(256)
                 .Publish();
    ASSERT_TRUE(c);
    Kick(kQ1);
    auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(5);
    bool done = false;
    while (!(done = vq.TakeUsed().has_value()) && std::chrono::steady_clock::now() < deadline) {
      std::this_thread::sleep_for(std::chrono::microseconds(50));
    }
    ASSERT_TRUE(done) << "request " << i << " was not served: the worker is stuck";
  }
  auto base = fe_->GetVringBase(kQ1);  // stops the queue: joins its worker
  ASSERT_TRUE(base.ok()) << strerror(base.error());
  EXPECT_EQ(*base, start + 600u);
  ExpectServes(kQ2);
  auto st = Disconnect();
  ASSERT_TRUE(st.has_value()) << "Serve() did not return";
  ExpectFreshConnectionServes();
}

}  // namespace
}  // namespace hostshare::hostile
