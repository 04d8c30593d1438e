/*
 * Path-resolution errors of every path-taking call (pjdfstest's 01..0x.t of
 * each syscall): ENOTDIR, ENAMETOOLONG (component and path), ENOENT, EACCES
 * (search and write permission), ELOOP, and names of exactly NAME_MAX bytes
 * and paths of PATH_MAX-1 bytes that must work.  One test per (call, case),
 * named "<call>.<case>".
 */
#include <sys/sysmacros.h>

#include "conf.h"

enum kind { CREATE, EXISTING };
enum obj { O_FILE, O_DIR, O_LINK };

struct op {
  const char *name;
  enum kind kind;
  enum obj obj;     /* what EXISTING ops act on */
  int parent_write; /* needs write permission on the parent directory */
  int (*fn)(const char *p);
};

static int op_chmod(const char *p) { return chmod(p, 0600); }
static int op_chown(const char *p) { return chown(p, U1, G1); }
static int op_lchown(const char *p) { return lchown(p, U1, G1); }
static int op_link_src(const char *p) { return link(p, "newlink"); }
static int op_link_dst(const char *p) { return link("file", p); }
static int op_mkdir(const char *p) { return mkdir(p, 0755); }
static int op_mkfifo(const char *p) { return mkfifo(p, 0644); }
static int op_mknod(const char *p) { return mknod(p, S_IFIFO | 0644, 0); }
static int op_open_rd(const char *p) {
  int fd = open(p, O_RDONLY);
  if (fd >= 0) close(fd);
  return fd < 0 ? -1 : 0;
}
static int op_open_creat(const char *p) {
  int fd = open(p, O_CREAT | O_WRONLY, 0644);
  if (fd >= 0) close(fd);
  return fd < 0 ? -1 : 0;
}
static int op_rename_src(const char *p) { return rename(p, "renamed"); }
static int op_rename_dst(const char *p) { return rename("file2", p); }
static int op_rmdir(const char *p) { return rmdir(p); }
static int op_symlink(const char *p) { return symlink("target", p); }
static int op_truncate(const char *p) { return truncate(p, 10); }
static int op_unlink(const char *p) { return unlink(p); }
static int op_utimensat(const char *p) { return utimensat(AT_FDCWD, p, NULL, 0); }
static int op_readlink(const char *p) {
  char b[PATH_MAX];
  return readlink(p, b, sizeof(b)) < 0 ? -1 : 0;
}

static const struct op ops[] = {
    {"chmod", EXISTING, O_FILE, 0, op_chmod},
    {"chown", EXISTING, O_FILE, 0, op_chown},
    {"lchown", EXISTING, O_LINK, 0, op_lchown},
    {"link_src", EXISTING, O_FILE, 0, op_link_src},
    {"link_dst", CREATE, O_FILE, 1, op_link_dst},
    {"mkdir", CREATE, O_DIR, 1, op_mkdir},
    {"mkfifo", CREATE, O_FILE, 1, op_mkfifo},
    {"mknod", CREATE, O_FILE, 1, op_mknod},
    {"open", EXISTING, O_FILE, 0, op_open_rd},
    {"open_creat", CREATE, O_FILE, 1, op_open_creat},
    {"readlink", EXISTING, O_LINK, 0, op_readlink},
    {"rename_src", EXISTING, O_FILE, 1, op_rename_src},
    {"rename_dst", CREATE, O_FILE, 1, op_rename_dst},
    {"rmdir", EXISTING, O_DIR, 1, op_rmdir},
    {"symlink", CREATE, O_FILE, 1, op_symlink},
    {"truncate", EXISTING, O_FILE, 0, op_truncate},
    {"unlink", EXISTING, O_FILE, 1, op_unlink},
    {"utimensat", EXISTING, O_FILE, 0, op_utimensat},
};
#define NOPS ((int)(sizeof(ops) / sizeof(ops[0])))

enum ecase { E_NOTDIR, E_NAMELONG, E_PATHLONG, E_NOENT, E_ACCES_SEARCH, E_ACCES_WRITE, E_LOOP,
             C_NAME_MAX, C_PATH_MAX, NCASES };
static const char *case_names[] = {"ENOTDIR", "ENAMETOOLONG_name", "ENAMETOOLONG_path",
                                   "ENOENT", "EACCES_search", "EACCES_write", "ELOOP",
                                   "NAME_MAX_ok", "PATH_MAX_ok"};

static void make_obj(const char *p, enum obj o) {
  switch (o) {
  case O_FILE: mkfile(p, 0644); break;
  case O_DIR: OK(mkdir(p, 0755)); break;
  case O_LINK: OK(symlink("file", p)); break;
  }
}

static void fixture(void) {
  mkfile("file", 0644);
  mkfile("file2", 0644);
  OK(mkdir("noexec", 0644));  /* no search permission for others */
  OK(mkdir("nowrite", 0755)); /* searchable, not writable for others */
  OK(symlink("loop2", "loop1"));
  OK(symlink("loop1", "loop2"));
}

/* Builds nested directories "d.../d.../..." so that dir + "/" + a name of
 * `last` bytes makes a path of exactly `total` bytes; returns the dir. */
static const char *deep_dir(int total, int last) {
  static char path[PATH_MAX * 2];
  int len = 0;
  path[0] = 0;
  /* each level adds NAME_MAX bytes + '/' */
  while (len + (len ? 1 : 0) + NAME_MAX + 1 + last <= total) {
    if (len) path[len++] = '/';
    memset(path + len, 'd', NAME_MAX);
    len += NAME_MAX;
    path[len] = 0;
    if (mkdir(path, 0755) != 0 && errno != EEXIST) {
      fail_at(__FILE__, __LINE__, "mkdir deep level at %d: %s", len, ename(errno));
      return NULL;
    }
  }
  /* pad with one shorter directory so the final path is exactly `total` */
  int pad = total - len - (len ? 1 : 0) - 1 - last;
  if (pad > 0) {
    if (len) path[len++] = '/';
    memset(path + len, 'e', pad);
    len += pad;
    path[len] = 0;
    if (mkdir(path, 0755) != 0 && errno != EEXIST) {
      fail_at(__FILE__, __LINE__, "mkdir pad %d: %s", pad, ename(errno));
      return NULL;
    }
  }
  return path;
}

static void run_case(int arg) {
  const struct op *op = &ops[arg / NCASES];
  enum ecase c = arg % NCASES;
  char p[PATH_MAX * 2];
  fixture();
  switch (c) {
  case E_NOTDIR:
    ERR(ENOTDIR, op->fn("file/x"));
    break;
  case E_NAMELONG:
    if (op->kind == EXISTING) {
      /* the object exists under its NAME_MAX name; one byte more fails */
      make_obj(name_of_len(NAME_MAX, 'x'), op->obj);
    }
    ERR(ENAMETOOLONG, op->fn(name_of_len(NAME_MAX + 1, 'x')));
    snprintf(p, sizeof(p), "%s/x", name_of_len(NAME_MAX + 1, 'y'));
    ERR(ENAMETOOLONG, op->fn(p));
    break;
  case E_PATHLONG:
    ERR(ENAMETOOLONG, op->fn(long_path(PATH_MAX)));
    ERR(ENAMETOOLONG, op->fn(long_path(PATH_MAX + 100)));
    break;
  case E_NOENT:
    ERR(ENOENT, op->fn("none/x"));
    if (op->kind == EXISTING) ERR(ENOENT, op->fn("none"));
    break;
  case E_ACCES_SEARCH:
    if (op->kind == EXISTING) make_obj("noexec/x", op->obj);
    OK(chmod("noexec", 0644));
    become(U1, G1, 1, G1);
    ERR(EACCES, op->fn("noexec/x"));
    unbecome();
    break;
  case E_ACCES_WRITE:
    if (!op->parent_write) skip("the call needs no write permission on the parent");
    if (op->kind == EXISTING) make_obj("nowrite/x", op->obj);
    become(U1, G1, 1, G1);
    if (op->fn == op_rename_dst) {
      /* source in a writable directory, target in a non-writable one */
      unbecome();
      OK(mkdir("mine", 0755));
      OK(chown("mine", U1, G1));
      become(U1, G1, 1, G1);
      mkfile("mine/src", 0644);
      ERR(EACCES, rename("mine/src", "nowrite/x"));
    } else if (op->fn == op_link_dst) {
      /* a file of its own (fs.protected_hardlinks refuses others' files) */
      unbecome();
      OK(chown("file", U1, G1));
      become(U1, G1, 1, G1);
      ERR(EACCES, link("file", "nowrite/x"));
    } else {
      ERR(EACCES, op->fn("nowrite/x"));
    }
    unbecome();
    break;
  case E_LOOP:
    ERR(ELOOP, op->fn("loop1/x"));
    if (op->kind == EXISTING && op->fn != op_lchown && op->fn != op_unlink &&
        op->fn != op_rename_src && op->fn != op_readlink && op->fn != op_link_src && op->fn != op_rmdir)
      ERR(ELOOP, op->fn("loop1")); /* the call follows the final symlink */
    break;
  case C_NAME_MAX: {
    const char *n = name_of_len(NAME_MAX, 'n');
    if (op->kind == EXISTING) make_obj(n, op->obj);
    OK(op->fn(n));
    break;
  }
  case C_PATH_MAX: {
    /* a path of PATH_MAX-1 bytes (the longest with its NUL) works */
    const char *d = deep_dir(PATH_MAX - 1, 1);
    if (!d) break;
    snprintf(p, sizeof(p), "%s/z", d);
    EQ(strlen(p), PATH_MAX - 1);
    if (op->kind == EXISTING) make_obj(p, op->obj);
    OK(op->fn(p));
    break;
  }
  default:
    break;
  }
}

__attribute__((constructor)) static void register_paths(void) {
  char name[128];
  for (int i = 0; i < NOPS; i++)
    for (int c = 0; c < NCASES; c++) {
      if (c == E_ACCES_WRITE && !ops[i].parent_write) continue;
      snprintf(name, sizeof(name), "%s.%s", ops[i].name, case_names[c]);
      register_param_test(name, run_case, i * NCASES + c, T_RW);
    }
}
