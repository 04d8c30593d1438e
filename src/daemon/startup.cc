#include "daemon/startup.h"

#include <limits.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/stat.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>

namespace hostshare::daemon {

bool ResolveSharedDir(Config* config, std::string* error) {
  char resolved[PATH_MAX];
  if (realpath(config->shared_dir.c_str(), resolved) == nullptr) {
    *error = "shared directory '" + config->shared_dir + "': " + strerror(errno);
    return false;
  }
  struct stat st;
  if (stat(resolved, &st) != 0 || !S_ISDIR(st.st_mode)) {
    *error = "shared directory '" + config->shared_dir + "' is not a directory";
    return false;
  }
  config->shared_dir = resolved;
  return true;
}

bool ApplyFileLimit(const Config& config, std::string* error) {
  rlimit rl;
  if (getrlimit(RLIMIT_NOFILE, &rl) != 0) {
    *error = std::string("getrlimit: ") + strerror(errno);
    return false;
  }
  if (config.rlimit_nofile) {
    rl.rlim_cur = *config.rlimit_nofile;
    if (rl.rlim_max < rl.rlim_cur) rl.rlim_max = rl.rlim_cur;
  } else {
    rl.rlim_cur = rl.rlim_max;
  }
  if (setrlimit(RLIMIT_NOFILE, &rl) != 0) {
    if (config.rlimit_nofile) {
      *error = "cannot set RLIMIT_NOFILE to " + std::to_string(*config.rlimit_nofile) + ": " +
               strerror(errno);
      return false;
    }
  }
  return true;
}

void SetUpSignals() { signal(SIGPIPE, SIG_IGN); }

}  // namespace hostshare::daemon
