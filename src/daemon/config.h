// Config: everything the command line decides, in one value.
//
// Produced by ParseCommandLine (cli.h) and consumed by the daemon's start-up.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "base/log.h"
#include "sandbox/capabilities.h"
#include "sandbox/sandbox.h"
#include "sandbox/seccomp_filter.h"

namespace hostshare::daemon {

enum class Cache { kNever, kAuto, kAlways, kMetadata };
using Sandbox = sandbox::Mode;            // kNamespace, kChroot, kNone
using Seccomp = sandbox::SeccompAction;   // kNone, kLog, kTrap, kKill

// Longest adaptive busy-poll of an empty request queue (see
// device/poll_tuner.h); about one slow thread wake-up on a virtualised host.
inline constexpr uint32_t kDefaultPollMaxUs = 50;

struct Config {
  std::string shared_dir;
  std::string socket_path;
  std::optional<int> listen_fd;          // --fd
  std::optional<std::string> socket_group;
  std::string tag;                       // empty: no config space
  Cache cache = Cache::kAuto;
  uint32_t thread_pool_size = 0;
  uint32_t poll_max_us = kDefaultPollMaxUs;  // --poll-max-us
  bool xattr = false;
  bool readonly = false;
  bool writeback = false;
  bool allow_direct_io = false;
  bool allow_mmap = false;
  bool readdirplus = true;
  bool announce_submounts = false;
  std::optional<Sandbox> sandbox;        // unset: namespace as root, none otherwise
  Seccomp seccomp = Seccomp::kKill;
  std::vector<sandbox::CapChange> modcaps;  // --modcaps, in order
  log::Level log_level = log::Level::kInfo;
  bool syslog = false;
  std::optional<uint64_t> rlimit_nofile;
  bool print_capabilities = false;
  bool print_version = false;
  bool print_help = false;
};

}  // namespace hostshare::daemon
