/*
 * posixconf main: test registry, runner and helpers (see conf.h).
 *
 *   posixconf [-l] [-v] [-f GLOB]... BASE         run the read-write tests in BASE
 *   posixconf -r [-f GLOB]... BASE                run the read-only tests: BASE
 *                                                 holds a fixture made by -p and is
 *                                                 now read-only (EROFS expected)
 *   posixconf -p BASE                             make the read-only fixture
 *
 * Output: "ok   NAME", "FAIL NAME" followed by indented failure lines, or
 * "SKIP NAME: why"; the last line is "N passed, N failed, N skipped".
 */
#include <dirent.h>
#include <fnmatch.h>
#include <grp.h>
#include <signal.h>
#include <stdarg.h>
#include <sys/wait.h>
#include <time.h>

#include "conf.h"

int g_readonly;
const char *g_base;
static int g_failures;
static const char *g_name;

struct test {
  const char *name;
  test_fn fn;
  param_fn pfn;
  int arg;
  int flags;
};
static struct test g_tests[1024];
static int g_ntests;

void register_test(const char *name, test_fn fn, int flags) {
  if (g_ntests < (int)(sizeof(g_tests) / sizeof(g_tests[0])))
    g_tests[g_ntests++] = (struct test){name, fn, NULL, 0, flags};
}

void register_param_test(const char *name, param_fn fn, int arg, int flags) {
  if (g_ntests < (int)(sizeof(g_tests) / sizeof(g_tests[0])))
    g_tests[g_ntests++] = (struct test){strdup(name), NULL, fn, arg, flags};
}

static int cmp_tests(const void *a, const void *b) {
  return strcmp(((const struct test *)a)->name, ((const struct test *)b)->name);
}

const char *ename(int e) {
  if (e == 0) return "0 (success)";
  const char *n = strerrorname_np(e);
  static char buf[32];
  if (n) return n;
  snprintf(buf, sizeof(buf), "errno %d", e);
  return buf;
}

void fail_at(const char *file, int line, const char *fmt, ...) {
  va_list ap;
  char msg[1024];
  va_start(ap, fmt);
  vsnprintf(msg, sizeof(msg), fmt, ap);
  va_end(ap);
  /* one line per failure, uid shown when not root */
  if (geteuid() != 0)
    printf("     %s:%d: [euid %d] %s\n", file, line, (int)geteuid(), msg);
  else
    printf("     %s:%d: %s\n", file, line, msg);
  fflush(stdout);
  g_failures++;
}

long ok_(long r, const char *expr, const char *file, int line) {
  int e = errno;
  if (r == -1) fail_at(file, line, "%s: unexpected %s", expr, ename(e));
  errno = e;
  return r;
}

void err_(long r, int want, const char *expr, const char *file, int line) {
  int e = errno;
  if (r != -1)
    fail_at(file, line, "%s succeeded, want %s", expr, ename(want));
  else if (e != want)
    fail_at(file, line, "%s: got %s, want %s", expr, ename(e), ename(want));
}

void err2_(long r, int w1, int w2, const char *expr, const char *file, int line) {
  int e = errno;
  if (r != -1)
    fail_at(file, line, "%s succeeded, want %s or %s", expr, ename(w1), ename(w2));
  else if (e != w1 && e != w2)
    fail_at(file, line, "%s: got %s, want %s or %s", expr, ename(e), ename(w1), ename(w2));
}

struct stat st(const char *path) {
  struct stat s;
  if (lstat(path, &s) != 0) {
    fail_at(__FILE__, __LINE__, "lstat(%s): %s", path, ename(errno));
    memset(&s, 0, sizeof(s));
  }
  return s;
}

mode_t mode_of(const char *path) { return st(path).st_mode & 07777; }

void mkfile(const char *path, mode_t mode) {
  int fd = open(path, O_CREAT | O_EXCL | O_WRONLY, mode);
  if (fd < 0) {
    fail_at(__FILE__, __LINE__, "create %s: %s", path, ename(errno));
    return;
  }
  close(fd);
}

void mkfile_data(const char *path, const char *data) {
  int fd = open(path, O_CREAT | O_TRUNC | O_WRONLY, 0644);
  if (fd < 0) {
    fail_at(__FILE__, __LINE__, "create %s: %s", path, ename(errno));
    return;
  }
  if (write(fd, data, strlen(data)) != (ssize_t)strlen(data))
    fail_at(__FILE__, __LINE__, "write %s: %s", path, ename(errno));
  close(fd);
}

void become(uid_t uid, gid_t gid, int ngroups, ...) {
  gid_t groups[16];
  va_list ap;
  va_start(ap, ngroups);
  for (int i = 0; i < ngroups && i < 16; i++) groups[i] = va_arg(ap, gid_t);
  va_end(ap);
  /* real ids too (access(2) checks them); the saved ids stay 0 to come back */
  if (setresuid(0, 0, 0) != 0 || setgroups(ngroups, groups) != 0 ||
      setresgid(gid, gid, 0) != 0 || setresuid(uid, uid, 0) != 0) {
    printf("     become(%d, %d): %s\n", (int)uid, (int)gid, ename(errno));
    exit(100);
  }
}

void unbecome(void) {
  if (setresuid(0, 0, 0) != 0 || setresgid(0, 0, 0) != 0 || setgroups(0, NULL) != 0) {
    printf("     unbecome: %s\n", ename(errno));
    exit(100);
  }
}

const char *name_of_len(int len, char c) {
  static char bufs[4][PATH_MAX + 16];
  static int next;
  char *b = bufs[next++ % 4];
  if (len > PATH_MAX + 8) len = PATH_MAX + 8;
  memset(b, c, len);
  b[len] = 0;
  return b;
}

const char *long_path(int total) {
  static char bufs[2][PATH_MAX * 2];
  static int next;
  char *b = bufs[next++ % 2];
  int i = 0;
  while (i < total) {
    b[i++] = 'a';
    if (i < total) b[i++] = '/';
  }
  if (total > 1 && b[total - 1] == '/') b[total - 1] = 'b';
  b[total] = 0;
  return b;
}

void nap(void) {
  /* host timestamps are taken from a coarse clock (one jiffy, <= 10 ms) */
  struct timespec ts = {0, 30 * 1000 * 1000};
  nanosleep(&ts, NULL);
}

int ts_cmp(struct timespec a, struct timespec b) {
  if (a.tv_sec != b.tv_sec) return a.tv_sec < b.tv_sec ? -1 : 1;
  if (a.tv_nsec != b.tv_nsec) return a.tv_nsec < b.tv_nsec ? -1 : 1;
  return 0;
}

void copy_file(const char *from, const char *to, mode_t mode) {
  int in = open(from, O_RDONLY);
  int out = open(to, O_CREAT | O_TRUNC | O_WRONLY, mode);
  char buf[65536];
  ssize_t n;
  if (in < 0 || out < 0) {
    fail_at(__FILE__, __LINE__, "copy %s -> %s: %s", from, to, ename(errno));
  } else {
    while ((n = read(in, buf, sizeof(buf))) > 0)
      if (write(out, buf, n) != n) {
        fail_at(__FILE__, __LINE__, "copy write: %s", ename(errno));
        break;
      }
  }
  if (in >= 0) close(in);
  if (out >= 0) close(out);
}

pid_t start_exe(const char *path) {
  char abs[PATH_MAX];
  if (!realpath(path, abs)) {
    fail_at(__FILE__, __LINE__, "realpath %s: %s", path, ename(errno));
    return -1;
  }
  pid_t pid = fork();
  if (pid == 0) {
    execl(abs, abs, "30", (char *)NULL);
    _exit(127);
  }
  /* wait until the child runs the binary (then it is "busy") */
  char proc[64], exe[PATH_MAX];
  snprintf(proc, sizeof(proc), "/proc/%d/exe", (int)pid);
  for (int i = 0; i < 1000; i++) {
    ssize_t n = readlink(proc, exe, sizeof(exe) - 1);
    if (n > 0) {
      exe[n] = 0;
      if (strcmp(exe, abs) == 0) return pid;
    }
    struct timespec ts = {0, 10 * 1000 * 1000};
    nanosleep(&ts, NULL);
  }
  fail_at(__FILE__, __LINE__, "%s did not start", abs);
  kill(pid, SIGKILL);
  waitpid(pid, NULL, 0);
  return -1;
}

void stop_exe(pid_t pid) {
  if (pid <= 0) return;
  kill(pid, SIGKILL);
  waitpid(pid, NULL, 0);
}

/* ---------------------------------------------------------------- runner */

/* rm -rf with *at() calls: test trees can be deeper than PATH_MAX */
static void rm_at(int dirfd, const char *name) {
  if (unlinkat(dirfd, name, 0) == 0 || (errno != EISDIR && errno != EPERM)) return;
  int fd = openat(dirfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW);
  if (fd < 0) return;
  DIR *d = fdopendir(fd);
  if (!d) {
    close(fd);
    return;
  }
  struct dirent *e;
  while ((e = readdir(d)) != NULL)
    if (strcmp(e->d_name, ".") && strcmp(e->d_name, "..")) rm_at(fd, e->d_name);
  closedir(d);
  unlinkat(dirfd, name, AT_REMOVEDIR);
}

static void rm_rf(const char *path) { rm_at(AT_FDCWD, path); }

static int run_one(const struct test *t, int verbose) {
  char dir[PATH_MAX + 128];
  if (t->flags & T_RO)
    snprintf(dir, sizeof(dir), "%s/fixture", g_base);
  else
    snprintf(dir, sizeof(dir), "%s/%s", g_base, t->name);
  fflush(stdout);
  FILE *out = tmpfile(); /* the child's messages, printed after its result line */
  pid_t pid = fork();
  if (pid == 0) {
    if (out) dup2(fileno(out), 1);
    g_name = t->name;
    g_failures = 0;
    umask(0); /* modes given to creating calls are the modes expected */
    if (!(t->flags & T_RO)) {
      rm_rf(dir);
      if (mkdir(dir, 0755) != 0) {
        printf("     mkdir %s: %s\n", dir, ename(errno));
        _exit(100);
      }
    }
    if (chdir(dir) != 0) {
      printf("     chdir %s: %s\n", dir, ename(errno));
      _exit(100);
    }
    alarm(120);
    if (t->fn)
      t->fn();
    else
      t->pfn(t->arg);
    unbecome();
    if (chdir("/") != 0) _exit(100);
    if (g_failures == 0 && !(t->flags & T_RO)) rm_rf(dir);
    _exit(g_failures > 99 ? 99 : g_failures);
  }
  int status = 0, result;
  waitpid(pid, &status, 0);
  (void)verbose;
  if (WIFEXITED(status) && WEXITSTATUS(status) == 0) {
    printf("ok   %s\n", t->name);
    result = 0;
  } else if (WIFEXITED(status) && WEXITSTATUS(status) == 200) {
    result = 2; /* the child printed "SKIP name: why" */
  } else {
    printf("FAIL %s\n", t->name);
    if (WIFSIGNALED(status)) printf("     killed by signal %d\n", WTERMSIG(status));
    result = 1;
  }
  if (out) {
    char line[2048];
    rewind(out);
    while (fgets(line, sizeof(line), out)) fputs(line, stdout);
    fclose(out);
  }
  return result;
}

void skip(const char *why) {
  printf("SKIP %s: %s\n", g_name, why);
  fflush(stdout);
  _exit(200);
}

static void prepare_fixture(const char *base) {
  char p[PATH_MAX + 16];
  snprintf(p, sizeof(p), "%s/fixture", base);
  rm_rf(p);
  if (mkdir(p, 0755) != 0 || chdir(p) != 0) {
    perror(p);
    exit(1);
  }
  mkfile_data("f", "data\n");
  mkfile_data("g", "more\n");
  mkdir("d", 0755);
  mkfile_data("d/x", "x\n");
  mkdir("e", 0755);
  symlink("f", "l");
  mkfifo("p", 0644);
  mkfile("exe", 0755);
  if (g_failures) exit(1);
}

int main(int argc, char **argv) {
  const char *filters[64];
  int nfilters = 0, list = 0, verbose = 0, prepare = 0, opt;
  while ((opt = getopt(argc, argv, "lvrpf:")) != -1) {
    switch (opt) {
    case 'l': list = 1; break;
    case 'v': verbose = 1; break;
    case 'r': g_readonly = 1; break;
    case 'p': prepare = 1; break;
    case 'f': if (nfilters < 64) filters[nfilters++] = optarg; break;
    default:
      fprintf(stderr, "usage: %s [-l] [-v] [-r|-p] [-f GLOB]... BASE\n", argv[0]);
      return 2;
    }
  }
  setvbuf(stdout, NULL, _IOLBF, 0);
  qsort(g_tests, g_ntests, sizeof(g_tests[0]), cmp_tests);
  if (list) {
    for (int i = 0; i < g_ntests; i++)
      printf("%s%s\n", g_tests[i].name, g_tests[i].flags & T_RO ? " (read-only share)" : "");
    return 0;
  }
  if (optind != argc - 1) {
    fprintf(stderr, "%s: BASE directory required\n", argv[0]);
    return 2;
  }
  static char base[PATH_MAX];
  if (!realpath(argv[optind], base)) {
    perror(argv[optind]);
    return 2;
  }
  g_base = base;
  if (geteuid() != 0) {
    fprintf(stderr, "%s: must run as root\n", argv[0]);
    return 2;
  }
  if (prepare) {
    prepare_fixture(base);
    return 0;
  }
  int passed = 0, failed = 0, skipped = 0;
  for (int i = 0; i < g_ntests; i++) {
    const struct test *t = &g_tests[i];
    if (!!(t->flags & T_RO) != g_readonly) continue;
    if (nfilters) {
      int hit = 0;
      for (int j = 0; j < nfilters; j++)
        if (fnmatch(filters[j], t->name, 0) == 0) hit = 1;
      if (!hit) continue;
    }
    int r = run_one(t, verbose);
    if (r == 0) passed++;
    else if (r == 2) skipped++;
    else failed++;
  }
  printf("%d passed, %d failed, %d skipped\n", passed, failed, skipped);
  return failed ? 1 : 0;
}
