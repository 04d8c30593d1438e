// hostshared: entry point. Start-up order: parse, check the shared dir,
// socket, resource limits, sandbox, open the share, capabilities, seccomp,
// serve.
#include <unistd.h>

#include <cstdio>
#include <cstring>
#include <string>
#include <vector>

#include "base/log.h"
#include "daemon/cli.h"
#include "daemon/listener.h"
#include "daemon/service.h"
#include "daemon/startup.h"

#ifndef HOSTSHARE_VERSION
#define HOSTSHARE_VERSION "0.1.0"
#endif

namespace hs = hostshare;

// Sanitizer builds: LeakSanitizer's exit-time check forks a tracer and
// reads /proc, neither of which the seccomp filter or the sandbox allow;
// once confined, exit without it (the in-process tests run the same code
// with leak checking).
static bool g_skip_leak_check = false;

static int Finish(int code) {
#if defined(__SANITIZE_ADDRESS__)
  if (g_skip_leak_check) {
    fflush(nullptr);
    _exit(code);
  }
#endif
  return code;
}

static int Die(const std::string& line, int code = 1) {
  fprintf(stderr, "hostshared: %s\n", line.c_str());
  return code;
}

int main(int argc, char** argv) {
  std::vector<std::string> args(argv + 1, argv + argc);
  hs::daemon::ParseOutcome parsed = hs::daemon::ParseCommandLine(args);
  if (!parsed.ok) return Die(parsed.error + " (see --help)", 2);
  hs::daemon::Config config = parsed.config;
  if (config.print_help) {
    fputs(hs::daemon::UsageText(), stdout);
    return 0;
  }
  if (config.print_version) {
    printf("hostshared %s\n", HOSTSHARE_VERSION);
    return 0;
  }
  if (config.print_capabilities) {
    fputs(hs::daemon::CapabilitiesJson(), stdout);
    return 0;
  }
  // Nothing opened by whoever started us may be carried into the sandbox.
  int inherited = hs::sandbox::CloseInheritedFds(config.listen_fd.value_or(-1));
  hs::log::SetLevel(config.log_level);
  hs::log::UseSyslog(config.syslog);
  hs::daemon::SetUpSignals();

  if (inherited > 0) LOG_DEBUG("closed %d inherited file descriptors", inherited);
  std::string error;
  if (!hs::daemon::ResolveSharedDir(&config, &error)) return Die(error);
  namespace sb = hs::sandbox;
  const sb::Plan plan =
      sb::PlanSandbox(config.sandbox, sb::CurrentEnvironment(config.shared_dir));
  if (!plan.error.empty()) return Die(plan.error, 2);

  // 1. The socket, while the host's paths (and --socket-group) are reachable.
  std::optional<hs::daemon::Listener> listener =
      config.listen_fd ? hs::daemon::Listener::FromFd(*config.listen_fd, &error)
                       : hs::daemon::Listener::Bind(config.socket_path, config.socket_group, &error);
  if (!listener) return Die(error);
  // Inside the sandbox the socket path leads elsewhere (or nowhere): only
  // the namespace parent, outside, removes the file (sandbox::Enter).
  bool path_reachable = true;
  auto fail = [&](const std::string& line) {
    if (path_reachable) listener->Unlink();
    return Die(line);
  };
  if (!hs::daemon::ApplyFileLimit(config, &error)) return fail(error);

  // 2. The sandbox. In namespace mode this forks; the parent drops every
  // capability, installs its own seccomp list (same --seccomp mode) and
  // stays in Enter() until the daemon exits, then removes the socket file.
  for (const std::string& note : plan.notes) LOG_INFO("%s", note.c_str());
  std::optional<sb::Confined> confined =
      sb::Enter(plan, config.shared_dir, {listener->fd()}, [&] { listener->Unlink(); },
                config.seccomp, &error);
  path_reachable = plan.mode == sb::Mode::kNone;
  if (!confined) return fail(error);
  if (plan.mode == sb::Mode::kNamespace) listener->LeaveFilesToParent();
  hs::daemon::Config inside = config;
  inside.shared_dir = confined->root;
  std::unique_ptr<hs::daemon::Service> service =
      hs::daemon::Service::Create(inside, &error, std::move(confined->proc_self_fd));
  if (!service) return fail(error);

  // 3. Capabilities: the minimum the passthrough needs (before any thread).
  std::string caps = "unchanged (none held)";
  if (plan.drop_capabilities) {
    std::vector<int> keep = sb::ApplyModcaps(sb::DefaultCapabilities(), config.modcaps);
    if (!sb::DropCapabilities(keep, &error)) return fail(error);
    caps = sb::CapabilityList(keep);
  } else if (!config.modcaps.empty()) {
    LOG_INFO("--modcaps ignored: the daemon holds no capabilities");
  }

  // 4. Seccomp, for every thread to come.
  if (!sb::InstallSeccomp(config.seccomp, &error)) return fail(error);
  g_skip_leak_check = config.seccomp != hs::daemon::Seccomp::kNone || plan.mode != sb::Mode::kNone;

  // 5. Serve.
  LOG_INFO("sharing %s; sandbox=%s seccomp=%s capabilities=%s; waiting for a frontend on %s",
           config.shared_dir.c_str(), sb::ModeName(plan.mode),
           sb::SeccompActionName(config.seccomp), caps.c_str(),
           config.listen_fd ? ("fd " + std::to_string(*config.listen_fd)).c_str()
                            : config.socket_path.c_str());
  auto conn = listener->Accept();
  // One frontend at a time: nobody else may connect from now on.
  listener->Close();
  if (path_reachable) listener->Unlink();
  else confined->AskParentToRemoveSocket();  // chroot: the stale file is replaced at the next start
  if (!conn.ok()) return Finish(Die(std::string("accept failed: ") + strerror(conn.error())));
  LOG_INFO("frontend connected");
  hs::Status st = service->Serve(std::move(*conn));
  if (!st.ok()) return Finish(1);
  LOG_INFO("exiting");
  return Finish(0);
}
