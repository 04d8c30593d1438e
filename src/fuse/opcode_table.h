// The opcode table: for each FUSE opcode, its name, the size of its fixed
// request body (which may depend on the negotiated minor and flags), what
// kind of reply it gets, whether its body is buffered or streamed, and its
// handler. The server validates everything the table declares before a
// handler runs; adding an opcode is one line here plus its handler.
//
// Trust boundary: none (static data). Thread-safety: immutable.
#pragma once

#include <cstddef>
#include <cstdint>

#include "fuse/call.h"
#include "fuse/session.h"

namespace hostshare::fuse {

enum class ReplyKind : uint8_t {
  kNone,      // never replied to (FORGET, BATCH_FORGET, INTERRUPT)
  kEmpty,     // header only
  kEntry,     // fuse_entry_out
  kAttr,      // fuse_attr_out
  kOpen,      // fuse_open_out
  kCreate,    // fuse_entry_out + fuse_open_out
  kStatfs,    // fuse_statfs_out
  kCount,     // fuse_write_out
  kLseek,     // fuse_lseek_out
  kVariable,  // the handler bounds its reply by the room it finds
};

enum class BodyMode : uint8_t {
  kBuffered,  // the whole body is copied out before the handler runs
  kStreamed,  // only the fixed part; the handler reads the rest from `in` (WRITE, BATCH_FORGET)
};

using FixedSizeFn = uint32_t (*)(const Negotiated& neg);

struct OpcodeSpec {
  const char* name = nullptr;  // nullptr: not an opcode we know
  FixedSizeFn fixed_size = nullptr;
  ReplyKind reply = ReplyKind::kVariable;
  BodyMode body = BodyMode::kBuffered;
  Handler handler = nullptr;
};

// The spec for `opcode`, or nullptr if unknown.
[[nodiscard]] const OpcodeSpec* FindOpcode(uint32_t opcode);

// The success-reply body size a request must have room for before its
// handler runs (so a backend never creates state whose reply cannot be
// delivered). 0 for kEmpty / kVariable; meaningless for kNone.
[[nodiscard]] size_t MinReplyBody(ReplyKind kind, uint32_t minor);

}  // namespace hostshare::fuse
