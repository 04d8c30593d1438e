#include "fuse_test_util.h"

#include <fcntl.h>
#include <gtest/gtest.h>

#include <algorithm>

#include "base/log.h"

namespace hostshare::fuse::testing {

namespace {
// Keep test output readable: INIT logs at info.
const bool kQuietLogs = [] {
  log::SetLevel(log::Level::kWarn);
  return true;
}();
}  // namespace

Bytes MakeRequest(uint32_t opcode, uint64_t nodeid, const Bytes& body, const ReqOpts& o) {
  fuse_in_header h{};
  h.len = o.len_override >= 0 ? static_cast<uint32_t>(o.len_override)
                              : static_cast<uint32_t>(sizeof h + body.size());
  h.opcode = opcode;
  h.unique = o.unique;
  h.nodeid = nodeid;
  h.uid = o.uid;
  h.gid = o.gid;
  h.pid = o.pid;
  h.total_extlen = o.total_extlen;
  Bytes out(sizeof h);
  memcpy(out.data(), &h, sizeof h);
  out.insert(out.end(), body.begin(), body.end());
  return out;
}

namespace {
std::vector<iovec> Segments(char* base, size_t len, size_t split) {
  std::vector<iovec> segs;
  if (split == 0) {
    segs.push_back({base, len});
    return segs;
  }
  for (size_t off = 0; off < len; off += split) {
    segs.push_back({base + off, std::min(split, len - off)});
    if (off == 0) segs.push_back({base, 0});  // a zero-length segment for good measure
  }
  return segs;
}
}  // namespace

Replied Send(Server& server, const Bytes& req, size_t out_size, size_t split) {
  // Exact-size heap copies so ASan catches any access past either buffer.
  std::unique_ptr<char[]> in_buf(new char[std::max<size_t>(req.size(), 1)]);
  if (!req.empty()) memcpy(in_buf.get(), req.data(), req.size());
  std::unique_ptr<char[]> out_buf(new char[std::max<size_t>(out_size, 1)]);
  memset(out_buf.get(), 0xAB, std::max<size_t>(out_size, 1));

  IovecReader reader(Segments(in_buf.get(), req.size(), split));
  IovecWriter writer(Segments(out_buf.get(), out_size, split));
  Replied r;
  r.n = server.Handle(reader, writer);
  EXPECT_LE(r.n, out_size) << "reply longer than the writer";
  EXPECT_LE(r.n, writer.BytesWritten());
  if (r.n >= sizeof(fuse_out_header)) {
    memcpy(&r.hdr, out_buf.get(), sizeof r.hdr);
    EXPECT_EQ(r.hdr.len, r.n) << "header len differs from the returned length";
    r.body.assign(out_buf.get() + sizeof r.hdr, out_buf.get() + r.n);
  } else {
    EXPECT_EQ(r.n, 0u) << "a reply shorter than a header";
  }
  return r;
}

Bytes InitBody(uint32_t major, uint32_t minor, uint64_t flags, uint32_t max_readahead) {
  fuse_init_in in{};
  in.major = major;
  in.minor = minor;
  in.max_readahead = max_readahead;
  in.flags = static_cast<uint32_t>(flags);
  in.flags2 = static_cast<uint32_t>(flags >> 32);
  size_t n = (flags & FUSE_INIT_EXT) ? sizeof in : 16;
  return Body().Struct(in, n);
}

Replied InitServer(Server& server, uint32_t minor, uint64_t flags) {
  if (minor < 36) flags &= ~uint64_t{FUSE_INIT_EXT} & 0xffffffffu;
  Replied r = Send(server, MakeRequest(FUSE_INIT, 0, InitBody(7, minor, flags)));
  EXPECT_GE(r.n, 16u + 8u);
  EXPECT_EQ(r.hdr.error, 0);
  return r;
}

// ---------------------------------------------------------------- RecordingFs

RecordingFs::RecordingFs() {
  entry.node = 42;
  entry.generation = 7;
  entry.entry_timeout_ns = 1'500'000'000;
  entry.attr.st.st_ino = 42;
  entry.attr.st.st_mode = S_IFREG | 0644;
  entry.attr.st.st_size = 1234;
  entry.attr.timeout_ns = 2'000'000'001;
  attr = entry.attr;
  opened.handle = 99;
  opened.open_flags = FOPEN_KEEP_CACHE;
  wants.flags = FUSE_ASYNC_READ | FUSE_DO_READDIRPLUS | FUSE_SETXATTR_EXT | FUSE_POSIX_LOCKS |
                FUSE_EXPORT_SUPPORT | FUSE_SECURITY_CTX | FUSE_HAS_EXPIRE_ONLY;
}

std::vector<std::string> RecordingFs::calls() const {
  std::lock_guard<std::mutex> l(mu_);
  return calls_;
}
void RecordingFs::Clear() {
  std::lock_guard<std::mutex> l(mu_);
  calls_.clear();
}
Context RecordingFs::last_ctx() const {
  std::lock_guard<std::mutex> l(mu_);
  return last_ctx_;
}
InitInfo RecordingFs::last_init() const {
  std::lock_guard<std::mutex> l(mu_);
  return last_init_;
}

void RecordingFs::Record(const Context* ctx, std::string call) {
  std::lock_guard<std::mutex> l(mu_);
  calls_.push_back(std::move(call));
  if (ctx) last_ctx_ = *ctx;
}

InitWants RecordingFs::Init(const InitInfo& info) {
  {
    std::lock_guard<std::mutex> l(mu_);
    last_init_ = info;
  }
  Record(nullptr, Call("Init", info.major, info.minor));
  return wants;
}

void RecordingFs::Reset() { Record(nullptr, "Reset()"); }

Result<Entry> RecordingFs::Lookup(const Context& ctx, NodeId parent, std::string_view name) {
  Record(&ctx, Call("Lookup", parent, name));
  if (fail_with) return Errno{fail_with};
  return entry;
}

void RecordingFs::Forget(NodeId node, uint64_t nlookup) {
  Record(nullptr, Call("Forget", node, nlookup));
}

Result<Attr> RecordingFs::GetAttr(const Context& ctx, NodeId node, const Handle* handle) {
  Record(&ctx, Call("GetAttr", node, handle ? std::to_string(*handle) : "null"));
  if (fail_with) return Errno{fail_with};
  return attr;
}

namespace {
std::string Time(const struct timespec& ts) {
  if (ts.tv_nsec == UTIME_NOW) return "now";
  if (ts.tv_nsec == UTIME_OMIT) return "omit";
  return std::to_string(ts.tv_sec) + "." + std::to_string(ts.tv_nsec);
}
}  // namespace

Result<Attr> RecordingFs::SetAttr(const Context& ctx, NodeId node, const SetAttrIn& in) {
  Record(&ctx, Call("SetAttr", node, in.valid, in.handle, in.size, in.mode, in.uid, in.gid,
                    Time(in.atime), Time(in.mtime), Time(in.ctime), in.kill_suidgid));
  if (fail_with) return Errno{fail_with};
  return attr;
}

Result<std::string> RecordingFs::ReadLink(const Context& ctx, NodeId node) {
  Record(&ctx, Call("ReadLink", node));
  if (fail_with) return Errno{fail_with};
  return link_target;
}

Result<Entry> RecordingFs::Symlink(const Context& ctx, NodeId parent, std::string_view name,
                                   std::string_view target) {
  Record(&ctx, Call("Symlink", parent, name, target));
  if (fail_with) return Errno{fail_with};
  return entry;
}

Result<Entry> RecordingFs::Mknod(const Context& ctx, NodeId parent, std::string_view name,
                                 uint32_t mode, uint32_t rdev, uint32_t umask) {
  Record(&ctx, Call("Mknod", parent, name, mode, rdev, umask));
  if (fail_with) return Errno{fail_with};
  return entry;
}

Result<Entry> RecordingFs::Mkdir(const Context& ctx, NodeId parent, std::string_view name,
                                 uint32_t mode, uint32_t umask) {
  Record(&ctx, Call("Mkdir", parent, name, mode, umask));
  if (fail_with) return Errno{fail_with};
  return entry;
}

Status RecordingFs::Unlink(const Context& ctx, NodeId parent, std::string_view name) {
  Record(&ctx, Call("Unlink", parent, name));
  return Fail();
}

Status RecordingFs::Rmdir(const Context& ctx, NodeId parent, std::string_view name) {
  Record(&ctx, Call("Rmdir", parent, name));
  return Fail();
}

Status RecordingFs::Rename(const Context& ctx, NodeId old_parent, std::string_view old_name,
                           NodeId new_parent, std::string_view new_name, uint32_t flags) {
  Record(&ctx, Call("Rename", old_parent, old_name, new_parent, new_name, flags));
  return Fail();
}

Result<Entry> RecordingFs::Link(const Context& ctx, NodeId node, NodeId new_parent,
                                std::string_view new_name) {
  Record(&ctx, Call("Link", node, new_parent, new_name));
  if (fail_with) return Errno{fail_with};
  return entry;
}

Status RecordingFs::Access(const Context& ctx, NodeId node, uint32_t mask) {
  Record(&ctx, Call("Access", node, mask));
  return Fail();
}

Result<struct statvfs> RecordingFs::StatFs(const Context& ctx, NodeId node) {
  Record(&ctx, Call("StatFs", node));
  if (fail_with) return Errno{fail_with};
  struct statvfs st {};
  st.f_bsize = 4096;
  st.f_frsize = 512;
  st.f_blocks = 1000;
  st.f_bfree = 500;
  st.f_bavail = 400;
  st.f_files = 300;
  st.f_ffree = 200;
  st.f_namemax = 255;
  return st;
}

Result<Opened> RecordingFs::Open(const Context& ctx, NodeId node, uint32_t flags) {
  Record(&ctx, Call("Open", node, flags));
  if (fail_with) return Errno{fail_with};
  return opened;
}

Result<Created> RecordingFs::Create(const Context& ctx, NodeId parent, std::string_view name,
                                    uint32_t mode, uint32_t flags, uint32_t umask) {
  Record(&ctx, Call("Create", parent, name, mode, flags, umask));
  if (fail_with) return Errno{fail_with};
  return Created{entry, opened};
}

Result<Created> RecordingFs::TmpFile(const Context& ctx, NodeId parent, uint32_t mode,
                                     uint32_t flags, uint32_t umask) {
  Record(&ctx, Call("TmpFile", parent, mode, flags, umask));
  if (fail_with) return Errno{fail_with};
  return Created{entry, opened};
}

Result<size_t> RecordingFs::Read(const Context& ctx, NodeId node, Handle handle, uint64_t offset,
                                 uint32_t size, ByteWriter& out) {
  Record(&ctx, Call("Read", node, handle, offset, size));
  if (fail_with) return Errno{fail_with};
  size_t want = size + read_extra;
  if (data_fd >= 0) {
    size_t done = 0;
    while (done < want) {
      Result<size_t> r = out.WriteFromFile(data_fd, offset + done, want - done);
      if (!r.ok()) return r;
      if (*r == 0) break;
      done += *r;
    }
    return done;
  }
  size_t n = std::min(want, read_data.size());
  if (!out.Write(read_data.data(), n).ok()) return Errno{EFAULT};
  return n;
}

Result<size_t> RecordingFs::Write(const Context& ctx, NodeId node, Handle handle, uint64_t offset,
                                  uint32_t size, ByteReader& in, bool kill_suidgid) {
  Record(&ctx, Call("Write", node, handle, offset, size, kill_suidgid));
  if (fail_with) return Errno{fail_with};
  size_t want = size + read_extra;
  if (data_fd >= 0) {
    size_t done = 0;
    while (done < want) {
      Result<size_t> r = in.ReadToFile(data_fd, offset + done, want - done);
      if (!r.ok()) return r;
      if (*r == 0) break;
      done += *r;
    }
    return done;
  }
  std::string data(std::min(want, in.Available()), '\0');
  if (!in.Read(data.data(), data.size()).ok()) return Errno{EFAULT};
  written = data;
  return data.size();
}

Status RecordingFs::Flush(const Context& ctx, NodeId node, Handle handle, uint64_t lock_owner) {
  Record(&ctx, Call("Flush", node, handle, lock_owner));
  return Fail();
}

Status RecordingFs::Release(const Context& ctx, NodeId node, Handle handle, uint32_t flags,
                            uint32_t release_flags, uint64_t lock_owner) {
  Record(&ctx, Call("Release", node, handle, flags, release_flags, lock_owner));
  return Fail();
}

Status RecordingFs::Fsync(const Context& ctx, NodeId node, Handle handle, bool datasync) {
  Record(&ctx, Call("Fsync", node, handle, datasync));
  return Fail();
}

Status RecordingFs::Fallocate(const Context& ctx, NodeId node, Handle handle, uint32_t mode,
                              uint64_t offset, uint64_t length) {
  Record(&ctx, Call("Fallocate", node, handle, mode, offset, length));
  return Fail();
}

Result<uint64_t> RecordingFs::Lseek(const Context& ctx, NodeId node, Handle handle,
                                    uint64_t offset, uint32_t whence) {
  Record(&ctx, Call("Lseek", node, handle, offset, whence));
  if (fail_with) return Errno{fail_with};
  return lseek_result;
}

Result<size_t> RecordingFs::CopyFileRange(const Context& ctx, NodeId node_in, Handle handle_in,
                                          uint64_t offset_in, NodeId node_out,
                                          Handle handle_out, uint64_t offset_out,
                                          uint64_t length, uint64_t flags) {
  Record(&ctx, Call("CopyFileRange", node_in, handle_in, offset_in, node_out, handle_out,
                    offset_out, length, flags));
  if (fail_with) return Errno{fail_with};
  return static_cast<size_t>(length);
}

Result<Opened> RecordingFs::OpenDir(const Context& ctx, NodeId node, uint32_t flags) {
  Record(&ctx, Call("OpenDir", node, flags));
  if (fail_with) return Errno{fail_with};
  return opened;
}

Status RecordingFs::ReadDir(const Context& ctx, NodeId node, Handle handle, uint64_t offset,
                            uint32_t size, DirSink& sink) {
  Record(&ctx, Call("ReadDir", node, handle, offset, size, sink.Plus()));
  if (fail_with) return Errno{fail_with};
  for (size_t i = offset; i < dir.size(); ++i) {
    if (readdir_error_after >= 0 && i - offset == static_cast<size_t>(readdir_error_after)) {
      return Errno{EIO};
    }
    DirEntry d{.name = dir[i].name, .ino = dir[i].ino, .offset = i + 1, .type = dir[i].type};
    Entry e = entry;
    e.node = 100 + i;
    e.attr.st.st_ino = dir[i].ino;
    bool dots = dir[i].name == "." || dir[i].name == "..";
    const Entry* plus = sink.Plus() && !dots ? &e : nullptr;
    if (!sink.Add(d, plus)) break;
    if (plus) ++lookups_counted;  // counted only once accepted
  }
  return OkStatus();
}

Status RecordingFs::ReleaseDir(const Context& ctx, NodeId node, Handle handle) {
  Record(&ctx, Call("ReleaseDir", node, handle));
  return Fail();
}

Status RecordingFs::FsyncDir(const Context& ctx, NodeId node, Handle handle, bool datasync) {
  Record(&ctx, Call("FsyncDir", node, handle, datasync));
  return Fail();
}

Status RecordingFs::SyncFs(const Context& ctx, NodeId node) {
  Record(&ctx, Call("SyncFs", node));
  return Fail();
}

Status RecordingFs::SetXattr(const Context& ctx, NodeId node, std::string_view name,
                             std::span<const char> value, uint32_t flags) {
  Record(&ctx, Call("SetXattr", node, name, std::string_view(value.data(), value.size()), flags));
  return Fail();
}

namespace {
Result<size_t> CopyOut(const std::string& value, std::span<char> buf) {
  if (buf.empty()) return value.size();
  if (buf.size() < value.size()) return Errno{ERANGE};
  memcpy(buf.data(), value.data(), value.size());
  return value.size();
}
}  // namespace

Result<size_t> RecordingFs::GetXattr(const Context& ctx, NodeId node, std::string_view name,
                                     std::span<char> buf) {
  Record(&ctx, Call("GetXattr", node, name, buf.size()));
  if (fail_with) return Errno{fail_with};
  return CopyOut(xattr_value, buf);
}

Result<size_t> RecordingFs::ListXattr(const Context& ctx, NodeId node, std::span<char> buf) {
  Record(&ctx, Call("ListXattr", node, buf.size()));
  if (fail_with) return Errno{fail_with};
  return CopyOut(xattr_list, buf);
}

Status RecordingFs::RemoveXattr(const Context& ctx, NodeId node, std::string_view name) {
  Record(&ctx, Call("RemoveXattr", node, name));
  return Fail();
}

}  // namespace hostshare::fuse::testing
