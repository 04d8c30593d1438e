#!/usr/bin/python3
"""Real workloads in a guest booted from the host's / over hostshared, each
checked against the host's view of the share byte for byte, while host and
guest append to and rename files in the same tree; then a crash test.

  tests/workloads/run.py [--cache auto|never] [--only NAME]... [--skip-crash]
                         [--daemon hostshared|reference]

The guest's / is the host's / (read-only, hostshared); the writable share is
build/workloads/runs/<time>/share, mounted in the guest AT THE SAME PATH, so
every path means the same file on both sides.  Workloads:

  git      git init/add/commit/status/checkout/mv on a tree of ~2,300 files
  make     make -j2 of a C project: the conformance suite's sources plus a
           generated 16-module library (Debian ships no small C source tree
           that builds without extra autotools macros; see CONFORMANCE.md);
           the programs run in the guest and on the host, objects compared
           with a native build
  tar      tar x of /usr/include (~8,000 files) then diff -r against the same
           archive unpacked natively
  sqlite   two concurrent writer processes, WAL, then PRAGMA integrity_check
  fio      fio random writes with --verify=crc32c, re-verified on the host
  rsync    rsync -a of /usr/lib/python3.11 into the share and back, diff -r
  venv     python3 -m venv on the share, pip install of a local package, run
           (--ci: --without-pip --system-site-packages, the system pip installs)
  churn    (during all of the above) host and guest append to and rename
           files in share/churn; each side checks the other's files
  crash    kill -9 of the daemon while the guest appends and fsyncs; every
           record acknowledged after fsync must be on the host; the daemon
           restarts on the same socket path and a new guest reads the data

The last line is "N passed, N failed".  Environment: HOSTSHARE_ACCEL,
HOSTSHARE_BIN (see scripts/hsvm.py).
"""

import argparse
import os
import shlex
import shutil
import signal
import subprocess
import sys
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(HERE)), "scripts"))
import hsvm  # noqa: E402
import rootfs_vm  # noqa: E402

ROOT = hsvm.ROOT
OUT = os.path.join(ROOT, "build", "workloads")
CACHE = os.path.join(OUT, "cache")
GT = os.path.join(HERE, "guest_tools.py")
CHURN = os.path.join(HERE, "churn.py")
# The same files as the guest sees them (a checkout under the host's /tmp).
G_GT = rootfs_vm.guest_path(GT)
G_CHURN = rootfs_vm.guest_path(CHURN)
PACKAGES = ["git", "make", "gcc", "libc6-dev", "sqlite3", "fio", "rsync", "python3-venv", "python3-pip", "python3-setuptools",
            "tar",
            "diffutils", "qemu-system-x86", "busybox-static", "cpio", "linux-image-amd64", "kmod"]
GIT_SRC = ["/usr/lib/python3/dist-packages", "/usr/include/linux"]  # ~2,300 files
RSYNC_SRC = "/usr/lib/python3.11"
TAR_SRC = "/usr/include"
log = hsvm.log


class Fail(Exception):
    pass


def sh(cmd, cwd=None, timeout=1800, check=True):
    """Host shell command; returns stdout (stderr folded in)."""
    env = dict(os.environ, LC_ALL="C")
    p = subprocess.run(cmd, shell=True, cwd=cwd, stdout=subprocess.PIPE,
                       stderr=subprocess.STDOUT, text=True, timeout=timeout, env=env)
    if check and p.returncode != 0:
        raise Fail("host command failed (exit %d): %s\n%s" % (p.returncode, cmd, p.stdout[-3000:]))
    return p.stdout


def ensure_packages():
    sh("bash -c '. %s/scripts/lib/ensure-packages.sh && ensure_packages %s'"
       % (ROOT, " ".join(PACKAGES)), timeout=1800)


def setup_cache():
    """Built once and reused: the tar archive and its native unpack."""
    os.makedirs(CACHE, exist_ok=True)
    tar = os.path.join(CACHE, "usr-include.tar")
    native = os.path.join(CACHE, "native-include")
    if not os.path.exists(native + ".done"):
        shutil.rmtree(native, ignore_errors=True)
        sh("tar -C / -cf %s.tmp usr/include && mv %s.tmp %s" % (tar, tar, tar))
        os.makedirs(native)
        sh("tar -xf %s -C %s" % (tar, native))
        open(native + ".done", "w").close()
    return tar, native


class Ctx:
    def __init__(self, guest, share, ci=False):
        self.guest = guest
        self.share = share  # same path on host and guest
        self.ci = ci

    def g(self, script, timeout=1800):
        res = self.guest.run("set -e\n" + script, timeout=timeout)
        if res.rc != 0:
            raise Fail("guest command failed (exit %d):\n%s\n--- output:\n%s"
                       % (res.rc, script.strip()[-1500:], res.out[-3000:]))
        return res.out

    def p(self, *parts):
        return os.path.join(self.share, *parts)

    def same_tree(self, path):
        """treehash on both sides; returns the entry count."""
        gh = self.g("python3 %s treehash %s" % (G_GT, q(path))).split()
        hh = sh("python3 %s treehash %s" % (GT, q(path))).split()
        if gh != hh:
            raise Fail("%s differs: guest %s, host %s" % (path, gh, hh))
        return int(gh[0])


def q(s):
    return shlex.quote(str(s))


# ---------------------------------------------------------------- workloads

def w_git(c, cache):
    d = c.p("git")
    out = c.g("""
mkdir -p {d} && cd {d}
tar --exclude=__pycache__ -C / -cf - {srcs} | tar -xf -
git init -q -b main . && git config user.email wl@hostshare && git config user.name wl
git add -A && git commit -q -m initial
test -z "$(git status --porcelain)"
echo files=$(git ls-files | wc -l)
git checkout -q -b change
git ls-files | sed -n '1~25p' | while IFS= read -r f; do echo '# changed in the guest' >> "$f"; done
git mv usr/include/linux/kernel.h usr/include/linux/kernel-moved.h
git commit -q -a -m change
git checkout -q main
test -z "$(git status --porcelain)"
echo changed=$(git diff --name-only main change | wc -l)
git checkout -q change
test -z "$(git status --porcelain)"
git fsck --full --no-progress
echo head=$(git rev-parse HEAD) index=$(git ls-files -s | sha256sum | cut -c1-16)
""".format(d=d, srcs=" ".join(p.lstrip("/") for p in GIT_SRC)), 3600)
    files = int(out.split("files=")[1].split()[0])
    if files < 2000:
        raise Fail("only %d files in the git tree" % files)
    # --ci: no treehash (python hashing ~70 MB under TCG); the host's git
    # status below re-hashes every file (its stat data differs from the
    # guest's) against the index the guest wrote, and fsck checks the objects.
    n = c.same_tree(d) if not c.ci else None
    ghead = out.split("head=")[1].split()[0]
    hout = sh("cd %s && git fsck --full --no-progress && echo head=$(git rev-parse HEAD) "
              "index=$(git ls-files -s | sha256sum | cut -c1-16) && git status --porcelain" % d)
    if out.split("head=")[1].strip() != hout.split("head=")[1].strip():
        raise Fail("host git sees %r, guest %r" % (hout, out.split("head=")[1]))
    return "%d files tracked, %s changed on a branch, HEAD %s equal on both sides, host fsck " \
           "and status clean%s" % (files, out.split("changed=")[1].split()[0], ghead[:12],
                                   ", %d entries (incl. .git) equal byte for byte" % n if n else "")


def make_project(d):
    """A C project for make -j2: the conformance suite's real sources
    (tests/conformance/*.c) plus a generated library of 16 modules that call
    each other, and a program printing a checksum over all of them."""
    os.makedirs(os.path.join(d, "gen"))
    conf = os.path.join(os.path.dirname(HERE), "conformance")
    srcs = sorted(f for f in os.listdir(conf) if f.endswith((".c", ".h")))
    for f in srcs:
        shutil.copy(os.path.join(conf, f), os.path.join(d, f))
    mods = 16
    for i in range(mods):
        with open(os.path.join(d, "gen", "m%02d.c" % i), "w") as f:
            f.write('#include "gen.h"\n')
            f.write("static unsigned long mix(unsigned long x) { return x * 6364136223846793005UL"
                    " + %dUL; }\n" % (2 * i + 1))
            for j in range(40):
                dep = "m%02d_f%02d(x ^ %d)" % (i - 1, j, j) if i else "x"
                f.write("unsigned long m%02d_f%02d(unsigned long x) { return mix(%s) ^ (x >> %d); }\n"
                        % (i, j, dep, j % 31 + 1))
    with open(os.path.join(d, "gen", "gen.h"), "w") as f:
        for i in range(mods):
            for j in range(40):
                f.write("unsigned long m%02d_f%02d(unsigned long x);\n" % (i, j))
    with open(os.path.join(d, "gen", "main.c"), "w") as f:
        f.write('#include <stdio.h>\n#include "gen.h"\nint main(void) {\n  unsigned long s = 0;\n')
        for j in range(40):
            f.write("  s += m%02d_f%02d(%d);\n" % (mods - 1, j, j))
        f.write('  printf("%lx\\n", s);\n  return 0;\n}\n')
    conf_objs = " ".join(f[:-2] + ".o" for f in srcs if f.endswith(".c"))
    gen_objs = " ".join("gen/m%02d.o" % i for i in range(mods))
    with open(os.path.join(d, "Makefile"), "w") as f:
        f.write("CFLAGS = -O2 -Wall -Wextra -Werror -D_GNU_SOURCE\n"
                "all: posixconf gen/checksum\n"
                "posixconf: %s\n\t$(CC) -o $@ $^\n"
                "%%.o: %%.c conf.h\n\t$(CC) $(CFLAGS) -c -o $@ $<\n"
                "gen/libgen.a: %s\n\tar rcs $@ $^\n"
                "gen/%%.o: gen/%%.c gen/gen.h\n\t$(CC) $(CFLAGS) -c -o $@ $<\n"
                "gen/checksum: gen/main.o gen/libgen.a\n\t$(CC) -o $@ $^\n"
                "clean:\n\trm -f *.o gen/*.o gen/*.a posixconf gen/checksum\n"
                % (conf_objs, gen_objs))
    return len(srcs) + mods + 2


def w_make(c, cache):
    d = c.p("make")
    nsrc = make_project(d)
    t0 = time.monotonic()
    c.g("cd %s && make -j2 >make.log 2>&1 || { tail -40 make.log; exit 1; }" % d, 5400)
    secs = time.monotonic() - t0
    gout = c.g("cd %s && ./gen/checksum && ./posixconf -l | wc -l" % d).split()
    hout = sh("cd %s && ./gen/checksum && ./posixconf -l | wc -l" % d).split()
    if gout != hout or int(gout[1]) < 200:
        raise Fail("the guest-built programs print %s in the guest, %s on the host" % (gout, hout))
    # the same sources built natively give the same objects
    nat = os.path.join(c.share, "..", "make-native")
    make_project(nat)
    sh("make -j2 >make.log 2>&1", cwd=nat)
    same = sh("cd %s && for f in gen/*.o; do cmp -s $f %s/$f || echo $f; done" % (d, nat)).split()
    if same:
        raise Fail("objects built in the guest differ from a native build: %s" % same[:10])
    n = c.same_tree(d)
    return "make -j2 of %d source files (the conformance suite + a generated 16-module " \
        "library) in %.0fs; the programs run the same in the guest and on the host; objects " \
        "identical to a native build; %d entries equal" % (nsrc, secs, n)


def w_tar(c, cache):
    d = c.p("tarx")
    t0 = time.monotonic()
    c.g("mkdir -p %s && tar -xf %s -C %s && diff -r --no-dereference %s %s"
        % (d, rootfs_vm.guest_path(cache["tar"]), d, d, rootfs_vm.guest_path(cache["native"])),
        3600)
    secs = time.monotonic() - t0
    sh("diff -r --no-dereference %s %s" % (d, cache["native"]))
    size = os.path.getsize(cache["tar"]) >> 20
    if c.ci:  # diff -r on both sides already compared every byte; skip the modes
        n = int(sh("find %s | wc -l" % d)) - 1
        return "%d MiB archive, %d entries; tar x + diff -r in the guest %.0fs; diff -r on " \
               "the host clean" % (size, n, secs)
    n = c.same_tree(d)
    return "%d MiB archive, %d entries; tar x + diff -r in the guest %.0fs; diff -r on the host " \
           "clean; trees (modes, links, bytes) equal" % (size, n, secs)


def w_sqlite(c, cache):
    d = c.p("sqlite")
    out = c.g("""
mkdir -p {d} && cd {d}
python3 {gt} sqlite-init {d}/db
python3 {gt} sqlite-writer {d}/db A 1500 & a=$!
python3 {gt} sqlite-writer {d}/db B 1500 & b=$!
wait $a; wait $b
python3 {gt} sqlite-summary {d}/db
sqlite3 {d}/db 'PRAGMA integrity_check; PRAGMA journal_mode;'
sha256sum {d}/db
ls {d}
""".format(d=d, gt=G_GT), 3600)
    gsum = [l for l in out.splitlines() if l.startswith("integrity=")][0]
    gsha = [l for l in out.splitlines() if l.endswith("/db")][0].split()[0]
    hsha = sh("sha256sum %s/db" % d).split()[0]
    hsum = sh("python3 %s sqlite-summary %s/db" % (GT, d)).strip()
    if "journal_mode=wal" not in out or "integrity=ok rows=3000 bad=0" not in gsum or \
            gsum != hsum or gsha != hsha:
        raise Fail("guest %r / %s, host %r / %s" % (gsum, gsha, hsum, hsha))
    return "2 concurrent writers x 1500 rows, WAL: integrity ok, 3000 rows, same digest and " \
           "same db bytes on both sides"


FIO_ARGS = ("--name=verify --filename={f} --size={size} --bs=4k --rw=randwrite --ioengine=psync "
            "--verify=crc32c --verify_fatal=1 --randrepeat=1 --randseed=4242")


def w_fio(c, cache):
    d = c.p("fio")
    f = os.path.join(d, "data")
    size = "16M" if c.ci else "64M"  # --ci: each 4 KiB verify read is a round trip under TCG
    job = FIO_ARGS.format(f=f, size=size)
    out = c.g("mkdir -p %s && fio %s --do_verify=1 --output-format=terse >%s/guest.out && "
              "sha256sum %s" % (d, job, d, f), 3600)
    gsha = [l for l in out.splitlines() if l.endswith(" " + f)][0].split()[0]
    hsha = sh("sha256sum %s" % f).split()[0]
    if gsha != hsha:
        raise Fail("data differs: guest %s host %s" % (gsha, hsha))
    sh("fio %s --verify_only --output-format=terse >%s/host.out" % (job, d))
    return "%siB of 4 KiB random writes verified with crc32c in the guest, re-verified " \
           "(--verify_only) on the host; same bytes" % size


def w_rsync(c, cache):
    d = c.p("rsync")
    c.g("""
mkdir -p {d}
rsync -a {src}/ {d}/py/
rsync -a {d}/py/ /tmp/rsync-back/
diff -r --no-dereference {src} /tmp/rsync-back
test -z "$(rsync -ani {src}/ {d}/py/)"
test -z "$(rsync -ani {d}/py/ /tmp/rsync-back/)"
rm -rf /tmp/rsync-back
""".format(d=d, src=RSYNC_SRC), 3600)
    sh("diff -r --no-dereference %s %s/py" % (RSYNC_SRC, d))
    left = sh("rsync -ani %s/ %s/py/" % (RSYNC_SRC, d)).strip()
    if left:
        raise Fail("host rsync -ani sees differences:\n%s" % left[:2000])
    extra = "" if c.ci else "; trees equal (%d entries)" % c.same_tree(d)
    return "%s in and back out: diff -r clean in the guest and on the host, rsync -ani finds " \
           "no metadata difference%s" % (RSYNC_SRC, extra)


def w_venv(c, cache):
    d = c.p("venv")
    pkg = c.p("demo_pkg")
    # --ci: a venv without its own pip (ensurepip unpacks and byte-compiles
    # ~1,300 files: minutes under TCG) that uses the system's pip to install.
    venv = "python3 -m venv --without-pip --system-site-packages" if c.ci else "python3 -m venv"
    out = c.g("""
cp -r {src} {pkg}
{venv} {d}
{d}/bin/python -m pip --version
{d}/bin/python -m pip install -q --no-index --no-build-isolation {pkg}
{d}/bin/python -m hsdemo
""".format(src=rootfs_vm.guest_path(os.path.join(HERE, "demo_pkg")), pkg=pkg, d=d, venv=venv),
             3600)
    n = c.same_tree(d)
    gline = [l for l in out.splitlines() if l.startswith("hsdemo ")][0]
    hline = sh("%s/bin/python -m hsdemo" % d).strip()
    if gline != hline:
        raise Fail("guest %r host %r" % (gline, hline))
    return "venv + pip install of a local package on the share; the package runs in the guest " \
           "and on the host (%s); venv (%d entries) equal" % (gline.split()[1], n)


WORKLOADS = [("git", w_git), ("make", w_make), ("tar", w_tar), ("sqlite", w_sqlite),
             ("fio", w_fio), ("rsync", w_rsync), ("venv", w_venv)]


# ---------------------------------------------------------------- churn

class Churn:
    """Host writer + host checker of the guest's files, and the same two in
    the guest, all in share/churn, until stop()."""

    def __init__(self, c):
        self.c = c
        self.dir = c.p("churn")
        self.stop_file = os.path.join(self.dir, "STOP")
        os.makedirs(self.dir)
        self.procs = []

    def start(self):
        base = "python3 %s %%s %s --seconds 7200 --stop %s" % (CHURN, self.dir, self.stop_file)
        self.procs.append(subprocess.Popen(base % "write" + " --who host", shell=True,
                                           stdout=subprocess.PIPE, text=True))
        self.procs.append(subprocess.Popen(base % "check" + " --who guest --interval 0.05",
                                           shell=True, stdout=subprocess.PIPE, text=True))
        gbase = "python3 %s %%s %s --seconds 7200 --stop %s" % (G_CHURN, self.dir,
                                                                 self.stop_file)
        self.c.g("cd /tmp && (nohup %s >/tmp/churn-write.json 2>&1 &) && "
                 "(nohup %s >/tmp/churn-check.json 2>&1 &)"
                 % (gbase % "write" + " --who guest", gbase % "check" + " --who host --interval 0.05"))

    def stop(self):
        open(self.stop_file, "w").close()
        outs = []
        for p in self.procs:
            try:
                outs.append(p.communicate(timeout=120)[0].strip())
            except subprocess.TimeoutExpired:
                p.kill()
                outs.append("(timeout)")
        # the guest sees STOP within its attribute timeout
        gout = self.c.g("for i in $(seq 120); do "
                        "pgrep -f 'churn.py' >/dev/null || break; sleep 1; done; "
                        "cat /tmp/churn-write.json /tmp/churn-check.json", 300)
        import json
        host_check = json.loads(outs[1])
        guest_check = json.loads(gout.strip().splitlines()[-1])
        errors = host_check["errors"] + guest_check["errors"]
        detail = ("host wrote %s; guest checked %d reads, saw %d generations (%d went back); "
                  "guest wrote %s; host checked %d reads, %d generations (%d went back)"
                  % (outs[0], guest_check["reads"], guest_check["generations_seen"],
                     guest_check["went_back"], gout.strip().splitlines()[0],
                     host_check["reads"], host_check["generations_seen"],
                     host_check["went_back"]))
        if errors:
            raise Fail("corruption seen: %s\n%s" % (errors[:10], detail))
        return detail


# ---------------------------------------------------------------- crash

def crash_test(args, images, accel, rundir):
    """kill -9 of the share's daemon while the guest appends + fsyncs."""
    share_dir = os.path.join(rundir, "crash-share")
    os.makedirs(share_dir)
    os.chmod(share_dir, 0o755)
    wd = os.path.join(rundir, "crash-vm")
    root = rootfs_vm.Share("hostshared", "rootfs", "/", readonly=True)
    work = rootfs_vm.Share(args.daemon, "work", share_dir, cache=args.cache)
    d = os.path.join(share_dir, "w")
    s = rootfs_vm.Session(wd, root, [work], mem="1G", accel=accel, images=images)
    s.start()
    rc = None
    try:
        s.guest.mount_share(work, share_dir)
        s.guest.run("cd /tmp && (nohup python3 %s crash-writer %s /tmp/acks >/tmp/cw.log 2>&1 &)"
                    % (G_GT, d), 60)
        # let it write for a while, then kill -9 the daemon mid-stream
        deadline = time.monotonic() + 300
        acked = 0
        while time.monotonic() < deadline:
            time.sleep(3)
            out = s.guest.run("cat /tmp/acks 2>/dev/null | wc -l", 30).out.strip()
            acked = int(out.split()[-1]) if out else 0
            if acked >= 150:
                break
        pid = work.daemon.proc.pid
        os.kill(pid, signal.SIGKILL)
        work.daemon.proc.wait()
        t_kill = time.monotonic()
        time.sleep(2)
        acks = s.guest.run("cat /tmp/acks", 60).out.split()
        last = int(acks[-1]) if acks else -1
        # every acknowledged record is on the host, whole
        import hashlib
        with open(os.path.join(d, "log"), "rb") as f:
            data = f.read()
        on_host = len(data) // 4096
        for n in range(last + 1):
            rec = data[n * 4096:(n + 1) * 4096]
            want = ("%08d " % n).encode() + hashlib.sha256(str(n).encode()).hexdigest().encode() * 64
            want = want[:4095] + b"\n"
            if rec != want:
                raise Fail("record %d (acknowledged after fsync) is %s on the host"
                           % (n, "missing" if len(rec) < 4096 else "corrupted"))
        for n in range(0, last + 1, 10):
            if not os.path.exists(os.path.join(d, "f-%d" % n)):
                raise Fail("file f-%d (fsync'd with its directory) is missing" % n)
        tail = data[on_host * 4096:]
        detail = ("%d records acknowledged before kill -9, all on the host; %d whole records and "
                  "%d trailing bytes on the host" % (last + 1, on_host, len(tail)))
    finally:
        # The guest's share is dead (QEMU does not reconnect a vhost-user-fs
        # device and the writer is blocked in it): stop it the hard way.
        s.guest.kill()
        root.stop()
    # Restart on the same socket path. hostshared removes its socket once the
    # frontend is connected, so what the kill left is the pid file (no longer
    # locked); the stale-socket case (killed before a frontend came) is
    # checked on a second path below.
    sock = work.sock
    left = [n for n, p in (("socket", sock), ("pid file", sock + ".pid")) if os.path.exists(p)]
    daemon = StaleSocketDaemon(args.daemon, sock, share_dir,
                               os.path.join(rundir, "crash-restart-daemon.log"), cache=args.cache)
    daemon.start()
    work.daemon = daemon
    wd2 = os.path.join(rundir, "crash-vm2")
    os.makedirs(wd2)
    root.start(wd2)
    guest = rootfs_vm.RootGuest(images[0], images[1], accel, wd2, root, [work], mem="1G")
    try:
        guest.start(boot_timeout=180)
        guest.mount_share(work, share_dir)
        gh = guest.run("python3 %s treehash %s" % (G_GT, d), 600).out.split()
        hh = sh("python3 %s treehash %s" % (GT, d)).split()
        if gh != hh:
            raise Fail("after the restart the guest sees %s, the host %s" % (gh, hh))
        guest.poweroff(timeout=60)
        rc = daemon.wait(15)
    finally:
        guest.kill()
        root.stop()
        daemon.kill()
    if rc != 0:
        raise Fail("the restarted daemon exited with %s; log: %s" % (rc, daemon.log_tail(10)))
    # A daemon killed before any frontend connected leaves a stale socket.
    sock2 = os.path.join(rundir, "stale.sock")
    first = hsvm.Daemon(args.daemon, sock2, share_dir, os.path.join(rundir, "stale1.log"),
                        cache=args.cache).start()
    os.kill(first.proc.pid, signal.SIGKILL)
    first.proc.wait()
    if not os.path.exists(sock2):
        raise Fail("no stale socket left by a daemon killed before a connection")
    second = StaleSocketDaemon(args.daemon, sock2, share_dir,
                               os.path.join(rundir, "stale2.log"), cache=args.cache).start()
    second.kill()
    return detail + "; restarted on the same socket path %.0fs after the kill (left behind: " \
        "%s), a new guest reads the same %s entries, daemon exit 0; a stale socket of a daemon " \
        "killed before any connection is taken over" % (
            time.monotonic() - t_kill, ", ".join(left) or "nothing", gh[0])


def listening(path):
    """True if a unix socket is listening at path (/proc/net/unix): the
    socket a killed daemon left is not; comparing inode numbers would not do,
    the new socket may get the old one's number."""
    with open("/proc/net/unix") as f:
        for line in f.readlines()[1:]:
            parts = line.split()
            if len(parts) >= 8 and parts[7] == path and int(parts[3], 16) & 0x10000:
                return True
    return False


class StaleSocketDaemon(hsvm.Daemon):
    """A Daemon whose start() leaves an existing (stale) socket file in place
    and waits for the daemon to listen there."""

    def start(self, timeout=15):
        self.logf = open(self.log_path, "ab")
        self.logf.write(("### %s\n" % " ".join(self.cmd)).encode())
        self.logf.flush()
        self.proc = hsvm.spawn(self.cmd, stdin=subprocess.DEVNULL, stdout=self.logf,
                               stderr=subprocess.STDOUT)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise Fail("the daemon refused to start on the stale socket (exit %s):\n%s"
                           % (self.proc.returncode, self.log_tail()))
            if listening(self.sock):
                return self
            time.sleep(0.05)
        raise Fail("the daemon did not bind %s within %ds" % (self.sock, timeout))


# ---------------------------------------------------------------- main

def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--cache", default="auto", choices=["auto", "never", "always", "metadata"])
    ap.add_argument("--daemon", default="hostshared", choices=["hostshared", "reference"])
    ap.add_argument("--only", action="append", default=[])
    ap.add_argument("--skip-crash", action="store_true")
    ap.add_argument("--ci", action="store_true",
                    help="CI sizes: the venv uses the system pip instead of its own; fio writes "
                    "16 MiB, not 64; the git, tar and rsync trees are checked with git/diff/"
                    "rsync on the host, without the extra treehash")
    ap.add_argument("--no-churn", action="store_true")
    ap.add_argument("--report", help="append the result table (markdown) to this file")
    args = ap.parse_args()
    t_all = time.monotonic()
    ensure_packages()
    tar, native = setup_cache()
    cache = {"tar": tar, "native": native}
    images = rootfs_vm.build_images()
    accel = os.environ.get("HOSTSHARE_ACCEL")
    if accel in (None, "", "auto"):
        accel, why = hsvm.choose_accel(images[0], images[1])
    rundir = os.path.join(OUT, "runs", time.strftime("%Y%m%d-%H%M%S"))
    share = os.path.join(rundir, "share")
    os.makedirs(share)
    os.chmod(share, 0o755)
    results = []

    def record(name, status, secs, detail):
        results.append((name, status, secs, detail))
        print("%-4s %-7s %6.0fs  %s" % (status, name, secs, detail.splitlines()[0] if detail
                                         else ""), flush=True)
        if status == "FAIL":
            for line in detail.splitlines()[1:40]:
                print("      | " + line, flush=True)

    root = rootfs_vm.Share("hostshared", "rootfs", "/", readonly=True)
    work = rootfs_vm.Share(args.daemon, "work", share, cache=args.cache)
    selected = [w for w in WORKLOADS if not args.only or w[0] in args.only]
    if selected:
        with rootfs_vm.Session(os.path.join(rundir, "vm"), root, [work], mem="2G", accel=accel,
                               images=images) as s:
            log("guest booted from / in %.1fs (accel %s); share %s" %
                (s.guest.boot_secs, accel, work.describe()))
            s.guest.mount_share(work, share)
            c = Ctx(s.guest, share, ci=args.ci)
            churn = None
            if not args.no_churn:
                churn = Churn(c)
                churn.start()
            for name, fn in selected:
                t0 = time.monotonic()
                try:
                    detail = fn(c, cache)
                    record(name, "PASS", time.monotonic() - t0, detail)
                except (Fail, hsvm.VMError) as e:
                    record(name, "FAIL", time.monotonic() - t0, str(e))
                    if not s.guest.alive():
                        break
                if work.daemon is not None and not work.daemon.alive():
                    record("daemon", "FAIL", 0, "the share's daemon died; log:\n"
                           + work.daemon.log_tail(30))
                    break
            if churn is not None:
                t0 = time.monotonic()
                try:
                    detail = churn.stop()
                    record("churn", "PASS", time.monotonic() - t0, detail)
                except (Fail, hsvm.VMError) as e:
                    record("churn", "FAIL", time.monotonic() - t0, str(e))
    if not args.skip_crash and (not args.only or "crash" in args.only):
        t0 = time.monotonic()
        try:
            detail = crash_test(args, images, accel, rundir)
            record("crash", "PASS", time.monotonic() - t0, detail)
        except (Fail, hsvm.VMError) as e:
            record("crash", "FAIL", time.monotonic() - t0, str(e))
    passed = sum(1 for r in results if r[1] == "PASS")
    failed = len(results) - passed
    if args.report:
        with open(args.report, "a") as f:
            f.write("\nWorkloads, %s cache=%s, accel %s, %s:\n\n| workload | result | time | "
                    "what was checked |\n|---|---|---|---|\n"
                    % (args.daemon, args.cache, accel, time.strftime("%Y-%m-%d")))
            for name, status, secs, detail in results:
                f.write("| %s | %s | %.0f s | %s |\n" % (name, status, secs,
                                                         detail.splitlines()[0].replace("|", "/")))
    print("workloads: %s cache=%s accel=%s, run directory %s, total %.0fs"
          % (args.daemon, args.cache, accel, rundir, time.monotonic() - t_all))
    print("%d passed, %d failed" % (passed, failed))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
