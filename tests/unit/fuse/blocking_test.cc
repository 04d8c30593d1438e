// fuse::MayBlock: which requests a blocking pool takes off the queue thread.
#include "fuse/blocking.h"

#include <gtest/gtest.h>
#include <linux/fuse.h>

#include <cstring>
#include <vector>

namespace hostshare::fuse {
namespace {

std::vector<uint8_t> Request(uint32_t opcode, uint32_t size = 0) {
  std::vector<uint8_t> buf(sizeof(fuse_in_header) + sizeof(fuse_read_in), 0);
  fuse_in_header h{};
  h.opcode = opcode;
  h.len = static_cast<uint32_t>(buf.size());
  memcpy(buf.data(), &h, sizeof h);
  fuse_read_in r{};
  r.size = size;
  memcpy(buf.data() + sizeof h, &r, sizeof r);
  return buf;
}

TEST(MayBlockTest, LargeDataTransfersOnly) {
  for (uint32_t op : std::initializer_list<uint32_t>{FUSE_READ, FUSE_WRITE}) {
    auto small = Request(op, 4096);
    auto large = Request(op, kLongIoBytes);
    EXPECT_FALSE(MayBlock(small.data(), small.size())) << op;
    EXPECT_TRUE(MayBlock(large.data(), large.size())) << op;
    // Too short to carry the size: stays on the queue thread.
    EXPECT_FALSE(MayBlock(large.data(), sizeof(fuse_in_header) + 8)) << op;
  }
}

TEST(MayBlockTest, SyncsAndDirectoryListings) {
  for (uint32_t op : std::initializer_list<uint32_t>{FUSE_FSYNC, FUSE_FSYNCDIR, FUSE_SYNCFS, FUSE_FLUSH, FUSE_FALLOCATE,
                      FUSE_COPY_FILE_RANGE, FUSE_SETLKW, FUSE_READDIR, FUSE_READDIRPLUS}) {
    auto r = Request(op);
    EXPECT_TRUE(MayBlock(r.data(), r.size())) << op;
  }
}

TEST(MayBlockTest, ShortMetadataOps) {
  for (uint32_t op : std::initializer_list<uint32_t>{FUSE_LOOKUP, FUSE_GETATTR, FUSE_SETATTR, FUSE_CREATE, FUSE_UNLINK,
                      FUSE_FORGET, FUSE_BATCH_FORGET, FUSE_INIT, 0u, 9999u}) {
    auto r = Request(op);
    EXPECT_FALSE(MayBlock(r.data(), r.size())) << op;
  }
  EXPECT_FALSE(MayBlock(nullptr, 0));
  auto r = Request(FUSE_FSYNC);
  EXPECT_FALSE(MayBlock(r.data(), sizeof(fuse_in_header) - 1));
}

}  // namespace
}  // namespace hostshare::fuse
