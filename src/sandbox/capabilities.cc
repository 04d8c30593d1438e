#include "sandbox/capabilities.h"

#include <cap-ng.h>
#include <linux/capability.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cstring>

namespace hostshare::sandbox {
namespace {

// Permitted set of the calling thread, straight from capget(2): libcap-ng's
// capng_get_caps_process() also reads /proc, which the sandbox hides.
bool PermittedMask(uint64_t* out) {
  __user_cap_header_struct hdr{_LINUX_CAPABILITY_VERSION_3, 0};
  __user_cap_data_struct data[_LINUX_CAPABILITY_U32S_3] = {};
  if (syscall(SYS_capget, &hdr, data) != 0) return false;
  *out = static_cast<uint64_t>(data[0].permitted) | (static_cast<uint64_t>(data[1].permitted) << 32);
  return true;
}

}  // namespace

bool ParseModcaps(std::string_view spec, std::vector<CapChange>* out, std::string* error) {
  out->clear();
  if (spec.empty()) {
    *error = "--modcaps needs a value like '-mknod:+sys_admin'";
    return false;
  }
  size_t pos = 0;
  while (pos <= spec.size()) {
    size_t end = spec.find(':', pos);
    if (end == std::string_view::npos) end = spec.size();
    std::string_view item = spec.substr(pos, end - pos);
    pos = end + 1;
    if (item.size() < 2 || (item[0] != '+' && item[0] != '-')) {
      *error = "invalid --modcaps item '" + std::string(item) +
               "': expected +name or -name (e.g. -mknod:+sys_admin)";
      return false;
    }
    std::string name(item.substr(1));
    for (char& c : name) c = static_cast<char>(tolower(static_cast<unsigned char>(c)));
    if (name.rfind("cap_", 0) == 0) name.erase(0, 4);
    // libcap-ng also takes numbers; a capability is named, never numbered, here.
    int cap = -1;
    if (!name.empty() && isalpha(static_cast<unsigned char>(name[0]))) {
      cap = capng_name_to_capability(name.c_str());
    }
    if (cap < 0) {
      *error = "unknown capability '" + std::string(item.substr(1)) + "' in --modcaps";
      return false;
    }
    out->push_back(CapChange{item[0] == '+', cap});
  }
  return true;
}

std::vector<int> DefaultCapabilities() {
  std::vector<int> caps = {CAP_CHOWN,  CAP_DAC_OVERRIDE, CAP_FOWNER, CAP_FSETID,
                           CAP_SETGID, CAP_SETUID,       CAP_MKNOD,  CAP_SETFCAP};
  std::sort(caps.begin(), caps.end());
  return caps;
}

std::vector<int> ApplyModcaps(std::vector<int> base, const std::vector<CapChange>& changes) {
  for (const CapChange& ch : changes) {
    auto it = std::find(base.begin(), base.end(), ch.cap);
    if (ch.add && it == base.end()) base.push_back(ch.cap);
    if (!ch.add && it != base.end()) base.erase(it);
  }
  std::sort(base.begin(), base.end());
  base.erase(std::unique(base.begin(), base.end()), base.end());
  return base;
}

std::string CapabilityName(int cap) {
  const char* n = cap >= 0 ? capng_capability_to_name(static_cast<unsigned>(cap)) : nullptr;
  return n != nullptr ? std::string(n) : "cap_" + std::to_string(cap);
}

std::string CapabilityList(const std::vector<int>& caps) {
  std::string s;
  for (int c : caps) {
    if (!s.empty()) s += ',';
    s += CapabilityName(c);
  }
  return s.empty() ? "none" : s;
}

uint64_t CapabilityMask(const std::vector<int>& caps) {
  uint64_t m = 0;
  for (int c : caps) {
    if (c >= 0 && c < 64) m |= uint64_t{1} << c;
  }
  return m;
}

bool DropCapabilities(const std::vector<int>& keep, std::string* error) {
  uint64_t permitted = 0;
  if (!PermittedMask(&permitted)) {
    *error = std::string("capget: ") + strerror(errno);
    return false;
  }
  for (int c : keep) {
    if (c < 0 || c >= 64 || !(permitted & (uint64_t{1} << c))) {
      *error = "cannot keep capability '" + CapabilityName(c) +
               "': the daemon does not have it (remove it from --modcaps)";
      return false;
    }
  }
  // The bounding set first, while CAP_SETPCAP is still effective. Done by
  // hand: capng_apply(CAPNG_SELECT_BOUNDS) reads /proc to check for
  // CAP_SETPCAP. EINVAL ends the loop at the kernel's last capability.
  if (permitted & (uint64_t{1} << CAP_SETPCAP)) {
    for (int c = 0; c < 64; ++c) {
      if (std::find(keep.begin(), keep.end(), c) != keep.end()) continue;
      if (prctl(PR_CAPBSET_DROP, c, 0, 0, 0) != 0) {
        if (errno == EINVAL) break;
        *error = "cannot drop capability '" + CapabilityName(c) +
                 "' from the bounding set: " + strerror(errno);
        return false;
      }
    }
  }
  capng_clear(CAPNG_SELECT_CAPS);
  for (int c : keep) {
    if (capng_update(CAPNG_ADD, static_cast<capng_type_t>(CAPNG_EFFECTIVE | CAPNG_PERMITTED),
                     static_cast<unsigned>(c)) != 0) {
      *error = "libcap-ng does not know capability " + std::to_string(c);
      return false;
    }
  }
  if (capng_apply(CAPNG_SELECT_CAPS) != 0) {
    *error = std::string("cannot set the capabilities (capset): ") + strerror(errno);
    return false;
  }
  // Ambient capabilities would survive an execve(); there is none, but
  // make sure. EINVAL: a kernel without ambient capabilities.
  if (prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0) != 0 && errno != EINVAL) {
    *error = std::string("cannot clear the ambient capabilities: ") + strerror(errno);
    return false;
  }
  return true;
}

}  // namespace hostshare::sandbox
