// Hostile FUSE messages, end to end through the daemon: every malformed
// request gets an error reply (or, for FORGET / BATCH_FORGET / INTERRUPT,
// which are never answered, no reply) and the queue goes on; ids and
// handles the guest never got, or no longer has, are refused; sizes the
// guest picks never become allocations. After each case the daemon still
// serves a fresh GETATTR on both request queues, and the share holds
// nothing the malformed requests could have created.
#include <linux/fs.h>
#include <sys/xattr.h>

#include <set>

#include "hostile/hostile_fixture.h"

namespace hostshare::hostile {
namespace {

// Ids the daemon never hands out in these tests. (Ids are table positions,
// slot * 16 + shard with the generation above: a small id such as 17 may
// well be the first inode of shard 1, so it is not in this list.)
constexpr uint64_t kNeverIssued[] = {0,          2,           15,         0x123456789abcdef0ull,
                                     0x7ffffff0, 0xffffffffull, (1ull << 32) | 1,
                                     0xffffffffffffffffull};

class FuseTest : public DaemonTest {
 protected:
  void PrepareTree() override {
    WriteHostFile(share_ / "a", "aaaa");
    WriteHostFile(share_ / "b", "bbbbbbbb");
    fsys::create_directory(share_ / "d");
  }

  std::set<std::string> ShareEntries() {
    std::set<std::string> out;
    for (const auto& e : fsys::recursive_directory_iterator(share_)) {
      out.insert(fsys::relative(e.path(), share_).string());
    }
    return out;
  }

  uint64_t LookupId(uint64_t parent, const std::string& name) {
    auto e = fc_->Lookup(parent, name);
    EXPECT_TRUE(e.ok()) << name << ": " << strerror(e.error());
    return e.ok() ? e->nodeid : 0;
  }

  void ExpectBothQueuesServe() {
    ExpectServes(kQ1);
    ExpectServes(kQ2);
  }
};

// --- the header ---------------------------------------------------------------

TEST_F(FuseTest, HeaderLenNotMatchingTheBuffers) {
  fuse_getattr_in in{};
  const uint32_t carried = sizeof(fuse_in_header) + sizeof(in);
  for (uint32_t len : {0u, 1u, 39u, carried + 1, carried + 4096, 0x7fffffffu, 0xffffffffu}) {
    SCOPED_TRACE(len);
    uint64_t unique;
    auto req = Request(FUSE_GETATTR, kRoot, Body(in), &unique);
    Hdr(req).len = len;
    auto r = Raw(req, unique);
    ASSERT_TRUE(r.ok()) << strerror(r.error());
    EXPECT_EQ(r->error, EINVAL);
  }
  // len shorter than the buffers: the trailing bytes are not part of the request.
  uint64_t unique;
  auto req = Request(FUSE_GETATTR, kRoot, Cat(Body(in), std::vector<uint8_t>(100, 0xee)), &unique);
  Hdr(req).len = carried;
  auto r = Raw(req, unique);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->error, 0);
  // Extensions longer than the body.
  req = Request(FUSE_GETATTR, kRoot, Body(in), &unique);
  Hdr(req).total_extlen = 0xffff;
  r = Raw(req, unique);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->error, EINVAL);
  ExpectBothQueuesServe();
}

TEST_F(FuseTest, HeaderLenMismatchOnRequestsWithoutReply) {
  for (uint32_t opcode : {uint32_t{FUSE_FORGET}, uint32_t{FUSE_BATCH_FORGET},
                          uint32_t{FUSE_INTERRUPT}}) {
    for (uint32_t len : {0u, 39u, 0xffffffffu}) {
      uint64_t unique;
      auto req = Request(opcode, kRoot, std::vector<uint8_t>(16, 0), &unique);
      Hdr(req).len = len;
      auto c = fe_->Submit(kQ1, req, 4096);
      ASSERT_TRUE(c.ok());
      EXPECT_EQ(c->len, 0u) << opcode << " got a reply";
    }
  }
  ExpectBothQueuesServe();
}

TEST_F(FuseTest, UnknownOpcodes) {
  for (uint32_t opcode : {0u, 9999u, uint32_t{FUSE_TMPFILE} + 1, 4096u /* CUSE_INIT */,
                          0x7fffffffu, 0xffffffffu}) {
    SCOPED_TRACE(opcode);
    EXPECT_EQ(ErrorOf(opcode, kRoot, std::vector<uint8_t>(64, 0)), ENOSYS);
  }
  ExpectBothQueuesServe();
}

// --- every opcode with every truncated body ------------------------------------------

struct FullBody {
  const char* name;
  uint32_t opcode;
  std::vector<uint8_t> body;
  bool replies = true;
};

std::vector<FullBody> FullBodies() {
  std::vector<FullBody> v;
  auto add = [&](const char* n, uint32_t op, std::vector<uint8_t> b, bool replies = true) {
    v.push_back({n, op, std::move(b), replies});
  };
  add("LOOKUP", FUSE_LOOKUP, Name("a"));
  add("FORGET", FUSE_FORGET, Body(fuse_forget_in{1}), false);
  add("GETATTR", FUSE_GETATTR, Body(fuse_getattr_in{}));
  add("SETATTR", FUSE_SETATTR, Body(fuse_setattr_in{}));
  add("SYMLINK", FUSE_SYMLINK, Cat(Name("new-link"), Name("target")));
  add("MKNOD", FUSE_MKNOD, Cat(Body(fuse_mknod_in{S_IFIFO | 0644, 0, 0, 0}), Name("new-fifo")));
  add("MKDIR", FUSE_MKDIR, Cat(Body(fuse_mkdir_in{0755, 0}), Name("new-dir")));
  add("UNLINK", FUSE_UNLINK, Name("a"));
  add("RMDIR", FUSE_RMDIR, Name("d"));
  add("RENAME", FUSE_RENAME, Cat(Cat(Body(fuse_rename_in{kRoot}), Name("a")), Name("a2")));
  add("LINK", FUSE_LINK, Cat(Body(fuse_link_in{kRoot}), Name("new-link")));
  add("OPEN", FUSE_OPEN, Body(fuse_open_in{O_RDONLY, 0}));
  add("READ", FUSE_READ, Body(fuse_read_in{0, 0, 4096, 0, 0, 0, 0}));
  fuse_write_in w{};
  w.size = 4;
  add("WRITE", FUSE_WRITE, Cat(Body(w), Bytes("data")));
  add("RELEASE", FUSE_RELEASE, Body(fuse_release_in{}));
  add("FSYNC", FUSE_FSYNC, Body(fuse_fsync_in{}));
  // FUSE_SETXATTR_EXT is not negotiated: the compat {size, flags} prefix.
  std::vector<uint8_t> sx(8, 0);
  sx[0] = 3;
  add("SETXATTR", FUSE_SETXATTR, Cat(Cat(sx, Name("user.t")), Bytes("val")));
  add("GETXATTR", FUSE_GETXATTR, Cat(Body(fuse_getxattr_in{64, 0}), Name("user.t")));
  add("LISTXATTR", FUSE_LISTXATTR, Body(fuse_getxattr_in{64, 0}));
  add("REMOVEXATTR", FUSE_REMOVEXATTR, Name("user.t"));
  add("FLUSH", FUSE_FLUSH, Body(fuse_flush_in{}));
  fuse_init_in init{};
  init.major = 7;
  init.minor = 38;
  init.flags = FUSE_INIT_EXT;
  add("INIT", FUSE_INIT, Body(init));
  add("OPENDIR", FUSE_OPENDIR, Body(fuse_open_in{O_RDONLY | O_DIRECTORY, 0}));
  add("READDIR", FUSE_READDIR, Body(fuse_read_in{0, 0, 4096, 0, 0, 0, 0}));
  add("RELEASEDIR", FUSE_RELEASEDIR, Body(fuse_release_in{}));
  add("FSYNCDIR", FUSE_FSYNCDIR, Body(fuse_fsync_in{}));
  add("GETLK", FUSE_GETLK, Body(fuse_lk_in{}));
  add("SETLK", FUSE_SETLK, Body(fuse_lk_in{}));
  add("SETLKW", FUSE_SETLKW, Body(fuse_lk_in{}));
  add("ACCESS", FUSE_ACCESS, Body(fuse_access_in{R_OK, 0}));
  add("CREATE", FUSE_CREATE, Cat(Body(fuse_create_in{O_RDWR, 0644, 0, 0}), Name("new-file")));
  add("INTERRUPT", FUSE_INTERRUPT, Body(fuse_interrupt_in{1}), false);
  add("BMAP", FUSE_BMAP, Body(fuse_bmap_in{}));
  add("IOCTL", FUSE_IOCTL, Body(fuse_ioctl_in{}));
  add("POLL", FUSE_POLL, Body(fuse_poll_in{}));
  fuse_forget_one one{kRoot, 1};
  add("BATCH_FORGET", FUSE_BATCH_FORGET,
      Cat(Cat(Body(fuse_batch_forget_in{2, 0}), Body(one)), Body(one)), false);
  add("FALLOCATE", FUSE_FALLOCATE, Body(fuse_fallocate_in{}));
  add("READDIRPLUS", FUSE_READDIRPLUS, Body(fuse_read_in{0, 0, 4096, 0, 0, 0, 0}));
  add("RENAME2", FUSE_RENAME2, Cat(Cat(Body(fuse_rename2_in{kRoot, 0, 0}), Name("a")), Name("a2")));
  add("LSEEK", FUSE_LSEEK, Body(fuse_lseek_in{}));
  add("COPY_FILE_RANGE", FUSE_COPY_FILE_RANGE, Body(fuse_copy_file_range_in{}));
  add("SETUPMAPPING", FUSE_SETUPMAPPING, Body(fuse_setupmapping_in{}));
  add("REMOVEMAPPING", FUSE_REMOVEMAPPING, Body(fuse_removemapping_in{}));
  add("SYNCFS", FUSE_SYNCFS, Body(fuse_syncfs_in{}));
  add("TMPFILE", FUSE_TMPFILE, Body(fuse_create_in{O_RDWR, 0600, 0, 0}));
  return v;
}

TEST_F(FuseTest, EveryOpcodeWithEveryTruncatedBody) {
  const auto before = ShareEntries();
  size_t cases = 0;
  for (const FullBody& f : FullBodies()) {
    for (size_t n = 0; n < f.body.size(); ++n) {
      SCOPED_TRACE(std::string(f.name) + " truncated to " + std::to_string(n));
      std::vector<uint8_t> body(f.body.begin(), f.body.begin() + n);
      auto r = fc_->Call(f.opcode, kRoot, body, FuseClient::kReplySize, 1 + (n % 2));
      ASSERT_TRUE(r.ok()) << strerror(r.error());
      if (f.replies) {
        EXPECT_EQ(r->error, EINVAL);
      } else {
        EXPECT_EQ(r->used_len, 0u);
      }
      ++cases;
    }
  }
  EXPECT_GT(cases, 1000u);
  EXPECT_EQ(ShareEntries(), before) << "a truncated request changed the share";
  ExpectBothQueuesServe();
}

// --- names -----------------------------------------------------------------------

TEST_F(FuseTest, BadNamesInEveryOpThatTakesOne) {
  const auto before = ShareEntries();
  // A name body: bad name bytes (NUL-terminated unless `unterminated`).
  struct Bad {
    std::string label;
    std::vector<uint8_t> bytes;  // as they appear in the body
    bool dot = false;            // "." or ".."
    bool long_name = false;      // > NAME_MAX: EINVAL or ENAMETOOLONG
  };
  std::vector<Bad> bad = {
      {"unterminated", Bytes("abc")},
      {"empty", Name("")},
      {".", Name("."), true},
      {"..", Name(".."), true},
      {"slash", Name("/")},
      {"a/b", Name("a/b")},
      {"../outside", Name("../outside")},
      {"NAME_MAX+1", Name(std::string(NAME_MAX + 1, 'n')), false, true},
      {"4096", Name(std::string(4096, 'n')), false, true},
  };
  auto good = Name("fresh");
  for (const Bad& b : bad) {
    SCOPED_TRACE(b.label);
    // A malformed name is EINVAL; one that is only too long may be answered
    // ENAMETOOLONG, as a host file system would.
    auto ErrorOf = [&](uint32_t op, uint64_t node, const std::vector<uint8_t>& body) {
      int err = this->ErrorOf(op, node, body);
      return b.long_name && err == ENAMETOOLONG ? EINVAL : err;
    };
    // LOOKUP of "." / ".." is a negative lookup (ENOENT), everything else EINVAL.
    EXPECT_EQ(ErrorOf(FUSE_LOOKUP, kRoot, b.bytes), b.dot ? ENOENT : EINVAL);
    EXPECT_EQ(ErrorOf(FUSE_MKNOD, kRoot, Cat(Body(fuse_mknod_in{S_IFREG | 0600, 0, 0, 0}),
                                             b.bytes)), EINVAL);
    EXPECT_EQ(ErrorOf(FUSE_MKDIR, kRoot, Cat(Body(fuse_mkdir_in{0700, 0}), b.bytes)), EINVAL);
    EXPECT_EQ(ErrorOf(FUSE_UNLINK, kRoot, b.bytes), EINVAL);
    EXPECT_EQ(ErrorOf(FUSE_RMDIR, kRoot, b.bytes), EINVAL);
    EXPECT_EQ(ErrorOf(FUSE_CREATE, kRoot, Cat(Body(fuse_create_in{O_RDWR, 0600, 0, 0}), b.bytes)),
              EINVAL);
    EXPECT_EQ(ErrorOf(FUSE_LINK, kRoot, Cat(Body(fuse_link_in{kRoot}), b.bytes)), EINVAL);
    EXPECT_EQ(ErrorOf(FUSE_SYMLINK, kRoot, Cat(b.bytes, Name("target"))), EINVAL);
    if (b.label != "unterminated") {  // (an unterminated first name swallows the second)
      EXPECT_EQ(ErrorOf(FUSE_RENAME, kRoot, Cat(Cat(Body(fuse_rename_in{kRoot}), b.bytes), good)),
                EINVAL);
      EXPECT_EQ(ErrorOf(FUSE_RENAME2, kRoot,
                        Cat(Cat(Body(fuse_rename2_in{kRoot, 0, 0}), b.bytes), good)),
                EINVAL);
    }
    EXPECT_EQ(ErrorOf(FUSE_RENAME, kRoot, Cat(Cat(Body(fuse_rename_in{kRoot}), Name("a")), b.bytes)),
              EINVAL);
    EXPECT_EQ(ErrorOf(FUSE_RENAME2, kRoot,
                      Cat(Cat(Body(fuse_rename2_in{kRoot, 0, 0}), Name("a")), b.bytes)),
              EINVAL);
  }
  // Symlink targets: empty, unterminated, PATH_MAX bytes.
  EXPECT_EQ(ErrorOf(FUSE_SYMLINK, kRoot, Cat(Name("l"), Name(""))), EINVAL);
  EXPECT_EQ(ErrorOf(FUSE_SYMLINK, kRoot, Cat(Name("l"), Bytes("target"))), EINVAL);
  EXPECT_EQ(ErrorOf(FUSE_SYMLINK, kRoot, Cat(Name("l"), Name(std::string(PATH_MAX, 't')))),
            EINVAL);
  // RENAME2 flags nobody defined.
  EXPECT_EQ(ErrorOf(FUSE_RENAME2, kRoot,
                    Cat(Cat(Body(fuse_rename2_in{kRoot, 0x80000000u, 0}), Name("a")), good)),
            EINVAL);
  EXPECT_EQ(ShareEntries(), before) << "a bad name changed the share";
  ExpectBothQueuesServe();
}

// --- node ids --------------------------------------------------------------------

TEST_F(FuseTest, NodeIdsNeverIssuedOrForgotten) {
  const auto before = ShareEntries();
  std::vector<uint64_t> ids(std::begin(kNeverIssued), std::end(kNeverIssued));
  // Forgotten: looked up, then FORGET of every lookup.
  uint64_t a = LookupId(kRoot, "a");
  ASSERT_TRUE(fc_->Forget(a, 1).ok());
  ids.push_back(a);
  // Forgotten, and its slot reused by another inode.
  uint64_t b = LookupId(kRoot, "b");
  ASSERT_TRUE(fc_->Forget(b, 1).ok());
  uint64_t d = LookupId(kRoot, "d");
  if (d != b) ids.push_back(b);
  // An issued id with another generation.
  ids.push_back(d ^ (1ull << 40));

  const std::set<int> refused = {ENOENT, ESTALE, EBADF};
  for (uint64_t id : ids) {
    SCOPED_TRACE(id);
    std::vector<std::pair<uint32_t, std::vector<uint8_t>>> ops = {
        {FUSE_GETATTR, Body(fuse_getattr_in{})},
        {FUSE_SETATTR, Body(fuse_setattr_in{})},
        {FUSE_READLINK, {}},
        {FUSE_LOOKUP, Name("a")},
        {FUSE_MKDIR, Cat(Body(fuse_mkdir_in{0700, 0}), Name("x"))},
        {FUSE_MKNOD, Cat(Body(fuse_mknod_in{S_IFREG | 0600, 0, 0, 0}), Name("x"))},
        {FUSE_SYMLINK, Cat(Name("x"), Name("t"))},
        {FUSE_CREATE, Cat(Body(fuse_create_in{O_RDWR, 0600, 0, 0}), Name("x"))},
        {FUSE_TMPFILE, Body(fuse_create_in{O_RDWR, 0600, 0, 0})},
        {FUSE_UNLINK, Name("a")},
        {FUSE_RMDIR, Name("d")},
        {FUSE_RENAME, Cat(Cat(Body(fuse_rename_in{kRoot}), Name("a")), Name("x"))},
        {FUSE_LINK, Cat(Body(fuse_link_in{kRoot}), Name("x"))},
        {FUSE_OPEN, Body(fuse_open_in{O_RDONLY, 0})},
        {FUSE_OPENDIR, Body(fuse_open_in{O_RDONLY, 0})},
        {FUSE_STATFS, {}},
        {FUSE_ACCESS, Body(fuse_access_in{R_OK, 0})},
        {FUSE_GETXATTR, Cat(Body(fuse_getxattr_in{64, 0}), Name("user.x"))},
        {FUSE_LISTXATTR, Body(fuse_getxattr_in{64, 0})},
        {FUSE_SETXATTR, Cat(Cat(std::vector<uint8_t>(8, 0), Name("user.x")), {})},
        {FUSE_REMOVEXATTR, Name("user.x")},
        {FUSE_SYNCFS, Body(fuse_syncfs_in{})},
        {FUSE_READ, Body(fuse_read_in{1, 0, 64, 0, 0, 0, 0})},
        {FUSE_READDIR, Body(fuse_read_in{1, 0, 64, 0, 0, 0, 0})},
    };
    for (auto& [op, body] : ops) {
      int err = ErrorOf(op, id, body);
      EXPECT_TRUE(refused.count(err)) << "opcode " << op << " got " << err;
    }
    // As the other node of a two-node request.
    EXPECT_TRUE(refused.count(ErrorOf(
        FUSE_RENAME, kRoot, Cat(Cat(Body(fuse_rename_in{id}), Name("a")), Name("x")))));
    EXPECT_TRUE(refused.count(ErrorOf(FUSE_LINK, kRoot, Cat(Body(fuse_link_in{id}), Name("x")))));
    fuse_copy_file_range_in cfr{};
    cfr.nodeid_out = id;
    EXPECT_TRUE(refused.count(ErrorOf(FUSE_COPY_FILE_RANGE, kRoot, Body(cfr))));
    // FORGET / BATCH_FORGET of them: ignored, no reply.
    auto len = fc_->Forget(id, 1000);
    ASSERT_TRUE(len.ok());
    EXPECT_EQ(*len, 0u);
    fuse_forget_one one{id, ~0ull};
    auto r = fc_->Call(FUSE_BATCH_FORGET, 0, Cat(Body(fuse_batch_forget_in{1, 0}), Body(one)),
                       4096, kHiprio);
    ASSERT_TRUE(r.ok());
    EXPECT_EQ(r->used_len, 0u);
  }
  EXPECT_EQ(ShareEntries(), before);
  ExpectBothQueuesServe();
  EXPECT_TRUE(fc_->GetAttr(d).ok());
}

TEST_F(FuseTest, ForgetAndBatchForgetOverCounts) {
  uint64_t a = LookupId(kRoot, "a");
  ASSERT_EQ(LookupId(kRoot, "a"), a);
  auto len = fc_->Forget(a, ~0ull);  // 2 lookups, forget 2^64-1
  ASSERT_TRUE(len.ok());
  EXPECT_EQ(*len, 0u);
  auto gone = fc_->GetAttr(a);
  ASSERT_FALSE(gone.ok());
  EXPECT_TRUE(gone.error() == ESTALE || gone.error() == ENOENT);
  // The root cannot be forgotten away.
  ASSERT_TRUE(fc_->Forget(kRoot, ~0ull).ok());
  ExpectBothQueuesServe();

  // BATCH_FORGET: one node many times over, the root, ids never issued.
  uint64_t b = LookupId(kRoot, "b");
  std::vector<uint8_t> batch = Body(fuse_batch_forget_in{300, 0});
  for (int i = 0; i < 300; ++i) {
    fuse_forget_one one{i % 3 == 0 ? b : i % 3 == 1 ? kRoot : 0xdead0000ull + i, ~0ull - i};
    batch = Cat(batch, Body(one));
  }
  auto r = fc_->Call(FUSE_BATCH_FORGET, 0, batch, 0, kHiprio);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->used_len, 0u);
  EXPECT_FALSE(fc_->GetAttr(b).ok());
  ExpectBothQueuesServe();

  // A count the request does not carry: the batch is dropped whole.
  uint64_t d = LookupId(kRoot, "d");
  fuse_forget_one one{d, 1};
  for (uint32_t count : {2u, 1000u, 0x0fffffffu, 0xffffffffu}) {
    r = fc_->Call(FUSE_BATCH_FORGET, 0, Cat(Body(fuse_batch_forget_in{count, 0}), Body(one)), 0,
                  kHiprio);
    ASSERT_TRUE(r.ok());
    EXPECT_EQ(r->used_len, 0u);
  }
  EXPECT_TRUE(fc_->GetAttr(d).ok()) << "a malformed batch forgot a node";
  ExpectBothQueuesServe();
}

TEST_F(FuseTest, InterruptOfUnknownAndFinishedRequests) {
  ExpectServes();
  const uint64_t finished = fc_->last_unique();
  for (uint64_t target : {finished, uint64_t{0}, uint64_t{123456789}, UINT64_MAX}) {
    for (uint32_t q : {kHiprio, kQ1, kQ2}) {
      auto r = fc_->Call(FUSE_INTERRUPT, 0, Body(fuse_interrupt_in{target}), 4096, q);
      ASSERT_TRUE(r.ok());
      EXPECT_EQ(r->used_len, 0u) << "INTERRUPT got a reply";
    }
  }
  // INTERRUPT of itself.
  auto req = fc_->BuildRequest(FUSE_INTERRUPT, 0, Body(fuse_interrupt_in{fc_->last_unique() + 1}));
  auto c = fe_->Submit(kQ1, req, 4096);
  ASSERT_TRUE(c.ok());
  EXPECT_EQ(c->len, 0u);
  ExpectBothQueuesServe();
}

// --- handles ----------------------------------------------------------------------

TEST_F(FuseTest, HandlesOfAnotherInode) {
  uint64_t a = LookupId(kRoot, "a");
  uint64_t b = LookupId(kRoot, "b");
  uint64_t d = LookupId(kRoot, "d");
  auto fa = fc_->Open(a, O_RDWR);
  ASSERT_TRUE(fa.ok());
  auto fb = fc_->Open(b, O_RDWR);
  ASSERT_TRUE(fb.ok());
  auto dh = fc_->OpenDir(d);
  ASSERT_TRUE(dh.ok());
  const uint64_t fh = fa->fh;

  fuse_read_in rd{fh, 0, 4096, 0, 0, 0, 0};
  fuse_write_in wr{};
  wr.fh = fh;
  wr.size = 4;
  fuse_getattr_in ga{};
  ga.getattr_flags = FUSE_GETATTR_FH;
  ga.fh = fh;
  fuse_setattr_in sa{};
  sa.valid = FATTR_FH | FATTR_SIZE;
  sa.fh = fh;
  sa.size = 0;
  fuse_lseek_in ls{};
  ls.fh = fh;
  ls.whence = SEEK_END;
  fuse_fallocate_in fa_in{};
  fa_in.fh = fh;
  fa_in.length = 4096;
  fuse_flush_in fl{};
  fl.fh = fh;
  fuse_fsync_in fs{};
  fs.fh = fh;
  fuse_release_in rel{};
  rel.fh = fh;
  // Another file's node, a directory, the root: all refuse a's handle.
  for (uint64_t node : {b, d, kRoot}) {
    SCOPED_TRACE(node);
    EXPECT_EQ(ErrorOf(FUSE_READ, node, Body(rd)), EBADF);
    EXPECT_EQ(ErrorOf(FUSE_WRITE, node, Cat(Body(wr), Bytes("XXXX"))), EBADF);
    EXPECT_EQ(ErrorOf(FUSE_GETATTR, node, Body(ga)), EBADF);
    EXPECT_EQ(ErrorOf(FUSE_SETATTR, node, Body(sa)), EBADF);
    EXPECT_EQ(ErrorOf(FUSE_LSEEK, node, Body(ls)), EBADF);
    EXPECT_EQ(ErrorOf(FUSE_FALLOCATE, node, Body(fa_in)), EBADF);
    EXPECT_EQ(ErrorOf(FUSE_FLUSH, node, Body(fl)), EBADF);
    EXPECT_EQ(ErrorOf(FUSE_FSYNC, node, Body(fs)), EBADF);
    EXPECT_EQ(ErrorOf(FUSE_READDIR, node, Body(rd)), EBADF);
    EXPECT_EQ(ErrorOf(FUSE_READDIRPLUS, node, Body(rd)), EBADF);
    EXPECT_EQ(ErrorOf(FUSE_FSYNCDIR, node, Body(fs)), EBADF);
    EXPECT_EQ(ErrorOf(FUSE_RELEASE, node, Body(rel)), EBADF);
    EXPECT_EQ(ErrorOf(FUSE_RELEASEDIR, node, Body(rel)), EBADF);
  }
  // A file handle is not a directory handle on its own node either, nor the reverse.
  EXPECT_EQ(ErrorOf(FUSE_READDIR, a, Body(rd)), EBADF);
  EXPECT_EQ(ErrorOf(FUSE_RELEASEDIR, a, Body(rel)), EBADF);
  fuse_read_in drd{dh->fh, 0, 4096, 0, 0, 0, 0};
  EXPECT_EQ(ErrorOf(FUSE_READ, d, Body(drd)), EBADF);
  EXPECT_EQ(ErrorOf(FUSE_READDIR, a, Body(drd)), EBADF);
  // COPY_FILE_RANGE with one side's handle on the wrong node.
  fuse_copy_file_range_in cfr{};
  cfr.fh_in = fh;
  cfr.nodeid_out = b;
  cfr.fh_out = fh;
  cfr.len = 4;
  EXPECT_EQ(ErrorOf(FUSE_COPY_FILE_RANGE, a, Body(cfr)), EBADF);
  cfr.fh_out = fb->fh;
  EXPECT_EQ(ErrorOf(FUSE_COPY_FILE_RANGE, b, Body(cfr)), EBADF);
  // Handles that were never issued.
  for (uint64_t h : {uint64_t{0}, uint64_t{1}, uint64_t{15}, uint64_t{0xfffff0}, UINT64_MAX,
                     fh ^ (uint64_t{1} << 33)}) {
    fuse_read_in r2{h, 0, 64, 0, 0, 0, 0};
    EXPECT_EQ(ErrorOf(FUSE_READ, a, Body(r2)), EBADF) << h;
    EXPECT_EQ(ErrorOf(FUSE_READDIR, d, Body(r2)), EBADF) << h;
  }
  // Nothing was written or truncated, and a's handle still works on a.
  EXPECT_EQ(ReadHostFile(share_ / "a"), "aaaa");
  EXPECT_EQ(ReadHostFile(share_ / "b"), "bbbbbbbb");
  auto data = fc_->Read(a, fh, 0, 16);
  ASSERT_TRUE(data.ok());
  EXPECT_EQ(*data, Bytes("aaaa"));
  // A released handle is dead, even once its slot is reused.
  ASSERT_TRUE(fc_->Release(a, fh).ok());
  EXPECT_EQ(ErrorOf(FUSE_READ, a, Body(rd)), EBADF);
  EXPECT_EQ(ErrorOf(FUSE_RELEASE, a, Body(rel)), EBADF);
  auto again = fc_->Open(a, O_RDONLY);
  ASSERT_TRUE(again.ok());
  if (again->fh != fh) {
    EXPECT_EQ(ErrorOf(FUSE_READ, a, Body(rd)), EBADF);
  }
  ExpectBothQueuesServe();
}

// --- sizes -------------------------------------------------------------------------

TEST_F(FuseTest, ReadWriteReaddirSizesOf4GiBMinus1) {
  MallocGuard guard;
  MallocGuard::IgnoreThisThread();
  uint64_t a = LookupId(kRoot, "a");
  auto fa = fc_->Open(a, O_RDWR);
  ASSERT_TRUE(fa.ok());
  auto dh = fc_->OpenDir(kRoot);
  ASSERT_TRUE(dh.ok());
  guard.Arm();
  // READ: as much as the file has and the reply buffer holds.
  auto r = fc_->Call(FUSE_READ, a, Body(fuse_read_in{fa->fh, 0, 0xffffffffu, 0, 0, 0, 0}));
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->error, 0);
  EXPECT_EQ(r->body, Bytes("aaaa"));
  r = fc_->Call(FUSE_READ, a, Body(fuse_read_in{fa->fh, ~0ull, 0xffffffffu, 0, 0, 0, 0}));
  ASSERT_TRUE(r.ok());
  EXPECT_NE(r->error, 0);
  // WRITE: claims 4 GiB - 1, carries 4 bytes.
  fuse_write_in w{};
  w.fh = fa->fh;
  w.size = 0xffffffffu;
  EXPECT_EQ(ErrorOf(FUSE_WRITE, a, Cat(Body(w), Bytes("XXXX"))), EINVAL);
  // READDIR / READDIRPLUS: bounded by the reply buffer.
  for (uint32_t op : {uint32_t{FUSE_READDIR}, uint32_t{FUSE_READDIRPLUS}}) {
    r = fc_->Call(op, kRoot, Body(fuse_read_in{dh->fh, 0, 0xffffffffu, 0, 0, 0, 0}));
    ASSERT_TRUE(r.ok());
    EXPECT_EQ(r->error, 0);
    EXPECT_GT(r->body.size(), 0u);
  }
  // SETATTR size beyond off_t, COPY_FILE_RANGE of 2^64-1 bytes.
  fuse_setattr_in sa{};
  sa.valid = FATTR_SIZE;
  sa.size = ~0ull;
  EXPECT_EQ(ErrorOf(FUSE_SETATTR, a, Body(sa)), EINVAL);
  fuse_copy_file_range_in cfr{};
  cfr.fh_in = fa->fh;
  cfr.nodeid_out = a;
  cfr.fh_out = fa->fh;
  cfr.off_out = 1 << 20;
  cfr.len = ~0ull;
  r = fc_->Call(FUSE_COPY_FILE_RANGE, a, Body(cfr));
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->error, 0);
  size_t biggest = guard.Disarm();
  ASSERT_TRUE(guard.exact() || !HS_MALLOC_GUARD_EXPECTED);
  printf("largest daemon allocation: %zu bytes\n", biggest);
  EXPECT_LT(biggest, size_t{128} << 10) << "a guest-chosen size became an allocation";
  EXPECT_EQ(ReadHostFile(share_ / "a").substr(0, 4), "aaaa");
  ExpectBothQueuesServe();
}

TEST_F(FuseTest, XattrNamesAndValuesOf0And64KiBPlus) {
  MallocGuard guard;
  MallocGuard::IgnoreThisThread();
  uint64_t a = LookupId(kRoot, "a");
  auto setx = [&](const std::vector<uint8_t>& name, uint32_t size, size_t carried) {
    std::vector<uint8_t> in(8, 0);
    memcpy(in.data(), &size, 4);
    return ErrorOf(FUSE_SETXATTR, a, Cat(Cat(in, name), std::vector<uint8_t>(carried, 'v')));
  };
  guard.Arm();
  // Names: empty, unterminated, XATTR_NAME_MAX + 1.
  EXPECT_EQ(setx(Name(""), 1, 1), EINVAL);
  EXPECT_EQ(setx(Bytes("user.x"), 0, 0), EINVAL);
  EXPECT_EQ(setx(Name("user." + std::string(XATTR_NAME_MAX, 'n')), 1, 1), EINVAL);
  EXPECT_EQ(ErrorOf(FUSE_GETXATTR, a, Cat(Body(fuse_getxattr_in{64, 0}), Name(""))), EINVAL);
  EXPECT_EQ(ErrorOf(FUSE_REMOVEXATTR, a, Name(std::string(XATTR_NAME_MAX + 1, 'n'))), EINVAL);
  // Values: 0 bytes is a value; 64 KiB is the most there is (the host may
  // refuse it: ext4 keeps values in one block); 64 KiB + 1 is malformed, and
  // so is a size the request does not carry.
  EXPECT_EQ(setx(Name("user.empty"), 0, 0), 0);
  int big = setx(Name("user.big"), XATTR_SIZE_MAX, XATTR_SIZE_MAX);
  EXPECT_TRUE(big == 0 || big == ENOSPC || big == E2BIG || big == ERANGE) << big;
  EXPECT_EQ(setx(Name("user.big"), XATTR_SIZE_MAX + 1, XATTR_SIZE_MAX + 1), EINVAL);
  EXPECT_EQ(setx(Name("user.big"), 0xffffffffu, 16), EINVAL);
  EXPECT_EQ(setx(Name("user.big"), 100, 99), EINVAL);
  EXPECT_EQ(setx(Name("user.val"), 10, 10), 0);
  // GETXATTR / LISTXATTR: size 0 asks for the size; 4 GiB - 1 is bounded by
  // the reply room; less room than the value is ERANGE.
  auto r = fc_->Call(FUSE_GETXATTR, a, Cat(Body(fuse_getxattr_in{0, 0}), Name("user.val")));
  ASSERT_TRUE(r.ok());
  ASSERT_EQ(r->error, 0);
  ASSERT_EQ(r->body.size(), sizeof(fuse_getxattr_out));
  EXPECT_EQ(reinterpret_cast<fuse_getxattr_out*>(r->body.data())->size, 10u);
  r = fc_->Call(FUSE_GETXATTR, a, Cat(Body(fuse_getxattr_in{0xffffffffu, 0}), Name("user.val")));
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->error, 0);
  EXPECT_EQ(r->body, std::vector<uint8_t>(10, 'v'));
  r = fc_->Call(FUSE_GETXATTR, a, Cat(Body(fuse_getxattr_in{0xffffffffu, 0}), Name("user.val")),
                sizeof(fuse_out_header) + 4);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->error, ERANGE);
  r = fc_->Call(FUSE_GETXATTR, a, Cat(Body(fuse_getxattr_in{0xffffffffu, 0}), Name("user.empty")));
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->error, 0);
  EXPECT_TRUE(r->body.empty());
  for (uint32_t size : {0u, 1u, 0xffffffffu}) {
    r = fc_->Call(FUSE_LISTXATTR, a, Body(fuse_getxattr_in{size, 0}));
    ASSERT_TRUE(r.ok());
    if (size == 1) {
      EXPECT_EQ(r->error, ERANGE);
    } else {
      EXPECT_EQ(r->error, 0);
    }
  }
  size_t biggest = guard.Disarm();
  ASSERT_TRUE(guard.exact() || !HS_MALLOC_GUARD_EXPECTED);
  printf("largest daemon allocation: %zu bytes\n", biggest);
  // The one legitimate buffer: a 64 KiB value copied out of the request.
  EXPECT_LT(biggest, size_t{128} << 10) << "a guest-chosen xattr size became an allocation";
  ExpectBothQueuesServe();
}

}  // namespace
}  // namespace hostshare::hostile
