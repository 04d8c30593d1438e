// QueueDriver: plays the guest's virtio-fs driver on one queue: a fixed set
// of request slots, each a [request | reply] chain laid out in GuestRam the
// way Linux's virtio_fs does it (in header, in args, write pages | out
// header, out args, read pages), published through one indirect table per
// slot; completions are reaped after the backend's interrupt.
//
// Thread-safety: one thread per QueueDriver.
#pragma once

#include <linux/fuse.h>

#include <cstdint>
#include <string>
#include <vector>

#include "driver_ring.h"
#include "guest_ram.h"

namespace hostshare::bench {

inline constexpr uint32_t kPage = 4096;
inline constexpr uint32_t kReqBuf = 8192;   // in header + args (names, small structs)
inline constexpr uint32_t kReplyBuf = 8192;  // out header + out args

struct Slot {
  uint16_t head = 0;
  uint64_t table_gpa = 0;
  uint64_t req_gpa = 0, reply_gpa = 0, data_gpa = 0;
  uint8_t* req = nullptr;
  uint8_t* reply = nullptr;
  uint8_t* data = nullptr;

  // The request, set by whoever fills the slot:
  uint32_t args_len = 0;   // bytes of in args after the in header
  uint32_t data_in = 0;    // payload bytes in `data` (WRITE, BATCH_FORGET)
  uint32_t out_args = 0;   // room for out args after the out header (0 = none)
  uint32_t data_out = 0;   // room in `data` for a payload reply (READ, READDIR)
  bool no_reply = false;   // FORGET-style: no writable part at all

  // Bookkeeping for the runner and the workloads.
  bool in_flight = false;
  uint64_t t_begin = 0;  // when the current op's first request was submitted
  uint32_t step = 0;
  uint64_t a = 0, b = 0, c = 0;
  std::vector<uint64_t> nodes;  // READDIRPLUS: nodes to forget

  fuse_in_header* in_header() { return reinterpret_cast<fuse_in_header*>(req); }
  uint8_t* args() { return req + sizeof(fuse_in_header); }
  const fuse_out_header* out_header() const {
    return reinterpret_cast<const fuse_out_header*>(reply);
  }
  const uint8_t* out_args_ptr() const { return reply + sizeof(fuse_out_header); }
};

class QueueDriver {
 public:
  // Lays out the ring and `depth` slots with `data_size` payload bytes each.
  QueueDriver(GuestRam& ram, uint32_t index, uint16_t ring_size, uint32_t depth,
              uint32_t data_size);
  bool ok() const { return ok_; }
  DriverRing& ring() { return ring_; }
  uint32_t index() const { return index_; }
  uint32_t depth() const { return static_cast<uint32_t>(slots_.size()); }
  Slot& slot(uint32_t i) { return slots_[i]; }
  uint32_t data_size() const { return data_size_; }
  // The queue's eventfds, known once the frontend started it.
  void SetFds(int kick_fd, int call_fd) {
    kick_fd_ = kick_fd;
    call_fd_ = call_fd;
  }

  // Sets the in header of `s` (len from args_len + data_in) for a request.
  void Prepare(Slot& s, uint32_t opcode, uint64_t nodeid, uint32_t uid = 0, uint32_t gid = 0);
  // Builds the slot's chain and adds it to the ring (published by Flush()).
  void Add(Slot& s);
  // Publishes what was added and kicks when the device asks for it.
  void Flush();
  // Waits up to `timeout_ms` for completions and returns the slots that
  // completed (indices into slot()). Empty on timeout.
  const std::vector<uint32_t>& Wait(int timeout_ms);
  // One request, synchronously (set-up and tear-down). Uses slot 0.
  // Returns the out header's error (0 = success) or -ETIMEDOUT.
  int Call(Slot& s, int timeout_ms = 10000);

  uint64_t kicks() const { return kicks_; }
  uint64_t interrupts() const { return interrupts_; }
  uint64_t unique() { return ++unique_; }

 private:
  GuestRam& ram_;
  uint32_t index_;
  DriverRing ring_;
  std::vector<Slot> slots_;
  uint32_t data_size_;
  bool ok_ = false;
  int kick_fd_ = -1, call_fd_ = -1;
  uint64_t unique_ = 0;
  uint64_t kicks_ = 0, interrupts_ = 0;
  std::vector<uint32_t> done_;
};

}  // namespace hostshare::bench
