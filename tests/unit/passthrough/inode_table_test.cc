#include "fs/passthrough/inode_table.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <thread>
#include <vector>

#include "pt_test_util.h"

namespace hostshare::fs {
namespace {

ScopedFd NewFd() { return ScopedFd(open("/", O_PATH | O_CLOEXEC)); }
bool FdOpen(int fd) { return fcntl(fd, F_GETFD) >= 0; }

class InodeTableTest : public ::testing::Test {
 protected:
  void SetUp() override { ASSERT_OK(table_.SetRoot(NewFd(), InodeKey{1, 1, 0}, S_IFDIR)); }
  fuse::NodeId Add(uint64_t ino, uint64_t dev = 7) {
    auto r = table_.Insert(NewFd(), InodeKey{dev, ino, 0}, S_IFREG);
    EXPECT_TRUE(r.ok());
    return r.ok() ? r->id : 0;
  }
  InodeTable table_;
};

TEST_F(InodeTableTest, RootIsNodeOne) {
  auto root = table_.Get(fuse::kRootNodeId);
  ASSERT_OK(root);
  EXPECT_EQ(root->type(), static_cast<uint32_t>(S_IFDIR));
  EXPECT_EQ(table_.LookupCount(fuse::kRootNodeId), 1u);
  // Looking the root's key up again yields id 1 too.
  auto again = table_.Insert(NewFd(), InodeKey{1, 1, 0}, S_IFDIR);
  ASSERT_OK(again);
  EXPECT_EQ(again->id, fuse::kRootNodeId);
  EXPECT_EQ(table_.LookupCount(fuse::kRootNodeId), 2u);
}

TEST_F(InodeTableTest, SameKeySameIdAndCounts) {
  fuse::NodeId a = Add(10);
  fuse::NodeId b = Add(10);
  fuse::NodeId c = Add(10, /*dev=*/8);  // same ino, other device
  auto d = table_.Insert(NewFd(), InodeKey{7, 10, 99}, S_IFREG);  // other mount
  ASSERT_OK(d);
  EXPECT_EQ(a, b);
  EXPECT_NE(a, c);
  EXPECT_NE(a, d->id);
  EXPECT_NE(a, fuse::kRootNodeId);
  EXPECT_EQ(table_.LookupCount(a), 2u);
  EXPECT_EQ(table_.LiveCount(), 4u);
}

TEST_F(InodeTableTest, ForgetFreesAtZero) {
  fuse::NodeId a = Add(10);
  Add(10);
  table_.Forget(a, 1);
  EXPECT_OK(table_.Get(a));
  table_.Forget(a, 1);
  EXPECT_ERRNO(table_.Get(a), ESTALE);
  EXPECT_EQ(table_.LiveCount(), 1u);
}

TEST_F(InodeTableTest, ForgetOverCountSaturates) {
  fuse::NodeId a = Add(10);
  table_.Forget(a, 1000);  // more than ever looked up
  EXPECT_ERRNO(table_.Get(a), ESTALE);
  table_.Forget(a, 1);  // forgetting a forgotten id: ignored
  table_.Forget(a, UINT64_MAX);
  table_.Forget(fuse::kRootNodeId, UINT64_MAX);  // root is never freed
  EXPECT_OK(table_.Get(fuse::kRootNodeId));
  EXPECT_EQ(table_.LookupCount(fuse::kRootNodeId), 1u);
  fuse::NodeId b = Add(11);
  EXPECT_EQ(table_.LookupCount(b), 1u);
}

TEST_F(InodeTableTest, InvalidIdsRejected) {
  Add(10);
  for (fuse::NodeId bad : {uint64_t{0}, ~uint64_t{0}, uint64_t{2}, uint64_t{15},
                           uint64_t{1} << 32, (uint64_t{5} << 32) | 1, uint64_t{0xFFFFFFF0},
                           uint64_t{0xFFFFFFFF}}) {
    auto r = table_.Get(bad);
    ASSERT_FALSE(r.ok()) << bad;
    EXPECT_TRUE(r.error() == ENOENT || r.error() == ESTALE) << bad;
    table_.Forget(bad, 1);  // must be harmless
  }
  EXPECT_EQ(table_.LiveCount(), 2u);
}

TEST_F(InodeTableTest, RootOnlyAsOne) {
  // The root's slot has a natural encoding; only id 1 may name it.
  for (uint64_t low = 16; low < 64; ++low) {
    auto r = table_.Get(low);
    if (r.ok()) {
      EXPECT_NE(r->key(), (InodeKey{1, 1, 0})) << low;
    }
  }
}

TEST_F(InodeTableTest, GenerationPreventsAliasing) {
  fuse::NodeId a = Add(10);
  table_.Forget(a, 1);
  fuse::NodeId b = Add(10);  // same key: same shard, reuses the freed slot
  EXPECT_NE(a, b);
  EXPECT_EQ(static_cast<uint32_t>(a), static_cast<uint32_t>(b));  // same slot
  EXPECT_EQ((b >> 32), (a >> 32) + 1);                               // next generation
  EXPECT_ERRNO(table_.Get(a), ESTALE);
  EXPECT_OK(table_.Get(b));
}

TEST_F(InodeTableTest, InFlightRefKeepsFdUntilReleased) {
  fuse::NodeId a = Add(10);
  int fd;
  {
    auto ref = table_.Get(a);
    ASSERT_OK(ref);
    fd = ref->fd();
    table_.Forget(a, 1);
    EXPECT_ERRNO(table_.Get(a), ESTALE);  // forgotten at once
    EXPECT_TRUE(FdOpen(fd));              // but still usable by the holder
    // A new lookup of the same inode gets a fresh entry.
    fuse::NodeId b = Add(10);
    EXPECT_NE(a, b);
  }
  EXPECT_FALSE(FdOpen(fd));  // closed with the last reference
}

TEST_F(InodeTableTest, MovedRefReleasesOnce) {
  fuse::NodeId a = Add(10);
  auto r1 = table_.Get(a);
  ASSERT_OK(r1);
  InodeRef moved = std::move(*r1);
  InodeRef again;
  again = std::move(moved);
  table_.Forget(a, 1);
  EXPECT_TRUE(FdOpen(again.fd()));
}

TEST_F(InodeTableTest, ResetKeepsOnlyRoot) {
  fuse::NodeId a = Add(10);
  fuse::NodeId b = Add(11);
  table_.Insert(NewFd(), InodeKey{1, 1, 0}, S_IFDIR).value();  // root count 2
  table_.Reset();
  EXPECT_ERRNO(table_.Get(a), ESTALE);
  EXPECT_ERRNO(table_.Get(b), ESTALE);
  EXPECT_EQ(table_.LiveCount(), 1u);
  EXPECT_EQ(table_.LookupCount(fuse::kRootNodeId), 1u);
  // The root is still found by key.
  auto r = table_.Insert(NewFd(), InodeKey{1, 1, 0}, S_IFDIR);
  ASSERT_OK(r);
  EXPECT_EQ(r->id, fuse::kRootNodeId);
}

TEST_F(InodeTableTest, InsertWithoutFdForNewKeyFails) {
  EXPECT_ERRNO(table_.Insert(ScopedFd(), InodeKey{7, 12, 0}, S_IFREG), EBADF);
}

// Many keys with churn: checks the open-addressing index (growth and
// backward-shift deletion) against a simple model.
TEST_F(InodeTableTest, IndexSurvivesChurn) {
  struct rlimit rl;
  getrlimit(RLIMIT_NOFILE, &rl);
  rl.rlim_cur = rl.rlim_max;
  setrlimit(RLIMIT_NOFILE, &rl);
  getrlimit(RLIMIT_NOFILE, &rl);
  const uint64_t n = std::min<uint64_t>(3000, rl.rlim_cur > 200 ? rl.rlim_cur - 100 : 100);
  std::vector<fuse::NodeId> ids(n);
  for (uint64_t i = 0; i < n; ++i) ids[i] = Add(1000 + i);
  for (uint64_t i = 0; i < n; i += 2) table_.Forget(ids[i], 1);
  for (uint64_t i = 0; i < n; ++i) {
    if (i % 2 == 0) {
      EXPECT_ERRNO(table_.Get(ids[i]), ESTALE);
    } else {
      auto r = table_.Insert(NewFd(), InodeKey{7, 1000 + i, 0}, S_IFREG);
      ASSERT_OK(r);
      EXPECT_EQ(r->id, ids[i]) << i;  // still found after neighbours were erased
      EXPECT_EQ(table_.LookupCount(ids[i]), 2u);
    }
  }
  EXPECT_EQ(table_.LiveCount(), 1 + n / 2);
  for (uint64_t i = 1; i < n; i += 2) table_.Forget(ids[i], 2);
  EXPECT_EQ(table_.LiveCount(), 1u);
}

TEST_F(InodeTableTest, ConcurrentLookupForgetGet) {
  constexpr int kThreads = 8;
  constexpr int kIters = 3000;
  std::atomic<bool> bad{false};
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < kIters; ++i) {
        uint64_t ino = 100 + (i + t) % 17;
        auto r = table_.Insert(NewFd(), InodeKey{7, ino, 0}, S_IFREG);
        if (!r.ok()) {
          bad = true;
          continue;
        }
        {
          auto ref = table_.Get(r->id);
          if (!ref.ok() || ref->key().ino != ino || fcntl(ref->fd(), F_GETFD) < 0) bad = true;
        }
        table_.Forget(r->id, 1);
      }
    });
  }
  for (auto& th : threads) th.join();
  EXPECT_FALSE(bad.load());
  EXPECT_EQ(table_.LiveCount(), 1u);
}

}  // namespace
}  // namespace hostshare::fs
