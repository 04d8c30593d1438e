// Test helpers for the passthrough backend: a temporary share, a fixture
// that builds a PassthroughFs over it, a recording DirSink, and payload
// helpers over IovecReader / IovecWriter.
#pragma once

#include <fcntl.h>
#include <ftw.h>
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <unistd.h>

#include <cstring>
#include <memory>
#include <string>
#include <vector>

#include "base/iovec_io.h"
#include "base/log.h"
#include "fs/passthrough/passthrough_fs.h"

#define ASSERT_OK(expr)                                                              \
  do {                                                                               \
    const auto& hs_r_ = (expr);                                                      \
    ASSERT_TRUE(hs_r_.ok()) << #expr << ": " << strerror(hs_r_.ok() ? 0 : hs_r_.error()); \
  } while (0)
#define EXPECT_OK(expr)                                                              \
  do {                                                                               \
    const auto& hs_r_ = (expr);                                                      \
    EXPECT_TRUE(hs_r_.ok()) << #expr << ": " << strerror(hs_r_.ok() ? 0 : hs_r_.error()); \
  } while (0)
// Expects a failed Result/Status with the given errno.
#define EXPECT_ERRNO(expr, err)                                               \
  do {                                                                        \
    const auto& hs_r_ = (expr);                                               \
    ASSERT_FALSE(hs_r_.ok()) << #expr << " succeeded, expected " << strerror(err); \
    EXPECT_EQ(hs_r_.error(), err) << #expr << ": got " << strerror(hs_r_.error()) \
                                  << ", expected " << strerror(err);          \
  } while (0)

namespace hostshare::fs::testing {

class TempDir {
 public:
  TempDir() {
    char tmpl[] = "/tmp/hs_pt_XXXXXX";
    char* p = mkdtemp(tmpl);
    if (p != nullptr) path_ = p;
    chmod(path_.c_str(), 0755);
  }
  ~TempDir() {
    if (path_.empty()) return;
    nftw(
        path_.c_str(),
        [](const char* f, const struct stat*, int, struct FTW*) { return remove(f); }, 64,
        FTW_DEPTH | FTW_PHYS);
  }
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

// Records what ReadDir emits; refuses entries beyond `capacity`.
class VecSink : public fuse::DirSink {
 public:
  struct Item {
    std::string name;
    fuse::DirEntry dirent;
    fuse::Entry entry;
    bool has_entry = false;
  };
  explicit VecSink(bool plus, size_t capacity = SIZE_MAX) : plus_(plus), capacity_(capacity) {}
  bool Add(const fuse::DirEntry& d, const fuse::Entry* plus) override {
    if (items.size() >= capacity_) return false;
    Item it;
    it.name = std::string(d.name);
    it.dirent = d;
    it.dirent.name = {};
    if (plus != nullptr) {
      it.entry = *plus;
      it.has_entry = true;
    }
    items.push_back(std::move(it));
    return true;
  }
  bool Plus() const override { return plus_; }
  const Item* Find(const std::string& name) const {
    for (const auto& i : items) {
      if (i.name == name) return &i;
    }
    return nullptr;
  }
  std::vector<Item> items;

 private:
  bool plus_;
  size_t capacity_;
};

inline fuse::Context RootCtx() { return fuse::Context{}; }
inline fuse::Context UserCtx(uint32_t uid = 1000, uint32_t gid = 1000) {
  fuse::Context c;
  c.uid = uid;
  c.gid = gid;
  return c;
}

// Offered by a recent kernel: everything, so Init's choice is the config's.
inline constexpr uint64_t kAllKernelFlags = ~0ULL;

class PtTest : public ::testing::Test {
 protected:
  void SetUp() override {
    log::SetLevel(log::Level::kWarn);
    Make(PassthroughConfig{});
  }

  // (Re)builds the filesystem over the temp dir with `cfg` (root filled in).
  void Make(PassthroughConfig cfg, uint64_t kernel_flags = kAllKernelFlags) {
    fs_.reset();
    cfg.root = dir_.path();
    auto r = PassthroughFs::Create(cfg);
    ASSERT_TRUE(r.ok()) << strerror(r.error());
    fs_ = std::move(*r);
    fuse::InitInfo info;
    info.major = 7;
    info.minor = 38;
    info.kernel_flags = kernel_flags;
    wants_ = fs_->Init(info);
  }

  std::string Host(const std::string& rel) const { return dir_.path() + "/" + rel; }
  void HostWrite(const std::string& rel, const std::string& data, mode_t mode = 0644) {
    int fd = open(Host(rel).c_str(), O_WRONLY | O_CREAT | O_TRUNC, mode);
    ASSERT_GE(fd, 0) << rel << ": " << strerror(errno);
    ASSERT_EQ(write(fd, data.data(), data.size()), static_cast<ssize_t>(data.size()));
    close(fd);
  }
  struct stat HostLstat(const std::string& rel) const {
    struct stat st {};
    lstat(Host(rel).c_str(), &st);
    return st;
  }

  fuse::NodeId LookupNode(fuse::NodeId parent, const std::string& name) {
    auto e = fs_->Lookup(ctx_, parent, name);
    EXPECT_TRUE(e.ok()) << name << ": " << strerror(e.ok() ? 0 : e.error());
    return e.ok() ? e->node : 0;
  }
  fuse::Handle OpenHandle(fuse::NodeId node, uint32_t flags) {
    auto o = fs_->Open(ctx_, node, flags);
    EXPECT_TRUE(o.ok()) << strerror(o.ok() ? 0 : o.error());
    return o.ok() ? o->handle : 0;
  }

  // READ through an IovecWriter of `size` bytes.
  Result<std::string> ReadStr(fuse::NodeId node, fuse::Handle h, uint64_t off, uint32_t size) {
    std::string buf(size, '\0');
    IovecWriter w({iovec{buf.data(), buf.size()}});
    auto n = fs_->Read(ctx_, node, h, off, size, w);
    if (!n.ok()) return Errno{n.error()};
    buf.resize(*n);
    return buf;
  }
  // WRITE from an IovecReader split into two segments (exercises the iovecs).
  Result<size_t> WriteStr(fuse::NodeId node, fuse::Handle h, uint64_t off, std::string data,
                          bool kill = false) {
    size_t half = data.size() / 2;
    IovecReader r({iovec{data.data(), half}, iovec{data.data() + half, data.size() - half}});
    return fs_->Write(ctx_, node, h, off, static_cast<uint32_t>(data.size()), r, kill);
  }

  TempDir dir_;
  std::unique_ptr<PassthroughFs> fs_;
  fuse::InitWants wants_;
  fuse::Context ctx_ = RootCtx();
};

}  // namespace hostshare::fs::testing
