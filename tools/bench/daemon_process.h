// DaemonProcess: a backend the benchmark starts itself, as
// /bin/sh -c "exec CMD" (so the backend keeps the shell's pid), with its
// output appended to a log file.
//
// Thread-safety: one thread.
#pragma once

#include <sys/types.h>

#include <memory>
#include <string>

namespace hostshare::bench {

class DaemonProcess {
 public:
  static std::unique_ptr<DaemonProcess> Spawn(const std::string& cmd, const std::string& log_path,
                                              std::string* error);
  ~DaemonProcess();
  pid_t pid() const { return pid_; }
  bool Alive();
  // Waits up to `timeout_ms` for the process to exit by itself, then sends
  // SIGTERM (and SIGKILL 2 s later). Returns how it ended ("exit 0", ...).
  std::string Stop(int timeout_ms);

 private:
  pid_t pid_ = -1;
  std::string status_;
};

}  // namespace hostshare::bench
