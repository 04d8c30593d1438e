// Seccomp: the system calls the daemon may make once it serves, as an
// allow-list (libseccomp), and what happens to any other call.
//
// The list covers every code path after start-up: the vhost-user session
// (recvmsg/sendmsg, mmap of guest memory), the queue worker threads
// (thread creation, futex, poll, eventfd), the passthrough (openat2,
// /proc/self/fd reopen, *at calls, setfsuid/setfsgid/setgroups,
// unshare(CLONE_FS), fchdir, getdents64, *xattr, copy_file_range, ...),
// logging (write, sendto for syslog) and glibc's internals (rseq, getrandom,
// sched_getaffinity, ...). Several calls are allowed with restricted
// arguments only:
//   clone    only to create a thread (CLONE_THREAD): the daemon never forks;
//   clone3   fails ENOSYS (its flags are in memory, out of the filter's
//            reach), and glibc then falls back to clone;
//   unshare  only CLONE_FS (the passthrough's per-thread fs context);
//   mmap, mprotect  never PROT_EXEC: no new code after start-up;
//   socket   fails EACCES: glibc's syslog() reconnect path may try it.
// Sanitizer builds (ASan/UBSan) allow one more call their runtime makes
// (pipe2), and fail with EPERM, instead of dying, the calls an error report
// tries (fork/exec of a symbolizer, readlink): the report then completes,
// unsymbolized (see the .cc).
//
// Modes (--seccomp): kill  - the process dies with SIGSYS (default, like the
// Rust virtiofsd); log - the call is allowed and the kernel logs it (dmesg,
// audit: "type=1326 ... syscall=N"), for finding a missing entry; trap - the
// call fails ENOSYS and a line naming it goes to stderr; none - no filter.
//
// Thread-safety: Install() applies to every thread of the process (TSYNC);
// call it once, at start-up.
#pragma once

#include <sys/types.h>

#include <string>
#include <vector>

namespace hostshare::sandbox {

enum class SeccompAction { kNone, kLog, kTrap, kKill };

const char* SeccompActionName(SeccompAction a);

// Names of the system calls with a rule: allowed, allowed with restricted
// arguments, or answered with an errno (clone3, socket). Sanitizer extras
// included when built with sanitizers. For the log and tests.
std::vector<std::string> AllowedSyscalls();

// Installs the filter with `action` for calls outside the list (nothing for
// kNone). Sets no_new_privs. On failure returns false with one line in
// `error`.
bool InstallSeccomp(SeccompAction action, std::string* error);

// The namespace parent's own, much smaller list (see pid_namespace.h): it
// reads the child's channel, waits for it, forwards signals (kill only to
// `child`), removes the socket and pid files, logs and exits. Same modes as
// above. Names for tests, as AllowedSyscalls().
std::vector<std::string> ParentAllowedSyscalls();
bool InstallParentSeccomp(SeccompAction action, pid_t child, std::string* error);

}  // namespace hostshare::sandbox
