// Start-up steps of the daemon that touch the host environment: checking
// the shared directory, resource limits, signal dispositions.
#pragma once

#include <string>

#include "daemon/config.h"

namespace hostshare::daemon {

// Resolves config.shared_dir to an absolute directory path in place.
// Returns false with one line in `error` if it is missing or not a directory.
bool ResolveSharedDir(Config* config, std::string* error);

// Applies --rlimit-nofile, or by default raises the soft limit to the hard
// limit (every cached inode holds an fd).
bool ApplyFileLimit(const Config& config, std::string* error);

// Ignores SIGPIPE (a vanished frontend is an error return, not a signal).
void SetUpSignals();

}  // namespace hostshare::daemon
