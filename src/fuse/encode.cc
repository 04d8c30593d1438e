#include "fuse/encode.h"

namespace hostshare::fuse {

namespace {
constexpr uint64_t kNsPerSec = 1'000'000'000;

// Times may be before 1970: the kernel reads the 64-bit field as signed.
uint64_t Seconds(const struct timespec& ts) { return static_cast<uint64_t>(ts.tv_sec); }
uint32_t Nanos(const struct timespec& ts) { return static_cast<uint32_t>(ts.tv_nsec); }
}  // namespace

void SplitTimeout(uint64_t ns, uint64_t* sec, uint32_t* nsec) {
  *sec = ns / kNsPerSec;
  *nsec = static_cast<uint32_t>(ns % kNsPerSec);
}

fuse_attr EncodeAttr(const Attr& attr) {
  const struct stat& st = attr.st;
  fuse_attr a{};
  a.ino = st.st_ino;
  a.size = static_cast<uint64_t>(st.st_size);
  a.blocks = static_cast<uint64_t>(st.st_blocks);
  a.atime = Seconds(st.st_atim);
  a.mtime = Seconds(st.st_mtim);
  a.ctime = Seconds(st.st_ctim);
  a.atimensec = Nanos(st.st_atim);
  a.mtimensec = Nanos(st.st_mtim);
  a.ctimensec = Nanos(st.st_ctim);
  a.mode = st.st_mode;
  a.nlink = static_cast<uint32_t>(st.st_nlink);
  a.uid = st.st_uid;
  a.gid = st.st_gid;
  // glibc's dev_t and the kernel's new_encode_dev() agree on the low 32
  // bits, which is all FUSE carries (as libfuse does).
  a.rdev = static_cast<uint32_t>(st.st_rdev);
  a.blksize = static_cast<uint32_t>(st.st_blksize);
  a.flags = attr.attr_flags;
  return a;
}

fuse_entry_out EncodeEntryOut(const Entry& entry) {
  fuse_entry_out e{};
  e.nodeid = entry.node;
  e.generation = entry.generation;
  SplitTimeout(entry.entry_timeout_ns, &e.entry_valid, &e.entry_valid_nsec);
  SplitTimeout(entry.attr.timeout_ns, &e.attr_valid, &e.attr_valid_nsec);
  e.attr = EncodeAttr(entry.attr);
  return e;
}

fuse_attr_out EncodeAttrOut(const Attr& attr) {
  fuse_attr_out a{};
  SplitTimeout(attr.timeout_ns, &a.attr_valid, &a.attr_valid_nsec);
  a.attr = EncodeAttr(attr);
  return a;
}

fuse_statfs_out EncodeStatfsOut(const struct statvfs& st) {
  fuse_statfs_out o{};
  o.st.blocks = st.f_blocks;
  o.st.bfree = st.f_bfree;
  o.st.bavail = st.f_bavail;
  o.st.files = st.f_files;
  o.st.ffree = st.f_ffree;
  o.st.bsize = static_cast<uint32_t>(st.f_bsize);
  o.st.namelen = static_cast<uint32_t>(st.f_namemax);
  o.st.frsize = static_cast<uint32_t>(st.f_frsize);
  return o;
}

fuse_open_out EncodeOpenOut(const Opened& opened) {
  fuse_open_out o{};
  o.fh = opened.handle;
  o.open_flags = opened.open_flags;
  return o;
}

}  // namespace hostshare::fuse
