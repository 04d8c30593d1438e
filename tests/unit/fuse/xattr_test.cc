// Extended attributes: size query, ERANGE, size caps, SETXATTR bounds.
#include <gtest/gtest.h>
#include <sys/xattr.h>

#include "fuse_test_util.h"

namespace hostshare::fuse::testing {
namespace {

class XattrTest : public ::testing::Test {
 protected:
  void SetUp() override {
    InitServer(server_);
    fs_.Clear();
  }
  Replied Get(uint32_t size, size_t room = 1 << 20) {
    return Send(server_,
                MakeRequest(FUSE_GETXATTR, 5, Body().Struct(fuse_getxattr_in{size}).Str("user.x")),
                room);
  }
  Replied List(uint32_t size, size_t room = 1 << 20) {
    return Send(server_, MakeRequest(FUSE_LISTXATTR, 5, Body().Struct(fuse_getxattr_in{size})),
                room);
  }
  Replied Set(uint32_t size, const std::string& value, const std::string& name = "user.x") {
    return Send(server_, MakeRequest(FUSE_SETXATTR, 5,
                                     Body().Struct(fuse_setxattr_in{size, 0}).Str(name).Raw(value)));
  }
  RecordingFs fs_;
  Server server_{fs_, ServerOptions{}};
};

TEST_F(XattrTest, SizeZeroQueriesTheSize) {
  Replied r = Get(0);
  ASSERT_EQ(r.error(), 0);
  ASSERT_EQ(r.body.size(), sizeof(fuse_getxattr_out));
  EXPECT_EQ(r.As<fuse_getxattr_out>().size, 5u);
  r = List(0);
  EXPECT_EQ(r.As<fuse_getxattr_out>().size, 14u);
}

TEST_F(XattrTest, ValueIsReturned) {
  Replied r = Get(100);
  ASSERT_EQ(r.error(), 0);
  EXPECT_EQ(r.Text(), "value");
  EXPECT_EQ(fs_.calls(), std::vector<std::string>{Call("GetXattr", 5, "user.x", 100)});
  r = List(14);
  EXPECT_EQ(r.Text(), std::string("user.a\0user.b\0", 14));
}

TEST_F(XattrTest, TooSmallIsErange) {
  EXPECT_EQ(Get(4).error(), ERANGE);
  EXPECT_EQ(List(13).error(), ERANGE);
}

TEST_F(XattrTest, GuestSizeIsCappedAt64KiB) {
  Get(UINT32_MAX);
  List(1 << 20);
  EXPECT_EQ(fs_.calls(), (std::vector<std::string>{Call("GetXattr", 5, "user.x", 65536),
                                                   Call("ListXattr", 5, 65536)}));
}

TEST_F(XattrTest, BufferIsCappedByTheReplyRoom) {
  Replied r = Get(4096, 16 + 100);
  EXPECT_EQ(r.Text(), "value");
  Get(4096, 16 + 3);
  List(4096, 16 + 14);
  std::vector<std::string> calls = fs_.calls();
  ASSERT_EQ(calls.size(), 3u);
  EXPECT_EQ(calls[0], Call("GetXattr", 5, "user.x", 100));
  EXPECT_EQ(calls[1], Call("GetXattr", 5, "user.x", 3));
  EXPECT_EQ(calls[2], Call("ListXattr", 5, 14));
  // No room for any data: ERANGE without asking the backend.
  fs_.Clear();
  EXPECT_EQ(Get(4096, 16).error(), ERANGE);
  EXPECT_TRUE(fs_.calls().empty());
}

TEST_F(XattrTest, SizeQueryNeedsRoomForItsReply) {
  Replied r = Get(0, 16 + 7);
  EXPECT_EQ(r.n, 16u);
  EXPECT_NE(r.hdr.error, 0);
}

TEST_F(XattrTest, SetXattrValueBounds) {
  EXPECT_EQ(Set(3, "abc").error(), 0);
  EXPECT_EQ(Set(0, "").error(), 0);
  EXPECT_EQ(Set(65536, std::string(65536, 'v')).error(), 0);
  EXPECT_EQ(Set(65537, std::string(65537, 'v')).error(), EINVAL);
  EXPECT_EQ(Set(4, "abc").error(), EINVAL);  // value not carried
  EXPECT_EQ(Set(3, "abc", std::string(256, 'n')).error(), EINVAL);
  std::vector<std::string> calls = fs_.calls();
  ASSERT_EQ(calls.size(), 3u);
  EXPECT_EQ(calls[0], Call("SetXattr", 5, "user.x", "abc", 0));
  EXPECT_EQ(calls[1], Call("SetXattr", 5, "user.x", "", 0));
}

TEST_F(XattrTest, ValueMayContainNuls) {
  std::string v("a\0b\0", 4);
  EXPECT_EQ(Set(4, v).error(), 0);
  EXPECT_EQ(fs_.calls(), std::vector<std::string>{Call("SetXattr", 5, "user.x", v, 0)});
}

TEST(XattrCompat, WithoutSetxattrExtTheHeaderIsEightBytes) {
  RecordingFs fs;
  fs.wants.flags = 0;  // no FUSE_SETXATTR_EXT
  Server server(fs, ServerOptions{});
  InitServer(server);
  fs.Clear();
  Replied r = Send(server, MakeRequest(FUSE_SETXATTR, 5,
                                       Body().Struct(fuse_setxattr_in{2, XATTR_REPLACE}, 8)
                                           .Str("user.y")
                                           .Raw("hi")));
  EXPECT_EQ(r.error(), 0);
  EXPECT_EQ(fs.calls(), std::vector<std::string>{Call("SetXattr", 5, "user.y", "hi", XATTR_REPLACE)});
  // And with the extension negotiated, 8 bytes are too short.
  RecordingFs fs2;
  Server server2(fs2, ServerOptions{});
  InitServer(server2);
  r = Send(server2, MakeRequest(FUSE_SETXATTR, 5, Body().Struct(fuse_setxattr_in{0, 0}, 8)));
  EXPECT_EQ(r.error(), EINVAL);
}

}  // namespace
}  // namespace hostshare::fuse::testing
