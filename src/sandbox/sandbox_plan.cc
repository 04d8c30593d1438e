// PlanSandbox: the option logic of --sandbox, without side effects (unit
// tested with made-up environments).
#include <unistd.h>

#include "sandbox/sandbox.h"

namespace hostshare::sandbox {

const char* ModeName(Mode m) {
  switch (m) {
    case Mode::kNamespace: return "namespace";
    case Mode::kChroot: return "chroot";
    case Mode::kNone: return "none";
  }
  return "?";
}

Environment CurrentEnvironment(const std::string& shared_dir) {
  Environment env;
  env.euid = geteuid();
  env.shared_dir_is_root = shared_dir == "/";
  return env;
}

Plan PlanSandbox(std::optional<Mode> requested, const Environment& env) {
  Plan p;
  const bool root = env.euid == 0;
  const std::string uid = std::to_string(env.euid);
  p.mode = requested.value_or(root ? Mode::kNamespace : Mode::kNone);
  p.credential_switching = root;
  p.drop_capabilities = root;

  switch (p.mode) {
    case Mode::kNamespace:
      p.user_namespace = !root;
      p.pivot_root = !env.shared_dir_is_root;
      if (!root) {
        p.drop_capabilities = true;  // those we get in the user namespace
        p.notes.push_back("sandbox: running unprivileged (uid " + uid +
                          "): using a user namespace that maps only this uid and its gid; "
                          "guest uids/gids are not applied (new files belong to uid " +
                          uid + ") and files of other users are reached only through their "
                          "'other' permission bits");
      }
      if (env.shared_dir_is_root) {
        p.notes.push_back("sandbox: the shared directory is '/': pivot_root(2) into the current "
                          "root fails (EBUSY) and would confine nothing; staying in the host "
                          "root (new mount, pid and network namespaces still apply). The guest "
                          "sees the whole host file system, /proc and /sys included");
      }
      break;
    case Mode::kChroot:
      if (!root) {
        p.error = "--sandbox=chroot needs root (chroot(2) requires CAP_SYS_CHROOT); use "
                  "--sandbox=namespace (a user namespace) or --sandbox=none";
      }
      break;
    case Mode::kNone:
      if (!root) {
        p.notes.push_back(
            "sandbox: running unprivileged (uid " + uid + ") with sandbox 'none'" +
            (requested ? "" : " (the default without root)") +
            ": no mount/pid/network namespaces and no pivot_root (--sandbox=namespace would use "
            "a user namespace), no capabilities to drop, guest uids/gids are not applied (new "
            "files belong to uid " + uid + "); seccomp still applies");
      } else {
        p.notes.push_back("sandbox: none: no namespaces and no pivot_root; the daemon relies on "
                          "its *at() calls below the share root alone");
      }
      break;
  }
  return p;
}

}  // namespace hostshare::sandbox
