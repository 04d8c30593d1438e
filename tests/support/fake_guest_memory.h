// FakeGuestMemory: "guest RAM" for tests, on one memfd, split into several
// regions with gaps, mapped into the test process.
//
// It plays the part of the VMM's memory: the test (acting as the guest
// driver) writes rings and buffers through it, and hands the backend either
// a GuestMemory over this process's mapping (Borrowed), a GuestMemory that
// maps the fd again the way the daemon does (Mapped), or the RegionSpecs +
// fd to send over vhost-user (FakeFrontend).
//
// Default layout (guest physical addresses):
//   A [0x000000, 0x100000)   1 MiB
//     [0x100000, 0x200000)   gap: not guest memory
//   B [0x200000, 0x300000)   1 MiB
//   C [0x300000, 0x400000)   1 MiB, contiguous with B in guest space
// In the fd (and so in every host mapping) each region is followed by a
// kFilePad hole, so B's last byte and C's first byte are never adjacent on
// the host: a translation that forgets to split at the region boundary reads
// the wrong bytes instead of getting lucky.
//
// The frontend "user" address of a region (RegionSpec::user_addr) is its
// address in this process, so ToUva() gives the addresses a VMM would send
// in SET_VRING_ADDR.
//
// A small first-fit allocator hands out guest ranges for rings, descriptor
// tables and buffers (Alloc/Free); Reserve() claims a fixed range so that a
// test can place something at an exact address (e.g. across B|C) without the
// allocator handing it out again.
//
// Thread-safety: none; the test thread owns it. The backend may of course
// read and write the memory concurrently (that is the point).
#pragma once

#include <sys/mman.h>
#include <unistd.h>

#include <cstdint>
#include <cstring>
#include <iterator>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "base/checked_math.h"
#include "base/result.h"
#include "base/scoped_fd.h"
#include "virtio/guest_memory.h"

namespace hostshare::fake {

struct RegionLayout {
  uint64_t gpa;
  uint64_t size;
};

class FakeGuestMemory {
 public:
  static constexpr uint64_t kMiB = 1 << 20;
  static constexpr uint64_t kRegionA = 0x000000;
  static constexpr uint64_t kRegionB = 0x200000;
  static constexpr uint64_t kRegionC = 0x300000;
  static constexpr uint64_t kRegionSize = kMiB;
  static constexpr uint64_t kGapStart = 0x100000;  // first byte after A
  static constexpr uint64_t kEnd = 0x400000;       // first byte after C
  static constexpr uint64_t kFilePad = 64 * 1024;  // fd hole after each region

  static std::vector<RegionLayout> DefaultLayout() {
    return {{kRegionA, kRegionSize}, {kRegionB, kRegionSize}, {kRegionC, kRegionSize}};
  }

  FakeGuestMemory() : FakeGuestMemory(DefaultLayout()) {}

  // Regions must not overlap in guest space; sizes should be page multiples.
  explicit FakeGuestMemory(const std::vector<RegionLayout>& layout) {
    fd_.reset(memfd_create("hostshare-fake-guest", MFD_CLOEXEC));
    if (!fd_.valid()) return;
    uint64_t off = 0;
    for (const RegionLayout& r : layout) {
      virtio::RegionSpec s;
      s.guest_addr = r.gpa;
      s.size = r.size;
      s.mmap_offset = off;
      specs_.push_back(s);
      off += r.size + kFilePad;
    }
    file_size_ = off;
    if (ftruncate(fd_.get(), static_cast<off_t>(file_size_)) != 0) return;
    void* p = mmap(nullptr, file_size_, PROT_READ | PROT_WRITE, MAP_SHARED, fd_.get(), 0);
    if (p == MAP_FAILED) return;
    base_ = static_cast<uint8_t*>(p);
    for (auto& s : specs_) {
      s.user_addr = reinterpret_cast<uint64_t>(base_ + s.mmap_offset);
      free_[s.guest_addr] = s.size;
    }
  }

  ~FakeGuestMemory() {
    if (base_ != nullptr) munmap(base_, file_size_);
  }
  FakeGuestMemory(const FakeGuestMemory&) = delete;
  FakeGuestMemory& operator=(const FakeGuestMemory&) = delete;

  // False if the memfd or the mapping could not be created.
  bool ok() const { return base_ != nullptr; }
  int fd() const { return fd_.get(); }
  uint64_t file_size() const { return file_size_; }
  const std::vector<virtio::RegionSpec>& specs() const { return specs_; }
  const virtio::RegionSpec& spec(size_t i) const { return specs_.at(i); }

  // --- Address translation (the test's view) -------------------------------

  // Index of the region holding gpa, or -1.
  int RegionOf(uint64_t gpa) const {
    for (size_t i = 0; i < specs_.size(); ++i) {
      if (gpa >= specs_[i].guest_addr && gpa - specs_[i].guest_addr < specs_[i].size) {
        return static_cast<int>(i);
      }
    }
    return -1;
  }

  // Host pointer for [gpa, gpa+len) if it lies inside one region, else nullptr.
  uint8_t* Host(uint64_t gpa, uint64_t len = 1) const {
    int i = RegionOf(gpa);
    if (i < 0) return nullptr;
    const auto& s = specs_[i];
    uint64_t off = gpa - s.guest_addr;
    if (!RangeInside(off, len, s.size)) return nullptr;
    return base_ + s.mmap_offset + off;
  }

  // The frontend virtual address of gpa (what SET_VRING_ADDR carries).
  // REQUIRES: gpa is guest memory.
  uint64_t ToUva(uint64_t gpa) const {
    int i = RegionOf(gpa);
    if (i < 0) return 0;
    return specs_[i].user_addr + (gpa - specs_[i].guest_addr);
  }

  // True if every byte of [gpa, gpa+len) is guest memory (possibly across regions).
  bool Contains(uint64_t gpa, uint64_t len) const {
    if (!CheckedAdd(gpa, len).has_value()) return false;
    while (len > 0) {
      int i = RegionOf(gpa);
      if (i < 0) return false;
      uint64_t take = std::min(len, specs_[i].size - (gpa - specs_[i].guest_addr));
      gpa += take;
      len -= take;
    }
    return true;
  }

  // Copies into / out of guest memory, across regions. False (nothing
  // guaranteed) if a byte is outside guest memory.
  bool Write(uint64_t gpa, const void* src, size_t len) {
    return Copy(gpa, const_cast<void*>(src), len, /*to_guest=*/true);
  }
  bool Read(uint64_t gpa, void* dst, size_t len) const {
    return const_cast<FakeGuestMemory*>(this)->Copy(gpa, dst, len, /*to_guest=*/false);
  }
  bool Write(uint64_t gpa, const std::vector<uint8_t>& bytes) {
    return Write(gpa, bytes.data(), bytes.size());
  }
  std::vector<uint8_t> ReadBytes(uint64_t gpa, size_t len) const {
    std::vector<uint8_t> out(len);
    if (!Read(gpa, out.data(), len)) out.clear();
    return out;
  }
  bool Fill(uint64_t gpa, uint8_t byte, size_t len) {
    std::vector<uint8_t> v(len, byte);
    return Write(gpa, v.data(), len);
  }
  template <typename T>
  bool Store(uint64_t gpa, const T& v) {
    return Write(gpa, &v, sizeof(T));
  }
  template <typename T>
  T Load(uint64_t gpa) const {
    T v{};
    Read(gpa, &v, sizeof(T));
    return v;
  }

  // --- GuestMemory objects for the code under test --------------------------

  // A GuestMemory over this process's mapping (MappedRegion::Borrow): the
  // device sees exactly the bytes the test writes. Valid while *this lives.
  std::shared_ptr<const virtio::GuestMemory> Borrowed() const {
    std::vector<std::shared_ptr<virtio::MappedRegion>> regions;
    for (const auto& s : specs_) {
      regions.push_back(virtio::MappedRegion::Borrow(base_ + s.mmap_offset, s));
    }
    auto mem = virtio::GuestMemory::Create(std::move(regions));
    return mem.ok() ? *mem : nullptr;
  }

  // A GuestMemory that maps the fd again, as the daemon does on SET_MEM_TABLE.
  Result<std::shared_ptr<const virtio::GuestMemory>> Mapped() const {
    std::vector<std::shared_ptr<virtio::MappedRegion>> regions;
    for (const auto& s : specs_) {
      auto r = virtio::MappedRegion::Map(fd_.get(), s);
      if (!r.ok()) return Errno{r.error()};
      regions.push_back(std::move(*r));
    }
    return virtio::GuestMemory::Create(std::move(regions));
  }

  // --- Allocation of guest ranges -------------------------------------------

  // First fit over all regions (in layout order), or only in region
  // `region` when >= 0. Never straddles regions. nullopt when full.
  std::optional<uint64_t> Alloc(uint64_t size, uint64_t align = 16, int region = -1) {
    if (size == 0) size = 1;
    if (align == 0 || (align & (align - 1)) != 0) return std::nullopt;
    for (auto it = free_.begin(); it != free_.end(); ++it) {
      uint64_t start = it->first, len = it->second;
      if (region >= 0 && RegionOf(start) != region) continue;
      uint64_t aligned = (start + align - 1) & ~(align - 1);
      if (aligned < start || aligned - start > len || size > len - (aligned - start)) continue;
      Carve(it, aligned, size);
      used_[aligned] = size;
      return aligned;
    }
    return std::nullopt;
  }
  std::optional<uint64_t> AllocIn(int region, uint64_t size, uint64_t align = 16) {
    return Alloc(size, align, region);
  }

  // Returns a range handed out by Alloc or Reserve. Unknown addresses are ignored.
  void Free(uint64_t gpa) {
    auto it = used_.find(gpa);
    if (it == used_.end()) return;
    uint64_t len = it->second;
    used_.erase(it);
    // Give back per region so that free blocks never straddle regions.
    while (len > 0) {
      int r = RegionOf(gpa);
      if (r < 0) return;
      uint64_t take = std::min(len, specs_[r].size - (gpa - specs_[r].guest_addr));
      Insert(gpa, take);
      gpa += take;
      len -= take;
    }
  }

  // Claims exactly [gpa, gpa+len) (which may straddle regions) so Alloc never
  // returns it. False if any byte is outside memory or already allocated.
  bool Reserve(uint64_t gpa, uint64_t len) {
    if (len == 0 || !Contains(gpa, len)) return false;
    // Check every piece is free first.
    for (uint64_t p = gpa, left = len; left > 0;) {
      int r = RegionOf(p);
      uint64_t take = std::min(left, specs_[r].size - (p - specs_[r].guest_addr));
      if (FindFree(p, take) == free_.end()) return false;
      p += take;
      left -= take;
    }
    for (uint64_t p = gpa, left = len; left > 0;) {
      int r = RegionOf(p);
      uint64_t take = std::min(left, specs_[r].size - (p - specs_[r].guest_addr));
      Carve(FindFree(p, take), p, take);
      p += take;
      left -= take;
    }
    used_[gpa] = len;
    return true;
  }

  // Bytes not allocated.
  uint64_t FreeBytes() const {
    uint64_t n = 0;
    for (const auto& [start, len] : free_) n += len;
    return n;
  }

 private:
  bool Copy(uint64_t gpa, void* buf, size_t len, bool to_guest) {
    auto* p = static_cast<uint8_t*>(buf);
    if (!CheckedAdd<uint64_t>(gpa, len).has_value()) return false;
    while (len > 0) {
      int i = RegionOf(gpa);
      if (i < 0) return false;
      uint64_t off = gpa - specs_[i].guest_addr;
      size_t take = static_cast<size_t>(std::min<uint64_t>(len, specs_[i].size - off));
      uint8_t* host = base_ + specs_[i].mmap_offset + off;
      if (to_guest) {
        memcpy(host, p, take);
      } else {
        memcpy(p, host, take);
      }
      p += take;
      gpa += take;
      len -= take;
    }
    return true;
  }

  // The free block that contains [gpa, gpa+len), or end().
  std::map<uint64_t, uint64_t>::iterator FindFree(uint64_t gpa, uint64_t len) {
    auto it = free_.upper_bound(gpa);
    if (it == free_.begin()) return free_.end();
    --it;
    if (gpa - it->first > it->second || len > it->second - (gpa - it->first)) return free_.end();
    return it;
  }

  // Removes [at, at+len) from the free block `it` (which contains it).
  void Carve(std::map<uint64_t, uint64_t>::iterator it, uint64_t at, uint64_t len) {
    uint64_t start = it->first, blen = it->second;
    free_.erase(it);
    if (at > start) free_[start] = at - start;
    uint64_t end = at + len, bend = start + blen;
    if (bend > end) free_[end] = bend - end;
  }

  // Adds a free range and merges it with neighbours in the same region.
  void Insert(uint64_t gpa, uint64_t len) {
    auto [it, inserted] = free_.emplace(gpa, len);
    if (!inserted) return;
    int region = RegionOf(gpa);
    auto next = std::next(it);
    if (next != free_.end() && it->first + it->second == next->first &&
        RegionOf(next->first) == region) {
      it->second += next->second;
      free_.erase(next);
    }
    if (it != free_.begin()) {
      auto prev = std::prev(it);
      if (prev->first + prev->second == it->first && RegionOf(prev->first) == region) {
        prev->second += it->second;
        free_.erase(it);
      }
    }
  }

  ScopedFd fd_;
  uint8_t* base_ = nullptr;
  uint64_t file_size_ = 0;
  std::vector<virtio::RegionSpec> specs_;
  std::map<uint64_t, uint64_t> free_;  // start gpa -> length, never straddling regions
  std::map<uint64_t, uint64_t> used_;  // start gpa -> length
};

}  // namespace hostshare::fake
