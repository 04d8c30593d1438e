// HandleTable: the open files and directories the guest holds.
//
// A handle is an index into this table, never a raw fd or pointer:
//   handle = generation << 32 | (slot * kShards + shard),   slot >= 1
// so 0 and 2^64-1 are never valid and a stale handle never names the file
// that reuses its slot. Every handle records the node it was opened on;
// using it with any other node fails EBADF (ARCHITECTURE rule 4).
//
// An OpenFile is shared (std::shared_ptr): Remove() (RELEASE) takes it out of
// the table at once, but its fd is closed only when the last in-flight
// operation using it finishes, so a racing READ never touches a reused fd.
//
// Trust boundary: handles come from the guest and are validated by Get()
// and Remove(). Thread-safety: all methods may be called concurrently;
// kShards mutexes, each held for a few loads and stores.
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <mutex>
#include <vector>

#include "base/result.h"
#include "base/scoped_fd.h"
#include "fuse/filesystem.h"

namespace hostshare::fs {

struct OpenFile {
  enum class Kind : uint8_t { kFile, kDir };
  OpenFile(ScopedFd f, fuse::NodeId n, Kind k) : fd(std::move(f)), node(n), kind(k) {}

  const ScopedFd fd;
  const fuse::NodeId node;
  const Kind kind;
  // Directories only: serialises READDIR's seek + getdents on the shared fd
  // position.
  std::mutex dir_mu;
};

class HandleTable {
 public:
  static constexpr uint32_t kShards = 16;

  HandleTable();
  ~HandleTable();
  HandleTable(const HandleTable&) = delete;
  HandleTable& operator=(const HandleTable&) = delete;

  // ENFILE when the handle space is exhausted.
  [[nodiscard]] Result<fuse::Handle> Add(std::shared_ptr<OpenFile> file);
  // EBADF unless `handle` is open, was opened on `node`, and is of `kind`.
  [[nodiscard]] Result<std::shared_ptr<OpenFile>> Get(fuse::Handle handle, fuse::NodeId node,
                                                      OpenFile::Kind kind) const;
  // Same checks as Get(); on success the handle is gone.
  [[nodiscard]] Status Remove(fuse::Handle handle, fuse::NodeId node, OpenFile::Kind kind);
  void Clear();
  size_t Size() const;

 private:
  struct Slot {
    std::shared_ptr<OpenFile> file;  // null = free
    uint32_t gen = 0;
    uint32_t next_free = 0;
  };
  struct alignas(64) Shard {
    mutable std::mutex mu;
    std::vector<Slot> slots;  // slots[0] is a never-used sentinel
    uint32_t free_head = 0;
    size_t open = 0;
  };
  // Finds the slot named by `handle` and checks it. REQUIRES: shard mutex.
  static Slot* Lookup(Shard& s, uint32_t slot, uint32_t gen, fuse::NodeId node,
                      OpenFile::Kind kind);
  static bool Decode(fuse::Handle h, uint32_t* shard, uint32_t* slot, uint32_t* gen);

  std::unique_ptr<Shard[]> shards_;
  std::atomic<uint32_t> next_shard_{0};
};

}  // namespace hostshare::fs
