// InodeTable: the node ids the guest holds, each backed by one O_PATH fd.
//
// A node id is an index into this table, never a pointer:
//   id = generation << 32 | (slot * kShards + shard),   slot >= 1
// and the root is always id 1 (kRootNodeId), an alias for its real slot.
// A slot's generation grows each time the slot is freed, so a stale id
// never names the inode that reuses its slot; a slot whose generation is
// exhausted is retired, never reused.
//
// Each host inode, keyed by (st_dev, st_ino, mount id), appears at most once
// among live entries. Entries carry the FUSE lookup count: Insert() adds one,
// Forget() subtracts (saturating, so an over-count is harmless). At zero the
// entry leaves the key index at once and its fd is closed when the last
// in-flight InodeRef lets go. The root is never freed.
//
// Memory: one 48-byte Slot per inode (std::deque storage, so slots never
// move) plus a 4-byte bucket in an open-addressing index kept at most half
// full: about 56-64 bytes per cached inode, plus the kernel's struct file
// for the O_PATH fd.
//
// Trust boundary: ids come from the guest; Get()/Forget() validate every one
// (0, 2^64-1, out of range, free, forgotten, wrong generation). Keys and fds
// come from the host kernel.
//
// Thread-safety: all methods may be called concurrently. State is split into
// kShards shards chosen by key hash, each under its own mutex held only for
// a few loads and stores (no syscall under a lock, no nested locks).
#pragma once

#include <cstddef>
#include <cstdint>
#include <deque>
#include <memory>
#include <mutex>
#include <vector>

#include "base/result.h"
#include "base/scoped_fd.h"
#include "fuse/filesystem.h"

namespace hostshare::fs {

struct InodeKey {
  uint64_t dev = 0;
  uint64_t ino = 0;
  uint64_t mnt_id = 0;  // statx STATX_MNT_ID, 0 when unknown
  bool operator==(const InodeKey&) const = default;
};

class InodeTable;

// Keeps one inode's O_PATH fd open while an operation uses it, even if the
// guest forgets the node meanwhile. Move-only.
class InodeRef {
 public:
  InodeRef() = default;
  InodeRef(InodeRef&& other) noexcept { *this = std::move(other); }
  InodeRef& operator=(InodeRef&& other) noexcept;
  InodeRef(const InodeRef&) = delete;
  InodeRef& operator=(const InodeRef&) = delete;
  ~InodeRef() { Release(); }

  int fd() const { return fd_; }             // O_PATH | O_NOFOLLOW
  uint32_t type() const { return type_; }    // S_IFMT bits
  const InodeKey& key() const { return key_; }
  fuse::NodeId id() const { return id_; }

 private:
  friend class InodeTable;
  void Release();

  InodeTable* table_ = nullptr;
  uint32_t shard_ = 0;
  uint32_t slot_ = 0;
  int fd_ = -1;
  uint32_t type_ = 0;
  InodeKey key_;
  fuse::NodeId id_ = 0;
};

class InodeTable {
 public:
  static constexpr uint32_t kShards = 16;

  InodeTable();
  ~InodeTable();
  InodeTable(const InodeTable&) = delete;
  InodeTable& operator=(const InodeTable&) = delete;

  // Installs the root (id 1, lookup count 1).
  // REQUIRES: called once, before any other method.
  [[nodiscard]] Status SetRoot(ScopedFd fd, const InodeKey& key, uint32_t type);

  struct Inserted {
    fuse::NodeId id = 0;
    uint64_t generation = 0;
  };
  // Counts one lookup of `key`. When the key is already live, `fd` is closed
  // and the existing entry is used; otherwise a new entry takes `fd`.
  // Fails ENFILE only when the id space is exhausted.
  [[nodiscard]] Result<Inserted> Insert(ScopedFd fd, const InodeKey& key, uint32_t type);

  // Counts one lookup of `key` if it is live (no fd needed: the lookup fast
  // path stats a name and finds the inode it already holds). ENOENT if not.
  [[nodiscard]] Result<Inserted> Ref(const InodeKey& key);
  // True when `key` is live (a hint: it may be forgotten right after).
  bool Contains(const InodeKey& key) const;

  // ENOENT for ids never issued (0, 2^64-1, out of range), ESTALE for ids
  // whose entry was forgotten or whose slot now holds another generation.
  [[nodiscard]] Result<InodeRef> Get(fuse::NodeId id);

  // Subtracts n lookups, saturating at 0 (root: at 1). Unknown ids are ignored.
  void Forget(fuse::NodeId id, uint64_t n);

  // Drops every entry but the root, whose lookup count becomes 1.
  void Reset();

  size_t LiveCount() const;                      // live entries incl. root
  uint64_t LookupCount(fuse::NodeId id) const;   // 0 when not live (tests)

 private:
  friend class InodeRef;
  struct Slot;
  struct Shard;

  static uint64_t Hash(const InodeKey& key);
  fuse::NodeId Encode(uint32_t shard, uint32_t slot, uint32_t gen) const;
  // Splits an id; false when it cannot name a slot.
  bool Decode(fuse::NodeId id, uint32_t* shard, uint32_t* slot, uint32_t* gen) const;
  void Unref(uint32_t shard, uint32_t slot);
  // The following REQUIRE the shard's mutex.
  static uint32_t Find(const Shard& s, const InodeKey& key, uint64_t hash);
  static void IndexInsert(Shard& s, uint32_t slot, uint64_t hash);
  static void IndexErase(Shard& s, uint32_t slot);
  static void IndexGrow(Shard& s);
  // Frees a dead slot; returns its fd for the caller to close after unlocking.
  static int FreeSlot(Shard& s, uint32_t slot);

  std::unique_ptr<Shard[]> shards_;
  uint32_t root_shard_ = 0;
  uint32_t root_slot_ = 0;
};

}  // namespace hostshare::fs
