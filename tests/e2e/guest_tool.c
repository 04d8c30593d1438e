/*
 * guest_tool: a small multi-call helper for the Hostshare e2e guest.
 *
 * It covers the file-system calls that busybox has no applet for
 * (renameat2, fallocate modes, SEEK_DATA/SEEK_HOLE, MAP_SHARED writes,
 * xattrs, nanosecond stat/utimensat, statfs) and a couple of fast bulk
 * helpers (pattern generation, creating and counting many entries) that
 * would be slow as busybox shell loops under TCG.
 *
 * Built with `gcc -static` by scripts/build-initramfs.sh and installed as
 * /bin/guest_tool in the initramfs.  Every failure prints
 *   ERR <what>: <ERRNO_NAME> (<message>)
 * on stdout and exits 1, so the host-side tests can match errno names.
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/statvfs.h>
#include <sys/types.h>
#include <sys/xattr.h>
#include <time.h>
#include <unistd.h>

#ifndef RENAME_NOREPLACE
#define RENAME_NOREPLACE (1 << 0)
#endif
#ifndef RENAME_EXCHANGE
#define RENAME_EXCHANGE (1 << 1)
#endif
#ifndef FALLOC_FL_KEEP_SIZE
#define FALLOC_FL_KEEP_SIZE 0x01
#endif
#ifndef FALLOC_FL_PUNCH_HOLE
#define FALLOC_FL_PUNCH_HOLE 0x02
#endif
#ifndef FALLOC_FL_ZERO_RANGE
#define FALLOC_FL_ZERO_RANGE 0x10
#endif

static int fail(const char *what) {
    int e = errno;
    const char *name = strerrorname_np(e);
    printf("ERR %s: %s (%s)\n", what, name ? name : "E?", strerror(e));
    fflush(stdout);
    return 1;
}

static int usage(void) {
    fputs("usage: guest_tool CMD ARGS...\n"
          "  rename2 exchange|noreplace OLD NEW\n"
          "  fallocate FILE alloc|keep|punch|zero OFFSET LEN\n"
          "  seek FILE data|hole OFFSET\n"
          "  writeat FILE OFFSET STRING\n"
          "  mmapw FILE OFFSET STRING      (MAP_SHARED write + msync)\n"
          "  mmapr FILE OFFSET LEN\n"
          "  setx FILE NAME VALUE [create|replace]\n"
          "  getx FILE NAME\n"
          "  listx FILE\n"
          "  rmx FILE NAME\n"
          "  stat PATH                     (lstat, nanosecond times)\n"
          "  utimens PATH ATIME MTIME      (SEC.NSEC each, no symlink follow)\n"
          "  statfs PATH\n"
          "  pattern SEED SIZE             (deterministic bytes to stdout)\n"
          "  mkentries DIR COUNT PREFIX    (create COUNT empty files)\n"
          "  countdir DIR                  (readdir count + duplicate check)\n",
          stderr);
    return 2;
}

static long long num(const char *s) {
    char *end;
    errno = 0;
    long long v = strtoll(s, &end, 0);
    if (errno || *end) {
        fprintf(stderr, "bad number: %s\n", s);
        exit(2);
    }
    return v;
}

static int parse_ts(const char *s, struct timespec *ts) {
    char *end;
    ts->tv_sec = strtoll(s, &end, 10);
    ts->tv_nsec = 0;
    if (*end == '.') {
        const char *p = end + 1;
        long ns = 0;
        int digits = 0;
        for (; *p >= '0' && *p <= '9' && digits < 9; p++, digits++) ns = ns * 10 + (*p - '0');
        for (; digits < 9; digits++) ns *= 10;
        ts->tv_nsec = ns;
        end = (char *)p;
    }
    return *end ? -1 : 0;
}

static int cmd_rename2(int argc, char **argv) {
    if (argc != 3) return usage();
    unsigned flags;
    if (!strcmp(argv[0], "exchange")) flags = RENAME_EXCHANGE;
    else if (!strcmp(argv[0], "noreplace")) flags = RENAME_NOREPLACE;
    else return usage();
    if (renameat2(AT_FDCWD, argv[1], AT_FDCWD, argv[2], flags) != 0) return fail("renameat2");
    puts("OK");
    return 0;
}

static int cmd_fallocate(int argc, char **argv) {
    if (argc != 4) return usage();
    int mode;
    if (!strcmp(argv[1], "alloc")) mode = 0;
    else if (!strcmp(argv[1], "keep")) mode = FALLOC_FL_KEEP_SIZE;
    else if (!strcmp(argv[1], "punch")) mode = FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE;
    else if (!strcmp(argv[1], "zero")) mode = FALLOC_FL_ZERO_RANGE;
    else return usage();
    int fd = open(argv[0], O_RDWR | O_CREAT, 0644);
    if (fd < 0) return fail("open");
    if (fallocate(fd, mode, num(argv[2]), num(argv[3])) != 0) return fail("fallocate");
    if (close(fd) != 0) return fail("close");
    puts("OK");
    return 0;
}

static int cmd_seek(int argc, char **argv) {
    if (argc != 3) return usage();
    int whence;
    if (!strcmp(argv[1], "data")) whence = SEEK_DATA;
    else if (!strcmp(argv[1], "hole")) whence = SEEK_HOLE;
    else return usage();
    int fd = open(argv[0], O_RDONLY);
    if (fd < 0) return fail("open");
    off_t r = lseek(fd, num(argv[2]), whence);
    if (r < 0) return fail("lseek");
    printf("%lld\n", (long long)r);
    close(fd);
    return 0;
}

static int cmd_writeat(int argc, char **argv) {
    if (argc != 3) return usage();
    int fd = open(argv[0], O_WRONLY | O_CREAT, 0644);
    if (fd < 0) return fail("open");
    size_t len = strlen(argv[2]);
    ssize_t n = pwrite(fd, argv[2], len, num(argv[1]));
    if (n < 0) return fail("pwrite");
    if ((size_t)n != len) {
        printf("ERR pwrite: short write %zd of %zu\n", n, len);
        return 1;
    }
    if (close(fd) != 0) return fail("close");
    puts("OK");
    return 0;
}

static int cmd_mmapw(int argc, char **argv) {
    if (argc != 3) return usage();
    long long off = num(argv[1]);
    size_t len = strlen(argv[2]);
    int fd = open(argv[0], O_RDWR);
    if (fd < 0) return fail("open");
    struct stat st;
    if (fstat(fd, &st) != 0) return fail("fstat");
    if ((long long)(off + len) > st.st_size) {
        printf("ERR mmapw: range beyond EOF (size %lld)\n", (long long)st.st_size);
        return 1;
    }
    long pg = sysconf(_SC_PAGESIZE);
    long long base = off - off % pg;
    size_t maplen = (size_t)(off - base) + len;
    char *p = mmap(NULL, maplen, PROT_READ | PROT_WRITE, MAP_SHARED, fd, base);
    if (p == MAP_FAILED) return fail("mmap");
    memcpy(p + (off - base), argv[2], len);
    if (msync(p, maplen, MS_SYNC) != 0) return fail("msync");
    if (munmap(p, maplen) != 0) return fail("munmap");
    if (close(fd) != 0) return fail("close");
    puts("OK");
    return 0;
}

static int cmd_mmapr(int argc, char **argv) {
    if (argc != 3) return usage();
    long long off = num(argv[1]);
    size_t len = num(argv[2]);
    int fd = open(argv[0], O_RDONLY);
    if (fd < 0) return fail("open");
    long pg = sysconf(_SC_PAGESIZE);
    long long base = off - off % pg;
    size_t maplen = (size_t)(off - base) + len;
    char *p = mmap(NULL, maplen, PROT_READ, MAP_SHARED, fd, base);
    if (p == MAP_FAILED) return fail("mmap");
    fwrite(p + (off - base), 1, len, stdout);
    putchar('\n');
    munmap(p, maplen);
    close(fd);
    return 0;
}

static int cmd_setx(int argc, char **argv) {
    if (argc != 3 && argc != 4) return usage();
    int flags = 0;
    if (argc == 4) {
        if (!strcmp(argv[3], "create")) flags = XATTR_CREATE;
        else if (!strcmp(argv[3], "replace")) flags = XATTR_REPLACE;
        else return usage();
    }
    if (lsetxattr(argv[0], argv[1], argv[2], strlen(argv[2]), flags) != 0) return fail("setxattr");
    puts("OK");
    return 0;
}

static int cmd_getx(int argc, char **argv) {
    if (argc != 2) return usage();
    ssize_t n = lgetxattr(argv[0], argv[1], NULL, 0);
    if (n < 0) return fail("getxattr");
    char *buf = malloc(n + 1);
    n = lgetxattr(argv[0], argv[1], buf, n);
    if (n < 0) return fail("getxattr");
    buf[n] = 0;
    printf("%s\n", buf);
    free(buf);
    return 0;
}

static int cmd_listx(int argc, char **argv) {
    if (argc != 1) return usage();
    ssize_t n = llistxattr(argv[0], NULL, 0);
    if (n < 0) return fail("listxattr");
    char *buf = malloc(n + 1);
    n = llistxattr(argv[0], buf, n);
    if (n < 0) return fail("listxattr");
    for (ssize_t i = 0; i < n; i += strlen(buf + i) + 1) printf("%s\n", buf + i);
    free(buf);
    return 0;
}

static int cmd_rmx(int argc, char **argv) {
    if (argc != 2) return usage();
    if (lremovexattr(argv[0], argv[1]) != 0) return fail("removexattr");
    puts("OK");
    return 0;
}

static int cmd_stat(int argc, char **argv) {
    if (argc != 1) return usage();
    struct stat st;
    if (lstat(argv[0], &st) != 0) return fail("lstat");
    printf("mode=0%o uid=%u gid=%u nlink=%lu size=%lld blocks=%lld ino=%llu "
           "atime=%lld.%09ld mtime=%lld.%09ld ctime=%lld.%09ld\n",
           (unsigned)st.st_mode, (unsigned)st.st_uid, (unsigned)st.st_gid,
           (unsigned long)st.st_nlink, (long long)st.st_size, (long long)st.st_blocks,
           (unsigned long long)st.st_ino, (long long)st.st_atim.tv_sec, st.st_atim.tv_nsec,
           (long long)st.st_mtim.tv_sec, st.st_mtim.tv_nsec, (long long)st.st_ctim.tv_sec,
           st.st_ctim.tv_nsec);
    return 0;
}

static int cmd_utimens(int argc, char **argv) {
    if (argc != 3) return usage();
    struct timespec ts[2];
    if (parse_ts(argv[1], &ts[0]) || parse_ts(argv[2], &ts[1])) return usage();
    if (utimensat(AT_FDCWD, argv[0], ts, AT_SYMLINK_NOFOLLOW) != 0) return fail("utimensat");
    puts("OK");
    return 0;
}

static int cmd_statfs(int argc, char **argv) {
    if (argc != 1) return usage();
    struct statvfs sv;
    if (statvfs(argv[0], &sv) != 0) return fail("statvfs");
    struct statfs sf;
    if (statfs(argv[0], &sf) != 0) return fail("statfs");
    printf("bsize=%lu frsize=%lu blocks=%llu bfree=%llu bavail=%llu files=%llu ffree=%llu "
           "namemax=%lu type=0x%lx\n",
           sv.f_bsize, sv.f_frsize, (unsigned long long)sv.f_blocks,
           (unsigned long long)sv.f_bfree, (unsigned long long)sv.f_bavail,
           (unsigned long long)sv.f_files, (unsigned long long)sv.f_ffree, sv.f_namemax,
           (unsigned long)sf.f_type);
    return 0;
}

/* xorshift64* stream; the same seed always gives the same bytes. */
static int cmd_pattern(int argc, char **argv) {
    if (argc != 2) return usage();
    uint64_t s = (uint64_t)num(argv[0]) * 0x9E3779B97F4A7C15ull + 1;
    long long left = num(argv[1]);
    static uint64_t buf[1 << 14];
    while (left > 0) {
        for (size_t i = 0; i < sizeof buf / sizeof buf[0]; i++) {
            s ^= s >> 12;
            s ^= s << 25;
            s ^= s >> 27;
            buf[i] = s * 0x2545F4914F6CDD1Dull;
        }
        size_t chunk = left < (long long)sizeof buf ? (size_t)left : sizeof buf;
        size_t off = 0;
        while (off < chunk) {
            ssize_t n = write(1, (char *)buf + off, chunk - off);
            if (n < 0) {
                if (errno == EINTR) continue;
                return fail("write");
            }
            off += n;
        }
        left -= chunk;
    }
    return 0;
}

static int cmd_mkentries(int argc, char **argv) {
    if (argc != 3) return usage();
    long long n = num(argv[1]);
    char path[PATH_MAX];
    for (long long i = 0; i < n; i++) {
        snprintf(path, sizeof path, "%s/%s%06lld", argv[0], argv[2], i);
        int fd = open(path, O_WRONLY | O_CREAT | O_EXCL, 0644);
        if (fd < 0) return fail(path);
        if (close(fd) != 0) return fail("close");
    }
    printf("created=%lld\n", n);
    return 0;
}

static int cmp_str(const void *a, const void *b) {
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static int cmd_countdir(int argc, char **argv) {
    if (argc != 1) return usage();
    DIR *d = opendir(argv[0]);
    if (!d) return fail("opendir");
    size_t cap = 1024, n = 0;
    char **names = malloc(cap * sizeof *names);
    int dots = 0;
    struct dirent *de;
    errno = 0;
    while ((de = readdir(d)) != NULL) {
        if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, "..")) {
            dots++;
            continue;
        }
        if (n == cap) names = realloc(names, (cap *= 2) * sizeof *names);
        names[n++] = strdup(de->d_name);
        errno = 0;
    }
    if (errno) return fail("readdir");
    closedir(d);
    qsort(names, n, sizeof *names, cmp_str);
    size_t dups = 0;
    for (size_t i = 1; i < n; i++)
        if (!strcmp(names[i], names[i - 1])) dups++;
    printf("count=%zu dups=%zu dots=%d\n", n, dups, dots);
    return 0;
}

int main(int argc, char **argv) {
    if (argc < 2) return usage();
    const char *cmd = argv[1];
    int n = argc - 2;
    char **a = argv + 2;
    static const struct {
        const char *name;
        int (*fn)(int, char **);
    } cmds[] = {
        {"rename2", cmd_rename2},     {"fallocate", cmd_fallocate}, {"seek", cmd_seek},
        {"writeat", cmd_writeat},     {"mmapw", cmd_mmapw},         {"mmapr", cmd_mmapr},
        {"setx", cmd_setx},           {"getx", cmd_getx},           {"listx", cmd_listx},
        {"rmx", cmd_rmx},             {"stat", cmd_stat},           {"utimens", cmd_utimens},
        {"statfs", cmd_statfs},       {"pattern", cmd_pattern},     {"mkentries", cmd_mkentries},
        {"countdir", cmd_countdir},
    };
    for (size_t i = 0; i < sizeof cmds / sizeof cmds[0]; i++)
        if (!strcmp(cmd, cmds[i].name)) return cmds[i].fn(n, a);
    return usage();
}
