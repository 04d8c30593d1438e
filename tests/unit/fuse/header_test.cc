// Request headers and the generic paths: lengths, unknown opcodes,
// extensions, credentials, errno mapping, no-reply opcodes.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <linux/fs.h>
#include <sys/sysmacros.h>

#include "fuse_test_util.h"

namespace hostshare::fuse::testing {
namespace {

class HeaderTest : public ::testing::Test {
 protected:
  void SetUp() override {
    InitServer(server_);
    fs_.Clear();
  }
  RecordingFs fs_;
  Server server_{fs_, ServerOptions{}};
};

TEST_F(HeaderTest, RequestShorterThanAHeaderGetsNoReply) {
  Bytes req = MakeRequest(FUSE_GETATTR, 1, Body().Struct(fuse_getattr_in{}));
  for (size_t n = 0; n < sizeof(fuse_in_header); ++n) {
    Replied r = Send(server_, Bytes(req.begin(), req.begin() + n));
    EXPECT_EQ(r.n, 0u) << n;
  }
  EXPECT_TRUE(fs_.calls().empty());
}

TEST_F(HeaderTest, LenSmallerThanTheHeaderIsEinval) {
  for (int64_t len : {0, 1, 39}) {
    ReqOpts o;
    o.len_override = len;
    Replied r = Send(server_, MakeRequest(FUSE_GETATTR, 1, Body().Struct(fuse_getattr_in{}), o));
    EXPECT_EQ(r.error(), EINVAL);
    EXPECT_EQ(r.hdr.unique, 0x1234u);
  }
  EXPECT_TRUE(fs_.calls().empty());
}

TEST_F(HeaderTest, HugeLenIsEinval) {
  ReqOpts o;
  o.len_override = UINT32_MAX;
  Replied r = Send(server_, MakeRequest(FUSE_WRITE, 1, Body().Struct(fuse_write_in{}), o));
  EXPECT_EQ(r.error(), EINVAL);
  EXPECT_TRUE(fs_.calls().empty());
}

TEST_F(HeaderTest, BytesBeyondLenAreIgnored) {
  // The name's NUL lies beyond len: the name is unterminated.
  ReqOpts o;
  o.len_override = sizeof(fuse_in_header) + 3;
  Replied r = Send(server_, MakeRequest(FUSE_LOOKUP, 1, Body().Str("abc"), o));
  EXPECT_EQ(r.error(), EINVAL);
  // A request followed by junk is fine.
  o.len_override = sizeof(fuse_in_header) + 4;
  r = Send(server_, MakeRequest(FUSE_LOOKUP, 1, Body().Str("abc").Raw("junk"), o));
  EXPECT_EQ(r.error(), 0);
  EXPECT_EQ(fs_.calls(), std::vector<std::string>{Call("Lookup", 1, "abc")});
}

TEST_F(HeaderTest, UnknownOpcodesAreEnosys) {
  for (uint32_t op : {0u, 7u, 19u, 52u, 4096u, 1048576u, 436207616u, 0xffffffffu}) {
    Replied r = Send(server_, MakeRequest(op, 1, Body().Raw("whatever")));
    EXPECT_EQ(r.error(), ENOSYS) << op;
  }
  EXPECT_TRUE(fs_.calls().empty());
}

TEST_F(HeaderTest, UnknownOpcodeBeforeInitIsEnosys) {
  RecordingFs fs;
  Server server(fs, ServerOptions{});
  EXPECT_EQ(Send(server, MakeRequest(7, 1, {})).error(), ENOSYS);
  EXPECT_EQ(Send(server, MakeRequest(FUSE_GETATTR, 1, Body().Struct(fuse_getattr_in{}))).error(),
            EIO);
}

TEST_F(HeaderTest, ExtensionsAreSkipped) {
  ReqOpts o;
  o.total_extlen = 1;
  Replied r = Send(server_, MakeRequest(FUSE_LOOKUP, 1, Body().Str("foo").Raw("EXTENSN!"), o));
  EXPECT_EQ(r.error(), 0);
  EXPECT_EQ(fs_.calls(), std::vector<std::string>{Call("Lookup", 1, "foo")});
}

TEST_F(HeaderTest, NamesCannotReachIntoExtensions) {
  ReqOpts o;
  o.total_extlen = 1;
  // "foo" is unterminated within the body proper; the NUL is in the extension.
  Replied r = Send(server_, MakeRequest(FUSE_LOOKUP, 1, Body().Raw("foo").Raw(std::string_view("\0EXTENS", 8)), o));
  EXPECT_EQ(r.error(), EINVAL);
  EXPECT_TRUE(fs_.calls().empty());
}

TEST_F(HeaderTest, ExtensionsLongerThanTheBodyAreEinval) {
  ReqOpts o;
  o.total_extlen = 2;
  Replied r = Send(server_, MakeRequest(FUSE_LOOKUP, 1, Body().Str("foo").Raw("1234"), o));
  EXPECT_EQ(r.error(), EINVAL);
  o.total_extlen = 0xffff;
  r = Send(server_, MakeRequest(FUSE_LOOKUP, 1, Body().Str("foo"), o));
  EXPECT_EQ(r.error(), EINVAL);
  EXPECT_TRUE(fs_.calls().empty());
}

TEST_F(HeaderTest, WritePayloadExcludesExtensions) {
  fuse_write_in in{};
  in.size = 8;
  ReqOpts o;
  o.total_extlen = 1;
  // 8 bytes follow write_in, but they are the extension: size 8 is not carried.
  Replied r = Send(server_, MakeRequest(FUSE_WRITE, 5, Body().Struct(in).Raw("EXTENSN!"), o));
  EXPECT_EQ(r.error(), EINVAL);
  EXPECT_TRUE(fs_.calls().empty());
}

TEST_F(HeaderTest, CredentialsReachTheFilesystem) {
  ReqOpts o;
  o.unique = 0xdeadbeef;
  o.uid = 1001;
  o.gid = 2002;
  o.pid = 3003;
  Replied r = Send(server_, MakeRequest(FUSE_LOOKUP, 1, Body().Str("x"), o));
  EXPECT_EQ(r.hdr.unique, 0xdeadbeefu);
  Context ctx = fs_.last_ctx();
  EXPECT_EQ(ctx.uid, 1001u);
  EXPECT_EQ(ctx.gid, 2002u);
  EXPECT_EQ(ctx.pid, 3003u);
  EXPECT_EQ(ctx.unique, 0xdeadbeefu);
}

// FUSE_OPEN_KILL_SUIDGID in open_in/create_in.open_flags reaches the
// backend as Context::kill_suidgid, for that request only.
TEST_F(HeaderTest, OpenKillSuidGidReachesTheFilesystem) {
  fuse_open_in open{};
  open.flags = O_RDWR | O_TRUNC;
  open.open_flags = FUSE_OPEN_KILL_SUIDGID;
  Send(server_, MakeRequest(FUSE_OPEN, 5, Body().Struct(open)));
  EXPECT_TRUE(fs_.last_ctx().kill_suidgid);
  open.open_flags = 0;
  Send(server_, MakeRequest(FUSE_OPEN, 5, Body().Struct(open)));
  EXPECT_FALSE(fs_.last_ctx().kill_suidgid);
  fuse_create_in create{};
  create.flags = O_RDWR | O_TRUNC;
  create.mode = 0644;
  create.open_flags = FUSE_OPEN_KILL_SUIDGID;
  Send(server_, MakeRequest(FUSE_CREATE, 1, Body().Struct(create).Str("f")));
  EXPECT_TRUE(fs_.last_ctx().kill_suidgid);
  Send(server_, MakeRequest(FUSE_GETATTR, 5, Body().Struct(fuse_getattr_in{})));
  EXPECT_FALSE(fs_.last_ctx().kill_suidgid);
}

TEST_F(HeaderTest, BadErrnoFromTheBackendBecomesEio) {
  for (int bad : {-5, 4096, 100000}) {
    fs_.fail_with = bad;
    Replied r = Send(server_, MakeRequest(FUSE_UNLINK, 1, Body().Str("x")));
    EXPECT_EQ(r.error(), EIO) << bad;
  }
  fs_.fail_with = ENOTEMPTY;
  EXPECT_EQ(Send(server_, MakeRequest(FUSE_RMDIR, 1, Body().Str("x"))).error(), ENOTEMPTY);
}

TEST_F(HeaderTest, ForgetAndInterruptNeverReply) {
  for (uint32_t op : {FUSE_FORGET, FUSE_INTERRUPT, FUSE_BATCH_FORGET}) {
    // Well-formed, truncated, and with a lying len: never a reply.
    Bytes good = op == FUSE_BATCH_FORGET
                     ? Body().Struct(fuse_batch_forget_in{1}).Struct(fuse_forget_one{9, 1}).bytes()
                     : Body().Struct(uint64_t{1}).bytes();
    ReqOpts lying;
    lying.len_override = 1000;
    ReqOpts tiny;
    tiny.len_override = 3;
    for (const Bytes& req : {MakeRequest(op, 9, good), MakeRequest(op, 9, Bytes(3, 'x')),
                             MakeRequest(op, 9, good, lying), MakeRequest(op, 9, good, tiny)}) {
      Replied r = Send(server_, req);
      EXPECT_EQ(r.n, 0u) << op;
    }
  }
}

TEST_F(HeaderTest, BatchForgetCountIsBoundedByTheRequest) {
  Bytes body = Body().Struct(fuse_batch_forget_in{3}).Struct(fuse_forget_one{1, 1})
                   .Struct(fuse_forget_one{2, 1});
  EXPECT_EQ(Send(server_, MakeRequest(FUSE_BATCH_FORGET, 0, body)).n, 0u);
  EXPECT_TRUE(fs_.calls().empty()) << "a batch promising more than it carries is dropped";

  Bytes huge = Body().Struct(fuse_batch_forget_in{UINT32_MAX});
  EXPECT_EQ(Send(server_, MakeRequest(FUSE_BATCH_FORGET, 0, huge)).n, 0u);
  EXPECT_TRUE(fs_.calls().empty());

  // A large, well-formed batch (more than one internal chunk).
  Body big;
  big.Struct(fuse_batch_forget_in{200});
  for (uint64_t i = 0; i < 200; ++i) big.Struct(fuse_forget_one{1000 + i, i + 1});
  EXPECT_EQ(Send(server_, MakeRequest(FUSE_BATCH_FORGET, 0, big), 4096, 5).n, 0u);
  std::vector<std::string> calls = fs_.calls();
  ASSERT_EQ(calls.size(), 200u);
  EXPECT_EQ(calls[0], Call("Forget", 1000, 1));
  EXPECT_EQ(calls[199], Call("Forget", 1199, 200));
}

TEST_F(HeaderTest, OversizedBufferedBodyIsEinval) {
  // No well-formed buffered request is this large.
  Bytes body = Body().Str("x").Raw(std::string(70000, 'j'));
  Replied r = Send(server_, MakeRequest(FUSE_LOOKUP, 1, body));
  EXPECT_EQ(r.error(), EINVAL);
  EXPECT_TRUE(fs_.calls().empty());
}

TEST_F(HeaderTest, RenameFlagsAreChecked) {
  auto rename2 = [&](uint32_t flags) {
    return Send(server_, MakeRequest(FUSE_RENAME2, 1,
                                     Body().Struct(fuse_rename2_in{2, flags}).Str("a").Str("b")));
  };
  EXPECT_EQ(rename2(RENAME_EXCHANGE).error(), 0);
  EXPECT_EQ(rename2(RENAME_WHITEOUT).error(), 0);
  EXPECT_EQ(rename2(1u << 3).error(), EINVAL);
  EXPECT_EQ(rename2(0x80000000u).error(), EINVAL);
  EXPECT_EQ(fs_.calls().size(), 2u);
}

TEST_F(HeaderTest, SetattrTimes) {
  auto setattr = [&](uint32_t valid, uint32_t atimensec) {
    fuse_setattr_in in{};
    in.valid = valid;
    in.atime = 5;
    in.atimensec = atimensec;
    return Send(server_, MakeRequest(FUSE_SETATTR, 5, Body().Struct(in)));
  };
  // An explicit time with nanoseconds out of range (e.g. UTIME_NOW smuggled in) is EINVAL.
  EXPECT_EQ(setattr(FATTR_ATIME, 1'000'000'000).error(), EINVAL);
  EXPECT_EQ(setattr(FATTR_ATIME, UTIME_NOW).error(), EINVAL);
  EXPECT_TRUE(fs_.calls().empty());
  // ..but fine when the time is not being set, or set to now.
  EXPECT_EQ(setattr(FATTR_MODE, UTIME_NOW).error(), 0);
  EXPECT_EQ(setattr(FATTR_ATIME | FATTR_ATIME_NOW, 1'000'000'000).error(), 0);
  EXPECT_EQ(setattr(FATTR_ATIME, 999'999'999).error(), 0);
  std::vector<std::string> calls = fs_.calls();
  ASSERT_EQ(calls.size(), 3u);
  EXPECT_EQ(calls[0], Call("SetAttr", 5, FATTR_MODE, 0, 0, 0, 0, 0, "omit", "omit", "omit", 0));
  EXPECT_EQ(calls[1], Call("SetAttr", 5, FATTR_ATIME | FATTR_ATIME_NOW, 0, 0, 0, 0, 0, "now",
                           "omit", "omit", 0));
  EXPECT_EQ(calls[2],
            Call("SetAttr", 5, FATTR_ATIME, 0, 0, 0, 0, 0, "5.999999999", "omit", "omit", 0));
}

TEST_F(HeaderTest, GetattrWithoutHandle) {
  Send(server_, MakeRequest(FUSE_GETATTR, 5, Body().Struct(fuse_getattr_in{0, 0, 7})));
  EXPECT_EQ(fs_.calls(), std::vector<std::string>{Call("GetAttr", 5, "null")});
}

TEST_F(HeaderTest, EntryAndAttrEncoding) {
  fs_.entry.attr.st.st_nlink = 3;
  fs_.entry.attr.st.st_uid = 10;
  fs_.entry.attr.st.st_gid = 20;
  fs_.entry.attr.st.st_rdev = makedev(8, 1);
  fs_.entry.attr.st.st_blksize = 4096;
  fs_.entry.attr.st.st_blocks = 8;
  fs_.entry.attr.st.st_atim = {100, 1};
  fs_.entry.attr.st.st_mtim = {-200, 2};  // before 1970
  fs_.entry.attr.st.st_ctim = {300, 3};
  fs_.entry.attr.attr_flags = FUSE_ATTR_SUBMOUNT;
  Replied r = Send(server_, MakeRequest(FUSE_LOOKUP, 1, Body().Str("x")));
  auto e = r.As<fuse_entry_out>();
  EXPECT_EQ(e.nodeid, 42u);
  EXPECT_EQ(e.generation, 7u);
  EXPECT_EQ(e.entry_valid, 1u);
  EXPECT_EQ(e.entry_valid_nsec, 500'000'000u);
  EXPECT_EQ(e.attr_valid, 2u);
  EXPECT_EQ(e.attr_valid_nsec, 1u);
  EXPECT_EQ(e.attr.ino, 42u);
  EXPECT_EQ(e.attr.size, 1234u);
  EXPECT_EQ(e.attr.blocks, 8u);
  EXPECT_EQ(e.attr.mode, uint32_t{S_IFREG | 0644});
  EXPECT_EQ(e.attr.nlink, 3u);
  EXPECT_EQ(e.attr.uid, 10u);
  EXPECT_EQ(e.attr.gid, 20u);
  EXPECT_EQ(e.attr.rdev, (8u << 8) | 1u);
  EXPECT_EQ(e.attr.blksize, 4096u);
  EXPECT_EQ(e.attr.atime, 100u);
  EXPECT_EQ(e.attr.atimensec, 1u);
  EXPECT_EQ(static_cast<int64_t>(e.attr.mtime), -200);
  EXPECT_EQ(e.attr.ctimensec, 3u);
  EXPECT_EQ(e.attr.flags, uint32_t{FUSE_ATTR_SUBMOUNT});

  fs_.attr = fs_.entry.attr;
  r = Send(server_, MakeRequest(FUSE_GETATTR, 5, Body().Struct(fuse_getattr_in{})));
  auto a = r.As<fuse_attr_out>();
  EXPECT_EQ(a.attr_valid, 2u);
  EXPECT_EQ(a.attr_valid_nsec, 1u);
  EXPECT_EQ(a.attr.ino, 42u);
  EXPECT_EQ(a.attr.nlink, 3u);
}

TEST_F(HeaderTest, CreateReplyCarriesEntryAndHandle) {
  Replied r = Send(server_, MakeRequest(FUSE_CREATE, 1,
                                        Body().Struct(fuse_create_in{O_CREAT, 0644}).Str("n")));
  ASSERT_EQ(r.body.size(), sizeof(fuse_entry_out) + sizeof(fuse_open_out));
  EXPECT_EQ(r.As<fuse_entry_out>().nodeid, 42u);
  auto o = r.As<fuse_open_out>(sizeof(fuse_entry_out));
  EXPECT_EQ(o.fh, 99u);
  EXPECT_EQ(o.open_flags, uint32_t{FOPEN_KEEP_CACHE});
}

TEST_F(HeaderTest, StatfsEncoding) {
  auto s = Send(server_, MakeRequest(FUSE_STATFS, 1, {})).As<fuse_statfs_out>().st;
  EXPECT_EQ(s.blocks, 1000u);
  EXPECT_EQ(s.bfree, 500u);
  EXPECT_EQ(s.bavail, 400u);
  EXPECT_EQ(s.files, 300u);
  EXPECT_EQ(s.ffree, 200u);
  EXPECT_EQ(s.bsize, 4096u);
  EXPECT_EQ(s.frsize, 512u);
  EXPECT_EQ(s.namelen, 255u);
}

TEST_F(HeaderTest, ReadlinkLongerThanTheReplyIsEnametoolong) {
  fs_.link_target = std::string(5000, 'l');
  Replied r = Send(server_, MakeRequest(FUSE_READLINK, 5, {}), 16 + 4095);
  EXPECT_EQ(r.error(), ENAMETOOLONG);
  fs_.link_target = std::string(4095, 'l');
  r = Send(server_, MakeRequest(FUSE_READLINK, 5, {}), 16 + 4095);
  EXPECT_EQ(r.error(), 0);
  EXPECT_EQ(r.Text(), fs_.link_target);
}

TEST_F(HeaderTest, NoStateIsCreatedWhenTheReplyCannotFit) {
  // Room for an error header but not for the entry: EINVAL, and the backend
  // is never asked (it would count a lookup the guest never learns of).
  struct {
    uint32_t op;
    Bytes body;
    size_t need;
  } cases[] = {
      {FUSE_LOOKUP, Body().Str("x"), 128},
      {FUSE_MKDIR, Body().Struct(fuse_mkdir_in{0755}).Str("d"), 128},
      {FUSE_CREATE, Body().Struct(fuse_create_in{O_CREAT, 0644}).Str("n"), 144},
      {FUSE_OPEN, Body().Struct(fuse_open_in{}), 16},
      {FUSE_OPENDIR, Body().Struct(fuse_open_in{}), 16},
  };
  for (const auto& c : cases) {
    for (size_t room = 16; room < 16 + c.need; room += 7) {
      Replied r = Send(server_, MakeRequest(c.op, 1, c.body), room);
      EXPECT_EQ(r.error(), EINVAL);
      EXPECT_TRUE(fs_.calls().empty()) << c.op << " room " << room;
    }
    Replied r = Send(server_, MakeRequest(c.op, 1, c.body), 16 + c.need);
    EXPECT_EQ(r.error(), 0);
    EXPECT_EQ(fs_.calls().size(), 1u);
    fs_.Clear();
  }
}

}  // namespace
}  // namespace hostshare::fuse::testing
