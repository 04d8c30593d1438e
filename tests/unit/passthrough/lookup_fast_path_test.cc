// The one-syscall lookup of an inode the table already holds (LOOKUP and
// READDIRPLUS stat the name and reuse the entry), and that it never hands
// out a stale or covered inode.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

#include <string>

#include "fs/passthrough/inode_table.h"
#include "pt_test_util.h"

namespace hostshare::fs {
namespace {

using testing::PtTest;
using testing::VecSink;
constexpr fuse::NodeId kRoot = fuse::kRootNodeId;

TEST(InodeTableRefTest, RefCountsOnlyLiveKeys) {
  InodeTable t;
  ASSERT_OK(t.SetRoot(ScopedFd(open("/", O_PATH | O_CLOEXEC)), InodeKey{1, 1, 0}, S_IFDIR));
  const InodeKey key{7, 42, 3};
  EXPECT_FALSE(t.Contains(key));
  EXPECT_ERRNO(t.Ref(key), ENOENT);
  auto ins = t.Insert(ScopedFd(open("/", O_PATH | O_CLOEXEC)), key, S_IFREG);
  ASSERT_OK(ins);
  EXPECT_TRUE(t.Contains(key));
  EXPECT_FALSE(t.Contains(InodeKey{7, 42, 4}));  // other mount
  auto ref = t.Ref(key);
  ASSERT_OK(ref);
  EXPECT_EQ(ref->id, ins->id);
  EXPECT_EQ(ref->generation, ins->generation);
  EXPECT_EQ(t.LookupCount(ins->id), 2u);
  t.Forget(ins->id, 2);
  EXPECT_FALSE(t.Contains(key));
  EXPECT_ERRNO(t.Ref(key), ENOENT);
  EXPECT_TRUE(t.Contains(InodeKey{1, 1, 0}));  // the root
}

class LookupFastPathTest : public PtTest {};

TEST_F(LookupFastPathTest, SecondLookupReusesTheNodeWithFreshAttrs) {
  HostWrite("f", "abc");
  auto a = fs_->Lookup(ctx_, kRoot, "f");
  ASSERT_OK(a);
  HostWrite("f", "abcdef");  // same inode, new size
  auto b = fs_->Lookup(ctx_, kRoot, "f");
  ASSERT_OK(b);
  EXPECT_EQ(a->node, b->node);
  EXPECT_EQ(a->generation, b->generation);
  EXPECT_EQ(b->attr.st.st_size, 6);
  EXPECT_EQ(b->attr.st.st_ino, HostLstat("f").st_ino);
  EXPECT_EQ(fs_->LookupCount(a->node), 2u);
  EXPECT_EQ(fs_->InodeCount(), 2u);  // root + f
}

TEST_F(LookupFastPathTest, ReplacedNameIsANewNode) {
  HostWrite("f", "old");
  fuse::NodeId old_node = LookupNode(kRoot, "f");
  ASSERT_EQ(rename(Host("f").c_str(), Host("kept").c_str()), 0);  // old inode stays alive
  HostWrite("f", "new!");
  auto e = fs_->Lookup(ctx_, kRoot, "f");
  ASSERT_OK(e);
  EXPECT_NE(e->node, old_node);
  EXPECT_EQ(e->attr.st.st_size, 4);
  EXPECT_EQ(fs_->LookupCount(old_node), 1u);
  // The old node still names the old inode.
  auto st = fs_->GetAttr(ctx_, old_node, nullptr);
  ASSERT_OK(st);
  EXPECT_EQ(st->st.st_ino, HostLstat("kept").st_ino);
}

TEST_F(LookupFastPathTest, ForgottenInodeIsLookedUpAfresh) {
  HostWrite("f", "x");
  fuse::NodeId n = LookupNode(kRoot, "f");
  fs_->Forget(n, 1);
  EXPECT_EQ(fs_->InodeCount(), 1u);
  fuse::NodeId m = LookupNode(kRoot, "f");
  EXPECT_NE(m, n);  // a new generation (or slot): the stale id stays stale
  EXPECT_ERRNO(fs_->GetAttr(ctx_, n, nullptr), ESTALE);
  EXPECT_EQ(fs_->LookupCount(m), 1u);
}

TEST_F(LookupFastPathTest, SymlinkIsNotFollowed) {
  ASSERT_EQ(symlink("f", Host("ln").c_str()), 0);
  HostWrite("f", "target");
  fuse::NodeId f = LookupNode(kRoot, "f");
  auto a = fs_->Lookup(ctx_, kRoot, "ln");
  ASSERT_OK(a);
  auto b = fs_->Lookup(ctx_, kRoot, "ln");  // the fast path
  ASSERT_OK(b);
  EXPECT_EQ(a->node, b->node);
  EXPECT_NE(b->node, f);
  EXPECT_TRUE(S_ISLNK(b->attr.st.st_mode));
}

TEST_F(LookupFastPathTest, ReadDirPlusAgreesWithLookupAndCounts) {
  mkdir(Host("d").c_str(), 0755);
  for (int i = 0; i < 10; ++i) HostWrite("d/f" + std::to_string(i), "x");
  fuse::NodeId d = LookupNode(kRoot, "d");
  fuse::NodeId f3 = LookupNode(d, "f3");
  auto o = fs_->OpenDir(ctx_, d, O_RDONLY);
  ASSERT_OK(o);
  for (int pass = 0; pass < 2; ++pass) {  // cold, then warm
    VecSink sink(/*plus=*/true);
    ASSERT_OK(fs_->ReadDir(ctx_, d, o->handle, 0, 1 << 16, sink));
    const auto* it = sink.Find("f3");
    ASSERT_NE(it, nullptr);
    EXPECT_EQ(it->entry.node, f3);
    EXPECT_EQ(it->entry.attr.st.st_ino, HostLstat("d/f3").st_ino);
    EXPECT_EQ(fs_->LookupCount(f3), 2u + pass);
    EXPECT_EQ(fs_->InodeCount(), 12u);  // root, d, f0..f9
  }
}

TEST_F(LookupFastPathTest, MountPointIsNotConfusedWithTheCoveredDirectory) {
  mkdir(Host("d").c_str(), 0755);
  mkdir(Host("d/mnt").c_str(), 0755);
  fuse::NodeId d = LookupNode(kRoot, "d");
  fuse::NodeId covered = LookupNode(d, "mnt");
  if (mount("hs-test", Host("d/mnt").c_str(), "tmpfs", 0, "size=1m") != 0) {
    GTEST_SKIP() << "cannot mount tmpfs: " << strerror(errno);
  }
  struct stat top;
  ASSERT_EQ(lstat(Host("d/mnt").c_str(), &top), 0);
  auto e = fs_->Lookup(ctx_, d, "mnt");
  auto o = fs_->OpenDir(ctx_, d, O_RDONLY);
  VecSink sink(/*plus=*/true);
  Status rd = o.ok() ? fs_->ReadDir(ctx_, d, o->handle, 0, 1 << 16, sink) : Status(Errno{EIO});
  umount2(Host("d/mnt").c_str(), MNT_DETACH);
  ASSERT_OK(e);
  EXPECT_NE(e->node, covered);
  EXPECT_EQ(e->attr.st.st_ino, top.st_ino);
  EXPECT_EQ(e->attr.st.st_dev, top.st_dev);
  ASSERT_OK(rd);
  const auto* it = sink.Find("mnt");
  ASSERT_NE(it, nullptr);
  EXPECT_EQ(it->entry.node, e->node);  // the mounted root, not the covered dir
}

}  // namespace
}  // namespace hostshare::fs
