// libFuzzer target: the split virtqueue and the descriptor-chain walker
// over fuzzed guest memory.
//
// Guest memory is three 4 KiB regions, each its own heap block (so ASan
// sees any access outside them): A at 0x0000, a gap, then B at 0x2000 and C
// at 0x3000, which are contiguous in guest space. The rings of a queue of
// 2..128 entries live in A; the input fills all three regions (rings,
// descriptors, indirect tables and buffers alike), then the device pops,
// consumes and completes chains as a queue worker does, and WalkChain is
// also run directly on the first 16 heads. The oracle, besides the sanitizers:
// every iovec of a chain lies inside one region, the parts add up, and no
// part reaches 4 GiB.
//
// Input: u8 log2(queue size) (mod 7, +1), u8 flags (bit 0 indirect, bit 1
// event idx), u16 next_avail, then the bytes of A, B and C.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <vector>

#include "base/iovec_io.h"
#include "virtio/descriptor_chain.h"
#include "virtio/guest_memory.h"
#include "virtio/split_queue.h"

namespace {

using namespace hostshare;
using namespace hostshare::virtio;

constexpr uint64_t kRegion = 4096;
constexpr uint64_t kGpa[3] = {0x0000, 0x2000, 0x3000};

struct Memory {
  std::vector<std::unique_ptr<uint8_t[]>> blocks;
  std::shared_ptr<const GuestMemory> mem;
};

bool Inside(const Memory& m, const iovec& v) {
  auto* p = static_cast<uint8_t*>(v.iov_base);
  for (const auto& b : m.blocks) {
    if (p >= b.get() && v.iov_len <= kRegion && p + v.iov_len <= b.get() + kRegion) return true;
  }
  return false;
}

void Check(const Memory& m, const Chain& c) {
  uint64_t r = 0, w = 0;
  for (const iovec& v : c.readable) {
    if (!Inside(m, v)) abort();
    r += v.iov_len;
  }
  for (const iovec& v : c.writable) {
    if (!Inside(m, v)) abort();
    w += v.iov_len;
  }
  if (r != c.readable_len || w != c.writable_len) abort();
  if (r > 0xffffffffull || w > 0xffffffffull) abort();
}

// Reads the whole readable part and fills the writable part, as a device does.
uint32_t Consume(Chain& c) {
  IovecReader in(c.readable);
  std::vector<uint8_t> sink(in.Available());
  if (!in.Read(sink.data(), sink.size()).ok()) abort();
  IovecWriter out(c.writable);
  std::vector<uint8_t> fill(out.Available(), 0xa5);
  if (!out.Write(fill.data(), fill.size()).ok()) abort();
  return static_cast<uint32_t>(out.BytesWritten());
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 4) return 0;
  const uint32_t qsize = 1u << ((data[0] % 7) + 1);  // 2 .. 128
  const bool indirect = data[1] & 1;
  const bool event_idx = data[1] & 2;
  uint16_t next_avail;
  memcpy(&next_avail, data + 2, 2);
  data += 4;
  size -= 4;

  Memory m;
  std::vector<std::shared_ptr<MappedRegion>> regions;
  for (int i = 0; i < 3; ++i) {
    m.blocks.emplace_back(new uint8_t[kRegion]());
    size_t take = std::min<size_t>(size, kRegion);
    memcpy(m.blocks.back().get(), data, take);
    data += take;
    size -= take;
    RegionSpec spec{kGpa[i], kRegion, 0x7f0000000000ull + kGpa[i] * 2, 0};
    regions.push_back(MappedRegion::Borrow(m.blocks.back().get(), spec));
  }
  auto mem = GuestMemory::Create(std::move(regions));
  if (!mem.ok()) abort();
  m.mem = *mem;

  // Rings in A: descriptors at 0, avail at 2048, used right after it.
  const uint64_t uva = 0x7f0000000000ull;
  const uint64_t avail = 2048, used = (avail + 4 + 2 * qsize + 2 + 3) & ~3ull;
  QueueLayout layout;
  if (!MapQueue(*m.mem, qsize, uva, uva + avail, uva + used, &layout).ok()) abort();

  // The walker directly, with and without indirect.
  Chain chain;
  for (uint32_t head = 0; head < std::min<uint32_t>(qsize, 16); ++head) {
    if (WalkChain(*m.mem, layout.desc, qsize, static_cast<uint16_t>(head), true, &chain) ==
        ChainError::kNone) {
      Check(m, chain);
    }
    if (WalkChain(*m.mem, layout.desc, qsize, static_cast<uint16_t>(head), false, &chain) ==
        ChainError::kNone) {
      Check(m, chain);
    }
  }

  // The queue, as a worker drives it.
  SplitQueue q(m.mem, layout, next_avail, event_idx, indirect);
  for (uint32_t i = 0; i < 2 * qsize + 2; ++i) {
    auto r = q.Pop(&chain);
    if (r == SplitQueue::PopResult::kBroken) break;
    if (r == SplitQueue::PopResult::kEmpty) {
      if (!q.EnableNotifications()) break;
      continue;
    }
    Check(m, chain);
    uint32_t len = Consume(chain);
    q.PushUsed(chain.head, len);
    if (i % 4 == 3) (void)q.NeedsInterrupt();
  }
  (void)q.NeedsInterrupt();
  return 0;
}
