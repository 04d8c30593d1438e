#include "sandbox/seccomp_filter.h"

#include <sched.h>
#include <seccomp.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <ucontext.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <memory>

#include "base/log.h"

#if defined(__SANITIZE_ADDRESS__)
#define HS_SANITIZER_BUILD 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define HS_SANITIZER_BUILD 1
#endif
#endif

namespace hostshare::sandbox {
namespace {

// Allowed without conditions. Grouped by who needs them.
constexpr const char* kAllowed[] = {
    // memory (glibc malloc, thread stacks, guest memory regions)
    "brk", "munmap", "mremap", "madvise",
    // threads and synchronization (std::thread, std::mutex, glibc internals; sleeping and
    // yielding cannot hurt)
    "futex", "set_robust_list", "rseq", "sched_getaffinity", "sched_yield", "gettid", "getpid",
    "exit", "exit_group", "nanosleep", "clock_nanosleep", "restart_syscall",
    // signals (handlers of trap mode and pid 1, glibc's thread start)
    "rt_sigaction", "rt_sigprocmask", "rt_sigreturn", "sigaltstack",
    // time and randomness (logging, malloc's tcache key)
    "clock_gettime", "gettimeofday", "getrandom",
    // queue workers: own involuntary context switches (is polling stealing a CPU?)
    "getrusage",
    // descriptors, polling, eventfds (queue workers)
    "close", "fcntl", "poll", "ppoll", "eventfd2", "read", "write", "lseek",
    // glibc's fatal-error messages (malloc corruption, assert) before abort()
    "writev",
    // vhost-user socket (accept happens after the filter is in place), syslog
    "accept4", "recvmsg", "recvfrom", "sendmsg", "sendto",
    // passthrough: lookups and metadata
    "openat", "openat2", "newfstatat", "fstat", "statx", "readlinkat", "faccessat2",
    "getdents64", "fstatfs", "fchdir", "umask",
    // passthrough: creation, removal, rename
    "mknodat", "mkdirat", "symlinkat", "linkat", "unlinkat", "renameat", "renameat2",
    // passthrough: attributes
    "fchmod", "fchmodat", "fchownat", "utimensat", "ftruncate", "fallocate",
    // passthrough: data
    "pread64", "pwrite64", "preadv", "pwritev", "preadv2", "pwritev2", "copy_file_range",
    "fsync", "fdatasync", "syncfs",
    // passthrough: extended attributes (by fd; by /proc/self/fd/N path for special files)
    "fgetxattr", "fsetxattr", "flistxattr", "fremovexattr", "getxattr", "setxattr", "listxattr",
    "removexattr",
    // passthrough: credentials of the guest caller
    "setfsuid", "setfsgid", "geteuid",
};

// The namespace parent (pid_namespace.cc): it only waits for the child,
// forwards signals to it, removes the socket file and exits like it.
// Argument-restricted on top: kill only the child, tgkill only itself
// (raise), mmap never PROT_EXEC; socket fails EACCES (syslog's reconnect).
constexpr const char* kParentAllowed[] = {
    // the channel from the child, waiting, exiting
    "read", "close", "wait4", "waitid", "exit", "exit_group", "restart_syscall",
    // forwarding signals, and dying of the child's signal (setrlimit, raise)
    "rt_sigaction", "rt_sigprocmask", "rt_sigreturn", "getpid", "gettid", "prlimit64",
    // logging (stderr, syslog), glibc's fatal-error messages
    "write", "writev", "sendto", "clock_gettime",
    // removing the socket and pid files (Listener::Unlink)
    "newfstatat", "fstat", "unlinkat",
    // glibc's malloc, should anything allocate
    "brk", "munmap",
};

// What the ASan/UBSan runtimes call on their own (found with --seccomp=log
// and --seccomp=trap under strace): pipe2, for probing whether memory is
// readable (IsAccessibleMemoryRange); open and readlink, the path forms of
// the allowed openat and readlinkat, for /proc/self/maps and /proc/self/exe
// in error reports. Only in sanitizer builds.
constexpr const char* kSanitizerExtra[] = {"pipe2", "open", "readlink"};
// And what the runtime does when the namespace parent exits (it tears
// down its thread's alternate signal stack under a lock); the daemon's own
// list has both anyway.
constexpr const char* kParentSanitizerExtra[] = {"sigaltstack", "futex"};
// What an error report tries beyond that (an external symbolizer): failing
// with EPERM lets the report finish, unsymbolized, instead of being cut
// short by SIGSYS. Only in sanitizer builds.
constexpr const char* kSanitizerReportDenied[] = {"execve", "wait4"};

bool IsSanitizerBuild() {
#ifdef HS_SANITIZER_BUILD
  return true;
#else
  return false;
#endif
}

// Names for the trap handler, resolved before the filter is installed
// (libseccomp's resolver allocates; a signal handler must not).
constexpr int kMaxSyscallNr = 512;
const char* g_syscall_names[kMaxSyscallNr];

void AppendNumber(char* buf, size_t* len, size_t cap, long v) {
  char tmp[24];
  int n = 0;
  bool neg = v < 0;
  unsigned long u = neg ? static_cast<unsigned long>(-v) : static_cast<unsigned long>(v);
  do {
    tmp[n++] = static_cast<char>('0' + u % 10);
    u /= 10;
  } while (u != 0 && n < 22);
  if (neg) tmp[n++] = '-';
  while (n > 0 && *len + 1 < cap) buf[(*len)++] = tmp[--n];
}

void AppendText(char* buf, size_t* len, size_t cap, const char* s) {
  while (*s != '\0' && *len + 1 < cap) buf[(*len)++] = *s++;
}

// --seccomp=trap: name the call on stderr and make it fail ENOSYS.
// Async-signal-safe: write(2) only, no allocation.
void OnSigsys(int, siginfo_t* si, void* ctx) {
  int saved = errno;
  char buf[160];
  size_t len = 0;
  int nr = si->si_syscall;
  AppendText(buf, &len, sizeof(buf), "hostshared: seccomp: blocked system call ");
  const char* name = (nr >= 0 && nr < kMaxSyscallNr) ? g_syscall_names[nr] : nullptr;
  AppendText(buf, &len, sizeof(buf), name != nullptr ? name : "?");
  AppendText(buf, &len, sizeof(buf), " (");
  AppendNumber(buf, &len, sizeof(buf), nr);
  AppendText(buf, &len, sizeof(buf), "): it fails with ENOSYS\n");
  ssize_t ignored = write(STDERR_FILENO, buf, len);
  (void)ignored;
  auto* uc = static_cast<ucontext_t*>(ctx);
#if defined(__x86_64__)
  uc->uc_mcontext.gregs[REG_RAX] = -ENOSYS;
#elif defined(__aarch64__)
  uc->uc_mcontext.regs[0] = static_cast<unsigned long long>(-ENOSYS);
#else
  (void)uc;
#endif
  errno = saved;
}

bool InstallTrapHandler(std::string* error) {
  for (int nr = 0; nr < kMaxSyscallNr; ++nr) {
    if (g_syscall_names[nr] != nullptr) continue;
    // Kept for the process' lifetime: the handler may need it any time.
    g_syscall_names[nr] = seccomp_syscall_resolve_num_arch(SCMP_ARCH_NATIVE, nr);
  }
  struct sigaction sa;
  memset(&sa, 0, sizeof(sa));
  sa.sa_sigaction = OnSigsys;
  sa.sa_flags = SA_SIGINFO;
  sigemptyset(&sa.sa_mask);
  if (sigaction(SIGSYS, &sa, nullptr) != 0) {
    *error = std::string("cannot install the SIGSYS handler: ") + strerror(errno);
    return false;
  }
  return true;
}

struct CtxDeleter {
  void operator()(void* ctx) const { seccomp_release(ctx); }
};

// One filter under construction: the default action for calls without a
// rule, rules added by name, then loaded (shared by both allow-lists).
class FilterBuilder {
 public:
  FilterBuilder(SeccompAction action, std::string* error) : action_(action), error_(error) {}

  bool Init() {
    uint32_t deflt = action_ == SeccompAction::kKill  ? SCMP_ACT_KILL_PROCESS
                     : action_ == SeccompAction::kTrap ? SCMP_ACT_TRAP
                                                       : SCMP_ACT_LOG;
    ctx_.reset(seccomp_init(deflt));
    if (!ctx_) {
      *error_ = "seccomp_init failed";
      return false;
    }
    // Every thread, even one started before this call; another ABI
    // (i386/x32 entry points) is always fatal.
    int rc = seccomp_attr_set(ctx_.get(), SCMP_FLTATR_CTL_TSYNC, 1);
    if (rc == 0) rc = seccomp_attr_set(ctx_.get(), SCMP_FLTATR_ACT_BADARCH, SCMP_ACT_KILL_PROCESS);
    if (rc != 0) {
      *error_ = std::string("seccomp_attr_set: ") + strerror(-rc);
      return false;
    }
    return true;
  }

  bool Add(const char* name, uint32_t act, unsigned ncmp = 0, const scmp_arg_cmp* cmp = nullptr) {
    int nr = seccomp_syscall_resolve_name(name);
    if (nr == __NR_SCMP_ERROR || nr < 0) return true;  // not a call of this architecture
    int r = seccomp_rule_add_array(ctx_.get(), act, nr, ncmp, cmp);
    if (r != 0) {
      *error_ = std::string("seccomp rule for ") + name + ": " + strerror(-r);
      return false;
    }
    return true;
  }

  template <size_t N>
  bool AllowAll(const char* const (&names)[N]) {
    for (const char* name : names) {
      if (!Add(name, SCMP_ACT_ALLOW)) return false;
    }
    return true;
  }

  // Sanitizer builds: what the runtime needs, and a soft failure for what an
  // error report tries; `wait4_allowed`: the list already allows wait4.
  bool AddSanitizerRules(bool wait4_allowed) {
    if (!IsSanitizerBuild()) return true;
    if (!AllowAll(kSanitizerExtra)) return false;
    for (const char* name : kSanitizerReportDenied) {
      if (wait4_allowed && strcmp(name, "wait4") == 0) continue;
      if (!Add(name, SCMP_ACT_ERRNO(EPERM))) return false;
    }
    // isatty(stderr) for colours: "not a terminal".
    if (!Add("ioctl", SCMP_ACT_ERRNO(ENOTTY))) return false;
    // fork() of a symbolizer.
    const scmp_arg_cmp not_thread = SCMP_A0(SCMP_CMP_MASKED_EQ, CLONE_THREAD, 0);
    return Add("clone", SCMP_ACT_ERRNO(EPERM), 1, &not_thread);
  }

  bool Load() {
    if (action_ == SeccompAction::kTrap && !InstallTrapHandler(error_)) return false;
    int rc = seccomp_load(ctx_.get());
    if (rc != 0) {
      *error_ = std::string("cannot load the seccomp filter: ") + strerror(-rc);
      return false;
    }
    return true;
  }

 private:
  SeccompAction action_;
  std::string* error_;
  std::unique_ptr<void, CtxDeleter> ctx_;
};

}  // namespace

const char* SeccompActionName(SeccompAction a) {
  switch (a) {
    case SeccompAction::kNone: return "none";
    case SeccompAction::kLog: return "log";
    case SeccompAction::kTrap: return "trap";
    case SeccompAction::kKill: return "kill";
  }
  return "?";
}

std::vector<std::string> AllowedSyscalls() {
  std::vector<std::string> names(std::begin(kAllowed), std::end(kAllowed));
  // The argument-restricted ones (see InstallSeccomp).
  for (const char* n : {"mmap", "mprotect", "clone", "clone3", "unshare", "setgroups", "tgkill",
                        "socket"}) {
    names.emplace_back(n);
  }
  if (IsSanitizerBuild()) {
    for (const char* n : kSanitizerExtra) names.emplace_back(n);
  }
  return names;
}

bool InstallSeccomp(SeccompAction action, std::string* error) {
  if (action == SeccompAction::kNone) return true;
  FilterBuilder f(action, error);
  if (!f.Init() || !f.AllowAll(kAllowed) || !f.AddSanitizerRules(/*wait4_allowed=*/false)) {
    return false;
  }
  const scmp_arg_cmp no_exec = SCMP_A2(SCMP_CMP_MASKED_EQ, PROT_EXEC, 0);
  const scmp_arg_cmp thread_only = SCMP_A0(SCMP_CMP_MASKED_EQ, CLONE_THREAD, CLONE_THREAD);
  const scmp_arg_cmp fs_only = SCMP_A0(SCMP_CMP_EQ, CLONE_FS);
  // setgroups: none, or one (the parent directory's group while creating a
  // node for a guest caller: fs/passthrough/credentials.h).
  const scmp_arg_cmp no_groups = SCMP_A0(SCMP_CMP_LE, 1);
  const scmp_arg_cmp own_process = SCMP_A0(SCMP_CMP_EQ, static_cast<scmp_datum_t>(getpid()));
  return f.Add("mmap", SCMP_ACT_ALLOW, 1, &no_exec) &&
         f.Add("mprotect", SCMP_ACT_ALLOW, 1, &no_exec) &&
         f.Add("clone", SCMP_ACT_ALLOW, 1, &thread_only) &&
         f.Add("clone3", SCMP_ACT_ERRNO(ENOSYS)) && f.Add("unshare", SCMP_ACT_ALLOW, 1, &fs_only) &&
         f.Add("setgroups", SCMP_ACT_ALLOW, 1, &no_groups) &&
         f.Add("tgkill", SCMP_ACT_ALLOW, 1, &own_process) &&
         f.Add("socket", SCMP_ACT_ERRNO(EACCES)) && f.Load();
}

std::vector<std::string> ParentAllowedSyscalls() {
  std::vector<std::string> names(std::begin(kParentAllowed), std::end(kParentAllowed));
  for (const char* n : {"mmap", "kill", "tgkill", "socket"}) names.emplace_back(n);
  if (IsSanitizerBuild()) {
    for (const char* n : kSanitizerExtra) names.emplace_back(n);
    for (const char* n : kParentSanitizerExtra) names.emplace_back(n);
  }
  return names;
}

bool InstallParentSeccomp(SeccompAction action, pid_t child, std::string* error) {
  if (action == SeccompAction::kNone) return true;
  FilterBuilder f(action, error);
  if (!f.Init() || !f.AllowAll(kParentAllowed) || !f.AddSanitizerRules(/*wait4_allowed=*/true) ||
      (IsSanitizerBuild() && !f.AllowAll(kParentSanitizerExtra))) {
    return false;
  }
  const scmp_arg_cmp no_exec = SCMP_A2(SCMP_CMP_MASKED_EQ, PROT_EXEC, 0);
  const scmp_arg_cmp the_child = SCMP_A0(SCMP_CMP_EQ, static_cast<scmp_datum_t>(child));
  const scmp_arg_cmp own_process = SCMP_A0(SCMP_CMP_EQ, static_cast<scmp_datum_t>(getpid()));
  return f.Add("mmap", SCMP_ACT_ALLOW, 1, &no_exec) &&
         f.Add("kill", SCMP_ACT_ALLOW, 1, &the_child) &&
         f.Add("tgkill", SCMP_ACT_ALLOW, 1, &own_process) &&
         f.Add("socket", SCMP_ACT_ERRNO(EACCES)) && f.Load();
}

}  // namespace hostshare::sandbox
