// FakeVirtqueue + ChainBuilder: the guest driver's side of a split
// virtqueue (virtio 1.2 §2.7), laid out in FakeGuestMemory.
//
// FakeVirtqueue owns the three rings (descriptor table, avail ring, used
// ring) and the driver's bookkeeping (free descriptors, chains in flight,
// how far it has consumed the used ring). ChainBuilder publishes chains with
// a fluent API:
//
//   auto c = vq.Chain().Readable(request).Writable(4096).Publish();
//   ... kick the device, let it run ...
//   auto done = vq.TakeUsed();   // {head, len, reply bytes}
//
// For hostile cases there is no safety net: ChainBuilder::Raw() writes a
// descriptor verbatim (addr, len, flags, next as given), IndirectTable can be
// placed at any address with any length and extra flags, and FakeVirtqueue
// exposes the rings directly (WriteDesc, SetAvailEntry, SetAvailIdx, ...).
//
// Memory ordering: indexes are stored with release and loaded with acquire,
// as a driver must (virtio 1.2 §2.7.13), so the device under test running on
// another thread sees complete chains.
//
// Thread-safety: the test thread owns the driver side; the device side
// (SplitQueue) may run concurrently on another thread.
#pragma once

#include <cstdint>
#include <cstring>
#include <map>
#include <optional>
#include <string_view>
#include <vector>

#include "support/fake_guest_memory.h"
#include "virtio/descriptor_chain.h"
#include "virtio/split_queue.h"

namespace hostshare::fake {

using virtio::Desc;
using virtio::kDescFIndirect;
using virtio::kDescFNext;
using virtio::kDescFWrite;

inline std::vector<uint8_t> Bytes(std::string_view s) { return {s.begin(), s.end()}; }

// A guest buffer of a published chain.
struct GuestBuffer {
  uint64_t gpa;
  uint32_t len;
};

struct PublishedChain {
  uint16_t head = 0;
  std::vector<uint16_t> descs;  // descriptor indexes used in the main table
  std::vector<GuestBuffer> readable;
  std::vector<GuestBuffer> writable;
  std::optional<uint64_t> indirect_table;  // gpa of the (last) indirect table
};

// The entries of an indirect descriptor table (virtio 1.2 §2.7.5.3).
class IndirectTable {
 public:
  IndirectTable& Readable(std::vector<uint8_t> bytes) {
    entries_.push_back({Kind::kReadable, std::move(bytes), 0, std::nullopt, {}});
    return *this;
  }
  IndirectTable& Readable(std::string_view s) { return Readable(Bytes(s)); }
  IndirectTable& ReadableAt(uint64_t gpa, uint32_t len) {
    entries_.push_back({Kind::kReadable, {}, len, gpa, {}});
    return *this;
  }
  IndirectTable& Writable(uint32_t len) {
    entries_.push_back({Kind::kWritable, {}, len, std::nullopt, {}});
    return *this;
  }
  IndirectTable& WritableAt(uint64_t gpa, uint32_t len) {
    entries_.push_back({Kind::kWritable, {}, len, gpa, {}});
    return *this;
  }
  // An entry written verbatim (not linked by the builder).
  IndirectTable& Raw(const Desc& d) {
    entries_.push_back({Kind::kRaw, {}, 0, std::nullopt, d});
    return *this;
  }
  // Places the table at `gpa` (reserved if free; written regardless).
  IndirectTable& At(uint64_t gpa) {
    at_ = gpa;
    return *this;
  }
  // Overrides the length in the indirect descriptor (default 16 * entries).
  IndirectTable& Length(uint32_t len) {
    length_ = len;
    return *this;
  }
  // Extra flags on the descriptor that points to the table (e.g. kDescFWrite).
  IndirectTable& ExtraFlags(uint16_t flags) {
    extra_flags_ = flags;
    return *this;
  }

 private:
  friend class ChainBuilder;
  enum class Kind { kReadable, kWritable, kRaw };
  struct Entry {
    Kind kind;
    std::vector<uint8_t> bytes;
    uint32_t len;
    std::optional<uint64_t> gpa;
    Desc raw;
  };
  std::vector<Entry> entries_;
  std::optional<uint64_t> at_;
  std::optional<uint32_t> length_;
  uint16_t extra_flags_ = 0;
};

class FakeVirtqueue;

class ChainBuilder {
 public:
  explicit ChainBuilder(FakeVirtqueue& vq) : vq_(vq) {}

  // A device-readable buffer holding `bytes` (allocated in guest memory).
  ChainBuilder& Readable(std::vector<uint8_t> bytes) {
    entries_.push_back({Kind::kReadable, std::move(bytes), 0, std::nullopt, {}, {}});
    return *this;
  }
  ChainBuilder& Readable(std::string_view s) { return Readable(Bytes(s)); }
  ChainBuilder& Readable(const void* p, size_t n) {
    auto* b = static_cast<const uint8_t*>(p);
    return Readable(std::vector<uint8_t>(b, b + n));
  }
  // A device-readable buffer at a fixed address (contents left as they are).
  ChainBuilder& ReadableAt(uint64_t gpa, uint32_t len) {
    entries_.push_back({Kind::kReadable, {}, len, gpa, {}, {}});
    return *this;
  }
  // A device-writable buffer of `len` bytes (allocated, zero-filled).
  ChainBuilder& Writable(uint32_t len) {
    entries_.push_back({Kind::kWritable, {}, len, std::nullopt, {}, {}});
    return *this;
  }
  ChainBuilder& WritableAt(uint64_t gpa, uint32_t len) {
    entries_.push_back({Kind::kWritable, {}, len, gpa, {}, {}});
    return *this;
  }
  // A descriptor written verbatim; the builder does not set its NEXT/next,
  // but does link the previous builder-managed entry to it.
  ChainBuilder& Raw(const Desc& d) {
    entries_.push_back({Kind::kRaw, {}, 0, std::nullopt, d, {}});
    return *this;
  }
  // A descriptor pointing to an indirect table.
  ChainBuilder& Indirect(IndirectTable table) {
    entries_.push_back({Kind::kIndirect, {}, 0, std::nullopt, {}, std::move(table)});
    return *this;
  }

  // Writes the descriptors (and buffers), then makes the head available and
  // bumps avail->idx. nullopt if descriptors or guest memory ran out.
  inline std::optional<PublishedChain> Publish();
  // Writes everything but does not touch the avail ring.
  inline std::optional<PublishedChain> Build();

 private:
  enum class Kind { kReadable, kWritable, kRaw, kIndirect };
  struct Entry {
    Kind kind;
    std::vector<uint8_t> bytes;
    uint32_t len;
    std::optional<uint64_t> gpa;
    Desc raw;
    IndirectTable table;
  };
  // Places a managed buffer; fills the descriptor's addr/len/flags.
  inline bool PlaceBuffer(Kind kind, const std::vector<uint8_t>& bytes, uint32_t len,
                          std::optional<uint64_t> gpa, Desc* d, PublishedChain* out,
                          std::vector<uint64_t>* allocs);
  inline bool PlaceIndirect(const IndirectTable& t, Desc* d, PublishedChain* out,
                            std::vector<uint64_t>* allocs);

  FakeVirtqueue& vq_;
  std::vector<Entry> entries_;
};

class FakeVirtqueue {
 public:
  struct Completion {
    uint16_t head;
    uint32_t len;                // used.len as the device wrote it
    std::vector<uint8_t> reply;  // the first min(len, writable bytes) bytes written
  };

  // Allocates the rings of `size` entries in `mem` (aligned as virtio 1.2
  // §2.7 requires). Check ok() afterwards.
  FakeVirtqueue(FakeGuestMemory& mem, uint32_t size) : mem_(mem), size_(size) {
    auto d = mem.Alloc(16ull * size, 16);
    auto a = mem.Alloc(AvailBytes(), 2);
    auto u = mem.Alloc(UsedBytes(), 4);
    for (auto r : {d, a, u}) {
      if (r) ring_allocs_.push_back(*r);
    }
    if (!d || !a || !u) return;
    Init(*d, *a, *u);
  }
  // Places the rings at fixed guest addresses (reserved when free).
  FakeVirtqueue(FakeGuestMemory& mem, uint32_t size, uint64_t desc_gpa, uint64_t avail_gpa,
                uint64_t used_gpa)
      : mem_(mem), size_(size) {
    if (mem.Reserve(desc_gpa, 16ull * size)) ring_allocs_.push_back(desc_gpa);
    if (mem.Reserve(avail_gpa, AvailBytes())) ring_allocs_.push_back(avail_gpa);
    if (mem.Reserve(used_gpa, UsedBytes())) ring_allocs_.push_back(used_gpa);
    Init(desc_gpa, avail_gpa, used_gpa);
  }
  ~FakeVirtqueue() {
    for (auto& [head, f] : in_flight_) {
      for (uint64_t a : f.allocs) mem_.Free(a);
    }
    for (uint64_t a : ring_allocs_) mem_.Free(a);
  }
  FakeVirtqueue(const FakeVirtqueue&) = delete;
  FakeVirtqueue& operator=(const FakeVirtqueue&) = delete;

  bool ok() const { return ok_; }
  uint32_t size() const { return size_; }
  FakeGuestMemory& memory() { return mem_; }
  uint64_t desc_gpa() const { return desc_; }
  uint64_t avail_gpa() const { return avail_; }
  uint64_t used_gpa() const { return used_; }
  uint64_t desc_uva() const { return mem_.ToUva(desc_); }
  uint64_t avail_uva() const { return mem_.ToUva(avail_); }
  uint64_t used_uva() const { return mem_.ToUva(used_); }
  uint64_t AvailBytes() const { return 4 + 2ull * size_ + 2; }
  uint64_t UsedBytes() const { return 4 + 8ull * size_ + 2; }

  // Host pointers of the rings, for building a SplitQueue directly.
  // REQUIRES: each ring lies inside one region.
  virtio::QueueLayout HostLayout() const {
    virtio::QueueLayout l;
    l.size = size_;
    l.desc = reinterpret_cast<Desc*>(mem_.Host(desc_, 16ull * size_));
    l.avail = mem_.Host(avail_, AvailBytes());
    l.used = mem_.Host(used_, UsedBytes());
    return l;
  }

  // Forgets every chain and zeroes the rings, as a rebooted driver does.
  void Reset() {
    for (auto& [head, f] : in_flight_) {
      for (uint64_t a : f.allocs) mem_.Free(a);
    }
    in_flight_.clear();
    mem_.Fill(desc_, 0, 16ull * size_);
    mem_.Fill(avail_, 0, AvailBytes());
    mem_.Fill(used_, 0, UsedBytes());
    free_descs_.clear();
    for (uint32_t i = 0; i < size_; ++i) free_descs_.push_back(static_cast<uint16_t>(i));
    avail_shadow_ = 0;
    last_used_ = 0;
  }

  ChainBuilder Chain() { return ChainBuilder(*this); }

  // --- Descriptor table -------------------------------------------------------
  void WriteDesc(uint16_t i, const Desc& d) { mem_.Store(desc_ + 16ull * i, d); }
  Desc ReadDesc(uint16_t i) const { return mem_.Load<Desc>(desc_ + 16ull * i); }
  // Takes a descriptor index off the free list (lowest first).
  std::optional<uint16_t> AllocDesc() {
    if (free_descs_.empty()) return std::nullopt;
    uint16_t i = free_descs_.front();
    free_descs_.erase(free_descs_.begin());
    return i;
  }
  size_t free_descs() const { return free_descs_.size(); }

  // --- Avail ring (driver-written) --------------------------------------------
  uint16_t avail_idx() const { return avail_shadow_; }
  // Stores avail->idx (release). Moves the driver's shadow too.
  void SetAvailIdx(uint16_t idx) {
    avail_shadow_ = idx;
    __atomic_store_n(U16(avail_ + 2), idx, __ATOMIC_RELEASE);
  }
  void SetAvailEntry(uint16_t slot, uint16_t head) {
    __atomic_store_n(U16(avail_ + 4 + 2ull * (slot % size_)), head, __ATOMIC_RELAXED);
  }
  // Puts `head` in the next avail slot and bumps avail->idx.
  void PublishHead(uint16_t head) {
    SetAvailEntry(static_cast<uint16_t>(avail_shadow_ % size_), head);
    SetAvailIdx(static_cast<uint16_t>(avail_shadow_ + 1));
  }
  void SetAvailFlags(uint16_t flags) { __atomic_store_n(U16(avail_), flags, __ATOMIC_RELEASE); }
  // avail->used_event (meaningful with VIRTIO_F_EVENT_IDX).
  void SetUsedEvent(uint16_t v) {
    __atomic_store_n(U16(avail_ + 4 + 2ull * size_), v, __ATOMIC_RELEASE);
  }
  uint16_t used_event() const { return Load16(avail_ + 4 + 2ull * size_); }
  // When true (default), TakeUsed() sets used_event to the next used index,
  // as Linux does when it re-enables callbacks.
  void set_auto_used_event(bool on) { auto_used_event_ = on; }

  // --- Used ring (device-written) ---------------------------------------------
  uint16_t used_idx() const { return Load16(used_ + 2); }
  uint16_t used_flags() const { return Load16(used_); }
  uint16_t avail_event() const { return Load16(used_ + 4 + 8ull * size_); }
  struct UsedElem {
    uint32_t id;
    uint32_t len;
  };
  UsedElem used_elem(uint16_t slot) const {
    UsedElem e;
    mem_.Read(used_ + 4 + 8ull * (slot % size_), &e, sizeof(e));
    return e;
  }
  // The driver's position in the used ring.
  uint16_t last_used() const { return last_used_; }

  // Consumes the next used element: frees the chain's descriptors and
  // buffers and returns the bytes the device wrote. nullopt when the device
  // has not returned anything new.
  std::optional<Completion> TakeUsed() {
    if (used_idx() == last_used_) return std::nullopt;
    UsedElem e = used_elem(last_used_);
    ++last_used_;
    if (auto_used_event_) SetUsedEvent(last_used_);
    Completion c{static_cast<uint16_t>(e.id), e.len, {}};
    auto it = in_flight_.find(c.head);
    if (it != in_flight_.end()) {
      uint64_t left = e.len;
      for (const GuestBuffer& b : it->second.chain.writable) {
        if (left == 0) break;
        uint64_t take = std::min<uint64_t>(left, b.len);
        auto bytes = mem_.ReadBytes(b.gpa, take);
        c.reply.insert(c.reply.end(), bytes.begin(), bytes.end());
        left -= take;
      }
      for (uint16_t d : it->second.chain.descs) free_descs_.push_back(d);
      for (uint64_t a : it->second.allocs) mem_.Free(a);
      in_flight_.erase(it);
    }
    return c;
  }

  // Chains published and not yet returned through TakeUsed.
  size_t in_flight() const { return in_flight_.size(); }

 private:
  friend class ChainBuilder;
  struct InFlight {
    PublishedChain chain;
    std::vector<uint64_t> allocs;
  };

  void Init(uint64_t d, uint64_t a, uint64_t u) {
    desc_ = d;
    avail_ = a;
    used_ = u;
    ok_ = mem_.Contains(d, 16ull * size_) && mem_.Contains(a, AvailBytes()) &&
          mem_.Contains(u, UsedBytes());
    if (ok_) Reset();
  }
  uint16_t* U16(uint64_t gpa) const { return reinterpret_cast<uint16_t*>(mem_.Host(gpa, 2)); }
  uint16_t Load16(uint64_t gpa) const { return __atomic_load_n(U16(gpa), __ATOMIC_ACQUIRE); }
  void Track(const PublishedChain& c, std::vector<uint64_t> allocs) {
    auto it = in_flight_.find(c.head);
    if (it != in_flight_.end()) {  // a hostile test reused a head: drop the old record
      for (uint64_t a : it->second.allocs) mem_.Free(a);
    }
    in_flight_[c.head] = InFlight{c, std::move(allocs)};
  }

  FakeGuestMemory& mem_;
  uint32_t size_;
  uint64_t desc_ = 0, avail_ = 0, used_ = 0;
  bool ok_ = false;
  std::vector<uint16_t> free_descs_;
  uint16_t avail_shadow_ = 0;
  uint16_t last_used_ = 0;
  bool auto_used_event_ = true;
  std::map<uint16_t, InFlight> in_flight_;
  std::vector<uint64_t> ring_allocs_;
};

// --- ChainBuilder implementation ---------------------------------------------

bool ChainBuilder::PlaceBuffer(Kind kind, const std::vector<uint8_t>& bytes, uint32_t len,
                               std::optional<uint64_t> gpa, Desc* d, PublishedChain* out,
                               std::vector<uint64_t>* allocs) {
  FakeGuestMemory& mem = vq_.memory();
  bool writable = kind == Kind::kWritable;
  uint32_t n = writable || gpa ? len : static_cast<uint32_t>(bytes.size());
  uint64_t at;
  if (gpa) {
    at = *gpa;
  } else {
    auto a = mem.Alloc(n == 0 ? 1 : n, 8);
    if (!a) return false;
    allocs->push_back(*a);
    at = *a;
    if (writable) {
      mem.Fill(at, 0, n);
    } else {
      mem.Write(at, bytes);
    }
  }
  d->addr = at;
  d->len = n;
  d->flags = writable ? kDescFWrite : 0;
  d->next = 0;
  (writable ? out->writable : out->readable).push_back({at, n});
  return true;
}

bool ChainBuilder::PlaceIndirect(const IndirectTable& t, Desc* d, PublishedChain* out,
                                 std::vector<uint64_t>* allocs) {
  FakeGuestMemory& mem = vq_.memory();
  size_t n = t.entries_.size();
  uint64_t table;
  if (t.at_) {
    table = *t.at_;
    if (n > 0 && mem.Reserve(table, 16 * n)) allocs->push_back(table);
  } else {
    auto a = mem.Alloc(16 * (n == 0 ? 1 : n), 16);
    if (!a) return false;
    allocs->push_back(*a);
    table = *a;
  }
  for (size_t i = 0; i < n; ++i) {
    const auto& e = t.entries_[i];
    Desc td{};
    if (e.kind == IndirectTable::Kind::kRaw) {
      td = e.raw;
    } else {
      Kind k = e.kind == IndirectTable::Kind::kWritable ? Kind::kWritable : Kind::kReadable;
      if (!PlaceBuffer(k, e.bytes, e.len, e.gpa, &td, out, allocs)) return false;
      if (i + 1 < n) {
        td.flags |= kDescFNext;
        td.next = static_cast<uint16_t>(i + 1);
      }
    }
    if (!mem.Write(table + 16 * i, &td, sizeof(td))) return false;
  }
  d->addr = table;
  d->len = t.length_ ? *t.length_ : static_cast<uint32_t>(16 * n);
  d->flags = static_cast<uint16_t>(kDescFIndirect | t.extra_flags_);
  d->next = 0;
  out->indirect_table = table;
  return true;
}

std::optional<PublishedChain> ChainBuilder::Build() {
  PublishedChain out;
  std::vector<uint64_t> allocs;
  auto fail = [&]() -> std::optional<PublishedChain> {
    for (uint16_t i : out.descs) vq_.free_descs_.push_back(i);
    for (uint64_t a : allocs) vq_.memory().Free(a);
    return std::nullopt;
  };
  if (entries_.empty()) return std::nullopt;
  for (size_t i = 0; i < entries_.size(); ++i) {
    auto idx = vq_.AllocDesc();
    if (!idx) return fail();
    out.descs.push_back(*idx);
  }
  for (size_t i = 0; i < entries_.size(); ++i) {
    const Entry& e = entries_[i];
    Desc d{};
    switch (e.kind) {
      case Kind::kRaw:
        d = e.raw;
        break;
      case Kind::kIndirect:
        if (!PlaceIndirect(e.table, &d, &out, &allocs)) return fail();
        break;
      default:
        if (!PlaceBuffer(e.kind, e.bytes, e.len, e.gpa, &d, &out, &allocs)) return fail();
        break;
    }
    if (e.kind != Kind::kRaw && i + 1 < entries_.size()) {
      d.flags |= kDescFNext;
      d.next = out.descs[i + 1];
    }
    vq_.WriteDesc(out.descs[i], d);
  }
  out.head = out.descs[0];
  vq_.Track(out, std::move(allocs));
  return out;
}

std::optional<PublishedChain> ChainBuilder::Publish() {
  auto c = Build();
  if (c) vq_.PublishHead(c->head);
  return c;
}

}  // namespace hostshare::fake
