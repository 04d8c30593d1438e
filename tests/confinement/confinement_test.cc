// The real hostshared binary, started in its sandbox, driven by the
// in-process FakeFrontend + FuseClient over its Unix socket: requests work,
// and from outside the daemon is seen confined: its root is the share, its
// capabilities are the reduced set, every thread has seccomp mode 2, it
// lives in its own mount/pid/net namespaces, its socket file is gone once a
// frontend connected, and it exits 0 when the frontend disconnects.
//
// Needs root (namespaces, chroot); skipped otherwise. The unprivileged
// cases run the daemon as "nobody".
#include <fcntl.h>
#include <grp.h>
#include <gtest/gtest.h>
#include <linux/capability.h>
#include <linux/fuse.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <thread>

#include "sandbox/capabilities.h"
#include "support/fake_frontend.h"
#include "support/fake_guest_memory.h"
#include "support/fuse_client.h"

#ifndef HOSTSHARED_BIN
#error "HOSTSHARED_BIN must name the hostshared binary"
#endif

namespace hostshare {
namespace {

namespace fsys = std::filesystem;
using fake::FakeFrontend;
using fake::FakeGuestMemory;
using fake::FuseClient;
constexpr uid_t kNobody = 65534;

std::string ReadFile(const fsys::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// "Name:\tvalue" of /proc/<pid>/status.
std::string StatusField(pid_t pid, const std::string& name) {
  std::istringstream in(ReadFile("/proc/" + std::to_string(pid) + "/status"));
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind(name + ":", 0) == 0) {
      size_t v = line.find_first_not_of(" \t", name.size() + 1);
      return v == std::string::npos ? "" : line.substr(v);
    }
  }
  return "";
}

uint64_t HexField(pid_t pid, const std::string& name) {
  return std::stoull(StatusField(pid, name), nullptr, 16);
}

std::string NsOf(const std::string& pid, const char* ns) {
  std::error_code ec;
  return fsys::read_symlink("/proc/" + pid + "/ns/" + ns, ec).string();
}

class ConfinementTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (geteuid() != 0) GTEST_SKIP() << "needs root";
    char tmpl[] = "/tmp/hostshare-conf-XXXXXX";
    ASSERT_NE(mkdtemp(tmpl), nullptr);
    dir_ = tmpl;
    share_ = dir_ / "share";
    fsys::create_directory(share_);
    std::ofstream(share_ / "hello.txt") << "hello from the host\n";
    std::ofstream(dir_ / "outside.txt") << "secret\n";
    sock_ = (dir_ / "vhost.sock").string();
    log_ = (dir_ / "daemon.log").string();
  }
  void TearDown() override {
    fc_.reset();
    fe_.reset();
    if (pid_ > 0) {
      kill(pid_, SIGKILL);
      waitpid(pid_, nullptr, 0);
    }
    std::error_code ec;
    if (!dir_.empty()) fsys::remove_all(dir_, ec);
  }

  // Starts the daemon (as `uid` when not root) and waits for its socket.
  void Start(std::vector<std::string> extra, uid_t uid = 0) {
    std::vector<std::string> args = {HOSTSHARED_BIN, "--socket-path=" + sock_,
                                     "--shared-dir=" + share_.string(), "--log-level=debug"};
    args.insert(args.end(), extra.begin(), extra.end());
    fflush(nullptr);
    pid_ = fork();
    ASSERT_GE(pid_, 0);
    if (pid_ == 0) {
      int log = open(log_.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0666);
      dup2(log, STDOUT_FILENO);
      dup2(log, STDERR_FILENO);
      if (uid != 0 && (setgroups(0, nullptr) != 0 || setgid(uid) != 0 || setuid(uid) != 0)) {
        _exit(120);
      }
      std::vector<char*> argv;
      for (auto& a : args) argv.push_back(a.data());
      argv.push_back(nullptr);
      execv(argv[0], argv.data());
      _exit(121);
    }
    for (int i = 0; i < 200; ++i) {
      struct stat st;
      if (lstat(sock_.c_str(), &st) == 0 && S_ISSOCK(st.st_mode)) return;
      int status;
      if (waitpid(pid_, &status, WNOHANG) == pid_) {
        pid_ = -1;
        FAIL() << "daemon exited early (status " << status << "):\n" << ReadFile(log_);
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    FAIL() << "no socket after 10 s:\n" << ReadFile(log_);
  }

  // Connects the fake frontend, negotiates, starts the queues, FUSE INIT.
  void Connect() {
    ASSERT_TRUE(fmem_.ok());
    int s = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    ASSERT_GE(s, 0);
    sockaddr_un addr{};
    addr.sun_family = AF_UNIX;
    snprintf(addr.sun_path, sizeof(addr.sun_path), "%s", sock_.c_str());
    // The file appears at bind(), a moment before listen().
    int rc = -1;
    for (int i = 0; i < 100; ++i) {
      rc = connect(s, reinterpret_cast<sockaddr*>(&addr), sizeof(addr));
      if (rc == 0 || errno != ECONNREFUSED) break;
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    ASSERT_EQ(rc, 0) << strerror(errno) << "\n" << ReadFile(log_);
    fake::FrontendOptions o;
    o.timeout_ms = 10000;
    fe_ = std::make_unique<FakeFrontend>(ScopedFd(s), fmem_, o);
    ASSERT_TRUE(fe_->ok());
    Status hs = fe_->Handshake();
    ASSERT_TRUE(hs.ok()) << strerror(hs.error()) << "\n" << ReadFile(log_);
    fc_ = std::make_unique<FuseClient>(*fe_);
    auto init = fc_->Init();
    ASSERT_TRUE(init.ok()) << strerror(init.error()) << "\n" << ReadFile(log_);
  }

  // The process that serves: the namespace child, or the daemon itself.
  pid_t Server() {
    std::string kids = ReadFile("/proc/" + std::to_string(pid_) + "/task/" +
                                std::to_string(pid_) + "/children");
    return kids.empty() ? pid_ : static_cast<pid_t>(std::stoi(kids));
  }

  // CREATE + WRITE + READ + LOOKUP through the daemon, checked on the host.
  void ExerciseFiles() {
    auto hello = fc_->Lookup(FUSE_ROOT_ID, "hello.txt");
    ASSERT_TRUE(hello.ok()) << strerror(hello.error()) << "\n" << ReadFile(log_);
    EXPECT_EQ(hello->attr.size, 20u);
    auto created = fc_->Create(FUSE_ROOT_ID, "new.txt", 0640);
    ASSERT_TRUE(created.ok()) << strerror(created.error()) << "\n" << ReadFile(log_);
    std::vector<uint8_t> data(100000);
    for (size_t i = 0; i < data.size(); ++i) data[i] = static_cast<uint8_t>(i * 7);
    auto w = fc_->Write(created->entry.nodeid, created->open.fh, 0, data);
    ASSERT_TRUE(w.ok()) << strerror(w.error());
    EXPECT_EQ(*w, data.size());
    auto r = fc_->Read(created->entry.nodeid, created->open.fh, 0, 100000);
    ASSERT_TRUE(r.ok()) << strerror(r.error());
    EXPECT_EQ(*r, data);
    ASSERT_TRUE(fc_->Release(created->entry.nodeid, created->open.fh).ok());
    std::string host = ReadFile(share_ / "new.txt");
    ASSERT_EQ(host.size(), data.size());
    EXPECT_EQ(0, memcmp(host.data(), data.data(), data.size()));
    auto dh = fc_->OpenDir(FUSE_ROOT_ID);
    ASSERT_TRUE(dh.ok());
    auto entries = fc_->ReadDirPlus(FUSE_ROOT_ID, dh->fh);
    ASSERT_TRUE(entries.ok()) << strerror(entries.error());
    size_t names = 0;
    for (const auto& e : *entries) names += e.name == "hello.txt" || e.name == "new.txt";
    EXPECT_EQ(names, 2u);
    ASSERT_TRUE(fc_->ReleaseDir(FUSE_ROOT_ID, dh->fh).ok());
    EXPECT_EQ(ReadFile(dir_ / "outside.txt"), "secret\n");
  }

  void ExpectRootIsShare(pid_t server) {
    struct stat root_st, share_st;
    ASSERT_EQ(stat(("/proc/" + std::to_string(server) + "/root").c_str(), &root_st), 0);
    ASSERT_EQ(stat(share_.c_str(), &share_st), 0);
    EXPECT_EQ(root_st.st_dev, share_st.st_dev);
    EXPECT_EQ(root_st.st_ino, share_st.st_ino);
  }

  // Every thread (the queue workers too): seccomp filter mode, no_new_privs,
  // and capabilities `caps` in every set but the inheritable and ambient.
  void ExpectLockedDown(pid_t server, uint64_t caps) {
    size_t threads = 0;
    for (const auto& t : fsys::directory_iterator("/proc/" + std::to_string(server) + "/task")) {
      pid_t tid = static_cast<pid_t>(std::stoi(t.path().filename().string()));
      ++threads;
      EXPECT_EQ(StatusField(tid, "Seccomp"), "2") << "thread " << tid;
      EXPECT_EQ(StatusField(tid, "NoNewPrivs"), "1") << "thread " << tid;
      EXPECT_EQ(HexField(tid, "CapEff"), caps) << "thread " << tid;
      EXPECT_EQ(HexField(tid, "CapPrm"), caps) << "thread " << tid;
      EXPECT_EQ(HexField(tid, "CapInh"), 0u) << "thread " << tid;
      EXPECT_EQ(HexField(tid, "CapAmb"), 0u) << "thread " << tid;
    }
    EXPECT_GE(threads, 3u);  // main + one worker per queue
  }

  // The daemon's wait status, once it exited (pid_ is then -1); -1 if it
  // still runs after 10 s.
  int WaitForExit() {
    int status = -1;
    for (int i = 0; i < 200 && pid_ > 0; ++i) {
      if (waitpid(pid_, &status, WNOHANG) == pid_) pid_ = -1;
      else std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    return status;
  }

  // Frontend gone: the daemon must exit 0, and its socket file is gone.
  void ExpectCleanExit() {
    fc_.reset();
    fe_->Close();
    int status = WaitForExit();
    ASSERT_EQ(pid_, -1) << "daemon still running 10 s after the frontend left";
    EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0)
        << "status " << status << "\n" << ReadFile(log_);
  }

  bool SocketGone() {
    for (int i = 0; i < 100; ++i) {
      if (!fsys::exists(fsys::symlink_status(sock_))) return true;
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    return false;
  }

  fsys::path dir_, share_;
  std::string sock_, log_;
  pid_t pid_ = -1;
  FakeGuestMemory fmem_;
  std::unique_ptr<FakeFrontend> fe_;
  std::unique_ptr<FuseClient> fc_;
};

TEST_F(ConfinementTest, NamespaceSandboxWithSeccompKill) {
  ASSERT_NO_FATAL_FAILURE(Start({"--sandbox=namespace", "--seccomp=kill"}));
  ASSERT_NO_FATAL_FAILURE(Connect());
  ASSERT_NO_FATAL_FAILURE(ExerciseFiles());
  pid_t server = Server();
  ASSERT_NE(server, pid_) << "no sandboxed child";
  ASSERT_NO_FATAL_FAILURE(ExpectRootIsShare(server));
  ASSERT_NO_FATAL_FAILURE(ExpectLockedDown(server, sandbox::CapabilityMask(sandbox::DefaultCapabilities())));
  EXPECT_EQ(HexField(server, "CapBnd"), sandbox::CapabilityMask(sandbox::DefaultCapabilities()));
  const std::string s = std::to_string(server);
  for (const char* ns : {"mnt", "pid", "net"}) {
    EXPECT_NE(NsOf(s, ns), NsOf("self", ns)) << ns;
  }
  EXPECT_EQ(StatusField(server, "NSpid").substr(StatusField(server, "NSpid").rfind('\t') + 1),
            "1");
  // Nothing of the host reachable through its fds: only the share's
  // nodes, sockets, pipes, eventfds and guest memory (memfd).
  for (const auto& fd : fsys::directory_iterator("/proc/" + s + "/fd")) {
    if (std::stoi(fd.path().filename().string()) <= 2) continue;  // stdio: the test's log file
    std::error_code ec;
    std::string target = fsys::read_symlink(fd.path(), ec).string();
    EXPECT_EQ(target.find(dir_.string()), std::string::npos) << fd.path() << " -> " << target;
  }
  EXPECT_TRUE(SocketGone()) << "socket file left after the frontend connected";
  ASSERT_NO_FATAL_FAILURE(ExpectCleanExit());
}

TEST_F(ConfinementTest, DefaultsAsRootAreNamespaceAndSeccompKill) {
  ASSERT_NO_FATAL_FAILURE(Start({}));
  ASSERT_NO_FATAL_FAILURE(Connect());
  ASSERT_NO_FATAL_FAILURE(ExerciseFiles());
  pid_t server = Server();
  ASSERT_NE(server, pid_);
  ASSERT_NO_FATAL_FAILURE(ExpectRootIsShare(server));
  ASSERT_NO_FATAL_FAILURE(ExpectLockedDown(server, sandbox::CapabilityMask(sandbox::DefaultCapabilities())));
  ASSERT_NO_FATAL_FAILURE(ExpectCleanExit());
  EXPECT_NE(ReadFile(log_).find("sandbox=namespace seccomp=kill"), std::string::npos);
}

TEST_F(ConfinementTest, ChrootSandbox) {
  ASSERT_NO_FATAL_FAILURE(Start({"--sandbox=chroot", "--seccomp=kill"}));
  ASSERT_NO_FATAL_FAILURE(Connect());
  ASSERT_NO_FATAL_FAILURE(ExerciseFiles());
  pid_t server = Server();
  EXPECT_EQ(server, pid_);  // no fork
  ASSERT_NO_FATAL_FAILURE(ExpectRootIsShare(server));
  ASSERT_NO_FATAL_FAILURE(ExpectLockedDown(server, sandbox::CapabilityMask(sandbox::DefaultCapabilities())));
  ASSERT_NO_FATAL_FAILURE(ExpectCleanExit());
}

TEST_F(ConfinementTest, ModcapsAdjustTheSet) {
  ASSERT_NO_FATAL_FAILURE(Start({"--modcaps=-mknod:-setfcap:+sys_admin"}));
  ASSERT_NO_FATAL_FAILURE(Connect());
  ASSERT_NO_FATAL_FAILURE(ExerciseFiles());
  uint64_t want = (sandbox::CapabilityMask(sandbox::DefaultCapabilities()) &
                   ~((1ull << CAP_MKNOD) | (1ull << CAP_SETFCAP))) |
                  (1ull << CAP_SYS_ADMIN);
  ASSERT_NO_FATAL_FAILURE(ExpectLockedDown(Server(), want));
  ASSERT_NO_FATAL_FAILURE(ExpectCleanExit());
}

TEST_F(ConfinementTest, TerminationSignalReachesTheSandboxedChild) {
  ASSERT_NO_FATAL_FAILURE(Start({}));
  ASSERT_NO_FATAL_FAILURE(Connect());
  pid_t server = Server();
  ASSERT_NE(server, pid_);
  ASSERT_EQ(kill(pid_, SIGTERM), 0);
  int status = WaitForExit();
  ASSERT_EQ(pid_, -1);
  EXPECT_TRUE(WIFSIGNALED(status) && WTERMSIG(status) == SIGTERM) << status;
  EXPECT_FALSE(fsys::exists("/proc/" + std::to_string(server)));
}

// The parent outside the pid namespace only waits and forwards: it holds
// no capability in any set, has no_new_privs and its own seccomp filter,
// and still removes the socket file and exits with the child's status.
TEST_F(ConfinementTest, NamespaceParentHoldsNothing) {
  ASSERT_NO_FATAL_FAILURE(Start({"--sandbox=namespace", "--seccomp=kill"}));
  ASSERT_NO_FATAL_FAILURE(Connect());
  ASSERT_NE(Server(), pid_) << "no sandboxed child";
  EXPECT_EQ(StatusField(pid_, "Seccomp"), "2");
  EXPECT_EQ(StatusField(pid_, "NoNewPrivs"), "1");
  for (const char* set : {"CapEff", "CapPrm", "CapInh", "CapAmb", "CapBnd"}) {
    EXPECT_EQ(HexField(pid_, set), 0u) << set;
  }
  ASSERT_NO_FATAL_FAILURE(ExerciseFiles());
  EXPECT_TRUE(SocketGone()) << "the parent did not remove the socket file";
  ASSERT_NO_FATAL_FAILURE(ExpectCleanExit());
  EXPECT_EQ(ReadFile(log_).find("SIGSYS"), std::string::npos) << ReadFile(log_);
}

// --seccomp=trap names any call outside either list (the child's or the
// parent's): a whole session, socket removal and exit included, names none.
TEST_F(ConfinementTest, NamespaceParentAndChildMakeNoCallOutsideTheirLists) {
  ASSERT_NO_FATAL_FAILURE(Start({"--seccomp=trap"}));
  ASSERT_NO_FATAL_FAILURE(Connect());
  EXPECT_EQ(StatusField(pid_, "Seccomp"), "2");
  ASSERT_NO_FATAL_FAILURE(ExerciseFiles());
  EXPECT_TRUE(SocketGone());
  ASSERT_NO_FATAL_FAILURE(ExpectCleanExit());
  EXPECT_EQ(ReadFile(log_).find("blocked system call"), std::string::npos) << ReadFile(log_);
}

TEST_F(ConfinementTest, NamespaceParentWithSeccompNone) {
  ASSERT_NO_FATAL_FAILURE(Start({"--seccomp=none"}));
  ASSERT_NO_FATAL_FAILURE(Connect());
  EXPECT_EQ(StatusField(pid_, "Seccomp"), "0");
  EXPECT_EQ(StatusField(pid_, "NoNewPrivs"), "1");
  EXPECT_EQ(HexField(pid_, "CapEff"), 0u);
  EXPECT_EQ(HexField(pid_, "CapPrm"), 0u);
  ASSERT_NO_FATAL_FAILURE(ExerciseFiles());
  ASSERT_NO_FATAL_FAILURE(ExpectCleanExit());
}

// A failing child (a malformed vhost-user message ends the session with an
// error): the parent exits with the same non-zero status.
TEST_F(ConfinementTest, NamespaceParentExitsWithTheChildsStatus) {
  ASSERT_NO_FATAL_FAILURE(Start({}));
  ASSERT_NO_FATAL_FAILURE(Connect());
  ASSERT_NE(Server(), pid_);
  fc_.reset();
  ASSERT_TRUE(fe_->SendRaw(0xdead, 1, nullptr, 0).ok());  // unknown message code
  int status = WaitForExit();
  ASSERT_EQ(pid_, -1) << "daemon still running 10 s after a malformed message";
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 1)
      << "status " << status << "\n" << ReadFile(log_);
}

// Each forwarded signal reaches the child through the confined parent,
// which then dies of the same signal.
TEST_F(ConfinementTest, EveryForwardedSignalReachesTheSandboxedChild) {
  for (int sig : {SIGINT, SIGHUP, SIGQUIT}) {
    std::ofstream(log_, std::ios::trunc).close();
    ASSERT_NO_FATAL_FAILURE(Start({}));
    // Both sides set up: the child's handlers before it logs that it
    // waits, the parent's before its filter.
    for (int i = 0; i < 200; ++i) {
      if (ReadFile(log_).find("waiting for a frontend") != std::string::npos &&
          StatusField(pid_, "Seccomp") == "2") {
        break;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    pid_t server = Server();
    ASSERT_NE(server, pid_);
    ASSERT_EQ(kill(pid_, sig), 0);
    int status = WaitForExit();
    ASSERT_EQ(pid_, -1) << strsignal(sig);
    EXPECT_TRUE(WIFSIGNALED(status) && WTERMSIG(status) == sig)
        << strsignal(sig) << ": status " << status << "\n" << ReadFile(log_);
    EXPECT_FALSE(fsys::exists("/proc/" + std::to_string(server))) << strsignal(sig);
    EXPECT_TRUE(SocketGone()) << strsignal(sig);
  }
}

TEST_F(ConfinementTest, UnprivilegedDefaultIsNoSandbox) {
  fsys::permissions(dir_, fsys::perms::all);
  fsys::permissions(share_, fsys::perms::all);
  ASSERT_NO_FATAL_FAILURE(Start({}, kNobody));
  ASSERT_NO_FATAL_FAILURE(Connect());
  ASSERT_NO_FATAL_FAILURE(ExerciseFiles());
  EXPECT_EQ(Server(), pid_);
  EXPECT_EQ(StatusField(pid_, "Seccomp"), "2");
  EXPECT_EQ(HexField(pid_, "CapEff"), 0u);
  ASSERT_NO_FATAL_FAILURE(ExpectCleanExit());
  std::string log = ReadFile(log_);
  EXPECT_NE(log.find("running unprivileged (uid 65534) with sandbox 'none' (the default without "
                     "root)"),
            std::string::npos)
      << log;
  EXPECT_NE(log.find("sandbox=none seccomp=kill"), std::string::npos) << log;
}

// Whether `uid` may create a user namespace here (a sysctl or an LSM may forbid it).
bool UserNamespacesAllowedFor(uid_t uid) {
  pid_t pid = fork();
  if (pid == 0) {
    if (setgroups(0, nullptr) != 0 || setgid(uid) != 0 || setuid(uid) != 0) _exit(2);
    _exit(unshare(CLONE_NEWUSER) == 0 ? 0 : 1);
  }
  int status = -1;
  waitpid(pid, &status, 0);
  return WIFEXITED(status) && WEXITSTATUS(status) == 0;
}

TEST_F(ConfinementTest, UnprivilegedNamespaceUsesAUserNamespace) {
  if (!UserNamespacesAllowedFor(kNobody)) GTEST_SKIP() << "no unprivileged user namespaces here";
  fsys::permissions(dir_, fsys::perms::all);
  fsys::permissions(share_, fsys::perms::all);
  ASSERT_NO_FATAL_FAILURE(Start({"--sandbox=namespace"}, kNobody));
  ASSERT_NO_FATAL_FAILURE(Connect());
  ASSERT_NO_FATAL_FAILURE(ExerciseFiles());
  pid_t server = Server();
  ASSERT_NE(server, pid_);
  ASSERT_NO_FATAL_FAILURE(ExpectRootIsShare(server));
  const std::string s = std::to_string(server);
  EXPECT_NE(NsOf(s, "user"), NsOf("self", "user"));
  EXPECT_EQ(StatusField(server, "Seccomp"), "2");
  struct stat st;
  ASSERT_EQ(stat((share_ / "new.txt").c_str(), &st), 0);
  EXPECT_EQ(st.st_uid, kNobody);
  ASSERT_NO_FATAL_FAILURE(ExpectCleanExit());
}

}  // namespace
}  // namespace hostshare
