#include "daemon/cli.h"

#include <gtest/gtest.h>
#include <linux/capability.h>

namespace hostshare::daemon {
namespace {

ParseOutcome Parse(std::vector<std::string> args) { return ParseCommandLine(args); }

TEST(CliTest, RustStyleFlagsBothForms) {
  auto out = Parse({"--shared-dir=/tmp", "--socket-path", "/run/s.sock", "--cache", "never",
                    "--xattr", "--readonly", "--writeback", "--allow-direct-io", "--allow-mmap",
                    "--no-readdirplus", "--announce-submounts", "--log-level=debug", "--syslog",
                    "--rlimit-nofile=4096", "--tag=myfs", "--thread-pool-size=0",
                    "--sandbox=none", "--seccomp", "none", "--socket-group=root"});
  ASSERT_TRUE(out.ok) << out.error;
  const Config& c = out.config;
  EXPECT_EQ(c.shared_dir, "/tmp");
  EXPECT_EQ(c.socket_path, "/run/s.sock");
  EXPECT_EQ(c.cache, Cache::kNever);
  EXPECT_TRUE(c.xattr && c.readonly && c.writeback && c.allow_direct_io && c.allow_mmap);
  EXPECT_FALSE(c.readdirplus);
  EXPECT_TRUE(c.announce_submounts);
  EXPECT_EQ(c.log_level, log::Level::kDebug);
  EXPECT_TRUE(c.syslog);
  EXPECT_EQ(c.rlimit_nofile.value(), 4096u);
  EXPECT_EQ(c.tag, "myfs");
  EXPECT_EQ(c.socket_group.value(), "root");
}

TEST(CliTest, LegacyDashO) {
  auto out = Parse({"--socket-path=/s", "-o", "source=/srv,cache=none,xattr,no_posix_lock",
                    "-osandbox=none"});
  ASSERT_TRUE(out.ok) << out.error;
  EXPECT_EQ(out.config.shared_dir, "/srv");
  EXPECT_EQ(out.config.cache, Cache::kNever);
  EXPECT_TRUE(out.config.xattr);
}

TEST(CliTest, FdInsteadOfSocket) {
  auto out = Parse({"--shared-dir", "/x", "--fd", "3"});
  ASSERT_TRUE(out.ok) << out.error;
  EXPECT_EQ(out.config.listen_fd.value(), 3);
}

TEST(CliTest, ErrorsAreOneLine) {
  struct Case {
    std::vector<std::string> args;
    const char* expect;
  } cases[] = {
      {{"--bogus"}, "unknown option '--bogus'"},
      {{"--shared-dir=/x"}, "missing --socket-path"},
      {{"--socket-path=/s"}, "missing --shared-dir"},
      {{"--shared-dir=/x", "--socket-path=/s", "--fd=3"}, "mutually exclusive"},
      {{"--shared-dir=/x", "--socket-path=/s", "--cache=sometimes"}, "invalid value 'sometimes'"},
      {{"--shared-dir=/x", "--socket-path"}, "needs a value"},
      {{"--shared-dir=/x", "--socket-path=/s", "--xattr=1"}, "takes no value"},
      {{"--shared-dir=/x", "--socket-path=/s", "--log-level=loud"}, "invalid value 'loud'"},
      {{"--shared-dir=/x", "--socket-path=/s", "--rlimit-nofile=-1"}, "expected a number"},
      {{"--shared-dir=/x", "--socket-path=/s", "--tag="}, "1 to 36 bytes"},
      {{"--shared-dir=/x", "--socket-path=/s", "stray"}, "unexpected argument 'stray'"},
      {{"--socket-path=/s", "-o", "source=/x,frobnicate"}, "unknown legacy option 'frobnicate'"},
  };
  for (const auto& c : cases) {
    auto out = Parse(c.args);
    EXPECT_FALSE(out.ok);
    EXPECT_NE(out.error.find(c.expect), std::string::npos) << out.error;
    EXPECT_EQ(out.error.find('\n'), std::string::npos);
  }
}

TEST(CliTest, ThreadPoolSize) {
  auto out = Parse({"--shared-dir=/x", "--socket-path=/s", "--thread-pool-size=8"});
  ASSERT_TRUE(out.ok) << out.error;
  EXPECT_EQ(out.config.thread_pool_size, 8u);
  out = Parse({"--shared-dir=/x", "--socket-path=/s", "--thread-pool-size", "0"});
  ASSERT_TRUE(out.ok) << out.error;
  EXPECT_EQ(out.config.thread_pool_size, 0u);
  EXPECT_FALSE(Parse({"--shared-dir=/x", "--socket-path=/s", "--thread-pool-size=1025"}).ok);
}

TEST(CliTest, PollMaxUs) {
  auto out = Parse({"--shared-dir=/x", "--socket-path=/s"});
  ASSERT_TRUE(out.ok) << out.error;
  EXPECT_EQ(out.config.poll_max_us, kDefaultPollMaxUs);
  out = Parse({"--shared-dir=/x", "--socket-path=/s", "--poll-max-us=0"});
  ASSERT_TRUE(out.ok) << out.error;
  EXPECT_EQ(out.config.poll_max_us, 0u);
  out = Parse({"--shared-dir=/x", "--socket-path=/s", "--poll-max-us", "200"});
  ASSERT_TRUE(out.ok) << out.error;
  EXPECT_EQ(out.config.poll_max_us, 200u);
  out = Parse({"--shared-dir=/x", "--socket-path=/s", "--poll-max-us=fast"});
  EXPECT_FALSE(out.ok);
  EXPECT_NE(out.error.find("--poll-max-us"), std::string::npos) << out.error;
  EXPECT_FALSE(Parse({"--shared-dir=/x", "--socket-path=/s", "--poll-max-us=1000001"}).ok);
}

TEST(CliTest, UnimplementedOptionsAreRejectedNotIgnored) {
  for (std::vector<std::string> args : std::vector<std::vector<std::string>>{
           {"--socket-path=/s", "-o", "source=/x,flock"}}) {
    auto out = Parse(args);
    EXPECT_FALSE(out.ok);
    EXPECT_NE(out.error.find("not yet supported"), std::string::npos) << out.error;
  }
}

TEST(CliTest, SandboxSeccompModcaps) {
  auto def = Parse({"--shared-dir=/x", "--socket-path=/s"});
  ASSERT_TRUE(def.ok) << def.error;
  EXPECT_FALSE(def.config.sandbox.has_value());  // namespace as root, none otherwise
  EXPECT_EQ(def.config.seccomp, Seccomp::kKill);
  EXPECT_TRUE(def.config.modcaps.empty());

  const std::pair<const char*, Sandbox> sandboxes[] = {
      {"namespace", Sandbox::kNamespace}, {"chroot", Sandbox::kChroot}, {"none", Sandbox::kNone}};
  for (const auto& [name, mode] : sandboxes) {
    auto out = Parse({"--shared-dir=/x", "--socket-path=/s", std::string("--sandbox=") + name});
    ASSERT_TRUE(out.ok) << out.error;
    EXPECT_EQ(out.config.sandbox, mode);
    out = Parse({"--socket-path=/s", "-o", std::string("source=/x,sandbox=") + name});
    ASSERT_TRUE(out.ok) << out.error;
    EXPECT_EQ(out.config.sandbox, mode);
  }
  const std::pair<const char*, Seccomp> actions[] = {{"kill", Seccomp::kKill},
                                                     {"log", Seccomp::kLog},
                                                     {"trap", Seccomp::kTrap},
                                                     {"none", Seccomp::kNone}};
  for (const auto& [name, action] : actions) {
    auto out = Parse({"--shared-dir=/x", "--socket-path=/s", "--seccomp", name});
    ASSERT_TRUE(out.ok) << out.error;
    EXPECT_EQ(out.config.seccomp, action);
  }

  auto caps = Parse({"--shared-dir=/x", "--socket-path=/s", "--modcaps=-mknod:+sys_admin",
                     "--modcaps", "-setfcap"});
  ASSERT_TRUE(caps.ok) << caps.error;
  EXPECT_EQ(caps.config.modcaps,
            (std::vector<sandbox::CapChange>{{false, CAP_MKNOD}, {true, CAP_SYS_ADMIN}, {false, CAP_SETFCAP}}));
  auto legacy = Parse({"--socket-path=/s", "-o", "source=/x,modcaps=+sys_admin:-chown"});
  ASSERT_TRUE(legacy.ok) << legacy.error;
  EXPECT_EQ(legacy.config.modcaps.size(), 2u);

  for (std::vector<std::string> args : std::vector<std::vector<std::string>>{
           {"--shared-dir=/x", "--socket-path=/s", "--sandbox=jail"},
           {"--shared-dir=/x", "--socket-path=/s", "--seccomp=errno"},
           {"--shared-dir=/x", "--socket-path=/s", "--modcaps=mknod"},
           {"--shared-dir=/x", "--socket-path=/s", "--modcaps=+frobnicate"},
           {"--shared-dir=/x", "--socket-path=/s", "--modcaps="}}) {
    auto out = Parse(args);
    EXPECT_FALSE(out.ok) << args.back();
    EXPECT_EQ(out.error.find("not yet supported"), std::string::npos) << out.error;
    EXPECT_EQ(out.error.find('\n'), std::string::npos);
  }
}

TEST(CliTest, InformationalFlagsNeedNoDirectory) {
  EXPECT_TRUE(Parse({"--print-capabilities"}).config.print_capabilities);
  EXPECT_TRUE(Parse({"-V"}).config.print_version);
  EXPECT_TRUE(Parse({"--help"}).ok);
  EXPECT_NE(std::string(CapabilitiesJson()).find("\"type\": \"fs\""), std::string::npos);
}

}  // namespace
}  // namespace hostshare::daemon
