// FuseClient: plays the guest kernel's virtio-fs driver on top of a
// FakeFrontend: builds FUSE requests with the structs of <linux/fuse.h>,
// submits them as [request | reply buffer] chains (queue 1 for requests,
// queue 0 "hiprio" for FORGET) and checks the reply framing.
//
// Call() returns the raw reply; the typed helpers return the decoded body
// or the FUSE error as an Errno. A malformed reply (wrong length, wrong
// unique, short body) is EPROTO, so a test cannot mistake it for data.
//
// Thread-safety: one thread, like the FakeFrontend underneath.
#pragma once

#include <fcntl.h>
#include <linux/fuse.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstddef>
#include <cstring>
#include <string>
#include <vector>

#include "support/fake_frontend.h"

namespace hostshare::fake {

class FuseClient {
 public:
  static constexpr uint32_t kHiprioQueue = 0;
  static constexpr uint32_t kRequestQueue = 1;
  static constexpr uint32_t kReplySize = 128 * 1024;
  static constexpr uint64_t kRootId = FUSE_ROOT_ID;

  struct Reply {
    int error = 0;              // positive errno, 0 on success
    std::vector<uint8_t> body;  // after fuse_out_header
    uint32_t used_len = 0;      // used.len the device reported
  };
  struct DirEntry {
    std::string name;
    uint64_t ino = 0;
    uint64_t off = 0;
    uint32_t type = 0;
    fuse_entry_out entry{};  // READDIRPLUS only
  };

  explicit FuseClient(FakeFrontend& fe) : fe_(fe), uid_(getuid()), gid_(getgid()) {}

  void set_caller(uint32_t uid, uint32_t gid) {
    uid_ = uid;
    gid_ = gid;
  }
  uint64_t last_unique() const { return unique_; }

  // fuse_in_header + body, as the kernel lays a request out.
  std::vector<uint8_t> BuildRequest(uint32_t opcode, uint64_t nodeid,
                                    const std::vector<uint8_t>& body) {
    fuse_in_header h{};
    h.len = static_cast<uint32_t>(sizeof(h) + body.size());
    h.opcode = opcode;
    h.unique = ++unique_;
    h.nodeid = nodeid;
    h.uid = uid_;
    h.gid = gid_;
    h.pid = static_cast<uint32_t>(getpid());
    std::vector<uint8_t> out(sizeof(h));
    memcpy(out.data(), &h, sizeof(h));
    out.insert(out.end(), body.begin(), body.end());
    return out;
  }

  // Sends one request and returns its reply. `reply_size` 0 sends a chain
  // with no writable part (as the kernel does for FORGET).
  Result<Reply> Call(uint32_t opcode, uint64_t nodeid, const std::vector<uint8_t>& body,
                     uint32_t reply_size = kReplySize, uint32_t queue = kRequestQueue) {
    auto req = BuildRequest(opcode, nodeid, body);
    auto c = fe_.Submit(queue, req, reply_size);
    if (!c.ok()) return Errno{c.error()};
    return Parse(*c, unique_);
  }

  // Checks the framing of a completion for request `unique`.
  static Result<Reply> Parse(const FakeVirtqueue::Completion& c, uint64_t unique) {
    Reply r;
    r.used_len = c.len;
    if (c.len == 0) return r;  // no reply (FORGET)
    if (c.reply.size() < sizeof(fuse_out_header) || c.len != c.reply.size()) {
      return Errno{EPROTO};
    }
    fuse_out_header h;
    memcpy(&h, c.reply.data(), sizeof(h));
    if (h.len != c.len || h.unique != unique || h.error > 0 || h.error < -4095) {
      return Errno{EPROTO};
    }
    r.error = -h.error;
    if (r.error != 0 && h.len != sizeof(h)) return Errno{EPROTO};  // errors carry no body
    r.body.assign(c.reply.begin() + sizeof(h), c.reply.end());
    return r;
  }

  // ---- Request bodies ---------------------------------------------------------

  template <typename T>
  static std::vector<uint8_t> Body(const T& v) {
    std::vector<uint8_t> out(sizeof(T));
    memcpy(out.data(), &v, sizeof(T));
    return out;
  }
  // Appends NUL-terminated names.
  static std::vector<uint8_t> WithNames(std::vector<uint8_t> body,
                                        std::initializer_list<std::string> names) {
    for (const auto& n : names) {
      body.insert(body.end(), n.begin(), n.end());
      body.push_back(0);
    }
    return body;
  }

  // ---- Typed operations ----------------------------------------------------------

  Result<fuse_init_out> Init(uint64_t flags = kDefaultInitFlags, uint32_t minor = 38) {
    fuse_init_in in{};
    in.major = FUSE_KERNEL_VERSION;
    in.minor = minor;
    in.max_readahead = 128 * 1024;
    in.flags = static_cast<uint32_t>(flags) | FUSE_INIT_EXT;
    in.flags2 = static_cast<uint32_t>(flags >> 32);
    return Decode<fuse_init_out>(Call(FUSE_INIT, 0, Body(in)), /*min=*/24);
  }

  Result<fuse_entry_out> Lookup(uint64_t parent, const std::string& name) {
    return Decode<fuse_entry_out>(Call(FUSE_LOOKUP, parent, WithNames({}, {name})));
  }

  Result<fuse_attr_out> GetAttr(uint64_t node) {
    fuse_getattr_in in{};
    return Decode<fuse_attr_out>(Call(FUSE_GETATTR, node, Body(in)));
  }

  struct Created {
    fuse_entry_out entry;
    fuse_open_out open;
  };
  Result<Created> Create(uint64_t parent, const std::string& name, uint32_t mode = 0644,
                         uint32_t flags = O_RDWR | O_CREAT | O_EXCL) {
    fuse_create_in in{};
    in.flags = flags;
    in.mode = S_IFREG | mode;
    in.umask = 0;
    auto r = Call(FUSE_CREATE, parent, WithNames(Body(in), {name}));
    if (!r.ok()) return Errno{r.error()};
    if (r->error != 0) return Errno{r->error};
    if (r->body.size() != sizeof(fuse_entry_out) + sizeof(fuse_open_out)) return Errno{EPROTO};
    Created c;
    memcpy(&c.entry, r->body.data(), sizeof(c.entry));
    memcpy(&c.open, r->body.data() + sizeof(c.entry), sizeof(c.open));
    return c;
  }

  Result<fuse_open_out> Open(uint64_t node, uint32_t flags, uint32_t opcode = FUSE_OPEN) {
    fuse_open_in in{};
    in.flags = flags;
    return Decode<fuse_open_out>(Call(opcode, node, Body(in)));
  }
  Result<fuse_open_out> OpenDir(uint64_t node) {
    return Open(node, O_RDONLY | O_DIRECTORY, FUSE_OPENDIR);
  }

  // The request of a WRITE (header + fuse_write_in + data).
  std::vector<uint8_t> WriteBody(uint64_t fh, uint64_t offset, const std::vector<uint8_t>& data) {
    fuse_write_in in{};
    in.fh = fh;
    in.offset = offset;
    in.size = static_cast<uint32_t>(data.size());
    auto b = Body(in);
    b.insert(b.end(), data.begin(), data.end());
    return b;
  }
  Result<uint32_t> Write(uint64_t node, uint64_t fh, uint64_t offset,
                         const std::vector<uint8_t>& data) {
    auto out = Decode<fuse_write_out>(Call(FUSE_WRITE, node, WriteBody(fh, offset, data)));
    if (!out.ok()) return Errno{out.error()};
    return out->size;
  }

  std::vector<uint8_t> ReadBody(uint64_t fh, uint64_t offset, uint32_t size) {
    fuse_read_in in{};
    in.fh = fh;
    in.offset = offset;
    in.size = size;
    return Body(in);
  }
  Result<std::vector<uint8_t>> Read(uint64_t node, uint64_t fh, uint64_t offset, uint32_t size) {
    auto r = Call(FUSE_READ, node, ReadBody(fh, offset, size),
                  static_cast<uint32_t>(sizeof(fuse_out_header) + size));
    if (!r.ok()) return Errno{r.error()};
    if (r->error != 0) return Errno{r->error};
    return r->body;
  }

  Status Release(uint64_t node, uint64_t fh, uint32_t opcode = FUSE_RELEASE) {
    fuse_release_in in{};
    in.fh = fh;
    return Expect0(Call(opcode, node, Body(in)));
  }
  Status ReleaseDir(uint64_t node, uint64_t fh) { return Release(node, fh, FUSE_RELEASEDIR); }

  Result<std::vector<DirEntry>> ReadDirPlus(uint64_t node, uint64_t fh, uint64_t offset = 0,
                                            uint32_t size = 64 * 1024) {
    auto r = Call(FUSE_READDIRPLUS, node, ReadBody(fh, offset, size),
                  static_cast<uint32_t>(sizeof(fuse_out_header) + size));
    if (!r.ok()) return Errno{r.error()};
    if (r->error != 0) return Errno{r->error};
    std::vector<DirEntry> out;
    const auto& b = r->body;
    size_t pos = 0;
    const size_t name_off = FUSE_NAME_OFFSET_DIRENTPLUS;
    while (pos < b.size()) {
      if (b.size() - pos < name_off) return Errno{EPROTO};
      DirEntry e;
      memcpy(&e.entry, b.data() + pos, sizeof(e.entry));
      fuse_dirent d;
      memcpy(&d, b.data() + pos + offsetof(fuse_direntplus, dirent), sizeof(d));
      size_t rec = FUSE_DIRENT_ALIGN(name_off + d.namelen);
      if (d.namelen == 0 || d.namelen > b.size() - pos - name_off || rec > b.size() - pos) {
        return Errno{EPROTO};
      }
      e.name.assign(reinterpret_cast<const char*>(b.data() + pos + name_off), d.namelen);
      e.ino = d.ino;
      e.off = d.off;
      e.type = d.type;
      out.push_back(std::move(e));
      pos += rec;
    }
    return out;
  }

  Status Rename2(uint64_t olddir, const std::string& oldname, uint64_t newdir,
                 const std::string& newname, uint32_t flags) {
    fuse_rename2_in in{};
    in.newdir = newdir;
    in.flags = flags;
    return Expect0(Call(FUSE_RENAME2, olddir, WithNames(Body(in), {oldname, newname})));
  }

  Status Unlink(uint64_t parent, const std::string& name) {
    return Expect0(Call(FUSE_UNLINK, parent, WithNames({}, {name})));
  }

  // FORGET on the hiprio queue. Returns the used.len the device reported
  // (must be 0: FORGET has no reply). `reply_size` > 0 offers a buffer anyway.
  Result<uint32_t> Forget(uint64_t node, uint64_t nlookup, uint32_t reply_size = 0) {
    fuse_forget_in in{};
    in.nlookup = nlookup;
    auto req = BuildRequest(FUSE_FORGET, node, Body(in));
    auto c = fe_.Submit(kHiprioQueue, req, reply_size);
    if (!c.ok()) return Errno{c.error()};
    return c->len;
  }

  static constexpr uint64_t kDefaultInitFlags =
      FUSE_ASYNC_READ | FUSE_BIG_WRITES | FUSE_DO_READDIRPLUS | FUSE_READDIRPLUS_AUTO |
      FUSE_MAX_PAGES | FUSE_ATOMIC_O_TRUNC | FUSE_PARALLEL_DIROPS | FUSE_WRITEBACK_CACHE |
      FUSE_ASYNC_DIO | FUSE_HANDLE_KILLPRIV | FUSE_CACHE_SYMLINKS | FUSE_EXPLICIT_INVAL_DATA;

 private:
  template <typename T>
  static Result<T> Decode(Result<Reply> r, size_t min = sizeof(T)) {
    if (!r.ok()) return Errno{r.error()};
    if (r->error != 0) return Errno{r->error};
    if (r->body.size() < min || r->body.size() > sizeof(T)) return Errno{EPROTO};
    T out{};
    memcpy(&out, r->body.data(), r->body.size());
    return out;
  }
  static Status Expect0(Result<Reply> r) {
    if (!r.ok()) return Errno{r.error()};
    if (r->error != 0) return Errno{r->error};
    if (!r->body.empty()) return Errno{EPROTO};
    return OkStatus();
  }

  FakeFrontend& fe_;
  uint32_t uid_, gid_;
  uint64_t unique_ = 0;
};

}  // namespace hostshare::fake
