/*
 * A read-only share (-r): every modifying call fails with EROFS, reads work.
 * Runs in BASE/fixture, made by `posixconf -p BASE` while it was writable
 * (f, g: files; d/x; e: empty dir; l -> f; p: fifo; exe).
 */
#include <sys/xattr.h>

#include "conf.h"

TEST_RO(erofs_open) {
  ERR(EROFS, open("f", O_WRONLY));
  ERR(EROFS, open("f", O_RDWR));
  ERR(EROFS, open("f", O_RDONLY | O_TRUNC));
  ERR(EROFS, open("new", O_CREAT | O_WRONLY, 0644));
  ERR(EROFS, open("l", O_WRONLY));
  ERR(EEXIST, open("f", O_CREAT | O_EXCL | O_WRONLY, 0644));
  int fd = OK(open("f", O_RDONLY));
  char buf[8] = {0};
  EQ(read(fd, buf, 5), 5);
  CHECK(strcmp(buf, "data\n") == 0);
  close(fd);
  fd = OK(open("p", O_RDONLY | O_NONBLOCK)); /* a fifo can be opened and used */
  close(fd);
}

TEST_RO(erofs_names) {
  ERR(EROFS, mkdir("newdir", 0755));
  ERR(EROFS, mkfifo("newfifo", 0644));
  ERR(EROFS, mknod("newnod", S_IFIFO | 0644, 0));
  ERR(EROFS, symlink("f", "newlink"));
  ERR(EROFS, link("f", "newhard"));
  ERR(EROFS, rename("f", "f2"));
  ERR(EROFS, rename("f", "g"));
  ERR(EROFS, unlink("f"));
  ERR(EROFS, unlink("l"));
  ERR(EROFS, rmdir("e"));
  ERR(EEXIST, mkdir("d", 0755)); /* existence is reported first */
}

TEST_RO(erofs_attrs) {
  ERR(EROFS, chmod("f", 0600));
  ERR(EROFS, chown("f", U1, G1));
  ERR(EROFS, lchown("l", U1, G1));
  ERR(EROFS, truncate("f", 0));
  ERR(EROFS, utimensat(AT_FDCWD, "f", NULL, 0));
  ERR(EROFS, access("f", W_OK));
  OK(access("f", R_OK));
  int fd = OK(open("f", O_RDONLY));
  ERR(EROFS, fchmod(fd, 0600));
  ERR(EROFS, fchown(fd, U1, G1));
  ERR(EROFS, futimens(fd, NULL));
  int r = posix_fallocate(fd, 0, 10); /* the fd is read-only */
  if (r != EBADF && r != EROFS) fail_at(__FILE__, __LINE__, "posix_fallocate: %s", ename(r));
  ERR2(EROFS, ENOTSUP, setxattr("f", "user.test", "v", 1, 0));
  close(fd);
  struct stat s = st("f");
  EQ(s.st_size, 5);
  EQ(s.st_mode & 07777, 0644);
}
