#include "daemon_process.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "stats.h"

namespace hostshare::bench {
namespace {

std::string Describe(int status) {
  if (WIFEXITED(status)) return "exit " + std::to_string(WEXITSTATUS(status));
  if (WIFSIGNALED(status)) {
    return std::string("killed by signal ") + std::to_string(WTERMSIG(status)) + " (" +
           strsignal(WTERMSIG(status)) + ")";
  }
  return "status " + std::to_string(status);
}

}  // namespace

std::unique_ptr<DaemonProcess> DaemonProcess::Spawn(const std::string& cmd,
                                                    const std::string& log_path,
                                                    std::string* error) {
  int log = open(log_path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
  if (log < 0) {
    *error = "open " + log_path + ": " + strerror(errno);
    return nullptr;
  }
  std::string header = "### " + cmd + "\n";
  (void)!write(log, header.data(), header.size());
  const std::string shell_cmd = "exec " + cmd;
  pid_t pid = fork();
  if (pid < 0) {
    *error = std::string("fork: ") + strerror(errno);
    close(log);
    return nullptr;
  }
  if (pid == 0) {
    int devnull = open("/dev/null", O_RDONLY);
    dup2(devnull, 0);
    dup2(log, 1);
    dup2(log, 2);
    execl("/bin/sh", "sh", "-c", shell_cmd.c_str(), static_cast<char*>(nullptr));
    _exit(127);
  }
  close(log);
  std::unique_ptr<DaemonProcess> d(new DaemonProcess());
  d->pid_ = pid;
  return d;
}

DaemonProcess::~DaemonProcess() { Stop(0); }

bool DaemonProcess::Alive() {
  if (pid_ < 0) return false;
  int status;
  pid_t r = waitpid(pid_, &status, WNOHANG);
  if (r == pid_) {
    status_ = Describe(status);
    pid_ = -1;
    return false;
  }
  return true;
}

std::string DaemonProcess::Stop(int timeout_ms) {
  if (pid_ < 0) return status_;
  uint64_t deadline = NowNs() + static_cast<uint64_t>(timeout_ms) * 1000000ull;
  bool termed = false;
  for (;;) {
    int status;
    pid_t r = waitpid(pid_, &status, WNOHANG);
    if (r == pid_) {
      status_ = Describe(status) + (termed ? " (after SIGTERM)" : "");
      pid_ = -1;
      return status_;
    }
    uint64_t now = NowNs();
    if (now >= deadline) {
      if (termed) {
        kill(pid_, SIGKILL);
        waitpid(pid_, &status, 0);
        status_ = "killed with SIGKILL (did not exit)";
        pid_ = -1;
        return status_;
      }
      kill(pid_, SIGTERM);
      termed = true;
      deadline = now + 2000000000ull;
    }
    usleep(10000);
  }
}

}  // namespace hostshare::bench
