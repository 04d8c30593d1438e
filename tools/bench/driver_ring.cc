#include "driver_ring.h"

#include <atomic>
#include <cstring>

#include "virtio/descriptor_chain.h"

namespace hostshare::bench {
namespace {

constexpr uint16_t kUsedFNoNotify = 1;

uint16_t Load16(const uint8_t* p, int order) {
  return __atomic_load_n(reinterpret_cast<const uint16_t*>(p), order);
}
void Store16(uint8_t* p, uint16_t v, int order) {
  __atomic_store_n(reinterpret_cast<uint16_t*>(p), v, order);
}

// vring_need_event (virtio 1.2 §2.7.10).
bool NeedEvent(uint16_t event_idx, uint16_t new_idx, uint16_t old_idx) {
  return static_cast<uint16_t>(new_idx - event_idx - 1) < static_cast<uint16_t>(new_idx - old_idx);
}

}  // namespace

DriverRing::DriverRing(GuestRam& ram, uint16_t size) : ram_(ram), size_(size) {
  desc_ = ram.Alloc(16ull * size, 4096);
  avail_ = ram.Alloc(4 + 2ull * size + 2, 64);
  used_ = ram.Alloc(4 + 8ull * size + 2, 4096);
  ok_ = desc_ != UINT64_MAX && avail_ != UINT64_MAX && used_ != UINT64_MAX;
}

void DriverRing::AddIndirect(uint16_t head, uint64_t table_gpa, uint32_t n) {
  virtio::Desc d{table_gpa, n * 16u, virtio::kDescFIndirect, 0};
  memcpy(ram_.Host(desc_ + 16ull * head), &d, sizeof d);
  uint16_t slot = avail_shadow_ & (size_ - 1);
  Store16(ram_.Host(avail_ + 4 + 2ull * slot), head, __ATOMIC_RELAXED);
  ++avail_shadow_;
}

bool DriverRing::Publish() {
  // Descriptors and ring entries before the index (virtio 1.2 §2.7.13).
  Store16(ram_.Host(avail_ + 2), avail_shadow_, __ATOMIC_RELEASE);
  // The index before the device's suppression hint.
  std::atomic_thread_fence(std::memory_order_seq_cst);
  uint16_t old = kicked_at_;
  kicked_at_ = avail_shadow_;
  if (old == avail_shadow_) return false;
  if (event_idx_) {
    uint16_t avail_event = Load16(ram_.Host(used_ + 4 + 8ull * size_), __ATOMIC_RELAXED);
    return NeedEvent(avail_event, avail_shadow_, old);
  }
  return (Load16(ram_.Host(used_), __ATOMIC_RELAXED) & kUsedFNoNotify) == 0;
}

bool DriverRing::PopUsed(uint32_t* id, uint32_t* len) {
  uint16_t idx = Load16(ram_.Host(used_ + 2), __ATOMIC_ACQUIRE);
  if (idx == last_used_) return false;
  uint16_t slot = last_used_ & (size_ - 1);
  const uint8_t* e = ram_.Host(used_ + 4 + 8ull * slot);
  memcpy(id, e, 4);
  memcpy(len, e + 4, 4);
  ++last_used_;
  return true;
}

bool DriverRing::EnableInterrupts() {
  if (event_idx_) {
    Store16(ram_.Host(avail_ + 4 + 2ull * size_), last_used_, __ATOMIC_RELAXED);
  } else {
    Store16(ram_.Host(avail_), 0, __ATOMIC_RELAXED);
  }
  std::atomic_thread_fence(std::memory_order_seq_cst);
  return Load16(ram_.Host(used_ + 2), __ATOMIC_ACQUIRE) != last_used_;
}

}  // namespace hostshare::bench
