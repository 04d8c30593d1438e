// SplitQueue: the device side of a virtio split virtqueue (virtio 1.2 §2.7).
//
// Trust boundary: the rings live in guest memory. Indexes read from the
// avail ring are validated (an avail index that moves by more than the queue
// size, or a head >= size, breaks the queue); every chain goes through
// WalkChain. A broken queue stops: the owner must stop serving it.
//
// Memory ordering (virtio 1.2 §2.7.13, Linux virtio_ring.c): the avail index
// is loaded with acquire before the ring entries it covers are read; used
// elements are written before the used index is stored with release; with
// EVENT_IDX a full fence separates publishing the used index from reading
// used_event, and publishing avail_event from re-reading the avail index.
//
// Thread-safety: one thread pops (the queue's worker); one thread at a time
// adds and publishes used elements (the worker, or a pool thread holding the
// worker's used-ring lock). The two sides share no fields.
#pragma once

#include <cstdint>
#include <memory>

#include "virtio/descriptor_chain.h"
#include "virtio/guest_memory.h"

namespace hostshare::virtio {

struct QueueLayout {
  uint32_t size = 0;     // power of two <= kMaxQueueSize
  Desc* desc = nullptr;  // host pointers, validated to cover the rings
  uint8_t* avail = nullptr;
  uint8_t* used = nullptr;
};

// Checks alignment and that the three rings of `size` entries are inside
// guest memory at the given frontend virtual addresses; fills `layout`.
Status MapQueue(const GuestMemory& mem, uint32_t size, uint64_t desc_uva, uint64_t avail_uva,
                uint64_t used_uva, QueueLayout* layout);

class SplitQueue {
 public:
  // `mem` must stay the table the layout was mapped from while in use.
  SplitQueue(std::shared_ptr<const GuestMemory> mem, const QueueLayout& layout,
             uint16_t next_avail, bool event_idx, bool indirect);

  enum class PopResult { kChain, kEmpty, kBroken };
  // Pops the next chain into `chain`. kBroken: the guest corrupted the ring
  // (error() says how); the queue must no longer be used.
  PopResult Pop(Chain* chain);
  ChainError error() const { return error_; }
  const char* broken_reason() const { return broken_reason_; }

  // Returns a chain to the guest with `len` bytes written: AddUsed +
  // PublishUsed.
  void PushUsed(uint16_t head, uint32_t len);
  // Writes a used element without making it visible yet; a batch of them
  // becomes visible with one PublishUsed() (one release store of used->idx).
  void AddUsed(uint16_t head, uint32_t len);
  void PublishUsed();
  // True when the guest wants an interrupt for what was published since the
  // last call (EVENT_IDX aware); resets the tracking.
  bool NeedsInterrupt();
  // EVENT_IDX only: of the chains the guest is waiting for (made available
  // and not yet reaped, as its used_event says), how many are published.
  // A hint for interrupt moderation, read without a fence (a hostile guest
  // can only make it wrong, and it never decides whether the end-of-pass
  // check is made).
  struct Backlog {
    uint16_t ready;    // published, not reaped
    uint16_t waiting;  // made available (as Pop last saw), not reaped
  };
  Backlog GuestBacklog() const;
  // While the device drains the ring, the guest need not kick: without
  // EVENT_IDX this sets VRING_USED_F_NO_NOTIFY (with EVENT_IDX the stale
  // avail_event already suppresses kicks).
  void DisableNotifications();
  // Re-arms kick notifications after the avail ring was drained. Returns
  // true if new chains arrived meanwhile (the caller must pop again).
  bool EnableNotifications();

  // True if the guest made chains available that were not popped yet.
  bool HasAvailable() const { return LoadAvailIdx() != next_avail_; }
  bool event_idx() const { return event_idx_; }
  uint16_t next_avail() const { return next_avail_; }
  uint16_t used_idx() const { return used_idx_; }
  const GuestMemory& memory() const { return *mem_; }

 private:
  uint16_t LoadAvailIdx() const;
  uint16_t LoadUsedEvent() const;  // avail->used_event (EVENT_IDX)
  std::shared_ptr<const GuestMemory> mem_;
  QueueLayout l_;
  uint16_t next_avail_;
  uint16_t avail_seen_;      // the avail index as Pop last read it
  uint16_t used_idx_;        // next used slot (AddUsed)
  uint16_t published_used_;  // used->idx as the guest sees it
  uint16_t signalled_used_;  // published_used_ at the last interrupt decision
  bool event_idx_;
  bool indirect_;
  ChainError error_ = ChainError::kNone;
  const char* broken_reason_ = nullptr;
};

}  // namespace hostshare::virtio
