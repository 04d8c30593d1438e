#include "fs/passthrough/handle_table.h"

#include <cerrno>
#include <limits>

namespace hostshare::fs {
namespace {

constexpr uint32_t kRetiredGen = std::numeric_limits<uint32_t>::max();
constexpr uint32_t kMaxSlot = (std::numeric_limits<uint32_t>::max() / HandleTable::kShards) - 1;

}  // namespace

HandleTable::HandleTable() : shards_(new Shard[kShards]) {
  for (uint32_t i = 0; i < kShards; ++i) shards_[i].slots.emplace_back();  // sentinel
}

HandleTable::~HandleTable() = default;

bool HandleTable::Decode(fuse::Handle h, uint32_t* shard, uint32_t* slot, uint32_t* gen) {
  uint32_t low = static_cast<uint32_t>(h);
  *gen = static_cast<uint32_t>(h >> 32);
  *shard = low % kShards;
  *slot = low / kShards;
  return *slot != 0 && *slot <= kMaxSlot && *gen != kRetiredGen;
}

HandleTable::Slot* HandleTable::Lookup(Shard& s, uint32_t slot, uint32_t gen, fuse::NodeId node,
                                       OpenFile::Kind kind) {
  if (slot >= s.slots.size()) return nullptr;
  Slot& e = s.slots[slot];
  if (!e.file || e.gen != gen || e.file->node != node || e.file->kind != kind) return nullptr;
  return &e;
}

Result<fuse::Handle> HandleTable::Add(std::shared_ptr<OpenFile> file) {
  if (!file) return Errno{EINVAL};
  uint32_t shard = next_shard_.fetch_add(1, std::memory_order_relaxed) % kShards;
  Shard& s = shards_[shard];
  std::lock_guard<std::mutex> lock(s.mu);
  uint32_t slot = s.free_head;
  if (slot != 0) {
    s.free_head = s.slots[slot].next_free;
  } else {
    if (s.slots.size() > kMaxSlot) return Errno{ENFILE};
    s.slots.emplace_back();
    slot = static_cast<uint32_t>(s.slots.size() - 1);
  }
  Slot& e = s.slots[slot];
  e.file = std::move(file);
  e.next_free = 0;
  ++s.open;
  return (static_cast<uint64_t>(e.gen) << 32) | (static_cast<uint64_t>(slot) * kShards + shard);
}

Result<std::shared_ptr<OpenFile>> HandleTable::Get(fuse::Handle handle, fuse::NodeId node,
                                                   OpenFile::Kind kind) const {
  uint32_t shard, slot, gen;
  if (!Decode(handle, &shard, &slot, &gen)) return Errno{EBADF};
  Shard& s = shards_[shard];
  std::lock_guard<std::mutex> lock(s.mu);
  Slot* e = Lookup(s, slot, gen, node, kind);
  if (e == nullptr) return Errno{EBADF};
  return e->file;
}

Status HandleTable::Remove(fuse::Handle handle, fuse::NodeId node, OpenFile::Kind kind) {
  uint32_t shard, slot, gen;
  if (!Decode(handle, &shard, &slot, &gen)) return Errno{EBADF};
  std::shared_ptr<OpenFile> dropped;  // released after the lock
  Shard& s = shards_[shard];
  std::lock_guard<std::mutex> lock(s.mu);
  Slot* e = Lookup(s, slot, gen, node, kind);
  if (e == nullptr) return Errno{EBADF};
  dropped = std::move(e->file);
  --s.open;
  if (++e->gen != kRetiredGen) {
    e->next_free = s.free_head;
    s.free_head = slot;
  }
  return OkStatus();
}

void HandleTable::Clear() {
  for (uint32_t i = 0; i < kShards; ++i) {
    std::vector<std::shared_ptr<OpenFile>> dropped;
    Shard& s = shards_[i];
    std::lock_guard<std::mutex> lock(s.mu);
    for (uint32_t slot = 1; slot < s.slots.size(); ++slot) {
      Slot& e = s.slots[slot];
      if (!e.file) continue;
      dropped.push_back(std::move(e.file));
      if (++e.gen != kRetiredGen) {
        e.next_free = s.free_head;
        s.free_head = slot;
      }
    }
    s.open = 0;
  }
}

size_t HandleTable::Size() const {
  size_t n = 0;
  for (uint32_t i = 0; i < kShards; ++i) {
    std::lock_guard<std::mutex> lock(shards_[i].mu);
    n += shards_[i].open;
  }
  return n;
}

}  // namespace hostshare::fs
