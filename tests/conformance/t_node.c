/*
 * chmod, chown, link, mkdir, mkfifo, mknod, symlink, unlink, rmdir:
 * results, owners, modes, link counts, ctime/mtime updates (pjdfstest 00.t of
 * each) and their call-specific errors (EPERM, EEXIST, ENOTEMPTY, EISDIR...).
 */
#include <sys/socket.h>
#include <sys/sysmacros.h>
#include <sys/un.h>

#include "conf.h"

/* ---------------------------------------------------------------- chmod */

TEST(chmod_modes) {
  mkfile("f", 0644);
  OK(mkdir("d", 0755));
  OK(mkfifo("p", 0644));
  static const mode_t modes[] = {0, 0111, 0222, 0444, 0700, 0755, 0777, 04755, 02755, 01755, 07777};
  for (unsigned i = 0; i < sizeof(modes) / sizeof(modes[0]); i++) {
    OK(chmod("f", modes[i]));
    EQ(mode_of("f"), modes[i]);
    OK(chmod("d", modes[i]));
    EQ(mode_of("d"), modes[i]);
    OK(chmod("p", modes[i] & 0777));
    EQ(mode_of("p"), modes[i] & 0777);
  }
  /* through a symlink: the target changes, not the link */
  OK(symlink("f", "l"));
  OK(chmod("l", 0640));
  EQ(mode_of("f"), 0640);
  EQ(mode_of("l"), 0777);
  int fd = OK(open("f", O_RDONLY));
  OK(fchmod(fd, 0604));
  EQ(mode_of("f"), 0604);
  close(fd);
  OK(fchmodat(AT_FDCWD, "f", 0600, 0));
  EQ(mode_of("f"), 0600);
}

TEST(chmod_ctime) {
  mkfile("f", 0644);
  struct stat a = st("f");
  nap();
  OK(chmod("f", 0600));
  struct stat b = st("f");
  CHECK(TS_GT(b.st_ctim, a.st_ctim));
  CHECK(TS_EQ(b.st_mtim, a.st_mtim));
  /* a failed chmod does not change ctime */
  become(U2, G2, 1, G2);
  ERR(EPERM, chmod("f", 0777));
  unbecome();
  struct stat c = st("f");
  CHECK(TS_EQ(c.st_ctim, b.st_ctim));
}

TEST(chmod_eperm) {
  mkfile("f", 0644);
  OK(chown("f", U1, G1));
  become(U2, G2, 1, G2);
  ERR(EPERM, chmod("f", 0600));
  unbecome();
  become(U1, G1, 1, G1);
  OK(chmod("f", 0600)); /* the owner may */
  unbecome();
  EQ(mode_of("f"), 0600);
}

TEST(chmod_setgid_cleared) {
  /* the owner not in the file's group cannot set S_ISGID: silently cleared */
  mkfile("f", 0644);
  OK(chown("f", U1, G2));
  become(U1, G1, 1, G1);
  OK(chmod("f", 02755));
  EQ(mode_of("f"), 0755);
  unbecome();
  become(U1, G1, 2, G1, G2); /* member of G2 through a supplementary group */
  OK(chmod("f", 02755));
  EQ(mode_of("f"), 02755);
  unbecome();
  OK(chmod("f", 06755)); /* root may */
  EQ(mode_of("f"), 06755);
}

/* ---------------------------------------------------------------- chown */

TEST(chown_root) {
  mkfile("f", 0644);
  OK(mkdir("d", 0755));
  OK(chown("f", U1, G1));
  struct stat s = st("f");
  EQ(s.st_uid, U1);
  EQ(s.st_gid, G1);
  OK(chown("f", -1, G2));
  s = st("f");
  EQ(s.st_uid, U1);
  EQ(s.st_gid, G2);
  OK(chown("f", U2, -1));
  s = st("f");
  EQ(s.st_uid, U2);
  EQ(s.st_gid, G2);
  OK(chown("d", U1, G1));
  EQ(st("d").st_uid, U1);
  int fd = OK(open("f", O_RDONLY));
  OK(fchown(fd, 0, 0));
  close(fd);
  EQ(st("f").st_uid, 0);
  OK(fchownat(AT_FDCWD, "f", U1, G1, 0));
  EQ(st("f").st_uid, U1);
}

TEST(chown_symlink) {
  mkfile("f", 0644);
  OK(symlink("f", "l"));
  OK(lchown("l", U1, G1));
  EQ(st("l").st_uid, U1);
  EQ(st("f").st_uid, 0);
  OK(chown("l", U2, G2));
  EQ(st("f").st_uid, U2);
  EQ(st("l").st_uid, U1);
  OK(fchownat(AT_FDCWD, "l", 0, 0, AT_SYMLINK_NOFOLLOW));
  EQ(st("l").st_uid, 0);
  EQ(st("f").st_uid, U2);
}

TEST(chown_nonroot) {
  mkfile("f", 0644);
  OK(chown("f", U1, G1));
  become(U1, G1, 2, G1, G2);
  ERR(EPERM, chown("f", U2, -1));  /* give away: no */
  OK(chown("f", -1, G2));          /* to a group of its own: yes */
  ERR(EPERM, chown("f", -1, G3));  /* to another group: no */
  OK(chown("f", U1, -1));          /* no-op to itself: yes */
  unbecome();
  EQ(st("f").st_gid, G2);
  become(U2, G2, 1, G2);
  ERR(EPERM, chown("f", -1, G2));  /* not the owner */
  unbecome();
}

TEST(chown_ctime) {
  mkfile("f", 0644);
  struct stat a = st("f");
  nap();
  OK(chown("f", U1, G1));
  struct stat b = st("f");
  CHECK(TS_GT(b.st_ctim, a.st_ctim));
  CHECK(TS_EQ(b.st_mtim, a.st_mtim));
  nap();
  become(U2, G2, 1, G2);
  ERR(EPERM, chown("f", U2, G2));
  unbecome();
  CHECK(TS_EQ(st("f").st_ctim, b.st_ctim));
}

TEST(chown_clears_suid) {
  /* chown of an executable regular file clears S_ISUID and S_ISGID */
  mkfile("f", 0644);
  OK(chmod("f", 06755));
  OK(chown("f", U1, G1));
  EQ(mode_of("f"), 0755);
  /* also for a non-root owner changing the group */
  OK(chmod("f", 06755));
  EQ(mode_of("f"), 06755);
  become(U1, G1, 2, G1, G2);
  OK(chown("f", -1, G2));
  unbecome();
  EQ(mode_of("f"), 0755);
  /* S_ISGID without group execute (mandatory locking mark) is kept */
  OK(chmod("f", 02644));
  OK(chown("f", U2, G2));
  EQ(mode_of("f"), 02644);
  /* directories keep both */
  OK(mkdir("d", 0755));
  OK(chmod("d", 06755));
  OK(chown("d", U1, G1));
  EQ(mode_of("d"), 06755);
}

/* ---------------------------------------------------------------- link */

TEST(link_basic) {
  mkfile_data("f", "hello");
  OK(mkdir("d", 0755));
  struct stat a = st("f");
  struct stat da = st("d");
  EQ(a.st_nlink, 1);
  nap();
  OK(link("f", "d/g"));
  struct stat b = st("f"), g = st("d/g"), db = st("d");
  EQ(b.st_nlink, 2);
  EQ(g.st_ino, b.st_ino);
  EQ(g.st_nlink, 2);
  CHECK(TS_GT(b.st_ctim, a.st_ctim));  /* the file's ctime */
  CHECK(TS_GT(db.st_mtim, da.st_mtim)); /* the directory's mtime and ctime */
  CHECK(TS_GT(db.st_ctim, da.st_ctim));
  OK(unlink("f"));
  EQ(st("d/g").st_nlink, 1);
  char buf[16] = {0};
  int fd = OK(open("d/g", O_RDONLY));
  EQ(read(fd, buf, sizeof(buf)), 5);
  close(fd);
  CHECK(strcmp(buf, "hello") == 0);
  /* hard links to a fifo and to a symlink (the link itself) */
  OK(mkfifo("p", 0644));
  OK(link("p", "p2"));
  EQ(st("p").st_nlink, 2);
  OK(symlink("d/g", "l"));
  OK(link("l", "l2"));
  CHECK(S_ISLNK(st("l2").st_mode));
  EQ(st("l2").st_ino, st("l").st_ino);
  OK(linkat(AT_FDCWD, "l", AT_FDCWD, "l3", AT_SYMLINK_FOLLOW));
  EQ(st("l3").st_ino, st("d/g").st_ino);
}

TEST(link_errors) {
  mkfile("f", 0644);
  mkfile("g", 0644);
  OK(mkdir("d", 0755));
  ERR(EEXIST, link("f", "g"));
  ERR(EEXIST, link("f", "d"));
  OK(symlink("nowhere", "dangling"));
  ERR(EEXIST, link("f", "dangling"));
  ERR(EPERM, link("d", "d2")); /* directories cannot be hard-linked */
  ERR(ENOENT, link("missing", "x"));
  ERR(ENOENT, link("dangling/x", "y"));
}

/* ---------------------------------------------------------------- mkdir */

TEST(mkdir_basic) {
  struct stat pa = st(".");
  nap();
  OK(mkdir("d", 0755));
  struct stat d = st("d"), pb = st(".");
  CHECK(S_ISDIR(d.st_mode));
  EQ(d.st_mode & 07777, 0755);
  EQ(d.st_uid, 0);
  EQ(d.st_gid, 0);
  EQ(d.st_nlink, 2);
  EQ(pb.st_nlink, pa.st_nlink + 1);
  CHECK(TS_GT(pb.st_mtim, pa.st_mtim));
  CHECK(TS_GT(pb.st_ctim, pa.st_ctim));
  CHECK(ts_cmp(d.st_mtim, pa.st_mtim) > 0);
  /* umask applies; S_ISVTX may be given; other bits ignored */
  umask(077);
  OK(mkdir("d2", 0777));
  EQ(mode_of("d2"), 0700);
  umask(0);
  OK(mkdir("d3", 01777));
  EQ(mode_of("d3"), 01777);
  umask(022);
  /* a non-root user creates with its own ids */
  OK(chmod(".", 0777));
  become(U1, G1, 1, G1);
  OK(mkdir("u", 0755));
  unbecome();
  EQ(st("u").st_uid, U1);
  EQ(st("u").st_gid, G1);
}

TEST(mkdir_eexist) {
  mkfile("f", 0644);
  OK(mkdir("d", 0755));
  OK(symlink("nowhere", "dangling"));
  OK(mkfifo("p", 0644));
  ERR(EEXIST, mkdir("f", 0755));
  ERR(EEXIST, mkdir("d", 0755));
  ERR(EEXIST, mkdir("dangling", 0755));
  ERR(EEXIST, mkdir("p", 0755));
  ERR(EEXIST, mkdir(".", 0755));
  ERR(EEXIST, mkdir("..", 0755));
}

/* ---------------------------------------------------------------- mkfifo / mknod */

TEST(mkfifo_basic) {
  struct stat pa = st(".");
  nap();
  OK(mkfifo("p", 0644));
  struct stat p = st("p"), pb = st(".");
  CHECK(S_ISFIFO(p.st_mode));
  EQ(p.st_mode & 07777, 0644);
  EQ(p.st_uid, 0);
  CHECK(TS_GT(pb.st_mtim, pa.st_mtim));
  CHECK(TS_GT(pb.st_ctim, pa.st_ctim));
  umask(0);
  OK(mkfifo("p2", 0777));
  EQ(mode_of("p2"), 0777);
  umask(022);
  ERR(EEXIST, mkfifo("p", 0644));
  mkfile("f", 0644);
  ERR(EEXIST, mkfifo("f", 0644));
  /* data flows through a fifo on this file system */
  int r = OK(open("p", O_RDONLY | O_NONBLOCK));
  int w = OK(open("p", O_WRONLY));
  EQ(write(w, "abc", 3), 3);
  char buf[4] = {0};
  EQ(read(r, buf, 3), 3);
  CHECK(memcmp(buf, "abc", 3) == 0);
  close(r);
  close(w);
  ERR(ENXIO, open("p", O_WRONLY | O_NONBLOCK)); /* no reader */
}

TEST(mknod_types) {
  OK(mknod("fifo", S_IFIFO | 0644, 0));
  CHECK(S_ISFIFO(st("fifo").st_mode));
  OK(mknod("reg", S_IFREG | 0600, 0));
  CHECK(S_ISREG(st("reg").st_mode));
  EQ(mode_of("reg"), 0600);
  OK(mknod("reg0", 0600, 0)); /* type 0 = regular file */
  CHECK(S_ISREG(st("reg0").st_mode));
  OK(mknod("chr", S_IFCHR | 0644, makedev(1, 3)));
  struct stat s = st("chr");
  CHECK(S_ISCHR(s.st_mode));
  EQ(major(s.st_rdev), 1);
  EQ(minor(s.st_rdev), 3);
  OK(mknod("blk", S_IFBLK | 0644, makedev(7, 1)));
  s = st("blk");
  CHECK(S_ISBLK(s.st_mode));
  EQ(major(s.st_rdev), 7);
  EQ(minor(s.st_rdev), 1);
  OK(mknod("big", S_IFCHR | 0644, makedev(4095, 1048575)));
  s = st("big");
  EQ(major(s.st_rdev), 4095);
  EQ(minor(s.st_rdev), 1048575);
  OK(mknod("sock", S_IFSOCK | 0644, 0));
  CHECK(S_ISSOCK(st("sock").st_mode));
  ERR(EEXIST, mknod("fifo", S_IFIFO | 0644, 0));
  ERR2(EPERM, EINVAL, mknod("bad", S_IFDIR | 0755, 0)); /* mknod cannot make directories */
  OK(chmod(".", 0777));
  become(U1, G1, 1, G1);
  ERR(EPERM, mknod("uchr", S_IFCHR | 0644, makedev(1, 3)));
  ERR(EPERM, mknod("ublk", S_IFBLK | 0644, makedev(7, 1)));
  OK(mknod("ufifo", S_IFIFO | 0644, 0));
  unbecome();
  EQ(st("ufifo").st_uid, U1);
}

TEST(unix_socket_bind) {
  /* bind(2) creates a socket node on the file system */
  int s = OK(socket(AF_UNIX, SOCK_STREAM, 0));
  struct sockaddr_un a = {.sun_family = AF_UNIX};
  strcpy(a.sun_path, "sock");
  OK(bind(s, (struct sockaddr *)&a, sizeof(a)));
  CHECK(S_ISSOCK(st("sock").st_mode));
  close(s);
  OK(unlink("sock"));
}

/* ---------------------------------------------------------------- symlink */

TEST(symlink_basic) {
  struct stat pa = st(".");
  nap();
  OK(symlink("some/target", "l"));
  struct stat l = st("l"), pb = st(".");
  CHECK(S_ISLNK(l.st_mode));
  EQ(l.st_size, strlen("some/target"));
  EQ(l.st_uid, 0);
  CHECK(TS_GT(pb.st_mtim, pa.st_mtim));
  char buf[PATH_MAX + 1];
  ssize_t n = OK(readlink("l", buf, sizeof(buf)));
  EQ(n, strlen("some/target"));
  CHECK(n > 0 && memcmp(buf, "some/target", n) == 0);
  /* the longest target (PATH_MAX - 1 bytes) round-trips */
  const char *t = name_of_len(PATH_MAX - 1, 't');
  OK(symlink(t, "long"));
  n = OK(readlink("long", buf, sizeof(buf)));
  EQ(n, PATH_MAX - 1);
  CHECK(n == PATH_MAX - 1 && memcmp(buf, t, n) == 0);
  EQ(st("long").st_size, PATH_MAX - 1);
  ERR(ENAMETOOLONG, symlink(name_of_len(PATH_MAX, 't'), "toolong"));
  /* a short buffer truncates without a NUL */
  memset(buf, 0, sizeof(buf));
  EQ(readlink("l", buf, 4), 4);
  CHECK(memcmp(buf, "some", 4) == 0 && buf[4] == 0);
  /* odd bytes in targets */
  OK(symlink("../../x/\001\377 y", "odd"));
  n = OK(readlink("odd", buf, sizeof(buf)));
  EQ(n, 12);
  ERR(ENOENT, symlink("", "empty"));
  OK(chmod(".", 0777));
  become(U1, G1, 1, G1);
  OK(symlink("f", "ul"));
  unbecome();
  EQ(st("ul").st_uid, U1);
  EQ(st("ul").st_gid, G1);
  ERR(EINVAL, readlink(".", buf, sizeof(buf)));
}

TEST(symlink_eexist) {
  mkfile("f", 0644);
  OK(mkdir("d", 0755));
  OK(symlink("x", "l"));
  ERR(EEXIST, symlink("t", "f"));
  ERR(EEXIST, symlink("t", "d"));
  ERR(EEXIST, symlink("t", "l"));
  ERR(EINVAL, readlink("f", (char[8]){0}, 8)); /* not a symlink */
}

TEST(symlink_follow) {
  OK(mkdir("d", 0755));
  mkfile_data("d/f", "data");
  OK(symlink("d", "ld"));
  OK(symlink("ld/f", "lf"));
  OK(symlink("/nonexistent-hostshare-target", "abs"));
  char buf[8] = {0};
  int fd = OK(open("lf", O_RDONLY));
  EQ(read(fd, buf, 4), 4);
  close(fd);
  CHECK(strcmp(buf, "data") == 0);
  ERR(ENOENT, open("abs", O_RDONLY));
  ERR(ELOOP, open("lf", O_RDONLY | O_NOFOLLOW));
  fd = OK(open("lf", O_PATH | O_NOFOLLOW));
  close(fd);
  struct stat s;
  OK(stat("ld", &s));
  CHECK(S_ISDIR(s.st_mode));
}

/* ---------------------------------------------------------------- unlink */

TEST(unlink_basic) {
  mkfile_data("f", "keep");
  OK(link("f", "g"));
  struct stat pa = st("."), fa = st("f");
  nap();
  OK(unlink("g"));
  struct stat pb = st("."), fb = st("f");
  EQ(fb.st_nlink, 1);
  CHECK(TS_GT(fb.st_ctim, fa.st_ctim)); /* remaining link's ctime */
  CHECK(TS_GT(pb.st_mtim, pa.st_mtim));
  CHECK(TS_GT(pb.st_ctim, pa.st_ctim));
  /* an open file stays readable after its last name is gone */
  int fd = OK(open("f", O_RDWR));
  OK(unlink("f"));
  ERR(ENOENT, access("f", F_OK));
  char buf[8] = {0};
  EQ(pread(fd, buf, 4, 0), 4);
  CHECK(strcmp(buf, "keep") == 0);
  EQ(pwrite(fd, "more", 4, 4), 4);
  struct stat s;
  OK(fstat(fd, &s));
  EQ(s.st_size, 8);
  EQ(s.st_nlink, 0);
  close(fd);
  /* fifos, sockets, symlinks (not their targets) */
  OK(mkfifo("p", 0644));
  OK(unlink("p"));
  OK(mknod("s", S_IFSOCK | 0644, 0));
  OK(unlink("s"));
  mkfile("t", 0644);
  OK(symlink("t", "l"));
  OK(unlink("l"));
  OK(access("t", F_OK));
  OK(mkdir("d", 0755));
  ERR(EISDIR, unlink("d"));
  ERR(ENOENT, unlink("f"));
}

/* ---------------------------------------------------------------- rmdir */

TEST(rmdir_basic) {
  OK(mkdir("d", 0755));
  struct stat pa = st(".");
  nap();
  OK(rmdir("d"));
  struct stat pb = st(".");
  ERR(ENOENT, access("d", F_OK));
  EQ(pb.st_nlink, pa.st_nlink - 1);
  CHECK(TS_GT(pb.st_mtim, pa.st_mtim));
  CHECK(TS_GT(pb.st_ctim, pa.st_ctim));
}

TEST(rmdir_errors) {
  OK(mkdir("d", 0755));
  mkfile("d/f", 0644);
  OK(mkdir("e", 0755));
  OK(mkdir("e/sub", 0755));
  ERR2(ENOTEMPTY, EEXIST, rmdir("d"));
  ERR2(ENOTEMPTY, EEXIST, rmdir("e"));
  mkfile("f", 0644);
  ERR(ENOTDIR, rmdir("f"));
  OK(symlink("e", "l"));
  ERR(ENOTDIR, rmdir("l"));
  ERR(EINVAL, rmdir("e/sub/."));
  ERR2(ENOTEMPTY, EEXIST, rmdir("e/sub/.."));
  ERR(ENOENT, rmdir("missing"));
  OK(rmdir("e/sub"));
  OK(rmdir("e"));
}
