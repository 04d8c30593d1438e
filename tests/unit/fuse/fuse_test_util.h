// Test helpers for the FUSE server: a request builder, a Send() that runs a
// request through a Server over IovecReader/IovecWriter (optionally split
// into small segments), and a RecordingFs that logs every call as a string.
#pragma once

#include <linux/fuse.h>
#include <sys/uio.h>

#include <cstdint>
#include <cstring>
#include <memory>
#include <mutex>
#include <sstream>
#include <string>
#include <string_view>
#include <vector>

#include "base/iovec_io.h"
#include "fuse/filesystem.h"
#include "fuse/server.h"

namespace hostshare::fuse::testing {

using Bytes = std::vector<char>;

// Builds a request body piece by piece.
class Body {
 public:
  template <typename T>
  Body& Struct(const T& v, size_t n = sizeof(T)) {
    const char* p = reinterpret_cast<const char*>(&v);
    bytes_.insert(bytes_.end(), p, p + n);
    return *this;
  }
  // A string and its terminating NUL.
  Body& Str(std::string_view s) {
    Raw(s);
    bytes_.push_back('\0');
    return *this;
  }
  Body& Raw(std::string_view s) {
    bytes_.insert(bytes_.end(), s.begin(), s.end());
    return *this;
  }
  Bytes bytes() const { return bytes_; }
  operator Bytes() const { return bytes_; }  // NOLINT

 private:
  Bytes bytes_;
};

struct ReqOpts {
  uint64_t unique = 0x1234;
  uint32_t uid = 1000, gid = 100, pid = 42;
  uint16_t total_extlen = 0;
  int64_t len_override = -1;  // header.len, if >= 0
};

// header + body.
Bytes MakeRequest(uint32_t opcode, uint64_t nodeid, const Bytes& body, const ReqOpts& o = {});

struct Replied {
  size_t n = 0;             // what Handle returned
  fuse_out_header hdr{};    // valid when n >= 16
  Bytes body;               // bytes [16, n)
  int error() const { return -hdr.error; }
  template <typename T>
  T As(size_t off = 0) const {
    T v{};
    if (off < body.size()) memcpy(&v, body.data() + off, std::min(sizeof v, body.size() - off));
    return v;
  }
  std::string Text() const { return std::string(body.begin(), body.end()); }
};

// Runs `req` through the server. The reply buffer is exactly `out_size`
// bytes (a heap block of that size, so ASan sees any overrun). With
// split > 0 the request and the reply buffer are cut into segments of at
// most `split` bytes.
Replied Send(Server& server, const Bytes& req, size_t out_size = (2u << 20) + 4096,
             size_t split = 0);

// Formats a call record: Call("Lookup", 1, "foo") == "Lookup(1,foo)".
template <typename... Args>
std::string Call(std::string_view op, const Args&... args) {
  std::ostringstream s;
  s << op << '(';
  const char* sep = "";
  ((s << sep << args, sep = ","), ...);
  s << ')';
  return s.str();
}

struct FakeDirent {
  std::string name;
  uint64_t ino;
  uint32_t type;
};

// A Filesystem that records each call and returns configurable results.
class RecordingFs : public Filesystem {
 public:
  RecordingFs();

  // --- what was called (guarded: the server may call from many threads) ---
  std::vector<std::string> calls() const;
  void Clear();
  Context last_ctx() const;
  InitInfo last_init() const;

  // --- configuration ---
  int fail_with = 0;  // non-zero: every op returns this errno
  InitWants wants;
  Entry entry;
  Attr attr;
  Opened opened;
  std::string link_target = "target";
  std::string read_data = "hello";  // READ without data_fd
  int data_fd = -1;                 // READ/WRITE zero copy against this fd
  size_t read_extra = 0;            // READ/WRITE: ask the reader/writer for this much more
  std::vector<FakeDirent> dir;
  int readdir_error_after = -1;     // fail with EIO after this many entries
  size_t lookups_counted = 0;       // READDIRPLUS entries the sink accepted
  std::string xattr_value = "value";
  std::string xattr_list = std::string("user.a\0user.b\0", 14);
  uint64_t lseek_result = 777;
  std::string written;              // WRITE payload, without data_fd

  InitWants Init(const InitInfo& info) override;
  void Reset() override;
  Result<Entry> Lookup(const Context& ctx, NodeId parent, std::string_view name) override;
  void Forget(NodeId node, uint64_t nlookup) override;
  Result<Attr> GetAttr(const Context& ctx, NodeId node, const Handle* handle) override;
  Result<Attr> SetAttr(const Context& ctx, NodeId node, const SetAttrIn& in) override;
  Result<std::string> ReadLink(const Context& ctx, NodeId node) override;
  Result<Entry> Symlink(const Context& ctx, NodeId parent, std::string_view name,
                        std::string_view target) override;
  Result<Entry> Mknod(const Context& ctx, NodeId parent, std::string_view name, uint32_t mode,
                      uint32_t rdev, uint32_t umask) override;
  Result<Entry> Mkdir(const Context& ctx, NodeId parent, std::string_view name, uint32_t mode,
                      uint32_t umask) override;
  Status Unlink(const Context& ctx, NodeId parent, std::string_view name) override;
  Status Rmdir(const Context& ctx, NodeId parent, std::string_view name) override;
  Status Rename(const Context& ctx, NodeId old_parent, std::string_view old_name,
                NodeId new_parent, std::string_view new_name, uint32_t flags) override;
  Result<Entry> Link(const Context& ctx, NodeId node, NodeId new_parent,
                     std::string_view new_name) override;
  Status Access(const Context& ctx, NodeId node, uint32_t mask) override;
  Result<struct statvfs> StatFs(const Context& ctx, NodeId node) override;
  Result<Opened> Open(const Context& ctx, NodeId node, uint32_t flags) override;
  Result<Created> Create(const Context& ctx, NodeId parent, std::string_view name, uint32_t mode,
                         uint32_t flags, uint32_t umask) override;
  Result<Created> TmpFile(const Context& ctx, NodeId parent, uint32_t mode, uint32_t flags,
                          uint32_t umask) override;
  Result<size_t> Read(const Context& ctx, NodeId node, Handle handle, uint64_t offset,
                      uint32_t size, ByteWriter& out) override;
  Result<size_t> Write(const Context& ctx, NodeId node, Handle handle, uint64_t offset,
                       uint32_t size, ByteReader& in, bool kill_suidgid) override;
  Status Flush(const Context& ctx, NodeId node, Handle handle, uint64_t lock_owner) override;
  Status Release(const Context& ctx, NodeId node, Handle handle, uint32_t flags,
                 uint32_t release_flags, uint64_t lock_owner) override;
  Status Fsync(const Context& ctx, NodeId node, Handle handle, bool datasync) override;
  Status Fallocate(const Context& ctx, NodeId node, Handle handle, uint32_t mode,
                   uint64_t offset, uint64_t length) override;
  Result<uint64_t> Lseek(const Context& ctx, NodeId node, Handle handle, uint64_t offset,
                         uint32_t whence) override;
  Result<size_t> CopyFileRange(const Context& ctx, NodeId node_in, Handle handle_in,
                               uint64_t offset_in, NodeId node_out, Handle handle_out,
                               uint64_t offset_out, uint64_t length, uint64_t flags) override;
  Result<Opened> OpenDir(const Context& ctx, NodeId node, uint32_t flags) override;
  Status ReadDir(const Context& ctx, NodeId node, Handle handle, uint64_t offset, uint32_t size,
                 DirSink& sink) override;
  Status ReleaseDir(const Context& ctx, NodeId node, Handle handle) override;
  Status FsyncDir(const Context& ctx, NodeId node, Handle handle, bool datasync) override;
  Status SyncFs(const Context& ctx, NodeId node) override;
  Status SetXattr(const Context& ctx, NodeId node, std::string_view name,
                  std::span<const char> value, uint32_t flags) override;
  Result<size_t> GetXattr(const Context& ctx, NodeId node, std::string_view name,
                          std::span<char> buf) override;
  Result<size_t> ListXattr(const Context& ctx, NodeId node, std::span<char> buf) override;
  Status RemoveXattr(const Context& ctx, NodeId node, std::string_view name) override;

 private:
  void Record(const Context* ctx, std::string call);
  Status Fail() const { return fail_with ? Status(Errno{fail_with}) : OkStatus(); }

  mutable std::mutex mu_;
  std::vector<std::string> calls_;
  Context last_ctx_;
  InitInfo last_init_;
};

// Default INIT: 7.38 with FUSE_INIT_EXT and a broad set of flags offered.
inline constexpr uint64_t kKernelFlags =
    FUSE_ASYNC_READ | FUSE_POSIX_LOCKS | FUSE_ATOMIC_O_TRUNC | FUSE_EXPORT_SUPPORT |
    FUSE_BIG_WRITES | FUSE_DONT_MASK | FUSE_FLOCK_LOCKS | FUSE_DO_READDIRPLUS |
    FUSE_READDIRPLUS_AUTO | FUSE_WRITEBACK_CACHE | FUSE_PARALLEL_DIROPS | FUSE_POSIX_ACL |
    FUSE_MAX_PAGES | FUSE_CACHE_SYMLINKS | FUSE_MAP_ALIGNMENT | FUSE_SUBMOUNTS |
    FUSE_HANDLE_KILLPRIV_V2 | FUSE_SETXATTR_EXT | FUSE_INIT_EXT | FUSE_SECURITY_CTX |
    FUSE_HAS_INODE_DAX | FUSE_HAS_EXPIRE_ONLY;

// An INIT body: the full 64-byte struct when flags has FUSE_INIT_EXT, else 16 bytes.
Bytes InitBody(uint32_t major, uint32_t minor, uint64_t flags, uint32_t max_readahead = 131072);

// Sends INIT and expects success; returns the reply.
Replied InitServer(Server& server, uint32_t minor = 38, uint64_t flags = kKernelFlags);

}  // namespace hostshare::fuse::testing
