#include "fuse_calls.h"

#include <cerrno>
#include <cstring>

namespace hostshare::bench {
namespace {

// Resets the slot to a plain request with `args` in-arg bytes and `out`
// out-arg bytes.
void Reset(Slot& s, uint32_t args, uint32_t out) {
  s.args_len = args;
  s.data_in = 0;
  s.out_args = out;
  s.data_out = 0;
  s.no_reply = false;
}

int Result(int rc, const Slot& s, uint32_t want_body) {
  if (rc != 0) return rc < 0 ? -rc : rc;
  const fuse_out_header* h = s.out_header();
  if (h->len < sizeof(fuse_out_header) + want_body) return EPROTO;
  return 0;
}

}  // namespace

uint64_t GuestInitFlags() {
  return FUSE_ASYNC_READ | FUSE_POSIX_LOCKS | FUSE_ATOMIC_O_TRUNC | FUSE_EXPORT_SUPPORT |
         FUSE_BIG_WRITES | FUSE_DONT_MASK | FUSE_SPLICE_WRITE | FUSE_SPLICE_MOVE |
         FUSE_SPLICE_READ | FUSE_FLOCK_LOCKS | FUSE_HAS_IOCTL_DIR | FUSE_AUTO_INVAL_DATA |
         FUSE_DO_READDIRPLUS | FUSE_READDIRPLUS_AUTO | FUSE_ASYNC_DIO | FUSE_WRITEBACK_CACHE |
         FUSE_NO_OPEN_SUPPORT | FUSE_PARALLEL_DIROPS | FUSE_HANDLE_KILLPRIV | FUSE_POSIX_ACL |
         FUSE_ABORT_ERROR | FUSE_MAX_PAGES | FUSE_CACHE_SYMLINKS | FUSE_NO_OPENDIR_SUPPORT |
         FUSE_EXPLICIT_INVAL_DATA | FUSE_MAP_ALIGNMENT | FUSE_SUBMOUNTS |
         FUSE_HANDLE_KILLPRIV_V2 | FUSE_SETXATTR_EXT | FUSE_INIT_EXT;
}

uint32_t PutName(uint8_t* p, std::string_view name) {
  memcpy(p, name.data(), name.size());
  p[name.size()] = 0;
  return static_cast<uint32_t>(name.size() + 1);
}

int FuseInit(QueueDriver& q, InitResult* out) {
  Slot& s = q.slot(0);
  Reset(s, sizeof(fuse_init_in), sizeof(fuse_init_out));
  fuse_init_in in{};
  in.major = FUSE_KERNEL_VERSION;
  in.minor = 36;  // what a Linux 6.1 guest speaks
  in.max_readahead = 128 * 1024;
  const uint64_t flags = GuestInitFlags();
  in.flags = static_cast<uint32_t>(flags);
  in.flags2 = static_cast<uint32_t>(flags >> 32);
  memcpy(s.args(), &in, sizeof in);
  q.Prepare(s, FUSE_INIT, 0);
  int rc = Result(q.Call(s), s, 24);  // at least up to max_write
  if (rc != 0) return rc;
  fuse_init_out o{};
  size_t got = s.out_header()->len - sizeof(fuse_out_header);
  memcpy(&o, s.out_args_ptr(), std::min(got, sizeof o));
  out->minor = o.minor;
  out->max_write = o.max_write;
  out->flags = o.flags | (uint64_t{o.flags2} << 32);
  out->max_pages = (o.flags & FUSE_MAX_PAGES) ? o.max_pages : 32;
  return 0;
}

int FuseLookup(QueueDriver& q, uint64_t parent, std::string_view name, fuse_entry_out* out) {
  Slot& s = q.slot(0);
  Reset(s, PutName(s.args(), name), sizeof(fuse_entry_out));
  q.Prepare(s, FUSE_LOOKUP, parent);
  int rc = Result(q.Call(s), s, sizeof(fuse_entry_out));
  if (rc == 0) memcpy(out, s.out_args_ptr(), sizeof *out);
  return rc;
}

int FuseOpen(QueueDriver& q, uint64_t node, uint32_t flags, uint64_t* fh, bool dir) {
  Slot& s = q.slot(0);
  Reset(s, sizeof(fuse_open_in), sizeof(fuse_open_out));
  fuse_open_in in{};
  in.flags = flags;
  memcpy(s.args(), &in, sizeof in);
  q.Prepare(s, dir ? FUSE_OPENDIR : FUSE_OPEN, node);
  int rc = Result(q.Call(s), s, sizeof(fuse_open_out));
  if (rc == 0) {
    fuse_open_out o;
    memcpy(&o, s.out_args_ptr(), sizeof o);
    *fh = o.fh;
  }
  return rc;
}

int FuseRelease(QueueDriver& q, uint64_t node, uint64_t fh, bool dir) {
  Slot& s = q.slot(0);
  Reset(s, sizeof(fuse_release_in), 0);
  fuse_release_in in{};
  in.fh = fh;
  memcpy(s.args(), &in, sizeof in);
  q.Prepare(s, dir ? FUSE_RELEASEDIR : FUSE_RELEASE, node);
  return Result(q.Call(s), s, 0);
}

int FuseForget(QueueDriver& q, uint64_t node, uint64_t nlookup) {
  Slot& s = q.slot(0);
  Reset(s, sizeof(fuse_forget_in), 0);
  s.no_reply = true;
  fuse_forget_in in{};
  in.nlookup = nlookup;
  memcpy(s.args(), &in, sizeof in);
  q.Prepare(s, FUSE_FORGET, node);
  int rc = q.Call(s);
  return rc < 0 ? -rc : rc;
}

}  // namespace hostshare::bench
