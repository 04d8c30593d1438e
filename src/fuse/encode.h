// Encoders from the host-typed results of a Filesystem (Entry, Attr,
// struct statvfs, Opened) to the FUSE wire structs.
//
// Trust boundary: inputs come from our own backend; outputs go to the guest.
// Thread-safety: pure functions.
#pragma once

#include <sys/statvfs.h>

#include <cstdint>

#include "fuse/filesystem.h"
#include "fuse/wire.h"

namespace hostshare::fuse {

// Splits a timeout in nanoseconds into the seconds + nanoseconds pair FUSE uses.
void SplitTimeout(uint64_t ns, uint64_t* sec, uint32_t* nsec);

[[nodiscard]] fuse_attr EncodeAttr(const Attr& attr);
[[nodiscard]] fuse_entry_out EncodeEntryOut(const Entry& entry);
[[nodiscard]] fuse_attr_out EncodeAttrOut(const Attr& attr);
[[nodiscard]] fuse_statfs_out EncodeStatfsOut(const struct statvfs& st);
[[nodiscard]] fuse_open_out EncodeOpenOut(const Opened& opened);

}  // namespace hostshare::fuse
