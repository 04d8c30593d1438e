#include "fuse/server.h"

#include <algorithm>
#include <vector>

#include "base/log.h"
#include "fuse/call.h"
#include "fuse/opcode_table.h"
#include "fuse/reply.h"
#include "fuse/wire.h"

namespace hostshare::fuse {

namespace {

constexpr uint32_t kPageSize = 4096;
constexpr uint32_t kMinMaxWrite = 4096;
constexpr uint32_t kMaxMaxWrite = 16u << 20;

Limits MakeLimits(const ServerOptions& o) {
  Limits l;
  l.max_write = std::clamp(o.max_write, kMinMaxWrite, kMaxMaxWrite);
  l.max_pages = static_cast<uint16_t>(std::clamp<uint32_t>(o.max_pages, 1, UINT16_MAX));
  // A READ may be as large as a request's pages allow, or as a write.
  l.max_read = std::max<uint32_t>(l.max_write, uint32_t{l.max_pages} * kPageSize);
  l.max_background = o.max_background;
  l.congestion_threshold = o.congestion_threshold;
  return l;
}

// Holds the copied-out request body: small bodies on the stack, the rare
// large one (SETXATTR values) on the heap, bounded by kMaxBufferedBody.
class BodyBuffer {
 public:
  char* Get(size_t n) {
    if (n <= sizeof small_) return small_;
    big_.resize(n);
    return big_.data();
  }

 private:
  alignas(8) char small_[1024];
  std::vector<char> big_;
};

}  // namespace

Server::Server(Filesystem& fs, ServerOptions opts) : fs_(fs), limits_(MakeLimits(opts)) {}

size_t Server::Handle(ByteReader& in, ByteWriter& out) {
  // Copy the header out first; everything below works on the copy.
  fuse_in_header h;
  if (in.Available() < sizeof h || !in.Read(&h, sizeof h).ok()) {
    LOG_DEBUG("fuse: request shorter than fuse_in_header (%zu bytes)", in.Available());
    return 0;
  }
  const OpcodeSpec* spec = FindOpcode(h.opcode);
  const bool replies = spec == nullptr || spec->reply != ReplyKind::kNone;
  Reply reply(out, h.unique);
  auto fail = [&](int err) -> size_t { return replies ? reply.Error(err) : 0; };

  // len covers header + body + extensions and may not promise more bytes
  // than the transport carries (trailing bytes beyond len are ignored).
  if (h.len < sizeof h || h.len - sizeof h > in.Available()) {
    LOG_DEBUG("fuse: unique %llu: len %u but %zu bytes carried",
              static_cast<unsigned long long>(h.unique), h.len, sizeof h + in.Available());
    return fail(EINVAL);
  }
  if (spec == nullptr) {
    LOG_DEBUG("fuse: unique %llu: unknown opcode %u", static_cast<unsigned long long>(h.unique),
              h.opcode);
    return reply.Error(ENOSYS);
  }
  LOG_TRACE("fuse: %s unique %llu node %llu len %u", spec->name,
            static_cast<unsigned long long>(h.unique), static_cast<unsigned long long>(h.nodeid),
            h.len);

  const Negotiated neg = session_.Snapshot();
  if (!neg.initialized && h.opcode != FUSE_INIT) return fail(EIO);

  // Extensions (7.38 total_extlen, in 8-byte units) trail the body; nothing
  // we negotiate makes the kernel send one we use, so they are skipped.
  const size_t body_len = h.len - sizeof h;
  const size_t ext_len = size_t{h.total_extlen} * 8;
  if (ext_len > body_len) return fail(EINVAL);
  const size_t payload_len = body_len - ext_len;
  const size_t fixed_len = spec->fixed_size(neg);
  if (payload_len < fixed_len) {
    LOG_DEBUG("fuse: %s: body of %zu bytes, need %zu", spec->name, payload_len, fixed_len);
    return fail(EINVAL);
  }
  // Make sure the success reply will fit before a backend creates state
  // (a lookup count, a handle) that a lost reply would leak.
  if (replies && !reply.Fits(MinReplyBody(spec->reply, neg.minor))) return reply.Error(EINVAL);

  const bool streamed = spec->body == BodyMode::kStreamed;
  const size_t copy_len = streamed ? fixed_len : payload_len;
  if (copy_len > wire::kMaxBufferedBody) return fail(EINVAL);
  BodyBuffer buffer;
  char* bytes = buffer.Get(copy_len);
  if (copy_len > 0 && !in.Read(bytes, copy_len).ok()) return fail(EINVAL);
  const std::span<const char> body(bytes, copy_len);

  Call call{.fs = fs_,
            .session = session_,
            .limits = limits_,
            .neg = neg,
            .ctx = Context{.uid = h.uid, .gid = h.gid, .pid = h.pid, .unique = h.unique},
            .node = h.nodeid,
            .body = body,
            .fixed = body.first(fixed_len),
            .tail = BodyCursor(body.subspan(fixed_len)),
            .in = in,
            .streamed = streamed ? payload_len - fixed_len : 0,
            .reply = reply};
  return spec->handler(call);
}

}  // namespace hostshare::fuse
