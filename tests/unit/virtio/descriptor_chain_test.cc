// WalkChain: every way a guest can build (or break) a descriptor chain.
#include "virtio/descriptor_chain.h"

#include <gtest/gtest.h>

#include <limits>

#include "support/fake_guest_memory.h"
#include "support/fake_virtqueue.h"

namespace hostshare::virtio {
namespace {

using fake::Bytes;
using fake::FakeGuestMemory;
using fake::FakeVirtqueue;
using fake::IndirectTable;

constexpr uint64_t A = FakeGuestMemory::kRegionA;
constexpr uint64_t B = FakeGuestMemory::kRegionB;
constexpr uint64_t C = FakeGuestMemory::kRegionC;
constexpr uint64_t kMiB = FakeGuestMemory::kMiB;
constexpr uint64_t kGap = FakeGuestMemory::kGapStart;

std::vector<uint8_t> Gather(const std::vector<iovec>& v) {
  std::vector<uint8_t> out;
  for (const iovec& i : v) {
    auto* p = static_cast<uint8_t*>(i.iov_base);
    out.insert(out.end(), p, p + i.iov_len);
  }
  return out;
}

class ChainTest : public ::testing::Test {
 protected:
  explicit ChainTest(uint32_t size = 16) : vq_(fmem_, size) {}
  void SetUp() override {
    ASSERT_TRUE(fmem_.ok());
    ASSERT_TRUE(vq_.ok());
    mem_ = fmem_.Borrowed();
  }
  ChainError Walk(uint16_t head, bool indirect = true) {
    return WalkChain(*mem_, vq_.HostLayout().desc, vq_.size(), head, indirect, &chain_);
  }
  // Writes a raw descriptor into the main table.
  void Set(uint16_t i, uint64_t addr, uint32_t len, uint16_t flags, uint16_t next = 0) {
    vq_.WriteDesc(i, Desc{addr, len, flags, next});
  }

  FakeGuestMemory fmem_;
  FakeVirtqueue vq_;
  std::shared_ptr<const GuestMemory> mem_;
  Chain chain_;
};

TEST_F(ChainTest, SingleReadable) {
  auto c = vq_.Chain().Readable("hello").Build();
  ASSERT_TRUE(c);
  ASSERT_EQ(Walk(c->head), ChainError::kNone);
  EXPECT_EQ(chain_.head, c->head);
  EXPECT_EQ(Gather(chain_.readable), Bytes("hello"));
  EXPECT_EQ(chain_.readable_len, 5u);
  EXPECT_TRUE(chain_.writable.empty());
  EXPECT_EQ(chain_.writable_len, 0u);
  EXPECT_FALSE(chain_.seen_writable);
}

TEST_F(ChainTest, SingleWritable) {
  auto c = vq_.Chain().Writable(100).Build();
  ASSERT_TRUE(c);
  ASSERT_EQ(Walk(c->head), ChainError::kNone);
  EXPECT_TRUE(chain_.readable.empty());
  ASSERT_EQ(chain_.writable.size(), 1u);
  EXPECT_EQ(chain_.writable[0].iov_base, fmem_.Host(c->writable[0].gpa));
  EXPECT_EQ(chain_.writable_len, 100u);
}

TEST_F(ChainTest, MultiReadableThenWritable) {
  auto c = vq_.Chain()
               .Readable("abc")
               .Readable("defg")
               .Readable("h")
               .Writable(10)
               .Writable(20)
               .Build();
  ASSERT_TRUE(c);
  ASSERT_EQ(Walk(c->head), ChainError::kNone);
  EXPECT_EQ(Gather(chain_.readable), Bytes("abcdefgh"));
  EXPECT_EQ(chain_.readable.size(), 3u);
  EXPECT_EQ(chain_.readable_len, 8u);
  ASSERT_EQ(chain_.writable.size(), 2u);
  EXPECT_EQ(chain_.writable_len, 30u);
  EXPECT_EQ(chain_.writable[0].iov_base, fmem_.Host(c->writable[0].gpa));
  EXPECT_EQ(chain_.writable[1].iov_base, fmem_.Host(c->writable[1].gpa));
  EXPECT_TRUE(chain_.seen_writable);
}

TEST_F(ChainTest, OutOfOrderDescriptorIndexes) {
  Set(7, 0x1000, 4, kDescFNext, 3);
  Set(3, 0x2000, 4, kDescFNext, 12);
  Set(12, 0x3000, 8, kDescFWrite);
  fmem_.Write(0x1000, Bytes("abcd"));
  fmem_.Write(0x2000, Bytes("efgh"));
  ASSERT_EQ(Walk(7), ChainError::kNone);
  EXPECT_EQ(Gather(chain_.readable), Bytes("abcdefgh"));
  EXPECT_EQ(chain_.writable_len, 8u);
}

TEST_F(ChainTest, ChainIsClearedBetweenWalks) {
  auto c1 = vq_.Chain().Readable("first").Writable(5).Build();
  auto c2 = vq_.Chain().Readable("2nd").Build();
  ASSERT_TRUE(c1 && c2);
  ASSERT_EQ(Walk(c1->head), ChainError::kNone);
  ASSERT_EQ(Walk(c2->head), ChainError::kNone);
  EXPECT_EQ(Gather(chain_.readable), Bytes("2nd"));
  EXPECT_TRUE(chain_.writable.empty());
  EXPECT_EQ(chain_.writable_len, 0u);
  EXPECT_FALSE(chain_.seen_writable);
}

TEST_F(ChainTest, HeadOutOfRange) {
  EXPECT_EQ(Walk(16), ChainError::kHeadOutOfRange);
  EXPECT_EQ(Walk(0xffff), ChainError::kHeadOutOfRange);
}

TEST_F(ChainTest, SelfLoop) {
  Set(0, 0x1000, 8, kDescFNext, 0);
  EXPECT_EQ(Walk(0), ChainError::kTooLong);
}

TEST_F(ChainTest, TwoCycle) {
  Set(0, 0x1000, 8, kDescFNext, 1);
  Set(1, 0x2000, 8, kDescFNext, 0);
  EXPECT_EQ(Walk(0), ChainError::kTooLong);
}

TEST_F(ChainTest, LoopOfWritablesIsStillBounded) {
  Set(4, 0x1000, 8, kDescFNext | kDescFWrite, 5);
  Set(5, 0x2000, 8, kDescFNext | kDescFWrite, 4);
  EXPECT_EQ(Walk(4), ChainError::kTooLong);
}

TEST_F(ChainTest, ZeroLengthLoopIsBounded) {
  // No bytes, so no size limit trips: only the step bound stops it.
  Set(0, 0, 0, kDescFNext, 0);
  EXPECT_EQ(Walk(0), ChainError::kTooLong);
}

TEST_F(ChainTest, NextOutOfRange) {
  Set(0, 0x1000, 8, kDescFNext, 16);
  EXPECT_EQ(Walk(0), ChainError::kNextOutOfRange);
  Set(0, 0x1000, 8, kDescFNext, 0xffff);
  EXPECT_EQ(Walk(0), ChainError::kNextOutOfRange);
}

TEST_F(ChainTest, NextIgnoredWithoutNextFlag) {
  Set(0, 0x1000, 8, 0, 0xffff);
  EXPECT_EQ(Walk(0), ChainError::kNone);
}

TEST_F(ChainTest, ChainAsLongAsTheTableIsAccepted) {
  for (uint16_t i = 0; i < 16; ++i) {
    Set(i, 0x1000 + 0x10 * i, 0x10, i < 15 ? kDescFNext : 0, static_cast<uint16_t>(i + 1));
  }
  ASSERT_EQ(Walk(0), ChainError::kNone);
  EXPECT_EQ(chain_.readable_len, 0x100u);
}

TEST_F(ChainTest, ChainLongerThanTheTable) {
  // Every descriptor once, then back to the start: size + 1 descriptors.
  for (uint16_t i = 0; i < 16; ++i) {
    Set(i, 0x1000, 1, kDescFNext, static_cast<uint16_t>((i + 1) % 16));
  }
  EXPECT_EQ(Walk(0), ChainError::kTooLong);
  // Entering the cycle from a later head changes nothing.
  EXPECT_EQ(Walk(9), ChainError::kTooLong);
}

TEST_F(ChainTest, ZeroLengthDescriptorIsSkipped) {
  auto c = vq_.Chain().Readable("ab").Readable(std::vector<uint8_t>{}).Readable("cd").Build();
  ASSERT_TRUE(c);
  ASSERT_EQ(Walk(c->head), ChainError::kNone);
  EXPECT_EQ(chain_.readable.size(), 2u);
  EXPECT_EQ(Gather(chain_.readable), Bytes("abcd"));
}

TEST_F(ChainTest, ZeroLengthDescriptorOutsideMemoryIsHarmless) {
  Set(0, 0x1000, 4, kDescFNext, 1);
  Set(1, std::numeric_limits<uint64_t>::max(), 0, kDescFNext, 2);
  Set(2, kGap, 0, kDescFWrite, 0);
  ASSERT_EQ(Walk(0), ChainError::kNone);
  EXPECT_EQ(chain_.readable.size(), 1u);
  EXPECT_TRUE(chain_.writable.empty());
  EXPECT_TRUE(chain_.seen_writable);
}

TEST_F(ChainTest, ReadableAfterWritable) {
  auto c = vq_.Chain().Readable("a").Writable(4).Readable("b").Build();
  ASSERT_TRUE(c);
  EXPECT_EQ(Walk(c->head), ChainError::kReadableAfterWritable);
}

TEST_F(ChainTest, ReadableAfterZeroLengthWritable) {
  auto c = vq_.Chain().Readable("a").Writable(0).Readable("b").Build();
  ASSERT_TRUE(c);
  EXPECT_EQ(Walk(c->head), ChainError::kReadableAfterWritable);
}

TEST_F(ChainTest, ZeroLengthReadableAfterWritable) {
  Set(0, 0x1000, 4, kDescFNext | kDescFWrite, 1);
  Set(1, 0x2000, 0, 0, 0);
  EXPECT_EQ(Walk(0), ChainError::kReadableAfterWritable);
}

TEST_F(ChainTest, BufferOutsideMemory) {
  Set(0, kGap + 0x10, 4, 0);
  EXPECT_EQ(Walk(0), ChainError::kBadAddress);
  Set(0, FakeGuestMemory::kEnd, 1, kDescFWrite);
  EXPECT_EQ(Walk(0), ChainError::kBadAddress);
  Set(0, 0xffff'ffff'ffff'fff0, 0x20, 0);  // wraps
  EXPECT_EQ(Walk(0), ChainError::kBadAddress);
}

TEST_F(ChainTest, BufferStraddlingTheGap) {
  Set(0, A + kMiB - 8, 16, 0);  // A's tail + the gap
  EXPECT_EQ(Walk(0), ChainError::kBadAddress);
  Set(0, B - 8, 16, kDescFWrite);  // the gap + B's head
  EXPECT_EQ(Walk(0), ChainError::kBadAddress);
  Set(0, FakeGuestMemory::kEnd - 8, 16, kDescFWrite);  // C's tail + beyond
  EXPECT_EQ(Walk(0), ChainError::kBadAddress);
}

TEST_F(ChainTest, BufferStraddlingContiguousRegionsIsSplit) {
  std::vector<uint8_t> data(32);
  for (size_t i = 0; i < data.size(); ++i) data[i] = static_cast<uint8_t>(i + 100);
  ASSERT_TRUE(fmem_.Write(C - 12, data));
  Set(0, C - 12, 32, 0);
  ASSERT_EQ(Walk(0), ChainError::kNone);
  ASSERT_EQ(chain_.readable.size(), 2u);
  EXPECT_EQ(chain_.readable[0].iov_len, 12u);
  EXPECT_EQ(chain_.readable[1].iov_len, 20u);
  EXPECT_EQ(Gather(chain_.readable), data);
  EXPECT_EQ(chain_.readable_len, 32u);
}

// ---- Indirect ---------------------------------------------------------------

TEST_F(ChainTest, IndirectOk) {
  auto c = vq_.Chain()
               .Indirect(IndirectTable().Readable("in").Readable("direct").Writable(12).Writable(4))
               .Build();
  ASSERT_TRUE(c);
  ASSERT_EQ(Walk(c->head), ChainError::kNone);
  EXPECT_EQ(Gather(chain_.readable), Bytes("indirect"));
  EXPECT_EQ(chain_.writable_len, 16u);
  ASSERT_EQ(chain_.writable.size(), 2u);
  EXPECT_EQ(chain_.writable[0].iov_base, fmem_.Host(c->writable[0].gpa));
}

TEST_F(ChainTest, IndirectWriteFlagOnTheIndirectDescriptorIsIgnored) {
  // virtio 1.2 §2.7.5.3.2: the device MUST ignore the write-only flag here.
  auto c = vq_.Chain()
               .Indirect(IndirectTable().Readable("x").Writable(4).ExtraFlags(kDescFWrite))
               .Build();
  ASSERT_TRUE(c);
  ASSERT_EQ(Walk(c->head), ChainError::kNone);
  EXPECT_EQ(chain_.readable_len, 1u);
  EXPECT_EQ(chain_.writable_len, 4u);
}

TEST_F(ChainTest, IndirectNotNegotiated) {
  auto c = vq_.Chain().Indirect(IndirectTable().Readable("x")).Build();
  ASSERT_TRUE(c);
  EXPECT_EQ(Walk(c->head, /*indirect=*/false), ChainError::kIndirectNotNegotiated);
}

TEST_F(ChainTest, IndirectLengthNotMultipleOf16) {
  auto c = vq_.Chain().Indirect(IndirectTable().Readable("x").Readable("y").Length(24)).Build();
  ASSERT_TRUE(c);
  EXPECT_EQ(Walk(c->head), ChainError::kBadIndirect);
  auto c2 = vq_.Chain().Indirect(IndirectTable().Readable("x").Length(17)).Build();
  ASSERT_TRUE(c2);
  EXPECT_EQ(Walk(c2->head), ChainError::kBadIndirect);
}

TEST_F(ChainTest, IndirectZeroLength) {
  auto c = vq_.Chain().Indirect(IndirectTable().Readable("x").Length(0)).Build();
  ASSERT_TRUE(c);
  EXPECT_EQ(Walk(c->head), ChainError::kBadIndirect);
}

TEST_F(ChainTest, IndirectTooManyEntries) {
  // More entries than any queue may have: 32769 * 16 bytes fits in region A.
  Set(0, A, (kMaxQueueSize + 1) * 16, kDescFIndirect);
  EXPECT_EQ(Walk(0), ChainError::kBadIndirect);
}

TEST_F(ChainTest, NestedIndirect) {
  auto inner = fmem_.Alloc(16, 16);
  ASSERT_TRUE(inner);
  Desc leaf{0x1000, 4, 0, 0};
  fmem_.Store(*inner, leaf);
  auto c = vq_.Chain()
               .Indirect(IndirectTable().Readable("x").Raw(Desc{*inner, 16, kDescFIndirect, 0}))
               .Build();
  ASSERT_TRUE(c);
  // The builder links "x" to the raw entry (NEXT, next = 1).
  EXPECT_EQ(Walk(c->head), ChainError::kBadIndirect);
}

TEST_F(ChainTest, NestedIndirectAsFirstEntry) {
  auto c = vq_.Chain().Indirect(IndirectTable().Raw(Desc{0x1000, 16, kDescFIndirect, 0})).Build();
  ASSERT_TRUE(c);
  EXPECT_EQ(Walk(c->head), ChainError::kBadIndirect);
}

TEST_F(ChainTest, IndirectWithNext) {
  auto c = vq_.Chain().Indirect(IndirectTable().Readable("x")).Writable(8).Build();
  ASSERT_TRUE(c);
  EXPECT_NE(vq_.ReadDesc(c->head).flags & kDescFNext, 0);
  EXPECT_EQ(Walk(c->head), ChainError::kBadIndirect);
}

TEST_F(ChainTest, IndirectNotAlone) {
  // A direct descriptor followed by an indirect one. (virtio 1.2 would allow
  // "zero or more direct descriptors then one indirect"; no driver does it
  // and this device refuses it, as documented in descriptor_chain.h.)
  auto c = vq_.Chain().Readable("head").Indirect(IndirectTable().Writable(8)).Build();
  ASSERT_TRUE(c);
  EXPECT_EQ(Walk(c->head), ChainError::kBadIndirect);
}

TEST_F(ChainTest, IndirectTableStraddlingTwoRegions) {
  // Four entries, two at the end of B and two at the start of C: the host
  // copies of the table are not contiguous (see FakeGuestMemory), so a
  // walker that indexes a host pointer past B's end reads garbage. This is
  // the libvhost-user bug class (byte- vs element-offset on a split table).
  const uint64_t table = C - 32;
  auto c = vq_.Chain()
               .Indirect(IndirectTable()
                             .Readable("one,")
                             .Readable("two,")
                             .Readable("three")
                             .Writable(64)
                             .At(table))
               .Build();
  ASSERT_TRUE(c);
  ASSERT_EQ(c->indirect_table, table);
  ASSERT_EQ(Walk(c->head), ChainError::kNone);
  EXPECT_EQ(Gather(chain_.readable), Bytes("one,two,three"));
  EXPECT_EQ(chain_.writable_len, 64u);
  ASSERT_EQ(chain_.writable.size(), 1u);
  EXPECT_EQ(chain_.writable[0].iov_base, fmem_.Host(c->writable[0].gpa));
}

TEST_F(ChainTest, IndirectTableStraddlingMidDescriptor) {
  // A descriptor itself split 8/8 across B|C.
  const uint64_t table = C - 24;
  auto c = vq_.Chain()
               .Indirect(IndirectTable().Readable("ab").Readable("cd").Writable(8).At(table))
               .Build();
  ASSERT_TRUE(c);
  ASSERT_EQ(Walk(c->head), ChainError::kNone);
  EXPECT_EQ(Gather(chain_.readable), Bytes("abcd"));
  EXPECT_EQ(chain_.writable_len, 8u);
}

TEST_F(ChainTest, IndirectTableOutsideMemory) {
  Set(0, kGap, 32, kDescFIndirect);
  EXPECT_EQ(Walk(0), ChainError::kBadAddress);
  Set(0, A + kMiB - 16, 32, kDescFIndirect);  // second entry in the gap
  EXPECT_EQ(Walk(0), ChainError::kBadAddress);
  Set(0, 0xffff'ffff'ffff'fff0, 32, kDescFIndirect);  // wraps
  EXPECT_EQ(Walk(0), ChainError::kBadAddress);
}

TEST_F(ChainTest, IndirectInnerNextOutOfRange) {
  auto c = vq_.Chain()
               .Indirect(IndirectTable()
                             .Raw(Desc{0x1000, 4, kDescFNext, 1})
                             .Raw(Desc{0x2000, 4, kDescFNext, 2}))  // only 2 entries
               .Build();
  ASSERT_TRUE(c);
  EXPECT_EQ(Walk(c->head), ChainError::kNextOutOfRange);
}

TEST_F(ChainTest, IndirectInnerLoop) {
  auto c = vq_.Chain()
               .Indirect(IndirectTable()
                             .Raw(Desc{0x1000, 4, kDescFNext, 1})
                             .Raw(Desc{0x2000, 4, kDescFNext, 0}))
               .Build();
  ASSERT_TRUE(c);
  EXPECT_EQ(Walk(c->head), ChainError::kTooLong);
  auto self = vq_.Chain().Indirect(IndirectTable().Raw(Desc{0x1000, 4, kDescFNext, 0})).Build();
  ASSERT_TRUE(self);
  EXPECT_EQ(Walk(self->head), ChainError::kTooLong);
}

TEST_F(ChainTest, IndirectReadableAfterWritable) {
  auto c = vq_.Chain().Indirect(IndirectTable().Writable(4).Readable("x")).Build();
  ASSERT_TRUE(c);
  EXPECT_EQ(Walk(c->head), ChainError::kReadableAfterWritable);
}

TEST_F(ChainTest, IndirectBufferOutsideMemory) {
  auto c = vq_.Chain().Indirect(IndirectTable().Readable("x").WritableAt(kGap, 16)).Build();
  ASSERT_TRUE(c);
  EXPECT_EQ(Walk(c->head), ChainError::kBadAddress);
}

TEST_F(ChainTest, IndirectZeroLengthEntry) {
  auto c = vq_.Chain()
               .Indirect(IndirectTable().Readable("x").Readable(std::vector<uint8_t>{}).Writable(2))
               .Build();
  ASSERT_TRUE(c);
  ASSERT_EQ(Walk(c->head), ChainError::kNone);
  EXPECT_EQ(chain_.readable.size(), 1u);
}

// ---- Size limits --------------------------------------------------------------

class BigChainTest : public ChainTest {
 protected:
  BigChainTest() : ChainTest(4096) {}
};

// Each descriptor covers all of B and C (2 MiB, split in two iovecs), so 2048
// descriptors reach 4 GiB without 4 GiB of memory.
TEST_F(BigChainTest, ReadablePartOver4GiBMinus1) {
  const uint32_t len = 2 * kMiB;
  for (uint16_t i = 0; i < 2048; ++i) Set(i, B, len, kDescFNext, static_cast<uint16_t>(i + 1));
  Set(2047, B, len, 0);  // 2048 * 2 MiB = 4 GiB: one byte too many
  EXPECT_EQ(Walk(0), ChainError::kTooBig);
  Set(2047, B, len - 1, 0);  // exactly 4 GiB - 1
  ASSERT_EQ(Walk(0), ChainError::kNone);
  EXPECT_EQ(chain_.readable_len, 0xffff'ffffull);
  EXPECT_EQ(chain_.readable.size(), 4096u);
}

TEST_F(BigChainTest, WritablePartOver4GiBMinus1) {
  const uint32_t len = 2 * kMiB;
  Set(0, A, 100, kDescFNext, 1);  // the readable part does not count
  for (uint16_t i = 1; i <= 2048; ++i) {
    Set(i, B, len, kDescFNext | kDescFWrite, static_cast<uint16_t>(i + 1));
  }
  Set(2048, B, len, kDescFWrite);
  EXPECT_EQ(Walk(0), ChainError::kTooBig);
}

TEST_F(BigChainTest, EachPartHasItsOwnLimit) {
  const uint32_t len = 2 * kMiB;
  // 4 GiB - 1 readable, then 4 GiB - 1 writable: both fit.
  for (uint16_t i = 0; i < 4096; ++i) {
    bool w = i >= 2048;
    uint32_t l = (i == 2047 || i == 4095) ? len - 1 : len;
    Set(i, B, l, static_cast<uint16_t>((i < 4095 ? kDescFNext : 0) | (w ? kDescFWrite : 0)),
        static_cast<uint16_t>(i + 1));
  }
  ASSERT_EQ(Walk(0), ChainError::kNone);
  EXPECT_EQ(chain_.readable_len, 0xffff'ffffull);
  EXPECT_EQ(chain_.writable_len, 0xffff'ffffull);
}

TEST_F(BigChainTest, IndirectPartOver4GiBMinus1) {
  // 2048 entries of 2 MiB in one indirect table (32 KiB, in region A).
  auto table = fmem_.AllocIn(0, 2048 * 16, 16);
  ASSERT_TRUE(table);
  for (uint32_t i = 0; i < 2048; ++i) {
    Desc d{B, static_cast<uint32_t>(2 * kMiB), static_cast<uint16_t>(i < 2047 ? kDescFNext : 0),
           static_cast<uint16_t>(i + 1)};
    fmem_.Store(*table + 16 * i, d);
  }
  Set(0, *table, 2048 * 16, kDescFIndirect);
  EXPECT_EQ(Walk(0), ChainError::kTooBig);
}

}  // namespace
}  // namespace hostshare::virtio
