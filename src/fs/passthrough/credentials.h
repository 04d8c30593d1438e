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

#include <cerrno>
#include <cstdint>

#include "base/result.h"

namespace hostshare::fs {

class ScopedCreds {
 public:
  // Switches to (uid, gid). A no-op for (0, 0) and when switching is disabled.
  // Fails EPERM if the kernel did not accept the ids (e.g. CAP_SETUID was
  // dropped); the thread is then left as it was.
  [[nodiscard]] static Result<ScopedCreds> Enter(uint32_t uid, uint32_t gid);
  // The same, with `group` as the thread's one supplementary group.
  [[nodiscard]] static Result<ScopedCreds> Enter(uint32_t uid, uint32_t gid, uint32_t group);

  ScopedCreds(ScopedCreds&& other) noexcept
      : uid_set_(other.uid_set_), gid_set_(other.gid_set_), group_set_(other.group_set_) {
    other.uid_set_ = other.gid_set_ = other.group_set_ = false;
  }
  ScopedCreds& operator=(ScopedCreds&&) = delete;
  ScopedCreds(const ScopedCreds&) = delete;
  ScopedCreds& operator=(const ScopedCreds&) = delete;
  ~ScopedCreds();

 private:
  ScopedCreds() = default;
  bool uid_set_ = false;
  bool gid_set_ = false;
  bool group_set_ = false;
};

// Runs `create` (a host call that makes a node in the directory `parent_fd`
// and returns >= 0, or -1 with errno set) as the guest caller (uid, gid).
//
// A FUSE request names the caller's uid and gid, not its supplementary
// groups (FUSE_CREATE_SUPP_GROUP is newer than the guest kernels we serve).
// The guest kernel checks permissions itself (default_permissions) and may
// have allowed the creation through a supplementary group; the host, seeing
// only fsuid/fsgid, would then refuse it (EACCES), or strip the S_ISGID a
// member asked for on a file in a setgid directory. So, when the host
// refuses, and when the new node asks for S_ISGID, the call runs with the
// parent directory's group as the thread's one supplementary group: the
// group the guest kernel's check can have used. This grants nothing a guest
// could not take anyway (it may claim any uid, 0 included); it only makes
// the host agree with the guest kernel's decision.
template <typename Create>
int CreateAsCaller(uint32_t uid, uint32_t gid, int parent_fd, bool sgid_requested,
                   Create create);


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

// ---- implementation ----
namespace hostshare::fs {

// The group that owns directory `dir_fd`, if it differs from `gid`.
bool ParentGroupDiffers(int dir_fd, uint32_t gid, uint32_t* group);

template <typename Create>
int CreateAsCaller(uint32_t uid, uint32_t gid, int parent_fd, bool sgid_requested,
                   Create create) {
  const bool may_lend = CredSwitchingEnabled() && (uid != 0 || gid != 0);
  uint32_t group = 0;
  // The parent's group is looked up only when it may matter: no extra
  // system call on the common path.
  const bool lend_first = may_lend && sgid_requested && ParentGroupDiffers(parent_fd, gid, &group);
  if (!lend_first) {
    {
      auto creds = ScopedCreds::Enter(uid, gid);
      if (!creds.ok()) {
        errno = creds.error();
        return -1;
      }
      int r = create();
      if (r >= 0 || errno != EACCES || !may_lend) return r;
    }
    if (!ParentGroupDiffers(parent_fd, gid, &group)) {
      errno = EACCES;
      return -1;
    }
  }
  auto creds = ScopedCreds::Enter(uid, gid, group);
  if (!creds.ok()) {
    errno = creds.error();
    return -1;
  }
  return create();
}

}  // namespace hostshare::fs
