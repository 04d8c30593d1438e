// Guest memory: the frontend's memory regions mapped into this process, and
// address translation with bounds checks.
//
// Trust boundary: region descriptions come from the vhost-user frontend and
// are validated here (non-zero size, no wrap-around, no overlap); addresses
// come from the guest and every translation is bounds-checked with checked
// arithmetic. A translation never yields a pointer outside a mapping.
//
// Thread-safety: a GuestMemory is immutable once built and is shared between
// threads through std::shared_ptr<const GuestMemory>; a new table (ADD/REM
// region) is a new object that shares the unchanged mappings.
#pragma once

#include <sys/uio.h>

#include <cstdint>
#include <memory>
#include <vector>

#include "base/result.h"

namespace hostshare::virtio {

// One region as the frontend describes it (vhost-user VhostUserMemoryRegion).
struct RegionSpec {
  uint64_t guest_addr = 0;   // guest physical address of the first byte
  uint64_t size = 0;         // bytes
  uint64_t user_addr = 0;    // the frontend's own virtual address of the first byte
  uint64_t mmap_offset = 0;  // offset of the first byte within the fd
};

// An mmap of one region's fd; unmapped on destruction.
class MappedRegion {
 public:
  // Maps `fd` (not taken over: the caller closes it) for `spec`.
  static Result<std::shared_ptr<MappedRegion>> Map(int fd, const RegionSpec& spec);
  // Wraps memory the caller owns (tests). Nothing is unmapped.
  static std::shared_ptr<MappedRegion> Borrow(void* host, const RegionSpec& spec);
  ~MappedRegion();
  MappedRegion(const MappedRegion&) = delete;
  MappedRegion& operator=(const MappedRegion&) = delete;

  const RegionSpec& spec() const { return spec_; }
  uint8_t* host() const { return host_; }  // host address of guest_addr

 private:
  MappedRegion(const RegionSpec& spec, void* map_base, size_t map_len, uint8_t* host)
      : spec_(spec), map_base_(map_base), map_len_(map_len), host_(host) {}
  RegionSpec spec_;
  void* map_base_;   // nullptr when borrowed
  size_t map_len_;
  uint8_t* host_;
};

class GuestMemory {
 public:
  static constexpr size_t kMaxRegions = 32;

  GuestMemory() = default;
  // Validates that the regions neither overlap (in guest or frontend address
  // space) nor wrap, and that there are at most kMaxRegions. EINVAL otherwise.
  static Result<std::shared_ptr<const GuestMemory>> Create(
      std::vector<std::shared_ptr<MappedRegion>> regions);

  // A new table with `region` added / the region matching `spec` removed.
  Result<std::shared_ptr<const GuestMemory>> WithRegion(std::shared_ptr<MappedRegion> region) const;
  Result<std::shared_ptr<const GuestMemory>> WithoutRegion(const RegionSpec& spec) const;

  // Appends host iovecs covering guest [gpa, gpa+len) to `out` (one per
  // region crossed). EFAULT if any byte is outside guest memory.
  Status Translate(uint64_t gpa, uint64_t len, std::vector<iovec>* out) const;
  // Host pointer to a contiguous guest range, or nullptr if the range is not
  // entirely inside one region.
  void* GuestToHost(uint64_t gpa, uint64_t len) const;
  // Same for the frontend's virtual addresses (vring addresses use these).
  void* UserToHost(uint64_t uva, uint64_t len) const;
  // Copies guest [gpa, gpa+len) out, across region boundaries. EFAULT if unmapped.
  Status CopyFrom(uint64_t gpa, void* dst, size_t len) const;

  size_t region_count() const { return regions_.size(); }
  const std::vector<std::shared_ptr<MappedRegion>>& regions() const { return regions_; }

 private:
  explicit GuestMemory(std::vector<std::shared_ptr<MappedRegion>> regions)
      : regions_(std::move(regions)) {}
  const MappedRegion* FindGuest(uint64_t gpa) const;
  std::vector<std::shared_ptr<MappedRegion>> regions_;  // sorted by guest_addr
};

}  // namespace hostshare::virtio
