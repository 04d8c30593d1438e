// hostshared: entry point. Start-up order: parse, check the shared dir,
// socket, resource limits, (sandbox, capabilities, seccomp: later), serve.
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
  hs::log::SetLevel(config.log_level);
  hs::log::UseSyslog(config.syslog);
  hs::daemon::SetUpSignals();

  std::string error;
  if (!hs::daemon::ResolveSharedDir(&config, &error)) return Die(error);
  std::optional<hs::daemon::Listener> listener =
      config.listen_fd ? hs::daemon::Listener::FromFd(*config.listen_fd, &error)
                       : hs::daemon::Listener::Bind(config.socket_path, config.socket_group, &error);
  if (!listener) return Die(error);
  if (!hs::daemon::ApplyFileLimit(config, &error)) {
    listener->Unlink();
    return Die(error);
  }
  std::unique_ptr<hs::daemon::Service> service = hs::daemon::Service::Create(config, &error);
  if (!service) {
    listener->Unlink();
    return Die(error);
  }
  LOG_INFO("sharing %s; waiting for a frontend on %s", config.shared_dir.c_str(),
           config.listen_fd ? ("fd " + std::to_string(*config.listen_fd)).c_str()
                            : config.socket_path.c_str());
  auto conn = listener->Accept();
  // One frontend at a time: nobody else may connect from now on.
  listener->Unlink();
  if (!conn.ok()) return Die(std::string("accept failed: ") + strerror(conn.error()));
  LOG_INFO("frontend connected");
  hs::Status st = service->Serve(std::move(*conn));
  if (!st.ok()) return 1;
  LOG_INFO("exiting");
  return 0;
}
