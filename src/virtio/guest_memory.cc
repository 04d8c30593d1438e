#include "virtio/guest_memory.h"

#include <sys/mman.h>
#include <sys/stat.h>

#include <algorithm>
#include <cstring>

#include "base/checked_math.h"

namespace hostshare::virtio {
namespace {

bool SpecValid(const RegionSpec& s) {
  return s.size > 0 && CheckedAdd(s.guest_addr, s.size - 1).has_value() &&
         CheckedAdd(s.user_addr, s.size - 1).has_value() &&
         CheckedAdd(s.mmap_offset, s.size).has_value();
}

// [a, a+alen) and [b, b+blen) intersect. REQUIRES: neither wraps.
bool Overlaps(uint64_t a, uint64_t alen, uint64_t b, uint64_t blen) {
  return a <= b + (blen - 1) && b <= a + (alen - 1);
}

}  // namespace

Result<std::shared_ptr<MappedRegion>> MappedRegion::Map(int fd, const RegionSpec& spec) {
  if (!SpecValid(spec)) return Errno{EINVAL};
  // Map from offset 0 so that an unaligned mmap_offset still works; the
  // length check above guarantees mmap_offset + size does not wrap.
  uint64_t len = spec.mmap_offset + spec.size;
  if (len > SIZE_MAX) return Errno{EINVAL};
  // A region that runs past the end of its file maps fine, and the first
  // guest access beyond the end then kills the daemon with SIGBUS.
  struct stat st;
  if (fstat(fd, &st) != 0) return LastErrno();
  if (S_ISREG(st.st_mode) && len > static_cast<uint64_t>(st.st_size)) return Errno{EINVAL};
  void* base = mmap(nullptr, len, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_NORESERVE, fd, 0);
  if (base == MAP_FAILED) return LastErrno();
  // Guest memory is not worth dumping and must not be inherited.
  madvise(base, len, MADV_DONTDUMP);
  madvise(base, len, MADV_DONTFORK);
  return std::shared_ptr<MappedRegion>(
      new MappedRegion(spec, base, len, static_cast<uint8_t*>(base) + spec.mmap_offset));
}

std::shared_ptr<MappedRegion> MappedRegion::Borrow(void* host, const RegionSpec& spec) {
  return std::shared_ptr<MappedRegion>(
      new MappedRegion(spec, nullptr, 0, static_cast<uint8_t*>(host)));
}

MappedRegion::~MappedRegion() {
  if (map_base_ != nullptr) munmap(map_base_, map_len_);
}

Result<std::shared_ptr<const GuestMemory>> GuestMemory::Create(
    std::vector<std::shared_ptr<MappedRegion>> regions) {
  if (regions.size() > kMaxRegions) return Errno{EINVAL};
  for (const auto& r : regions) {
    if (!r || !SpecValid(r->spec())) return Errno{EINVAL};
  }
  for (size_t i = 0; i < regions.size(); ++i) {
    for (size_t j = i + 1; j < regions.size(); ++j) {
      const RegionSpec& a = regions[i]->spec();
      const RegionSpec& b = regions[j]->spec();
      if (Overlaps(a.guest_addr, a.size, b.guest_addr, b.size) ||
          Overlaps(a.user_addr, a.size, b.user_addr, b.size)) {
        return Errno{EINVAL};
      }
    }
  }
  std::sort(regions.begin(), regions.end(), [](const auto& a, const auto& b) {
    return a->spec().guest_addr < b->spec().guest_addr;
  });
  return std::shared_ptr<const GuestMemory>(new GuestMemory(std::move(regions)));
}

Result<std::shared_ptr<const GuestMemory>> GuestMemory::WithRegion(
    std::shared_ptr<MappedRegion> region) const {
  auto regions = regions_;
  regions.push_back(std::move(region));
  return Create(std::move(regions));
}

Result<std::shared_ptr<const GuestMemory>> GuestMemory::WithoutRegion(
    const RegionSpec& spec) const {
  auto regions = regions_;
  auto it = std::find_if(regions.begin(), regions.end(), [&](const auto& r) {
    return r->spec().guest_addr == spec.guest_addr && r->spec().size == spec.size &&
           r->spec().user_addr == spec.user_addr;
  });
  if (it == regions.end()) return Errno{EINVAL};
  regions.erase(it);
  return Create(std::move(regions));
}

const MappedRegion* GuestMemory::FindGuest(uint64_t gpa) const {
  for (const auto& r : regions_) {
    const RegionSpec& s = r->spec();
    if (gpa >= s.guest_addr && gpa - s.guest_addr < s.size) return r.get();
  }
  return nullptr;
}

Status GuestMemory::Translate(uint64_t gpa, uint64_t len, std::vector<iovec>* out) const {
  if (!CheckedAdd(gpa, len).has_value()) return Errno{EFAULT};
  while (len > 0) {
    const MappedRegion* r = FindGuest(gpa);
    if (r == nullptr) return Errno{EFAULT};
    uint64_t off = gpa - r->spec().guest_addr;
    uint64_t take = std::min(len, r->spec().size - off);
    out->push_back({r->host() + off, static_cast<size_t>(take)});
    gpa += take;
    len -= take;
  }
  return OkStatus();
}

void* GuestMemory::GuestToHost(uint64_t gpa, uint64_t len) const {
  const MappedRegion* r = FindGuest(gpa);
  if (r == nullptr) return nullptr;
  uint64_t off = gpa - r->spec().guest_addr;
  if (!RangeInside(off, len, r->spec().size)) return nullptr;
  return r->host() + off;
}

void* GuestMemory::UserToHost(uint64_t uva, uint64_t len) const {
  for (const auto& r : regions_) {
    const RegionSpec& s = r->spec();
    if (uva >= s.user_addr && uva - s.user_addr < s.size) {
      uint64_t off = uva - s.user_addr;
      if (!RangeInside(off, len, s.size)) return nullptr;
      return r->host() + off;
    }
  }
  return nullptr;
}

Status GuestMemory::CopyFrom(uint64_t gpa, void* dst, size_t len) const {
  auto* p = static_cast<uint8_t*>(dst);
  if (!CheckedAdd<uint64_t>(gpa, len).has_value()) return Errno{EFAULT};
  while (len > 0) {
    const MappedRegion* r = FindGuest(gpa);
    if (r == nullptr) return Errno{EFAULT};
    uint64_t off = gpa - r->spec().guest_addr;
    size_t take = static_cast<size_t>(std::min<uint64_t>(len, r->spec().size - off));
    memcpy(p, r->host() + off, take);
    p += take;
    gpa += take;
    len -= take;
  }
  return OkStatus();
}

}  // namespace hostshare::virtio
