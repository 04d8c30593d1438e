// SETXATTR, GETXATTR, LISTXATTR, REMOVEXATTR.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <sys/xattr.h>
#include <unistd.h>

#include <string>

#include "pt_test_util.h"

namespace hostshare::fs {
namespace {

using testing::PtTest;
constexpr fuse::NodeId kRoot = fuse::kRootNodeId;

std::span<const char> Val(const std::string& s) { return {s.data(), s.size()}; }

class XattrTest : public PtTest {
 protected:
  void SetUp() override {
    PassthroughConfig cfg;
    cfg.xattr = true;
    Make(cfg);
    HostWrite("f", "x");
    // Is user.* supported on the temp dir's filesystem?
    supported_ = setxattr(Host("f").c_str(), "user.probe", "1", 1, 0) == 0;
    removexattr(Host("f").c_str(), "user.probe");
  }
  Result<std::string> Get(fuse::NodeId n, const std::string& name, size_t cap = 256) {
    std::string buf(cap, '\0');
    auto r = fs_->GetXattr(ctx_, n, name, {buf.data(), buf.size()});
    if (!r.ok()) return Errno{r.error()};
    buf.resize(*r);
    return buf;
  }
  bool supported_ = false;
};

TEST_F(XattrTest, DisabledIsEnosys) {
  Make(PassthroughConfig{});
  fuse::NodeId f = LookupNode(kRoot, "f");
  char buf[16];
  EXPECT_ERRNO(fs_->SetXattr(ctx_, f, "user.a", Val("v"), 0), ENOSYS);
  EXPECT_ERRNO(fs_->GetXattr(ctx_, f, "user.a", buf), ENOSYS);
  EXPECT_ERRNO(fs_->ListXattr(ctx_, f, buf), ENOSYS);
  EXPECT_ERRNO(fs_->RemoveXattr(ctx_, f, "user.a"), ENOSYS);
}

TEST_F(XattrTest, FileAndDirRoundTrip) {
  if (!supported_) GTEST_SKIP() << "no user xattrs on this filesystem";
  mkdir(Host("d").c_str(), 0755);
  for (const char* name : {"f", "d"}) {
    SCOPED_TRACE(name);
    fuse::NodeId n = LookupNode(kRoot, name);
    ASSERT_OK(fs_->SetXattr(ctx_, n, "user.color", Val("blue"), 0));
    EXPECT_ERRNO(fs_->SetXattr(ctx_, n, "user.color", Val("red"), XATTR_CREATE), EEXIST);
    EXPECT_ERRNO(fs_->SetXattr(ctx_, n, "user.none", Val("x"), XATTR_REPLACE), ENODATA);
    auto v = Get(n, "user.color");
    ASSERT_OK(v);
    EXPECT_EQ(*v, "blue");
    auto size = fs_->GetXattr(ctx_, n, "user.color", {});
    ASSERT_OK(size);
    EXPECT_EQ(*size, 4u);
    EXPECT_ERRNO(Get(n, "user.color", 2), ERANGE);
    EXPECT_ERRNO(Get(n, "user.missing"), ENODATA);
    auto list_size = fs_->ListXattr(ctx_, n, {});
    ASSERT_OK(list_size);
    std::string list(*list_size, '\0');
    auto listed = fs_->ListXattr(ctx_, n, {list.data(), list.size()});
    ASSERT_OK(listed);
    EXPECT_NE(list.find("user.color"), std::string::npos);
    ASSERT_OK(fs_->RemoveXattr(ctx_, n, "user.color"));
    EXPECT_ERRNO(fs_->RemoveXattr(ctx_, n, "user.color"), ENODATA);
    char host[16];
    EXPECT_LT(getxattr(Host(name).c_str(), "user.color", host, sizeof(host)), 0);
  }
}

TEST_F(XattrTest, Validation) {
  fuse::NodeId f = LookupNode(kRoot, "f");
  EXPECT_ERRNO(fs_->SetXattr(ctx_, f, "user.a", Val("v"), 0x10), EINVAL);
  EXPECT_ERRNO(fs_->SetXattr(ctx_, f, "", Val("v"), 0), EINVAL);
  EXPECT_ERRNO(fs_->SetXattr(ctx_, f, std::string_view("user.a\0b", 8), Val("v"), 0), EINVAL);
  EXPECT_ERRNO(fs_->SetXattr(ctx_, f, "user." + std::string(300, 'a'), Val("v"), 0), ERANGE);
  std::string huge(XATTR_SIZE_MAX + 1, 'v');
  EXPECT_ERRNO(fs_->SetXattr(ctx_, f, "user.a", Val(huge), 0), E2BIG);
  EXPECT_ERRNO(fs_->SetXattr(ctx_, 0, "user.a", Val("v"), 0), ENOENT);
}

TEST_F(XattrTest, SymlinkXattrsStayOnTheLink) {
  if (!supported_) GTEST_SKIP() << "no user xattrs on this filesystem";
  ASSERT_EQ(setxattr(Host("f").c_str(), "user.target", "t", 1, 0), 0);
  symlink("f", Host("l").c_str());
  fuse::NodeId l = LookupNode(kRoot, "l");
  // The link's own attributes, never the target's.
  EXPECT_ERRNO(Get(l, "user.target"), ENODATA);
  // user.* is not allowed on symlinks by Linux.
  EXPECT_ERRNO(fs_->SetXattr(ctx_, l, "user.x", Val("v"), 0), EPERM);
  if (geteuid() != 0) return;
  // trusted.* is (for root), and lands on the link itself.
  auto set = fs_->SetXattr(ctx_, l, "trusted.mark", Val("link"), 0);
  if (!set.ok() && set.error() == EOPNOTSUPP) GTEST_SKIP() << "no trusted xattrs";
  ASSERT_OK(set);
  char buf[16];
  ssize_t n = lgetxattr(Host("l").c_str(), "trusted.mark", buf, sizeof(buf));
  ASSERT_EQ(n, 4);
  EXPECT_EQ(std::string(buf, 4), "link");
  EXPECT_LT(getxattr(Host("f").c_str(), "trusted.mark", buf, sizeof(buf)), 0);
  auto v = Get(l, "trusted.mark");
  ASSERT_OK(v);
  EXPECT_EQ(*v, "link");
  auto list_size = fs_->ListXattr(ctx_, l, {});
  ASSERT_OK(list_size);
  EXPECT_GT(*list_size, 0u);
  ASSERT_OK(fs_->RemoveXattr(ctx_, l, "trusted.mark"));
  EXPECT_ERRNO(Get(l, "trusted.mark"), ENODATA);
}

TEST_F(XattrTest, FifoIsNeverOpened) {
  mkfifo(Host("p").c_str(), 0644);
  fuse::NodeId p = LookupNode(kRoot, "p");
  // Would block forever if the FIFO were opened for reading.
  EXPECT_ERRNO(Get(p, "user.none"), ENODATA);
  auto list = fs_->ListXattr(ctx_, p, {});
  EXPECT_OK(list);
}

TEST_F(XattrTest, ReadonlyRefusesChanges) {
  PassthroughConfig cfg;
  cfg.xattr = true;
  cfg.readonly = true;
  Make(cfg);
  fuse::NodeId f = LookupNode(kRoot, "f");
  EXPECT_ERRNO(fs_->SetXattr(ctx_, f, "user.a", Val("v"), 0), EROFS);
  EXPECT_ERRNO(fs_->RemoveXattr(ctx_, f, "user.a"), EROFS);
  if (supported_) EXPECT_ERRNO(Get(f, "user.a"), ENODATA);
}

}  // namespace
}  // namespace hostshare::fs
