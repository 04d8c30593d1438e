#include "daemon/cli.h"

#include <cerrno>
#include <cstdlib>
#include <functional>
#include <map>
#include <sstream>

namespace hostshare::daemon {
namespace {

struct Parser {
  Config c;
  std::string error;

  bool Fail(const std::string& msg) {
    if (error.empty()) error = msg;
    return false;
  }
  bool NotYet(const std::string& opt) {
    return Fail("option '" + opt + "' is not yet supported by this version of hostshared");
  }

  bool ParseUint(const std::string& opt, const std::string& v, uint64_t max, uint64_t* out) {
    if (v.empty() || v.find_first_not_of("0123456789") != std::string::npos) {
      return Fail("invalid value '" + v + "' for " + opt + ": expected a number");
    }
    errno = 0;
    unsigned long long n = strtoull(v.c_str(), nullptr, 10);
    if (errno != 0 || n > max) return Fail("value '" + v + "' for " + opt + " is out of range");
    *out = n;
    return true;
  }

  bool SetCache(const std::string& opt, const std::string& v) {
    if (v == "never" || v == "none") c.cache = Cache::kNever;
    else if (v == "auto") c.cache = Cache::kAuto;
    else if (v == "always") c.cache = Cache::kAlways;
    else if (v == "metadata") c.cache = Cache::kMetadata;
    else return Fail("invalid value '" + v + "' for " + opt + ": expected never|auto|always|metadata");
    return true;
  }

  bool SetSandbox(const std::string& opt, const std::string& v) {
    if (v == "namespace") c.sandbox = Sandbox::kNamespace;
    else if (v == "chroot") c.sandbox = Sandbox::kChroot;
    else if (v == "none") c.sandbox = Sandbox::kNone;
    else return Fail("invalid value '" + v + "' for " + opt + ": expected namespace|chroot|none");
    return true;
  }

  bool SetSeccomp(const std::string& opt, const std::string& v) {
    if (v == "kill") c.seccomp = Seccomp::kKill;
    else if (v == "log") c.seccomp = Seccomp::kLog;
    else if (v == "trap") c.seccomp = Seccomp::kTrap;
    else if (v == "none") c.seccomp = Seccomp::kNone;
    else return Fail("invalid value '" + v + "' for " + opt + ": expected kill|log|trap|none");
    return true;
  }

  bool SetModcaps(const std::string& v) {
    std::vector<sandbox::CapChange> changes;
    std::string err;
    if (!sandbox::ParseModcaps(v, &changes, &err)) return Fail(err);
    c.modcaps.insert(c.modcaps.end(), changes.begin(), changes.end());
    return true;
  }

  bool SetLogLevel(const std::string& opt, const std::string& v) {
    if (!log::ParseLevel(v.c_str(), &c.log_level)) {
      return Fail("invalid value '" + v + "' for " + opt +
                  ": expected error|warn|info|debug|trace|off");
    }
    return true;
  }

  bool SetThreadPool(const std::string& opt, const std::string& v) {
    uint64_t n;
    if (!ParseUint(opt, v, 1024, &n)) return false;
    c.thread_pool_size = static_cast<uint32_t>(n);
    return true;
  }

  bool SetPollMax(const std::string& opt, const std::string& v) {
    uint64_t n;
    if (!ParseUint(opt, v, 1000000, &n)) return false;
    c.poll_max_us = static_cast<uint32_t>(n);
    return true;
  }

  // Legacy "-o a,b=c" options of the C virtiofsd.
  bool LegacyOption(const std::string& item) {
    std::string key = item, val;
    auto eq = item.find('=');
    if (eq != std::string::npos) {
      key = item.substr(0, eq);
      val = item.substr(eq + 1);
    }
    std::string opt = "-o " + key;
    if (key == "source") c.shared_dir = val;
    else if (key == "cache") return SetCache(opt, val);
    else if (key == "xattr") c.xattr = true;
    else if (key == "no_xattr") c.xattr = false;
    else if (key == "writeback") c.writeback = true;
    else if (key == "no_writeback") c.writeback = false;
    else if (key == "readdirplus") c.readdirplus = true;
    else if (key == "no_readdirplus") c.readdirplus = false;
    else if (key == "announce_submounts") c.announce_submounts = true;
    else if (key == "allow_direct_io") c.allow_direct_io = true;
    else if (key == "no_allow_direct_io") c.allow_direct_io = false;
    else if (key == "sandbox") return SetSandbox(opt, val);
    else if (key == "modcaps") return SetModcaps(val);
    else if (key == "log_level") return SetLogLevel(opt, val);
    else if (key == "flock" || key == "posix_lock" || key == "timeout" ||
             key == "xattrmap" || key == "posix_acl" || key == "security_label" ||
             key == "killpriv_v2" || key == "inode_file_handles") {
      return NotYet(opt);
    } else if (key == "no_flock" || key == "no_posix_lock" || key == "no_posix_acl" ||
               key == "no_killpriv_v2" || key == "no_security_label") {
      // These name the behaviour we already have.
    } else {
      return Fail("unknown legacy option '" + key + "' in -o");
    }
    return true;
  }
};

struct Flag {
  bool takes_value;
  std::function<bool(Parser&, const std::string& opt, const std::string& value)> apply;
};

const std::map<std::string, Flag>& Flags() {
  static const std::map<std::string, Flag> flags = {
      {"--shared-dir", {true, [](Parser& p, auto&, auto& v) { p.c.shared_dir = v; return true; }}},
      {"--socket-path", {true, [](Parser& p, auto&, auto& v) { p.c.socket_path = v; return true; }}},
      {"--socket", {true, [](Parser& p, auto&, auto& v) { p.c.socket_path = v; return true; }}},
      {"--fd", {true, [](Parser& p, auto& o, auto& v) {
         uint64_t n;
         if (!p.ParseUint(o, v, 1 << 20, &n)) return false;
         p.c.listen_fd = static_cast<int>(n);
         return true;
       }}},
      {"--socket-group", {true, [](Parser& p, auto&, auto& v) { p.c.socket_group = v; return true; }}},
      {"--tag", {true, [](Parser& p, auto& o, auto& v) {
         if (v.empty() || v.size() > 36) return p.Fail("value for " + o + " must be 1 to 36 bytes");
         p.c.tag = v;
         return true;
       }}},
      {"--cache", {true, [](Parser& p, auto& o, auto& v) { return p.SetCache(o, v); }}},
      {"--thread-pool-size", {true, [](Parser& p, auto& o, auto& v) { return p.SetThreadPool(o, v); }}},
      {"--poll-max-us", {true, [](Parser& p, auto& o, auto& v) { return p.SetPollMax(o, v); }}},
      {"--xattr", {false, [](Parser& p, auto&, auto&) { p.c.xattr = true; return true; }}},
      {"--readonly", {false, [](Parser& p, auto&, auto&) { p.c.readonly = true; return true; }}},
      {"--writeback", {false, [](Parser& p, auto&, auto&) { p.c.writeback = true; return true; }}},
      {"--allow-direct-io", {false, [](Parser& p, auto&, auto&) { p.c.allow_direct_io = true; return true; }}},
      {"--allow-mmap", {false, [](Parser& p, auto&, auto&) { p.c.allow_mmap = true; return true; }}},
      {"--no-readdirplus", {false, [](Parser& p, auto&, auto&) { p.c.readdirplus = false; return true; }}},
      {"--announce-submounts", {false, [](Parser& p, auto&, auto&) { p.c.announce_submounts = true; return true; }}},
      {"--sandbox", {true, [](Parser& p, auto& o, auto& v) { return p.SetSandbox(o, v); }}},
      {"--seccomp", {true, [](Parser& p, auto& o, auto& v) { return p.SetSeccomp(o, v); }}},
      {"--modcaps", {true, [](Parser& p, auto&, auto& v) { return p.SetModcaps(v); }}},
      {"--log-level", {true, [](Parser& p, auto& o, auto& v) { return p.SetLogLevel(o, v); }}},
      {"--syslog", {false, [](Parser& p, auto&, auto&) { p.c.syslog = true; return true; }}},
      {"--rlimit-nofile", {true, [](Parser& p, auto& o, auto& v) {
         uint64_t n;
         if (!p.ParseUint(o, v, UINT64_MAX, &n)) return false;
         p.c.rlimit_nofile = n;
         return true;
       }}},
      {"--print-capabilities", {false, [](Parser& p, auto&, auto&) { p.c.print_capabilities = true; return true; }}},
      {"--version", {false, [](Parser& p, auto&, auto&) { p.c.print_version = true; return true; }}},
      {"-V", {false, [](Parser& p, auto&, auto&) { p.c.print_version = true; return true; }}},
      {"--help", {false, [](Parser& p, auto&, auto&) { p.c.print_help = true; return true; }}},
      {"-h", {false, [](Parser& p, auto&, auto&) { p.c.print_help = true; return true; }}},
      // Compatibility with the C virtiofsd: -f (foreground) is our only mode.
      {"-f", {false, [](Parser&, auto&, auto&) { return true; }}},
      {"-d", {false, [](Parser& p, auto&, auto&) { p.c.log_level = log::Level::kDebug; return true; }}},
      {"--debug", {false, [](Parser& p, auto&, auto&) { p.c.log_level = log::Level::kDebug; return true; }}},
      {"-o", {true, [](Parser& p, auto&, auto& v) {
         std::stringstream ss(v);
         std::string item;
         while (std::getline(ss, item, ',')) {
           if (!item.empty() && !p.LegacyOption(item)) return false;
         }
         return true;
       }}},
  };
  return flags;
}

// Rust virtiofsd options that this version does not implement yet.
bool IsNotYetSupported(const std::string& name) {
  static const char* kNames[] = {
      "--xattrmap", "--posix-acl", "--security-label", "--inode-file-handles",
      "--killpriv-v2", "--no-killpriv-v2", "--preserve-noatime", "--uid-map", "--gid-map",
      "--translate-uid", "--translate-gid", "--migration-mode", "--migration-on-error",
      "--migration-verify-handles", "--migration-confirm-paths", "--allow-inode-file-handles",
      "--no-announce-submounts"};
  for (const char* n : kNames) {
    if (name == n) return true;
  }
  return false;
}

}  // namespace

ParseOutcome ParseCommandLine(const std::vector<std::string>& args) {
  Parser p;
  for (size_t i = 0; i < args.size(); ++i) {
    std::string arg = args[i];
    std::string name = arg, value;
    bool has_value = false;
    if (arg.rfind("--", 0) == 0) {
      auto eq = arg.find('=');
      if (eq != std::string::npos) {
        name = arg.substr(0, eq);
        value = arg.substr(eq + 1);
        has_value = true;
      }
    } else if (arg.rfind("-o", 0) == 0 && arg.size() > 2) {
      name = "-o";  // "-osource=/x" form
      value = arg.substr(2);
      has_value = true;
    }
    if (IsNotYetSupported(name)) {
      p.NotYet(name);
      break;
    }
    auto it = Flags().find(name);
    if (it == Flags().end()) {
      p.Fail(arg.rfind("-", 0) == 0 ? "unknown option '" + name + "'"
                                    : "unexpected argument '" + arg + "'");
      break;
    }
    const Flag& f = it->second;
    if (f.takes_value && !has_value) {
      if (i + 1 >= args.size()) {
        p.Fail("option '" + name + "' needs a value");
        break;
      }
      value = args[++i];
    } else if (!f.takes_value && has_value) {
      p.Fail("option '" + name + "' takes no value");
      break;
    }
    if (!f.apply(p, name, value)) break;
  }
  ParseOutcome out;
  if (p.error.empty() && !p.c.print_help && !p.c.print_version && !p.c.print_capabilities) {
    if (p.c.shared_dir.empty()) p.Fail("missing --shared-dir (or -o source=DIR)");
    else if (p.c.socket_path.empty() && !p.c.listen_fd) p.Fail("missing --socket-path or --fd");
    else if (!p.c.socket_path.empty() && p.c.listen_fd) p.Fail("--socket-path and --fd are mutually exclusive");
  }
  out.ok = p.error.empty();
  out.error = p.error;
  out.config = p.c;
  return out;
}

const char* UsageText() {
  return R"(hostshared: share a host directory with a virtual machine over virtio-fs (vhost-user)

Usage: hostshared --shared-dir DIR (--socket-path PATH | --fd FD) [options]
       hostshared --socket-path PATH -o source=DIR[,cache=...,xattr,...]

Options (values may be given as --flag VALUE or --flag=VALUE):
  --shared-dir DIR          directory to share (required)
  --socket-path PATH        vhost-user socket to listen on
  --fd FD                   already-listening socket fd to accept on
  --socket-group GROUP      group that may connect to the socket
  --tag TAG                 expose a config space with this mount tag
  --cache MODE              never|auto|always|metadata (default auto)
  --thread-pool-size N      threads for requests that may block (large READ/WRITE,
                            fsync, readdir); 0 (default): all run on the queue threads
  --poll-max-us N           busy-poll an empty request queue for up to N us before
                            sleeping, adapted to how fast requests come (default 50;
                            0: never poll)
  --xattr                   enable extended attributes
  --readonly                refuse every modification (EROFS)
  --writeback               enable the guest writeback cache
  --allow-direct-io         honour O_DIRECT from the guest
  --allow-mmap              allow shared mmap with --cache=never
  --no-readdirplus          disable READDIRPLUS
  --announce-submounts      tell the guest about submounts
  --sandbox MODE            namespace|chroot|none (default: namespace as root,
                            none otherwise)
  --seccomp MODE            kill|log|trap|none: what a system call outside the
                            allow-list does (default kill)
  --modcaps LIST            adjust the capabilities kept, e.g. -mknod:+sys_admin
  --log-level LEVEL         error|warn|info|debug|trace|off (default info)
  --syslog                  log to syslog instead of stderr
  --rlimit-nofile N         set RLIMIT_NOFILE (default: raise to the hard limit)
  --print-capabilities      print the capabilities JSON libvirt reads, then exit
  -V, --version             print the version, then exit
  -h, --help                print this help, then exit
)";
}

const char* CapabilitiesJson() {
  return "{\n  \"type\": \"fs\",\n  \"features\": [\n    \"separate-options\"\n  ]\n}\n";
}

}  // namespace hostshare::daemon
