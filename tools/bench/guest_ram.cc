#include "guest_ram.h"

#include <sys/mman.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace hostshare::bench {

std::unique_ptr<GuestRam> GuestRam::Create(uint64_t size, std::string* error) {
  constexpr uint64_t kAlign = 2 << 20;
  size = (size + kAlign - 1) & ~(kAlign - 1);
  std::unique_ptr<GuestRam> ram(new GuestRam());
  ram->fd_.reset(memfd_create("hostshare-bench-guest", MFD_CLOEXEC));
  if (!ram->fd_.valid()) {
    *error = std::string("memfd_create: ") + strerror(errno);
    return nullptr;
  }
  if (ftruncate(ram->fd_.get(), static_cast<off_t>(size)) != 0) {
    *error = std::string("ftruncate guest memory: ") + strerror(errno);
    return nullptr;
  }
  void* p = mmap(nullptr, size, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_POPULATE,
                 ram->fd_.get(), 0);
  if (p == MAP_FAILED) {
    *error = std::string("mmap guest memory: ") + strerror(errno);
    return nullptr;
  }
  ram->base_ = static_cast<uint8_t*>(p);
  ram->size_ = size;
  memset(ram->base_, 0, size);  // allocate every page now, not in a timed phase
  return ram;
}

GuestRam::~GuestRam() {
  if (base_ != nullptr) munmap(base_, size_);
}

uint64_t GuestRam::Alloc(uint64_t n, uint64_t align) {
  uint64_t start = (next_ + align - 1) & ~(align - 1);
  if (start > size_ || n > size_ - start) return UINT64_MAX;
  next_ = start + n;
  return start;
}

}  // namespace hostshare::bench
