// INIT negotiation: versions, flags, sizes, re-INIT and DESTROY.
#include <gtest/gtest.h>

#include "fuse/init.h"
#include "fuse_test_util.h"

namespace hostshare::fuse::testing {
namespace {

class InitTest : public ::testing::Test {
 protected:
  Replied Init(uint32_t major, uint32_t minor, uint64_t flags, uint32_t readahead = 131072) {
    return Send(server_, MakeRequest(FUSE_INIT, 0, InitBody(major, minor, flags, readahead)));
  }
  Replied Lookup() { return Send(server_, MakeRequest(FUSE_LOOKUP, 1, Body().Str("x"))); }

  RecordingFs fs_;
  Server server_{fs_, ServerOptions{}};
};

TEST_F(InitTest, NegotiatesCurrentProtocol) {
  Replied r = Init(7, 38, kKernelFlags, 65536);
  ASSERT_EQ(r.n, 16u + sizeof(fuse_init_out));
  EXPECT_EQ(r.hdr.error, 0);
  auto out = r.As<fuse_init_out>();
  EXPECT_EQ(out.major, 7u);
  EXPECT_EQ(out.minor, 38u);
  EXPECT_EQ(out.max_readahead, 65536u);
  EXPECT_EQ(out.max_write, 1u << 20);
  EXPECT_EQ(out.max_pages, 256u);
  EXPECT_EQ(out.time_gran, 1u);
  EXPECT_EQ(out.map_alignment, 0u);
  EXPECT_EQ(out.max_background, 256u);
  EXPECT_EQ(out.congestion_threshold, 192u);

  uint64_t flags = out.flags | (uint64_t{out.flags2} << 32);
  // Wanted by the fake and offered: granted.
  EXPECT_TRUE(flags & FUSE_ASYNC_READ);
  EXPECT_TRUE(flags & FUSE_DO_READDIRPLUS);
  EXPECT_TRUE(flags & FUSE_SETXATTR_EXT);
  EXPECT_TRUE(flags & FUSE_HAS_EXPIRE_ONLY);  // a flags2 bit
  // The server's own: granted when offered.
  EXPECT_TRUE(flags & FUSE_MAX_PAGES);
  EXPECT_TRUE(flags & FUSE_BIG_WRITES);
  EXPECT_TRUE(flags & FUSE_INIT_EXT);
  // Offered but not wanted: not granted.
  EXPECT_FALSE(flags & FUSE_WRITEBACK_CACHE);
  EXPECT_FALSE(flags & FUSE_DONT_MASK);
  // Wanted but unsupported by the server: never granted.
  EXPECT_FALSE(flags & FUSE_POSIX_LOCKS);
  EXPECT_FALSE(flags & FUSE_EXPORT_SUPPORT);
  EXPECT_FALSE(flags & FUSE_SECURITY_CTX);

  EXPECT_EQ(fs_.calls(), std::vector<std::string>{Call("Init", 7, 38)});
  InitInfo info = fs_.last_init();
  EXPECT_EQ(info.kernel_flags, kKernelFlags);
  EXPECT_EQ(info.flags, uint64_t{FUSE_BIG_WRITES | FUSE_MAX_PAGES | FUSE_INIT_EXT});
  EXPECT_EQ(Lookup().error(), 0);
}

TEST_F(InitTest, FlagsAreMaskedByWhatTheKernelOffers) {
  fs_.wants.flags = FUSE_WRITEBACK_CACHE | FUSE_ASYNC_READ | FUSE_HAS_INODE_DAX;
  Replied r = Init(7, 38, FUSE_ASYNC_READ | FUSE_INIT_EXT);
  auto out = r.As<fuse_init_out>();
  EXPECT_EQ(out.flags, uint32_t{FUSE_ASYNC_READ | FUSE_INIT_EXT});
  EXPECT_EQ(out.flags2, 0u);
  EXPECT_EQ(out.max_pages, 0u) << "FUSE_MAX_PAGES not offered";
}

TEST_F(InitTest, HighFlagsNeedInitExt) {
  // Without FUSE_INIT_EXT, flags2 is not read, so high bits cannot be offered.
  fs_.wants.flags = FUSE_HAS_EXPIRE_ONLY;
  Replied r = Init(7, 38, FUSE_ASYNC_READ | FUSE_HAS_EXPIRE_ONLY);  // 16-byte body
  ASSERT_EQ(r.hdr.error, 0);
  auto out = r.As<fuse_init_out>();
  EXPECT_EQ(out.flags2, 0u);
  EXPECT_EQ(fs_.last_init().kernel_flags, uint64_t{FUSE_ASYNC_READ});
}

TEST_F(InitTest, NewerKernelMinorIsCappedAt38) {
  Replied r = Init(7, 45, FUSE_ASYNC_READ);
  EXPECT_EQ(r.As<fuse_init_out>().minor, 38u);
  EXPECT_EQ(fs_.last_init().minor, 38u);
}

TEST_F(InitTest, OldMinorGetsCompatSizedReplies) {
  Replied r = Init(7, 22, FUSE_ASYNC_READ);
  ASSERT_EQ(r.n, 16u + FUSE_COMPAT_22_INIT_OUT_SIZE);
  EXPECT_EQ(r.As<fuse_init_out>().minor, 22u);

  Replied r2 = Init(7, 4, 0);
  ASSERT_EQ(r2.n, 16u + FUSE_COMPAT_INIT_OUT_SIZE);
  EXPECT_EQ(r2.As<fuse_init_out>().minor, 4u);
}

TEST_F(InitTest, VeryOldKernelSendsOnlyMajorMinor) {
  Replied r = Send(server_, MakeRequest(FUSE_INIT, 0, Body().Struct(fuse_init_in{7, 5}, 8)));
  ASSERT_EQ(r.n, 16u + 24u);
  EXPECT_EQ(r.As<fuse_init_out>().minor, 5u);
  EXPECT_EQ(fs_.last_init().kernel_flags, 0u);
}

TEST_F(InitTest, MinorSixNeedsFlags) {
  Replied r = Send(server_, MakeRequest(FUSE_INIT, 0, Body().Struct(fuse_init_in{7, 6}, 8)));
  EXPECT_EQ(r.error(), EINVAL);
  EXPECT_TRUE(fs_.calls().empty());
}

TEST_F(InitTest, InitExtNeedsTheWholeStruct) {
  fuse_init_in in{7, 38, 0, FUSE_INIT_EXT};
  for (size_t n : {16, 20, 63}) {
    Replied r = Send(server_, MakeRequest(FUSE_INIT, 0, Body().Struct(in, n)));
    EXPECT_EQ(r.error(), EINVAL) << n;
  }
  EXPECT_TRUE(fs_.calls().empty());
  EXPECT_EQ(Lookup().error(), EIO);
}

TEST_F(InitTest, NewerMajorGetsOurMajorAndNoSession) {
  Replied r = Init(8, 0, 0);
  ASSERT_EQ(r.n, 16u + FUSE_COMPAT_INIT_OUT_SIZE);
  EXPECT_EQ(r.hdr.error, 0);
  EXPECT_EQ(r.As<fuse_init_out>().major, 7u);
  EXPECT_TRUE(fs_.calls().empty());
  EXPECT_EQ(Lookup().error(), EIO) << "not initialised yet";
  // The kernel retries with major 7.
  EXPECT_EQ(Init(7, 38, kKernelFlags).hdr.error, 0);
  EXPECT_EQ(Lookup().error(), 0);
}

TEST_F(InitTest, OlderMajorIsEproto) {
  EXPECT_EQ(Init(6, 99, 0).error(), EPROTO);
  EXPECT_TRUE(fs_.calls().empty());
  EXPECT_EQ(Lookup().error(), EIO);
}

TEST_F(InitTest, SecondInitResetsTheFilesystem) {
  InitServer(server_);
  fs_.Clear();
  EXPECT_EQ(Init(7, 31, FUSE_ASYNC_READ).hdr.error, 0);
  EXPECT_EQ(fs_.calls(), (std::vector<std::string>{"Reset()", Call("Init", 7, 31)}));
  // The new session's minor applies: 7.31 has full-size entries.
  fs_.Clear();
  EXPECT_EQ(Lookup().body.size(), sizeof(fuse_entry_out));
}

TEST_F(InitTest, MalformedSecondInitKeepsTheSession) {
  InitServer(server_);
  fs_.Clear();
  Replied r = Send(server_, MakeRequest(FUSE_INIT, 0, Body().Raw("abc")));
  EXPECT_EQ(r.error(), EINVAL);
  EXPECT_TRUE(fs_.calls().empty());
  EXPECT_EQ(Lookup().error(), 0);
}

TEST_F(InitTest, DestroyResetsAndEndsTheSession) {
  InitServer(server_);
  fs_.Clear();
  Replied r = Send(server_, MakeRequest(FUSE_DESTROY, 0, {}));
  EXPECT_EQ(r.n, 16u);
  EXPECT_EQ(r.hdr.error, 0);
  EXPECT_EQ(fs_.calls(), std::vector<std::string>{"Reset()"});
  EXPECT_EQ(Lookup().error(), EIO);
  // A new INIT after DESTROY does not reset again.
  fs_.Clear();
  InitServer(server_);
  EXPECT_EQ(fs_.calls(), std::vector<std::string>{Call("Init", 7, 38)});
}

TEST_F(InitTest, InitReplyThatDoesNotFitChangesNothing) {
  Replied r = Send(server_, MakeRequest(FUSE_INIT, 0, InitBody(7, 38, kKernelFlags)), 16 + 63);
  EXPECT_EQ(r.error(), EINVAL);
  EXPECT_TRUE(fs_.calls().empty());
  EXPECT_EQ(Lookup().error(), EIO);
}

TEST(InitOptions, LimitsAreClamped) {
  RecordingFs fs;
  Server small(fs, ServerOptions{.max_write = 0, .max_pages = 0});
  auto out = InitServer(small).As<fuse_init_out>();
  EXPECT_EQ(out.max_write, 4096u);
  EXPECT_EQ(out.max_pages, 1u);

  Server big(fs, ServerOptions{.max_write = 1u << 30, .max_pages = 1u << 20});
  out = InitServer(big).As<fuse_init_out>();
  EXPECT_EQ(out.max_write, 16u << 20);
  EXPECT_EQ(out.max_pages, 65535u);
}

TEST(InitPure, NegotiateFlags) {
  EXPECT_EQ(NegotiateFlags(0, ~uint64_t{0}), 0u);
  EXPECT_EQ(NegotiateFlags(~uint64_t{0}, 0), kServerFlags);
  EXPECT_EQ(NegotiateFlags(~uint64_t{0}, ~uint64_t{0}) & kUnsupportedFlags, 0u);
  EXPECT_EQ(NegotiateFlags(FUSE_ASYNC_READ | FUSE_FLOCK_LOCKS, FUSE_ASYNC_READ | FUSE_FLOCK_LOCKS),
            uint64_t{FUSE_ASYNC_READ});
}

TEST(InitPure, ParseInitIn) {
  EXPECT_FALSE(ParseInitIn({}).ok());
  fuse_init_in in{7, 38, 4096, FUSE_INIT_EXT | FUSE_ASYNC_READ, 0x2};
  Result<InitRequest> r =
      ParseInitIn(std::span<const char>(reinterpret_cast<const char*>(&in), sizeof in));
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->flags, (uint64_t{2} << 32) | FUSE_INIT_EXT | FUSE_ASYNC_READ);
  EXPECT_EQ(r->max_readahead, 4096u);
}

}  // namespace
}  // namespace hostshare::fuse::testing
