// Escape attempts, special files, readonly shares, Reset, concurrency.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <linux/fuse.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include <atomic>
#include <thread>
#include <vector>

#include "pt_test_util.h"

namespace hostshare::fs {
namespace {

using testing::PtTest;
using testing::TempDir;
using testing::VecSink;
constexpr fuse::NodeId kRoot = fuse::kRootNodeId;

class EscapeTest : public PtTest {
 protected:
  void SetUp() override {
    PtTest::SetUp();
    // Planted by someone with host access (or by the guest itself).
    symlink("/etc", Host("etc").c_str());
    symlink("/etc/passwd", Host("pw").c_str());
    symlink(outside_.path().c_str(), Host("out").c_str());
    symlink((outside_.path() + "/created").c_str(), Host("dangling").c_str());
    stat("/etc/passwd", &passwd_);
  }
  void ExpectPasswdUntouched() {
    struct stat now;
    ASSERT_EQ(stat("/etc/passwd", &now), 0);
    EXPECT_EQ(now.st_size, passwd_.st_size);
    EXPECT_EQ(now.st_mode, passwd_.st_mode);
    EXPECT_EQ(now.st_uid, passwd_.st_uid);
    EXPECT_EQ(now.st_mtim.tv_sec, passwd_.st_mtim.tv_sec);
  }
  TempDir outside_;
  struct stat passwd_ {};
};

TEST_F(EscapeTest, SymlinkToEtcIsJustASymlink) {
  auto e = fs_->Lookup(ctx_, kRoot, "etc");
  ASSERT_OK(e);
  EXPECT_TRUE(S_ISLNK(e->attr.st.st_mode));
  auto a = fs_->GetAttr(ctx_, e->node, nullptr);
  ASSERT_OK(a);
  EXPECT_TRUE(S_ISLNK(a->st.st_mode));
  EXPECT_EQ(a->st.st_ino, HostLstat("etc").st_ino);
  EXPECT_EQ(*fs_->ReadLink(ctx_, e->node), "/etc");
  // Nothing resolves through it.
  EXPECT_ERRNO(fs_->Lookup(ctx_, e->node, "passwd"), ENOTDIR);
  EXPECT_ERRNO(fs_->OpenDir(ctx_, e->node, O_RDONLY), ENOTDIR);
  EXPECT_ERRNO(fs_->Open(ctx_, e->node, O_RDONLY), ELOOP);
  EXPECT_ERRNO(fs_->Create(ctx_, e->node, "x", 0644, O_RDWR, 0), ENOTDIR);
  EXPECT_ERRNO(fs_->Mkdir(ctx_, e->node, "x", 0755, 0), ENOTDIR);
  EXPECT_ERRNO(fs_->Unlink(ctx_, e->node, "passwd"), ENOTDIR);
  auto out = fs_->Lookup(ctx_, kRoot, "out");
  ASSERT_OK(out);
  EXPECT_ERRNO(fs_->Symlink(ctx_, out->node, "x", "y"), ENOTDIR);
  EXPECT_ERRNO(fs_->Mknod(ctx_, out->node, "x", S_IFIFO | 0644, 0, 0), ENOTDIR);
  EXPECT_ERRNO(fs_->Rename(ctx_, kRoot, "pw", out->node, "x", 0), ENOTDIR);
  EXPECT_ERRNO(fs_->TmpFile(ctx_, out->node, 0600, O_RDWR, 0), ENOTDIR);
}

TEST_F(EscapeTest, SymlinkToFileNeverReachesTarget) {
  fuse::NodeId pw = LookupNode(kRoot, "pw");
  EXPECT_ERRNO(fs_->Open(ctx_, pw, O_RDONLY), ELOOP);
  EXPECT_ERRNO(fs_->Open(ctx_, pw, O_RDWR | O_TRUNC), ELOOP);
  fuse::SetAttrIn in;
  in.valid = FATTR_SIZE;
  in.size = 0;
  EXPECT_ERRNO(fs_->SetAttr(ctx_, pw, in), EINVAL);
  in.valid = FATTR_MODE;
  in.mode = 0777;
  EXPECT_ERRNO(fs_->SetAttr(ctx_, pw, in), EOPNOTSUPP);
  // Owner and times apply to the link itself.
  in.valid = FATTR_UID | FATTR_GID | FATTR_MTIME;
  in.uid = 4242;
  in.gid = 4242;
  in.mtime = {12345, 0};
  EXPECT_OK(fs_->SetAttr(ctx_, pw, in));
  EXPECT_EQ(HostLstat("pw").st_uid, 4242u);
  EXPECT_EQ(HostLstat("pw").st_mtim.tv_sec, 12345);
  // A hard link to the symlink is another symlink, not /etc/passwd.
  auto l = fs_->Link(ctx_, pw, kRoot, "pw2");
  ASSERT_OK(l);
  EXPECT_TRUE(S_ISLNK(HostLstat("pw2").st_mode));
  ExpectPasswdUntouched();
}

TEST_F(EscapeTest, CreateThroughSymlinkRefused) {
  // CREATE on the name of a symlink (dangling or not) must not follow it.
  EXPECT_ERRNO(fs_->Create(ctx_, kRoot, "dangling", 0644, O_RDWR, 0), ELOOP);
  EXPECT_NE(access((outside_.path() + "/created").c_str(), F_OK), 0);
  EXPECT_ERRNO(fs_->Create(ctx_, kRoot, "pw", 0644, O_RDWR | O_TRUNC, 0), ELOOP);
  EXPECT_ERRNO(fs_->Create(ctx_, kRoot, "pw", 0644, O_RDWR | O_EXCL, 0), EEXIST);
  EXPECT_ERRNO(fs_->Mkdir(ctx_, kRoot, "dangling", 0755, 0), EEXIST);
  EXPECT_NE(access((outside_.path() + "/created").c_str(), F_OK), 0);
  ExpectPasswdUntouched();
}

TEST_F(EscapeTest, DotDotNeverLooksUp) {
  EXPECT_ERRNO(fs_->Lookup(ctx_, kRoot, ".."), EINVAL);
  EXPECT_ERRNO(fs_->Lookup(ctx_, kRoot, "../etc"), EINVAL);
  EXPECT_ERRNO(fs_->Link(ctx_, LookupNode(kRoot, "pw"), kRoot, ".."), EINVAL);
}

TEST_F(EscapeTest, DeviceNodeIsNeverOpened) {
  auto dev = fs_->Mknod(ctx_, kRoot, "zero", S_IFCHR | 0666, makedev(1, 5), 0);
  if (!dev.ok()) GTEST_SKIP() << "cannot mknod here: " << strerror(dev.error());
  EXPECT_ERRNO(fs_->Open(ctx_, dev->node, O_RDONLY), ENXIO);
  EXPECT_ERRNO(fs_->Create(ctx_, kRoot, "zero", 0644, O_RDONLY, 0), ENXIO);
  fuse::SetAttrIn in;
  in.valid = FATTR_SIZE;
  EXPECT_ERRNO(fs_->SetAttr(ctx_, dev->node, in), EINVAL);
}

class ReadonlyTest : public PtTest {
 protected:
  void SetUp() override {
    PtTest::SetUp();
    HostWrite("f", "data");
    mkdir(Host("d").c_str(), 0755);
    PassthroughConfig cfg;
    cfg.readonly = true;
    cfg.writeback = true;  // ignored for a read-only share
    Make(cfg);
    f_ = LookupNode(kRoot, "f");
    d_ = LookupNode(kRoot, "d");
  }
  fuse::NodeId f_ = 0, d_ = 0;
};

TEST_F(ReadonlyTest, EveryMutationIsErofs) {
  EXPECT_FALSE(wants_.flags & FUSE_WRITEBACK_CACHE);
  fuse::SetAttrIn in;
  in.valid = FATTR_MODE;
  in.mode = 0600;
  EXPECT_ERRNO(fs_->SetAttr(ctx_, f_, in), EROFS);
  EXPECT_ERRNO(fs_->Symlink(ctx_, kRoot, "l", "f"), EROFS);
  EXPECT_ERRNO(fs_->Mknod(ctx_, kRoot, "p", S_IFIFO | 0644, 0, 0), EROFS);
  EXPECT_ERRNO(fs_->Mkdir(ctx_, kRoot, "x", 0755, 0), EROFS);
  EXPECT_ERRNO(fs_->Unlink(ctx_, kRoot, "f"), EROFS);
  EXPECT_ERRNO(fs_->Rmdir(ctx_, kRoot, "d"), EROFS);
  EXPECT_ERRNO(fs_->Rename(ctx_, kRoot, "f", kRoot, "g", 0), EROFS);
  EXPECT_ERRNO(fs_->Link(ctx_, f_, kRoot, "g"), EROFS);
  EXPECT_ERRNO(fs_->Create(ctx_, kRoot, "n", 0644, O_RDWR, 0), EROFS);
  EXPECT_ERRNO(fs_->TmpFile(ctx_, kRoot, 0600, O_RDWR, 0), EROFS);
  EXPECT_ERRNO(fs_->Open(ctx_, f_, O_WRONLY), EROFS);
  EXPECT_ERRNO(fs_->Open(ctx_, f_, O_RDWR), EROFS);
  EXPECT_ERRNO(fs_->Open(ctx_, f_, O_RDONLY | O_TRUNC), EROFS);
  EXPECT_ERRNO(fs_->Access(ctx_, f_, W_OK), EROFS);
  fuse::Handle h = OpenHandle(f_, O_RDONLY);
  EXPECT_ERRNO(WriteStr(f_, h, 0, "x"), EROFS);
  EXPECT_ERRNO(fs_->Fallocate(ctx_, f_, h, 0, 0, 100), EROFS);
  EXPECT_ERRNO(fs_->CopyFileRange(ctx_, f_, h, 0, f_, h, 10, 2, 0), EROFS);
  // Reading still works, and nothing changed on the host.
  auto r = ReadStr(f_, h, 0, 10);
  ASSERT_OK(r);
  EXPECT_EQ(*r, "data");
  EXPECT_OK(fs_->Access(ctx_, f_, R_OK));
  EXPECT_OK(fs_->GetAttr(ctx_, f_, nullptr));
  EXPECT_OK(fs_->SyncFs(ctx_, kRoot));
  VecSink sink(true);
  auto od = fs_->OpenDir(ctx_, kRoot, O_RDONLY);
  ASSERT_OK(od);
  EXPECT_OK(fs_->ReadDir(ctx_, kRoot, od->handle, 0, 4096, sink));
  EXPECT_EQ(HostLstat("f").st_mode & 07777, 0644u);
  EXPECT_EQ(access(Host("g").c_str(), F_OK), -1);
}

class LifecycleTest : public PtTest {};

TEST_F(LifecycleTest, ResetDropsEverythingButRoot) {
  HostWrite("f", "data");
  mkdir(Host("d").c_str(), 0755);
  fuse::NodeId f = LookupNode(kRoot, "f");
  fuse::NodeId d = LookupNode(kRoot, "d");
  fuse::Handle h = OpenHandle(f, O_RDONLY);
  auto od = fs_->OpenDir(ctx_, d, O_RDONLY);
  ASSERT_OK(od);
  EXPECT_EQ(fs_->InodeCount(), 3u);
  EXPECT_EQ(fs_->HandleCount(), 2u);
  fs_->Reset();
  EXPECT_EQ(fs_->InodeCount(), 1u);
  EXPECT_EQ(fs_->HandleCount(), 0u);
  EXPECT_EQ(fs_->LookupCount(kRoot), 1u);
  EXPECT_ERRNO(fs_->GetAttr(ctx_, f, nullptr), ESTALE);
  EXPECT_ERRNO(ReadStr(f, h, 0, 4), EBADF);
  VecSink sink(false);
  EXPECT_ERRNO(fs_->ReadDir(ctx_, d, od->handle, 0, 4096, sink), EBADF);
  // The session starts afresh.
  fuse::NodeId f2 = LookupNode(kRoot, "f");
  EXPECT_NE(f2, f);
  EXPECT_OK(fs_->GetAttr(ctx_, kRoot, nullptr));
}

TEST_F(LifecycleTest, CreateRejectsBadRoots) {
  PassthroughConfig cfg;
  cfg.root = "relative/path";
  EXPECT_ERRNO(PassthroughFs::Create(cfg), EINVAL);
  cfg.root = "";
  EXPECT_ERRNO(PassthroughFs::Create(cfg), EINVAL);
  cfg.root = Host("missing");
  EXPECT_ERRNO(PassthroughFs::Create(cfg), ENOENT);
  HostWrite("file", "");
  cfg.root = Host("file");
  EXPECT_ERRNO(PassthroughFs::Create(cfg), ENOTDIR);
}

TEST_F(LifecycleTest, ConcurrentOperations) {
  for (int i = 0; i < 8; ++i) HostWrite("f" + std::to_string(i), "0123456789");
  std::atomic<int> failures{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 8; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < 300; ++i) {
        std::string name = "f" + std::to_string((t + i) % 8);
        auto e = fs_->Lookup(ctx_, kRoot, name);
        if (!e.ok()) {
          ++failures;
          continue;
        }
        auto o = fs_->Open(ctx_, e->node, O_RDONLY);
        if (o.ok()) {
          auto r = ReadStr(e->node, o->handle, 0, 10);
          if (!r.ok() || *r != "0123456789") ++failures;
          if (!fs_->Release(ctx_, e->node, o->handle, 0, 0, 0).ok()) ++failures;
        } else {
          ++failures;
        }
        if (i % 3 == 0) {
          VecSink sink(true, 4);
          auto od = fs_->OpenDir(ctx_, kRoot, O_RDONLY);
          if (od.ok()) {
            (void)fs_->ReadDir(ctx_, kRoot, od->handle, 0, 4096, sink);
            for (const auto& it : sink.items) {
              if (it.entry.node != 0) fs_->Forget(it.entry.node, 1);
            }
            (void)fs_->ReleaseDir(ctx_, kRoot, od->handle);
          }
        }
        fs_->Forget(e->node, 1);
      }
    });
  }
  for (auto& th : threads) th.join();
  EXPECT_EQ(failures.load(), 0);
  EXPECT_EQ(fs_->InodeCount(), 1u);
  EXPECT_EQ(fs_->HandleCount(), 0u);
}

}  // namespace
}  // namespace hostshare::fs
