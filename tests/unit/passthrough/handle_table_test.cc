#include "fs/passthrough/handle_table.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include "pt_test_util.h"

namespace hostshare::fs {
namespace {

using Kind = OpenFile::Kind;

std::shared_ptr<OpenFile> NewFile(fuse::NodeId node, Kind kind = Kind::kFile) {
  return std::make_shared<OpenFile>(ScopedFd(open("/dev/null", O_RDONLY | O_CLOEXEC)), node,
                                    kind);
}

TEST(HandleTableTest, AddGetRemove) {
  HandleTable t;
  auto h = t.Add(NewFile(5));
  ASSERT_OK(h);
  EXPECT_NE(*h, 0u);
  auto f = t.Get(*h, 5, Kind::kFile);
  ASSERT_OK(f);
  EXPECT_EQ((*f)->node, 5u);
  EXPECT_EQ(t.Size(), 1u);
  EXPECT_OK(t.Remove(*h, 5, Kind::kFile));
  EXPECT_EQ(t.Size(), 0u);
  EXPECT_ERRNO(t.Get(*h, 5, Kind::kFile), EBADF);
  EXPECT_ERRNO(t.Remove(*h, 5, Kind::kFile), EBADF);
}

TEST(HandleTableTest, HandleBelongsToItsNodeAndKind) {
  HandleTable t;
  auto h = t.Add(NewFile(5));
  ASSERT_OK(h);
  EXPECT_ERRNO(t.Get(*h, 6, Kind::kFile), EBADF);
  EXPECT_ERRNO(t.Get(*h, 5, Kind::kDir), EBADF);
  EXPECT_ERRNO(t.Remove(*h, 6, Kind::kFile), EBADF);
  EXPECT_OK(t.Get(*h, 5, Kind::kFile));  // the failed Remove changed nothing
}

TEST(HandleTableTest, InvalidHandles) {
  HandleTable t;
  ASSERT_OK(t.Add(NewFile(5)));
  for (fuse::Handle bad : {uint64_t{0}, ~uint64_t{0}, uint64_t{1}, uint64_t{15},
                           uint64_t{1} << 40, uint64_t{0xFFFFFFFF}}) {
    EXPECT_ERRNO(t.Get(bad, 5, Kind::kFile), EBADF);
    EXPECT_ERRNO(t.Remove(bad, 5, Kind::kFile), EBADF);
  }
}

TEST(HandleTableTest, GenerationPreventsReuseAliasing) {
  HandleTable t;
  // Fill every shard once so the next Add lands in a slot freed below.
  std::vector<fuse::Handle> hs;
  for (uint32_t i = 0; i < HandleTable::kShards; ++i) hs.push_back(t.Add(NewFile(5)).value());
  for (auto h : hs) ASSERT_OK(t.Remove(h, 5, Kind::kFile));
  for (uint32_t i = 0; i < HandleTable::kShards; ++i) {
    auto h = t.Add(NewFile(5));
    ASSERT_OK(h);
    for (auto old : hs) EXPECT_NE(*h, old);
  }
  for (auto old : hs) EXPECT_ERRNO(t.Get(old, 5, Kind::kFile), EBADF);
}

TEST(HandleTableTest, InFlightUserKeepsFdAfterRemove) {
  HandleTable t;
  auto h = t.Add(NewFile(5));
  ASSERT_OK(h);
  std::shared_ptr<OpenFile> held;
  {
    auto f = t.Get(*h, 5, Kind::kFile);
    ASSERT_OK(f);
    held = *f;
  }
  int fd = held->fd.get();
  ASSERT_OK(t.Remove(*h, 5, Kind::kFile));
  EXPECT_GE(fcntl(fd, F_GETFD), 0);
  held.reset();
  EXPECT_LT(fcntl(fd, F_GETFD), 0);
}

TEST(HandleTableTest, ClearDropsAll) {
  HandleTable t;
  auto a = t.Add(NewFile(5));
  auto b = t.Add(NewFile(6, Kind::kDir));
  ASSERT_OK(a);
  ASSERT_OK(b);
  t.Clear();
  EXPECT_EQ(t.Size(), 0u);
  EXPECT_ERRNO(t.Get(*a, 5, Kind::kFile), EBADF);
  EXPECT_ERRNO(t.Get(*b, 6, Kind::kDir), EBADF);
}

TEST(HandleTableTest, AddNullRejected) { EXPECT_ERRNO(HandleTable().Add(nullptr), EINVAL); }

}  // namespace
}  // namespace hostshare::fs
