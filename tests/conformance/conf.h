/*
 * posixconf: the Hostshare POSIX file-system conformance suite.
 *
 * Each TEST() is a group of checks run in a forked child, as root, inside a
 * fresh directory <base>/<test name> (the current directory during the test).
 * Checks record failures and go on; a test passes when none failed.  Tests
 * switch to unprivileged users with become() (effective ids and the
 * supplementary groups), as pjdfstest does with its -u/-g options.
 *
 * Every test must pass on the host's own file system (run natively); what
 * differs through a virtio-fs/9p share is then a property of the share.
 */
#ifndef POSIXCONF_CONF_H_
#define POSIXCONF_CONF_H_

#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <unistd.h>

/* Unprivileged identities used by the tests (no passwd entries needed). */
#define U1 10001
#define U2 10002
#define G1 20001
#define G2 20002
#define G3 20003

enum { T_RW = 1, T_RO = 2 }; /* T_RO tests run only with -r (read-only share) */

typedef void (*test_fn)(void);
typedef void (*param_fn)(int);
void register_test(const char *name, test_fn fn, int flags);
/* a test run as fn(arg); name is copied */
void register_param_test(const char *name, param_fn fn, int arg, int flags);
void skip(const char *why) __attribute__((noreturn));

#define TEST_FLAGS(name, flags)                                        \
  static void t_##name(void);                                          \
  __attribute__((constructor)) static void reg_##name(void) {          \
    register_test(#name, t_##name, flags);                             \
  }                                                                    \
  static void t_##name(void)
#define TEST(name) TEST_FLAGS(name, T_RW)
#define TEST_RO(name) TEST_FLAGS(name, T_RO)

/* ---- checks (all record and continue) ---- */
void fail_at(const char *file, int line, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
long ok_(long r, const char *expr, const char *file, int line);
void err_(long r, int want, const char *expr, const char *file, int line);
void err2_(long r, int want1, int want2, const char *expr, const char *file, int line);
const char *ename(int e);

/* expr must not return -1; yields its value */
#define OK(expr) ok_((long)(expr), #expr, __FILE__, __LINE__)
/* expr must return -1 with errno E */
#define ERR(E, expr) err_((long)(expr), (E), #expr, __FILE__, __LINE__)
#define ERR2(E1, E2, expr) err2_((long)(expr), (E1), (E2), #expr, __FILE__, __LINE__)
#define CHECK(cond)                                                    \
  do {                                                                 \
    if (!(cond)) fail_at(__FILE__, __LINE__, "check failed: %s", #cond); \
  } while (0)
#define EQ(got, want)                                                  \
  do {                                                                 \
    long long g_ = (long long)(got), w_ = (long long)(want);           \
    if (g_ != w_)                                                      \
      fail_at(__FILE__, __LINE__, "%s = %lld (0%llo), want %lld (0%llo)", #got, g_, g_, w_, w_); \
  } while (0)
/* posix_fallocate & co return the error number instead of setting errno */
#define RET(want, expr)                                                \
  do {                                                                 \
    int r_ = (expr);                                                   \
    if (r_ != (want))                                                  \
      fail_at(__FILE__, __LINE__, "%s returned %s, want %s", #expr, ename(r_), ename(want)); \
  } while (0)

/* ---- helpers ---- */
extern int g_readonly;       /* -r: the share is read-only */
extern const char *g_base;   /* the base directory */
struct stat st(const char *path);  /* lstat; a failed check if it fails */
mode_t mode_of(const char *path);  /* st_mode & 07777 */
void mkfile(const char *path, mode_t mode);
void mkfile_data(const char *path, const char *data);
void become(uid_t uid, gid_t gid, int ngroups, ...); /* effective ids + groups */
void unbecome(void);                                 /* back to root */
const char *name_of_len(int len, char c);            /* static buffers, rotating */
const char *long_path(int total_len);  /* "a/a/..." path of that length (not created) */
void nap(void);                        /* sleep long enough for timestamps to move */
int ts_cmp(struct timespec a, struct timespec b);
#define TS_GT(a, b) (ts_cmp((a), (b)) > 0)
#define TS_EQ(a, b) (ts_cmp((a), (b)) == 0)
/* child process that execs `path` (a copy of a real binary) and is running */
pid_t start_exe(const char *path);
void stop_exe(pid_t pid);
void copy_file(const char *from, const char *to, mode_t mode);

#endif
