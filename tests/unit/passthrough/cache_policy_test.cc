#include "fs/passthrough/cache_policy.h"

#include <gtest/gtest.h>
#include <linux/fuse.h>

#include "pt_test_util.h"

namespace hostshare::fs {
namespace {

using testing::PtTest;
using testing::kAllKernelFlags;

constexpr uint64_t kSec = 1'000'000'000ULL;

PassthroughConfig Cfg(CacheMode mode) {
  PassthroughConfig c;
  c.cache = mode;
  return c;
}

TEST(CachePolicyTest, TimeoutsPerMode) {
  EXPECT_EQ(TimeoutsFor(Cfg(CacheMode::kNever)).entry_ns, 0u);
  EXPECT_EQ(TimeoutsFor(Cfg(CacheMode::kNever)).attr_ns, 0u);
  EXPECT_EQ(TimeoutsFor(Cfg(CacheMode::kAuto)).entry_ns, kSec);
  EXPECT_EQ(TimeoutsFor(Cfg(CacheMode::kAuto)).attr_ns, kSec);
  EXPECT_EQ(TimeoutsFor(Cfg(CacheMode::kAlways)).entry_ns, 86400 * kSec);
  EXPECT_EQ(TimeoutsFor(Cfg(CacheMode::kMetadata)).attr_ns, 86400 * kSec);
}

TEST(CachePolicyTest, TimeoutOverrides) {
  PassthroughConfig c = Cfg(CacheMode::kAuto);
  c.entry_timeout_s = 2.5;
  c.attr_timeout_s = -3;
  Timeouts t = TimeoutsFor(c);
  EXPECT_EQ(t.entry_ns, 2'500'000'000u);
  EXPECT_EQ(t.attr_ns, 0u);
  c.entry_timeout_s = 1e300;  // clamped, no overflow
  EXPECT_GT(TimeoutsFor(c).entry_ns, 86400 * kSec);
}

TEST(CachePolicyTest, FileOpenFlags) {
  EXPECT_EQ(FileOpenFlags(Cfg(CacheMode::kNever), false), uint32_t{FOPEN_DIRECT_IO});
  EXPECT_EQ(FileOpenFlags(Cfg(CacheMode::kAuto), false), 0u);
  EXPECT_EQ(FileOpenFlags(Cfg(CacheMode::kAlways), false), uint32_t{FOPEN_KEEP_CACHE});
  EXPECT_EQ(FileOpenFlags(Cfg(CacheMode::kMetadata), false), uint32_t{FOPEN_DIRECT_IO});
  PassthroughConfig mmap = Cfg(CacheMode::kNever);
  mmap.allow_mmap = true;
  EXPECT_EQ(FileOpenFlags(mmap, /*allow_mmap_negotiated=*/true), uint32_t{FOPEN_DIRECT_IO});
  EXPECT_EQ(FileOpenFlags(mmap, /*allow_mmap_negotiated=*/false), 0u);  // no KEEP_CACHE either
}

TEST(CachePolicyTest, DirOpenFlags) {
  EXPECT_EQ(DirOpenFlags(Cfg(CacheMode::kAlways)), uint32_t{FOPEN_CACHE_DIR});
  EXPECT_EQ(DirOpenFlags(Cfg(CacheMode::kAuto)), 0u);
  EXPECT_EQ(DirOpenFlags(Cfg(CacheMode::kNever)), 0u);
  EXPECT_EQ(DirOpenFlags(Cfg(CacheMode::kMetadata)), 0u);
}

TEST(CachePolicyTest, InitFlags) {
  const uint64_t all = ~0ULL;
  PassthroughConfig c = Cfg(CacheMode::kAuto);
  uint64_t f = WantedInitFlags(c, all);
  EXPECT_TRUE(f & FUSE_ASYNC_READ);
  EXPECT_TRUE(f & FUSE_ASYNC_DIO);  // the guest's AIO depth reaches the device
  EXPECT_TRUE(f & FUSE_PARALLEL_DIROPS);
  EXPECT_TRUE(f & FUSE_ATOMIC_O_TRUNC);
  EXPECT_TRUE(f & FUSE_HANDLE_KILLPRIV_V2);  // else open(O_TRUNC) keeps S_ISUID
  EXPECT_TRUE(f & FUSE_DO_READDIRPLUS);
  EXPECT_TRUE(f & FUSE_READDIRPLUS_AUTO);
  EXPECT_FALSE(f & FUSE_WRITEBACK_CACHE);
  EXPECT_FALSE(f & FUSE_SUBMOUNTS);
  EXPECT_FALSE(f & FUSE_CACHE_SYMLINKS);
  EXPECT_FALSE(f & FUSE_EXPORT_SUPPORT);
  EXPECT_FALSE(f & FUSE_DONT_MASK);
  EXPECT_FALSE(f & FUSE_POSIX_LOCKS);
  EXPECT_FALSE(f & kFuseDirectIoAllowMmap);

  c.readdirplus = false;
  c.writeback = true;
  c.announce_submounts = true;
  f = WantedInitFlags(c, all);
  EXPECT_FALSE(f & FUSE_DO_READDIRPLUS);
  EXPECT_TRUE(f & FUSE_WRITEBACK_CACHE);
  EXPECT_TRUE(f & FUSE_SUBMOUNTS);

  c.readonly = true;  // no point caching writes of a read-only share
  EXPECT_FALSE(WantedInitFlags(c, all) & FUSE_WRITEBACK_CACHE);

  EXPECT_TRUE(WantedInitFlags(Cfg(CacheMode::kAlways), all) & FUSE_CACHE_SYMLINKS);

  PassthroughConfig m = Cfg(CacheMode::kNever);
  m.allow_mmap = true;
  EXPECT_TRUE(WantedInitFlags(m, all) & kFuseDirectIoAllowMmap);
  // Only what the kernel offered.
  EXPECT_EQ(WantedInitFlags(m, FUSE_ASYNC_READ), uint64_t{FUSE_ASYNC_READ});
  EXPECT_EQ(WantedInitFlags(m, 0), 0u);
}

// The same decisions, seen through the filesystem's replies.
class CacheModeFsTest : public PtTest {};

TEST_F(CacheModeFsTest, OpenFlagsAndTimeoutsFollowTheMode) {
  HostWrite("f", "x");
  mkdir(Host("d").c_str(), 0755);
  struct Case {
    CacheMode mode;
    uint32_t file_flags;
    uint32_t dir_flags;
    uint64_t timeout;
  } cases[] = {
      {CacheMode::kNever, FOPEN_DIRECT_IO, 0, 0},
      {CacheMode::kAuto, 0, 0, kSec},
      {CacheMode::kAlways, FOPEN_KEEP_CACHE, FOPEN_CACHE_DIR, 86400 * kSec},
      {CacheMode::kMetadata, FOPEN_DIRECT_IO, 0, 86400 * kSec},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(static_cast<int>(c.mode));
    Make(Cfg(c.mode));
    auto e = fs_->Lookup(ctx_, fuse::kRootNodeId, "f");
    ASSERT_OK(e);
    EXPECT_EQ(e->entry_timeout_ns, c.timeout);
    EXPECT_EQ(e->attr.timeout_ns, c.timeout);
    auto o = fs_->Open(ctx_, e->node, O_RDONLY);
    ASSERT_OK(o);
    EXPECT_EQ(o->open_flags, c.file_flags);
    auto d = fs_->Lookup(ctx_, fuse::kRootNodeId, "d");
    ASSERT_OK(d);
    auto od = fs_->OpenDir(ctx_, d->node, O_RDONLY);
    ASSERT_OK(od);
    EXPECT_EQ(od->open_flags, c.dir_flags);
    auto attr = fs_->GetAttr(ctx_, e->node, nullptr);
    ASSERT_OK(attr);
    EXPECT_EQ(attr->timeout_ns, c.timeout);
  }
}

TEST_F(CacheModeFsTest, AllowMmapDependsOnKernelSupport) {
  HostWrite("f", "x");
  PassthroughConfig c = Cfg(CacheMode::kNever);
  c.allow_mmap = true;
  Make(c, kAllKernelFlags);
  EXPECT_TRUE(wants_.flags & kFuseDirectIoAllowMmap);
  fuse::NodeId f = LookupNode(fuse::kRootNodeId, "f");
  EXPECT_EQ(fs_->Open(ctx_, f, O_RDONLY)->open_flags, uint32_t{FOPEN_DIRECT_IO});

  Make(c, kAllKernelFlags & ~kFuseDirectIoAllowMmap);  // an older guest kernel
  EXPECT_FALSE(wants_.flags & kFuseDirectIoAllowMmap);
  f = LookupNode(fuse::kRootNodeId, "f");
  EXPECT_EQ(fs_->Open(ctx_, f, O_RDONLY)->open_flags, 0u);
}

}  // namespace
}  // namespace hostshare::fs
