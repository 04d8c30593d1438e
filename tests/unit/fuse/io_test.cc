// READ and WRITE, zero copy, against a real temporary file.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <stdlib.h>
#include <unistd.h>

#include <string>

#include "base/scoped_fd.h"
#include "fuse_test_util.h"

namespace hostshare::fuse::testing {
namespace {

class IoTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char path[] = "/tmp/hostshare_fuse_io_XXXXXX";
    fd_ = ScopedFd(mkstemp(path));
    ASSERT_TRUE(fd_.valid());
    unlink(path);
    fs_.data_fd = fd_.get();
    InitServer(server_);
    fs_.Clear();
  }

  std::string Pattern(size_t n, char seed = 0) {
    std::string s(n, '\0');
    for (size_t i = 0; i < n; ++i) s[i] = static_cast<char>(seed + i * 31 + (i >> 8));
    return s;
  }

  std::string FileContents() {
    std::string s(static_cast<size_t>(lseek(fd_.get(), 0, SEEK_END)), '\0');
    EXPECT_EQ(pread(fd_.get(), s.data(), s.size(), 0), static_cast<ssize_t>(s.size()));
    return s;
  }

  Replied Write(uint64_t offset, const std::string& data, uint32_t size, size_t split = 0) {
    fuse_write_in in{};
    in.fh = 7;
    in.offset = offset;
    in.size = size;
    return Send(server_, MakeRequest(FUSE_WRITE, 5, Body().Struct(in).Raw(data)), 4096, split);
  }

  Replied Read(uint64_t offset, uint32_t size, size_t room, size_t split = 0) {
    fuse_read_in in{};
    in.fh = 7;
    in.offset = offset;
    in.size = size;
    return Send(server_, MakeRequest(FUSE_READ, 5, Body().Struct(in)), room, split);
  }

  ScopedFd fd_;
  RecordingFs fs_;
  Server server_{fs_, ServerOptions{}};
};

TEST_F(IoTest, WriteGoesStraightToTheFile) {
  std::string data = Pattern(100000);
  Replied r = Write(0, data, data.size(), /*split=*/4093);
  ASSERT_EQ(r.error(), 0);
  EXPECT_EQ(r.As<fuse_write_out>().size, data.size());
  EXPECT_EQ(FileContents(), data);
  EXPECT_EQ(fs_.calls(), std::vector<std::string>{Call("Write", 5, 7, 0, 100000, 0)});
}

TEST_F(IoTest, WriteAtAnOffset) {
  ASSERT_EQ(Write(0, "aaaaaaaa", 8).error(), 0);
  ASSERT_EQ(Write(3, "XY", 2, 1).error(), 0);
  EXPECT_EQ(FileContents(), "aaaXYaaa");
}

TEST_F(IoTest, WriteSizeMustBeCarried) {
  Replied r = Write(0, "abc", 4);
  EXPECT_EQ(r.error(), EINVAL);
  r = Write(0, "", UINT32_MAX);
  EXPECT_EQ(r.error(), EINVAL);
  EXPECT_TRUE(fs_.calls().empty());
  EXPECT_EQ(FileContents(), "");
}

TEST_F(IoTest, WriteSizeMustNotExceedMaxWrite) {
  RecordingFs fs;
  fs.data_fd = fd_.get();
  Server server(fs, ServerOptions{.max_write = 4096});
  InitServer(server);
  fs.Clear();
  fuse_write_in in{};
  in.size = 4097;
  Replied r = Send(server, MakeRequest(FUSE_WRITE, 5, Body().Struct(in).Raw(Pattern(4097))));
  EXPECT_EQ(r.error(), EINVAL);
  EXPECT_TRUE(fs.calls().empty());
  in.size = 4096;
  r = Send(server, MakeRequest(FUSE_WRITE, 5, Body().Struct(in).Raw(Pattern(4096))));
  EXPECT_EQ(r.error(), 0);
}

TEST_F(IoTest, BackendCannotReadPastThePayload) {
  // The request carries trailing bytes beyond write_in.size; a backend that
  // asks for more gets only the payload.
  fs_.read_extra = 100;
  std::string data = "payload" + std::string(50, '!');
  Replied r = Write(0, data, 7);
  ASSERT_EQ(r.error(), 0);
  EXPECT_EQ(r.As<fuse_write_out>().size, 7u);
  EXPECT_EQ(FileContents(), "payload");
}

TEST_F(IoTest, WriteWithoutAFileFdUsesTheReader) {
  fs_.data_fd = -1;
  Replied r = Write(0, "hello world", 5);
  EXPECT_EQ(r.As<fuse_write_out>().size, 5u);
  EXPECT_EQ(fs_.written, "hello");
}

TEST_F(IoTest, ReadComesStraightFromTheFile) {
  std::string data = Pattern(10000, 7);
  ASSERT_EQ(pwrite(fd_.get(), data.data(), data.size(), 0), 10000);
  Replied r = Read(5000, 4096, 16 + 8192, /*split=*/1000);
  ASSERT_EQ(r.error(), 0);
  EXPECT_EQ(r.n, 16u + 4096u);
  EXPECT_EQ(r.Text(), data.substr(5000, 4096));
  EXPECT_EQ(fs_.calls(), std::vector<std::string>{Call("Read", 5, 7, 5000, 4096)});
}

TEST_F(IoTest, ShortReadAtEndOfFile) {
  std::string data = Pattern(10000);
  ASSERT_EQ(pwrite(fd_.get(), data.data(), data.size(), 0), 10000);
  Replied r = Read(8000, 4096, 16 + 4096);
  EXPECT_EQ(r.n, 16u + 2000u);
  EXPECT_EQ(r.Text(), data.substr(8000));
  r = Read(20000, 4096, 16 + 4096);
  EXPECT_EQ(r.n, 16u);
  EXPECT_EQ(r.hdr.error, 0);
}

TEST_F(IoTest, ReadIsBoundedByTheReplyRoom) {
  std::string data = Pattern(10000);
  ASSERT_EQ(pwrite(fd_.get(), data.data(), data.size(), 0), 10000);
  Replied r = Read(0, 8192, 16 + 1000);
  EXPECT_EQ(r.n, 16u + 1000u);
  EXPECT_EQ(r.Text(), data.substr(0, 1000));
  EXPECT_EQ(fs_.calls(), std::vector<std::string>{Call("Read", 5, 7, 0, 1000)});
  // No room even for the header: no reply, no backend call.
  fs_.Clear();
  EXPECT_EQ(Read(0, 8192, 15).n, 0u);
  EXPECT_TRUE(fs_.calls().empty());
}

TEST_F(IoTest, ReadIsBoundedByMaxRead) {
  RecordingFs fs;
  fs.data_fd = fd_.get();
  Server server(fs, ServerOptions{.max_write = 4096, .max_pages = 2});
  InitServer(server);
  fs.Clear();
  std::string data = Pattern(20000);
  ASSERT_EQ(pwrite(fd_.get(), data.data(), data.size(), 0), 20000);
  fuse_read_in in{};
  in.size = 16384;
  Replied r = Send(server, MakeRequest(FUSE_READ, 5, Body().Struct(in)), 16 + 16384);
  EXPECT_EQ(r.n, 16u + 8192u);  // max(max_write, max_pages * 4096)
}

TEST_F(IoTest, BackendCannotWritePastTheRequestedSize) {
  std::string data = Pattern(10000);
  ASSERT_EQ(pwrite(fd_.get(), data.data(), data.size(), 0), 10000);
  fs_.read_extra = 3000;
  Replied r = Read(0, 100, 16 + 8192);
  EXPECT_EQ(r.n, 16u + 100u);
  EXPECT_EQ(r.Text(), data.substr(0, 100));
}

TEST_F(IoTest, ReadErrorAfterTheHeaderSlotIsAPlainErrorReply) {
  fs_.fail_with = EBADF;
  Replied r = Read(0, 100, 4096);
  EXPECT_EQ(r.n, 16u);
  EXPECT_EQ(r.error(), EBADF);
  EXPECT_EQ(r.hdr.len, 16u);
  EXPECT_EQ(r.hdr.unique, 0x1234u);
}

TEST_F(IoTest, OldMinorUsesCompatReadAndWriteBodies) {
  RecordingFs fs;
  fs.data_fd = fd_.get();
  Server server(fs, ServerOptions{});
  InitServer(server, 8, FUSE_ASYNC_READ);
  fs.Clear();
  // 7.8: 24-byte write_in / read_in.
  fuse_write_in w{};
  w.offset = 2;
  w.size = 3;
  Replied r = Send(server, MakeRequest(FUSE_WRITE, 5, Body().Struct(w, 24).Raw("xyz")));
  ASSERT_EQ(r.error(), 0);
  EXPECT_EQ(FileContents(), std::string("\0\0xyz", 5));
  fuse_read_in rd{};
  rd.offset = 2;
  rd.size = 3;
  r = Send(server, MakeRequest(FUSE_READ, 5, Body().Struct(rd, 24)));
  EXPECT_EQ(r.Text(), "xyz");
  // Other compat sizes of 7.8: GETATTR without a body, short attr/entry replies.
  fs.Clear();
  r = Send(server, MakeRequest(FUSE_GETATTR, 5, {}));
  EXPECT_EQ(r.body.size(), size_t{FUSE_COMPAT_ATTR_OUT_SIZE});
  r = Send(server, MakeRequest(FUSE_LOOKUP, 1, Body().Str("x")));
  EXPECT_EQ(r.body.size(), size_t{FUSE_COMPAT_ENTRY_OUT_SIZE});
  // 7.8 added lock_owner to release_in: 16 bytes are too short now...
  r = Send(server, MakeRequest(FUSE_RELEASE, 5, Body().Struct(fuse_release_in{7, 1, 0, 0}, 16)));
  EXPECT_EQ(r.error(), EINVAL);
  // ..but not in 7.7.
  InitServer(server, 7, 0);
  fs.Clear();
  r = Send(server, MakeRequest(FUSE_RELEASE, 5, Body().Struct(fuse_release_in{7, 1, 0, 0}, 16)));
  EXPECT_EQ(r.error(), 0);
  EXPECT_EQ(fs.calls(), (std::vector<std::string>{Call("Release", 5, 7, 1, 0, 0)}));
}

TEST(CompatBodies, BeforeUmaskWasAdded) {
  RecordingFs fs;
  Server server(fs, ServerOptions{});
  InitServer(server, 11, FUSE_ASYNC_READ);
  fs.Clear();
  // 7.11: mknod_in {mode, rdev}; create sends {flags, mode}; mkdir's umask is padding.
  Send(server, MakeRequest(FUSE_MKNOD, 1, Body().Struct(fuse_mknod_in{S_IFIFO | 0600, 0}, 8).Str("p")));
  Send(server, MakeRequest(FUSE_CREATE, 1,
                           Body().Struct(fuse_create_in{O_CREAT, S_IFREG | 0644}, 8).Str("f")));
  Send(server, MakeRequest(FUSE_MKDIR, 1, Body().Struct(fuse_mkdir_in{0755, 0777}).Str("d")));
  EXPECT_EQ(fs.calls(), (std::vector<std::string>{
                            Call("Mknod", 1, "p", S_IFIFO | 0600, 0, 0),
                            Call("Create", 1, "f", S_IFREG | 0644, O_CREAT, 0),
                            Call("Mkdir", 1, "d", 0755, 0)}));
  // 7.3: the short statfs reply.
  InitServer(server, 3, 0);
  Replied r = Send(server, MakeRequest(FUSE_STATFS, 1, {}));
  EXPECT_EQ(r.body.size(), size_t{FUSE_COMPAT_STATFS_SIZE});
}

}  // namespace
}  // namespace hostshare::fuse::testing
