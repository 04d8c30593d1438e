// wire.h: the FUSE wire ABI as this server speaks it (protocol 7.x, x <= 38).
//
// The structs themselves come from <linux/fuse.h>; this file adds the sizes
// that depend on the negotiated minor version (the FUSE_COMPAT_* family and
// the few the kernel header does not name), the limits we enforce on
// guest-supplied lengths, and static checks that the ABI is what we expect.
//
// Trust boundary: none (constants only). Thread-safety: constants only.
#pragma once

#include <linux/fuse.h>
#include <linux/limits.h>  // NAME_MAX, PATH_MAX, XATTR_NAME_MAX, XATTR_SIZE_MAX

#include <cstddef>
#include <cstdint>

namespace hostshare::fuse::wire {

inline constexpr uint32_t kKernelMajor = 7;
// The newest minor we implement; we reply min(kernel's, this).
inline constexpr uint32_t kMaxMinor = 38;
static_assert(FUSE_KERNEL_VERSION == kKernelMajor);
static_assert(FUSE_KERNEL_MINOR_VERSION >= kMaxMinor, "<linux/fuse.h> older than 7.38");

inline constexpr size_t kInHeaderSize = sizeof(fuse_in_header);
inline constexpr size_t kOutHeaderSize = sizeof(fuse_out_header);

// Layout checks: these structs are copied byte for byte to and from the guest.
static_assert(sizeof(fuse_in_header) == 40);
static_assert(sizeof(fuse_out_header) == 16);
static_assert(sizeof(fuse_attr) == 88);
static_assert(sizeof(fuse_entry_out) == 128);
static_assert(sizeof(fuse_attr_out) == 104);
static_assert(sizeof(fuse_open_out) == 16);
static_assert(sizeof(fuse_init_in) == 64);
static_assert(sizeof(fuse_init_out) == 64);
static_assert(sizeof(fuse_setattr_in) == 88);
static_assert(sizeof(fuse_read_in) == 40);
static_assert(sizeof(fuse_write_in) == 40);
static_assert(sizeof(fuse_create_in) == 16);
static_assert(sizeof(fuse_mknod_in) == 16);
static_assert(sizeof(fuse_release_in) == 24);
static_assert(sizeof(fuse_setxattr_in) == 16);
static_assert(sizeof(fuse_kstatfs) == 80);
static_assert(sizeof(fuse_dirent) == 24);
static_assert(sizeof(fuse_direntplus) == 152);
static_assert(sizeof(fuse_forget_one) == 16);
static_assert(sizeof(fuse_copy_file_range_in) == 56);

// --- request bodies whose size depends on the negotiated minor ---
// Before 7.9 read_in/write_in ended after size + flags/padding.
inline constexpr uint32_t kCompatReadInSize = 24;
inline constexpr uint32_t kCompatWriteInSize = FUSE_COMPAT_WRITE_IN_SIZE;  // 24
// Before 7.9 GETATTR had no body.
inline constexpr uint32_t kCompatGetattrInSize = 0;
// Before 7.12 mknod_in had no umask; create sent fuse_open_in {flags, mode}.
inline constexpr uint32_t kCompatMknodInSize = FUSE_COMPAT_MKNOD_IN_SIZE;  // 8
inline constexpr uint32_t kCompatCreateInSize = 8;
// Before 7.8 release_in had no lock_owner.
inline constexpr uint32_t kCompatReleaseInSize = 16;
// Without FUSE_SETXATTR_EXT, setxattr_in is {size, flags}.
inline constexpr uint32_t kCompatSetxattrInSize = FUSE_COMPAT_SETXATTR_IN_SIZE;  // 8
// init_in: {major, minor} always; + {max_readahead, flags} since 7.6;
// the full struct (flags2 + reserved) when FUSE_INIT_EXT is set.
inline constexpr uint32_t kInitInMajorMinorSize = 8;
inline constexpr uint32_t kCompatInitInSize = 16;

// --- reply bodies whose size depends on the negotiated minor ---
[[nodiscard]] constexpr size_t EntryOutSize(uint32_t minor) {
  return minor < 9 ? FUSE_COMPAT_ENTRY_OUT_SIZE : sizeof(fuse_entry_out);
}
[[nodiscard]] constexpr size_t AttrOutSize(uint32_t minor) {
  return minor < 9 ? FUSE_COMPAT_ATTR_OUT_SIZE : sizeof(fuse_attr_out);
}
[[nodiscard]] constexpr size_t StatfsOutSize(uint32_t minor) {
  return minor < 4 ? FUSE_COMPAT_STATFS_SIZE : sizeof(fuse_statfs_out);
}
[[nodiscard]] constexpr size_t InitOutSize(uint32_t minor) {
  if (minor < 5) return FUSE_COMPAT_INIT_OUT_SIZE;
  if (minor < 23) return FUSE_COMPAT_22_INIT_OUT_SIZE;
  return sizeof(fuse_init_out);
}

// --- limits on guest-supplied lengths ---
inline constexpr size_t kNameMax = NAME_MAX;              // 255, a path component
inline constexpr size_t kSymlinkTargetMax = PATH_MAX - 1;  // 4095 bytes + NUL
inline constexpr size_t kXattrNameMax = XATTR_NAME_MAX;   // 255
inline constexpr size_t kXattrSizeMax = XATTR_SIZE_MAX;   // 65536, value and list

// The largest body (excluding WRITE / BATCH_FORGET payloads, which are
// streamed) that a well-formed request can carry: SETXATTR's
// setxattr_in + name + NUL + value. Larger bodies are rejected with EINVAL.
inline constexpr size_t kMaxBufferedBody =
    sizeof(fuse_setxattr_in) + kXattrNameMax + 1 + kXattrSizeMax;

// Directory records are padded to 8 bytes (FUSE_REC_ALIGN).
[[nodiscard]] constexpr size_t RecAlign(size_t n) { return (n + 7) & ~size_t{7}; }

// FUSE errors travel as -errno; anything outside (0, kMaxErrno] is replaced by EIO.
inline constexpr int kMaxErrno = 4095;

}  // namespace hostshare::fuse::wire
