// Capabilities: the set the daemon keeps after start-up, --modcaps, and the
// drop itself (libcap-ng).
//
// The passthrough needs, while it runs as root on behalf of guest users:
//   chown, dac_override, fowner, fsetid  - act on any file like the guest's root
//   setuid, setgid                       - setfsuid/setfsgid/setgroups per request
//   mknod                                - MKNOD of device nodes
//   setfcap                              - setting security.capability xattrs
// dac_read_search is not kept: dac_override already grants search and read
// on every directory and file, and the passthrough avoids the two calls that
// need it alone (open_by_handle_at, linkat(AT_EMPTY_PATH)); "+dac_read_search"
// adds it back. Everything else (sys_admin, sys_chroot, net_*, ...) goes,
// from the effective, permitted, inheritable, ambient and bounding sets.
//
// Trust boundary: --modcaps comes from the command line (trusted, but
// validated so that a typo is a one-line error, not a silent no-op).
// Thread-safety: Parse*/Apply*/Mask are pure. DropCapabilities() changes the
// calling thread's capabilities only (Linux capabilities are per thread):
// REQUIRES: no other thread exists yet, so that every later thread inherits
// the reduced set.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace hostshare::sandbox {

// One "+name" or "-name" item of --modcaps.
struct CapChange {
  bool add = false;
  int cap = -1;  // CAP_* number
  bool operator==(const CapChange&) const = default;
};

// Parses --modcaps: ':'-separated items, each '+' or '-' followed by a
// capability name ("sys_admin", "CAP_SYS_ADMIN", "Sys_Admin" all work).
// E.g. "-mknod:+sys_admin". On failure returns false with one line in `error`.
bool ParseModcaps(std::string_view spec, std::vector<CapChange>* out, std::string* error);

// The default set (see above), ascending.
std::vector<int> DefaultCapabilities();

// `base` with `changes` applied in order; ascending, no duplicates.
std::vector<int> ApplyModcaps(std::vector<int> base, const std::vector<CapChange>& changes);

// "chown", "sys_admin", ... ("cap_<n>" for a number libcap-ng does not name).
std::string CapabilityName(int cap);
// "chown,dac_override,..." for log lines.
std::string CapabilityList(const std::vector<int>& caps);
// The bit mask /proc/<pid>/status shows as CapEff for `caps`.
uint64_t CapabilityMask(const std::vector<int>& caps);

// Reduces the calling thread to exactly `keep` in the effective and
// permitted sets, clears the inheritable and ambient sets, and drops every
// other capability from the bounding set. Reads nothing from /proc (it runs
// inside the sandbox). On failure returns false with one line in `error`
// (e.g. a +cap that the process does not have).
bool DropCapabilities(const std::vector<int>& keep, std::string* error);

}  // namespace hostshare::sandbox
