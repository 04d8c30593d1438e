// The seccomp allow-list, installed for real in a forked child: what the
// daemon does keeps working (threads included), what it never does kills
// it, and the log/trap modes behave as documented.
#include "sandbox/seccomp_filter.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <linux/sched.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/ptrace.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <functional>
#include <string>
#include <thread>

#if defined(__SANITIZE_ADDRESS__)
#define HS_TEST_SANITIZER 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define HS_TEST_SANITIZER 1
#endif
#endif

namespace hostshare::sandbox {
namespace {

#ifdef HS_TEST_SANITIZER
constexpr bool kSanitizer = true;
#else
constexpr bool kSanitizer = false;
#endif

struct Outcome {
  int status = 0;
  std::string err;  // what the child wrote to stderr
};

// Runs `body` in a child under the filter `install` sets up; the child's
// exit code is what `body` returns.
Outcome RunFilteredBy(const std::function<bool(std::string*)>& install,
                      const std::function<int()>& body) {
  int errp[2];
  EXPECT_EQ(pipe2(errp, O_CLOEXEC), 0);
  fflush(nullptr);
  pid_t pid = fork();
  if (pid == 0) {
    dup2(errp[1], STDERR_FILENO);
    std::string error;
    if (!install(&error)) {
      ssize_t ignored = write(STDERR_FILENO, error.data(), error.size());
      (void)ignored;
      _exit(100);
    }
    _exit(body());
  }
  close(errp[1]);
  Outcome o;
  char buf[4096];
  ssize_t n;
  while ((n = read(errp[0], buf, sizeof(buf))) > 0) o.err.append(buf, static_cast<size_t>(n));
  close(errp[0]);
  EXPECT_EQ(waitpid(pid, &o.status, 0), pid);
  return o;
}

// The same under the daemon's filter.
Outcome RunFiltered(SeccompAction action, const std::function<int()>& body) {
  return RunFilteredBy([action](std::string* e) { return InstallSeccomp(action, e); }, body);
}

bool KilledBySigsys(const Outcome& o) {
  return WIFSIGNALED(o.status) && WTERMSIG(o.status) == SIGSYS;
}
int ExitCode(const Outcome& o) { return WIFEXITED(o.status) ? WEXITSTATUS(o.status) : -1; }

TEST(SeccompFilterTest, WhatTheDaemonDoesStillWorks) {
  Outcome o = RunFiltered(SeccompAction::kKill, [] {
    // A worker thread with an eventfd and poll, like device::QueueWorker.
    int efd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
    if (efd < 0) return 1;
    int polled = -1;
    std::thread t([&] {
      pollfd p{efd, POLLIN, 0};
      polled = poll(&p, 1, 5000);
      unshare(CLONE_FS);  // the passthrough's per-thread fs context
    });
    if (eventfd_write(efd, 1) != 0) return 2;
    t.join();
    if (polled != 1) return 3;
    // Guest-memory style mapping and file access through *at calls.
    void* m = mmap(nullptr, 1 << 20, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (m == MAP_FAILED) return 4;
    static_cast<char*>(m)[0] = 1;
    if (munmap(m, 1 << 20) != 0) return 5;
    int dir = open("/", O_PATH | O_DIRECTORY | O_CLOEXEC);
    if (dir < 0) return 6;
    struct stat st;
    if (fstatat(dir, "", &st, AT_EMPTY_PATH) != 0) return 7;
    close(dir);
    if (syscall(SYS_setfsuid, -1) < 0) return 8;
    // Allocations of every size class.
    for (size_t sz = 16; sz < (64u << 20); sz *= 4) {
      char* p = new char[sz];
      p[sz - 1] = 0;
      delete[] p;
    }
    return 0;
  });
  EXPECT_EQ(ExitCode(o), 0) << o.err;
}

TEST(SeccompFilterTest, WhatTheDaemonNeverDoesKills) {
  const std::pair<const char*, std::function<int()>> cases[] = {
      {"ptrace", [] { return static_cast<int>(ptrace(PTRACE_TRACEME, 0, nullptr, nullptr)); }},
      {"fork", [] { return static_cast<int>(fork()); }},
      {"execve", [] {
         char* argv[] = {const_cast<char*>("/bin/true"), nullptr};
         return execve("/bin/true", argv, nullptr);
       }},
      {"mmap PROT_EXEC", [] {
         void* m = mmap(nullptr, 4096, PROT_READ | PROT_EXEC, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
         return m == MAP_FAILED ? 1 : 0;
       }},
      {"mprotect PROT_EXEC", [] {
         void* m = mmap(nullptr, 4096, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
         return mprotect(m, 4096, PROT_READ | PROT_EXEC);
       }},
      {"unshare(CLONE_NEWNS)", [] { return unshare(CLONE_NEWNS); }},
      {"chroot", [] { return chroot("/"); }},
      {"setuid", [] { return static_cast<int>(syscall(SYS_setuid, 0)); }},
      {"setgroups with two groups", [] {
         gid_t g[2] = {0, 0};
         return static_cast<int>(syscall(SYS_setgroups, 2, g));
       }},
      {"kill", [] { return kill(1, 0); }},
      {"connect", [] { return connect(0, nullptr, 0); }},
  };
  for (const auto& [what, body] : cases) {
    Outcome o = RunFiltered(SeccompAction::kKill, body);
    // Sanitizer builds fail fork/exec with EPERM so that an error report
    // can finish (the call returns -1: exit code 255).
    std::string w = what;
    if (kSanitizer && (w == "fork" || w == "execve")) {
      EXPECT_EQ(ExitCode(o), 255) << what << ": status " << o.status << " " << o.err;
      continue;
    }
    EXPECT_TRUE(KilledBySigsys(o)) << what << ": status " << o.status << " " << o.err;
  }
}

#ifdef HS_TEST_SANITIZER
// A sanitizer report inside the filter completes (unsymbolized at worst)
// instead of dying of SIGSYS halfway.
TEST(SeccompFilterTest, SanitizerReportSurvivesTheFilter) {
  Outcome o = RunFiltered(SeccompAction::kKill, [] {
    volatile char* p = new char[16];
    int v = p[16];  // heap-buffer-overflow
    delete[] p;
    return v;
  });
  EXPECT_FALSE(KilledBySigsys(o)) << o.err;
  EXPECT_NE(o.err.find("AddressSanitizer: heap-buffer-overflow"), std::string::npos) << o.err;
  EXPECT_NE(o.err.find("SUMMARY: AddressSanitizer"), std::string::npos) << o.err;
}
#endif

TEST(SeccompFilterTest, SoftDenials) {
  // glibc falls back to clone when clone3 says ENOSYS; syslog's reconnect
  // gets EACCES from socket() instead of killing the daemon.
  Outcome o = RunFiltered(SeccompAction::kKill, [] {
    clone_args args{};
    long r = syscall(SYS_clone3, &args, sizeof(args));
    if (r != -1 || errno != ENOSYS) return 1;
    if (socket(AF_UNIX, SOCK_DGRAM, 0) != -1 || errno != EACCES) return 2;
    return 0;
  });
  EXPECT_EQ(ExitCode(o), 0) << o.err;
}

TEST(SeccompFilterTest, LogModeLetsTheCallThrough) {
  Outcome o = RunFiltered(SeccompAction::kLog, [] {
    utsname u;
    return uname(&u) == 0 ? 0 : 1;
  });
  EXPECT_EQ(ExitCode(o), 0) << o.err;
}

TEST(SeccompFilterTest, TrapModeNamesTheCallAndFailsIt) {
  Outcome o = RunFiltered(SeccompAction::kTrap, [] {
    utsname u;
    int r = uname(&u);
    return r == -1 && errno == ENOSYS ? 0 : 1;
  });
  EXPECT_EQ(ExitCode(o), 0) << o.err;
  EXPECT_NE(o.err.find("seccomp: blocked system call uname ("), std::string::npos) << o.err;
}

TEST(SeccompFilterTest, NoneInstallsNothing) {
  Outcome o = RunFiltered(SeccompAction::kNone, [] {
    utsname u;
    return uname(&u);
  });
  EXPECT_EQ(ExitCode(o), 0) << o.err;
}

TEST(SeccompFilterTest, ListIsAnAllowList) {
  auto names = AllowedSyscalls();
  auto has = [&](const char* n) { return std::find(names.begin(), names.end(), n) != names.end(); };
  for (const char* needed : {"openat2", "getdents64", "renameat2", "copy_file_range", "syncfs",
                             "fgetxattr", "setfsuid", "setfsgid", "unshare", "fchdir",
                             "faccessat2", "recvmsg", "sendmsg", "mmap", "futex", "clone",
                             "eventfd2", "poll", "rseq", "getrandom", "sched_getaffinity"}) {
    EXPECT_TRUE(has(needed)) << needed;
  }
  for (const char* never : {"execve", "ptrace", "mount", "pivot_root", "chroot", "setuid",
                            "kill", "connect", "bind", "process_vm_writev", "init_module"}) {
    EXPECT_FALSE(has(never)) << never;
  }
  EXPECT_STREQ(SeccompActionName(SeccompAction::kKill), "kill");
}

// The namespace parent's filter (pid_namespace.cc), installed in the
// filtered process after it forked a child of its own to wait for (which
// dies with it).
pid_t g_parent_child = -1;

bool InstallAsParent(std::string* error) {
  g_parent_child = fork();
  if (g_parent_child == 0) {
    prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (getppid() == 1) _exit(0);
    pause();
    _exit(0);
  }
  return g_parent_child > 0 && InstallParentSeccomp(SeccompAction::kKill, g_parent_child, error);
}

TEST(ParentSeccompFilterTest, WhatTheParentDoesStillWorks) {
  static char socket_file[] = "/tmp/hostshare-parent-seccomp-XXXXXX";
  int fd = mkstemp(socket_file);
  ASSERT_GE(fd, 0);
  close(fd);
  Outcome o = RunFilteredBy(InstallAsParent, [] {
    // Forward a signal, wait for the child, remove the socket file, log.
    struct sigaction sa {};
    sa.sa_handler = SIG_IGN;
    if (sigaction(SIGHUP, &sa, nullptr) != 0) return 1;
    if (kill(g_parent_child, SIGTERM) != 0) return 2;
    int status = 0;
    if (waitpid(g_parent_child, &status, 0) != g_parent_child) return 3;
    if (!WIFSIGNALED(status) || WTERMSIG(status) != SIGTERM) return 4;
    struct stat st;
    if (lstat(socket_file, &st) != 0 || unlinkat(AT_FDCWD, socket_file, 0) != 0) return 5;
    fprintf(stderr, "logged\n");
    // Dying like the child: no core file, the signal unblocked.
    rlimit no_core{0, 0};
    if (setrlimit(RLIMIT_CORE, &no_core) != 0) return 6;
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGHUP);
    if (sigprocmask(SIG_UNBLOCK, &set, nullptr) != 0) return 7;
    return raise(SIGHUP) == 0 ? 0 : 8;  // ignored: raise itself is allowed
  });
  EXPECT_EQ(ExitCode(o), 0) << "status " << o.status << " " << o.err;
  EXPECT_NE(unlink(socket_file), 0) << "not removed under the filter";
}

TEST(ParentSeccompFilterTest, WhatTheParentNeverDoesKills) {
  const std::pair<const char*, std::function<int()>> cases[] = {
      {"kill another process", [] { return kill(1, 0); }},
      {"openat", [] { return openat(AT_FDCWD, "/", O_RDONLY | O_DIRECTORY); }},
      {"fork", [] { return static_cast<int>(fork()); }},
      {"mmap PROT_EXEC", [] {
         void* m = mmap(nullptr, 4096, PROT_READ | PROT_EXEC, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
         return m == MAP_FAILED ? 1 : 0;
       }},
      {"ptrace", [] { return static_cast<int>(ptrace(PTRACE_TRACEME, 0, nullptr, nullptr)); }},
      {"connect", [] { return connect(0, nullptr, 0); }},
      {"setuid", [] { return static_cast<int>(syscall(SYS_setuid, 0)); }},
  };
  for (const auto& [what, body] : cases) {
    Outcome o = RunFilteredBy(InstallAsParent, body);
    std::string w = what;
    if (kSanitizer && w == "fork") {  // EPERM in sanitizer builds (see above)
      EXPECT_EQ(ExitCode(o), 255) << what << ": status " << o.status << " " << o.err;
      continue;
    }
    EXPECT_TRUE(KilledBySigsys(o)) << what << ": status " << o.status << " " << o.err;
  }
}

TEST(ParentSeccompFilterTest, ListIsSmall) {
  auto names = ParentAllowedSyscalls();
  auto has = [&](const char* n) { return std::find(names.begin(), names.end(), n) != names.end(); };
  for (const char* needed : {"read", "wait4", "kill", "rt_sigaction", "exit_group", "unlinkat"}) {
    EXPECT_TRUE(has(needed)) << needed;
  }
  for (const char* never : {"openat", "clone", "execve", "ptrace", "mount", "setuid", "connect",
                            "accept4", "recvmsg", "mprotect"}) {
    EXPECT_FALSE(has(never)) << never;
  }
  EXPECT_LT(names.size(), AllowedSyscalls().size() / 2);
}

}  // namespace
}  // namespace hostshare::sandbox
