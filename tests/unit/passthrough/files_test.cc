// OPEN, CREATE, TMPFILE, READ, WRITE, FLUSH, RELEASE, FSYNC, FALLOCATE,
// LSEEK, COPY_FILE_RANGE.
#include <dirent.h>
#include <fcntl.h>
#include <gtest/gtest.h>
#include <linux/falloc.h>
#include <linux/fuse.h>
#include <sys/stat.h>
#include <unistd.h>

#include <string>

#include "pt_test_util.h"

namespace hostshare::fs {
namespace {

using testing::PtTest;
constexpr fuse::NodeId kRoot = fuse::kRootNodeId;

class FilesTest : public PtTest {
 protected:
  // Finds our open (non-O_PATH) fd on host file `rel` and returns its flags.
  int HostFdFlags(const std::string& rel) {
    std::string want = Host(rel);
    DIR* d = opendir("/proc/self/fd");
    int flags = -1;
    while (struct dirent* e = readdir(d)) {
      int fd = atoi(e->d_name);
      char buf[PATH_MAX];
      std::string link = "/proc/self/fd/" + std::string(e->d_name);
      ssize_t n = readlink(link.c_str(), buf, sizeof(buf) - 1);
      if (n <= 0) continue;
      buf[n] = 0;
      if (want != buf) continue;
      int fl = fcntl(fd, F_GETFL);
      if (fl >= 0 && !(fl & O_PATH)) flags = fl;
    }
    closedir(d);
    return flags;
  }
};

TEST_F(FilesTest, CreateWriteReadBack) {
  auto c = fs_->Create(ctx_, kRoot, "f", 0640, O_RDWR, 0);
  ASSERT_OK(c);
  EXPECT_TRUE(S_ISREG(c->entry.attr.st.st_mode));
  EXPECT_EQ(c->entry.attr.st.st_mode & 07777, 0640u);
  EXPECT_EQ(fs_->LookupCount(c->entry.node), 1u);
  fuse::NodeId n = c->entry.node;
  fuse::Handle h = c->opened.handle;
  auto w = WriteStr(n, h, 0, "hello, world");
  ASSERT_OK(w);
  EXPECT_EQ(*w, 12u);
  auto w2 = WriteStr(n, h, 7, "there");
  ASSERT_OK(w2);
  auto r = ReadStr(n, h, 0, 100);
  ASSERT_OK(r);
  EXPECT_EQ(*r, "hello, there");
  auto partial = ReadStr(n, h, 7, 3);
  ASSERT_OK(partial);
  EXPECT_EQ(*partial, "the");
  auto eof = ReadStr(n, h, 1000, 10);
  ASSERT_OK(eof);
  EXPECT_EQ(*eof, "");
  EXPECT_OK(fs_->Flush(ctx_, n, h, 0));
  EXPECT_OK(fs_->Fsync(ctx_, n, h, false));
  EXPECT_OK(fs_->Fsync(ctx_, n, h, true));
  EXPECT_OK(fs_->Release(ctx_, n, h, 0, 0, 0));
  EXPECT_ERRNO(fs_->Release(ctx_, n, h, 0, 0, 0), EBADF);
  EXPECT_ERRNO(ReadStr(n, h, 0, 10), EBADF);
  EXPECT_EQ(fs_->HandleCount(), 0u);
}

TEST_F(FilesTest, CreateExistingAndExcl) {
  HostWrite("f", "old contents");
  EXPECT_ERRNO(fs_->Create(ctx_, kRoot, "f", 0644, O_RDWR | O_EXCL, 0), EEXIST);
  auto c = fs_->Create(ctx_, kRoot, "f", 0644, O_RDWR | O_TRUNC, 0);
  ASSERT_OK(c);
  EXPECT_EQ(HostLstat("f").st_size, 0);
  // Same inode as a lookup would give.
  EXPECT_EQ(LookupNode(kRoot, "f"), c->entry.node);
  mkdir(Host("d").c_str(), 0755);
  EXPECT_ERRNO(fs_->Create(ctx_, kRoot, "d", 0644, O_RDWR, 0), EISDIR);
  EXPECT_ERRNO(fs_->Create(ctx_, kRoot, "..", 0644, O_RDWR, 0), EINVAL);
  fuse::NodeId f = c->entry.node;
  EXPECT_ERRNO(fs_->Create(ctx_, f, "x", 0644, O_RDWR, 0), ENOTDIR);
}

TEST_F(FilesTest, CreateOnExistingFifoDoesNotBlock) {
  mkfifo(Host("p").c_str(), 0666);
  EXPECT_ERRNO(fs_->Create(ctx_, kRoot, "p", 0644, O_RDONLY, 0), ENXIO);
  EXPECT_ERRNO(fs_->Create(ctx_, kRoot, "p", 0644, O_WRONLY, 0), ENXIO);
}

TEST_F(FilesTest, OpenChecksTypeAndFlags) {
  HostWrite("f", "abc");
  mkdir(Host("d").c_str(), 0755);
  mkfifo(Host("p").c_str(), 0666);
  symlink("f", Host("l").c_str());
  fuse::NodeId f = LookupNode(kRoot, "f");
  EXPECT_ERRNO(fs_->Open(ctx_, LookupNode(kRoot, "d"), O_RDONLY), EISDIR);
  EXPECT_ERRNO(fs_->Open(ctx_, LookupNode(kRoot, "p"), O_RDONLY), ENXIO);  // no blocking
  EXPECT_ERRNO(fs_->Open(ctx_, LookupNode(kRoot, "p"), O_WRONLY | O_NONBLOCK), ENXIO);
  EXPECT_ERRNO(fs_->Open(ctx_, LookupNode(kRoot, "l"), O_RDONLY), ELOOP);
  EXPECT_ERRNO(fs_->Open(ctx_, f, O_ACCMODE), EINVAL);
  EXPECT_ERRNO(fs_->Open(ctx_, 0, O_RDONLY), ENOENT);

  // A read-only handle cannot write; O_CREAT/O_EXCL are ignored on OPEN.
  fuse::Handle ro = OpenHandle(f, O_RDONLY | O_CREAT | O_EXCL | O_NOCTTY);
  EXPECT_ERRNO(WriteStr(f, ro, 0, "x"), EBADF);
  auto r = ReadStr(f, ro, 0, 10);
  ASSERT_OK(r);
  EXPECT_EQ(*r, "abc");
  // O_TRUNC truncates (FUSE_ATOMIC_O_TRUNC).
  fuse::Handle tr = OpenHandle(f, O_WRONLY | O_TRUNC);
  EXPECT_NE(tr, 0u);
  EXPECT_EQ(HostLstat("f").st_size, 0);
}

TEST_F(FilesTest, HandleOfAnotherNodeIsRejected) {
  HostWrite("a", "A");
  HostWrite("b", "B");
  fuse::NodeId a = LookupNode(kRoot, "a");
  fuse::NodeId b = LookupNode(kRoot, "b");
  fuse::Handle ha = OpenHandle(a, O_RDWR);
  EXPECT_ERRNO(ReadStr(b, ha, 0, 1), EBADF);
  EXPECT_ERRNO(WriteStr(b, ha, 0, "x"), EBADF);
  EXPECT_ERRNO(fs_->Flush(ctx_, b, ha, 0), EBADF);
  EXPECT_ERRNO(fs_->Fsync(ctx_, b, ha, false), EBADF);
  EXPECT_ERRNO(fs_->Fallocate(ctx_, b, ha, 0, 0, 10), EBADF);
  EXPECT_ERRNO(fs_->Lseek(ctx_, b, ha, 0, SEEK_END), EBADF);
  EXPECT_ERRNO(fs_->Release(ctx_, b, ha, 0, 0, 0), EBADF);
  EXPECT_ERRNO(fs_->ReleaseDir(ctx_, a, ha), EBADF);  // a file handle is no dir handle
  EXPECT_ERRNO(ReadStr(a, ha + 1, 0, 1), EBADF);
  EXPECT_OK(fs_->Release(ctx_, a, ha, 0, 0, 0));
}

TEST_F(FilesTest, ReadWriteBounds) {
  auto c = fs_->Create(ctx_, kRoot, "f", 0644, O_RDWR, 0);
  ASSERT_OK(c);
  fuse::NodeId n = c->entry.node;
  fuse::Handle h = c->opened.handle;
  EXPECT_ERRNO(ReadStr(n, h, uint64_t{1} << 63, 10), EINVAL);
  EXPECT_ERRNO(WriteStr(n, h, uint64_t{1} << 63, "x"), EINVAL);
  EXPECT_ERRNO(WriteStr(n, h, (uint64_t{1} << 63) - 1, "xy"), EFBIG);
  // A WRITE claiming more bytes than its payload carries.
  std::string data = "abc";
  IovecReader in({iovec{data.data(), data.size()}});
  EXPECT_ERRNO(fs_->Write(ctx_, n, h, 0, 10, in, false), EINVAL);
  // A READ asking more than the reply buffer holds fills the buffer only.
  ASSERT_OK(WriteStr(n, h, 0, "0123456789"));
  std::string small(4, '\0');
  IovecWriter out({iovec{small.data(), small.size()}});
  auto got = fs_->Read(ctx_, n, h, 0, 10, out);
  ASSERT_OK(got);
  EXPECT_EQ(*got, 4u);
  EXPECT_EQ(small, "0123");
}

TEST_F(FilesTest, WriteKillSuidGid) {
  HostWrite("f", "x");
  chmod(Host("f").c_str(), 06775);
  fuse::NodeId f = LookupNode(kRoot, "f");
  fuse::Handle h = OpenHandle(f, O_RDWR);
  ASSERT_OK(WriteStr(f, h, 0, "y"));
  EXPECT_EQ(HostLstat("f").st_mode & 07777, 06775u);
  ASSERT_OK(WriteStr(f, h, 0, "z", /*kill=*/true));
  EXPECT_EQ(HostLstat("f").st_mode & 07777, 0775u);
}

// FUSE_OPEN_KILL_SUIDGID (Context::kill_suidgid) with O_TRUNC: an
// unprivileged open(O_TRUNC) in the guest clears S_ISUID, and S_ISGID of a
// group-executable file, as the kernel does; without the flag (a caller with
// CAP_FSETID) or without O_TRUNC the bits stay.
TEST_F(FilesTest, OpenTruncKillSuidGid) {
  HostWrite("f", "data");
  HostWrite("g", "data");
  ASSERT_EQ(chmod(Host("f").c_str(), 06775), 0);
  ASSERT_EQ(chmod(Host("g").c_str(), 06764), 0);  // S_ISGID without group exec
  fuse::NodeId f = LookupNode(kRoot, "f");
  fuse::NodeId g = LookupNode(kRoot, "g");
  fuse::Context kill = ctx_;
  kill.kill_suidgid = true;
  ASSERT_OK(fs_->Open(ctx_, f, O_RDWR | O_TRUNC));
  EXPECT_EQ(HostLstat("f").st_mode & 07777, 06775u);
  ASSERT_OK(fs_->Open(kill, f, O_RDWR));
  EXPECT_EQ(HostLstat("f").st_mode & 07777, 06775u);
  ASSERT_OK(fs_->Open(kill, f, O_RDWR | O_TRUNC));
  EXPECT_EQ(HostLstat("f").st_mode & 07777, 0775u);
  ASSERT_OK(fs_->Open(kill, g, O_WRONLY | O_TRUNC));
  EXPECT_EQ(HostLstat("g").st_mode & 07777, 02764u);
  // CREATE of an existing name without O_EXCL opens it: the same rule.
  HostWrite("h", "data");
  ASSERT_EQ(chmod(Host("h").c_str(), 04755), 0);
  ASSERT_OK(fs_->Create(kill, kRoot, "h", 0644, O_RDWR | O_TRUNC, 0));
  EXPECT_EQ(HostLstat("h").st_mode & 07777, 0755u);
  EXPECT_EQ(HostLstat("h").st_size, 0);
}

TEST_F(FilesTest, FallocateLseekCopy) {
  auto c = fs_->Create(ctx_, kRoot, "f", 0644, O_RDWR, 0);
  ASSERT_OK(c);
  fuse::NodeId n = c->entry.node;
  fuse::Handle h = c->opened.handle;
  ASSERT_OK(fs_->Fallocate(ctx_, n, h, 0, 0, 8192));
  EXPECT_EQ(HostLstat("f").st_size, 8192);
  ASSERT_OK(fs_->Fallocate(ctx_, n, h, FALLOC_FL_KEEP_SIZE, 8192, 4096));
  EXPECT_EQ(HostLstat("f").st_size, 8192);
  EXPECT_ERRNO(fs_->Fallocate(ctx_, n, h, 0, uint64_t{1} << 63, 1), EINVAL);

  // A sparse file: data at 1 MiB only.
  auto s = fs_->Create(ctx_, kRoot, "sparse", 0644, O_RDWR, 0);
  ASSERT_OK(s);
  fuse::NodeId sn = s->entry.node;
  fuse::Handle sh = s->opened.handle;
  ASSERT_OK(WriteStr(sn, sh, 1 << 20, "data"));
  auto end = fs_->Lseek(ctx_, sn, sh, 0, SEEK_END);
  ASSERT_OK(end);
  EXPECT_EQ(*end, (1u << 20) + 4);
  auto data = fs_->Lseek(ctx_, sn, sh, 0, SEEK_DATA);
  ASSERT_OK(data);
  EXPECT_LE(*data, 1u << 20);
  auto hole = fs_->Lseek(ctx_, sn, sh, 0, SEEK_HOLE);
  ASSERT_OK(hole);
  EXPECT_EQ(*hole, 0u);  // ext4/tmpfs report the leading hole
  EXPECT_ERRNO(fs_->Lseek(ctx_, sn, sh, 0, 42), EINVAL);
  EXPECT_ERRNO(fs_->Lseek(ctx_, sn, sh, (1u << 20) + 100, SEEK_DATA), ENXIO);

  // copy_file_range: 4 bytes from sparse@1MiB to f@10.
  auto copied = fs_->CopyFileRange(ctx_, sn, sh, 1 << 20, n, h, 10, 4, 0);
  ASSERT_OK(copied);
  EXPECT_EQ(*copied, 4u);
  auto r = ReadStr(n, h, 10, 4);
  ASSERT_OK(r);
  EXPECT_EQ(*r, "data");
  EXPECT_ERRNO(fs_->CopyFileRange(ctx_, sn, sh, 0, n, h, 0, 4, 1), EINVAL);
  EXPECT_ERRNO(fs_->CopyFileRange(ctx_, n, sh, 0, n, h, 0, 4, 0), EBADF);
  EXPECT_ERRNO(fs_->CopyFileRange(ctx_, sn, sh, 0, sn, h, 0, 4, 0), EBADF);
}

TEST_F(FilesTest, TmpFileThenLink) {
  auto t = fs_->TmpFile(ctx_, kRoot, 0600, O_RDWR, 0);
  ASSERT_OK(t);
  EXPECT_EQ(t->entry.attr.st.st_nlink, 0u);
  fuse::NodeId n = t->entry.node;
  ASSERT_OK(WriteStr(n, t->opened.handle, 0, "tmp"));
  auto l = fs_->Link(ctx_, n, kRoot, "named");
  ASSERT_OK(l);
  EXPECT_EQ(l->node, n);
  EXPECT_EQ(HostLstat("named").st_size, 3);
  EXPECT_ERRNO(fs_->TmpFile(ctx_, kRoot, 0600, O_RDONLY, 0), EINVAL);
  EXPECT_ERRNO(fs_->TmpFile(ctx_, n, 0600, O_RDWR, 0), ENOTDIR);
}

TEST_F(FilesTest, WritebackWidensWriteOnlyAndDropsAppend) {
  PassthroughConfig cfg;
  cfg.writeback = true;
  Make(cfg);
  EXPECT_TRUE(wants_.flags & FUSE_WRITEBACK_CACHE);
  HostWrite("f", "0123456789");
  fuse::NodeId f = LookupNode(kRoot, "f");
  fuse::Handle h = OpenHandle(f, O_WRONLY | O_APPEND);
  auto r = ReadStr(f, h, 0, 4);  // the guest page cache may read
  ASSERT_OK(r);
  EXPECT_EQ(*r, "0123");
  ASSERT_OK(WriteStr(f, h, 0, "ab"));  // at the offset given, not appended
  auto all = ReadStr(f, h, 0, 20);
  ASSERT_OK(all);
  EXPECT_EQ(*all, "ab23456789");
}

TEST_F(FilesTest, DirectIoStrippedUnlessAllowed) {
  HostWrite("f", std::string(4096, 'x'));
  fuse::NodeId f = LookupNode(kRoot, "f");
  fuse::Handle h = OpenHandle(f, O_RDONLY | O_DIRECT);
  ASSERT_NE(h, 0u);
  int flags = HostFdFlags("f");
  ASSERT_GE(flags, 0);
  EXPECT_FALSE(flags & O_DIRECT);
  EXPECT_OK(fs_->Release(ctx_, f, h, 0, 0, 0));

  PassthroughConfig cfg;
  cfg.allow_direct_io = true;
  Make(cfg);
  f = LookupNode(kRoot, "f");
  auto o = fs_->Open(ctx_, f, O_RDONLY | O_DIRECT);
  if (!o.ok()) {
    EXPECT_EQ(o.error(), EINVAL);  // the host fs may not do O_DIRECT
    return;
  }
  flags = HostFdFlags("f");
  ASSERT_GE(flags, 0);
  EXPECT_TRUE(flags & O_DIRECT);
}

}  // namespace
}  // namespace hostshare::fs
