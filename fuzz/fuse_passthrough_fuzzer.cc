// libFuzzer target: the FUSE server on the passthrough filesystem over a
// small temporary tree (files, a directory, a symlink, a FIFO, xattrs). See
// fuse_input.h for the input format.
//
// Every run gets a fresh PassthroughFs and Server (so node ids and handles
// are reproducible from the input alone); the tree itself is rebuilt every
// kResetEvery runs, since inputs create, write and delete in it.
//
// Running as root, the tree lives on a private 64 MiB tmpfs in a mount
// namespace of the fuzzing thread, so FALLOCATE / WRITE / COPY_FILE_RANGE
// cannot fill the host's disk, and the mount vanishes with the process.
// Otherwise it falls back to a directory under $TMPDIR with RLIMIT_FSIZE.
#include <fcntl.h>
#include <sched.h>
#include <sys/mount.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/xattr.h>
#include <unistd.h>

#include <csignal>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <memory>
#include <string>

#include "base/log.h"
#include "fs/passthrough/passthrough_fs.h"
#include "fuse/server.h"
#include "fuse_input.h"

namespace {

namespace fsys = std::filesystem;
constexpr int kResetEvery = 500;

std::string g_root;  // the shared directory

void Write(const fsys::path& p, const std::string& s) {
  std::ofstream out(p, std::ios::binary);
  out << s;
}

void BuildTree() {
  std::error_code ec;
  for (const auto& e : fsys::directory_iterator(g_root, ec)) fsys::remove_all(e.path(), ec);
  // The guest may have chmod'ed the root itself.
  chmod(g_root.c_str(), 0755);
  const fsys::path r(g_root);
  Write(r / "a", "hello, fuzzer\n");
  Write(r / "b", std::string(10000, 'b'));
  fsys::create_directory(r / "d", ec);
  Write(r / "d" / "f", "in d\n");
  fsys::create_directory(r / "d" / "e", ec);
  fsys::create_symlink("a", r / "l", ec);
  fsys::create_symlink("/etc/passwd", r / "abs", ec);
  mkfifo((r / "p").c_str(), 0644);
  setxattr((r / "a").c_str(), "user.k", "v", 1, 0);
}

void SetUpRoot() {
  char tmpl[] = "/tmp/hostshare-fuzz-XXXXXX";
  if (mkdtemp(tmpl) == nullptr) {
    perror("mkdtemp");
    abort();
  }
  g_root = tmpl;
  bool tmpfs = geteuid() == 0 && unshare(CLONE_NEWNS) == 0 &&
               mount("none", "/", nullptr, MS_REC | MS_PRIVATE, nullptr) == 0 &&
               mount("hostshare-fuzz", tmpl, "tmpfs", MS_NOSUID | MS_NODEV,
                     "size=64m,nr_inodes=20000,mode=0755") == 0;
  if (!tmpfs) {
    fprintf(stderr, "fuse_passthrough_fuzzer: no private tmpfs (not root?); using %s with "
                    "RLIMIT_FSIZE 64 MiB\n", tmpl);
    signal(SIGXFSZ, SIG_IGN);
    rlimit r{64 << 20, 64 << 20};
    setrlimit(RLIMIT_FSIZE, &r);
  }
}

}  // namespace

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  hostshare::log::Level off;
  if (hostshare::log::ParseLevel("off", &off)) hostshare::log::SetLevel(off);
  SetUpRoot();
  BuildTree();
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static int runs = 0;
  if (++runs % kResetEvery == 0) BuildTree();
  hostshare::fs::PassthroughConfig config;
  config.root = g_root;
  config.xattr = true;
  config.cache = hostshare::fs::CacheMode::kAuto;
  auto fs = hostshare::fs::PassthroughFs::Create(config);
  if (!fs.ok()) {
    // The guest removed the root's permissions or the like: start afresh.
    BuildTree();
    return 0;
  }
  hostshare::fuse::Server server(**fs, hostshare::fuse::ServerOptions{});
  hostshare::fuzz::RunInput(server, data, size);
  return 0;
}
