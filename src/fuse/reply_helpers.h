// Small helpers shared by the handlers: turn a Filesystem result into the
// matching reply, using the reply sizes of the negotiated minor.
//
// Trust boundary / thread-safety: as handlers.h.
#pragma once

#include "fuse/call.h"
#include "fuse/encode.h"
#include "fuse/wire.h"

namespace hostshare::fuse {

inline size_t ReplyStatus(Call& c, const Status& s) {
  return s.ok() ? c.reply.Ok() : c.reply.Error(s.error());
}

inline size_t ReplyEntry(Call& c, const Result<Entry>& r) {
  if (!r.ok()) return c.reply.Error(r.error());
  fuse_entry_out e = EncodeEntryOut(*r);
  return c.reply.Ok(&e, wire::EntryOutSize(c.neg.minor));
}

inline size_t ReplyAttr(Call& c, const Result<Attr>& r) {
  if (!r.ok()) return c.reply.Error(r.error());
  fuse_attr_out a = EncodeAttrOut(*r);
  return c.reply.Ok(&a, wire::AttrOutSize(c.neg.minor));
}

inline size_t ReplyOpen(Call& c, const Result<Opened>& r) {
  if (!r.ok()) return c.reply.Error(r.error());
  fuse_open_out o = EncodeOpenOut(*r);
  return c.reply.Ok(&o, sizeof o);
}

inline size_t ReplyCreated(Call& c, const Result<Created>& r) {
  if (!r.ok()) return c.reply.Error(r.error());
  fuse_entry_out e = EncodeEntryOut(r->entry);
  fuse_open_out o = EncodeOpenOut(r->opened);
  return c.reply.Ok(&e, wire::EntryOutSize(c.neg.minor), &o, sizeof o);
}

// fuse_write_out carries a 32-bit count; callers bound the request so the
// count fits, but clamp anyway.
inline size_t ReplyCount(Call& c, const Result<size_t>& r, uint64_t max) {
  if (!r.ok()) return c.reply.Error(r.error());
  if (*r > max) return c.reply.Error(EIO);  // backend claims more than asked
  fuse_write_out w{};
  w.size = static_cast<uint32_t>(*r);
  return c.reply.Ok(&w, sizeof w);
}

}  // namespace hostshare::fuse
