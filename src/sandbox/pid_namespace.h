// ForkIntoPidNamespace: the fork a new pid namespace needs (unshare(2)
// with CLONE_NEWPID moves only the children), and the parent's side of it.
//
// The child becomes pid 1 of the new namespace. Pid 1 ignores every signal
// it has no handler for, even from outside, so the child installs handlers
// that exit(128 + signal) for the termination signals the parent forwards;
// the parent turns that back into death by the same signal. The child dies
// with the parent (PR_SET_PDEATHSIG), also when the parent died before the
// child could ask for it.
//
// Thread-safety: call while the process has one thread.
#pragma once

#include <functional>
#include <string>
#include <vector>

#include "base/scoped_fd.h"
#include "sandbox/seccomp_filter.h"

namespace hostshare::sandbox {

// Forks. In the child: returns true with `*to_parent` set to a channel on
// which every byte written makes the parent run `remove_socket` (the socket
// file is reachable only from outside). In the parent: never returns;
// closes `child_only_fds`, drops every capability (the bounding set too),
// sets no_new_privs and installs its own seccomp list with `parent_seccomp`
// (InstallParentSeccomp; should any of that fail, it kills the child and
// exits 1), then serves that channel and forwards SIGTERM, SIGINT,
// SIGHUP and SIGQUIT to the child until it exits, runs `remove_socket`
// once more, and exits with the child's exit status (or dies of the
// child's signal). Returns false with one line in `error` if the fork fails.
bool ForkIntoPidNamespace(const std::vector<int>& child_only_fds,
                          const std::function<void()>& remove_socket,
                          SeccompAction parent_seccomp, ScopedFd* to_parent,
                          std::string* error);

}  // namespace hostshare::sandbox
