// GETATTR, SETATTR, ACCESS.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <linux/fuse.h>
#include <sys/stat.h>
#include <unistd.h>

#include "pt_test_util.h"

namespace hostshare::fs {
namespace {

using testing::PtTest;
using testing::UserCtx;
constexpr fuse::NodeId kRoot = fuse::kRootNodeId;

class AttrsTest : public PtTest {};

TEST_F(AttrsTest, GetAttrWithAndWithoutHandle) {
  HostWrite("f", "12345");
  HostWrite("g", "");
  fuse::NodeId f = LookupNode(kRoot, "f");
  fuse::NodeId g = LookupNode(kRoot, "g");
  auto a = fs_->GetAttr(ctx_, f, nullptr);
  ASSERT_OK(a);
  EXPECT_EQ(a->st.st_size, 5);
  fuse::Handle h = OpenHandle(f, O_RDONLY);
  auto b = fs_->GetAttr(ctx_, f, &h);
  ASSERT_OK(b);
  EXPECT_EQ(b->st.st_ino, a->st.st_ino);
  EXPECT_ERRNO(fs_->GetAttr(ctx_, g, &h), EBADF);  // another inode's handle
  fuse::Handle bogus = 0xdead;
  EXPECT_ERRNO(fs_->GetAttr(ctx_, f, &bogus), EBADF);
  auto root = fs_->GetAttr(ctx_, kRoot, nullptr);
  ASSERT_OK(root);
  EXPECT_TRUE(S_ISDIR(root->st.st_mode));
  auto od = fs_->OpenDir(ctx_, kRoot, O_RDONLY);
  ASSERT_OK(od);
  fuse::Handle dh = od->handle;
  auto via_dir = fs_->GetAttr(ctx_, kRoot, &dh);
  ASSERT_OK(via_dir);
  EXPECT_EQ(via_dir->st.st_ino, root->st.st_ino);
  EXPECT_ERRNO(fs_->GetAttr(ctx_, f, &dh), EBADF);
}

TEST_F(AttrsTest, SetModeOwnerSizeTimes) {
  HostWrite("f", "0123456789");
  fuse::NodeId f = LookupNode(kRoot, "f");
  fuse::SetAttrIn in;
  in.valid = FATTR_MODE;
  in.mode = S_IFREG | 0600;
  auto a = fs_->SetAttr(ctx_, f, in);
  ASSERT_OK(a);
  EXPECT_EQ(a->st.st_mode & 07777, 0600u);
  EXPECT_EQ(HostLstat("f").st_mode & 07777, 0600u);

  in = {};
  in.valid = FATTR_UID | FATTR_GID;
  in.uid = 1234;
  in.gid = 4321;
  ASSERT_OK(fs_->SetAttr(ctx_, f, in));
  EXPECT_EQ(HostLstat("f").st_uid, 1234u);
  EXPECT_EQ(HostLstat("f").st_gid, 4321u);
  in.valid = FATTR_GID;  // uid untouched
  in.gid = 0;
  ASSERT_OK(fs_->SetAttr(ctx_, f, in));
  EXPECT_EQ(HostLstat("f").st_uid, 1234u);
  EXPECT_EQ(HostLstat("f").st_gid, 0u);

  in = {};
  in.valid = FATTR_SIZE;
  in.size = 3;
  a = fs_->SetAttr(ctx_, f, in);
  ASSERT_OK(a);
  EXPECT_EQ(a->st.st_size, 3);
  fuse::Handle h = OpenHandle(f, O_RDWR);
  in.valid = FATTR_SIZE | FATTR_FH;
  in.handle = h;
  in.size = 7;
  a = fs_->SetAttr(ctx_, f, in);
  ASSERT_OK(a);
  EXPECT_EQ(HostLstat("f").st_size, 7);
  in.size = uint64_t{1} << 63;
  EXPECT_ERRNO(fs_->SetAttr(ctx_, f, in), EINVAL);

  in = {};
  in.valid = FATTR_ATIME | FATTR_MTIME;
  in.atime = {1000, 5};
  in.mtime = {2000, 7};
  ASSERT_OK(fs_->SetAttr(ctx_, f, in));
  struct stat st = HostLstat("f");
  EXPECT_EQ(st.st_atim.tv_sec, 1000);
  EXPECT_EQ(st.st_atim.tv_nsec, 5);
  EXPECT_EQ(st.st_mtim.tv_sec, 2000);
  in.valid = FATTR_MTIME | FATTR_MTIME_NOW;  // atime untouched
  in.mtime = {0, UTIME_NOW};
  ASSERT_OK(fs_->SetAttr(ctx_, f, in));
  st = HostLstat("f");
  EXPECT_EQ(st.st_atim.tv_sec, 1000);
  EXPECT_GT(st.st_mtim.tv_sec, 2000);
  in.valid = FATTR_ATIME | FATTR_FH;  // through the handle
  in.handle = h;
  in.atime = {3000, 0};
  ASSERT_OK(fs_->SetAttr(ctx_, f, in));
  EXPECT_EQ(HostLstat("f").st_atim.tv_sec, 3000);
}

TEST_F(AttrsTest, SetAttrErrors) {
  HostWrite("f", "x");
  HostWrite("g", "x");
  mkdir(Host("d").c_str(), 0755);
  mkfifo(Host("p").c_str(), 0644);
  symlink("f", Host("l").c_str());
  fuse::NodeId f = LookupNode(kRoot, "f");
  fuse::NodeId g = LookupNode(kRoot, "g");
  fuse::NodeId d = LookupNode(kRoot, "d");
  fuse::NodeId p = LookupNode(kRoot, "p");
  fuse::NodeId l = LookupNode(kRoot, "l");
  fuse::SetAttrIn in;
  in.valid = FATTR_SIZE;
  EXPECT_ERRNO(fs_->SetAttr(ctx_, d, in), EISDIR);
  EXPECT_ERRNO(fs_->SetAttr(ctx_, p, in), EINVAL);  // never opens the FIFO
  EXPECT_ERRNO(fs_->SetAttr(ctx_, l, in), EINVAL);
  EXPECT_EQ(HostLstat("f").st_size, 1);
  in.valid = FATTR_MODE;
  in.mode = 0777;
  EXPECT_ERRNO(fs_->SetAttr(ctx_, l, in), EOPNOTSUPP);  // Linux has no chmod of a symlink
  EXPECT_EQ(HostLstat("f").st_mode & 07777, 0644u);
  in.valid = FATTR_SIZE | FATTR_FH;
  in.handle = OpenHandle(g, O_RDWR);
  EXPECT_ERRNO(fs_->SetAttr(ctx_, f, in), EBADF);  // g's handle on f
  EXPECT_ERRNO(fs_->SetAttr(ctx_, 999999, in), ENOENT);
  // Nothing to change is fine and just reports attributes.
  in = {};
  EXPECT_OK(fs_->SetAttr(ctx_, f, in));
}

TEST_F(AttrsTest, KillSuidGidOnTruncateAndChown) {
  HostWrite("f", "x");
  chmod(Host("f").c_str(), 06755);
  fuse::NodeId f = LookupNode(kRoot, "f");
  fuse::SetAttrIn in;
  in.valid = FATTR_SIZE | FATTR_KILL_SUIDGID;
  in.kill_suidgid = true;
  in.size = 0;
  ASSERT_OK(fs_->SetAttr(ctx_, f, in));
  EXPECT_EQ(HostLstat("f").st_mode & 07777, 0755u);
  // Without the kill flag the bits stay (the daemon has CAP_FSETID).
  chmod(Host("f").c_str(), 06755);
  in.valid = FATTR_SIZE;
  in.kill_suidgid = false;
  ASSERT_OK(fs_->SetAttr(ctx_, f, in));
  EXPECT_EQ(HostLstat("f").st_mode & 07777, 06755u);
  // setgid without group-exec is a mandatory-lock marker: kept.
  chmod(Host("f").c_str(), 02644);
  in.valid = FATTR_SIZE | FATTR_KILL_SUIDGID;
  in.kill_suidgid = true;
  ASSERT_OK(fs_->SetAttr(ctx_, f, in));
  EXPECT_EQ(HostLstat("f").st_mode & 07777, 02644u);
}

TEST_F(AttrsTest, Access) {
  HostWrite("secret", "x", 0600);
  HostWrite("public", "x", 0644);
  fuse::NodeId s = LookupNode(kRoot, "secret");
  fuse::NodeId p = LookupNode(kRoot, "public");
  EXPECT_OK(fs_->Access(ctx_, s, R_OK | W_OK));
  EXPECT_OK(fs_->Access(ctx_, s, F_OK));
  EXPECT_ERRNO(fs_->Access(ctx_, s, 0x80), EINVAL);
  if (geteuid() != 0) GTEST_SKIP() << "needs root to switch credentials";
  EXPECT_ERRNO(fs_->Access(UserCtx(), s, R_OK), EACCES);
  EXPECT_OK(fs_->Access(UserCtx(), p, R_OK));
  EXPECT_ERRNO(fs_->Access(UserCtx(), p, W_OK), EACCES);
  EXPECT_ERRNO(fs_->Access(UserCtx(), p, X_OK), EACCES);
  EXPECT_OK(fs_->Access(UserCtx(), kRoot, X_OK));
}

}  // namespace
}  // namespace hostshare::fs
