// Every opcode decodes into the right Filesystem call with the right
// arguments, and every truncated body is EINVAL with no Filesystem call.
#include <gtest/gtest.h>

#include "fuse/opcode_table.h"
#include "opcode_cases.h"

namespace hostshare::fuse::testing {
namespace {

class OpcodeTest : public ::testing::TestWithParam<OpCase> {
 protected:
  void SetUp() override {
    InitServer(server_);
    fs_.Clear();
  }
  RecordingFs fs_;
  Server server_{fs_, ServerOptions{}};
};

TEST_P(OpcodeTest, DecodesIntoTheRightCall) {
  const OpCase& c = GetParam();
  Replied r = Send(server_, MakeRequest(c.opcode, c.nodeid, c.body));
  EXPECT_EQ(fs_.calls(), c.calls);
  if (c.no_reply) {
    EXPECT_EQ(r.n, 0u);
    return;
  }
  ASSERT_GE(r.n, 16u);
  EXPECT_EQ(r.hdr.unique, 0x1234u);
  EXPECT_EQ(r.error(), c.error);
  if (c.error == 0) {
    EXPECT_EQ(r.body.size(), c.reply_body);
  }
}

TEST_P(OpcodeTest, SameWithScatteredBuffers) {
  const OpCase& c = GetParam();
  for (size_t split : {1, 3, 7, 16}) {
    if (c.opcode == FUSE_DESTROY || c.opcode == FUSE_INIT) InitServer(server_);
    fs_.Clear();
    Replied r = Send(server_, MakeRequest(c.opcode, c.nodeid, c.body), 8192, split);
    EXPECT_EQ(fs_.calls(), c.calls) << "split " << split;
    if (!c.no_reply) {
      EXPECT_EQ(r.error(), c.error) << "split " << split;
      if (c.error == 0) {
        EXPECT_EQ(r.body.size(), c.reply_body) << "split " << split;
      }
    }
  }
}

TEST_P(OpcodeTest, EveryTruncatedBodyIsEinvalWithoutACall) {
  const OpCase& c = GetParam();
  for (size_t len = 0; len < c.body.size(); ++len) {
    Bytes body(c.body.begin(), c.body.begin() + len);
    Replied r = Send(server_, MakeRequest(c.opcode, c.nodeid, body));
    EXPECT_TRUE(fs_.calls().empty()) << "len " << len << ": " << fs_.calls()[0];
    if (c.no_reply) {
      EXPECT_EQ(r.n, 0u) << "len " << len;
    } else {
      EXPECT_EQ(r.n, 16u) << "len " << len;
      EXPECT_EQ(r.error(), EINVAL) << "len " << len;
    }
    fs_.Clear();
  }
  // And the server carries on.
  Replied r = Send(server_, MakeRequest(c.opcode, c.nodeid, c.body));
  EXPECT_EQ(fs_.calls(), c.calls);
}

// The header promises more than the request carries.
TEST_P(OpcodeTest, LenBeyondTheRequestIsEinval) {
  const OpCase& c = GetParam();
  ReqOpts o;
  o.len_override = static_cast<int64_t>(sizeof(fuse_in_header) + c.body.size() + 1);
  Replied r = Send(server_, MakeRequest(c.opcode, c.nodeid, c.body, o));
  EXPECT_TRUE(fs_.calls().empty());
  EXPECT_EQ(r.n, c.no_reply ? 0u : 16u);
  if (!c.no_reply) {
    EXPECT_EQ(r.error(), EINVAL);
  }
}

// Whatever the room in the reply buffer, the reply never exceeds it, and a
// reply that cannot carry its body is an error header (or nothing).
TEST_P(OpcodeTest, ReplyNeverExceedsTheWriter) {
  const OpCase& c = GetParam();
  const size_t full = 16 + c.reply_body;
  for (size_t room = 0; room <= full + 1; ++room) {
    if (c.opcode == FUSE_DESTROY || c.opcode == FUSE_INIT) InitServer(server_);
    fs_.Clear();
    Replied r = Send(server_, MakeRequest(c.opcode, c.nodeid, c.body), room);
    EXPECT_LE(r.n, room);
    if (room < 16) {
    EXPECT_EQ(r.n, 0u) << "room " << room;
  }
  }
}

TEST_P(OpcodeTest, BeforeInitIsEio) {
  const OpCase& c = GetParam();
  if (c.opcode == FUSE_INIT) return;
  RecordingFs fs;
  Server server(fs, ServerOptions{});
  Replied r = Send(server, MakeRequest(c.opcode, c.nodeid, c.body));
  EXPECT_TRUE(fs.calls().empty());
  if (c.no_reply) {
    EXPECT_EQ(r.n, 0u);
  } else {
    EXPECT_EQ(r.error(), EIO);
  }
}

TEST_P(OpcodeTest, BackendErrorsBecomeErrorReplies) {
  const OpCase& c = GetParam();
  if (c.calls.empty() || c.no_reply || c.opcode == FUSE_INIT || c.opcode == FUSE_DESTROY) return;
  fs_.fail_with = EACCES;
  Replied r = Send(server_, MakeRequest(c.opcode, c.nodeid, c.body));
  EXPECT_EQ(r.n, 16u);
  EXPECT_EQ(r.error(), EACCES);
}

TEST_P(OpcodeTest, IsInTheTable) {
  const OpcodeSpec* spec = FindOpcode(GetParam().opcode);
  ASSERT_NE(spec, nullptr);
  EXPECT_EQ(std::string(spec->name), GetParam().label);
}

INSTANTIATE_TEST_SUITE_P(AllOpcodes, OpcodeTest, ::testing::ValuesIn(AllOpcodeCases()),
                         [](const auto& info) { return info.param.label; });

TEST(OpcodeTable, EveryKnownOpcodeHasACase) {
  std::vector<OpCase> cases = AllOpcodeCases();
  size_t known = 0;
  for (uint32_t op = 0; op < 64; ++op) {
    if (FindOpcode(op) == nullptr) continue;
    ++known;
    bool found = false;
    for (const OpCase& c : cases) found |= c.opcode == op;
    EXPECT_TRUE(found) << "no test case for opcode " << op;
  }
  EXPECT_EQ(known, cases.size());
}

}  // namespace
}  // namespace hostshare::fuse::testing
