// OPENDIR, READDIR, READDIRPLUS, RELEASEDIR, FSYNCDIR, SYNCFS.
#include <dirent.h>
#include <fcntl.h>
#include <gtest/gtest.h>
#include <linux/fuse.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

#include <set>
#include <string>

#include "pt_test_util.h"

namespace hostshare::fs {
namespace {

using testing::PtTest;
using testing::VecSink;
constexpr fuse::NodeId kRoot = fuse::kRootNodeId;

class DirsTest : public PtTest {
 protected:
  void SetUp() override {
    PtTest::SetUp();
    mkdir(Host("d").c_str(), 0755);
    for (int i = 0; i < 20; ++i) HostWrite("d/f" + std::to_string(i), "x");
    mkdir(Host("d/sub").c_str(), 0755);
    symlink("/etc", Host("d/ln").c_str());
    dir_node_ = LookupNode(kRoot, "d");
    auto o = fs_->OpenDir(ctx_, dir_node_, O_RDONLY);
    ASSERT_OK(o);
    dh_ = o->handle;
  }
  static std::set<std::string> Names(const VecSink& s) {
    std::set<std::string> out;
    for (const auto& i : s.items) out.insert(i.name);
    return out;
  }
  fuse::NodeId dir_node_ = 0;
  fuse::Handle dh_ = 0;
};

TEST_F(DirsTest, ReadDirListsEverythingOnce) {
  VecSink sink(/*plus=*/false);
  ASSERT_OK(fs_->ReadDir(ctx_, dir_node_, dh_, 0, 4096, sink));
  std::set<std::string> names = Names(sink);
  EXPECT_EQ(sink.items.size(), 24u);  // . .. f0..f19 sub ln
  EXPECT_EQ(names.size(), 24u);
  EXPECT_TRUE(names.count("."));
  EXPECT_TRUE(names.count(".."));
  EXPECT_TRUE(names.count("f7"));
  const auto* sub = sink.Find("sub");
  ASSERT_NE(sub, nullptr);
  EXPECT_EQ(sub->dirent.type, static_cast<uint32_t>(DT_DIR));
  EXPECT_EQ(sub->dirent.ino, HostLstat("d/sub").st_ino);
  EXPECT_EQ(sink.Find("ln")->dirent.type, static_cast<uint32_t>(DT_LNK));
  EXPECT_FALSE(sink.Find("f1")->has_entry);
  // Plain READDIR counts no lookups.
  EXPECT_EQ(fs_->InodeCount(), 2u);  // root + d
}

TEST_F(DirsTest, ResumeFromCookie) {
  VecSink first(false, /*capacity=*/5);
  ASSERT_OK(fs_->ReadDir(ctx_, dir_node_, dh_, 0, 4096, first));
  ASSERT_EQ(first.items.size(), 5u);
  VecSink rest(false);
  ASSERT_OK(fs_->ReadDir(ctx_, dir_node_, dh_, first.items.back().dirent.offset, 4096, rest));
  std::set<std::string> all = Names(first);
  for (const auto& i : rest.items) EXPECT_TRUE(all.insert(i.name).second) << "dup " << i.name;
  EXPECT_EQ(all.size(), 24u);
  // Past the end: nothing, no error.
  VecSink none(false);
  ASSERT_OK(fs_->ReadDir(ctx_, dir_node_, dh_, rest.items.back().dirent.offset, 4096, none));
  EXPECT_TRUE(none.items.empty());
  // Rewind.
  VecSink again(false);
  ASSERT_OK(fs_->ReadDir(ctx_, dir_node_, dh_, 0, 4096, again));
  EXPECT_EQ(again.items.size(), 24u);
}

TEST_F(DirsTest, ReadDirPlusCountsLookups) {
  size_t base = fs_->InodeCount();
  VecSink sink(/*plus=*/true);
  ASSERT_OK(fs_->ReadDir(ctx_, dir_node_, dh_, 0, 65536, sink));
  ASSERT_EQ(sink.items.size(), 24u);
  for (const auto& i : sink.items) {
    ASSERT_TRUE(i.has_entry) << i.name;
    if (i.name == "." || i.name == "..") {
      EXPECT_EQ(i.entry.node, 0u) << i.name;  // never looked up
      continue;
    }
    EXPECT_NE(i.entry.node, 0u) << i.name;
    EXPECT_EQ(fs_->LookupCount(i.entry.node), 1u) << i.name;
    EXPECT_EQ(i.entry.attr.st.st_ino, i.dirent.ino) << i.name;
  }
  EXPECT_EQ(fs_->InodeCount(), base + 22);
  EXPECT_TRUE(S_ISLNK(sink.Find("ln")->entry.attr.st.st_mode));  // the link, not /etc
  // An entry already known gains one more lookup.
  fuse::NodeId f3 = sink.Find("f3")->entry.node;
  EXPECT_EQ(LookupNode(dir_node_, "f3"), f3);
  EXPECT_EQ(fs_->LookupCount(f3), 2u);
}

TEST_F(DirsTest, ReadDirPlusSinkFullDoesNotCount) {
  size_t base = fs_->InodeCount();
  VecSink sink(/*plus=*/true, /*capacity=*/6);
  ASSERT_OK(fs_->ReadDir(ctx_, dir_node_, dh_, 0, 65536, sink));
  ASSERT_EQ(sink.items.size(), 6u);
  size_t counted = 0;
  for (const auto& i : sink.items) counted += (i.entry.node != 0);
  // Only the accepted entries are in the table: the refused 7th is not.
  EXPECT_EQ(fs_->InodeCount(), base + counted);
  // Continue from the last accepted cookie: the rest, each counted once.
  VecSink rest(/*plus=*/true);
  ASSERT_OK(fs_->ReadDir(ctx_, dir_node_, dh_, sink.items.back().dirent.offset, 65536, rest));
  EXPECT_EQ(sink.items.size() + rest.items.size(), 24u);
  EXPECT_EQ(fs_->InodeCount(), base + 22);
  for (const auto& i : rest.items) {
    if (i.entry.node != 0) {
      EXPECT_EQ(fs_->LookupCount(i.entry.node), 1u) << i.name;
    }
  }
}

TEST_F(DirsTest, ReadDirPlusSkipsVanishedEntries) {
  VecSink first(/*plus=*/false, 1);
  ASSERT_OK(fs_->ReadDir(ctx_, dir_node_, dh_, 0, 4096, first));
  // Entries removed between calls simply do not appear (getdents reads anew).
  for (int i = 0; i < 20; ++i) unlink(Host("d/f" + std::to_string(i)).c_str());
  VecSink rest(/*plus=*/true);
  ASSERT_OK(fs_->ReadDir(ctx_, dir_node_, dh_, 0, 65536, rest));
  EXPECT_EQ(rest.items.size(), 4u);
}

TEST_F(DirsTest, DirHandleChecks) {
  HostWrite("file", "");
  fuse::NodeId file = LookupNode(kRoot, "file");
  EXPECT_ERRNO(fs_->OpenDir(ctx_, file, O_RDONLY), ENOTDIR);
  fuse::Handle fh = OpenHandle(file, O_RDONLY);
  VecSink sink(false);
  EXPECT_ERRNO(fs_->ReadDir(ctx_, file, fh, 0, 4096, sink), EBADF);  // file handle
  EXPECT_ERRNO(fs_->ReadDir(ctx_, kRoot, dh_, 0, 4096, sink), EBADF);  // other node
  EXPECT_ERRNO(ReadStr(dir_node_, dh_, 0, 1), EBADF);                  // dir handle for READ
  EXPECT_ERRNO(fs_->ReadDir(ctx_, dir_node_, dh_, uint64_t{1} << 63, 4096, sink), EINVAL);
  EXPECT_OK(fs_->FsyncDir(ctx_, dir_node_, dh_, false));
  EXPECT_OK(fs_->FsyncDir(ctx_, dir_node_, dh_, true));
  EXPECT_ERRNO(fs_->FsyncDir(ctx_, file, fh, false), EBADF);
  EXPECT_OK(fs_->ReleaseDir(ctx_, dir_node_, dh_));
  EXPECT_ERRNO(fs_->ReleaseDir(ctx_, dir_node_, dh_), EBADF);
  EXPECT_ERRNO(fs_->ReadDir(ctx_, dir_node_, dh_, 0, 4096, sink), EBADF);
}

TEST_F(DirsTest, SyncFs) {
  HostWrite("file", "");
  EXPECT_OK(fs_->SyncFs(ctx_, kRoot));
  EXPECT_OK(fs_->SyncFs(ctx_, LookupNode(kRoot, "file")));
  EXPECT_ERRNO(fs_->SyncFs(ctx_, 0), ENOENT);
}

class SubmountTest : public PtTest {
 protected:
  void SetUp() override {
    PtTest::SetUp();
    mkdir(Host("mnt").c_str(), 0755);
    mkdir(Host("plain").c_str(), 0755);
    if (mount("hs_test", Host("mnt").c_str(), "tmpfs", 0, "size=1m") != 0) {
      GTEST_SKIP() << "cannot mount here: " << strerror(errno);
    }
    mounted_ = true;
  }
  void TearDown() override {
    fs_.reset();  // drop our fds on the mount first
    if (mounted_) umount2(Host("mnt").c_str(), MNT_DETACH);
  }
  bool mounted_ = false;
};

TEST_F(SubmountTest, AnnouncedOnlyWhenAsked) {
  auto m = fs_->Lookup(ctx_, kRoot, "mnt");
  ASSERT_OK(m);
  EXPECT_EQ(m->attr.attr_flags, 0u);
  PassthroughConfig cfg;
  cfg.announce_submounts = true;
  Make(cfg);
  EXPECT_TRUE(wants_.flags & FUSE_SUBMOUNTS);
  m = fs_->Lookup(ctx_, kRoot, "mnt");
  ASSERT_OK(m);
  EXPECT_EQ(m->attr.attr_flags, uint32_t{FUSE_ATTR_SUBMOUNT});
  auto p = fs_->Lookup(ctx_, kRoot, "plain");
  ASSERT_OK(p);
  EXPECT_EQ(p->attr.attr_flags, 0u);
  // Inside the submount, nothing is a submount again.
  ASSERT_OK(fs_->Mkdir(ctx_, m->node, "inner", 0755, 0));
  auto in = fs_->Lookup(ctx_, m->node, "inner");
  ASSERT_OK(in);
  EXPECT_EQ(in->attr.attr_flags, 0u);
  // READDIRPLUS reports it too.
  auto od = fs_->OpenDir(ctx_, kRoot, O_RDONLY);
  ASSERT_OK(od);
  VecSink sink(/*plus=*/true);
  ASSERT_OK(fs_->ReadDir(ctx_, kRoot, od->handle, 0, 65536, sink));
  ASSERT_NE(sink.Find("mnt"), nullptr);
  EXPECT_EQ(sink.Find("mnt")->entry.attr.attr_flags, uint32_t{FUSE_ATTR_SUBMOUNT});
}

}  // namespace
}  // namespace hostshare::fs
