// Hostile descriptor chains and rings, end to end: each case is published on
// request queue 1 of a running daemon (FakeFrontend + Service), and gets its
// defined answer: a malformed ring or chain stops that queue (never the
// process; queue 2 goes on serving, and queue 1 serves again once the
// frontend restarts it); a well-formed chain that carries a malformed
// request is answered (an error reply, or no reply bytes when not even a
// header came in) and the queue goes on.
#include "hostile/hostile_fixture.h"

namespace hostshare::hostile {
namespace {

constexpr uint64_t kGap = FakeGuestMemory::kGapStart;  // first byte after region A
constexpr uint64_t kB = FakeGuestMemory::kRegionB;
constexpr uint64_t kC = FakeGuestMemory::kRegionC;     // B and C are contiguous

class ChainTest : public DaemonTest {
 protected:
  fake::FakeVirtqueue& vq() { return fe_->queue(kQ1); }

  std::vector<uint8_t> GetattrRequest(uint64_t* unique) {
    fuse_getattr_in in{};
    return Request(FUSE_GETATTR, kRoot, Body(in), unique);
  }

  // Puts `bytes` in guest memory; returns the address.
  uint64_t Place(const std::vector<uint8_t>& bytes) {
    auto a = fmem_.Alloc(bytes.empty() ? 1 : bytes.size(), 16);
    EXPECT_TRUE(a.has_value());
    if (a) fmem_.Write(*a, bytes);
    return a.value_or(0);
  }
  uint64_t Space(uint32_t n) { return fmem_.Alloc(n, 16).value_or(0); }

  // Writes `descs` verbatim into the table at free indexes, except that a
  // `next` of a descriptor with NEXT is taken as an index into `descs`, and
  // publishes the first one. Returns the table indexes used.
  std::vector<uint16_t> PublishRaw(std::vector<Desc> descs) {
    std::vector<uint16_t> idx;
    for (size_t i = 0; i < descs.size(); ++i) idx.push_back(vq().AllocDesc().value());
    for (size_t i = 0; i < descs.size(); ++i) {
      if ((descs[i].flags & kDescFNext) && descs[i].next < descs.size()) {
        descs[i].next = idx[descs[i].next];
      }
      vq().WriteDesc(idx[i], descs[i]);
    }
    vq().PublishHead(idx[0]);
    return idx;
  }

  // A chain that should be served: waits for it and parses the reply.
  Result<FuseClient::Reply> Served(uint16_t head, uint64_t unique) {
    Kick();
    auto c = fe_->WaitUsed(kQ1, head);
    if (!c.ok()) return Errno{c.error()};
    return FuseClient::Parse(*c, unique);
  }
};

// --- addresses ---------------------------------------------------------------

TEST_F(ChainTest, BufferOutsideGuestMemory) {
  PublishRaw({{kGap + 4096, 64, 0, 0}});
  Kick();
  ExpectQueueStopped();
}

TEST_F(ChainTest, BufferStraddlingTheEndOfARegion) {
  PublishRaw({{kGap - 32, 64, 0, 0}});
  Kick();
  ExpectQueueStopped();
}

TEST_F(ChainTest, WritableBufferStraddlingTheEndOfGuestMemory) {
  uint64_t unique;
  uint64_t req = Place(GetattrRequest(&unique));
  PublishRaw({{req, 56, kDescFNext, 1}, {FakeGuestMemory::kEnd - 16, 4096, kDescFWrite, 0}});
  Kick();
  ExpectQueueStopped();
}

TEST_F(ChainTest, BufferWrappingTheAddressSpace) {
  PublishRaw({{0xffffffffffffffc0ull, 0x80, 0, 0}});
  Kick();
  ExpectQueueStopped();
}

TEST_F(ChainTest, BufferAtTheTopOfTheAddressSpace) {
  PublishRaw({{0xfffffffffffff000ull, 0x1000, 0, 0}});
  Kick();
  ExpectQueueStopped();
}

TEST_F(ChainTest, RequestStraddlingTwoContiguousRegionsIsServed) {
  // B and C are adjacent in guest space (separate mappings on the host): a
  // buffer across them is legal and must be reassembled.
  uint64_t unique;
  auto req = GetattrRequest(&unique);
  ASSERT_TRUE(fmem_.Reserve(kC - 20, req.size()));
  ASSERT_TRUE(fmem_.Write(kC - 20, req));
  auto c = vq().Chain().ReadableAt(kC - 20, static_cast<uint32_t>(req.size())).Writable(4096)
               .Publish();
  ASSERT_TRUE(c);
  auto r = Served(c->head, unique);
  ASSERT_TRUE(r.ok()) << strerror(r.error());
  EXPECT_EQ(r->error, 0);
  EXPECT_EQ(r->body.size(), sizeof(fuse_attr_out));
  ExpectServes();
}

// --- lengths -----------------------------------------------------------------

TEST_F(ChainTest, ZeroLengthDescriptorsAreSkipped) {
  // Zero-length buffers anywhere in the chain, even at addresses outside
  // guest memory, carry nothing and are not an error.
  uint64_t unique;
  auto req = GetattrRequest(&unique);
  auto c = vq().Chain()
               .Raw({kGap + 8192, 0, kDescFNext, 0})
               .Readable(std::vector<uint8_t>(req.begin(), req.begin() + 10))
               .ReadableAt(0xffffffffffffff00ull, 0)
               .Readable(std::vector<uint8_t>(req.begin() + 10, req.end()))
               .Writable(0)
               .Writable(4096)
               .Build();
  ASSERT_TRUE(c);
  // Raw entries are not linked by the builder: link the first one by hand.
  Desc first = vq().ReadDesc(c->descs[0]);
  first.next = c->descs[1];
  vq().WriteDesc(c->descs[0], first);
  vq().PublishHead(c->head);
  auto r = Served(c->head, unique);
  ASSERT_TRUE(r.ok()) << strerror(r.error());
  EXPECT_EQ(r->error, 0);
  ExpectServes();
}

TEST_F(ChainTest, OnlyAZeroLengthDescriptor) {
  auto c = PublishRaw({{0, 0, 0, 0}});
  Kick();
  auto done = fe_->WaitUsed(kQ1, c[0]);
  ASSERT_TRUE(done.ok());
  EXPECT_EQ(done->len, 0u);
  ExpectServes();
}

TEST_F(ChainTest, ReadableLength0xffffffff) {
  PublishRaw({{kB, 0xffffffffu, 0, 0}});
  Kick();
  ExpectQueueStopped();
}

TEST_F(ChainTest, WritableLength0xffffffff) {
  uint64_t unique;
  uint64_t req = Place(GetattrRequest(&unique));
  PublishRaw({{req, 56, kDescFNext, 1}, {kB, 0xffffffffu, kDescFWrite, 0}});
  Kick();
  ExpectQueueStopped();
}

TEST_F(ChainTest, ReadablePartOver4GiB) {
  // 8193 indirect entries that all alias the same 512 KiB: 4 GiB + 512 KiB
  // of readable bytes that all exist. The walker refuses parts >= 4 GiB
  // (used.len is 32 bits) before anything is handled.
  constexpr uint32_t kChunk = 512 * 1024;
  auto buf = fmem_.AllocIn(1, kChunk, 16);  // region B
  ASSERT_TRUE(buf);
  fake::IndirectTable t;
  for (int i = 0; i < 8193; ++i) t.ReadableAt(*buf, kChunk);
  auto c = vq().Chain().Indirect(std::move(t)).Publish();
  ASSERT_TRUE(c);
  Kick();
  ExpectQueueStopped();
}

// --- loops and chain lengths ----------------------------------------------------

TEST_F(ChainTest, SelfLoop) {
  uint64_t unique;
  uint64_t req = Place(GetattrRequest(&unique));
  uint16_t d = vq().AllocDesc().value();
  vq().WriteDesc(d, {req, 56, kDescFNext, d});
  vq().PublishHead(d);
  Kick();
  ExpectQueueStopped();
}

TEST_F(ChainTest, TwoCycle) {
  uint16_t a = vq().AllocDesc().value();
  uint16_t b = vq().AllocDesc().value();
  uint64_t buf = Space(64);
  vq().WriteDesc(a, {buf, 8, kDescFNext, b});
  vq().WriteDesc(b, {buf, 8, kDescFNext, a});
  vq().PublishHead(a);
  Kick();
  ExpectQueueStopped();
}

TEST_F(ChainTest, ZeroLengthLoop) {
  // A loop of empty descriptors: no buffer ever bounds it, only the walk count.
  uint16_t a = vq().AllocDesc().value();
  uint16_t b = vq().AllocDesc().value();
  vq().WriteDesc(a, {0, 0, kDescFNext, b});
  vq().WriteDesc(b, {0, 0, kDescFNext, a});
  vq().PublishHead(a);
  Kick();
  ExpectQueueStopped();
}

TEST_F(ChainTest, ChainLongerThanTheQueue) {
  // Every descriptor of the table, then back to the first: one more than
  // the queue holds.
  const uint32_t n = vq().size();
  uint64_t buf = Space(64);
  for (uint32_t i = 0; i < n; ++i) {
    vq().WriteDesc(static_cast<uint16_t>(i),
                   {buf, 1, kDescFNext, static_cast<uint16_t>((i + 1) % n)});
  }
  vq().PublishHead(0);
  Kick();
  ExpectQueueStopped();
}

TEST_F(ChainTest, NextOutOfRange) {
  uint64_t buf = Space(64);
  PublishRaw({{buf, 8, kDescFNext, static_cast<uint16_t>(vq().size())}});
  Kick();
  ExpectQueueStopped();
}

TEST_F(ChainTest, HeadOutOfRange) {
  vq().SetAvailEntry(vq().avail_idx(), static_cast<uint16_t>(vq().size() + 7));
  vq().SetAvailIdx(static_cast<uint16_t>(vq().avail_idx() + 1));
  Kick();
  ExpectQueueStopped();
}

// --- indirect tables ----------------------------------------------------------------

TEST_F(ChainTest, IndirectChainLoop) {
  uint64_t buf = Space(64);
  fake::IndirectTable t;
  t.Raw({buf, 8, kDescFNext, 1}).Raw({buf, 8, kDescFNext, 0});
  ASSERT_TRUE(vq().Chain().Indirect(std::move(t)).Publish());
  Kick();
  ExpectQueueStopped();
}

TEST_F(ChainTest, IndirectTableLargerThanTheLargestQueue) {
  // 32769 entries: more than any queue may hold, refused before it is read.
  uint64_t table = fmem_.AllocIn(1, 16 * 32769, 16).value();
  PublishRaw({{table, 16 * 32769, kDescFIndirect, 0}});
  Kick();
  ExpectQueueStopped();
}

TEST_F(ChainTest, IndirectChainLongerThanTheQueueIsBoundedAndServed) {
  // A well-formed indirect table of queue-size + 1 entries: bounded by the
  // table (at most 32768 entries), so it is served like any other chain.
  uint64_t unique;
  auto req = GetattrRequest(&unique);
  fake::IndirectTable t;
  t.Readable(req);
  for (uint32_t i = 0; i < vq().size() - 1; ++i) t.Readable(std::vector<uint8_t>{});
  t.Writable(4096);
  auto c = vq().Chain().Indirect(std::move(t)).Publish();
  ASSERT_TRUE(c);
  auto r = Served(c->head, unique);
  ASSERT_TRUE(r.ok()) << strerror(r.error());
  EXPECT_EQ(r->error, 0);
  ExpectServes();
}

TEST_F(ChainTest, NestedIndirect) {
  uint64_t inner = Space(32);
  fake::IndirectTable t;
  t.Raw({inner, 32, kDescFIndirect, 0});
  ASSERT_TRUE(vq().Chain().Indirect(std::move(t)).Publish());
  Kick();
  ExpectQueueStopped();
}

TEST_F(ChainTest, IndirectWithNext) {
  uint64_t unique;
  fake::IndirectTable t;
  t.Readable(GetattrRequest(&unique)).Writable(4096).ExtraFlags(kDescFNext);
  ASSERT_TRUE(vq().Chain().Indirect(std::move(t)).Publish());
  Kick();
  ExpectQueueStopped();
}

TEST_F(ChainTest, IndirectNotTheOnlyDescriptor) {
  uint64_t unique;
  fake::IndirectTable t;
  t.Writable(4096);
  ASSERT_TRUE(vq().Chain().Readable(GetattrRequest(&unique)).Indirect(std::move(t)).Publish());
  Kick();
  ExpectQueueStopped();
}

TEST_F(ChainTest, IndirectLengthNotAMultipleOf16) {
  for (uint32_t len : {0u, 1u, 15u, 17u, 40u}) {
    SCOPED_TRACE(len);
    uint64_t unique;
    fake::IndirectTable t;
    t.Readable(GetattrRequest(&unique)).Writable(4096).Length(len);
    ASSERT_TRUE(vq().Chain().Indirect(std::move(t)).Publish());
    Kick();
    ExpectQueueStopped();
  }
}

TEST_F(ChainTest, IndirectTableOutsideGuestMemory) {
  PublishRaw({{kGap + 64, 64, kDescFIndirect, 0}});
  Kick();
  ExpectQueueStopped();
}

TEST_F(ChainTest, IndirectTableStraddlingTwoRegionsIsServed) {
  // The table itself straddles B|C (in the middle of an entry): it must be
  // read across the two host mappings, entry by entry, byte for byte.
  uint64_t unique;
  fake::IndirectTable t;
  t.Readable(GetattrRequest(&unique)).Writable(4096).At(kC - 24);
  auto c = vq().Chain().Indirect(std::move(t)).Publish();
  ASSERT_TRUE(c);
  auto r = Served(c->head, unique);
  ASSERT_TRUE(r.ok()) << strerror(r.error());
  EXPECT_EQ(r->error, 0);
  ExpectServes();
}

// --- readable / writable order ----------------------------------------------------

TEST_F(ChainTest, ReadableAfterWritable) {
  uint64_t unique;
  auto req = GetattrRequest(&unique);
  ASSERT_TRUE(vq().Chain().Readable(std::vector<uint8_t>(req.begin(), req.begin() + 20))
                  .Writable(64)
                  .Readable(std::vector<uint8_t>(req.begin() + 20, req.end()))
                  .Publish());
  Kick();
  ExpectQueueStopped();
}

TEST_F(ChainTest, ReadableAfterWritableInsideAnIndirectTable) {
  uint64_t unique;
  fake::IndirectTable t;
  t.Writable(64).Readable(GetattrRequest(&unique));
  ASSERT_TRUE(vq().Chain().Indirect(std::move(t)).Publish());
  Kick();
  ExpectQueueStopped();
}

// --- well-formed chains that carry a malformed request ------------------------------

TEST_F(ChainTest, NoReadablePart) {
  auto c = vq().Chain().Writable(4096).Publish();
  ASSERT_TRUE(c);
  Kick();
  auto done = fe_->WaitUsed(kQ1, c->head);
  ASSERT_TRUE(done.ok());
  EXPECT_EQ(done->len, 0u);  // nothing to answer: no header, no unique
  ExpectServes();
}

TEST_F(ChainTest, ReadablePartShorterThanTheHeader) {
  uint64_t unique;
  auto req = GetattrRequest(&unique);
  for (size_t n : {size_t{1}, size_t{8}, sizeof(fuse_in_header) - 1}) {
    SCOPED_TRACE(n);
    auto c = vq().Chain().Readable(std::vector<uint8_t>(req.begin(), req.begin() + n))
                 .Writable(4096)
                 .Publish();
    ASSERT_TRUE(c);
    Kick();
    auto done = fe_->WaitUsed(kQ1, c->head);
    ASSERT_TRUE(done.ok());
    EXPECT_EQ(done->len, 0u);
  }
  ExpectServes();
}

TEST_F(ChainTest, ReadablePartLongerThanTheLargestRequest) {
  // 10 MiB of readable bytes (20 descriptors aliasing the same 512 KiB):
  // a LOOKUP body far beyond any name, and a WRITE beyond max_write.
  constexpr uint32_t kChunk = 512 * 1024;
  constexpr uint32_t kTotal = 20 * kChunk;
  uint64_t buf = fmem_.AllocIn(1, kChunk, 16).value();
  for (uint32_t opcode : {uint32_t{FUSE_LOOKUP}, uint32_t{FUSE_WRITE}, uint32_t{FUSE_SETXATTR}}) {
    SCOPED_TRACE(opcode);
    uint64_t unique;
    std::vector<uint8_t> body;
    if (opcode == FUSE_WRITE) {
      fuse_write_in w{};
      w.size = kTotal - sizeof(fuse_in_header) - sizeof(w);
      body = Body(w);
    } else if (opcode == FUSE_SETXATTR) {
      fuse_setxattr_in s{};
      s.size = 1 << 20;
      body = Cat(Body(s), Name("user.big"));
    }
    auto req = Request(opcode, kRoot, body, &unique);
    Hdr(req).len = kTotal;
    fmem_.Fill(buf, 'a', kChunk);
    fmem_.Write(buf, req);
    auto b = vq().Chain();
    for (int i = 0; i < 20; ++i) b.ReadableAt(buf, kChunk);
    auto c = b.Writable(4096).Publish();
    ASSERT_TRUE(c);
    auto r = Served(c->head, unique);
    ASSERT_TRUE(r.ok()) << strerror(r.error());
    EXPECT_EQ(r->error, EINVAL);
  }
  ExpectServes();
}

TEST_F(ChainTest, ReplyBufferTooSmallForAHeader) {
  uint64_t unique;
  auto c = vq().Chain().Readable(GetattrRequest(&unique)).Writable(8).Publish();
  ASSERT_TRUE(c);
  Kick();
  auto done = fe_->WaitUsed(kQ1, c->head);
  ASSERT_TRUE(done.ok());
  EXPECT_EQ(done->len, 0u);
  // Room for a header only: the answer is an error header, never a cut reply.
  auto c2 = vq().Chain().Readable(GetattrRequest(&unique)).Writable(16).Publish();
  ASSERT_TRUE(c2);
  auto r = Served(c2->head, unique);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->error, EINVAL);
  ExpectServes();
}

TEST_F(ChainTest, ReplyBufferAliasingTheRequest) {
  // The guest points the reply buffer at its own request: the server must
  // have copied what it needs out before it writes the reply.
  uint64_t unique;
  auto req = Request(FUSE_LOOKUP, kRoot, Name("alias-target"), &unique);
  WriteHostFile(share_ / "alias-target", "x");
  uint64_t buf = fmem_.Alloc(4096, 16).value();
  fmem_.Fill(buf, 0, 4096);
  fmem_.Write(buf, req);
  auto c = vq().Chain().ReadableAt(buf, static_cast<uint32_t>(req.size())).WritableAt(buf, 4096)
               .Publish();
  ASSERT_TRUE(c);
  auto r = Served(c->head, unique);
  ASSERT_TRUE(r.ok()) << strerror(r.error());
  EXPECT_EQ(r->error, 0);
  ASSERT_EQ(r->body.size(), sizeof(fuse_entry_out));
  fuse_entry_out e;
  memcpy(&e, r->body.data(), sizeof(e));
  EXPECT_EQ(e.attr.size, 1u);
  ExpectServes();
}

// --- avail ring ----------------------------------------------------------------------

TEST_F(ChainTest, AvailIndexJumpsBeyondTheQueueSize) {
  ExpectServes();
  vq().SetAvailIdx(static_cast<uint16_t>(vq().avail_idx() + vq().size() + 1));
  Kick();
  ExpectQueueStopped();
}

TEST_F(ChainTest, AvailIndexJumpsByExactlyTheQueueSizeIsServed) {
  // `size` chains outstanding at once is legal: one indirect GETATTR per
  // descriptor, all made available with a single index update.
  ExpectServes();
  const uint32_t n = vq().size();
  std::vector<std::pair<uint16_t, uint64_t>> heads;
  for (uint32_t i = 0; i < n; ++i) {
    uint64_t unique;
    fake::IndirectTable t;
    t.Readable(GetattrRequest(&unique)).Writable(256);
    auto c = vq().Chain().Indirect(std::move(t)).Build();
    ASSERT_TRUE(c);
    vq().SetAvailEntry(static_cast<uint16_t>(vq().avail_idx() + i), c->head);
    heads.push_back({c->head, unique});
  }
  vq().SetAvailIdx(static_cast<uint16_t>(vq().avail_idx() + n));
  Kick();
  for (auto [head, unique] : heads) {
    auto done = fe_->WaitUsed(kQ1, head);
    ASSERT_TRUE(done.ok());
    auto r = FuseClient::Parse(*done, unique);
    ASSERT_TRUE(r.ok());
    EXPECT_EQ(r->error, 0);
  }
  ExpectServes();
}

TEST_F(ChainTest, AvailIndexGoesBackwards) {
  ExpectServes();
  ExpectServes();
  vq().SetAvailIdx(static_cast<uint16_t>(vq().avail_idx() - 1));
  Kick();
  ExpectQueueStopped();
}

TEST_F(ChainTest, AvailIndexChangesWhileTheQueueRuns) {
  // The avail index racing around the ring from another thread: whatever
  // the worker sees, it either serves a chain or stops the queue.
  std::atomic<bool> stop{false};
  auto* avail_idx = reinterpret_cast<uint16_t*>(fmem_.Host(vq().avail_gpa() + 2, 2));
  std::thread racer([&] {
    uint16_t v = 0;
    while (!stop.load()) __atomic_store_n(avail_idx, v += 977, __ATOMIC_RELEASE);
  });
  for (int i = 0; i < 50; ++i) Kick();
  std::this_thread::sleep_for(std::chrono::milliseconds(100));
  stop.store(true);
  racer.join();
  ExpectServes(kQ2);
  RestartQueue(kQ1);
  ExpectServes(kQ1);
}

}  // namespace
}  // namespace hostshare::hostile
