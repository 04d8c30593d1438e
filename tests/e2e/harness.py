"""Hostshare e2e harness: configurations, the per-configuration session (one
daemon + one guest), the test registry and the runner.

A test is a function f(t) registered with @case(configs=...); `t` is a
TestContext giving the guest shell (t.g / t.gok), host paths (t.hp) and guest
paths (t.gp) of the test's own directory, and assertions.  Tests run in
registration order; within one configuration they share one guest.
"""

import fnmatch
import os
import shlex
import shutil
import sys
import time
import traceback

sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(os.path.dirname(
    os.path.abspath(__file__)))), "scripts"))
import hsvm  # noqa: E402

TAG = "hostshare"
MNT = "/mnt"


class Config:
    def __init__(self, name, cache, xattr):
        self.name = name
        self.cache = cache
        self.xattr = xattr

    def __repr__(self):
        return "%s(cache=%s, xattr=%s)" % (self.name, self.cache, "on" if self.xattr else "off")


CONFIGS = [
    Config("auto-xattr", cache="auto", xattr=True),
    Config("never", cache="never", xattr=False),
]

# --------------------------------------------------------------------------
# Registry

CASES = []


class Case:
    def __init__(self, fn, configs, timeout, last):
        self.fn = fn
        self.name = fn.__name__.removeprefix("test_")
        self.configs = configs
        self.timeout = timeout
        self.last = last
        self.doc = (fn.__doc__ or "").strip().splitlines()[0] if fn.__doc__ else ""


def case(configs=None, timeout=60, last=False):
    """Registers a test; configs = list of config names (None = all)."""
    def deco(fn):
        CASES.append(Case(fn, configs, timeout, last))
        return fn
    return deco


class Skip(Exception):
    pass


class Failure(AssertionError):
    pass


# --------------------------------------------------------------------------
# Session: one daemon + one guest for one configuration

class Session:
    def __init__(self, daemon_kind, config, kernel, initrd, accel, rundir):
        self.daemon_kind = daemon_kind
        self.config = config
        self.kernel = kernel
        self.initrd = initrd
        self.accel = accel
        self.rundir = rundir
        self.shared = os.path.join(rundir, "shared")
        self.daemon = None
        self.guest = None
        self.generation = 0
        self.broken = None
        self.mounted = False
        os.makedirs(self.shared, exist_ok=True)
        os.chmod(self.shared, 0o755)

    def start(self):
        self.generation += 1
        wd = os.path.join(self.rundir, "gen%d" % self.generation)
        os.makedirs(wd, exist_ok=True)
        self.workdir = wd
        sock = os.path.join(wd, "vhost-fs.sock")
        self.daemon = hsvm.Daemon(self.daemon_kind, sock, self.shared,
                                  os.path.join(wd, "daemon.log"), cache=self.config.cache,
                                  xattr=self.config.xattr)
        self.daemon.start()
        self.guest = hsvm.Guest(self.kernel, self.initrd, self.accel, sock, TAG, wd)
        daemon = self.daemon

        def watch():
            rc = daemon.proc.poll()
            if rc is None:
                return None
            return "the daemon exited (status %s%s)" % (rc, ", signal %d" % -rc if rc < 0 else "")
        self.guest.watch = watch
        try:
            self.guest.start()
        except hsvm.VMError as e:
            dead = not self.daemon.alive()
            self.guest.kill()
            self.daemon.kill()
            if dead:
                rc = self.daemon.proc.returncode
                raise hsvm.VMError("the daemon exited (status %s%s) while the guest booted; "
                                   "then: %s" % (rc, ", signal %d" % -rc if rc < 0 else "", e))
            raise
        except Exception:
            self.guest.kill()
            self.daemon.kill()
            raise
        self.broken = None
        self.mounted = False
        return self.guest.boot_secs

    def stop(self):
        if self.guest is not None:
            self.guest.kill()
        if self.daemon is not None:
            self.daemon.kill()

    def diagnostics(self):
        """What the guest and the daemon are doing (after a command hung)."""
        parts = ["guest diagnostics (blocked tasks):"]
        parts += ["  " + l for l in self.guest.diagnose().splitlines()]
        if self.daemon is not None and not self.daemon.alive():
            rc = self.daemon.proc.returncode
            parts.append("DAEMON EXITED with status %s%s" % (
                rc, " (signal %d)" % -rc if rc is not None and rc < 0 else ""))
        if self.daemon is not None and self.daemon.alive():
            parts.append("daemon threads (pid %d):" % self.daemon.proc.pid)
            parts += ["  " + l for l in hsvm.host_process_diag(self.daemon.proc.pid).splitlines()]
        parts.append("console tail:")
        parts += ["  " + l for l in hsvm.tail_file(self.guest.console_path, 10).splitlines()]
        return "\n".join(parts)

    def daemon_log_tail(self, lines=25):
        return self.daemon.log_tail(lines) if self.daemon else "(no daemon)"


# --------------------------------------------------------------------------
# Per-test context

class TestContext:
    def __init__(self, session, case, rep=0):
        self.s = session
        self.case = case
        self.config = session.config
        self.name = case.name + ("-r%d" % rep if rep else "")
        self.dir_host = os.path.join(session.shared, case.name)
        self.dir_guest = MNT + "/" + case.name
        self.log = []

    # -- paths
    def hp(self, *parts):
        return os.path.join(self.dir_host, *parts)

    def gp(self, *parts):
        return "/".join([self.dir_guest] + list(parts))

    @property
    def guest(self):
        return self.s.guest

    # -- guest commands
    def g(self, script, timeout=None):
        """Runs a guest shell script; returns hsvm.Result (rc, out)."""
        timeout = timeout or self.case.timeout
        try:
            res = self.s.guest.run(script, timeout=timeout)
        except hsvm.CommandTimeout as e:
            self.s.broken = str(e).splitlines()[0]
            self.log.append("guest$ %s\n[no answer: %s]" % (script, self.s.broken))
            raise hsvm.CommandTimeout("%s\n%s" % (e, self.s.diagnostics()))
        except hsvm.VMError as e:
            self.s.broken = str(e).splitlines()[0]
            self.log.append("guest$ %s\n[no answer: %s]" % (script, self.s.broken))
            raise
        self.log.append("guest$ %s\n[rc=%d %.1fs] %s" % (script, res.rc, res.secs,
                                                         res.out[-2000:]))
        return res

    def gok(self, script, timeout=None):
        """Runs a guest script that must exit 0; returns its output."""
        res = self.g(script, timeout)
        if res.rc != 0:
            raise Failure("guest command failed (exit %d): %s\n%s"
                          % (res.rc, script, res.out.rstrip()))
        return res.out

    def gfail(self, script, timeout=None):
        """Runs a guest script that must fail; returns its output."""
        res = self.g(script, timeout)
        if res.rc == 0:
            raise Failure("guest command unexpectedly succeeded: %s\n%s" % (script, res.out))
        return res.out

    def gstat(self, path):
        """guest_tool stat -> dict of ints/floats."""
        out = self.gok("guest_tool stat %s" % q(path)).split()
        d = {}
        for kv in out:
            k, v = kv.split("=", 1)
            d[k] = int(v, 8) if k == "mode" else (v if "." in v else int(v))
        return d

    def mount(self):
        self.gok("grep -q ' %s virtiofs ' /proc/mounts || mount -t virtiofs %s %s"
                 % (MNT, TAG, MNT))
        self.s.mounted = True

    # -- assertions
    def check(self, cond, msg):
        if not cond:
            raise Failure(msg)

    def eq(self, got, want, what):
        if got != want:
            raise Failure("%s: got %r, want %r" % (what, got, want))

    def skip(self, why):
        raise Skip(why)

    def note(self, msg):
        self.log.append("note: " + msg)


def q(s):
    return shlex.quote(str(s))


# --------------------------------------------------------------------------
# Runner

class Runner:
    def __init__(self, daemon_kind, filters, rundir, configs=None, verbose=False, repeat=1):
        self.repeat = repeat
        self.daemon_kind = daemon_kind
        self.filters = filters
        self.rundir = rundir
        self.verbose = verbose
        self.configs = [c for c in CONFIGS if not configs or c.name in configs]
        self.passed = self.failed = self.skipped = 0
        self.results = []

    def selected(self, config, c):
        if c.configs is not None and config.name not in c.configs:
            return False
        if not self.filters:
            return True
        full = "%s.%s" % (config.name, c.name)
        # glob on "config.test" or "test"; a plain word is a substring of the
        # test name (of "config.test" when it has a dot)
        return any(fnmatch.fnmatch(full, f) or fnmatch.fnmatch(c.name, f)
                   or (f in full if "." in f else f in c.name) for f in self.filters)

    def out(self, msg):
        print(msg, flush=True)

    def run(self):
        t_all = time.monotonic()
        kernel, initrd, kver = hsvm.build_guest_images()
        accel, why = hsvm.choose_accel(kernel, initrd)
        self.accel = accel
        self.out("e2e: daemon=%s accel=%s (%s) kernel=%s" % (self.daemon_kind, accel, why, kver))
        self.out("e2e: run directory %s" % self.rundir)
        for config in self.configs:
            cases = [c for c in CASES if self.selected(config, c)]
            if not cases:
                continue
            self.run_config(config, cases, kernel, initrd, accel)
        secs = time.monotonic() - t_all
        self.out("")
        for r in self.results:
            if r[1] != "PASS":
                self.out("  %-4s %s%s" % (r[1], r[0], (": " + r[2]) if r[2] else ""))
        self.out("e2e: daemon=%s accel=%s total %.0fs" % (self.daemon_kind, accel, secs))
        line = "%d passed, %d failed" % (self.passed, self.failed)
        if self.skipped:
            line += ", %d skipped" % self.skipped
        self.out(line)
        return self.failed == 0

    def run_config(self, config, cases, kernel, initrd, accel):
        cdir = os.path.join(self.rundir, config.name)
        shutil.rmtree(cdir, ignore_errors=True)
        os.makedirs(cdir)
        self.out("\n== config %r (%d tests)" % (config, len(cases)))
        session = Session(self.daemon_kind, config, kernel, initrd, accel, cdir)
        t0 = time.monotonic()
        try:
            boot = session.start()
            self.out("   guest booted in %.1fs; daemon: %s" % (boot, " ".join(session.daemon.cmd)))
        except hsvm.VMError as e:
            session.stop()
            for c in cases:
                self.record(config, c, "FAIL", "session did not start: %s" % str(e).splitlines()[0])
            self.out("   session start failed:\n%s\n   daemon log:\n%s"
                     % (e, session.daemon_log_tail()))
            return
        try:
            for c in cases:
                if c.last:
                    continue
                for rep in range(self.repeat):
                    self.run_case(session, config, c, rep)
            for c in cases:
                if c.last:
                    self.run_case(session, config, c)
        finally:
            session.stop()
        self.out("   config %s done in %.0fs" % (config.name, time.monotonic() - t0))

    def run_case(self, session, config, c, rep=0):
        full = "%s.%s" % (config.name, c.name) + ("#%d" % rep if rep else "")
        # Recover from an earlier wedge (timeout / QEMU death): fresh session.
        if session.broken or not session.guest.alive() or not session.daemon.alive():
            why = session.broken or ("QEMU exited" if not session.guest.alive()
                                     else "daemon exited")
            self.out("   (restarting the session: %s)" % why)
            session.stop()
            try:
                session.start()
            except hsvm.VMError as e:
                self.record(config, c, "FAIL", "session restart failed: %s"
                            % str(e).splitlines()[0], full)
                return
        t = TestContext(session, c, rep)
        os.makedirs(t.dir_host, exist_ok=True)
        t0 = time.monotonic()
        status, detail = "PASS", ""
        try:
            t.mount()
            c.fn(t)
        except Skip as e:
            status, detail = "SKIP", str(e)
        except Failure as e:
            status, detail = "FAIL", str(e)
        except hsvm.CommandTimeout as e:
            status, detail = "FAIL", "timeout: %s" % e
            # keep the full diagnostics in the run directory too
            with open(os.path.join(session.rundir, "hang-%s.txt" % t.name), "w") as f:
                f.write(detail + "\n")
        except hsvm.VMError as e:
            status, detail = "FAIL", "VM error: %s" % e
        except Exception as e:  # a bug in the test or an unexpected host error
            status, detail = "FAIL", "%s: %s\n%s" % (type(e).__name__, e, traceback.format_exc())
        secs = time.monotonic() - t0
        self.out("   %-4s %-40s %6.1fs%s" % (status, full, secs,
                                            ("  (" + detail + ")") if status == "SKIP" else ""))
        for entry in t.log:
            if entry.startswith("note: "):
                self.out("        " + entry)
        if self.verbose:
            for entry in t.log:
                if not entry.startswith("note: "):
                    for line in entry.splitlines()[:12]:
                        self.out("        . " + line)
        if status == "FAIL":
            for line in detail.splitlines():
                self.out("        | " + line)
            if status == "FAIL":
                self.out("        | last guest commands:")
                for entry in t.log[-4:]:
                    for line in entry.splitlines()[:12]:
                        self.out("        |   " + line)
                self.out("        | daemon log tail (%s):" % session.daemon.log_path)
                for line in session.daemon_log_tail(15).splitlines():
                    self.out("        |   " + line)
        self.record(config, c, status, detail.splitlines()[0] if detail else "", full)

    def record(self, config, c, status, detail, full=None):
        full = full or "%s.%s" % (config.name, c.name)
        if status == "PASS":
            self.passed += 1
        elif status == "SKIP":
            self.skipped += 1
        else:
            self.failed += 1
        self.results.append((full, status, detail))
