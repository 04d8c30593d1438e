/*
 * fsbench: the guest side of scripts/bench-vm.py: metadata workloads as
 * plain system calls, timed inside the guest (so that neither the agent
 * nor a shell's fork per file is measured).
 *
 *   fsbench create DIR N    open(O_CREAT|O_EXCL|O_WRONLY) + close of N new files
 *   fsbench stat DIR N      fstatat of each of them
 *   fsbench unlink DIR N    unlinkat of each of them
 *   fsbench readdir DIR     getdents + fstatat of every entry (`ls -l` minus the formatting)
 *
 * Prints "<op> <count> <seconds>" and exits 0, or "ERR ..." and exits 1.
 * Built with `gcc -static -O2` by scripts/bench-vm.py.
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

static double now(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec / 1e9;
}

static int fail(const char *what, const char *name) {
    printf("ERR %s %s: %s\n", what, name, strerror(errno));
    return 1;
}

static void name_of(char *buf, size_t n, long i) { snprintf(buf, n, "file-%06ld", i); }

int main(int argc, char **argv) {
    if (argc < 3) {
        fputs("usage: fsbench create|stat|unlink DIR N | readdir DIR\n", stderr);
        return 2;
    }
    const char *op = argv[1];
    int dir = open(argv[2], O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dir < 0) return fail("open", argv[2]);
    long n = argc > 3 ? atol(argv[3]) : 0, count = 0;
    char name[64];
    double t0 = now();
    if (!strcmp(op, "create")) {
        for (long i = 0; i < n; ++i, ++count) {
            name_of(name, sizeof name, i);
            int fd = openat(dir, name, O_CREAT | O_EXCL | O_WRONLY | O_CLOEXEC, 0644);
            if (fd < 0) return fail("create", name);
            close(fd);
        }
    } else if (!strcmp(op, "stat")) {
        struct stat st;
        for (long i = 0; i < n; ++i, ++count) {
            name_of(name, sizeof name, i);
            if (fstatat(dir, name, &st, AT_SYMLINK_NOFOLLOW) != 0) return fail("stat", name);
        }
    } else if (!strcmp(op, "unlink")) {
        for (long i = 0; i < n; ++i, ++count) {
            name_of(name, sizeof name, i);
            if (unlinkat(dir, name, 0) != 0) return fail("unlink", name);
        }
    } else if (!strcmp(op, "readdir")) {
        DIR *d = fdopendir(dir);
        if (!d) return fail("fdopendir", argv[2]);
        struct dirent *e;
        struct stat st;
        errno = 0;
        while ((e = readdir(d)) != NULL) {
            if (fstatat(dirfd(d), e->d_name, &st, AT_SYMLINK_NOFOLLOW) != 0)
                return fail("stat", e->d_name);
            ++count;
        }
        if (errno) return fail("readdir", argv[2]);
    } else {
        fprintf(stderr, "fsbench: unknown op %s\n", op);
        return 2;
    }
    printf("%s %ld %.6f\n", op, count, now() - t0);
    return 0;
}
