// Call: everything a request handler needs, decoded and validated by the
// server before the handler runs: credentials, node id, the opcode's fixed
// body (sized for the negotiated minor), the rest of the body, and the
// reply being built.
//
// Trust boundary: every byte reachable from a Call is guest-controlled, but
// already copied out of guest memory (except the streamed payload of WRITE
// and BATCH_FORGET, which is read exactly once through `in`).
// Thread-safety: a Call lives on one thread for one request.
#pragma once

#include <algorithm>
#include <cstring>
#include <span>
#include <type_traits>

#include "base/byte_io.h"
#include "fuse/body_cursor.h"
#include "fuse/filesystem.h"
#include "fuse/reply.h"
#include "fuse/session.h"

namespace hostshare::fuse {

struct Call {
  Filesystem& fs;
  Session& session;
  const Limits& limits;
  Negotiated neg;               // snapshot taken when the request arrived
  Context ctx;
  NodeId node;                  // fuse_in_header.nodeid
  std::span<const char> body;   // the buffered body: `fixed` followed by `tail`'s bytes
  std::span<const char> fixed;  // the opcode's fixed struct, maybe a compat prefix
  BodyCursor tail;              // buffered body after `fixed` (names, values)
  ByteReader& in;               // streamed ops: positioned after `fixed`
  size_t streamed;              // streamed ops: bytes of `in` that belong to the request
  Reply& reply;

  // The fixed struct; fields beyond a compat-sized prefix read as zero.
  template <typename T>
  T Fixed() const {
    static_assert(std::is_trivially_copyable_v<T>);
    T v{};
    if (!fixed.empty()) memcpy(&v, fixed.data(), std::min(sizeof v, fixed.size()));
    return v;
  }
};

// Handles one request; returns the reply length (0 = no reply).
using Handler = size_t (*)(Call& call);

}  // namespace hostshare::fuse
