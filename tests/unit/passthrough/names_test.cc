// LOOKUP, FORGET, READLINK, SYMLINK, MKNOD, MKDIR, UNLINK, RMDIR, RENAME, LINK.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <stdio.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "pt_test_util.h"

namespace hostshare::fs {
namespace {

using testing::PtTest;
constexpr fuse::NodeId kRoot = fuse::kRootNodeId;

class NamesTest : public PtTest {};

TEST_F(NamesTest, LookupReportsHostAttributes) {
  HostWrite("f", "hello", 0640);
  auto e = fs_->Lookup(ctx_, kRoot, "f");
  ASSERT_OK(e);
  struct stat st = HostLstat("f");
  EXPECT_NE(e->node, 0u);
  EXPECT_NE(e->node, kRoot);
  EXPECT_EQ(e->attr.st.st_ino, st.st_ino);
  EXPECT_EQ(e->attr.st.st_dev, st.st_dev);
  EXPECT_EQ(e->attr.st.st_mode, st.st_mode);
  EXPECT_EQ(e->attr.st.st_size, 5);
  EXPECT_EQ(e->attr.st.st_nlink, 1u);
  EXPECT_EQ(e->attr.st.st_mtim.tv_sec, st.st_mtim.tv_sec);
  EXPECT_EQ(e->attr.st.st_mtim.tv_nsec, st.st_mtim.tv_nsec);
}

TEST_F(NamesTest, LookupCountsAndForget) {
  HostWrite("f", "");
  size_t base = fs_->InodeCount();
  fuse::NodeId a = LookupNode(kRoot, "f");
  fuse::NodeId b = LookupNode(kRoot, "f");
  EXPECT_EQ(a, b);
  EXPECT_EQ(fs_->LookupCount(a), 2u);
  EXPECT_EQ(fs_->InodeCount(), base + 1);
  fs_->Forget(a, 1);
  EXPECT_EQ(fs_->LookupCount(a), 1u);
  fs_->Forget(a, 5);  // over-count: saturates
  EXPECT_EQ(fs_->InodeCount(), base);
  EXPECT_ERRNO(fs_->GetAttr(ctx_, a, nullptr), ESTALE);
  fs_->Forget(a, 1);  // no crash
  fuse::NodeId c = LookupNode(kRoot, "f");
  EXPECT_NE(c, a);  // a fresh generation
}

TEST_F(NamesTest, LookupErrors) {
  HostWrite("f", "");
  EXPECT_ERRNO(fs_->Lookup(ctx_, kRoot, "missing"), ENOENT);
  EXPECT_ERRNO(fs_->Lookup(ctx_, kRoot, ""), EINVAL);
  EXPECT_ERRNO(fs_->Lookup(ctx_, kRoot, "."), EINVAL);
  EXPECT_ERRNO(fs_->Lookup(ctx_, kRoot, ".."), EINVAL);
  EXPECT_ERRNO(fs_->Lookup(ctx_, kRoot, "a/b"), EINVAL);
  EXPECT_ERRNO(fs_->Lookup(ctx_, kRoot, std::string_view("f\0x", 3)), EINVAL);
  EXPECT_ERRNO(fs_->Lookup(ctx_, kRoot, std::string(NAME_MAX + 1, 'a')), ENAMETOOLONG);
  fuse::NodeId f = LookupNode(kRoot, "f");
  EXPECT_ERRNO(fs_->Lookup(ctx_, f, "x"), ENOTDIR);
  EXPECT_ERRNO(fs_->Lookup(ctx_, 0, "f"), ENOENT);
  EXPECT_ERRNO(fs_->Lookup(ctx_, ~uint64_t{0}, "f"), ENOENT);
  EXPECT_ERRNO(fs_->Lookup(ctx_, f + (uint64_t{1} << 32), "f"), ESTALE);
}

TEST_F(NamesTest, MkdirMknodSymlink) {
  auto d = fs_->Mkdir(ctx_, kRoot, "d", 0750, 0);
  ASSERT_OK(d);
  EXPECT_TRUE(S_ISDIR(d->attr.st.st_mode));
  EXPECT_EQ(d->attr.st.st_mode & 07777, 0750u);
  EXPECT_EQ(fs_->LookupCount(d->node), 1u);
  EXPECT_ERRNO(fs_->Mkdir(ctx_, kRoot, "d", 0750, 0), EEXIST);

  auto fifo = fs_->Mknod(ctx_, d->node, "fifo", S_IFIFO | 0600, 0, 0);
  ASSERT_OK(fifo);
  EXPECT_TRUE(S_ISFIFO(HostLstat("d/fifo").st_mode));
  auto reg = fs_->Mknod(ctx_, d->node, "reg", 0644, 0, 0);  // type 0 = regular
  ASSERT_OK(reg);
  EXPECT_TRUE(S_ISREG(HostLstat("d/reg").st_mode));
  auto sock = fs_->Mknod(ctx_, d->node, "sock", S_IFSOCK | 0644, 0, 0);
  ASSERT_OK(sock);
  EXPECT_TRUE(S_ISSOCK(HostLstat("d/sock").st_mode));
  EXPECT_ERRNO(fs_->Mknod(ctx_, d->node, "dir", S_IFDIR | 0755, 0, 0), EINVAL);
  auto chr = fs_->Mknod(ctx_, d->node, "null", S_IFCHR | 0666, makedev(1, 3), 0);
  if (chr.ok()) {  // needs CAP_MKNOD in this container
    struct stat st = HostLstat("d/null");
    EXPECT_TRUE(S_ISCHR(st.st_mode));
    EXPECT_EQ(major(st.st_rdev), 1u);
    EXPECT_EQ(minor(st.st_rdev), 3u);
  } else {
    EXPECT_EQ(chr.error(), EPERM);
  }

  auto ln = fs_->Symlink(ctx_, d->node, "ln", "../some/where");
  ASSERT_OK(ln);
  EXPECT_TRUE(S_ISLNK(ln->attr.st.st_mode));
  auto target = fs_->ReadLink(ctx_, ln->node);
  ASSERT_OK(target);
  EXPECT_EQ(*target, "../some/where");
  EXPECT_ERRNO(fs_->ReadLink(ctx_, d->node), EINVAL);
  EXPECT_ERRNO(fs_->Symlink(ctx_, d->node, "ln", "x"), EEXIST);
  EXPECT_ERRNO(fs_->Symlink(ctx_, d->node, "e", ""), ENOENT);
  EXPECT_ERRNO(fs_->Symlink(ctx_, d->node, "n", std::string_view("a\0b", 3)), EINVAL);
  EXPECT_ERRNO(fs_->Symlink(ctx_, reg->node, "x", "y"), ENOTDIR);
}

TEST_F(NamesTest, UnlinkAndRmdir) {
  HostWrite("f", "");
  mkdir(Host("d").c_str(), 0755);
  HostWrite("d/inner", "");
  EXPECT_ERRNO(fs_->Unlink(ctx_, kRoot, "d"), EISDIR);
  EXPECT_ERRNO(fs_->Rmdir(ctx_, kRoot, "f"), ENOTDIR);
  EXPECT_ERRNO(fs_->Rmdir(ctx_, kRoot, "d"), ENOTEMPTY);
  EXPECT_ERRNO(fs_->Unlink(ctx_, kRoot, "missing"), ENOENT);
  EXPECT_ERRNO(fs_->Unlink(ctx_, kRoot, ".."), EINVAL);
  fuse::NodeId d = LookupNode(kRoot, "d");
  EXPECT_OK(fs_->Unlink(ctx_, d, "inner"));
  EXPECT_OK(fs_->Rmdir(ctx_, kRoot, "d"));
  EXPECT_OK(fs_->Unlink(ctx_, kRoot, "f"));
  EXPECT_NE(access(Host("f").c_str(), F_OK), 0);
  // The forgotten-but-removed directory node still answers (unlinked inode).
  EXPECT_OK(fs_->GetAttr(ctx_, d, nullptr));
}

TEST_F(NamesTest, RenameFlags) {
  HostWrite("a", "A");
  HostWrite("b", "B");
  mkdir(Host("d").c_str(), 0755);
  fuse::NodeId d = LookupNode(kRoot, "d");
  EXPECT_ERRNO(fs_->Rename(ctx_, kRoot, "a", kRoot, "b", RENAME_NOREPLACE), EEXIST);
  EXPECT_OK(fs_->Rename(ctx_, kRoot, "a", kRoot, "b", RENAME_EXCHANGE));
  auto check = [&](const char* name, char want) {
    int fd = open(Host(name).c_str(), O_RDONLY);
    char c = 0;
    EXPECT_EQ(read(fd, &c, 1), 1);
    close(fd);
    EXPECT_EQ(c, want) << name;
  };
  check("a", 'B');
  check("b", 'A');
  EXPECT_OK(fs_->Rename(ctx_, kRoot, "a", d, "moved", 0));
  check("d/moved", 'B');
  EXPECT_OK(fs_->Rename(ctx_, d, "moved", kRoot, "b", 0));  // replaces
  check("b", 'B');
  EXPECT_ERRNO(fs_->Rename(ctx_, kRoot, "missing", kRoot, "x", 0), ENOENT);
  EXPECT_ERRNO(fs_->Rename(ctx_, kRoot, "b", kRoot, "x", 0x80), EINVAL);
  EXPECT_ERRNO(fs_->Rename(ctx_, kRoot, "b", kRoot, "..", 0), EINVAL);
  EXPECT_ERRNO(
      fs_->Rename(ctx_, kRoot, "b", kRoot, "x", RENAME_EXCHANGE | RENAME_NOREPLACE), EINVAL);
  // WHITEOUT leaves a 0/0 character device behind (needs CAP_MKNOD and fs support).
  auto w = fs_->Rename(ctx_, kRoot, "b", kRoot, "w", RENAME_WHITEOUT);
  if (w.ok()) {
    struct stat st = HostLstat("b");
    EXPECT_TRUE(S_ISCHR(st.st_mode));
    EXPECT_EQ(st.st_rdev, makedev(0, 0));
  } else {
    EXPECT_TRUE(w.error() == EINVAL || w.error() == EPERM) << strerror(w.error());
  }
}

TEST_F(NamesTest, LinkSharesTheNode) {
  HostWrite("f", "data");
  mkdir(Host("d").c_str(), 0755);
  fuse::NodeId f = LookupNode(kRoot, "f");
  fuse::NodeId d = LookupNode(kRoot, "d");
  auto e = fs_->Link(ctx_, f, d, "hard");
  ASSERT_OK(e);
  EXPECT_EQ(e->node, f);  // same inode, same node id
  EXPECT_EQ(fs_->LookupCount(f), 2u);
  EXPECT_EQ(e->attr.st.st_nlink, 2u);
  EXPECT_EQ(HostLstat("d/hard").st_ino, HostLstat("f").st_ino);
  EXPECT_ERRNO(fs_->Link(ctx_, f, d, "hard"), EEXIST);
  EXPECT_ERRNO(fs_->Link(ctx_, d, kRoot, "dirlink"), EPERM);
  EXPECT_ERRNO(fs_->Link(ctx_, f, f, "x"), ENOTDIR);
}

TEST_F(NamesTest, StatFs) {
  auto s = fs_->StatFs(ctx_, kRoot);
  ASSERT_OK(s);
  EXPECT_GT(s->f_bsize, 0u);
  EXPECT_GT(s->f_blocks, 0u);
  EXPECT_ERRNO(fs_->StatFs(ctx_, 12345), ENOENT);
}

}  // namespace
}  // namespace hostshare::fs
