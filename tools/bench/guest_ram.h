// GuestRam: the "guest memory" hostshare-bench shares with a vhost-user
// backend, as a VMM does: one memfd region at guest physical address 0,
// mapped into this process (its frontend address is the mapping address)
// and sent to the backend with SET_MEM_TABLE.
//
// A bump allocator hands out ranges for rings, indirect tables and request
// buffers; they live as long as the GuestRam. All of it is touched once at
// creation so that no page fault of ours lands in a timed phase.
//
// Thread-safety: Alloc() only during set-up (one thread); the memory itself
// is shared with the backend by design.
#pragma once

#include <cstdint>
#include <memory>
#include <string>

#include "base/scoped_fd.h"

namespace hostshare::bench {

class GuestRam {
 public:
  // `size` is rounded up to 2 MiB. nullptr (and `error`) on failure.
  static std::unique_ptr<GuestRam> Create(uint64_t size, std::string* error);
  ~GuestRam();
  GuestRam(const GuestRam&) = delete;
  GuestRam& operator=(const GuestRam&) = delete;

  int fd() const { return fd_.get(); }
  uint64_t size() const { return size_; }
  // Frontend ("user") virtual address of guest physical address 0.
  uint64_t uva_base() const { return reinterpret_cast<uint64_t>(base_); }
  uint8_t* Host(uint64_t gpa) const { return base_ + gpa; }
  template <typename T>
  T* As(uint64_t gpa) const {
    return reinterpret_cast<T*>(base_ + gpa);
  }

  // Reserves n bytes aligned to `align` (a power of two); returns the guest
  // physical address, or UINT64_MAX when the memory is exhausted.
  uint64_t Alloc(uint64_t n, uint64_t align = 64);
  uint64_t used() const { return next_; }

 private:
  GuestRam() = default;
  ScopedFd fd_;
  uint8_t* base_ = nullptr;
  uint64_t size_ = 0;
  uint64_t next_ = 0;
};

}  // namespace hostshare::bench
