// Synchronous FUSE calls over a QueueDriver, for set-up and tear-down:
// INIT, LOOKUP, OPEN, OPENDIR, RELEASE(DIR), FORGET. Each returns 0 or a
// positive errno (ETIMEDOUT / EPROTO when the backend did not answer
// properly).
//
// Thread-safety: as the QueueDriver.
#pragma once

#include <cstdint>
#include <string_view>

#include "queue_driver.h"

namespace hostshare::bench {

struct InitResult {
  uint32_t minor = 0;
  uint32_t max_write = 0;
  uint32_t max_pages = 0;
  uint64_t flags = 0;
};

// The flags a Linux 6.x guest offers at INIT.
uint64_t GuestInitFlags();

int FuseInit(QueueDriver& q, InitResult* out);
int FuseLookup(QueueDriver& q, uint64_t parent, std::string_view name, fuse_entry_out* out);
int FuseOpen(QueueDriver& q, uint64_t node, uint32_t flags, uint64_t* fh, bool dir = false);
int FuseRelease(QueueDriver& q, uint64_t node, uint64_t fh, bool dir = false);
int FuseForget(QueueDriver& q, uint64_t node, uint64_t nlookup);

// Writes "name\0" at p; returns the bytes written.
uint32_t PutName(uint8_t* p, std::string_view name);

}  // namespace hostshare::bench
