// The small building blocks: BodyCursor, BoundedReader/Writer, Reply.
#include <gtest/gtest.h>
#include <stdlib.h>
#include <unistd.h>

#include "base/iovec_io.h"
#include "base/scoped_fd.h"
#include "fuse/body_cursor.h"
#include "fuse/bounded_io.h"
#include "fuse/encode.h"
#include "fuse/reply.h"

namespace hostshare::fuse {
namespace {

TEST(BodyCursor, TakesWithinBounds) {
  const char data[] = {'a', 'b', '\0', 'c', 'd'};
  BodyCursor c(std::span<const char>(data, sizeof data));
  EXPECT_EQ(c.TakeCString(), std::optional<std::string_view>("ab"));
  EXPECT_EQ(c.remaining(), 2u);
  EXPECT_FALSE(c.TakeCString().has_value()) << "unterminated";
  EXPECT_EQ(c.remaining(), 2u) << "a failed take consumes nothing";
  EXPECT_FALSE(c.TakeBytes(3).has_value());
  auto b = c.TakeBytes(2);
  ASSERT_TRUE(b.has_value());
  EXPECT_EQ(std::string(b->begin(), b->end()), "cd");
  EXPECT_FALSE(c.TakeCString().has_value());
  BodyCursor empty;
  EXPECT_FALSE(empty.TakeCString().has_value());
  EXPECT_TRUE(empty.TakeBytes(0).has_value());
}

TEST(BoundedReader, ExposesOnlyItsLimit) {
  char data[] = "0123456789";
  IovecReader inner({{data, 10}});
  BoundedReader r(inner, 4);
  EXPECT_EQ(r.Available(), 4u);
  char buf[8];
  EXPECT_FALSE(r.Read(buf, 5).ok());
  EXPECT_TRUE(r.Read(buf, 3).ok());
  EXPECT_EQ(r.Available(), 1u);
  EXPECT_FALSE(r.Skip(2).ok());
  EXPECT_TRUE(r.Skip(1).ok());
  EXPECT_EQ(r.Available(), 0u);
  EXPECT_EQ(inner.Available(), 6u);
}

TEST(BoundedReader, ReadToFileStopsAtTheLimit) {
  char path[] = "/tmp/hostshare_fuse_br_XXXXXX";
  ScopedFd fd(mkstemp(path));
  ASSERT_TRUE(fd.valid());
  unlink(path);
  char data[] = "0123456789";
  IovecReader inner({{data, 10}});
  BoundedReader r(inner, 6);
  Result<size_t> n = r.ReadToFile(fd.get(), 0, 100);
  ASSERT_TRUE(n.ok());
  EXPECT_EQ(*n, 6u);
  EXPECT_EQ(r.consumed(), 6u);
  EXPECT_EQ(lseek(fd.get(), 0, SEEK_END), 6);
}

TEST(BoundedWriter, ExposesOnlyItsLimitWithRelativePositions) {
  char buf[16] = {};
  IovecWriter inner({{buf, sizeof buf}});
  ASSERT_TRUE(inner.Write("HH", 2).ok());
  BoundedWriter w(inner, 5);
  EXPECT_EQ(w.Available(), 5u);
  EXPECT_FALSE(w.Write("abcdef", 6).ok());
  EXPECT_TRUE(w.Write("abc", 3).ok());
  EXPECT_EQ(w.BytesWritten(), 3u);
  EXPECT_TRUE(w.WriteAt(0, "X", 1).ok());
  EXPECT_FALSE(w.WriteAt(3, "Y", 1).ok()) << "beyond what was written";
  EXPECT_FALSE(w.Skip(3).ok());
  EXPECT_TRUE(w.Skip(2).ok());
  EXPECT_EQ(w.Available(), 0u);
  EXPECT_EQ(std::string(buf, 5), "HHXbc");
  EXPECT_EQ(inner.BytesWritten(), 7u);
}

TEST(Reply, ErrorAndOk) {
  char buf[64];
  IovecWriter w({{buf, sizeof buf}});
  Reply r(w, 77);
  EXPECT_EQ(r.Error(ENOENT), 16u);
  fuse_out_header h;
  memcpy(&h, buf, sizeof h);
  EXPECT_EQ(h.len, 16u);
  EXPECT_EQ(h.error, -ENOENT);
  EXPECT_EQ(h.unique, 77u);
}

TEST(Reply, OkThatDoesNotFitBecomesEinval) {
  char buf[20];
  IovecWriter w({{buf, sizeof buf}});
  Reply r(w, 1);
  char body[8] = {};
  EXPECT_EQ(r.Ok(body, sizeof body), 16u);
  fuse_out_header h;
  memcpy(&h, buf, sizeof h);
  EXPECT_EQ(h.error, -EINVAL);
}

TEST(Reply, NothingFitsMeansZero) {
  char buf[15];
  IovecWriter w({{buf, sizeof buf}});
  Reply r(w, 1);
  EXPECT_EQ(r.Error(EIO), 0u);
  EXPECT_EQ(r.Ok(), 0u);
  EXPECT_FALSE(r.BeginPayload());
  EXPECT_EQ(w.BytesWritten(), 0u);
}

TEST(Reply, PayloadThenError) {
  char buf[64];
  IovecWriter w({{buf, sizeof buf}});
  Reply r(w, 5);
  ASSERT_TRUE(r.BeginPayload());
  ASSERT_TRUE(w.Write("data", 4).ok());
  EXPECT_EQ(r.Error(EBADF), 16u);
  fuse_out_header h;
  memcpy(&h, buf, sizeof h);
  EXPECT_EQ(h.len, 16u);
  EXPECT_EQ(h.error, -EBADF);
}

TEST(Reply, PayloadFinish) {
  char buf[64];
  IovecWriter w({{buf, sizeof buf}});
  Reply r(w, 5);
  ASSERT_TRUE(r.BeginPayload());
  ASSERT_TRUE(w.Write("data", 4).ok());
  EXPECT_EQ(r.FinishPayload(4), 20u);
  fuse_out_header h;
  memcpy(&h, buf, sizeof h);
  EXPECT_EQ(h.len, 20u);
  EXPECT_EQ(h.error, 0);
  EXPECT_EQ(std::string(buf + 16, 4), "data");
}

TEST(Reply, BadErrnoIsEio) {
  for (int e : {0, -1, 4096}) {
    char buf[16];
    IovecWriter w({{buf, sizeof buf}});
    Reply r(w, 5);
    EXPECT_EQ(r.Error(e), 16u);
    fuse_out_header h;
    memcpy(&h, buf, sizeof h);
    EXPECT_EQ(h.error, -EIO) << e;
  }
}

TEST(Encode, SplitTimeout) {
  uint64_t s;
  uint32_t ns;
  SplitTimeout(0, &s, &ns);
  EXPECT_EQ(s, 0u);
  EXPECT_EQ(ns, 0u);
  SplitTimeout(UINT64_MAX, &s, &ns);
  EXPECT_EQ(s, UINT64_MAX / 1'000'000'000);
  EXPECT_EQ(ns, UINT64_MAX % 1'000'000'000);
}

}  // namespace
}  // namespace hostshare::fuse
