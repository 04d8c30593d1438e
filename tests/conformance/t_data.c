/*
 * truncate(2), ftruncate(2), posix_fallocate(3), utimensat(2), and the
 * timestamps of data operations (write, read, O_TRUNC...).
 */
#include <signal.h>
#include <stdint.h>
#include <time.h>

#include "conf.h"

static int all_zero(int fd, off_t from, off_t to) {
  char buf[4096];
  while (from < to) {
    size_t n = (size_t)(to - from) < sizeof(buf) ? (size_t)(to - from) : sizeof(buf);
    ssize_t r = pread(fd, buf, n, from);
    if (r <= 0) return 0;
    for (ssize_t i = 0; i < r; i++)
      if (buf[i]) return 0;
    from += r;
  }
  return 1;
}

/* ---------------------------------------------------------------- truncate */

TEST(truncate_basic) {
  mkfile_data("f", "0123456789");
  struct stat a = st("f");
  nap();
  OK(truncate("f", 4));
  struct stat b = st("f");
  EQ(b.st_size, 4);
  CHECK(TS_GT(b.st_mtim, a.st_mtim));
  CHECK(TS_GT(b.st_ctim, a.st_ctim));
  OK(truncate("f", 100000));
  EQ(st("f").st_size, 100000);
  int fd = OK(open("f", O_RDONLY));
  char buf[8] = {0};
  EQ(pread(fd, buf, 8, 0), 8);
  CHECK(memcmp(buf, "0123\0\0\0\0", 8) == 0);
  CHECK(all_zero(fd, 4, 100000));
  close(fd);
  OK(truncate("f", 0));
  EQ(st("f").st_size, 0);
  /* a large sparse size */
  OK(truncate("f", (off_t)1 << 40));
  EQ(st("f").st_size, (off_t)1 << 40);
  OK(truncate("f", 0));
}

TEST(truncate_errors) {
  mkfile("f", 0644);
  OK(mkdir("d", 0755));
  ERR(EISDIR, truncate("d", 0));
  ERR(EINVAL, truncate("f", -1));
  ERR(EFBIG, truncate("f", INT64_MAX));
  OK(chown("f", U1, G1));
  OK(chmod("f", 0444));
  become(U1, G1, 1, G1);
  ERR(EACCES, truncate("f", 0)); /* no write permission, even for the owner */
  unbecome();
  OK(truncate("f", 1)); /* root may */
  OK(mkfifo("p", 0644));
  ERR(EINVAL, truncate("p", 0));
}

TEST(ftruncate_basic) {
  mkfile_data("f", "0123456789");
  int fd = OK(open("f", O_RDWR));
  struct stat a = st("f");
  nap();
  OK(ftruncate(fd, 3));
  struct stat b;
  OK(fstat(fd, &b));
  EQ(b.st_size, 3);
  CHECK(TS_GT(b.st_mtim, a.st_mtim));
  CHECK(TS_GT(b.st_ctim, a.st_ctim));
  OK(ftruncate(fd, 65536 + 7));
  CHECK(all_zero(fd, 3, 65536 + 7));
  ERR(EINVAL, ftruncate(fd, -1));
  close(fd);
  /* a file opened read-only cannot be truncated through that fd */
  fd = OK(open("f", O_RDONLY));
  ERR2(EINVAL, EBADF, ftruncate(fd, 0));
  close(fd);
  /* permission is checked at open, not at ftruncate */
  mkfile("g", 0644);
  OK(chown("g", U1, G1));
  become(U1, G1, 1, G1);
  fd = OK(open("g", O_RDWR));
  OK(fchmod(fd, 0));
  OK(ftruncate(fd, 10));
  close(fd);
  unbecome();
  EQ(st("g").st_size, 10);
  OK(mkdir("d", 0755));
  fd = OK(open("d", O_RDONLY));
  ERR2(EINVAL, EBADF, ftruncate(fd, 0));
  close(fd);
}

/* ---------------------------------------------------------------- posix_fallocate */

TEST(posix_fallocate_basic) {
  mkfile_data("f", "abc");
  int fd = OK(open("f", O_RDWR));
  struct stat a = st("f");
  nap();
  RET(0, posix_fallocate(fd, 0, 1 << 20));
  struct stat b;
  OK(fstat(fd, &b));
  EQ(b.st_size, 1 << 20);
  CHECK(b.st_blocks * 512 >= (1 << 20) - 4096);
  CHECK(TS_GT(b.st_ctim, a.st_ctim));
  char buf[3];
  EQ(pread(fd, buf, 3, 0), 3);
  CHECK(memcmp(buf, "abc", 3) == 0);
  CHECK(all_zero(fd, 3, 1 << 20));
  /* inside the file: size unchanged */
  RET(0, posix_fallocate(fd, 4096, 8192));
  OK(fstat(fd, &b));
  EQ(b.st_size, 1 << 20);
  /* beyond the end with a gap */
  RET(0, posix_fallocate(fd, (2 << 20) + 5, 10));
  OK(fstat(fd, &b));
  EQ(b.st_size, (2 << 20) + 15);
  RET(EINVAL, posix_fallocate(fd, 0, 0));
  RET(EINVAL, posix_fallocate(fd, -1, 10));
  RET(EFBIG, posix_fallocate(fd, INT64_MAX - 10, 100));
  close(fd);
  fd = OK(open("f", O_RDONLY));
  RET(EBADF, posix_fallocate(fd, 0, 10));
  close(fd);
  OK(mkfifo("p", 0644));
  int r = OK(open("p", O_RDONLY | O_NONBLOCK));
  int w = OK(open("p", O_WRONLY));
  RET(ESPIPE, posix_fallocate(w, 0, 10));
  close(w);
  close(r);
}

/* ---------------------------------------------------------------- utimensat */

static struct timespec T(time_t s, long ns) {
  return (struct timespec){s, ns};
}

TEST(utimensat_basic) {
  mkfile("f", 0644);
  struct stat a = st("f");
  nap();
  struct timespec ts[2] = {T(1000000000, 123456789), T(1200000000, 987654321)};
  OK(utimensat(AT_FDCWD, "f", ts, 0));
  struct stat b = st("f");
  EQ(b.st_atim.tv_sec, 1000000000);
  EQ(b.st_atim.tv_nsec, 123456789);
  EQ(b.st_mtim.tv_sec, 1200000000);
  EQ(b.st_mtim.tv_nsec, 987654321);
  CHECK(TS_GT(b.st_ctim, a.st_ctim));
  /* UTIME_OMIT leaves one alone; UTIME_NOW sets the current time */
  struct timespec ts2[2] = {T(0, UTIME_OMIT), T(1300000000, 5)};
  OK(utimensat(AT_FDCWD, "f", ts2, 0));
  b = st("f");
  EQ(b.st_atim.tv_sec, 1000000000);
  EQ(b.st_mtim.tv_sec, 1300000000);
  EQ(b.st_mtim.tv_nsec, 5);
  struct timespec ts3[2] = {T(0, UTIME_NOW), T(0, UTIME_OMIT)};
  OK(utimensat(AT_FDCWD, "f", ts3, 0));
  b = st("f");
  CHECK(b.st_atim.tv_sec > 1600000000);
  EQ(b.st_mtim.tv_sec, 1300000000);
  /* both omitted: nothing changes, not even ctime */
  struct stat c = st("f");
  nap();
  struct timespec ts4[2] = {T(0, UTIME_OMIT), T(0, UTIME_OMIT)};
  OK(utimensat(AT_FDCWD, "f", ts4, 0));
  CHECK(TS_EQ(st("f").st_ctim, c.st_ctim));
  /* NULL = both now: close to the time the host stamps as ctime */
  OK(utimensat(AT_FDCWD, "f", NULL, 0));
  b = st("f");
  CHECK(TS_EQ(b.st_mtim, b.st_atim));
  CHECK(b.st_mtim.tv_sec >= b.st_ctim.tv_sec - 1 && b.st_mtim.tv_sec <= b.st_ctim.tv_sec + 1);
  /* futimens and AT_SYMLINK_NOFOLLOW */
  int fd = OK(open("f", O_RDONLY));
  struct timespec ts5[2] = {T(1111, 1), T(2222, 2)};
  OK(futimens(fd, ts5));
  close(fd);
  EQ(st("f").st_mtim.tv_sec, 2222);
  OK(symlink("f", "l"));
  struct timespec ts6[2] = {T(3333, 0), T(4444, 0)};
  OK(utimensat(AT_FDCWD, "l", ts6, AT_SYMLINK_NOFOLLOW));
  EQ(st("l").st_mtim.tv_sec, 4444);
  EQ(st("f").st_mtim.tv_sec, 2222);
  ERR(EINVAL, utimensat(AT_FDCWD, "f", (struct timespec[2]){T(0, 1000000000), T(0, 0)}, 0));
  ERR(EINVAL, utimensat(AT_FDCWD, "f", (struct timespec[2]){T(0, -2), T(0, 0)}, 0));
}

TEST(utimensat_ranges) {
  /* pre-1970, y2038 and far-future times; mtime < atime */
  mkfile("f", 0644);
  static const time_t secs[] = {0, -1, -1000000000, 2147483647, 2147483648LL, 4294967296LL,
                                 15000000000LL /* year 2445: ext4's range ends in 2446 */};
  for (unsigned i = 0; i < sizeof(secs) / sizeof(secs[0]); i++) {
    struct timespec ts[2] = {T(secs[i], 1), T(secs[i], 999999999)};
    OK(utimensat(AT_FDCWD, "f", ts, 0));
    struct stat b = st("f");
    EQ(b.st_atim.tv_sec, secs[i]);
    EQ(b.st_mtim.tv_sec, secs[i]);
    EQ(b.st_mtim.tv_nsec, 999999999);
  }
  struct timespec ts[2] = {T(2000000000, 0), T(1000000000, 0)};
  OK(utimensat(AT_FDCWD, "f", ts, 0));
  EQ(st("f").st_atim.tv_sec, 2000000000);
  EQ(st("f").st_mtim.tv_sec, 1000000000);
}

TEST(utimensat_permissions) {
  mkfile("f", 0666);
  OK(chmod("f", 0666));
  OK(chown("f", U1, G1));
  mkfile("g", 0644);
  OK(chown("g", U1, G1));
  struct timespec set[2] = {T(5000, 0), T(6000, 0)};
  struct timespec now_now[2] = {T(0, UTIME_NOW), T(0, UTIME_NOW)};
  struct timespec omit_omit[2] = {T(0, UTIME_OMIT), T(0, UTIME_OMIT)};
  /* the owner sets any time */
  become(U1, G1, 1, G1);
  OK(utimensat(AT_FDCWD, "g", set, 0));
  unbecome();
  become(U2, G2, 1, G2);
  /* a non-owner with write permission may set "now", not explicit times */
  OK(utimensat(AT_FDCWD, "f", NULL, 0));
  OK(utimensat(AT_FDCWD, "f", now_now, 0));
  ERR(EPERM, utimensat(AT_FDCWD, "f", set, 0));
  /* without write permission: not even "now" */
  ERR(EACCES, utimensat(AT_FDCWD, "g", NULL, 0));
  ERR(EACCES, utimensat(AT_FDCWD, "g", now_now, 0));
  ERR(EPERM, utimensat(AT_FDCWD, "g", set, 0));
  OK(utimensat(AT_FDCWD, "g", omit_omit, 0));
  unbecome();
  EQ(st("g").st_mtim.tv_sec, 6000);
}

/* ---------------------------------------------------------------- times of data ops */

TEST(times_write) {
  mkfile_data("f", "abc");
  struct stat a = st("f");
  nap();
  int fd = OK(open("f", O_WRONLY));
  EQ(write(fd, "x", 1), 1);
  close(fd);
  struct stat b = st("f");
  CHECK(TS_GT(b.st_mtim, a.st_mtim));
  CHECK(TS_GT(b.st_ctim, a.st_ctim));
  EQ(b.st_size, 3);
  /* a zero-length write changes nothing */
  nap();
  fd = OK(open("f", O_WRONLY));
  EQ(write(fd, "", 0), 0);
  close(fd);
  struct stat c = st("f");
  CHECK(TS_EQ(c.st_mtim, b.st_mtim));
  /* pwrite past the end */
  nap();
  fd = OK(open("f", O_WRONLY));
  EQ(pwrite(fd, "z", 1, 10000), 1);
  close(fd);
  struct stat d = st("f");
  EQ(d.st_size, 10001);
  CHECK(TS_GT(d.st_mtim, c.st_mtim));
}

TEST(times_read_atime) {
  /* reading sets atime when it is older than mtime (relatime) or explicitly old */
  mkfile_data("f", "abc");
  struct timespec old[2] = {T(1000000000, 0), T(1000000000, 0)};
  OK(utimensat(AT_FDCWD, "f", old, 0));
  struct stat a = st("f");
  char buf[4];
  int fd = OK(open("f", O_RDONLY));
  EQ(read(fd, buf, 3), 3);
  close(fd);
  struct stat b = st("f");
  CHECK(TS_GT(b.st_atim, a.st_atim));
  CHECK(TS_EQ(b.st_mtim, a.st_mtim));
}

TEST(times_dir_ops) {
  /* every name operation updates the directory's mtime and ctime */
  OK(mkdir("d", 0755));
  mkfile("d/f", 0644);
  static const char *what[] = {"create", "mkdir", "rename", "link", "symlink", "unlink", "rmdir"};
  for (int i = 0; i < 7; i++) {
    struct stat a = st("d");
    nap();
    switch (i) {
    case 0: mkfile("d/g", 0644); break;
    case 1: OK(mkdir("d/sub", 0755)); break;
    case 2: OK(rename("d/g", "d/g2")); break;
    case 3: OK(link("d/f", "d/f2")); break;
    case 4: OK(symlink("f", "d/l")); break;
    case 5: OK(unlink("d/f2")); break;
    case 6: OK(rmdir("d/sub")); break;
    }
    struct stat b = st("d");
    if (!TS_GT(b.st_mtim, a.st_mtim) || !TS_GT(b.st_ctim, a.st_ctim))
      fail_at(__FILE__, __LINE__, "%s did not update the directory's mtime/ctime", what[i]);
  }
  /* and a change inside a file does not */
  struct stat a = st("d");
  nap();
  mkfile_data("d/f", "changed");
  CHECK(TS_EQ(st("d").st_mtim, a.st_mtim));
}

TEST(times_ctime_only) {
  /* metadata changes move ctime only; mtime stays */
  mkfile_data("f", "x");
  static const char *what[] = {"chmod", "chown", "link", "rename"};
  for (int i = 0; i < 4; i++) {
    struct stat a = st(i == 3 ? "f" : "f");
    nap();
    switch (i) {
    case 0: OK(chmod("f", 0600)); break;
    case 1: OK(chown("f", U1, G1)); break;
    case 2: OK(link("f", "f2")); break;
    case 3: OK(rename("f", "f3")); OK(rename("f3", "f")); break;
    }
    struct stat b = st("f");
    if (!TS_GT(b.st_ctim, a.st_ctim))
      fail_at(__FILE__, __LINE__, "%s did not update ctime", what[i]);
    if (!TS_EQ(b.st_mtim, a.st_mtim))
      fail_at(__FILE__, __LINE__, "%s changed mtime", what[i]);
  }
}
