// READDIR / READDIRPLUS encoding and buffer-full behaviour.
#include <dirent.h>
#include <gtest/gtest.h>

#include "fuse/dir_encoder.h"
#include "fuse_test_util.h"

namespace hostshare::fuse::testing {
namespace {

// fuse_dirent without its flexible name array.
struct DirentHead {
  uint64_t ino;
  uint64_t off;
  uint32_t namelen;
  uint32_t type;
};
static_assert(sizeof(DirentHead) == sizeof(fuse_dirent));

struct Decoded {
  fuse_entry_out entry;  // READDIRPLUS only
  DirentHead dirent;
  std::string name;
};

// Parses a READDIR(PLUS) reply body, checking the record framing.
std::vector<Decoded> Parse(const Bytes& body, bool plus) {
  std::vector<Decoded> out;
  size_t off = 0;
  const size_t head = plus ? sizeof(fuse_direntplus) : sizeof(fuse_dirent);
  while (off < body.size()) {
    EXPECT_LE(off + head, body.size());
    if (off + head > body.size()) break;
    Decoded d{};
    if (plus) memcpy(&d.entry, body.data() + off, sizeof d.entry);
    memcpy(&d.dirent, body.data() + off + head - sizeof(fuse_dirent), sizeof d.dirent);
    size_t rec = (head + d.dirent.namelen + 7) & ~size_t{7};
    EXPECT_LE(off + rec, body.size());
    if (off + rec > body.size()) break;
    d.name.assign(body.data() + off + head, d.dirent.namelen);
    for (size_t i = off + head + d.dirent.namelen; i < off + rec; ++i) {
      EXPECT_EQ(body[i], 0) << "padding must be zero";
    }
    out.push_back(d);
    off += rec;
  }
  return out;
}

class ReadDirTest : public ::testing::Test {
 protected:
  void SetUp() override {
    fs_.dir = {{".", 1, DT_DIR}, {"..", 1, DT_DIR}, {"a", 10, DT_REG},
               {"bbbbbbbbb", 11, DT_DIR}, {std::string(255, 'L'), 12, DT_LNK}};
    InitServer(server_);
    fs_.Clear();
  }
  Replied ReadDir(bool plus, uint64_t offset, uint32_t size, size_t room = 1 << 16) {
    fuse_read_in in{};
    in.fh = 3;
    in.offset = offset;
    in.size = size;
    return Send(server_, MakeRequest(plus ? FUSE_READDIRPLUS : FUSE_READDIR, 5, Body().Struct(in)),
                room);
  }
  RecordingFs fs_;
  Server server_{fs_, ServerOptions{}};
};

TEST_F(ReadDirTest, EncodesDirents) {
  Replied r = ReadDir(false, 0, 4096);
  ASSERT_EQ(r.error(), 0);
  std::vector<Decoded> d = Parse(r.body, false);
  ASSERT_EQ(d.size(), 5u);
  EXPECT_EQ(d[0].name, ".");
  EXPECT_EQ(d[2].name, "a");
  EXPECT_EQ(d[2].dirent.ino, 10u);
  EXPECT_EQ(d[2].dirent.off, 3u);
  EXPECT_EQ(d[2].dirent.type, uint32_t{DT_REG});
  EXPECT_EQ(d[3].dirent.type, uint32_t{DT_DIR});
  EXPECT_EQ(d[4].name, std::string(255, 'L'));
  EXPECT_EQ(r.body.size() % 8, 0u);
  EXPECT_EQ(r.body.size(), 5 * 24 + 8 + 8 + 8 + 16 + 256u);
  EXPECT_EQ(fs_.lookups_counted, 0u);
}

TEST_F(ReadDirTest, EncodesDirentplus) {
  Replied r = ReadDir(true, 0, 4096);
  ASSERT_EQ(r.error(), 0);
  std::vector<Decoded> d = Parse(r.body, true);
  ASSERT_EQ(d.size(), 5u);
  // "." and ".." carry no entry (nodeid 0: the kernel links nothing).
  EXPECT_EQ(d[0].entry.nodeid, 0u);
  EXPECT_EQ(d[1].entry.nodeid, 0u);
  EXPECT_EQ(d[2].entry.nodeid, 102u);
  EXPECT_EQ(d[2].entry.attr.ino, 10u);
  EXPECT_EQ(d[2].entry.entry_valid, 1u);
  EXPECT_EQ(d[2].entry.entry_valid_nsec, 500'000'000u);
  EXPECT_EQ(d[2].dirent.ino, 10u);
  EXPECT_EQ(d[2].name, "a");
  EXPECT_EQ(d[4].name.size(), 255u);
  EXPECT_EQ(fs_.lookups_counted, 3u);
}

TEST_F(ReadDirTest, ResumesAtTheOffset) {
  Replied r = ReadDir(false, 3, 4096);
  std::vector<Decoded> d = Parse(r.body, false);
  ASSERT_EQ(d.size(), 2u);
  EXPECT_EQ(d[0].name, "bbbbbbbbb");
  EXPECT_EQ(fs_.calls(), std::vector<std::string>{Call("ReadDir", 5, 3, 3, 4096, 0)});
  // Past the end: an empty (successful) reply.
  r = ReadDir(false, 5, 4096);
  EXPECT_EQ(r.n, 16u);
  EXPECT_EQ(r.hdr.error, 0);
}

TEST_F(ReadDirTest, StopsWhenTheGuestSizeIsReached) {
  // "." (32) + ".." (32) + "a" (32) = 96; "bbbbbbbbb" needs 40 more.
  Replied r = ReadDir(false, 0, 100);
  std::vector<Decoded> d = Parse(r.body, false);
  ASSERT_EQ(d.size(), 3u);
  EXPECT_EQ(r.body.size(), 96u);
  r = ReadDir(false, 0, 136);
  EXPECT_EQ(Parse(r.body, false).size(), 4u);
}

TEST_F(ReadDirTest, StopsWhenTheWriterIsFull) {
  Replied r = ReadDir(false, 0, 4096, /*room=*/16 + 70);
  EXPECT_EQ(Parse(r.body, false).size(), 2u);
  EXPECT_LE(r.n, 16u + 70u);
}

TEST_F(ReadDirTest, EntryNotAcceptedIsNotCounted) {
  // Room for ".", "..", "a" as direntplus (152 + 8 each = 160) but not "bbbbbbbbb".
  Replied r = ReadDir(true, 0, 3 * 160 + 100);
  std::vector<Decoded> d = Parse(r.body, true);
  ASSERT_EQ(d.size(), 3u);
  EXPECT_EQ(fs_.lookups_counted, 1u) << "only \"a\" was accepted with an entry";
  // The next call resumes exactly there and counts the rest.
  r = ReadDir(true, d.back().dirent.off, 4096);
  d = Parse(r.body, true);
  ASSERT_EQ(d.size(), 2u);
  EXPECT_EQ(d[0].name, "bbbbbbbbb");
  EXPECT_EQ(fs_.lookups_counted, 3u);
}

TEST_F(ReadDirTest, GuestSizeTooSmallForOneEntryGivesAnEmptyReply) {
  Replied r = ReadDir(true, 2, 100);
  EXPECT_EQ(r.n, 16u);
  EXPECT_EQ(r.hdr.error, 0);
  EXPECT_EQ(fs_.lookups_counted, 0u);
}

TEST_F(ReadDirTest, ErrorWithNoEntriesIsAnError) {
  fs_.readdir_error_after = 0;
  Replied r = ReadDir(true, 0, 4096);
  EXPECT_EQ(r.n, 16u);
  EXPECT_EQ(r.error(), EIO);
}

TEST_F(ReadDirTest, ErrorAfterSomeEntriesReturnsThem) {
  fs_.readdir_error_after = 3;
  Replied r = ReadDir(true, 0, 4096);
  EXPECT_EQ(r.hdr.error, 0);
  EXPECT_EQ(Parse(r.body, true).size(), 3u);
  EXPECT_EQ(fs_.lookups_counted, 1u);
}

TEST_F(ReadDirTest, NoRoomForAHeaderMeansNoCall) {
  Replied r = ReadDir(true, 0, 4096, 15);
  EXPECT_EQ(r.n, 0u);
  EXPECT_TRUE(fs_.calls().empty());
}

TEST(DirEncoder, RefusesNamesNoGuestWouldAccept) {
  std::vector<char> buf(4096);
  IovecWriter w({{buf.data(), buf.size()}});
  DirEncoder enc(w, buf.size(), false);
  EXPECT_FALSE(enc.Add(DirEntry{.name = ""}, nullptr));
  EXPECT_FALSE(enc.Add(DirEntry{.name = "a/b"}, nullptr));
  EXPECT_FALSE(enc.Add(DirEntry{.name = std::string_view("a\0b", 3)}, nullptr));
  std::string long_name(256, 'x');
  EXPECT_FALSE(enc.Add(DirEntry{.name = long_name}, nullptr));
  EXPECT_EQ(enc.entries(), 0u);
  EXPECT_EQ(w.BytesWritten(), 0u);
  EXPECT_TRUE(enc.Add(DirEntry{.name = "ok"}, nullptr));
  EXPECT_EQ(enc.bytes(), 32u);
}

TEST(DirEncoder, PlusWithoutAnEntryIsZeroed) {
  std::vector<char> buf(4096, 'Z');
  IovecWriter w({{buf.data(), buf.size()}});
  DirEncoder enc(w, buf.size(), true);
  ASSERT_TRUE(enc.Add(DirEntry{.name = "x", .ino = 9, .offset = 1, .type = DT_REG}, nullptr));
  std::vector<Decoded> d = Parse(Bytes(buf.begin(), buf.begin() + enc.bytes()), true);
  ASSERT_EQ(d.size(), 1u);
  EXPECT_EQ(d[0].entry.nodeid, 0u);
  EXPECT_EQ(d[0].entry.attr.ino, 0u);
  EXPECT_EQ(d[0].dirent.ino, 9u);
}

}  // namespace
}  // namespace hostshare::fuse::testing
