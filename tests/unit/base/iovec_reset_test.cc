// IovecReader / IovecWriter reused over segments they do not own (Reset):
// what a queue worker does for every request.
#include <gtest/gtest.h>
#include <sys/mman.h>
#include <unistd.h>

#include <cstring>
#include <string>
#include <vector>

#include "base/iovec_io.h"
#include "base/scoped_fd.h"

namespace hostshare {
namespace {

TEST(IovecResetTest, ReaderRestartsOnNewSegments) {
  char a[] = "abc", b[] = "defgh";
  std::vector<iovec> first{{a, 3}};
  std::vector<iovec> second{{b, 2}, {b + 2, 3}};
  IovecReader r;
  EXPECT_EQ(r.Available(), 0u);
  r.Reset(first.data(), first.size());
  char out[8] = {};
  ASSERT_TRUE(r.Read(out, 2).ok());
  EXPECT_EQ(std::string(out, 2), "ab");
  r.Reset(second.data(), second.size());  // the old position is forgotten
  EXPECT_EQ(r.Available(), 5u);
  ASSERT_TRUE(r.Read(out, 5).ok());
  EXPECT_EQ(std::string(out, 5), "defgh");
  EXPECT_FALSE(r.Read(out, 1).ok());
}

TEST(IovecResetTest, WriterRestartsCountAndWriteAt) {
  char a[8] = {}, b[4] = {}, c[4] = {};
  std::vector<iovec> first{{a, sizeof a}};
  std::vector<iovec> second{{b, sizeof b}, {c, sizeof c}};
  IovecWriter w;
  w.Reset(first.data(), first.size());
  ASSERT_TRUE(w.Write("xyz", 3).ok());
  EXPECT_EQ(w.BytesWritten(), 3u);
  w.Reset(second.data(), second.size());
  EXPECT_EQ(w.BytesWritten(), 0u);
  EXPECT_EQ(w.Available(), 8u);
  ASSERT_TRUE(w.Skip(2).ok());
  ASSERT_TRUE(w.Write("345678", 6).ok());
  ASSERT_TRUE(w.WriteAt(0, "12", 2).ok());  // WriteAt addresses the new segments
  EXPECT_EQ(std::string(b, 4) + std::string(c, 4), "12345678");
  EXPECT_EQ(std::string(a, 3), "xyz");  // the old segments are left alone
  EXPECT_FALSE(w.WriteAt(7, "99", 2).ok());
}

TEST(IovecResetTest, ZeroCopyPathsAfterReset) {
  ScopedFd fd(memfd_create("iovec-reset", MFD_CLOEXEC));
  ASSERT_TRUE(fd.valid());
  ASSERT_EQ(write(fd.get(), "0123456789", 10), 10);
  char x[3], y[4];
  std::vector<iovec> segs{{x, 3}, {y, 4}};
  IovecWriter w;
  for (int round = 0; round < 3; ++round) {  // scratch space is reused
    memset(x, 0, 3);
    memset(y, 0, 4);
    w.Reset(segs.data(), segs.size());
    auto n = w.WriteFromFile(fd.get(), static_cast<uint64_t>(round), 7);
    ASSERT_TRUE(n.ok());
    EXPECT_EQ(*n, 7u);
    std::string want = std::string("0123456789").substr(static_cast<size_t>(round), 7);
    EXPECT_EQ(std::string(x, 3) + std::string(y, 4), want);
  }
  IovecReader r;
  r.Reset(segs.data(), segs.size());
  auto n = r.ReadToFile(fd.get(), 20, 7);
  ASSERT_TRUE(n.ok());
  EXPECT_EQ(*n, 7u);
  EXPECT_EQ(r.Available(), 0u);
}

}  // namespace
}  // namespace hostshare
