#include "fs/passthrough/inode_table.h"

#include <unistd.h>

#include <cerrno>
#include <limits>

namespace hostshare::fs {

struct InodeTable::Slot {
  InodeKey key;
  uint64_t lookups = 0;  // FUSE lookup count; 0 = free or dying
  int32_t fd = -1;       // O_PATH fd; -1 = free
  uint32_t gen = 0;
  uint32_t refs = 0;     // in-flight InodeRefs
  uint32_t aux = 0;      // live: S_IFMT type bits; free: next free slot (0 = none)
};

struct alignas(64) InodeTable::Shard {
  mutable std::mutex mu;
  std::deque<Slot> slots;         // slots[0] is a never-used sentinel
  uint32_t free_head = 0;         // 0 = empty free list
  std::vector<uint32_t> buckets;  // open addressing, linear probing; 0 = empty
  size_t indexed = 0;             // non-empty buckets
  size_t live = 0;                // slots with lookups > 0
};

namespace {

constexpr uint32_t kRetiredGen = std::numeric_limits<uint32_t>::max();
// Largest slot number such that slot * kShards + shard fits in 32 bits.
constexpr uint32_t kMaxSlot = (std::numeric_limits<uint32_t>::max() / InodeTable::kShards) - 1;
constexpr size_t kMinBuckets = 16;

void CloseIfValid(int fd) {
  if (fd >= 0) ::close(fd);
}

}  // namespace

InodeRef& InodeRef::operator=(InodeRef&& other) noexcept {
  if (this != &other) {
    Release();
    table_ = std::exchange(other.table_, nullptr);
    shard_ = other.shard_;
    slot_ = other.slot_;
    fd_ = std::exchange(other.fd_, -1);
    type_ = other.type_;
    key_ = other.key_;
    id_ = other.id_;
  }
  return *this;
}

void InodeRef::Release() {
  if (table_ != nullptr) {
    table_->Unref(shard_, slot_);
    table_ = nullptr;
    fd_ = -1;
  }
}

InodeTable::InodeTable() : shards_(new Shard[kShards]) {
  static_assert(sizeof(Slot) == 48, "keep the per-inode footprint small");
  for (uint32_t i = 0; i < kShards; ++i) shards_[i].slots.emplace_back();  // sentinel
}

InodeTable::~InodeTable() {
  // REQUIRES: no InodeRef outlives the table.
  for (uint32_t i = 0; i < kShards; ++i) {
    for (Slot& e : shards_[i].slots) CloseIfValid(e.fd);
  }
}

uint64_t InodeTable::Hash(const InodeKey& key) {
  uint64_t x = key.dev * 0x9E3779B97F4A7C15ULL;
  x ^= key.ino;
  x ^= key.mnt_id * 0xC2B2AE3D27D4EB4FULL;
  // splitmix64 finaliser
  x ^= x >> 30;
  x *= 0xBF58476D1CE4E5B9ULL;
  x ^= x >> 27;
  x *= 0x94D049BB133111EBULL;
  x ^= x >> 31;
  return x;
}

fuse::NodeId InodeTable::Encode(uint32_t shard, uint32_t slot, uint32_t gen) const {
  if (shard == root_shard_ && slot == root_slot_) return fuse::kRootNodeId;
  return (static_cast<uint64_t>(gen) << 32) | (static_cast<uint64_t>(slot) * kShards + shard);
}

bool InodeTable::Decode(fuse::NodeId id, uint32_t* shard, uint32_t* slot, uint32_t* gen) const {
  if (id == fuse::kRootNodeId) {
    *shard = root_shard_;
    *slot = root_slot_;
    *gen = kRetiredGen;  // not checked for the root
    return root_slot_ != 0;
  }
  uint32_t low = static_cast<uint32_t>(id);
  *gen = static_cast<uint32_t>(id >> 32);
  *shard = low % kShards;
  *slot = low / kShards;
  if (*slot == 0 || *slot > kMaxSlot || *gen == kRetiredGen) return false;
  // Only id 1 names the root.
  if (*shard == root_shard_ && *slot == root_slot_) return false;
  return true;
}

uint32_t InodeTable::Find(const Shard& s, const InodeKey& key, uint64_t hash) {
  if (s.buckets.empty()) return 0;
  size_t mask = s.buckets.size() - 1;
  for (size_t i = hash & mask;; i = (i + 1) & mask) {
    uint32_t b = s.buckets[i];
    if (b == 0) return 0;
    if (s.slots[b].key == key) return b;
  }
}

void InodeTable::IndexGrow(Shard& s) {
  size_t n = s.buckets.empty() ? kMinBuckets : s.buckets.size() * 2;
  std::vector<uint32_t> old = std::move(s.buckets);
  s.buckets.assign(n, 0);
  size_t mask = n - 1;
  for (uint32_t b : old) {
    if (b == 0) continue;
    size_t i = Hash(s.slots[b].key) & mask;
    while (s.buckets[i] != 0) i = (i + 1) & mask;
    s.buckets[i] = b;
  }
}

void InodeTable::IndexInsert(Shard& s, uint32_t slot, uint64_t hash) {
  if ((s.indexed + 1) * 2 > s.buckets.size()) IndexGrow(s);
  size_t mask = s.buckets.size() - 1;
  size_t i = hash & mask;
  while (s.buckets[i] != 0) i = (i + 1) & mask;
  s.buckets[i] = slot;
  ++s.indexed;
}

void InodeTable::IndexErase(Shard& s, uint32_t slot) {
  if (s.buckets.empty()) return;
  size_t mask = s.buckets.size() - 1;
  size_t i = Hash(s.slots[slot].key) & mask;
  while (s.buckets[i] != slot) {
    if (s.buckets[i] == 0) return;  // not indexed (cannot happen; be safe)
    i = (i + 1) & mask;
  }
  // Backward-shift deletion: pull later members of the probe run into the
  // hole unless their home bucket lies cyclically in (hole, j].
  size_t j = i;
  for (;;) {
    j = (j + 1) & mask;
    uint32_t b = s.buckets[j];
    if (b == 0) break;
    size_t home = Hash(s.slots[b].key) & mask;
    bool stays = (i <= j) ? (i < home && home <= j) : (i < home || home <= j);
    if (!stays) {
      s.buckets[i] = b;
      i = j;
    }
  }
  s.buckets[i] = 0;
  --s.indexed;
}

int InodeTable::FreeSlot(Shard& s, uint32_t slot) {
  Slot& e = s.slots[slot];
  int fd = e.fd;
  e.fd = -1;
  e.key = InodeKey{};
  e.lookups = 0;
  e.refs = 0;
  ++e.gen;
  if (e.gen == kRetiredGen) {
    e.aux = 0;  // generation exhausted: never reuse this slot
  } else {
    e.aux = s.free_head;
    s.free_head = slot;
  }
  return fd;
}

Status InodeTable::SetRoot(ScopedFd fd, const InodeKey& key, uint32_t type) {
  if (root_slot_ != 0 || !fd.valid()) return Errno{EINVAL};
  uint64_t h = Hash(key);
  uint32_t shard = static_cast<uint32_t>(h >> 60) % kShards;
  Shard& s = shards_[shard];
  std::lock_guard<std::mutex> lock(s.mu);
  s.slots.emplace_back();
  uint32_t slot = static_cast<uint32_t>(s.slots.size() - 1);
  Slot& e = s.slots[slot];
  e.key = key;
  e.lookups = 1;
  e.fd = fd.release();
  e.aux = type;
  IndexInsert(s, slot, h);
  ++s.live;
  root_shard_ = shard;
  root_slot_ = slot;
  return OkStatus();
}

Result<InodeTable::Inserted> InodeTable::Insert(ScopedFd fd, const InodeKey& key, uint32_t type) {
  uint64_t h = Hash(key);
  uint32_t shard = static_cast<uint32_t>(h >> 60) % kShards;
  Shard& s = shards_[shard];
  std::lock_guard<std::mutex> lock(s.mu);
  if (uint32_t found = Find(s, key, h); found != 0) {
    // `fd` (a second fd for the live entry's inode) is closed by its owner.
    Slot& e = s.slots[found];
    if (e.lookups < std::numeric_limits<uint64_t>::max()) ++e.lookups;
    return Inserted{Encode(shard, found, e.gen), e.gen};
  }
  if (!fd.valid()) return Errno{EBADF};
  uint32_t slot = s.free_head;
  if (slot != 0) {
    s.free_head = s.slots[slot].aux;
  } else {
    if (s.slots.size() > kMaxSlot) return Errno{ENFILE};
    s.slots.emplace_back();
    slot = static_cast<uint32_t>(s.slots.size() - 1);
  }
  Slot& e = s.slots[slot];
  e.key = key;
  e.lookups = 1;
  e.refs = 0;
  e.fd = fd.release();
  e.aux = type;
  IndexInsert(s, slot, h);
  ++s.live;
  return Inserted{Encode(shard, slot, e.gen), e.gen};
}

Result<InodeTable::Inserted> InodeTable::Ref(const InodeKey& key) {
  uint64_t h = Hash(key);
  uint32_t shard = static_cast<uint32_t>(h >> 60) % kShards;
  Shard& s = shards_[shard];
  std::lock_guard<std::mutex> lock(s.mu);
  uint32_t found = Find(s, key, h);
  if (found == 0) return Errno{ENOENT};
  Slot& e = s.slots[found];
  if (e.lookups < std::numeric_limits<uint64_t>::max()) ++e.lookups;
  return Inserted{Encode(shard, found, e.gen), e.gen};
}

bool InodeTable::Contains(const InodeKey& key) const {
  uint64_t h = Hash(key);
  const Shard& s = shards_[static_cast<uint32_t>(h >> 60) % kShards];
  std::lock_guard<std::mutex> lock(s.mu);
  return Find(s, key, h) != 0;
}

Result<InodeRef> InodeTable::Get(fuse::NodeId id) {
  uint32_t shard, slot, gen;
  if (!Decode(id, &shard, &slot, &gen)) return Errno{ENOENT};
  bool root = (id == fuse::kRootNodeId);
  Shard& s = shards_[shard];
  std::lock_guard<std::mutex> lock(s.mu);
  if (slot >= s.slots.size()) return Errno{ENOENT};
  Slot& e = s.slots[slot];
  if (e.fd < 0 || e.lookups == 0 || (!root && e.gen != gen)) return Errno{ESTALE};
  if (e.refs == std::numeric_limits<uint32_t>::max()) return Errno{EAGAIN};
  ++e.refs;
  InodeRef ref;
  ref.table_ = this;
  ref.shard_ = shard;
  ref.slot_ = slot;
  ref.fd_ = e.fd;
  ref.type_ = e.aux;
  ref.key_ = e.key;
  ref.id_ = id;
  return ref;
}

void InodeTable::Unref(uint32_t shard, uint32_t slot) {
  int to_close = -1;
  {
    Shard& s = shards_[shard];
    std::lock_guard<std::mutex> lock(s.mu);
    Slot& e = s.slots[slot];
    if (e.refs > 0) --e.refs;
    if (e.refs == 0 && e.lookups == 0 && e.fd >= 0) to_close = FreeSlot(s, slot);
  }
  CloseIfValid(to_close);
}

void InodeTable::Forget(fuse::NodeId id, uint64_t n) {
  uint32_t shard, slot, gen;
  if (!Decode(id, &shard, &slot, &gen)) return;
  bool root = (id == fuse::kRootNodeId);
  int to_close = -1;
  {
    Shard& s = shards_[shard];
    std::lock_guard<std::mutex> lock(s.mu);
    if (slot >= s.slots.size()) return;
    Slot& e = s.slots[slot];
    if (e.fd < 0 || e.lookups == 0 || (!root && e.gen != gen)) return;
    uint64_t floor = root ? 1 : 0;
    e.lookups = (e.lookups - floor > n) ? e.lookups - n : floor;
    if (e.lookups == 0) {
      IndexErase(s, slot);
      --s.live;
      if (e.refs == 0) to_close = FreeSlot(s, slot);
    }
  }
  CloseIfValid(to_close);
}

void InodeTable::Reset() {
  for (uint32_t i = 0; i < kShards; ++i) {
    std::vector<int> to_close;
    {
      Shard& s = shards_[i];
      std::lock_guard<std::mutex> lock(s.mu);
      std::fill(s.buckets.begin(), s.buckets.end(), 0);
      s.indexed = 0;
      s.live = 0;
      for (uint32_t slot = 1; slot < s.slots.size(); ++slot) {
        Slot& e = s.slots[slot];
        if (e.fd < 0) continue;
        if (i == root_shard_ && slot == root_slot_) {
          e.lookups = 1;
          IndexInsert(s, slot, Hash(e.key));
          ++s.live;
          continue;
        }
        e.lookups = 0;  // dying: freed by the last InodeRef if one is in flight
        if (e.refs == 0) to_close.push_back(FreeSlot(s, slot));
      }
    }
    for (int fd : to_close) CloseIfValid(fd);
  }
}

size_t InodeTable::LiveCount() const {
  size_t n = 0;
  for (uint32_t i = 0; i < kShards; ++i) {
    std::lock_guard<std::mutex> lock(shards_[i].mu);
    n += shards_[i].live;
  }
  return n;
}

uint64_t InodeTable::LookupCount(fuse::NodeId id) const {
  uint32_t shard, slot, gen;
  if (!Decode(id, &shard, &slot, &gen)) return 0;
  bool root = (id == fuse::kRootNodeId);
  const Shard& s = shards_[shard];
  std::lock_guard<std::mutex> lock(s.mu);
  if (slot >= s.slots.size()) return 0;
  const Slot& e = s.slots[slot];
  if (e.fd < 0 || (!root && e.gen != gen)) return 0;
  return e.lookups;
}

}  // namespace hostshare::fs
