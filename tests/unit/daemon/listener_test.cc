// Listener: stale socket and pid file handling at --socket-path.
#include "daemon/listener.h"

#include <gtest/gtest.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <cstdlib>
#include <fstream>
#include <string>

namespace hostshare::daemon {
namespace {

class ListenerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/listener_test.XXXXXX";
    ASSERT_NE(mkdtemp(tmpl), nullptr);
    dir_ = tmpl;
    sock_ = dir_ + "/s.sock";
  }
  void TearDown() override { (void)system(("rm -rf " + dir_).c_str()); }
  std::string ReadPidFile() {
    std::ifstream f(sock_ + ".pid");
    std::string s;
    std::getline(f, s);
    return s;
  }
  std::string dir_, sock_;
};

TEST_F(ListenerTest, WritesAndRemovesThePidFile) {
  std::string error;
  auto l = Listener::Bind(sock_, std::nullopt, &error);
  ASSERT_TRUE(l) << error;
  EXPECT_EQ(ReadPidFile(), std::to_string(getpid()));
  l->Unlink();
  struct stat st;
  EXPECT_NE(lstat(sock_.c_str(), &st), 0);
  EXPECT_NE(lstat((sock_ + ".pid").c_str(), &st), 0);
}

TEST_F(ListenerTest, SecondDaemonOnTheSamePathIsRefused) {
  std::string error;
  auto first = Listener::Bind(sock_, std::nullopt, &error);
  ASSERT_TRUE(first) << error;
  // flock locks belong to the open file description: a second open (as a
  // second daemon would do) does not get the lock.
  auto second = Listener::Bind(sock_, std::nullopt, &error);
  EXPECT_FALSE(second);
  EXPECT_NE(error.find("in use"), std::string::npos) << error;
  EXPECT_NE(error.find(std::to_string(getpid())), std::string::npos) << error;
}

TEST_F(ListenerTest, StaleSocketAndPidFileAreTakenOver) {
  // What a daemon killed with SIGKILL leaves: a socket nobody listens on and
  // a pid file nobody holds locked.
  int s = socket(AF_UNIX, SOCK_STREAM, 0);
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  snprintf(addr.sun_path, sizeof(addr.sun_path), "%s", sock_.c_str());
  ASSERT_EQ(bind(s, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)), 0);
  close(s);
  std::ofstream(sock_ + ".pid") << "999999\n";
  std::string error;
  auto l = Listener::Bind(sock_, std::nullopt, &error);
  ASSERT_TRUE(l) << error;
  EXPECT_EQ(ReadPidFile(), std::to_string(getpid()));
}

}  // namespace
}  // namespace hostshare::daemon
