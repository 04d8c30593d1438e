// Escape attempts, end to end through the daemon, over a share with a
// sentinel tree beside it (outside the share): symlinks that point outside
// (relative, absolute, to "..", "/", /proc magic links), planted on the host
// or created by the guest, followed by every operation that takes a name or
// a node; ".." from the root; rename and link across the root; device nodes
// and FIFOs; and a host thread that swaps a directory for a symlink while
// the guest works in it. The sentinel tree must stay unread and unchanged:
// same names, contents, modes, owners, sizes, xattrs and a/m/ctimes.
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>

#include <atomic>
#include <map>
#include <set>

#include "hostile/hostile_fixture.h"

namespace hostshare::hostile {
namespace {

struct Snap {
  struct stat st;
  std::string content;  // regular files (read with O_NOATIME)
  std::string xattrs;   // llistxattr
  std::string link;     // symlinks
  bool operator==(const Snap& o) const {
    return st.st_ino == o.st.st_ino && st.st_mode == o.st.st_mode && st.st_uid == o.st.st_uid &&
           st.st_gid == o.st.st_gid && st.st_size == o.st.st_size &&
           st.st_nlink == o.st.st_nlink && st.st_atim.tv_sec == o.st.st_atim.tv_sec &&
           st.st_atim.tv_nsec == o.st.st_atim.tv_nsec &&
           st.st_mtim.tv_sec == o.st.st_mtim.tv_sec && st.st_mtim.tv_nsec == o.st.st_mtim.tv_nsec &&
           st.st_ctim.tv_sec == o.st.st_ctim.tv_sec && st.st_ctim.tv_nsec == o.st.st_ctim.tv_nsec &&
           content == o.content && xattrs == o.xattrs && link == o.link;
  }
};

// Everything under `root`, read with O_NOATIME so that taking a snapshot
// moves no atime (a directory listing would, under relatime).
void SnapshotInto(const fsys::path& p, std::map<std::string, Snap>* out) {
  Snap s{};
  if (lstat(p.c_str(), &s.st) != 0) return;
  if (S_ISREG(s.st.st_mode)) {
    ScopedFd fd(open(p.c_str(), O_RDONLY | O_NOATIME | O_CLOEXEC));
    char buf[4096];
    ssize_t n;
    while (fd.valid() && (n = read(fd.get(), buf, sizeof buf)) > 0) s.content.append(buf, n);
  }
  if (S_ISLNK(s.st.st_mode)) s.link = fsys::read_symlink(p).string();
  char names[4096];
  ssize_t n = llistxattr(p.c_str(), names, sizeof names);
  if (n > 0) s.xattrs.assign(names, n);
  (*out)[p.string()] = s;
  if (!S_ISDIR(s.st.st_mode)) return;
  int fd = open(p.c_str(), O_RDONLY | O_DIRECTORY | O_NOATIME | O_CLOEXEC);
  if (fd < 0) return;
  DIR* d = fdopendir(fd);
  if (d == nullptr) {
    close(fd);
    return;
  }
  std::vector<std::string> names_in;
  while (dirent* e = readdir(d)) {
    if (strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, "..") != 0) names_in.push_back(e->d_name);
  }
  closedir(d);
  for (const auto& name : names_in) SnapshotInto(p / name, out);
}

std::map<std::string, Snap> Snapshot(const fsys::path& root) {
  std::map<std::string, Snap> out;
  SnapshotInto(root, &out);
  return out;
}

constexpr time_t kOldTime = 978307200;  // 2001-01-01: any read would move atime (relatime)

class EscapeTest : public DaemonTest {
 protected:
  void PrepareTree() override {
    // Outside the share.
    WriteHostFile(outside_ / "sentinel", "SENTINEL: never to be read by the guest");
    fsys::create_directory(outside_ / "dir");
    WriteHostFile(outside_ / "dir" / "inner", "OUTSIDE inner");
    for (const char* p : {"sentinel", "dir/inner", "dir"}) {
      fsys::path f = outside_ / p;
      ASSERT_EQ(chmod(f.c_str(), fsys::is_directory(f) ? 0755 : 0644), 0);
      struct timespec ts[2] = {{kOldTime, 0}, {kOldTime + 10, 0}};
      ASSERT_EQ(utimensat(AT_FDCWD, f.c_str(), ts, AT_SYMLINK_NOFOLLOW), 0);
    }
    // Inside: decoys with the same names.
    fsys::create_directory(share_ / "race");
    WriteHostFile(share_ / "race" / "inner", "decoy inner");
    WriteHostFile(share_ / "sentinel", "decoy sentinel");
    // Planted symlinks.
    for (const auto& [name, target] : PlantedLinks()) {
      fsys::create_symlink(target, share_ / name);
    }
    before_ = Snapshot(outside_);
  }

  std::vector<std::pair<std::string, std::string>> PlantedLinks() const {
    return {
        {"abs", (outside_ / "sentinel").string()},
        {"rel", "../outside/sentinel"},
        {"absdir", (outside_ / "dir").string()},
        {"reldir", "../outside/dir"},
        {"dotdot", ".."},
        {"slash", "/"},
        {"proc_root", "/proc/self/root" + (outside_ / "dir").string()},
        {"proc_self_root", "/proc/self/root"},
        {"proc_cwd", "/proc/self/cwd"},
        {"proc_fd", "/proc/self/fd/3"},
        {"loop", "loop"},
    };
  }

  void ExpectOutsideUntouched() {
    auto after = Snapshot(outside_);
    ASSERT_EQ(after.size(), before_.size()) << "entries appeared or vanished outside the share";
    for (const auto& [path, snap] : before_) {
      auto it = after.find(path);
      ASSERT_NE(it, after.end()) << path << " is gone";
      EXPECT_TRUE(it->second == snap) << path << " was read or changed";
    }
  }

  uint64_t Lookup(uint64_t parent, const std::string& name, uint32_t* mode = nullptr) {
    auto e = fc_->Lookup(parent, name);
    EXPECT_TRUE(e.ok()) << name << ": " << strerror(e.error());
    if (!e.ok()) return 0;
    if (mode != nullptr) *mode = e->attr.mode;
    return e->nodeid;
  }

  // Every operation that takes a node, with `node` a symlink (or a special
  // file): none may reach what it points to. Opening fails, a directory
  // operation under it fails ENOTDIR, attribute and xattr changes land on
  // the node itself (or fail).
  void AttackNode(uint64_t node, bool is_symlink) {
    auto all = [&](uint32_t op, const std::vector<uint8_t>& body) { return ErrorOf(op, node, body); };
    // Reading it as a directory.
    EXPECT_EQ(all(FUSE_LOOKUP, Name("inner")), ENOTDIR);
    EXPECT_EQ(all(FUSE_LOOKUP, Name("sentinel")), ENOTDIR);
    EXPECT_NE(all(FUSE_OPENDIR, Body(fuse_open_in{O_RDONLY | O_DIRECTORY, 0})), 0);
    // Changing it as a directory.
    EXPECT_EQ(all(FUSE_MKDIR, Cat(Body(fuse_mkdir_in{0777, 0}), Name("evil"))), ENOTDIR);
    EXPECT_EQ(all(FUSE_MKNOD, Cat(Body(fuse_mknod_in{S_IFREG | 0666, 0, 0, 0}), Name("evil"))),
              ENOTDIR);
    EXPECT_EQ(all(FUSE_CREATE, Cat(Body(fuse_create_in{O_RDWR | O_CREAT, 0666, 0, 0}),
                                   Name("evil"))),
              ENOTDIR);
    EXPECT_EQ(all(FUSE_CREATE, Cat(Body(fuse_create_in{O_RDWR | O_TRUNC, 0666, 0, 0}),
                                   Name("inner"))),
              ENOTDIR);
    EXPECT_EQ(all(FUSE_SYMLINK, Cat(Name("evil"), Name("/etc"))), ENOTDIR);
    EXPECT_NE(all(FUSE_TMPFILE, Body(fuse_create_in{O_RDWR, 0600, 0, 0})), 0);
    EXPECT_EQ(all(FUSE_UNLINK, Name("inner")), ENOTDIR);
    EXPECT_EQ(all(FUSE_UNLINK, Name("sentinel")), ENOTDIR);
    EXPECT_EQ(all(FUSE_RMDIR, Name("dir")), ENOTDIR);
    // Rename and link into it / out of it (across the root).
    EXPECT_EQ(ErrorOf(FUSE_RENAME, kRoot,
                      Cat(Cat(Body(fuse_rename_in{node}), Name("sentinel")), Name("moved"))),
              ENOTDIR);
    EXPECT_EQ(all(FUSE_RENAME, Cat(Cat(Body(fuse_rename_in{kRoot}), Name("inner")), Name("got"))),
              ENOTDIR);
    EXPECT_EQ(ErrorOf(FUSE_RENAME2, kRoot,
                      Cat(Cat(Body(fuse_rename2_in{node, RENAME_EXCHANGE, 0}), Name("sentinel")),
                          Name("sentinel"))),
              ENOTDIR);
    uint64_t decoy = Lookup(kRoot, "sentinel");
    EXPECT_EQ(ErrorOf(FUSE_LINK, node, Cat(Body(fuse_link_in{decoy}), Name("evil"))), ENOTDIR);
    ASSERT_TRUE(fc_->Forget(decoy, 1).ok());
    // Opening it for I/O.
    for (uint32_t flags : {uint32_t{O_RDONLY}, uint32_t{O_WRONLY}, uint32_t{O_RDWR | O_TRUNC},
                           uint32_t{O_RDONLY | O_NONBLOCK}, uint32_t{O_WRONLY | O_APPEND}}) {
      int err = all(FUSE_OPEN, Body(fuse_open_in{flags, 0}));
      EXPECT_TRUE(err == ELOOP || err == ENXIO) << "OPEN flags " << flags << ": " << err;
    }
    // Attributes: on the node itself, never on a target.
    EXPECT_EQ(all(FUSE_GETATTR, Body(fuse_getattr_in{})), 0);
    fuse_setattr_in sa{};
    sa.valid = FATTR_SIZE;
    EXPECT_NE(all(FUSE_SETATTR, Body(sa)), 0);
    sa.valid = FATTR_MODE;
    sa.mode = 0777;
    int chmod_err = all(FUSE_SETATTR, Body(sa));
    if (is_symlink) {
      EXPECT_NE(chmod_err, 0) << "chmod on a symlink";
    }
    sa.valid = FATTR_UID | FATTR_GID;
    sa.uid = 4242;
    sa.gid = 4242;
    (void)all(FUSE_SETATTR, Body(sa));
    sa.valid = FATTR_ATIME | FATTR_MTIME;
    sa.atime = sa.mtime = 1234567890;
    (void)all(FUSE_SETATTR, Body(sa));
    sa.valid = FATTR_ATIME_NOW | FATTR_MTIME_NOW;
    (void)all(FUSE_SETATTR, Body(sa));
    (void)all(FUSE_ACCESS, Body(fuse_access_in{R_OK | W_OK, 0}));
    (void)all(FUSE_STATFS, {});
    (void)all(FUSE_SYNCFS, Body(fuse_syncfs_in{}));
    if (is_symlink) {
      auto r = fc_->Call(FUSE_READLINK, node, {});
      ASSERT_TRUE(r.ok());
      EXPECT_EQ(r->error, 0);
    } else {
      EXPECT_EQ(all(FUSE_READLINK, {}), EINVAL);
    }
    // Extended attributes.
    std::vector<uint8_t> sx(8, 0);
    sx[0] = 4;
    (void)all(FUSE_SETXATTR, Cat(Cat(sx, Name("user.evil")), Bytes("evil")));
    (void)all(FUSE_SETXATTR, Cat(Cat(sx, Name("trusted.evil")), Bytes("evil")));
    (void)all(FUSE_GETXATTR, Cat(Body(fuse_getxattr_in{4096, 0}), Name("user.evil")));
    (void)all(FUSE_LISTXATTR, Body(fuse_getxattr_in{4096, 0}));
    (void)all(FUSE_REMOVEXATTR, Name("user.evil"));
    // A hard link of the node itself (lands in the share).
    (void)ErrorOf(FUSE_LINK, kRoot, Cat(Body(fuse_link_in{node}), Name("hardlink-" +
                                                                         std::to_string(node))));
  }

  std::map<std::string, Snap> before_;
};

TEST_F(EscapeTest, PlantedSymlinksFollowedByEveryOperation) {
  for (const auto& [name, target] : PlantedLinks()) {
    SCOPED_TRACE(name + " -> " + target);
    uint32_t mode = 0;
    uint64_t node = Lookup(kRoot, name, &mode);
    ASSERT_NE(node, 0u);
    EXPECT_TRUE(S_ISLNK(mode)) << "a symlink was followed by LOOKUP";
    auto r = fc_->Call(FUSE_READLINK, node, {});
    ASSERT_TRUE(r.ok());
    EXPECT_EQ(std::string(r->body.begin(), r->body.end()), target);
    AttackNode(node, /*is_symlink=*/true);
    ExpectOutsideUntouched();
  }
  ExpectServes(kQ1);
  ExpectServes(kQ2);
}

TEST_F(EscapeTest, GuestCreatedSymlinksFollowedByEveryOperation) {
  int i = 0;
  for (const auto& [unused, target] : PlantedLinks()) {
    SCOPED_TRACE(target);
    const std::string name = "guest-link-" + std::to_string(i++);
    auto r = fc_->Call(FUSE_SYMLINK, kRoot, Cat(Name(name), Name(target)));
    ASSERT_TRUE(r.ok());
    ASSERT_EQ(r->error, 0);
    ASSERT_EQ(r->body.size(), sizeof(fuse_entry_out));
    fuse_entry_out e;
    memcpy(&e, r->body.data(), sizeof e);
    EXPECT_TRUE(S_ISLNK(e.attr.mode));
    EXPECT_EQ(fsys::read_symlink(share_ / name).string(), target);
    AttackNode(e.nodeid, /*is_symlink=*/true);
    ExpectOutsideUntouched();
  }
  ExpectServes(kQ1);
}

TEST_F(EscapeTest, OperationsByNameOnASymlinkDoNotFollowIt) {
  for (const char* name : {"abs", "rel", "absdir", "reldir", "proc_root"}) {
    SCOPED_TRACE(name);
    // CREATE without O_EXCL on an existing symlink: refused, not followed.
    int err = ErrorOf(FUSE_CREATE, kRoot,
                      Cat(Body(fuse_create_in{O_RDWR | O_CREAT | O_TRUNC, 0666, 0, 0}), Name(name)));
    EXPECT_EQ(err, ELOOP);
    EXPECT_EQ(ErrorOf(FUSE_MKDIR, kRoot, Cat(Body(fuse_mkdir_in{0777, 0}), Name(name))), EEXIST);
    EXPECT_EQ(ErrorOf(FUSE_MKNOD, kRoot,
                      Cat(Body(fuse_mknod_in{S_IFREG | 0666, 0, 0, 0}), Name(name))),
              EEXIST);
    EXPECT_EQ(ErrorOf(FUSE_SYMLINK, kRoot, Cat(Name(name), Name("x"))), EEXIST);
    EXPECT_EQ(ErrorOf(FUSE_RMDIR, kRoot, Name(name)), ENOTDIR);
    // RENAME onto it replaces the link, RENAME of it moves the link: both in the share.
    EXPECT_EQ(ErrorOf(FUSE_RENAME, kRoot,
                      Cat(Cat(Body(fuse_rename_in{kRoot}), Name(name)), Name(std::string(name) + "2"))),
              0);
    EXPECT_TRUE(fsys::is_symlink(share_ / (std::string(name) + "2")));
    // UNLINK removes the link, not its target.
    EXPECT_EQ(ErrorOf(FUSE_UNLINK, kRoot, Name(std::string(name) + "2")), 0);
  }
  ExpectOutsideUntouched();
  ExpectServes(kQ1);
}

TEST_F(EscapeTest, DotDotFromTheRootAndNamesThatClimb) {
  for (uint64_t parent : {kRoot, Lookup(kRoot, "race")}) {
    EXPECT_EQ(ErrorOf(FUSE_LOOKUP, parent, Name("..")), ENOENT);
    EXPECT_EQ(ErrorOf(FUSE_LOOKUP, parent, Name(".")), ENOENT);
    EXPECT_EQ(ErrorOf(FUSE_LOOKUP, parent, Name("../outside")), EINVAL);
    EXPECT_EQ(ErrorOf(FUSE_LOOKUP, parent, Name("../outside/sentinel")), EINVAL);
    EXPECT_EQ(ErrorOf(FUSE_LOOKUP, parent, Name(outside_ / "sentinel")), EINVAL);
    EXPECT_EQ(ErrorOf(FUSE_CREATE, parent,
                      Cat(Body(fuse_create_in{O_RDWR | O_CREAT, 0666, 0, 0}), Name("../evil"))),
              EINVAL);
    EXPECT_EQ(ErrorOf(FUSE_RENAME, parent,
                      Cat(Cat(Body(fuse_rename_in{kRoot}), Name("sentinel")),
                          Name("../outside/sentinel"))),
              EINVAL);
    EXPECT_EQ(ErrorOf(FUSE_RENAME, parent,
                      Cat(Cat(Body(fuse_rename_in{kRoot}), Name("../outside/sentinel")),
                          Name("stolen"))),
              EINVAL);
    EXPECT_EQ(ErrorOf(FUSE_LINK, parent, Cat(Body(fuse_link_in{kRoot}), Name("..")), kQ1), EINVAL);
  }
  // The root's ".." in a directory listing names no node.
  auto dh = fc_->OpenDir(kRoot);
  ASSERT_TRUE(dh.ok());
  auto entries = fc_->ReadDirPlus(kRoot, dh->fh);
  ASSERT_TRUE(entries.ok());
  for (const auto& e : *entries) {
    if (e.name == ".." || e.name == ".") {
      EXPECT_EQ(e.entry.nodeid, 0u) << e.name;
    }
  }
  // Linking the root itself, or renaming over it.
  EXPECT_NE(ErrorOf(FUSE_LINK, kRoot, Cat(Body(fuse_link_in{kRoot}), Name("root-again"))), 0);
  ExpectOutsideUntouched();
  ExpectServes(kQ1);
}

TEST_F(EscapeTest, DeviceNodesAndFifosAreNeverOpened) {
  // Planted on the host: a FIFO (opening it would block without a writer)
  // and, as root, /dev/null's and /dev/zero's device numbers.
  ASSERT_EQ(mkfifo((share_ / "fifo").c_str(), 0666), 0);
  const bool root = geteuid() == 0;
  if (root) {
    ASSERT_EQ(mknod((share_ / "null").c_str(), S_IFCHR | 0666, makedev(1, 3)), 0);
    ASSERT_EQ(mknod((share_ / "zero").c_str(), S_IFCHR | 0666, makedev(1, 5)), 0);
  }
  ASSERT_EQ(mkfifo((outside_ / "fifo").c_str(), 0666), 0);  // (part of the snapshot now)
  before_ = Snapshot(outside_);
  std::vector<std::string> names = {"fifo"};
  if (root) names.insert(names.end(), {"null", "zero"});
  // Made by the guest.
  auto mknod_req = [&](const std::string& name, uint32_t mode, uint32_t rdev) {
    return ErrorOf(FUSE_MKNOD, kRoot, Cat(Body(fuse_mknod_in{mode, rdev, 0, 0}), Name(name)));
  };
  ASSERT_EQ(mknod_req("guest-fifo", S_IFIFO | 0666, 0), 0);
  names.push_back("guest-fifo");
  if (root) {
    ASSERT_EQ(mknod_req("guest-null", S_IFCHR | 0666, makedev(1, 3)), 0);
    ASSERT_EQ(mknod_req("guest-loop", S_IFBLK | 0666, makedev(7, 0)), 0);
    names.insert(names.end(), {"guest-null", "guest-loop"});
  }
  for (const std::string& name : names) {
    SCOPED_TRACE(name);
    auto start = std::chrono::steady_clock::now();
    uint64_t node = Lookup(kRoot, name);
    ASSERT_NE(node, 0u);
    for (uint32_t flags : {uint32_t{O_RDONLY}, uint32_t{O_WRONLY}, uint32_t{O_RDWR}}) {
      EXPECT_EQ(ErrorOf(FUSE_OPEN, node, Body(fuse_open_in{flags, 0})), ENXIO);
    }
    EXPECT_EQ(ErrorOf(FUSE_CREATE, kRoot,
                      Cat(Body(fuse_create_in{O_RDWR | O_CREAT, 0666, 0, 0}), Name(name))),
              ENXIO);
    AttackNode(node, /*is_symlink=*/false);
    auto took = std::chrono::steady_clock::now() - start;
    EXPECT_LT(took, std::chrono::seconds(3)) << "an operation on a special file blocked";
  }
  // A directory listing with them in it (READDIRPLUS looks each one up).
  auto dh = fc_->OpenDir(kRoot);
  ASSERT_TRUE(dh.ok());
  auto entries = fc_->ReadDirPlus(kRoot, dh->fh);
  ASSERT_TRUE(entries.ok());
  ExpectOutsideUntouched();
  ExpectServes(kQ1);
  ExpectServes(kQ2);
}

TEST_F(EscapeTest, HostSwapsADirectoryForASymlinkDuringGuestOperations) {
  // share/race flips between a real directory (with a decoy "inner") and a
  // symlink to outside/dir (with the sentinel "inner"), atomically, as fast
  // as the host can, while the guest looks up, opens, reads, writes,
  // creates, renames and lists inside share/race for a bounded time.
  fsys::create_symlink(outside_ / "dir", share_ / "swap");
  std::atomic<bool> stop{false};
  std::atomic<uint64_t> swaps{0};
  std::thread host([&] {
    while (!stop.load()) {
      if (renameat2(AT_FDCWD, (share_ / "race").c_str(), AT_FDCWD, (share_ / "swap").c_str(),
                    RENAME_EXCHANGE) == 0) {
        swaps.fetch_add(1);
      }
    }
  });
  auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(1500);
  uint64_t rounds = 0, inside = 0;
  while (std::chrono::steady_clock::now() < deadline) {
    ++rounds;
    auto e = fc_->Lookup(kRoot, "race");
    if (!e.ok()) continue;
    const uint64_t dir = e->nodeid;
    if (S_ISDIR(e->attr.mode)) ++inside;
    auto f = fc_->Lookup(dir, "inner");
    if (f.ok()) {
      auto o = fc_->Open(f->nodeid, O_RDWR);
      if (o.ok()) {
        auto data = fc_->Read(f->nodeid, o->fh, 0, 64);
        if (data.ok()) {
          std::string s(data->begin(), data->end());
          EXPECT_EQ(s.find("OUTSIDE"), std::string::npos) << "read the outside file: " << s;
        }
        (void)fc_->Write(f->nodeid, o->fh, 0, Bytes("decoy inner"));
        (void)fc_->Release(f->nodeid, o->fh);
      }
      (void)fc_->Forget(f->nodeid, 1);
    }
    auto c = fc_->Create(dir, "created", 0644, O_RDWR | O_CREAT);
    if (c.ok()) {
      (void)fc_->Release(c->entry.nodeid, c->open.fh);
      (void)fc_->Rename2(dir, "created", dir, "renamed", 0);
      (void)fc_->Unlink(dir, "renamed");
      (void)fc_->Forget(c->entry.nodeid, 1);
    }
    (void)ErrorOf(FUSE_MKDIR, dir, Cat(Body(fuse_mkdir_in{0755, 0}), Name("sub")));
    (void)ErrorOf(FUSE_RMDIR, dir, Name("sub"));
    (void)ErrorOf(FUSE_UNLINK, dir, Name("sentinel"));
    fuse_setattr_in sa{};
    sa.valid = FATTR_MODE;
    sa.mode = 0777;
    (void)ErrorOf(FUSE_SETATTR, dir, Body(sa));
    auto dh = fc_->OpenDir(dir);
    if (dh.ok()) {
      auto list = fc_->ReadDirPlus(dir, dh->fh);
      if (list.ok()) {
        for (const auto& ent : *list) {
          if (ent.entry.nodeid != 0) (void)fc_->Forget(ent.entry.nodeid, 1);
        }
      }
      (void)fc_->ReleaseDir(dir, dh->fh);
    }
    (void)fc_->Forget(dir, 1);
  }
  stop.store(true);
  host.join();
  EXPECT_GT(swaps.load(), 100u);
  EXPECT_GT(rounds, 10u);
  printf("race: %llu guest rounds (%llu on the directory), %llu host swaps\n",
         static_cast<unsigned long long>(rounds), static_cast<unsigned long long>(inside),
         static_cast<unsigned long long>(swaps.load()));
  ExpectOutsideUntouched();
  ExpectServes(kQ1);
  ExpectServes(kQ2);
}

}  // namespace
}  // namespace hostshare::hostile
