// GuestMemory / MappedRegion: region validation and bounds-checked translation.
#include "virtio/guest_memory.h"

#include <gtest/gtest.h>
#include <sys/mman.h>
#include <unistd.h>

#include <cstring>
#include <limits>

#include "support/fake_guest_memory.h"

namespace hostshare::virtio {
namespace {

using fake::FakeGuestMemory;
constexpr uint64_t kMax = std::numeric_limits<uint64_t>::max();
constexpr uint64_t A = FakeGuestMemory::kRegionA;
constexpr uint64_t B = FakeGuestMemory::kRegionB;
constexpr uint64_t C = FakeGuestMemory::kRegionC;
constexpr uint64_t kMiB = FakeGuestMemory::kMiB;

std::vector<uint8_t> Gather(const std::vector<iovec>& v) {
  std::vector<uint8_t> out;
  for (const iovec& i : v) {
    auto* p = static_cast<uint8_t*>(i.iov_base);
    out.insert(out.end(), p, p + i.iov_len);
  }
  return out;
}

std::vector<uint8_t> Pattern(size_t n, uint8_t seed = 1) {
  std::vector<uint8_t> v(n);
  for (size_t i = 0; i < n; ++i) v[i] = static_cast<uint8_t>(seed + i * 7);
  return v;
}

// Borrowed regions over a scratch buffer, with arbitrary guest/user addresses.
class SpecTest : public ::testing::Test {
 protected:
  std::shared_ptr<MappedRegion> Region(uint64_t gpa, uint64_t size, uint64_t uva) {
    RegionSpec s;
    s.guest_addr = gpa;
    s.size = size;
    s.user_addr = uva;
    return MappedRegion::Borrow(scratch_, s);
  }
  alignas(64) uint8_t scratch_[4096]{};
};

class GuestMemoryTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(fmem_.ok());
    mem_ = fmem_.Borrowed();
    ASSERT_NE(mem_, nullptr);
  }
  FakeGuestMemory fmem_;
  std::shared_ptr<const GuestMemory> mem_;
};

TEST_F(GuestMemoryTest, RegionsAreSortedByGuestAddress) {
  ASSERT_EQ(mem_->region_count(), 3u);
  EXPECT_EQ(mem_->regions()[0]->spec().guest_addr, A);
  EXPECT_EQ(mem_->regions()[1]->spec().guest_addr, B);
  EXPECT_EQ(mem_->regions()[2]->spec().guest_addr, C);
}

TEST_F(GuestMemoryTest, TranslateInsideOneRegion) {
  std::vector<iovec> out;
  ASSERT_TRUE(mem_->Translate(B + 0x100, 64, &out).ok());
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0].iov_base, fmem_.Host(B + 0x100));
  EXPECT_EQ(out[0].iov_len, 64u);
}

TEST_F(GuestMemoryTest, TranslateWholeRegionAndFirstAndLastByte) {
  std::vector<iovec> out;
  ASSERT_TRUE(mem_->Translate(A, kMiB, &out).ok());
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0].iov_len, kMiB);
  out.clear();
  ASSERT_TRUE(mem_->Translate(A + kMiB - 1, 1, &out).ok());
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0].iov_base, fmem_.Host(A + kMiB - 1));
}

TEST_F(GuestMemoryTest, TranslateAppendsToOutput) {
  std::vector<iovec> out;
  ASSERT_TRUE(mem_->Translate(A, 8, &out).ok());
  ASSERT_TRUE(mem_->Translate(B, 8, &out).ok());
  EXPECT_EQ(out.size(), 2u);
}

TEST_F(GuestMemoryTest, TranslateStraddlingTwoRegionsSplits) {
  auto data = Pattern(64);
  ASSERT_TRUE(fmem_.Write(C - 24, data));
  std::vector<iovec> out;
  ASSERT_TRUE(mem_->Translate(C - 24, 64, &out).ok());
  ASSERT_EQ(out.size(), 2u);
  EXPECT_EQ(out[0].iov_base, fmem_.Host(C - 24));
  EXPECT_EQ(out[0].iov_len, 24u);
  EXPECT_EQ(out[1].iov_base, fmem_.Host(C));
  EXPECT_EQ(out[1].iov_len, 40u);
  // The host mappings of B and C are not adjacent: the split really matters.
  EXPECT_NE(fmem_.Host(C - 1) + 1, fmem_.Host(C));
  EXPECT_EQ(Gather(out), data);
}

TEST_F(GuestMemoryTest, TranslateAcrossBAndCWhole) {
  std::vector<iovec> out;
  ASSERT_TRUE(mem_->Translate(B, 2 * kMiB, &out).ok());
  ASSERT_EQ(out.size(), 2u);
  EXPECT_EQ(out[0].iov_len + out[1].iov_len, 2 * kMiB);
}

TEST_F(GuestMemoryTest, TranslateOutsideFails) {
  std::vector<iovec> out;
  EXPECT_EQ(mem_->Translate(FakeGuestMemory::kGapStart, 1, &out).error(), EFAULT);
  EXPECT_EQ(mem_->Translate(FakeGuestMemory::kEnd, 1, &out).error(), EFAULT);
  EXPECT_EQ(mem_->Translate(0x7fff'0000'0000, 16, &out).error(), EFAULT);
  // Starts inside A, runs into the gap.
  EXPECT_EQ(mem_->Translate(A + kMiB - 8, 16, &out).error(), EFAULT);
  // Starts inside C, runs past the end of memory.
  EXPECT_EQ(mem_->Translate(FakeGuestMemory::kEnd - 8, 16, &out).error(), EFAULT);
  // Starts in the gap, ends in B.
  EXPECT_EQ(mem_->Translate(B - 8, 16, &out).error(), EFAULT);
}

TEST_F(GuestMemoryTest, TranslateWrappingRangeFails) {
  std::vector<iovec> out;
  EXPECT_EQ(mem_->Translate(kMax - 3, 8, &out).error(), EFAULT);
  EXPECT_EQ(mem_->Translate(B, kMax, &out).error(), EFAULT);
  EXPECT_EQ(mem_->Translate(kMax, 2, &out).error(), EFAULT);
  // A length that would wrap back into region A.
  EXPECT_EQ(mem_->Translate(C, kMax - C + 0x10 + 1, &out).error(), EFAULT);
}

TEST_F(GuestMemoryTest, ZeroLengthTranslateYieldsNothing) {
  std::vector<iovec> out;
  EXPECT_TRUE(mem_->Translate(B, 0, &out).ok());
  EXPECT_TRUE(out.empty());
  // No byte is accessed, so no byte can be out of bounds.
  EXPECT_TRUE(mem_->Translate(FakeGuestMemory::kGapStart, 0, &out).ok());
  EXPECT_TRUE(mem_->Translate(kMax, 0, &out).ok());
  EXPECT_TRUE(out.empty());
}

TEST_F(GuestMemoryTest, GuestToHostIsSingleRegionOnly) {
  EXPECT_EQ(mem_->GuestToHost(B + 4, 4), fmem_.Host(B + 4));
  EXPECT_EQ(mem_->GuestToHost(C - 4, 8), nullptr);  // straddles B|C
  EXPECT_EQ(mem_->GuestToHost(FakeGuestMemory::kGapStart, 1), nullptr);
  EXPECT_EQ(mem_->GuestToHost(A, kMax), nullptr);
  EXPECT_EQ(mem_->GuestToHost(A + 1, kMax), nullptr);
}

TEST_F(GuestMemoryTest, UserToHost) {
  const RegionSpec& b = fmem_.spec(1);
  EXPECT_EQ(mem_->UserToHost(b.user_addr, 16), fmem_.Host(B));
  EXPECT_EQ(mem_->UserToHost(b.user_addr + 100, b.size - 100), fmem_.Host(B + 100));
  EXPECT_EQ(mem_->UserToHost(b.user_addr + b.size - 8, 16), nullptr);  // runs off the region
  EXPECT_EQ(mem_->UserToHost(b.user_addr + b.size, 1), nullptr);
  EXPECT_EQ(mem_->UserToHost(b.user_addr - 1, 2), nullptr);
  EXPECT_EQ(mem_->UserToHost(b.user_addr + 8, kMax), nullptr);
  EXPECT_EQ(mem_->UserToHost(B, 1), nullptr);  // a guest address is not a user address
  EXPECT_EQ(mem_->UserToHost(kMax, 1), nullptr);
}

TEST_F(GuestMemoryTest, CopyFromAcrossRegions) {
  auto data = Pattern(100, 9);
  ASSERT_TRUE(fmem_.Write(C - 50, data));
  std::vector<uint8_t> got(100);
  ASSERT_TRUE(mem_->CopyFrom(C - 50, got.data(), got.size()).ok());
  EXPECT_EQ(got, data);
  EXPECT_EQ(mem_->CopyFrom(A + kMiB - 50, got.data(), got.size()).error(), EFAULT);
  EXPECT_EQ(mem_->CopyFrom(kMax - 10, got.data(), got.size()).error(), EFAULT);
  EXPECT_TRUE(mem_->CopyFrom(FakeGuestMemory::kGapStart, got.data(), 0).ok());
}

TEST_F(GuestMemoryTest, MappedSeesTheSameBytes) {
  auto mapped = fmem_.Mapped();
  ASSERT_TRUE(mapped.ok());
  auto data = Pattern(32, 3);
  ASSERT_TRUE(fmem_.Write(C - 16, data));
  std::vector<uint8_t> got(32);
  ASSERT_TRUE((*mapped)->CopyFrom(C - 16, got.data(), got.size()).ok());
  EXPECT_EQ(got, data);
  // A write through the daemon's mapping shows up in the test's.
  auto* p = static_cast<uint8_t*>((*mapped)->GuestToHost(A + 5, 1));
  ASSERT_NE(p, nullptr);
  EXPECT_NE(p, fmem_.Host(A + 5));
  *p = 0xab;
  EXPECT_EQ(*fmem_.Host(A + 5), 0xab);
}

TEST(MappedRegionTest, UnalignedMmapOffset) {
  FakeGuestMemory fmem;
  ASSERT_TRUE(fmem.ok());
  fmem.Store<uint32_t>(B + 12, 0xdeadbeef);
  RegionSpec s = fmem.spec(1);
  s.mmap_offset += 12;
  s.guest_addr = 0x10000000;
  s.size -= 12;
  auto r = MappedRegion::Map(fmem.fd(), s);
  ASSERT_TRUE(r.ok());
  uint32_t v;
  memcpy(&v, (*r)->host(), 4);
  EXPECT_EQ(v, 0xdeadbeefu);
}

TEST(MappedRegionTest, InvalidSpecsAreRejected) {
  FakeGuestMemory fmem;
  ASSERT_TRUE(fmem.ok());
  RegionSpec s = fmem.spec(0);
  RegionSpec zero = s;
  zero.size = 0;
  EXPECT_EQ(MappedRegion::Map(fmem.fd(), zero).error(), EINVAL);
  RegionSpec wrap_gpa = s;
  wrap_gpa.guest_addr = kMax - 10;
  EXPECT_EQ(MappedRegion::Map(fmem.fd(), wrap_gpa).error(), EINVAL);
  RegionSpec wrap_uva = s;
  wrap_uva.user_addr = kMax - 10;
  EXPECT_EQ(MappedRegion::Map(fmem.fd(), wrap_uva).error(), EINVAL);
  RegionSpec wrap_off = s;
  wrap_off.mmap_offset = kMax - 10;
  EXPECT_EQ(MappedRegion::Map(fmem.fd(), wrap_off).error(), EINVAL);
  EXPECT_FALSE(MappedRegion::Map(-1, s).ok());
}

TEST(MappedRegionTest, RegionLargerThanTheFileIsRejected) {
  // A frontend that claims more memory than its fd holds would make the
  // first guest access past the end of the file raise SIGBUS in the daemon.
  FakeGuestMemory fmem;
  ASSERT_TRUE(fmem.ok());
  RegionSpec s = fmem.spec(2);
  s.size = fmem.file_size();  // runs past the end of the memfd
  EXPECT_EQ(MappedRegion::Map(fmem.fd(), s).error(), EINVAL);
  RegionSpec off = fmem.spec(2);
  off.mmap_offset = fmem.file_size();
  EXPECT_EQ(MappedRegion::Map(fmem.fd(), off).error(), EINVAL);
  // Exactly up to the end of the file is fine.
  RegionSpec last = fmem.spec(2);
  last.size = fmem.file_size() - last.mmap_offset;
  EXPECT_TRUE(MappedRegion::Map(fmem.fd(), last).ok());
}

TEST_F(SpecTest, EmptyTableIsValid) {
  auto m = GuestMemory::Create({});
  ASSERT_TRUE(m.ok());
  std::vector<iovec> out;
  EXPECT_EQ((*m)->Translate(0, 1, &out).error(), EFAULT);
}

TEST_F(SpecTest, AdjacentRegionsAreAccepted) {
  auto m = GuestMemory::Create({Region(0x1000, 0x1000, 0x10000), Region(0x2000, 0x1000, 0x11000)});
  EXPECT_TRUE(m.ok());
}

TEST_F(SpecTest, OverlapInGuestSpaceIsRejected) {
  EXPECT_EQ(
      GuestMemory::Create({Region(0x1000, 0x1000, 0x10000), Region(0x1fff, 0x1000, 0x20000)})
          .error(),
      EINVAL);
  // One inside the other.
  EXPECT_EQ(
      GuestMemory::Create({Region(0x1000, 0x10000, 0x100000), Region(0x2000, 0x10, 0x20000)})
          .error(),
      EINVAL);
  // Identical.
  EXPECT_EQ(
      GuestMemory::Create({Region(0x1000, 0x1000, 0x10000), Region(0x1000, 0x1000, 0x20000)})
          .error(),
      EINVAL);
}

TEST_F(SpecTest, OverlapInUserSpaceIsRejected) {
  EXPECT_EQ(
      GuestMemory::Create({Region(0x1000, 0x1000, 0x10000), Region(0x8000, 0x1000, 0x10fff)})
          .error(),
      EINVAL);
  EXPECT_EQ(
      GuestMemory::Create({Region(0x1000, 0x1000, 0x10000), Region(0x8000, 0x10, 0x10800)})
          .error(),
      EINVAL);
}

TEST_F(SpecTest, WrappingRegionsAreRejected) {
  EXPECT_EQ(GuestMemory::Create({Region(kMax - 0xfff, 0x2000, 0x10000)}).error(), EINVAL);
  EXPECT_EQ(GuestMemory::Create({Region(0x1000, 0x2000, kMax - 0xfff)}).error(), EINVAL);
  EXPECT_EQ(GuestMemory::Create({Region(0x1000, 0, 0x10000)}).error(), EINVAL);
  // A region ending at the very top of the address space does not wrap.
  EXPECT_TRUE(GuestMemory::Create({Region(kMax - 0xfff, 0x1000, 0x10000)}).ok());
}

TEST_F(SpecTest, NullRegionIsRejected) {
  EXPECT_EQ(GuestMemory::Create({nullptr}).error(), EINVAL);
}

TEST_F(SpecTest, AtMost32Regions) {
  std::vector<std::shared_ptr<MappedRegion>> regions;
  for (uint64_t i = 0; i < GuestMemory::kMaxRegions; ++i) {
    regions.push_back(Region(i * 0x10000, 0x1000, 0x1000000 + i * 0x10000));
  }
  auto m32 = GuestMemory::Create(regions);
  ASSERT_TRUE(m32.ok());
  EXPECT_EQ((*m32)->region_count(), 32u);
  regions.push_back(Region(0x1000000, 0x1000, 0x9000000));
  EXPECT_EQ(GuestMemory::Create(regions).error(), EINVAL);
  // WithRegion enforces the same limit.
  EXPECT_EQ((*m32)->WithRegion(Region(0x2000000, 0x1000, 0xa000000)).error(), EINVAL);
}

TEST_F(SpecTest, WithRegionAddsWithoutTouchingTheOriginal) {
  auto m = GuestMemory::Create({Region(0x1000, 0x1000, 0x10000)});
  ASSERT_TRUE(m.ok());
  auto m2 = (*m)->WithRegion(Region(0x8000, 0x1000, 0x20000));
  ASSERT_TRUE(m2.ok());
  EXPECT_EQ((*m)->region_count(), 1u);
  EXPECT_EQ((*m2)->region_count(), 2u);
  EXPECT_NE((*m2)->GuestToHost(0x8000, 1), nullptr);
  EXPECT_EQ((*m)->GuestToHost(0x8000, 1), nullptr);
  // Sorted even when added out of order.
  auto m3 = (*m2)->WithRegion(Region(0x0, 0x1000, 0x30000));
  ASSERT_TRUE(m3.ok());
  EXPECT_EQ((*m3)->regions()[0]->spec().guest_addr, 0u);
}

TEST_F(SpecTest, WithRegionRejectsOverlap) {
  auto m = GuestMemory::Create({Region(0x1000, 0x1000, 0x10000)});
  ASSERT_TRUE(m.ok());
  EXPECT_EQ((*m)->WithRegion(Region(0x1800, 0x1000, 0x20000)).error(), EINVAL);
  EXPECT_EQ((*m)->WithRegion(Region(0x8000, 0x1000, 0x10800)).error(), EINVAL);
  EXPECT_EQ((*m)->WithRegion(nullptr).error(), EINVAL);
}

TEST_F(SpecTest, WithoutRegion) {
  auto m = GuestMemory::Create({Region(0x1000, 0x1000, 0x10000), Region(0x8000, 0x1000, 0x20000)});
  ASSERT_TRUE(m.ok());
  RegionSpec s;
  s.guest_addr = 0x8000;
  s.size = 0x1000;
  s.user_addr = 0x20000;
  auto m2 = (*m)->WithoutRegion(s);
  ASSERT_TRUE(m2.ok());
  EXPECT_EQ((*m2)->region_count(), 1u);
  EXPECT_EQ((*m2)->GuestToHost(0x8000, 1), nullptr);
  EXPECT_NE((*m2)->GuestToHost(0x1000, 1), nullptr);
  EXPECT_EQ((*m)->region_count(), 2u);
  // Every identifying field must match.
  RegionSpec wrong_size = s;
  wrong_size.size = 0x800;
  EXPECT_EQ((*m)->WithoutRegion(wrong_size).error(), EINVAL);
  RegionSpec wrong_uva = s;
  wrong_uva.user_addr = 0x30000;
  EXPECT_EQ((*m)->WithoutRegion(wrong_uva).error(), EINVAL);
  EXPECT_EQ((*m2)->WithoutRegion(s).error(), EINVAL);  // already gone
  // Removing the last region leaves an empty table.
  RegionSpec first;
  first.guest_addr = 0x1000;
  first.size = 0x1000;
  first.user_addr = 0x10000;
  auto empty = (*m2)->WithoutRegion(first);
  ASSERT_TRUE(empty.ok());
  EXPECT_EQ((*empty)->region_count(), 0u);
}

TEST_F(SpecTest, TranslateOnRegionAtTopOfAddressSpace) {
  auto m = GuestMemory::Create({Region(kMax - 0xfff, 0x1000, 0x10000)});
  ASSERT_TRUE(m.ok());
  std::vector<iovec> out;
  EXPECT_TRUE((*m)->Translate(kMax - 0xfff, 0x10, &out).ok());
  EXPECT_EQ((*m)->Translate(kMax - 0x7, 0x10, &out).error(), EFAULT);
}

}  // namespace
}  // namespace hostshare::virtio
