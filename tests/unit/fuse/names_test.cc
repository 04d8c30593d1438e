// Names in requests: every name-carrying opcode rejects every kind of bad
// name with EINVAL and no Filesystem call; symlink targets and xattr names
// have their own bounds.
#include <fcntl.h>
#include <gtest/gtest.h>

#include <functional>

#include "fuse/names.h"
#include "fuse_test_util.h"

namespace hostshare::fuse::testing {
namespace {

// Builds a request carrying `name` (given with its NUL, or without one to
// test an unterminated name) in the position under test.
struct NameOp {
  std::string label;
  uint32_t opcode;
  std::function<Bytes(const std::string&)> body;
};

std::vector<NameOp> NameOps() {
  return {
      {"LOOKUP", FUSE_LOOKUP, [](const std::string& n) { return Body().Raw(n).bytes(); }},
      {"SYMLINK", FUSE_SYMLINK,
       [](const std::string& n) { return Body().Raw(n).Str("target").bytes(); }},
      {"MKNOD", FUSE_MKNOD,
       [](const std::string& n) { return Body().Struct(fuse_mknod_in{S_IFIFO | 0600}).Raw(n).bytes(); }},
      {"MKDIR", FUSE_MKDIR,
       [](const std::string& n) { return Body().Struct(fuse_mkdir_in{0755}).Raw(n).bytes(); }},
      {"UNLINK", FUSE_UNLINK, [](const std::string& n) { return Body().Raw(n).bytes(); }},
      {"RMDIR", FUSE_RMDIR, [](const std::string& n) { return Body().Raw(n).bytes(); }},
      {"RENAME_old", FUSE_RENAME,
       [](const std::string& n) { return Body().Struct(fuse_rename_in{2}).Raw(n).Str("b").bytes(); }},
      {"RENAME_new", FUSE_RENAME,
       [](const std::string& n) { return Body().Struct(fuse_rename_in{2}).Str("a").Raw(n).bytes(); }},
      {"RENAME2_old", FUSE_RENAME2,
       [](const std::string& n) { return Body().Struct(fuse_rename2_in{2}).Raw(n).Str("b").bytes(); }},
      {"RENAME2_new", FUSE_RENAME2,
       [](const std::string& n) { return Body().Struct(fuse_rename2_in{2}).Str("a").Raw(n).bytes(); }},
      {"LINK", FUSE_LINK,
       [](const std::string& n) { return Body().Struct(fuse_link_in{5}).Raw(n).bytes(); }},
      {"CREATE", FUSE_CREATE,
       [](const std::string& n) {
         return Body().Struct(fuse_create_in{O_CREAT, S_IFREG | 0644}).Raw(n).bytes();
       }},
  };
}

class NameTest : public ::testing::TestWithParam<NameOp> {
 protected:
  void SetUp() override {
    InitServer(server_);
    fs_.Clear();
  }
  Replied Try(const std::string& raw) {
    return Send(server_, MakeRequest(GetParam().opcode, 1, GetParam().body(raw)));
  }
  RecordingFs fs_;
  Server server_{fs_, ServerOptions{}};
};

TEST_P(NameTest, BadNamesAreEinval) {
  const std::string bad[] = {
      std::string("\0", 1),                  // empty
      std::string("a/b\0", 4),               // slash
      std::string("/\0", 2),                 //
      std::string("abc"),                    // unterminated (end of request)
  };
  for (const std::string& n : bad) {
    Replied r = Try(n);
    EXPECT_EQ(r.error(), EINVAL) << n.size();
    EXPECT_TRUE(fs_.calls().empty()) << n.size();
  }
}

TEST_P(NameTest, NamesOverNameMaxAreEnametoolong) {
  // The guest kernel sends names up to 1024 bytes; a host file system would
  // answer ENAMETOOLONG, and the guest's callers expect that errno.
  for (size_t len : {256, 1024}) {
    Replied r = Try(std::string(len, 'x') + '\0');
    EXPECT_EQ(r.error(), ENAMETOOLONG) << len;
    EXPECT_TRUE(fs_.calls().empty()) << len;
  }
}

TEST_P(NameTest, DotAndDotDotAreRefused) {
  // LOOKUP answers ENOENT (a negative entry); everything else EINVAL.
  const int expected = GetParam().opcode == FUSE_LOOKUP ? ENOENT : EINVAL;
  for (std::string n : {std::string(".\0", 2), std::string("..\0", 3)}) {
    Replied r = Try(n);
    EXPECT_EQ(r.error(), expected);
    EXPECT_TRUE(fs_.calls().empty());
  }
}

TEST_P(NameTest, NameMaxAndOddCharactersAreFine) {
  for (std::string n : {std::string(255, 'y'), std::string("..."), std::string(".hidden"),
                        std::string("sp ace\n\xff")}) {
    fs_.Clear();
    Replied r = Try(n + '\0');
    EXPECT_EQ(r.error(), 0) << n;
    ASSERT_EQ(fs_.calls().size(), 1u);
    EXPECT_NE(fs_.calls()[0].find(n), std::string::npos);
  }
}

INSTANTIATE_TEST_SUITE_P(AllNameOps, NameTest, ::testing::ValuesIn(NameOps()),
                         [](const auto& info) { return info.param.label; });

class StringBoundsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    InitServer(server_);
    fs_.Clear();
  }
  RecordingFs fs_;
  Server server_{fs_, ServerOptions{}};
};

TEST_F(StringBoundsTest, SymlinkTargetBounds) {
  auto symlink = [&](const std::string& target) {
    return Send(server_, MakeRequest(FUSE_SYMLINK, 1, Body().Str("l").Raw(target)));
  };
  EXPECT_EQ(symlink(std::string(4095, 't') + '\0').error(), 0);
  EXPECT_EQ(symlink(std::string(4096, 't') + '\0').error(), EINVAL);
  EXPECT_EQ(symlink(std::string("\0", 1)).error(), EINVAL);
  EXPECT_EQ(symlink("unterminated").error(), EINVAL);
  EXPECT_EQ(fs_.calls().size(), 1u);
}

TEST_F(StringBoundsTest, XattrNameBounds) {
  auto remove = [&](const std::string& name) {
    return Send(server_, MakeRequest(FUSE_REMOVEXATTR, 1, Body().Raw(name)));
  };
  EXPECT_EQ(remove(std::string(255, 'n') + '\0').error(), 0);
  EXPECT_EQ(remove(std::string(256, 'n') + '\0').error(), EINVAL);
  EXPECT_EQ(remove(std::string("\0", 1)).error(), EINVAL);
  EXPECT_EQ(remove("user.unterminated").error(), EINVAL);
  // Xattr names may contain '/' (they are not path components).
  EXPECT_EQ(remove(std::string("user.a/b\0", 9)).error(), 0);
  EXPECT_EQ(fs_.calls().size(), 2u);
}

TEST(CheckName, Classifies) {
  EXPECT_EQ(CheckName("a"), NameCheck::kOk);
  EXPECT_EQ(CheckName("."), NameCheck::kDotOrDotDot);
  EXPECT_EQ(CheckName(".."), NameCheck::kDotOrDotDot);
  EXPECT_EQ(CheckName(""), NameCheck::kInvalid);
  EXPECT_EQ(CheckName("a/b"), NameCheck::kInvalid);
  EXPECT_EQ(CheckName(std::string_view("a\0b", 3)), NameCheck::kInvalid);
  EXPECT_EQ(CheckName(std::string(256, 'a')), NameCheck::kTooLong);
}

}  // namespace
}  // namespace hostshare::fuse::testing
