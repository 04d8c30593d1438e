// Credentials: run a filesystem call as the guest caller.
//
// Files, directories, nodes and symlinks the guest creates must be owned by
// the guest caller, and ACCESS must answer for the caller. ScopedCreds
// switches the calling thread's fsuid/fsgid (raw SYS_setfsuid/SYS_setfsgid:
// per thread, unlike glibc's setuid family) and restores root on
// destruction. Leaving fsuid 0 also drops CAP_DAC_OVERRIDE, CAP_FOWNER,
// CAP_MKNOD ... from the thread's effective set, and returning to 0 restores
// them, so the host kernel checks permissions as the caller would see them.
//
// The guest kernel is the primary permission checker (virtio-fs mounts force
// default_permissions); host-side switching gives correct ownership and a
// second check. It is no defence against a malicious guest kernel, which can
// claim uid 0: the share's contents are the guest's to change.
//
// When the daemon is not root, switching is skipped (logged once) and new
// files belong to the daemon's user.
//
// Thread-safety: everything here affects only the calling thread.
#pragma once

#include <cstdint>

#include "base/result.h"

namespace hostshare::fs {

class ScopedCreds {
 public:
  // Switches to (uid, gid). A no-op for (0, 0) and when switching is disabled.
  // Fails EPERM if the kernel did not accept the ids (e.g. CAP_SETUID was
  // dropped); the thread is then left as it was.
  [[nodiscard]] static Result<ScopedCreds> Enter(uint32_t uid, uint32_t gid);

  ScopedCreds(ScopedCreds&& other) noexcept
      : uid_set_(other.uid_set_), gid_set_(other.gid_set_) {
    other.uid_set_ = other.gid_set_ = false;
  }
  ScopedCreds& operator=(ScopedCreds&&) = delete;
  ScopedCreds(const ScopedCreds&) = delete;
  ScopedCreds& operator=(const ScopedCreds&) = delete;
  ~ScopedCreds();

 private:
  ScopedCreds() = default;
  bool uid_set_ = false;
  bool gid_set_ = false;
};

// True when the process can switch fsuid/fsgid (runs as euid 0).
bool CredSwitchingEnabled();

// Prepares the calling thread, once, for acting on behalf of the guest:
//  - unshare(CLONE_FS): umask and cwd become private to this thread;
//  - umask(0): the guest already applied its umask to the mode it sends
//    (FUSE_DONT_MASK is not negotiated), the host must not mask again;
//  - (root only) drop the thread's supplementary groups, which would
//    otherwise grant the guest caller the daemon's group memberships.
// Returns true when the thread has a private fs context (safe to fchdir).
// On failure (e.g. seccomp forbids unshare) it logs once and returns false:
// creation then also applies the process umask.
bool PrepareThread();

}  // namespace hostshare::fs
