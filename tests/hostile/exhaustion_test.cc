// Resource exhaustion, end to end: under fd exhaustion the guest gets
// EMFILE/ENFILE replies and the daemon recovers once fds are released; no
// guest-chosen size becomes a proportional allocation (the biggest single
// heap allocation and the peak RSS are measured while the guest does its
// worst); a flood of requests on all 17 queues at once is served in bounded
// time and leaves the daemon answering a fresh GETATTR promptly.
#include <sys/resource.h>
#include <sys/xattr.h>

#include "hostile/hostile_fixture.h"

namespace hostshare::hostile {
namespace {

using Clock = std::chrono::steady_clock;

class ExhaustionTest : public DaemonTest {
 protected:
  void PrepareTree() override {
    fsys::create_directory(share_ / "many");
    for (int i = 0; i < 400; ++i) {
      WriteHostFile(share_ / "many" / ("file-" + std::to_string(i)), std::to_string(i));
    }
    WriteHostFile(share_ / "x", "xattrs");
    for (int i = 0; i < 200; ++i) {
      std::string name = "user.attr-" + std::to_string(i) + std::string(40, 'n');
      setxattr((share_ / "x").c_str(), name.c_str(), "v", 1, 0);
    }
  }

  uint64_t LookupId(uint64_t parent, const std::string& name) {
    auto e = fc_->Lookup(parent, name);
    EXPECT_TRUE(e.ok()) << name << ": " << strerror(e.error());
    return e.ok() ? e->nodeid : 0;
  }

  // Runs each code path the fd-exhaustion tests take once while fds are
  // plentiful. UBSan's vptr check verifies a type the first time it sees it
  // by probing memory through a pipe(); with no fd left that probe fails and
  // it reports a bogus "invalid vptr". Checked types are cached, so paths
  // warmed up here are not probed again under the limit.
  void WarmUp() {
    auto x = fc_->Lookup(kRoot, "x");
    ASSERT_TRUE(x.ok());
    auto o = fc_->Open(x->nodeid, O_RDONLY);
    ASSERT_TRUE(o.ok());
    ASSERT_TRUE(fc_->Release(x->nodeid, o->fh).ok());
    auto dh = fc_->OpenDir(kRoot);
    ASSERT_TRUE(dh.ok());
    ASSERT_TRUE(fc_->ReadDirPlus(kRoot, dh->fh).ok());
    ASSERT_TRUE(fc_->ReleaseDir(kRoot, dh->fh).ok());
    auto c = fc_->Create(kRoot, "warm-up");
    ASSERT_TRUE(c.ok());
    ASSERT_TRUE(fc_->Release(c->entry.nodeid, c->open.fh).ok());
    ASSERT_TRUE(fc_->Unlink(kRoot, "warm-up").ok());
    ASSERT_EQ(ErrorOf(FUSE_MKDIR, kRoot, Cat(Body(fuse_mkdir_in{0755, 0}), Name("warm-dir"))), 0);
    ASSERT_EQ(ErrorOf(FUSE_RMDIR, kRoot, Name("warm-dir")), 0);
    (void)fc_->Call(FUSE_LISTXATTR, x->nodeid, Body(fuse_getxattr_in{4096, 0}));
    ASSERT_TRUE(fc_->Forget(x->nodeid, 2).ok());
    ASSERT_TRUE(fc_->Forget(c->entry.nodeid, 1).ok());
  }
};

// Restores RLIMIT_NOFILE when it goes out of scope.
class ScopedFileLimit {
 public:
  explicit ScopedFileLimit(rlim_t soft) {
    getrlimit(RLIMIT_NOFILE, &saved_);
    rlimit r = saved_;
    r.rlim_cur = soft;
    ok_ = setrlimit(RLIMIT_NOFILE, &r) == 0;
  }
  ~ScopedFileLimit() { setrlimit(RLIMIT_NOFILE, &saved_); }
  bool ok() const { return ok_; }

 private:
  rlimit saved_{};
  bool ok_ = false;
};

TEST_F(ExhaustionTest, FdExhaustionIsEmfileNeverACrash) {
  WarmUp();
  const uint64_t many = LookupId(kRoot, "many");
  // Room for ~60 more fds in the whole process (daemon and fake frontend
  // share it): far fewer than the 400 files the guest is about to look up.
  const int open_now = CountOpenFds();
  ScopedFileLimit limit(open_now + 60);
  ASSERT_TRUE(limit.ok());

  std::vector<uint64_t> nodes;
  int emfile = 0;
  for (int i = 0; i < 400; ++i) {
    auto e = fc_->Lookup(many, "file-" + std::to_string(i));
    if (e.ok()) {
      nodes.push_back(e->nodeid);
    } else {
      EXPECT_TRUE(e.error() == EMFILE || e.error() == ENFILE) << strerror(e.error());
      ++emfile;
    }
  }
  EXPECT_GT(emfile, 0) << "the limit was never reached";
  ASSERT_FALSE(nodes.empty());
  // Everything that needs an fd now fails the same way, and nothing else breaks.
  auto o = fc_->Open(nodes[0], O_RDONLY);
  ASSERT_FALSE(o.ok());
  EXPECT_TRUE(o.error() == EMFILE || o.error() == ENFILE);
  auto dh = fc_->OpenDir(kRoot);
  ASSERT_FALSE(dh.ok());
  EXPECT_TRUE(dh.error() == EMFILE || dh.error() == ENFILE);
  auto c = fc_->Create(kRoot, "under-emfile");
  ASSERT_FALSE(c.ok());
  EXPECT_TRUE(c.error() == EMFILE || c.error() == ENFILE);
  EXPECT_FALSE(fsys::exists(share_ / "under-emfile")) << "CREATE left a file behind";
  int mk = ErrorOf(FUSE_MKDIR, kRoot, Cat(Body(fuse_mkdir_in{0755, 0}), Name("dir-under-emfile")));
  EXPECT_TRUE(mk == EMFILE || mk == ENFILE) << mk;
  auto r = fc_->Call(FUSE_LISTXATTR, nodes[0], Body(fuse_getxattr_in{4096, 0}));
  ASSERT_TRUE(r.ok());
  EXPECT_TRUE(r->error == EMFILE || r->error == ENFILE || r->error == 0);
  ExpectServes(kQ1);  // GETATTR needs no new fd
  ExpectServes(kQ2);
  ASSERT_TRUE(fe_->Sync().ok());  // the vhost-user side is fine too

  // Forgetting gives the fds back; everything works again.
  for (uint64_t n : nodes) ASSERT_TRUE(fc_->Forget(n, 1).ok());
  ASSERT_TRUE(fc_->Forget(many, 1).ok());
  ExpectServes(kQ1);
  auto again = fc_->Lookup(kRoot, "x");
  ASSERT_TRUE(again.ok()) << strerror(again.error());
  auto o2 = fc_->Open(again->nodeid, O_RDONLY);
  ASSERT_TRUE(o2.ok()) << strerror(o2.error());
  ASSERT_TRUE(fc_->Release(again->nodeid, o2->fh).ok());
}

TEST_F(ExhaustionTest, OpeningOneFileOverAndOverIsBoundedByTheFdLimit) {
  WarmUp();
  const uint64_t x = LookupId(kRoot, "x");
  ScopedFileLimit limit(CountOpenFds() + 50);
  ASSERT_TRUE(limit.ok());
  std::vector<uint64_t> handles;
  int err = 0;
  for (int i = 0; i < 1000 && err == 0; ++i) {
    auto o = fc_->Open(x, O_RDONLY);
    if (o.ok()) {
      handles.push_back(o->fh);
    } else {
      err = o.error();
    }
  }
  EXPECT_TRUE(err == EMFILE || err == ENFILE) << err;
  ExpectServes(kQ1);
  for (uint64_t fh : handles) ASSERT_TRUE(fc_->Release(x, fh).ok());
  auto o = fc_->Open(x, O_RDONLY);
  EXPECT_TRUE(o.ok());
}

TEST_F(ExhaustionTest, NoGuestSizeBecomesAnAllocation) {
  MallocGuard guard;
  MallocGuard::IgnoreThisThread();
  const uint64_t many = LookupId(kRoot, "many");
  const uint64_t x = LookupId(kRoot, "x");
  auto dh = fc_->OpenDir(many);
  ASSERT_TRUE(dh.ok());
  auto& vq = fe_->queue(kQ1);
  guard.Arm();

  // READDIRPLUS of 400 entries with a 2^32-1 size and 1 MiB of reply room.
  auto r = fc_->Call(FUSE_READDIRPLUS, many, Body(fuse_read_in{dh->fh, 0, 0xffffffffu, 0, 0, 0, 0}),
                     1 << 20);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->error, 0);
  // LISTXATTR of all the names (as many as the host fs keeps) with size 2^32-1.
  r = fc_->Call(FUSE_LISTXATTR, x, Body(fuse_getxattr_in{0xffffffffu, 0}));
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->error, 0);
  EXPECT_GT(r->body.size(), 1000u);
  // BATCH_FORGET claiming 2^32-1 entries, carrying 32768 of them (512 KiB).
  {
    std::vector<uint8_t> body = Body(fuse_batch_forget_in{0xffffffffu, 0});
    body.resize(body.size() + 32768 * sizeof(fuse_forget_one), 0);
    auto c = fe_->Submit(kHiprio, fc_->BuildRequest(FUSE_BATCH_FORGET, 0, body), 0);
    ASSERT_TRUE(c.ok());
    body = Body(fuse_batch_forget_in{32768, 0});
    body.resize(body.size() + 32768 * sizeof(fuse_forget_one), 0);
    c = fe_->Submit(kHiprio, fc_->BuildRequest(FUSE_BATCH_FORGET, 0, body), 0);
    ASSERT_TRUE(c.ok());
  }
  // A LOOKUP whose name is 512 KiB long, and one that claims 2^32-1 bytes.
  r = fc_->Call(FUSE_LOOKUP, kRoot, Name(std::string(512 << 10, 'n')));
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->error, EINVAL);
  {
    uint64_t unique;
    auto req = Request(FUSE_LOOKUP, kRoot, Name("x"), &unique);
    Hdr(req).len = 0xffffffffu;
    auto rr = Raw(req, unique);
    ASSERT_TRUE(rr.ok());
    EXPECT_EQ(rr->error, EINVAL);
  }
  // An indirect chain of 32768 one-byte readable descriptors (the most a
  // chain may have): its iovec list is the largest thing a guest can make
  // the daemon allocate, 16 bytes per descriptor and region crossed.
  {
    uint64_t buf = fmem_.AllocIn(1, 64, 16).value();
    fake::IndirectTable t;
    for (int i = 0; i < 32767; ++i) t.ReadableAt(buf, 1);
    t.Writable(4096);
    auto c = vq.Chain().Indirect(std::move(t)).Publish();
    ASSERT_TRUE(c);
    Kick(kQ1);
    auto done = fe_->WaitUsed(kQ1, c->head);
    ASSERT_TRUE(done.ok());
  }
  // READ of 2^32-1 bytes into 1 MiB of reply room (zero copy: no buffer).
  auto o = fc_->Open(x, O_RDONLY);
  ASSERT_TRUE(o.ok());
  r = fc_->Call(FUSE_READ, x, Body(fuse_read_in{o->fh, 0, 0xffffffffu, 0, 0, 0, 0}), 1 << 20);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->error, 0);
  const size_t biggest = guard.Disarm();
  printf("largest daemon allocation: %zu bytes (exact: %d)\n", biggest, guard.exact());
  // 32768 iovecs = 512 KiB; everything else stays within 64 KiB + a little.
  EXPECT_LE(biggest, size_t{32768} * sizeof(iovec));
  ExpectServes(kQ1);
  ExpectServes(kQ2);
}

TEST_F(ExhaustionTest, PeakMemoryStaysFlatUnderHugeSizes) {
  // Independent of the allocator hooks: the peak RSS (VmHWM) may not grow by
  // anything like the sizes the guest names, over many rounds.
  const uint64_t x = LookupId(kRoot, "x");
  auto dh = fc_->OpenDir(kRoot);
  ASSERT_TRUE(dh.ok());
  std::ofstream("/proc/self/clear_refs") << "5";
  auto status_kb = [](const char* key) -> size_t {
    std::ifstream in("/proc/self/status");
    std::string line;
    while (std::getline(in, line)) {
      if (line.rfind(key, 0) == 0) return std::stoul(line.substr(strlen(key)));
    }
    return 0;
  };
  const size_t start = status_kb("VmHWM:");
  for (int i = 0; i < 100; ++i) {
    (void)fc_->Call(FUSE_LISTXATTR, x, Body(fuse_getxattr_in{0xffffffffu, 0}));
    (void)fc_->Call(FUSE_GETXATTR, x,
                    Cat(Body(fuse_getxattr_in{0xffffffffu, 0}), Name("user.missing")));
    (void)fc_->Call(FUSE_READDIRPLUS, kRoot,
                    Body(fuse_read_in{dh->fh, 0, 0xffffffffu, 0, 0, 0, 0}));
    auto b = Body(fuse_batch_forget_in{0xffffffffu, 0});
    (void)fc_->Call(FUSE_BATCH_FORGET, 0, b, 0, kHiprio);
  }
  const size_t grew_kb = status_kb("VmHWM:") - start;
  printf("peak RSS grew by %zu KiB\n", grew_kb);
  // Under ASan freed memory sits in a quarantine (256 MiB by default), so
  // churn alone raises the peak; 400 requests naming 4 GiB would be 1.6 TiB.
  const size_t limit_kb = HS_MALLOC_GUARD_EXPECTED ? size_t{512} << 10 : size_t{64} << 10;
  EXPECT_LT(grew_kb, limit_kb) << "the peak RSS follows the sizes the guest names";
  ExpectServes(kQ1);
}

class FloodTest : public ExhaustionTest {
 protected:
  FloodTest() {
    options_.num_queues = 17;  // hiprio + every request queue the device has
    options_.queue_size = 128;
  }
};

TEST_F(FloodTest, FloodOnAllQueuesIsServedAndTheDaemonStaysResponsive) {
  const uint64_t many = LookupId(kRoot, "many");
  const int kRounds = 4;
  const uint32_t per_queue = 60;  // 2 descriptors each: most of a 128-entry ring
  size_t total = 0;
  const auto start = Clock::now();
  for (int round = 0; round < kRounds; ++round) {
    struct Pending {
      uint32_t q;
      uint16_t head;
      uint64_t unique;
      bool lookup;
    };
    std::vector<Pending> pending;
    for (uint32_t q = 1; q < options_.num_queues; ++q) {
      for (uint32_t i = 0; i < per_queue; ++i) {
        bool lookup = (i % 2) == 1;
        std::vector<uint8_t> req;
        if (lookup) {
          req = fc_->BuildRequest(FUSE_LOOKUP, many, Name("file-" + std::to_string(i)));
        } else {
          req = fc_->BuildRequest(FUSE_GETATTR, kRoot, Body(fuse_getattr_in{}));
        }
        auto c = fe_->queue(q).Chain().Readable(req).Writable(512).Publish();
        ASSERT_TRUE(c) << "queue " << q;
        pending.push_back({q, c->head, fc_->last_unique(), lookup});
      }
    }
    // FORGETs flooding the hiprio queue at the same time.
    for (uint32_t i = 0; i < per_queue; ++i) {
      auto req = fc_->BuildRequest(FUSE_FORGET, 0xdead0000ull + i, Body(fuse_forget_in{1}));
      ASSERT_TRUE(fe_->queue(kHiprio).Chain().Readable(req).Publish());
    }
    for (uint32_t q = 0; q < options_.num_queues; ++q) Kick(q);
    for (const Pending& p : pending) {
      auto done = fe_->WaitUsed(p.q, p.head);
      ASSERT_TRUE(done.ok()) << "queue " << p.q << ": " << strerror(done.error());
      auto r = FuseClient::Parse(*done, p.unique);
      ASSERT_TRUE(r.ok());
      ASSERT_EQ(r->error, 0);
      if (p.lookup) {
        fuse_entry_out e;
        ASSERT_EQ(r->body.size(), sizeof e);
        memcpy(&e, r->body.data(), sizeof e);
        ASSERT_TRUE(fc_->Forget(e.nodeid, 1).ok());
      }
      ++total;
    }
    while (fe_->queue(kHiprio).TakeUsed()) {
    }
  }
  const auto took = Clock::now() - start;
  printf("flood: %zu requests on 16 queues in %lld ms\n", total,
         static_cast<long long>(
             std::chrono::duration_cast<std::chrono::milliseconds>(took).count()));
  EXPECT_LT(took, std::chrono::seconds(60));
  // Responsive right after: a fresh GETATTR on every queue within a second each.
  for (uint32_t q = 1; q < options_.num_queues; ++q) {
    auto t0 = Clock::now();
    ExpectServes(q);
    EXPECT_LT(Clock::now() - t0, std::chrono::seconds(1)) << "queue " << q;
  }
}

TEST_F(FloodTest, HostileChainsOnEveryQueueAtOnce) {
  // Every queue gets a looping chain at the same moment: every queue stops,
  // the process and the vhost-user connection do not, and each queue serves
  // again once restarted.
  for (uint32_t q = 0; q < options_.num_queues; ++q) {
    auto& vq = fe_->queue(q);
    uint16_t a = vq.AllocDesc().value();
    uint16_t b = vq.AllocDesc().value();
    vq.WriteDesc(a, {FakeGuestMemory::kRegionB, 8, kDescFNext, b});
    vq.WriteDesc(b, {FakeGuestMemory::kRegionB, 8, kDescFNext, a});
    vq.PublishHead(a);
  }
  for (uint32_t q = 0; q < options_.num_queues; ++q) Kick(q);
  auto t0 = Clock::now();
  ASSERT_TRUE(fe_->Sync().ok());
  EXPECT_LT(Clock::now() - t0, std::chrono::seconds(2));
  for (uint32_t q = 0; q < options_.num_queues; ++q) {
    EXPECT_EQ(fe_->queue(q).used_idx(), fe_->queue(q).last_used()) << "queue " << q;
    RestartQueue(q);
  }
  for (uint32_t q = 1; q < options_.num_queues; ++q) ExpectServes(q);
}

}  // namespace
}  // namespace hostshare::hostile
