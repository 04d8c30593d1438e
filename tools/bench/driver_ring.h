// DriverRing: the driver (guest) side of one split virtqueue (virtio 1.2
// §2.7), laid out in GuestRam, as the Linux virtio_ring driver runs it:
// every request is one head descriptor pointing at an indirect table;
// avail entries are published with one release store of avail->idx per
// batch; kicks are suppressed with EVENT_IDX (avail_event) or NO_NOTIFY;
// interrupts are re-armed by writing used_event = the last used index seen.
//
// The backend is trusted here only as far as a benchmark needs: a used id
// outside the ring is reported, never used to index memory.
//
// Thread-safety: one thread drives a ring.
#pragma once

#include <cstdint>

#include "guest_ram.h"

namespace hostshare::bench {

class DriverRing {
 public:
  // REQUIRES: size is a power of two <= 32768.
  DriverRing(GuestRam& ram, uint16_t size);
  bool ok() const { return ok_; }
  uint16_t size() const { return size_; }
  uint64_t desc_gpa() const { return desc_; }
  uint64_t avail_gpa() const { return avail_; }
  uint64_t used_gpa() const { return used_; }
  void set_event_idx(bool on) { event_idx_ = on; }

  // Queues head descriptor `head` (< size), pointing at an indirect table of
  // `n` descriptors at `table_gpa`; visible to the device after Publish().
  void AddIndirect(uint16_t head, uint64_t table_gpa, uint32_t n);
  // Publishes everything added since the last call. Returns true when the
  // device wants a kick for it.
  bool Publish();
  // Takes the next used element; false when there is none.
  bool PopUsed(uint32_t* id, uint32_t* len);
  // Asks for an interrupt at the next used element. Returns true when used
  // elements arrived meanwhile (pop them; no interrupt may come for them).
  bool EnableInterrupts();

 private:
  GuestRam& ram_;
  uint16_t size_;
  uint64_t desc_ = 0, avail_ = 0, used_ = 0;
  bool ok_ = false;
  bool event_idx_ = true;
  uint16_t avail_shadow_ = 0;  // our avail->idx
  uint16_t kicked_at_ = 0;     // avail->idx at the last kick decision
  uint16_t last_used_ = 0;     // next used element to read
};

}  // namespace hostshare::bench
