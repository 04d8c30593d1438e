// Sandbox: confines the daemon to the shared directory before it serves.
//
//  namespace  new mount, pid and network namespaces (plus a user namespace
//             when started unprivileged), a fresh /proc for the new pid
//             namespace that is used only to open /proc/self/fd, and
//             pivot_root into the shared directory: the old root is
//             unmounted, so no path, and no ".." of any fd the daemon opens
//             afterwards, leads out of the share. The pid namespace means a
//             fork: the parent stays outside, without capabilities and
//             under its own seccomp list, waits for the child, forwards
//             termination signals to it and exits with its status.
//  chroot     chroot(2) into the shared directory (for a container that
//             already provides the namespaces); needs root.
//  none       nothing (the daemon still only uses *at() calls below the
//             share root; see fs/passthrough).
//
// Default: namespace when started as root, none otherwise (PlanSandbox
// explains in its notes what is then unavailable).
//
// Start-up order (daemon main): socket, sandbox, capabilities, seccomp,
// serve. The listening socket and the --socket-path parent directory stay
// usable through fds opened before Enter().
//
// Trust boundary: configuration only (command line); nothing from the guest.
// Thread-safety: Enter() must run while the process has one thread (unshare
// of the mount namespace and fork require it).
#pragma once

#include <sys/types.h>

#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "base/scoped_fd.h"
#include "sandbox/seccomp_filter.h"

namespace hostshare::sandbox {

enum class Mode { kNamespace, kChroot, kNone };

const char* ModeName(Mode m);

// What the process is when it starts (from the real environment, or made up
// by tests).
struct Environment {
  uid_t euid = 0;
  bool shared_dir_is_root = false;  // --shared-dir resolves to "/"
};

// What Enter() will do: the result of the (pure) option logic.
struct Plan {
  Mode mode = Mode::kNone;
  bool user_namespace = false;  // namespace mode without root: a user namespace first
  bool pivot_root = false;      // namespace mode into a directory other than "/"
  bool drop_capabilities = false;  // the process has capabilities to drop
  bool credential_switching = false;  // guest uid/gid applied to host calls
  std::vector<std::string> notes;  // info lines for the log: what is unavailable and why
  std::string error;               // non-empty: refuse to start, with this line
};

// Decides the sandbox from --sandbox (nullopt: the default) and `env`.
Plan PlanSandbox(std::optional<Mode> requested, const Environment& env);

// The environment of this process.
Environment CurrentEnvironment(const std::string& shared_dir);

// What the rest of start-up works with once confined.
struct Confined {
  // The share's path as seen from inside: "/" after pivot_root or chroot,
  // the original path otherwise.
  std::string root;
  // An O_PATH fd to /proc/self/fd opened inside the new pid namespace
  // before /proc became unreachable; invalid in mode none (the passthrough
  // then opens it itself).
  ScopedFd proc_self_fd;
  // Namespace mode: the channel to the parent outside (see Enter()).
  ScopedFd parent_channel;

  // Namespace mode: asks the parent to remove the socket file, which is out
  // of reach from inside. False in the other modes (no parent).
  bool AskParentToRemoveSocket();
};

// Confines the process according to `plan` (REQUIRES: plan.error empty).
// In namespace mode the process forks: in the parent Enter() never returns
// (it waits for the child, forwards SIGTERM/SIGINT/SIGHUP/SIGQUIT to it,
// runs `remove_socket` when the child asks and when it has exited, and
// exits with the child's status); Enter() returns in the child. The parent
// first drops every capability, sets no_new_privs and installs its own
// seccomp list with `parent_seccomp` (the --seccomp mode; ignored in the
// other modes, which do not fork).
// `child_only_fds` are closed in the parent after the fork (the listening
// socket: only the child may accept).
// On failure returns nullopt with one line in `error`.
std::optional<Confined> Enter(const Plan& plan, const std::string& shared_dir,
                              const std::vector<int>& child_only_fds,
                              const std::function<void()>& remove_socket,
                              SeccompAction parent_seccomp, std::string* error);

// Closes every inherited fd from 3 up except `keep` (>= 0: the --fd
// socket): nothing opened outside may be carried into the sandbox.
// Returns how many were closed.
int CloseInheritedFds(int keep);

}  // namespace hostshare::sandbox
