/*
 * Permission checks for unprivileged users and groups (owner/group/other
 * classes, supplementary groups, search permission, access(2), exec), setgid
 * directory inheritance, sticky directories, and the clearing of S_ISUID /
 * S_ISGID when an unprivileged user writes or truncates a file.
 */
#include <grp.h>
#include <sys/wait.h>

#include "conf.h"

TEST(perm_search_path) {
  OK(mkdir("a", 0755));
  OK(mkdir("a/b", 0755));
  mkfile_data("a/b/f", "x");
  OK(chmod("a/b/f", 0644));
  become(U1, G1, 1, G1);
  OK(access("a/b/f", R_OK));
  unbecome();
  OK(chmod("a", 0744)); /* no search for others: blocked at "a" */
  become(U1, G1, 1, G1);
  ERR(EACCES, access("a/b/f", F_OK));
  ERR(EACCES, open("a/b/f", O_RDONLY));
  struct stat s;
  ERR(EACCES, stat("a/b", &s));
  unbecome();
  OK(chmod("a", 0711)); /* search without read: names still resolve */
  become(U1, G1, 1, G1);
  OK(access("a/b/f", R_OK));
  ERR(EACCES, open("a", O_RDONLY)); /* but the directory cannot be listed */
  unbecome();
  OK(chown("a", U2, G1));
  OK(chmod("a", 0710)); /* search through the group class */
  become(U1, G2, 2, G2, G1);
  OK(access("a/b/f", R_OK));
  unbecome();
}

TEST(perm_access) {
  mkfile("f", 0640);
  OK(chown("f", U1, G1));
  become(U1, G2, 1, G2);
  OK(access("f", R_OK | W_OK));
  ERR(EACCES, access("f", X_OK));
  unbecome();
  become(U2, G1, 1, G1);
  OK(access("f", R_OK));
  ERR(EACCES, access("f", W_OK));
  unbecome();
  become(U2, G2, 1, G2);
  ERR(EACCES, access("f", R_OK));
  OK(access("f", F_OK));
  unbecome();
  become(U2, G2, 2, G2, G1); /* supplementary group */
  OK(access("f", R_OK));
  OK(faccessat(AT_FDCWD, "f", R_OK, AT_EACCESS));
  unbecome();
  /* root: everything but executing a file with no execute bit at all */
  OK(access("f", R_OK | W_OK));
  ERR(EACCES, access("f", X_OK));
  OK(chmod("f", 0010));
  OK(access("f", X_OK));
}

TEST(perm_exec) {
  copy_file("/bin/true", "t", 0755);
  OK(chown("t", U1, G1));
  static const struct { mode_t mode; uid_t uid; int ok; } cases[] = {
      {0755, U2, 1}, {0700, U2, 0}, {0700, U1, 1}, {0070, U1, 0}, {0654, U2, 0}, {0645, U2, 1},
  };
  for (unsigned i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
    OK(chmod("t", cases[i].mode));
    pid_t pid = fork();
    if (pid == 0) {
      if (setgroups(0, NULL) || setgid(G2) || setuid(cases[i].uid)) _exit(99);
      execl("./t", "t", (char *)NULL);
      _exit(errno == EACCES ? 98 : 97);
    }
    int status = 0;
    waitpid(pid, &status, 0);
    int code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
    if (cases[i].ok && code != 0)
      fail_at(__FILE__, __LINE__, "exec mode %04o uid %d: exit %d, want success",
              (unsigned)cases[i].mode, (int)cases[i].uid, code);
    if (!cases[i].ok && code != 98)
      fail_at(__FILE__, __LINE__, "exec mode %04o uid %d: exit %d, want EACCES",
              (unsigned)cases[i].mode, (int)cases[i].uid, code);
  }
}

TEST(perm_create_in_group_dir) {
  /* writing into a directory through a supplementary group */
  OK(mkdir("g", 0770));
  OK(chown("g", U2, G1));
  become(U1, G2, 2, G2, G1);
  int fd = OK(open("g/f", O_CREAT | O_WRONLY, 0644));
  if (fd >= 0) close(fd);
  OK(mkdir("g/d", 0755));
  OK(rename("g/f", "g/f2"));
  OK(unlink("g/f2"));
  OK(rmdir("g/d"));
  unbecome();
  become(U1, G2, 1, G2);
  ERR(EACCES, open("g/h", O_CREAT | O_WRONLY, 0644));
  unbecome();
}

TEST(perm_write_through_group) {
  /* opening an existing file for writing through a supplementary group */
  mkfile("f", 0660);
  OK(chown("f", U2, G1));
  become(U1, G2, 2, G2, G1);
  int fd = OK(open("f", O_WRONLY));
  if (fd >= 0) {
    EQ(write(fd, "ok", 2), 2);
    close(fd);
  }
  OK(truncate("f", 1));
  unbecome();
  EQ(st("f").st_size, 1);
}

/* ---------------------------------------------------------------- setgid dirs */

TEST(setgid_dir_inherit) {
  OK(mkdir("sg", 0777));
  OK(chown("sg", 0, G1));
  OK(chmod("sg", 02777));
  /* root creates: group from the directory; subdirectories keep S_ISGID */
  mkfile("sg/f", 0644);
  OK(mkdir("sg/d", 0755));
  OK(mkfifo("sg/p", 0644));
  OK(symlink("f", "sg/l"));
  EQ(st("sg/f").st_gid, G1);
  EQ(st("sg/d").st_gid, G1);
  EQ(mode_of("sg/d"), 02755);
  EQ(st("sg/p").st_gid, G1);
  EQ(st("sg/l").st_gid, G1);
  /* a user that is not in G1 creates: still G1 */
  become(U1, G2, 1, G2);
  int fd = OK(open("sg/uf", O_CREAT | O_WRONLY, 0644));
  if (fd >= 0) close(fd);
  OK(mkdir("sg/ud", 0755));
  unbecome();
  EQ(st("sg/uf").st_uid, U1);
  EQ(st("sg/uf").st_gid, G1);
  EQ(st("sg/ud").st_gid, G1);
  EQ(mode_of("sg/ud"), 02755);
  /* nested: the inherited S_ISGID propagates further */
  become(U1, G2, 1, G2);
  OK(mkdir("sg/ud/deeper", 0700));
  unbecome();
  EQ(st("sg/ud/deeper").st_gid, G1);
  EQ(mode_of("sg/ud/deeper"), 02700);
  /* without S_ISGID on the parent: the creator's group */
  OK(mkdir("plain", 0777));
  OK(chown("plain", 0, G1));
  OK(chmod("plain", 0777));
  become(U1, G2, 1, G2);
  fd = OK(open("plain/f", O_CREAT | O_WRONLY, 0644));
  if (fd >= 0) close(fd);
  unbecome();
  EQ(st("plain/f").st_gid, G2);
}

TEST(setgid_file_create_strip) {
  /* a non-member creating a file with S_ISGID in a setgid dir: the bit is dropped */
  OK(mkdir("sg", 0777));
  OK(chown("sg", 0, G1));
  OK(chmod("sg", 02777));
  become(U1, G2, 1, G2);
  int fd = OK(open("sg/f", O_CREAT | O_WRONLY, 02755));
  if (fd >= 0) close(fd);
  unbecome();
  EQ(st("sg/f").st_gid, G1);
  EQ(mode_of("sg/f"), 0755);
  /* a member keeps it */
  become(U1, G2, 2, G2, G1);
  fd = OK(open("sg/g", O_CREAT | O_WRONLY, 02755));
  if (fd >= 0) close(fd);
  unbecome();
  EQ(mode_of("sg/g"), 02755);
}

/* ---------------------------------------------------------------- sticky dirs */

TEST(sticky_dir) {
  OK(mkdir("t", 0777));
  OK(chmod("t", 01777));
  become(U1, G1, 1, G1);
  mkfile("t/a", 0644);
  OK(mkdir("t/ad", 0755));
  unbecome();
  become(U2, G2, 1, G2);
  mkfile("t/b", 0644);
  ERR(EPERM, unlink("t/a"));
  ERR(EPERM, rmdir("t/ad"));
  ERR(EPERM, rename("t/a", "t/a2"));
  ERR(EPERM, rename("t/b", "t/a"));  /* replacing someone else's file */
  OK(rename("t/b", "t/b2"));
  OK(unlink("t/b2"));
  unbecome();
  OK(access("t/a", F_OK));
  /* the owner of the directory may remove anything in it */
  OK(chown("t", U2, G2));
  become(U2, G2, 1, G2);
  OK(unlink("t/a"));
  OK(rmdir("t/ad"));
  unbecome();
  /* and root */
  become(U1, G1, 1, G1);
  mkfile("t/c", 0644);
  unbecome();
  OK(unlink("t/c"));
  /* without the sticky bit, write permission on the directory is enough */
  OK(chmod("t", 0777));
  become(U1, G1, 1, G1);
  mkfile("t/d", 0644);
  unbecome();
  become(U2, G2, 1, G2);
  OK(unlink("t/d"));
  unbecome();
}

TEST(sticky_dir_group_write) {
  /* write permission on the file does not override the sticky rule */
  OK(mkdir("t", 0777));
  OK(chmod("t", 01777));
  become(U1, G1, 1, G1);
  mkfile("t/a", 0666);
  OK(chmod("t/a", 0666));
  unbecome();
  become(U2, G2, 1, G2);
  int fd = OK(open("t/a", O_WRONLY));
  if (fd >= 0) close(fd);
  ERR(EPERM, unlink("t/a"));
  unbecome();
}

/* ---------------------------------------------------------------- killpriv */

TEST(suid_cleared_on_write) {
  mkfile("f", 0644);
  OK(chown("f", U1, G1));
  OK(chmod("f", 06777));
  EQ(mode_of("f"), 06777);
  become(U2, G2, 1, G2);
  int fd = OK(open("f", O_WRONLY));
  if (fd >= 0) {
    EQ(write(fd, "x", 1), 1);
    close(fd);
  }
  unbecome();
  EQ(mode_of("f"), 0777);
  /* also when the owner writes */
  OK(chmod("f", 06777));
  become(U1, G1, 1, G1);
  fd = OK(open("f", O_WRONLY | O_APPEND));
  if (fd >= 0) {
    EQ(write(fd, "y", 1), 1);
    close(fd);
  }
  unbecome();
  EQ(mode_of("f"), 0777);
}

TEST(suid_cleared_on_truncate) {
  mkfile_data("f", "data");
  OK(chown("f", U1, G1));
  OK(chmod("f", 06777));
  become(U2, G2, 1, G2);
  OK(truncate("f", 1));
  unbecome();
  EQ(mode_of("f"), 0777);
  OK(chmod("f", 06777));
  become(U2, G2, 1, G2);
  int fd = OK(open("f", O_WRONLY | O_TRUNC));
  if (fd >= 0) close(fd);
  unbecome();
  EQ(mode_of("f"), 0777);
}

TEST(suid_kept_on_root_write) {
  /* root (with CAP_FSETID) writing does not clear the bits */
  mkfile("f", 0644);
  OK(chmod("f", 06755));
  int fd = OK(open("f", O_WRONLY));
  EQ(write(fd, "x", 1), 1);
  close(fd);
  EQ(mode_of("f"), 06755);
}
