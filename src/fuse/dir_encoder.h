// DirEncoder: the DirSink the server gives Filesystem::ReadDir. It encodes
// each accepted entry as a fuse_dirent (READDIR) or fuse_direntplus
// (READDIRPLUS), 8-byte aligned, straight into the reply writer.
//
// Add() refuses (returns false, writes nothing) once the next record would
// pass the guest's requested size or the writer's room, so the backend
// stops there and, for READDIRPLUS, does not count a lookup the guest never
// sees. It also refuses names no guest would accept (empty, '/' or NUL,
// longer than NAME_MAX): such a name can only come from a backend bug.
//
// READDIRPLUS without an Entry (plus == nullptr, e.g. for "." and "..")
// encodes a zeroed fuse_entry_out: the kernel then links nothing and counts
// no lookup. Backends must pass nullptr (not an Entry) for "." and "..",
// because the kernel ignores entry_out for those names and would never
// FORGET a lookup counted for them.
//
// Trust boundary: entries come from our backend; the limit comes from a
// validated request. Thread-safety: one thread per object.
#pragma once

#include <cstddef>
#include <cstdint>

#include "base/byte_io.h"
#include "fuse/filesystem.h"

namespace hostshare::fuse {

class DirEncoder final : public DirSink {
 public:
  // Encodes at most `limit` bytes into `out`.
  DirEncoder(ByteWriter& out, size_t limit, bool plus) : out_(out), limit_(limit), plus_(plus) {}

  bool Add(const DirEntry& dirent, const Entry* plus) override;
  bool Plus() const override { return plus_; }

  size_t bytes() const { return used_; }
  size_t entries() const { return entries_; }

 private:
  ByteWriter& out_;
  size_t limit_;
  bool plus_;
  size_t used_ = 0;
  size_t entries_ = 0;
};

}  // namespace hostshare::fuse
