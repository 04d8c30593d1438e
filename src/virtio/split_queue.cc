#include "virtio/split_queue.h"

#include <atomic>
#include <cstring>

namespace hostshare::virtio {
namespace {

// Ring layouts (virtio 1.2 §2.7.6, §2.7.8):
//   avail: le16 flags; le16 idx; le16 ring[size]; le16 used_event;
//   used:  le16 flags; le16 idx; {le32 id; le32 len} ring[size]; le16 avail_event;
constexpr uint64_t AvailBytes(uint64_t size) { return 4 + 2 * size + 2; }
constexpr uint64_t UsedBytes(uint64_t size) { return 4 + 8 * size + 2; }
constexpr uint16_t kUsedFNoNotify = 1;
constexpr uint16_t kAvailFNoInterrupt = 1;

uint16_t* U16(uint8_t* base, uint64_t off) { return reinterpret_cast<uint16_t*>(base + off); }

// vring_need_event (virtio 1.2 §2.7.10): true if event_idx lies in (old, new].
bool NeedEvent(uint16_t event_idx, uint16_t new_idx, uint16_t old_idx) {
  return static_cast<uint16_t>(new_idx - event_idx - 1) < static_cast<uint16_t>(new_idx - old_idx);
}

}  // namespace

Status MapQueue(const GuestMemory& mem, uint32_t size, uint64_t desc_uva, uint64_t avail_uva,
                uint64_t used_uva, QueueLayout* layout) {
  if (size == 0 || size > kMaxQueueSize || (size & (size - 1)) != 0) return Errno{EINVAL};
  if (desc_uva % 16 != 0 || avail_uva % 2 != 0 || used_uva % 4 != 0) return Errno{EINVAL};
  void* d = mem.UserToHost(desc_uva, uint64_t{size} * sizeof(Desc));
  void* a = mem.UserToHost(avail_uva, AvailBytes(size));
  void* u = mem.UserToHost(used_uva, UsedBytes(size));
  if (d == nullptr || a == nullptr || u == nullptr) return Errno{EFAULT};
  layout->size = size;
  layout->desc = static_cast<Desc*>(d);
  layout->avail = static_cast<uint8_t*>(a);
  layout->used = static_cast<uint8_t*>(u);
  return OkStatus();
}

SplitQueue::SplitQueue(std::shared_ptr<const GuestMemory> mem, const QueueLayout& layout,
                       uint16_t next_avail, bool event_idx, bool indirect)
    : mem_(std::move(mem)),
      l_(layout),
      next_avail_(next_avail),
      avail_seen_(next_avail),
      event_idx_(event_idx),
      indirect_(indirect) {
  // The used index is ours; on (re)start it equals where the guest expects.
  used_idx_ = __atomic_load_n(U16(l_.used, 2), __ATOMIC_ACQUIRE);
  published_used_ = used_idx_;
  signalled_used_ = used_idx_;
}

uint16_t SplitQueue::LoadUsedEvent() const {
  return __atomic_load_n(U16(l_.avail, 4 + 2 * uint64_t{l_.size}), __ATOMIC_RELAXED);
}

uint16_t SplitQueue::LoadAvailIdx() const {
  return __atomic_load_n(U16(l_.avail, 2), __ATOMIC_ACQUIRE);
}

SplitQueue::PopResult SplitQueue::Pop(Chain* chain) {
  uint16_t avail_idx = LoadAvailIdx();
  avail_seen_ = avail_idx;
  if (avail_idx == next_avail_) return PopResult::kEmpty;
  // The guest may have at most `size` chains outstanding.
  if (static_cast<uint16_t>(avail_idx - next_avail_) > l_.size) {
    broken_reason_ = "avail index moved by more than the queue size";
    return PopResult::kBroken;
  }
  uint16_t slot = next_avail_ & (l_.size - 1);
  uint16_t head = __atomic_load_n(U16(l_.avail, 4 + 2 * uint64_t{slot}), __ATOMIC_RELAXED);
  error_ = WalkChain(*mem_, l_.desc, l_.size, head, indirect_, chain);
  if (error_ != ChainError::kNone) {
    broken_reason_ = ChainErrorName(error_);
    return PopResult::kBroken;
  }
  ++next_avail_;
  return PopResult::kChain;
}

void SplitQueue::PushUsed(uint16_t head, uint32_t len) {
  AddUsed(head, len);
  PublishUsed();
}

void SplitQueue::AddUsed(uint16_t head, uint32_t len) {
  uint16_t slot = used_idx_ & (l_.size - 1);
  uint8_t* elem = l_.used + 4 + 8 * uint64_t{slot};
  uint32_t id = head;
  memcpy(elem, &id, 4);
  memcpy(elem + 4, &len, 4);
  ++used_idx_;
}

void SplitQueue::PublishUsed() {
  if (published_used_ == used_idx_) return;
  // The elements before the index (virtio 1.2 §2.7.13.3).
  __atomic_store_n(U16(l_.used, 2), used_idx_, __ATOMIC_RELEASE);
  published_used_ = used_idx_;
}

bool SplitQueue::NeedsInterrupt() {
  uint16_t old = signalled_used_;
  uint16_t now = published_used_;
  if (old == now) return false;
  signalled_used_ = now;
  // Order the used index store before reading the guest's suppression hint.
  std::atomic_thread_fence(std::memory_order_seq_cst);
  if (event_idx_) {
    uint16_t used_event = LoadUsedEvent();
    return NeedEvent(used_event, now, old);
  }
  uint16_t flags = __atomic_load_n(U16(l_.avail, 0), __ATOMIC_RELAXED);
  return (flags & kAvailFNoInterrupt) == 0;
}

SplitQueue::Backlog SplitQueue::GuestBacklog() const {
  uint16_t used_event = LoadUsedEvent();
  Backlog b;
  b.ready = static_cast<uint16_t>(published_used_ - used_event);
  b.waiting = static_cast<uint16_t>(avail_seen_ - used_event);
  if (b.ready > b.waiting) b.ready = b.waiting;
  return b;
}

void SplitQueue::DisableNotifications() {
  if (event_idx_) return;
  uint16_t flags = __atomic_load_n(U16(l_.used, 0), __ATOMIC_RELAXED);
  __atomic_store_n(U16(l_.used, 0), static_cast<uint16_t>(flags | kUsedFNoNotify),
                   __ATOMIC_RELAXED);
}

bool SplitQueue::EnableNotifications() {
  if (event_idx_) {
    __atomic_store_n(U16(l_.used, 4 + 8 * uint64_t{l_.size}), next_avail_, __ATOMIC_RELAXED);
  } else {
    uint16_t flags = __atomic_load_n(U16(l_.used, 0), __ATOMIC_RELAXED);
    __atomic_store_n(U16(l_.used, 0), static_cast<uint16_t>(flags & ~kUsedFNoNotify),
                     __ATOMIC_RELAXED);
  }
  // Publish the hint before checking for chains that raced with it.
  std::atomic_thread_fence(std::memory_order_seq_cst);
  return LoadAvailIdx() != next_avail_;
}

}  // namespace hostshare::virtio
