#include "daemon/cli.h"

#include <gtest/gtest.h>

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

TEST(CliTest, UnimplementedOptionsAreRejectedNotIgnored) {
  for (std::vector<std::string> args : std::vector<std::vector<std::string>>{
           {"--shared-dir=/x", "--socket-path=/s", "--sandbox=namespace"},
           {"--shared-dir=/x", "--socket-path=/s", "--seccomp=kill"},
           {"--shared-dir=/x", "--socket-path=/s", "--modcaps=-mknod"},
           {"--shared-dir=/x", "--socket-path=/s", "--thread-pool-size=8"},
           {"--socket-path=/s", "-o", "source=/x,flock"}}) {
    auto out = Parse(args);
    EXPECT_FALSE(out.ok);
    EXPECT_NE(out.error.find("not yet supported"), std::string::npos) << out.error;
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
