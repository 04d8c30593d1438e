// Handlers for extended attributes: SETXATTR, GETXATTR, LISTXATTR,
// REMOVEXATTR.
//
// Sizes are guest-controlled: a value is at most XATTR_SIZE_MAX, and the
// buffer we allocate for GETXATTR / LISTXATTR is at most XATTR_SIZE_MAX and
// never larger than the reply room (a value that does not fit is ERANGE,
// exactly as if the guest had offered a smaller buffer). Size 0 asks for
// the size.
#include <algorithm>
#include <vector>

#include "fuse/handlers.h"
#include "fuse/names.h"
#include "fuse/reply_helpers.h"

namespace hostshare::fuse::handlers {

namespace {

template <typename Fn>
size_t ReplyXattrData(Call& c, uint32_t size, Fn fetch) {
  if (size == 0) {
    Result<size_t> r = fetch(std::span<char>());
    if (!r.ok()) return c.reply.Error(r.error());
    if (*r > UINT32_MAX) return c.reply.Error(E2BIG);
    fuse_getxattr_out out{};
    out.size = static_cast<uint32_t>(*r);
    return c.reply.Ok(&out, sizeof out);
  }
  const size_t room = c.reply.out().Available() - wire::kOutHeaderSize;  // >= 0: pre-checked
  const size_t cap = std::min({size_t{size}, wire::kXattrSizeMax, room});
  if (cap == 0) return c.reply.Error(ERANGE);
  std::vector<char> buf(cap);
  Result<size_t> r = fetch(std::span<char>(buf));
  if (!r.ok()) return c.reply.Error(r.error());
  if (*r > cap) return c.reply.Error(EIO);  // backend overran its buffer contract
  return c.reply.Ok(buf.data(), *r);
}

}  // namespace

// SETXATTR body: setxattr_in (the extended form only if FUSE_SETXATTR_EXT
// was negotiated), name NUL, value[size]. setxattr_flags
// (FUSE_SETXATTR_ACL_KILL_SGID) has no place in the Filesystem interface.
size_t SetXattr(Call& c) {
  const fuse_setxattr_in in = c.Fixed<fuse_setxattr_in>();
  Result<std::string_view> name = TakeXattrName(c.tail);
  if (!name.ok() || in.size > wire::kXattrSizeMax) return c.reply.Error(EINVAL);
  std::optional<std::span<const char>> value = c.tail.TakeBytes(in.size);
  if (!value) return c.reply.Error(EINVAL);
  return ReplyStatus(c, c.fs.SetXattr(c.ctx, c.node, *name, *value, in.flags));
}

size_t GetXattr(Call& c) {
  const fuse_getxattr_in in = c.Fixed<fuse_getxattr_in>();
  Result<std::string_view> name = TakeXattrName(c.tail);
  if (!name.ok()) return c.reply.Error(EINVAL);
  return ReplyXattrData(c, in.size, [&](std::span<char> buf) {
    return c.fs.GetXattr(c.ctx, c.node, *name, buf);
  });
}

size_t ListXattr(Call& c) {
  const fuse_getxattr_in in = c.Fixed<fuse_getxattr_in>();
  return ReplyXattrData(c, in.size,
                        [&](std::span<char> buf) { return c.fs.ListXattr(c.ctx, c.node, buf); });
}

size_t RemoveXattr(Call& c) {
  Result<std::string_view> name = TakeXattrName(c.tail);
  if (!name.ok()) return c.reply.Error(EINVAL);
  return ReplyStatus(c, c.fs.RemoveXattr(c.ctx, c.node, *name));
}

}  // namespace hostshare::fuse::handlers
