// IovecReader / IovecWriter: cursor arithmetic across segment boundaries,
// zero-length segments, and the zero-copy file paths.
#include "base/iovec_io.h"
#include "base/scoped_fd.h"

#include <gtest/gtest.h>
#include <limits.h>
#include <sys/mman.h>
#include <unistd.h>

#include <cstring>
#include <limits>
#include <string>

namespace hostshare {
namespace {

// Backing store cut into segments of the given sizes (0 allowed).
class Segments {
 public:
  explicit Segments(std::vector<size_t> sizes) {
    size_t total = 0;
    for (size_t s : sizes) total += s;
    buf_.assign(total + sizes.size(), 0xee);  // +1 per segment: a guard byte between them
    size_t off = 0;
    for (size_t s : sizes) {
      iov_.push_back({buf_.data() + off, s});
      off += s + 1;
    }
  }
  std::vector<iovec> iov() const { return iov_; }
  // The bytes of all segments, concatenated.
  std::string Content() const {
    std::string out;
    for (const iovec& v : iov_) out.append(static_cast<const char*>(v.iov_base), v.iov_len);
    return out;
  }
  void SetContent(const std::string& s) {
    size_t k = 0;
    for (const iovec& v : iov_) {
      for (size_t i = 0; i < v.iov_len && k < s.size(); ++i) {
        static_cast<char*>(v.iov_base)[i] = s[k++];
      }
    }
  }
  // True if no guard byte was overwritten.
  bool GuardsIntact() const {
    for (const iovec& v : iov_) {
      if (static_cast<uint8_t*>(v.iov_base)[v.iov_len] != 0xee) return false;
    }
    return true;
  }

 private:
  std::vector<uint8_t> buf_;
  std::vector<iovec> iov_;
};

ScopedFd TempFile(const std::string& content = "") {
  ScopedFd fd(memfd_create("iovec-test", MFD_CLOEXEC));
  if (!content.empty()) {
    EXPECT_EQ(write(fd.get(), content.data(), content.size()),
              static_cast<ssize_t>(content.size()));
  }
  return fd;
}

std::string FileContent(int fd) {
  std::string out(4096, '\0');
  ssize_t n = pread(fd, out.data(), out.size(), 0);
  out.resize(n > 0 ? static_cast<size_t>(n) : 0);
  return out;
}

TEST(IovecReaderTest, ReadsAcrossSegmentsAndZeroLengthOnes) {
  Segments s({0, 3, 0, 0, 4, 1, 0});
  s.SetContent("abcdefgh");
  IovecReader r(s.iov());
  EXPECT_EQ(r.Available(), 8u);
  char buf[8];
  ASSERT_TRUE(r.Read(buf, 2).ok());
  EXPECT_EQ(std::string(buf, 2), "ab");
  ASSERT_TRUE(r.Read(buf, 3).ok());  // crosses two zero-length segments
  EXPECT_EQ(std::string(buf, 3), "cde");
  EXPECT_EQ(r.Available(), 3u);
  ASSERT_TRUE(r.Read(buf, 3).ok());
  EXPECT_EQ(std::string(buf, 3), "fgh");
  EXPECT_EQ(r.Available(), 0u);
  EXPECT_TRUE(r.Read(buf, 0).ok());
  EXPECT_EQ(r.Read(buf, 1).error(), EINVAL);
}

TEST(IovecReaderTest, ReadExactlyToASegmentEnd) {
  Segments s({4, 0, 4});
  s.SetContent("12345678");
  IovecReader r(s.iov());
  char buf[4];
  ASSERT_TRUE(r.Read(buf, 4).ok());
  ASSERT_TRUE(r.Read(buf, 4).ok());
  EXPECT_EQ(std::string(buf, 4), "5678");
}

TEST(IovecReaderTest, OverlongReadConsumesNothing) {
  Segments s({2, 2});
  s.SetContent("wxyz");
  IovecReader r(s.iov());
  char buf[8];
  EXPECT_EQ(r.Read(buf, 5).error(), EINVAL);
  EXPECT_EQ(r.Available(), 4u);
  EXPECT_EQ(r.Skip(5).error(), EINVAL);
  EXPECT_EQ(r.Available(), 4u);
  ASSERT_TRUE(r.Read(buf, 4).ok());
  EXPECT_EQ(std::string(buf, 4), "wxyz");
}

TEST(IovecReaderTest, SkipAcrossSegments) {
  Segments s({1, 0, 2, 3});
  s.SetContent("abcdef");
  IovecReader r(s.iov());
  ASSERT_TRUE(r.Skip(0).ok());
  ASSERT_TRUE(r.Skip(2).ok());
  char c;
  ASSERT_TRUE(r.Read(&c, 1).ok());
  EXPECT_EQ(c, 'c');
  ASSERT_TRUE(r.Skip(3).ok());
  EXPECT_EQ(r.Available(), 0u);
}

TEST(IovecReaderTest, EmptyAndAllZeroLength) {
  IovecReader empty;
  EXPECT_EQ(empty.Available(), 0u);
  char c;
  EXPECT_EQ(empty.Read(&c, 1).error(), EINVAL);
  Segments s({0, 0, 0});
  IovecReader r(s.iov());
  EXPECT_EQ(r.Available(), 0u);
  EXPECT_TRUE(r.Skip(0).ok());
  auto n = r.ReadToFile(TempFile().get(), 0, 10);
  ASSERT_TRUE(n.ok());
  EXPECT_EQ(*n, 0u);
}

TEST(IovecReaderTest, ReadToFileAcrossSegments) {
  Segments s({3, 0, 2, 5});
  s.SetContent("0123456789");
  IovecReader r(s.iov());
  char c;
  ASSERT_TRUE(r.Read(&c, 1).ok());
  ScopedFd f = TempFile("..........");
  auto n = r.ReadToFile(f.get(), 2, 6);  // "123456" at offset 2
  ASSERT_TRUE(n.ok());
  EXPECT_EQ(*n, 6u);
  EXPECT_EQ(FileContent(f.get()), "..123456..");
  EXPECT_EQ(r.Available(), 3u);
  ASSERT_TRUE(r.Read(&c, 1).ok());
  EXPECT_EQ(c, '7');
  // Asking for more than is left writes what is left.
  n = r.ReadToFile(f.get(), 0, 100);
  ASSERT_TRUE(n.ok());
  EXPECT_EQ(*n, 2u);
  EXPECT_EQ(FileContent(f.get()), "89123456..");
}

TEST(IovecReaderTest, ReadToFileErrorConsumesNothing) {
  Segments s({4});
  IovecReader r(s.iov());
  auto n = r.ReadToFile(-1, 0, 4);
  EXPECT_FALSE(n.ok());
  EXPECT_EQ(r.Available(), 4u);
}

TEST(IovecReaderTest, ReadToFileWithMoreThanIovMaxSegments) {
  std::vector<size_t> sizes(IOV_MAX + 100, 1);
  Segments s(sizes);
  s.SetContent(std::string(sizes.size(), 'q'));
  IovecReader r(s.iov());
  ScopedFd f = TempFile();
  size_t total = 0;
  while (r.Available() > 0) {
    auto n = r.ReadToFile(f.get(), total, r.Available());
    ASSERT_TRUE(n.ok());
    ASSERT_GT(*n, 0u);
    ASSERT_LE(*n, static_cast<size_t>(IOV_MAX));  // a short count, never an error
    total += *n;
  }
  EXPECT_EQ(total, sizes.size());
}

TEST(IovecWriterTest, WritesAcrossSegments) {
  Segments s({0, 2, 0, 3, 4});
  IovecWriter w(s.iov());
  EXPECT_EQ(w.Available(), 9u);
  ASSERT_TRUE(w.Write("abc", 3).ok());
  ASSERT_TRUE(w.Write("defg", 4).ok());
  EXPECT_EQ(w.BytesWritten(), 7u);
  EXPECT_EQ(w.Available(), 2u);
  EXPECT_EQ(w.Write("xyz", 3).error(), EINVAL);  // writes nothing
  EXPECT_EQ(w.BytesWritten(), 7u);
  ASSERT_TRUE(w.Write("hi", 2).ok());
  EXPECT_EQ(s.Content(), "abcdefghi");
  EXPECT_TRUE(s.GuardsIntact());
}

TEST(IovecWriterTest, SkipThenWriteAtFillsAHeader) {
  // The FUSE reply pattern: reserve the header, write the body, patch the header.
  Segments s({3, 0, 5, 2});
  IovecWriter w(s.iov());
  ASSERT_TRUE(w.Skip(4).ok());
  ASSERT_TRUE(w.Write("body", 4).ok());
  EXPECT_EQ(w.BytesWritten(), 8u);
  ASSERT_TRUE(w.WriteAt(0, "HEAD", 4).ok());  // crosses the 3|0|5 boundary
  ASSERT_TRUE(w.WriteAt(2, "ad", 2).ok());
  EXPECT_EQ(s.Content().substr(0, 8), "HEadbody");
  EXPECT_TRUE(s.GuardsIntact());
}

TEST(IovecWriterTest, WriteAtOnlyInsideWhatWasWritten) {
  Segments s({4, 4});
  IovecWriter w(s.iov());
  ASSERT_TRUE(w.Write("1234", 4).ok());
  EXPECT_EQ(w.WriteAt(2, "xyz", 3).error(), EINVAL);
  EXPECT_EQ(w.WriteAt(5, "x", 1).error(), EINVAL);
  EXPECT_EQ(w.WriteAt(std::numeric_limits<size_t>::max(), "x", 2).error(), EINVAL);
  EXPECT_EQ(w.WriteAt(1, "x", std::numeric_limits<size_t>::max()).error(), EINVAL);
  EXPECT_TRUE(w.WriteAt(4, "", 0).ok());
  ASSERT_TRUE(w.WriteAt(3, "Z", 1).ok());
  EXPECT_EQ(s.Content().substr(0, 4), "123Z");
}

TEST(IovecWriterTest, SkipBeyondSpaceFails) {
  Segments s({2, 0});
  IovecWriter w(s.iov());
  EXPECT_EQ(w.Skip(3).error(), EINVAL);
  EXPECT_EQ(w.BytesWritten(), 0u);
  ASSERT_TRUE(w.Skip(2).ok());
  EXPECT_EQ(w.Available(), 0u);
  EXPECT_TRUE(w.Write("", 0).ok());
}

TEST(IovecWriterTest, WriteFromFileAcrossSegments) {
  ScopedFd f = TempFile("0123456789");
  Segments s({2, 0, 3, 4});
  IovecWriter w(s.iov());
  ASSERT_TRUE(w.Write("<", 1).ok());
  auto n = w.WriteFromFile(f.get(), 3, 5);  // "34567"
  ASSERT_TRUE(n.ok());
  EXPECT_EQ(*n, 5u);
  EXPECT_EQ(w.BytesWritten(), 6u);
  ASSERT_TRUE(w.Write(">", 1).ok());
  EXPECT_EQ(s.Content().substr(0, 7), "<34567>");
  EXPECT_TRUE(s.GuardsIntact());
}

TEST(IovecWriterTest, WriteFromFileShortAtEndOfFile) {
  ScopedFd f = TempFile("abc");
  Segments s({4, 4});
  IovecWriter w(s.iov());
  auto n = w.WriteFromFile(f.get(), 1, 8);
  ASSERT_TRUE(n.ok());
  EXPECT_EQ(*n, 2u);
  EXPECT_EQ(w.BytesWritten(), 2u);
  n = w.WriteFromFile(f.get(), 100, 8);
  ASSERT_TRUE(n.ok());
  EXPECT_EQ(*n, 0u);
  // Never more than the space left.
  ScopedFd big = TempFile(std::string(100, 'z'));
  n = w.WriteFromFile(big.get(), 0, 100);
  ASSERT_TRUE(n.ok());
  EXPECT_EQ(*n, 6u);
  EXPECT_EQ(w.Available(), 0u);
  EXPECT_TRUE(s.GuardsIntact());
}

TEST(IovecWriterTest, WriteFromFileErrorWritesNothing) {
  Segments s({4});
  IovecWriter w(s.iov());
  EXPECT_FALSE(w.WriteFromFile(-1, 0, 4).ok());
  EXPECT_EQ(w.BytesWritten(), 0u);
  EXPECT_EQ(w.Available(), 4u);
}

}  // namespace
}  // namespace hostshare
