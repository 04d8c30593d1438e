/*
 * open(2): creation (mode, owner, parent times), O_TRUNC, O_APPEND, O_EXCL,
 * and its call-specific errors: EACCES (permission bits), EISDIR, EEXIST,
 * ELOOP (O_NOFOLLOW), ENOTDIR (O_DIRECTORY), ENXIO, ETXTBSY.  The path errors
 * shared with the other calls are in t_paths.c, EROFS in t_readonly.c.
 */
#include <sys/wait.h>

#include "conf.h"

TEST(open_create) {
  struct stat pa = st(".");
  nap();
  int fd = OK(open("f", O_CREAT | O_WRONLY, 0640));
  close(fd);
  struct stat f = st("f"), pb = st(".");
  CHECK(S_ISREG(f.st_mode));
  EQ(f.st_mode & 07777, 0640);
  EQ(f.st_size, 0);
  EQ(f.st_uid, 0);
  EQ(f.st_nlink, 1);
  CHECK(TS_GT(pb.st_mtim, pa.st_mtim));
  CHECK(TS_GT(pb.st_ctim, pa.st_ctim));
  /* O_CREAT on an existing file: no change to it or the directory */
  nap();
  fd = OK(open("f", O_CREAT | O_RDONLY, 0777));
  close(fd);
  struct stat f2 = st("f"), pc = st(".");
  EQ(f2.st_mode & 07777, 0640);
  CHECK(TS_EQ(f2.st_mtim, f.st_mtim));
  CHECK(TS_EQ(f2.st_ctim, f.st_ctim));
  CHECK(TS_EQ(pc.st_mtim, pb.st_mtim));
  /* umask; special bits; a file created without write permission is writable by its creator's fd */
  umask(027);
  fd = OK(open("g", O_CREAT | O_WRONLY, 0777));
  close(fd);
  EQ(mode_of("g"), 0750);
  umask(0);
  fd = OK(open("h", O_CREAT | O_RDWR, 0444));
  EQ(write(fd, "x", 1), 1);
  close(fd);
  EQ(mode_of("h"), 0444);
  fd = OK(open("s", O_CREAT | O_WRONLY, 07777));
  close(fd);
  EQ(mode_of("s"), 07777);
  umask(022);
  /* a non-root creator */
  OK(chmod(".", 0777));
  become(U1, G1, 1, G1);
  fd = OK(open("u", O_CREAT | O_WRONLY, 0600));
  close(fd);
  unbecome();
  EQ(st("u").st_uid, U1);
  EQ(st("u").st_gid, G1);
  /* O_CREAT through a dangling symlink creates the target */
  OK(symlink("target", "dl"));
  fd = OK(open("dl", O_CREAT | O_WRONLY, 0644));
  close(fd);
  CHECK(S_ISREG(st("target").st_mode));
}

TEST(open_trunc) {
  mkfile_data("f", "0123456789");
  struct stat a = st("f");
  nap();
  int fd = OK(open("f", O_WRONLY | O_TRUNC));
  close(fd);
  struct stat b = st("f");
  EQ(b.st_size, 0);
  CHECK(TS_GT(b.st_mtim, a.st_mtim));
  CHECK(TS_GT(b.st_ctim, a.st_ctim));
  /* O_TRUNC | O_RDONLY is unspecified; Linux truncates: not checked */
  /* O_TRUNC needs write permission */
  mkfile_data("g", "data");
  OK(chown("g", U1, G1));
  OK(chmod("g", 0444));
  become(U1, G1, 1, G1);
  ERR(EACCES, open("g", O_WRONLY | O_TRUNC));
  unbecome();
  EQ(st("g").st_size, 4);
}

TEST(open_append) {
  mkfile_data("f", "abc");
  int fd = OK(open("f", O_WRONLY | O_APPEND));
  OK(lseek(fd, 0, SEEK_SET));
  EQ(write(fd, "de", 2), 2);
  EQ(pwrite(fd, "f", 1, 0), 1); /* Linux: pwrite with O_APPEND appends */
  close(fd);
  char buf[16] = {0};
  fd = OK(open("f", O_RDONLY));
  EQ(read(fd, buf, sizeof(buf)), 6);
  close(fd);
  CHECK(strcmp(buf, "abcdef") == 0);
}

TEST(open_excl) {
  mkfile("f", 0644);
  OK(mkdir("d", 0755));
  OK(symlink("f", "l"));
  OK(symlink("nowhere", "dangling"));
  OK(mkfifo("p", 0644));
  ERR(EEXIST, open("f", O_CREAT | O_EXCL | O_WRONLY, 0644));
  ERR(EEXIST, open("d", O_CREAT | O_EXCL | O_RDONLY, 0644));
  ERR(EEXIST, open("l", O_CREAT | O_EXCL | O_WRONLY, 0644));
  ERR(EEXIST, open("dangling", O_CREAT | O_EXCL | O_WRONLY, 0644)); /* not followed */
  ERR(EEXIST, open("p", O_CREAT | O_EXCL | O_WRONLY, 0644));
  ERR(ENOENT, access("nowhere", F_OK));
  int fd = OK(open("new", O_CREAT | O_EXCL | O_WRONLY, 0644));
  close(fd);
}

TEST(open_eisdir) {
  OK(mkdir("d", 0755));
  ERR(EISDIR, open("d", O_WRONLY));
  ERR(EISDIR, open("d", O_RDWR));
  ERR(EISDIR, open("d", O_RDONLY | O_TRUNC));
  ERR(EISDIR, open("d", O_CREAT | O_RDONLY, 0644));
  ERR(EISDIR, open("d", O_CREAT | O_WRONLY, 0644));
  ERR(EISDIR, open(".", O_WRONLY));
  int fd = OK(open("d", O_RDONLY));
  close(fd);
  fd = OK(open("d", O_RDONLY | O_DIRECTORY));
  close(fd);
}

TEST(open_enotdir) {
  mkfile("f", 0644);
  OK(symlink("f", "l"));
  ERR(ENOTDIR, open("f", O_RDONLY | O_DIRECTORY));
  ERR(ENOTDIR, open("l", O_RDONLY | O_DIRECTORY));
  ERR(ENOTDIR, open("f/", O_RDONLY));
  ERR(ENOTDIR, open("f/.", O_RDONLY));
}

TEST(open_eloop_nofollow) {
  mkfile("f", 0644);
  OK(symlink("f", "l"));
  OK(symlink("l1", "l2"));
  OK(symlink("l2", "l1"));
  ERR(ELOOP, open("l", O_RDONLY | O_NOFOLLOW));
  ERR(ELOOP, open("l", O_WRONLY | O_CREAT | O_NOFOLLOW, 0644));
  ERR(ELOOP, open("l1", O_RDONLY));
  ERR(ELOOP, open("l1", O_WRONLY | O_CREAT, 0644));
  /* a chain of 40 links resolves, 41 does not (Linux: MAXSYMLINKS = 40) */
  char from[16], to[16];
  for (int i = 0; i < 41; i++) {
    snprintf(from, sizeof(from), "c%d", i);
    snprintf(to, sizeof(to), i ? "c%d" : "f", i - 1);
    OK(symlink(to, from));
  }
  int fd = OK(open("c39", O_RDONLY));
  close(fd);
  ERR(ELOOP, open("c40", O_RDONLY));
}

TEST(open_eacces_bits) {
  /* owner, group and other classes; the first matching class decides */
  static const struct { mode_t mode; uid_t uid; int in_group; int r, w; } cases[] = {
      {0400, U1, 0, 1, 0}, {0200, U1, 0, 0, 1}, {0040, U1, 1, 0, 0}, {0004, U1, 0, 0, 0},
      {0040, U2, 1, 1, 0}, {0020, U2, 1, 0, 1}, {0400, U2, 1, 0, 0}, {0004, U2, 1, 0, 0},
      {0004, U2, 0, 1, 0}, {0002, U2, 0, 0, 1}, {0044, U2, 0, 1, 0}, {0070, U2, 0, 0, 0},
      {0000, U1, 1, 0, 0}, {0066, U1, 1, 0, 0}, {0606, U2, 1, 0, 0}, {0660, U2, 1, 1, 1},
  };
  for (unsigned i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
    char name[16];
    snprintf(name, sizeof(name), "f%u", i);
    mkfile(name, 0600);
    OK(chown(name, U1, G1));
    OK(chmod(name, cases[i].mode));
    if (cases[i].in_group)
      become(cases[i].uid, G2, 2, G2, G1); /* G1 as a supplementary group */
    else
      become(cases[i].uid, G2, 1, G2);
    int fd = open(name, O_RDONLY);
    if (cases[i].r) {
      OK(fd);
    } else {
      ERR(EACCES, fd);
    }
    if (fd >= 0) close(fd);
    fd = open(name, O_WRONLY);
    if (cases[i].w) {
      OK(fd);
    } else {
      ERR(EACCES, fd);
    }
    if (fd >= 0) close(fd);
    fd = open(name, O_RDWR);
    if (cases[i].r && cases[i].w) {
      OK(fd);
    } else {
      ERR(EACCES, fd);
    }
    if (fd >= 0) close(fd);
    unbecome();
  }
  /* root reads and writes whatever the bits */
  mkfile("r", 0000);
  int fd = OK(open("r", O_RDWR));
  close(fd);
}

TEST(open_eacces_dir) {
  /* O_CREAT needs write and search permission on the directory */
  OK(mkdir("ro", 0755));
  OK(mkdir("wo", 0733));
  OK(mkdir("nx", 0766));
  become(U1, G1, 1, G1);
  ERR(EACCES, open("ro/f", O_CREAT | O_WRONLY, 0644));
  ERR(EACCES, open("nx/f", O_CREAT | O_WRONLY, 0644));
  int fd = OK(open("wo/f", O_CREAT | O_WRONLY, 0644));
  if (fd >= 0) close(fd);
  ERR(EACCES, open("wo", O_RDONLY)); /* cannot list a write+search-only dir */
  unbecome();
  OK(chmod("ro", 0311));
  become(U1, G1, 1, G1);
  ERR(EACCES, open("ro", O_RDONLY));
  unbecome();
}

TEST(open_enxio_fifo) {
  OK(mkfifo("p", 0644));
  ERR(ENXIO, open("p", O_WRONLY | O_NONBLOCK));
  int r = OK(open("p", O_RDONLY | O_NONBLOCK));
  int w = OK(open("p", O_WRONLY | O_NONBLOCK));
  close(w);
  close(r);
}

TEST(open_etxtbsy) {
  copy_file("/bin/sleep", "exe", 0755);
  pid_t pid = start_exe("exe");
  if (pid > 0) {
    ERR(ETXTBSY, open("exe", O_WRONLY));
    ERR(ETXTBSY, open("exe", O_RDWR));
    ERR(ETXTBSY, open("exe", O_WRONLY | O_TRUNC));
    ERR(ETXTBSY, truncate("exe", 0));
    int fd = OK(open("exe", O_RDONLY));
    close(fd);
    stop_exe(pid);
  }
  int fd = OK(open("exe", O_WRONLY)); /* no longer busy */
  close(fd);
}

TEST(open_noatime_owner) {
  /* O_NOATIME: only the owner (or CAP_FOWNER) */
  mkfile_data("f", "x");
  OK(chmod("f", 0644));
  become(U1, G1, 1, G1);
  ERR(EPERM, open("f", O_RDONLY | O_NOATIME));
  unbecome();
  int fd = OK(open("f", O_RDONLY | O_NOATIME));
  close(fd);
}

TEST(open_tmpfile) {
  /* O_TMPFILE then linkat(/proc/self/fd): an anonymous file given a name */
  int fd = open(".", O_TMPFILE | O_RDWR, 0600);
  if (fd < 0 && errno == EOPNOTSUPP) skip("O_TMPFILE not supported by this file system");
  OK(fd);
  if (fd < 0) return;
  EQ(write(fd, "tmp", 3), 3);
  char proc[64];
  snprintf(proc, sizeof(proc), "/proc/self/fd/%d", fd);
  OK(linkat(AT_FDCWD, proc, AT_FDCWD, "named", AT_SYMLINK_FOLLOW));
  close(fd);
  EQ(st("named").st_size, 3);
  EQ(mode_of("named"), 0600);
}
