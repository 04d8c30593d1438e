#include "fs/passthrough/credentials.h"

#include <grp.h>
#include <sched.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstring>

#include "base/log.h"

namespace hostshare::fs {
namespace {

// setfsuid/setfsgid return the previous id and never fail visibly; asking
// with an invalid id (-1) changes nothing and returns the current one.
long SetFsUid(uint32_t uid) { return syscall(SYS_setfsuid, uid); }
long SetFsGid(uint32_t gid) { return syscall(SYS_setfsgid, gid); }
uint32_t CurrentFsUid() { return static_cast<uint32_t>(syscall(SYS_setfsuid, -1)); }
uint32_t CurrentFsGid() { return static_cast<uint32_t>(syscall(SYS_setfsgid, -1)); }

bool ComputeEnabled() {
  bool root = geteuid() == 0;
  if (!root) {
    LOG_WARN("passthrough: daemon is not root (euid %u): guest credentials are not applied, "
             "new files belong to the daemon's user",
             static_cast<unsigned>(geteuid()));
  }
  return root;
}

}  // namespace

bool CredSwitchingEnabled() {
  static const bool enabled = ComputeEnabled();
  return enabled;
}

Result<ScopedCreds> ScopedCreds::Enter(uint32_t uid, uint32_t gid) {
  ScopedCreds c;
  if ((uid == 0 && gid == 0) || !CredSwitchingEnabled()) return c;
  PrepareThread();  // drops supplementary groups before they could count
  if (gid != 0) {
    SetFsGid(gid);
    c.gid_set_ = true;  // restore even on failure below
    if (CurrentFsGid() != gid) return Errno{EPERM};
  }
  if (uid != 0) {
    SetFsUid(uid);
    c.uid_set_ = true;
    if (CurrentFsUid() != uid) return Errno{EPERM};
  }
  return c;
}

Result<ScopedCreds> ScopedCreds::Enter(uint32_t uid, uint32_t gid, uint32_t group) {
  auto c = Enter(uid, gid);
  if (!c.ok() || !CredSwitchingEnabled()) return c;
  // Raw syscall: this thread only.
  const gid_t g = group;
  if (syscall(SYS_setgroups, 1, &g) != 0) return Errno{errno};  // `c` restores the ids
  c->group_set_ = true;
  return c;
}

bool ParentGroupDiffers(int dir_fd, uint32_t gid, uint32_t* group) {
  struct stat st;
  if (fstat(dir_fd, &st) != 0 || st.st_gid == gid) return false;
  *group = st.st_gid;
  return true;
}

ScopedCreds::~ScopedCreds() {
  if (group_set_) syscall(SYS_setgroups, 0, nullptr);
  // Back to root: restores the fs capabilities dropped on the way out.
  if (uid_set_) SetFsUid(0);
  if (gid_set_) SetFsGid(0);
}

bool PrepareThread() {
  // -1: not yet tried; 0: failed; 1: private fs context.
  thread_local int state = -1;
  if (state >= 0) return state == 1;
  state = 0;
  if (unshare(CLONE_FS) == 0) {
    state = 1;
    umask(0);
  } else {
    static std::atomic<bool> logged{false};
    if (!logged.exchange(true)) {
      LOG_WARN("passthrough: unshare(CLONE_FS) failed (%s): the process umask also applies to "
               "new files, xattrs on special files are unavailable",
               strerror(errno));
    }
  }
  if (CredSwitchingEnabled()) {
    // Raw syscall: this thread only (glibc's setgroups() would change all).
    if (syscall(SYS_setgroups, 0, nullptr) != 0) {
      static std::atomic<bool> logged{false};
      if (!logged.exchange(true)) {
        LOG_WARN("passthrough: cannot drop supplementary groups (%s)", strerror(errno));
      }
    }
  }
  return state == 1;
}

}  // namespace hostshare::fs
