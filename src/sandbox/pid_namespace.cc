#include "sandbox/pid_namespace.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>

#include "base/log.h"
#include "sandbox/capabilities.h"

namespace hostshare::sandbox {
namespace {

constexpr int kForwarded[] = {SIGTERM, SIGINT, SIGHUP, SIGQUIT};

volatile sig_atomic_t g_child = 0;
volatile sig_atomic_t g_forwarded = 0;

void Forward(int sig) {
  g_forwarded = sig;
  if (g_child > 0) kill(g_child, sig);
}

// In the child (pid 1): a forwarded termination signal ends the daemon.
void ExitOnSignal(int sig) { _exit(128 + sig); }

void InstallHandlers(void (*handler)(int)) {
  struct sigaction sa;
  memset(&sa, 0, sizeof(sa));
  sa.sa_handler = handler;
  sigemptyset(&sa.sa_mask);
  for (int s : kForwarded) sigaction(s, &sa, nullptr);
}

[[noreturn]] void DieLike(int sig) {
  // The child already reported what happened; no core file of the parent.
  rlimit no_core{0, 0};
  setrlimit(RLIMIT_CORE, &no_core);
  signal(sig, SIG_DFL);
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, sig);
  sigprocmask(SIG_UNBLOCK, &set, nullptr);
  raise(sig);
  _exit(128 + sig);
}

// The parent needs no privilege for its loop: every capability goes (the
// bounding set too), no_new_privs, and its own seccomp list.
bool HardenParent(pid_t child, SeccompAction seccomp, std::string* error) {
  if (!DropCapabilities({}, error)) return false;
  if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0) {
    *error = std::string("cannot set no_new_privs: ") + strerror(errno);
    return false;
  }
  return InstallParentSeccomp(seccomp, child, error);
}

[[noreturn]] void RunParent(pid_t child, int from_child, SeccompAction seccomp,
                            const std::function<void()>& remove_socket) {
  g_child = child;
  InstallHandlers(Forward);
  std::string error;
  if (!HardenParent(child, seccomp, &error)) {
    // Not confined: take the child down rather than run this way.
    LOG_ERROR("sandbox: cannot confine the namespace parent: %s", error.c_str());
    kill(child, SIGKILL);
    while (waitpid(child, nullptr, 0) < 0 && errno == EINTR) {
    }
    if (remove_socket) remove_socket();
    fflush(nullptr);
    _exit(1);
  }
  // Requests until the child's end closes (it exited, or exec'd nothing:
  // the fd is close-on-exec), then the exit status.
  for (;;) {
    char buf[16];
    ssize_t n = read(from_child, buf, sizeof(buf));
    if (n > 0) {
      if (remove_socket) remove_socket();
      continue;
    }
    if (n < 0 && errno == EINTR) continue;
    break;
  }
  close(from_child);
  int status = 0;
  pid_t r;
  do {
    r = waitpid(child, &status, 0);
  } while (r < 0 && errno == EINTR);
  if (remove_socket) remove_socket();
  if (r < 0) {
    LOG_ERROR("sandbox: waiting for the sandboxed daemon failed: %s", strerror(errno));
    _exit(1);
  }
  if (WIFEXITED(status)) {
    int code = WEXITSTATUS(status);
    if (g_forwarded != 0 && code == 128 + g_forwarded) DieLike(g_forwarded);
    // _exit: nothing of the parent's needs tearing down, and exit-time
    // hooks that fork (LeakSanitizer's) cannot: after unshare(CLONE_NEWPID)
    // its children would land in the child's namespace, dead by now.
    fflush(nullptr);
    _exit(code);
  }
  int sig = WTERMSIG(status);
  if (sig == SIGSYS) {
    LOG_ERROR("sandbox: the daemon was killed by SIGSYS: it made a system call outside the "
              "seccomp allow-list (rerun with --seccomp=trap to see which, or --seccomp=log "
              "and look at dmesg)");
  } else if (sig != SIGKILL && sig != g_forwarded) {
    LOG_ERROR("sandbox: the daemon was killed by signal %d (%s)", sig, strsignal(sig));
  }
  DieLike(sig);
}

}  // namespace

bool ForkIntoPidNamespace(const std::vector<int>& child_only_fds,
                          const std::function<void()>& remove_socket,
                          SeccompAction parent_seccomp, ScopedFd* to_parent,
                          std::string* error) {
  // Child -> parent requests; its end closing also tells the parent that
  // the child is gone. And the other way round, a lifeline whose closing
  // tells the child that the parent died before PR_SET_PDEATHSIG was set.
  int up[2], lifeline[2];
  if (pipe2(up, O_CLOEXEC) != 0) {
    *error = std::string("pipe2: ") + strerror(errno);
    return false;
  }
  if (pipe2(lifeline, O_CLOEXEC) != 0) {
    *error = std::string("pipe2: ") + strerror(errno);
    close(up[0]);
    close(up[1]);
    return false;
  }
  fflush(nullptr);
  pid_t pid = fork();
  if (pid < 0) {
    *error = std::string("cannot fork into the new pid namespace: ") + strerror(errno);
    for (int fd : {up[0], up[1], lifeline[0], lifeline[1]}) close(fd);
    return false;
  }
  if (pid > 0) {
    close(up[1]);
    close(lifeline[0]);
    for (int fd : child_only_fds) {
      if (fd >= 0) close(fd);
    }
    // lifeline[1] stays open until the parent exits.
    RunParent(pid, up[0], parent_seccomp, remove_socket);
  }
  close(up[0]);
  close(lifeline[1]);
  InstallHandlers(ExitOnSignal);
  prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0);
  pollfd p{lifeline[0], POLLIN, 0};
  if (poll(&p, 1, 0) == 1) _exit(1);  // EOF: the parent is already gone
  close(lifeline[0]);
  to_parent->reset(up[1]);
  return true;
}

}  // namespace hostshare::sandbox
