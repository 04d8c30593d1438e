// Creation and ACCESS run as the guest caller (fsuid/fsgid).
#include "fs/passthrough/credentials.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <thread>

#include "pt_test_util.h"

namespace hostshare::fs {
namespace {

using testing::PtTest;
using testing::UserCtx;
constexpr fuse::NodeId kRoot = fuse::kRootNodeId;

uint32_t FsUid() { return static_cast<uint32_t>(syscall(SYS_setfsuid, -1)); }
uint32_t FsGid() { return static_cast<uint32_t>(syscall(SYS_setfsgid, -1)); }

class CredsTest : public PtTest {
 protected:
  void SetUp() override {
    if (geteuid() != 0) GTEST_SKIP() << "needs root to switch credentials";
    PtTest::SetUp();
    // "closed": root-owned 0755; "open": world-writable; "grp": root group-writable.
    mkdir(Host("closed").c_str(), 0755);
    mkdir(Host("open").c_str(), 0777);
    chmod(Host("open").c_str(), 0777);
    mkdir(Host("grp").c_str(), 0775);
    chmod(Host("grp").c_str(), 0775);
    closed_ = LookupNode(kRoot, "closed");
    open_ = LookupNode(kRoot, "open");
    grp_ = LookupNode(kRoot, "grp");
  }
  fuse::NodeId closed_ = 0, open_ = 0, grp_ = 0;
};

TEST_F(CredsTest, GuardSwitchesAndRestores) {
  {
    auto c = ScopedCreds::Enter(1000, 2000);
    ASSERT_OK(c);
    EXPECT_EQ(FsUid(), 1000u);
    EXPECT_EQ(FsGid(), 2000u);
  }
  EXPECT_EQ(FsUid(), 0u);
  EXPECT_EQ(FsGid(), 0u);
  {
    auto c = ScopedCreds::Enter(0, 0);  // root stays root, nothing switched
    ASSERT_OK(c);
    EXPECT_EQ(FsUid(), 0u);
  }
}

TEST_F(CredsTest, CreateInRootOwnedDirFailsForUser) {
  auto user = UserCtx();
  EXPECT_ERRNO(fs_->Create(user, closed_, "f", 0644, O_RDWR, 0), EACCES);
  EXPECT_ERRNO(fs_->Mkdir(user, closed_, "d", 0755, 0), EACCES);
  EXPECT_ERRNO(fs_->Mknod(user, closed_, "p", S_IFIFO | 0644, 0, 0), EACCES);
  EXPECT_ERRNO(fs_->Symlink(user, closed_, "l", "x"), EACCES);
  EXPECT_ERRNO(fs_->TmpFile(user, closed_, 0600, O_RDWR, 0), EACCES);
  // The caller's own gid counts.
  EXPECT_OK(fs_->Create(UserCtx(1000, 0), grp_, "f", 0644, O_RDWR, 0));
  EXPECT_EQ(FsUid(), 0u);  // restored after failures too
  EXPECT_EQ(FsGid(), 0u);
  // Root may.
  EXPECT_OK(fs_->Create(ctx_, closed_, "f", 0644, O_RDWR, 0));
}

TEST_F(CredsTest, NewObjectsBelongToTheCaller) {
  auto user = UserCtx(1000, 1001);
  auto f = fs_->Create(user, open_, "f", 0644, O_RDWR, 0);
  ASSERT_OK(f);
  EXPECT_EQ(f->entry.attr.st.st_uid, 1000u);
  EXPECT_EQ(f->entry.attr.st.st_gid, 1001u);
  struct stat st = HostLstat("open/f");
  EXPECT_EQ(st.st_uid, 1000u);
  EXPECT_EQ(st.st_gid, 1001u);
  ASSERT_OK(fs_->Mkdir(user, open_, "d", 0755, 0));
  EXPECT_EQ(HostLstat("open/d").st_uid, 1000u);
  ASSERT_OK(fs_->Symlink(user, open_, "l", "f"));
  EXPECT_EQ(HostLstat("open/l").st_uid, 1000u);
  ASSERT_OK(fs_->Mknod(user, open_, "p", S_IFIFO | 0600, 0, 0));
  EXPECT_EQ(HostLstat("open/p").st_uid, 1000u);
  auto t = fs_->TmpFile(user, open_, 0600, O_RDWR, 0);
  ASSERT_OK(t);
  EXPECT_EQ(t->entry.attr.st.st_uid, 1000u);
  // A user cannot make device nodes (CAP_MKNOD is gone with fsuid != 0).
  EXPECT_ERRNO(fs_->Mknod(user, open_, "null", S_IFCHR | 0666, 0x103, 0), EPERM);
}

TEST_F(CredsTest, HostUmaskDoesNotApply) {
  // The guest already applied its umask to `mode`; the host must not mask again.
  std::thread t([&] {
    mode_t old = umask(022);  // whatever the process umask is
    auto f = fs_->Create(ctx_, open_, "wide", 0666, O_RDWR, 0);
    EXPECT_OK(f);
    auto d = fs_->Mkdir(ctx_, open_, "wided", 0777, 0);
    EXPECT_OK(d);
    umask(old);
  });
  t.join();
  EXPECT_EQ(HostLstat("open/wide").st_mode & 07777, 0666u);
  EXPECT_EQ(HostLstat("open/wided").st_mode & 07777, 0777u);
}

int ThreadGroupCount() { return static_cast<int>(syscall(SYS_getgroups, 0, nullptr)); }

// The guest kernel allowed these through a supplementary group the request
// does not carry: the host agrees by lending the directory's group.
TEST_F(CredsTest, CreationThroughTheDirectorysGroup) {
  auto user = UserCtx(1000, 1000);  // not gid 0; "grp" is root:0 0775
  auto f = fs_->Create(user, grp_, "f", 0644, O_RDWR, 0);
  ASSERT_OK(f);
  EXPECT_EQ(f->entry.attr.st.st_uid, 1000u);
  EXPECT_EQ(f->entry.attr.st.st_gid, 1000u);  // the caller's gid, not the lent one
  EXPECT_OK(fs_->Mkdir(user, grp_, "d", 0755, 0));
  EXPECT_OK(fs_->Mknod(user, grp_, "p", S_IFIFO | 0644, 0, 0));
  EXPECT_OK(fs_->Symlink(user, grp_, "l", "x"));
  EXPECT_OK(fs_->TmpFile(user, grp_, 0600, O_RDWR, 0));
  EXPECT_EQ(HostLstat("grp/d").st_uid, 1000u);
  // Restored: ids and the thread's (empty) supplementary groups.
  EXPECT_EQ(FsUid(), 0u);
  EXPECT_EQ(FsGid(), 0u);
  EXPECT_EQ(ThreadGroupCount(), 0);
  // "other" permission is not a group's: still refused.
  EXPECT_ERRNO(fs_->Create(user, closed_, "f", 0644, O_RDWR, 0), EACCES);
  EXPECT_EQ(ThreadGroupCount(), 0);
}

// A member of a setgid directory's group creating a setgid file keeps the
// bit (the host would strip it from a creator it thinks is outside the group).
TEST_F(CredsTest, SetgidFileInSetgidDirectoryKeepsTheBit) {
  mkdir(Host("sg").c_str(), 0777);
  ASSERT_EQ(chown(Host("sg").c_str(), 0, 2000), 0);
  ASSERT_EQ(chmod(Host("sg").c_str(), 02777), 0);
  fuse::NodeId sg = LookupNode(kRoot, "sg");
  auto f = fs_->Create(UserCtx(1000, 1000), sg, "g", 02755, O_RDWR, 0);
  ASSERT_OK(f);
  EXPECT_EQ(HostLstat("sg/g").st_gid, 2000u);
  EXPECT_EQ(HostLstat("sg/g").st_mode & 07777, 02755u);
  EXPECT_OK(fs_->Mknod(UserCtx(1000, 1000), sg, "n", S_IFREG | 02700, 0, 0));
  EXPECT_EQ(HostLstat("sg/n").st_mode & 07777, 02700u);
  EXPECT_EQ(ThreadGroupCount(), 0);
}

TEST_F(CredsTest, UnlinkAndRenameRunAsDaemon) {
  HostWrite("closed/f", "");
  // The guest kernel checked; the host does not second-guess with partial creds.
  EXPECT_OK(fs_->Rename(UserCtx(), closed_, "f", closed_, "g", 0));
  EXPECT_OK(fs_->Unlink(UserCtx(), closed_, "g"));
}

}  // namespace
}  // namespace hostshare::fs
