/*
 * rename(2) and renameat2(2): every object type, replacement rules, link
 * counts, times of both parents and of the renamed object, and the
 * call-specific errors (EISDIR, ENOTDIR, ENOTEMPTY, EINVAL, EEXIST, EPERM/
 * EACCES).  Path-resolution errors are in t_paths.c, sticky rules in t_perm.c.
 */
#include <stdio.h>
#include <sys/syscall.h>

#include "conf.h"

#ifndef RENAME_NOREPLACE
#define RENAME_NOREPLACE (1 << 0)
#endif
#ifndef RENAME_EXCHANGE
#define RENAME_EXCHANGE (1 << 1)
#endif

static int rename2(const char *a, const char *b, unsigned flags) {
  return (int)syscall(SYS_renameat2, AT_FDCWD, a, AT_FDCWD, b, flags);
}

TEST(rename_types) {
  mkfile("f", 0644);
  OK(mkdir("d", 0755));
  OK(mkfifo("p", 0644));
  OK(symlink("f", "l"));
  OK(mknod("s", S_IFSOCK | 0644, 0));
  const char *names[] = {"f", "d", "p", "l", "s"};
  for (int i = 0; i < 5; i++) {
    char to[16];
    snprintf(to, sizeof(to), "%s.new", names[i]);
    struct stat a = st(names[i]);
    OK(rename(names[i], to));
    ERR(ENOENT, lstat(names[i], &a));
    struct stat b = st(to);
    EQ(b.st_ino, a.st_ino);
    EQ(b.st_mode, a.st_mode);
  }
  /* a symlink is renamed, not its target */
  CHECK(S_ISLNK(st("l.new").st_mode));
  OK(access("f.new", F_OK));
}

TEST(rename_times) {
  OK(mkdir("a", 0755));
  OK(mkdir("b", 0755));
  mkfile("a/f", 0644);
  struct stat fa = st("a/f"), aa = st("a"), ba = st("b");
  nap();
  OK(rename("a/f", "b/g"));
  struct stat fb = st("b/g"), ab = st("a"), bb = st("b");
  CHECK(TS_GT(ab.st_mtim, aa.st_mtim));
  CHECK(TS_GT(ab.st_ctim, aa.st_ctim));
  CHECK(TS_GT(bb.st_mtim, ba.st_mtim));
  CHECK(TS_GT(bb.st_ctim, ba.st_ctim));
  CHECK(TS_EQ(fb.st_mtim, fa.st_mtim));
  /* Linux file systems update the renamed object's ctime (POSIX allows it) */
  CHECK(TS_GT(fb.st_ctim, fa.st_ctim));
}

TEST(rename_replace) {
  mkfile_data("f", "new");
  mkfile_data("g", "old");
  OK(link("g", "g2"));
  ino_t fino = st("f").st_ino;
  struct stat g2a = st("g2");
  nap();
  OK(rename("f", "g"));
  EQ(st("g").st_ino, fino);
  EQ(st("g2").st_nlink, 1);
  CHECK(TS_GT(st("g2").st_ctim, g2a.st_ctim)); /* the replaced file's ctime */
  /* an empty directory may be replaced by a directory */
  OK(mkdir("d", 0755));
  OK(mkdir("e", 0755));
  mkfile("d/inside", 0644);
  struct stat top = st(".");
  OK(rename("d", "e"));
  OK(access("e/inside", F_OK));
  EQ(st(".").st_nlink, top.st_nlink - 1);
  /* a directory moved to another parent: both link counts follow ".." */
  OK(mkdir("p1", 0755));
  OK(mkdir("p2", 0755));
  OK(mkdir("p1/c", 0755));
  EQ(st("p1").st_nlink, 3);
  OK(rename("p1/c", "p2/c"));
  EQ(st("p1").st_nlink, 2);
  EQ(st("p2").st_nlink, 3);
  struct stat dd, p2;
  OK(stat("p2/c/..", &dd));
  OK(stat("p2", &p2));
  EQ(dd.st_ino, p2.st_ino);
  /* hard links of the same file: rename is a no-op, both names stay */
  mkfile("h", 0644);
  OK(link("h", "h2"));
  OK(rename("h", "h2"));
  OK(access("h", F_OK));
  OK(access("h2", F_OK));
  /* to itself */
  OK(rename("h", "h"));
  OK(rename("p2", "p2"));
}

TEST(rename_errors) {
  mkfile("f", 0644);
  OK(mkdir("d", 0755));
  OK(mkdir("full", 0755));
  mkfile("full/x", 0644);
  OK(mkdir("d/sub", 0755));
  ERR(EISDIR, rename("f", "d"));
  ERR(ENOTDIR, rename("d", "f"));
  ERR2(ENOTEMPTY, EEXIST, rename("d", "full"));
  ERR(EINVAL, rename("d", "d/sub/inner"));  /* into its own subtree */
  ERR(EINVAL, rename("d", "d/new"));
  ERR2(EINVAL, EBUSY, rename("d/sub/.", "x"));
  ERR2(EINVAL, EBUSY, rename(".", "x"));
  ERR(ENOENT, rename("missing", "x"));
  ERR(ENOTDIR, rename("f/", "g"));
  ERR(ENOTDIR, rename("f", "g/"));
  ERR2(EISDIR, ENOTDIR, rename("f", "d/"));
  /* the failed calls changed nothing */
  CHECK(S_ISREG(st("f").st_mode));
  CHECK(S_ISDIR(st("d").st_mode));
  OK(access("full/x", F_OK));
}

TEST(rename_permissions) {
  OK(mkdir("src", 0755));
  OK(mkdir("dst", 0777));
  mkfile("src/f", 0644);
  OK(chown("src/f", U1, G1));
  become(U1, G1, 1, G1);
  ERR(EACCES, rename("src/f", "dst/f")); /* no write permission on the source dir */
  unbecome();
  OK(chmod("src", 0777));
  OK(chmod("dst", 0755));
  become(U1, G1, 1, G1);
  ERR(EACCES, rename("src/f", "dst/f")); /* none on the target dir */
  unbecome();
  /* moving a directory to another parent needs write permission on it (for "..") */
  OK(chmod("dst", 0777));
  OK(mkdir("src/d", 0555));
  OK(chown("src/d", U1, G1));
  OK(chmod("src/d", 0555));
  become(U1, G1, 1, G1);
  ERR(EACCES, rename("src/d", "dst/d"));
  OK(rename("src/d", "src/d2")); /* same parent: ".." does not change */
  OK(rename("src/f", "dst/f"));
  unbecome();
}

TEST(renameat2_flags) {
  mkfile_data("a", "A");
  mkfile_data("b", "B");
  OK(mkdir("d", 0755));
  ERR(EEXIST, rename2("a", "b", RENAME_NOREPLACE));
  OK(rename2("a", "c", RENAME_NOREPLACE));
  ino_t bi = st("b").st_ino, ci = st("c").st_ino;
  OK(rename2("b", "c", RENAME_EXCHANGE));
  EQ(st("b").st_ino, ci);
  EQ(st("c").st_ino, bi);
  OK(rename2("b", "d", RENAME_EXCHANGE)); /* a file and a directory */
  CHECK(S_ISDIR(st("b").st_mode));
  CHECK(S_ISREG(st("d").st_mode));
  ERR(ENOENT, rename2("b", "missing", RENAME_EXCHANGE));
  ERR(EINVAL, rename2("b", "c", RENAME_EXCHANGE | RENAME_NOREPLACE));
}
