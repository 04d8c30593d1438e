#!/usr/bin/python3
"""hsvm: the Hostshare QEMU launcher (library + small CLI).

Used by scripts/demo.sh and by the e2e suite (tests/e2e/run.py).

  * build_guest_images(): runs scripts/build-initramfs.sh (cached).
  * choose_accel(): KVM when a tiny probe boot reaches init quickly, else TCG
    (the verdict is cached for a day next to the initramfs);
    HOSTSHARE_ACCEL=tcg|kvm|auto overrides.
  * Daemon: starts hostshared or the reference virtiofsd on a socket.
  * Guest: boots the kernel + initramfs with a vhost-user-fs-pci device and
    drives the guest agent (scripts/guest-init.sh) over a virtio serial port: each command
    is sent base64-encoded with an id; the guest answers with its output
    (base64) and exit status between unique markers.

CLI:
  hsvm.py accel                       print the accelerator that would be used
  hsvm.py session --shared-dir DIR [--daemon hostshared|reference]
                  [--cache auto] [--xattr] [--tag TAG] [--workdir DIR]
                  [--cmd 'guest shell command']...
      starts the daemon, boots the guest, runs each --cmd in turn (printing
      it and its output), powers the guest off, waits for the daemon to exit
      and prints a summary (accel, boot time, daemon exit status).
"""

import argparse
import atexit
import base64
import json
import os
import shutil
import signal
import socket
import stat
import subprocess
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SCRIPTS = os.path.join(ROOT, "scripts")
DEFAULT_OUT = os.path.join(ROOT, "build", "e2e")
REFERENCE_DAEMON = "/usr/lib/qemu/virtiofsd"
QEMU = "qemu-system-x86_64"


def log(msg):
    print("hsvm: " + msg, file=sys.stderr, flush=True)


# Every QEMU / daemon process started here, so that an exiting (or killed)
# harness never leaves one behind.
_CHILDREN = []


def _reap_children():
    for proc in _CHILDREN:
        if proc.poll() is None:
            try:
                proc.send_signal(signal.SIGCONT)
                proc.terminate()
                proc.wait(timeout=5)
            except Exception:
                try:
                    proc.kill()
                except Exception:
                    pass


def _on_signal(signum, frame):
    _reap_children()
    sys.exit(128 + signum)


atexit.register(_reap_children)
for _sig in (signal.SIGTERM, signal.SIGHUP, signal.SIGPIPE):
    signal.signal(_sig, _on_signal)


def spawn(cmd, **kw):
    proc = subprocess.Popen(cmd, **kw)
    _CHILDREN.append(proc)
    return proc


class VMError(Exception):
    pass


class CommandTimeout(VMError):
    pass


# --------------------------------------------------------------------------
# Guest images

def build_guest_images(outdir=DEFAULT_OUT):
    """Builds (or reuses) kernel + initramfs; returns (kernel, initrd, kver)."""
    res = subprocess.run([os.path.join(SCRIPTS, "build-initramfs.sh"), outdir],
                         stdout=subprocess.PIPE, text=True)
    if res.returncode != 0:
        raise VMError("build-initramfs.sh failed (exit %d)" % res.returncode)
    fields = dict(kv.split("=", 1) for kv in res.stdout.strip().splitlines()[-1].split())
    return fields["KERNEL"], fields["INITRAMFS"], fields["KVER"]


# --------------------------------------------------------------------------
# Accelerator choice

def _kvm_usable():
    return os.path.exists("/dev/kvm") and os.access("/dev/kvm", os.R_OK | os.W_OK)


def probe_accel(accel, kernel, initrd, timeout):
    """Boots the initramfs in probe mode; returns (ok, seconds, detail), ok
    when init ran within timeout."""
    cmd = [QEMU, "-accel", accel, "-m", "256M", "-nodefaults", "-no-user-config",
           "-nographic", "-serial", "stdio", "-kernel", kernel, "-initrd", initrd,
           "-append", "console=ttyS0 quiet hostshare.probe"]
    if accel == "kvm":
        cmd[1:1] = ["-cpu", "host"]
    start = time.monotonic()
    proc = spawn(cmd, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                 stderr=subprocess.STDOUT)
    os.set_blocking(proc.stdout.fileno(), False)
    buf = b""
    ok = False
    import select
    while time.monotonic() - start < timeout:
        r, _, _ = select.select([proc.stdout], [], [], 0.2)
        if r:
            chunk = proc.stdout.read() or b""
            buf += chunk
            if b"HOSTSHARE-PROBE-OK" in buf:
                ok = True
                break
            if not chunk and proc.poll() is not None:
                break
    elapsed = time.monotonic() - start
    exited = proc.poll()
    if exited is None:
        try:
            proc.wait(timeout=3 if ok else 0.1)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
    if ok:
        detail = "reached init in %.1fs" % elapsed
    elif exited is not None:
        last = [l for l in buf.decode("utf-8", "replace").splitlines() if "qemu" in l.lower()]
        detail = "QEMU exited with status %d after %.1fs%s" % (
            exited, elapsed, (": " + last[-1].strip()[:160]) if last else "")
    else:
        detail = "did not reach init within %.0fs" % timeout
    return ok, elapsed, detail


def choose_accel(kernel, initrd):
    """Returns (accel, reason). Honours HOSTSHARE_ACCEL=tcg|kvm|auto."""
    forced = os.environ.get("HOSTSHARE_ACCEL", "auto").strip().lower()
    if forced in ("tcg", "kvm"):
        return forced, "forced by HOSTSHARE_ACCEL=%s" % forced
    if forced not in ("", "auto"):
        raise VMError("HOSTSHARE_ACCEL must be tcg, kvm or auto, not %r" % forced)
    if not _kvm_usable():
        return "tcg", "no usable /dev/kvm"
    # The probe costs up to its timeout: remember its verdict for a day, for
    # this kernel, QEMU binary and /dev/kvm.
    cache = os.path.join(os.path.dirname(initrd), "accel-probe.json")
    qemu = shutil.which(QEMU) or QEMU
    try:
        key = "%s %d | %s %d | %d" % (kernel, os.stat(kernel).st_mtime, qemu,
                                     os.stat(qemu).st_mtime, os.stat("/dev/kvm").st_rdev)
    except OSError:
        key = None
    try:
        with open(cache) as f:
            c = json.load(f)
        if key and c.get("key") == key and time.time() - c.get("when", 0) < 86400:
            return c["accel"], c["why"] + " (cached probe result from %s)" % time.strftime(
                "%H:%M", time.localtime(c["when"]))
    except (OSError, ValueError, KeyError):
        pass
    limit = float(os.environ.get("HOSTSHARE_KVM_PROBE_TIMEOUT", "10"))
    ok, secs, detail = probe_accel("kvm", kernel, initrd, limit)
    accel = "kvm" if ok else "tcg"
    why = "KVM probe boot " + detail
    if key:
        try:
            with open(cache, "w") as f:
                json.dump({"key": key, "when": time.time(), "accel": accel, "why": why}, f)
        except OSError:
            pass
    return accel, why


# --------------------------------------------------------------------------
# Daemons

def daemon_binary(kind):
    if kind == "reference":
        return REFERENCE_DAEMON
    if kind == "hostshared":
        return os.environ.get("HOSTSHARE_BIN", os.path.join(ROOT, "build", "hostshared"))
    raise VMError("unknown daemon %r (hostshared|reference)" % kind)


def daemon_command(kind, sock, shared_dir, cache="auto", xattr=False, log_level=None,
                   extra=()):
    binary = daemon_binary(kind)
    if kind == "reference":
        refcache = {"never": "none", "none": "none", "auto": "auto", "always": "always"}
        if cache not in refcache:
            raise VMError("reference virtiofsd has no cache=%s" % cache)
        cmd = [binary, "--socket-path=" + sock, "-o", "source=" + shared_dir,
               "-o", "cache=" + refcache[cache]]
        if xattr:
            cmd += ["-o", "xattr"]
        if log_level:
            cmd += ["-o", "log_level=" + log_level]
    else:
        cmd = [binary, "--socket-path=" + sock, "--shared-dir=" + shared_dir,
               "--cache=" + cache]
        if xattr:
            cmd.append("--xattr")
        if log_level:
            cmd.append("--log-level=" + log_level)
    return cmd + list(extra)


class Daemon:
    def __init__(self, kind, sock, shared_dir, log_path, cache="auto", xattr=False,
                 log_level=None, extra=()):
        self.kind = kind
        self.sock = sock
        self.log_path = log_path
        self.cmd = daemon_command(kind, sock, shared_dir, cache, xattr,
                                  log_level or os.environ.get("HOSTSHARE_DAEMON_LOG_LEVEL"),
                                  extra)
        self.proc = None
        self.returncode = None

    def start(self, timeout=15):
        if not os.access(self.cmd[0], os.X_OK):
            raise VMError("daemon binary %s not found or not executable" % self.cmd[0])
        if os.path.lexists(self.sock):
            os.unlink(self.sock)
        env = dict(os.environ)
        if self.kind == "reference":
            env["MALLOC_ARENA_MAX"] = "1"
        self.logf = open(self.log_path, "ab")
        self.logf.write(("### %s\n" % " ".join(self.cmd)).encode())
        self.logf.flush()
        self.proc = spawn(self.cmd, stdin=subprocess.DEVNULL, stdout=self.logf,
                                     stderr=subprocess.STDOUT, env=env)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise VMError("%s exited with status %s before creating its socket; log:\n%s"
                              % (self.kind, self.proc.returncode, self.log_tail()))
            try:
                if stat.S_ISSOCK(os.stat(self.sock).st_mode):
                    return self
            except FileNotFoundError:
                pass
            time.sleep(0.05)
        self.kill()
        raise VMError("%s did not create %s within %ds" % (self.kind, self.sock, timeout))

    def alive(self):
        return self.proc is not None and self.proc.poll() is None

    def wait(self, timeout):
        """Waits for the daemon to exit on its own; returns status or None."""
        try:
            self.returncode = self.proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            return None
        return self.returncode

    def kill(self):
        if self.proc is None or self.proc.poll() is not None:
            return
        self.proc.send_signal(signal.SIGTERM)
        try:
            self.proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()

    def log_tail(self, lines=30):
        return tail_file(self.log_path, lines)


def tail_file(path, lines=30):
    try:
        with open(path, "rb") as f:
            data = f.read()
    except OSError:
        return "(no %s)" % path
    return "\n".join(data.decode("utf-8", "replace").splitlines()[-lines:])


# --------------------------------------------------------------------------
# Guest

class Result:
    def __init__(self, rc, out, secs):
        self.rc = rc
        self.out = out
        self.secs = secs

    def __repr__(self):
        return "Result(rc=%r, out=%r)" % (self.rc, self.out[:500])


class Channel:
    """One agent connection (a guest serial port on a unix socket)."""

    def __init__(self, name, guest):
        self.name = name
        self.guest = guest
        self.conn = None
        self.buf = b""
        self.lines = []
        self.collect = None
        self.next_id = 1

    def _fill(self, timeout):
        import select
        r, _, _ = select.select([self.conn], [], [], timeout)
        if not r:
            return False
        try:
            data = self.conn.recv(65536)
        except BlockingIOError:
            return False
        if not data:
            raise VMError("%s channel closed (QEMU exited? status %s)"
                          % (self.name, self.guest.proc.poll()))
        self.buf += data
        *complete, self.buf = self.buf.split(b"\n")
        self.lines.extend(l.decode("utf-8", "replace").rstrip("\r") for l in complete)
        return True

    def wait_line(self, pred, timeout, what):
        deadline = time.monotonic() + timeout
        while True:
            while self.lines:
                line = self.lines.pop(0)
                if pred(line):
                    return line
                if self.collect is not None:
                    self.collect.append(line)
            left = deadline - time.monotonic()
            if left <= 0:
                raise CommandTimeout("timeout after %.0fs waiting for %s" % (timeout, what))
            watch = self.guest.watch() if self.guest.watch else None
            if watch:
                raise VMError("%s while waiting for %s" % (watch, what))
            proc = self.guest.proc
            if proc.poll() is not None and not self._fill(0):
                raise VMError("QEMU exited (status %s) while waiting for %s; qemu log:\n%s\n"
                              "console tail:\n%s" % (proc.returncode, what,
                                                     tail_file(self.guest.qemu_log, 10),
                                                     tail_file(self.guest.console_path, 15)))
            self._fill(min(left, 0.5))

    def send(self, script, timeout):
        cid = "%s%d-%d" % (self.name[0], self.next_id, os.getpid())
        self.next_id += 1
        b64 = base64.b64encode(script.encode()).decode()
        msg = ("@@HS-RUN %s %d %s\n" % (cid, int(timeout), b64)).encode()
        self.conn.setblocking(True)
        try:
            self.conn.sendall(msg)
        finally:
            self.conn.setblocking(False)
        return cid

    def run(self, script, timeout=60):
        t0 = time.monotonic()
        cid = self.send(script, timeout)
        self.wait_line(lambda l: l == "@@HS-BEGIN " + cid, timeout + 10,
                       "command %r" % script[:80])
        body = []
        self.collect = body
        try:
            end = self.wait_line(lambda l: l.startswith("@@HS-END " + cid + " "), 60,
                                 "output of %r" % script[:80])
        finally:
            self.collect = None
        rc = int(end.split()[2])
        out = base64.b64decode("".join(body)).decode("utf-8", "replace")
        return Result(rc, out, time.monotonic() - t0)

    def close(self):
        if self.conn is not None:
            self.conn.close()
            self.conn = None


# Guest-side diagnostics, run on the diag channel when a command hangs.
GUEST_DIAG = r"""
echo "uptime: $(cat /proc/uptime)"
for p in /proc/[0-9]*; do
    st=$(sed -n 's/^State:[[:space:]]*//p' $p/status 2>/dev/null)
    cmd=$(tr '\0' ' ' < $p/cmdline 2>/dev/null)
    [ -n "$cmd" ] || continue          # kernel thread
    case "$cmd" in *hs-cmd.d*|*"base64 -d"*) continue ;; esac   # this script
    echo "--- pid ${p#/proc/} ($(cat $p/comm)) state $st wchan $(cat $p/wchan): $cmd"
    case "$st" in D*|T*) cat $p/stack 2>/dev/null | head -20 ;; esac
done
echo "--- interrupts:"; grep -E 'virtio' /proc/interrupts
"""


class Guest:
    """One QEMU process; ttyS0 = console (file); virtio serial port "hs.ctl" =
    the agent channel; port "hs.diag" = a second agent used for diagnostics
    while the first one is busy."""

    def __init__(self, kernel, initrd, accel, vhost_sock, tag, workdir, smp=None,
                 mem="512M", append_extra=""):
        self.kernel = kernel
        self.initrd = initrd
        self.accel = accel
        self.vhost_sock = vhost_sock
        self.tag = tag
        self.workdir = workdir
        self.smp = smp or int(os.environ.get("HOSTSHARE_SMP", "1"))
        self.mem = mem
        self.append_extra = append_extra
        self.console_path = os.path.join(workdir, "console.log")
        self.qemu_log = os.path.join(workdir, "qemu.log")
        self.proc = None
        self.ctl = Channel("ctl", self)
        self.diag = Channel("diag", self)
        self.boot_secs = None
        self.boots = 0
        self.kernel_release = None
        # optional callable: returns a reason to stop waiting (e.g. the
        # daemon died), checked while waiting for the agents
        self.watch = None

    def sock_path(self, ch):
        return os.path.join(self.workdir, ch.name + ".sock")

    def command_line(self):
        cmdline = "console=ttyS0 quiet loglevel=4 " + self.append_extra
        cmd = [QEMU, "-name", "hostshare-guest", "-accel", self.accel,
               "-m", self.mem, "-smp", str(self.smp),
               "-object", "memory-backend-memfd,id=mem,size=%s,share=on" % self.mem,
               "-numa", "node,memdev=mem",
               "-chardev", "socket,id=vfs,path=" + self.vhost_sock,
               "-device", "vhost-user-fs-pci,chardev=vfs,tag=" + self.tag,
               "-nodefaults", "-no-user-config", "-nographic",
               "-chardev", "file,id=con,path=" + self.console_path,
               "-chardev", "socket,id=ctl,path=" + self.sock_path(self.ctl),
               "-serial", "chardev:con",
               "-device", "virtio-serial-pci,id=vser0",
               "-device", "virtserialport,bus=vser0.0,chardev=ctl,name=hs.ctl",
               "-chardev", "socket,id=diag,path=" + self.sock_path(self.diag),
               "-device", "virtserialport,bus=vser0.0,chardev=diag,name=hs.diag",
               "-kernel", self.kernel, "-initrd", self.initrd, "-append", cmdline.strip()]
        if self.accel == "kvm":
            cmd[1:1] = ["-cpu", "host"]
        return cmd

    def start(self, boot_timeout=None):
        if boot_timeout is None:
            boot_timeout = float(os.environ.get("HOSTSHARE_BOOT_TIMEOUT", "180"))
        listeners = []
        for ch in (self.ctl, self.diag):
            path = self.sock_path(ch)
            if os.path.lexists(path):
                os.unlink(path)
            ls = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            ls.bind(path)
            ls.listen(1)
            ls.settimeout(20)
            listeners.append((ch, ls))
        cmd = self.command_line()
        with open(self.qemu_log, "ab") as f:
            f.write(("### %s\n" % " ".join(cmd)).encode())
        self.qlog = open(self.qemu_log, "ab")
        self.t_start = time.monotonic()
        self.proc = spawn(cmd, stdin=subprocess.DEVNULL, stdout=self.qlog,
                                     stderr=subprocess.STDOUT)
        try:
            for ch, ls in listeners:
                ch.conn, _ = ls.accept()
                ch.conn.setblocking(False)
        except socket.timeout:
            self.kill()
            raise VMError("QEMU did not connect its agent chardevs; qemu log:\n%s"
                          % tail_file(self.qemu_log))
        finally:
            for _, ls in listeners:
                ls.close()
        self.wait_ready(boot_timeout)
        return self

    def wait_ready(self, timeout):
        """Waits for the agents' READY lines (after boot or reboot)."""
        try:
            line = self.ctl.wait_line(lambda l: l.startswith("@@HS-READY"), timeout,
                                      "guest boot (agent READY)")
        except CommandTimeout as e:
            raise CommandTimeout("%s; console tail:\n%s" % (e, tail_file(self.console_path, 15)))
        self.boot_secs = time.monotonic() - self.t_start
        self.boots += 1
        parts = line.split()
        self.kernel_release = parts[1] if len(parts) > 1 else None
        self.guest_uptime = float(parts[2]) if len(parts) > 2 else None
        try:
            self.diag.wait_line(lambda l: l.startswith("@@HS-READY"), 10, "diag agent READY")
            self.diag_ok = True
        except CommandTimeout:
            self.diag_ok = False
        return self.boot_secs

    def run(self, script, timeout=60):
        """Runs a sh script in the guest; returns Result(rc, output, secs)."""
        return self.ctl.run(script, timeout)

    def diagnose(self, timeout=20):
        """Guest-side state (blocked tasks with their kernel stacks) from the diag agent; works while the main agent hangs."""
        if not getattr(self, "diag_ok", False) or not self.alive():
            return "(no diag channel)"
        try:
            return self.diag.run(GUEST_DIAG, timeout).out
        except VMError as e:
            self.diag_ok = False
            return "(diag failed: %s)" % str(e).splitlines()[0]

    def reboot(self, timeout=None):
        """`reboot -f` in the guest; QEMU resets and the agents come back."""
        if timeout is None:
            timeout = float(os.environ.get("HOSTSHARE_BOOT_TIMEOUT", "180"))
        self.ctl.send("sync; reboot -f", 30)
        self.t_start = time.monotonic()
        return self.wait_ready(timeout)

    def poweroff(self, timeout=60):
        """`poweroff -f` in the guest; returns QEMU's exit status."""
        self.ctl.send("sync; poweroff -f", 30)
        try:
            return self.proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            raise VMError("QEMU did not exit within %ds after poweroff -f" % timeout)
        finally:
            self.close()

    def close(self):
        self.ctl.close()
        self.diag.close()

    def alive(self):
        return self.proc is not None and self.proc.poll() is None

    def kill(self):
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=5)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.close()


def host_process_diag(pid):
    """Threads of a host process (and of its children: the reference daemon
    forks into its sandbox) with their state, wchan and kernel stack."""
    out = [_one_process_diag(pid)]
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open("/proc/%s/stat" % entry) as f:
                    ppid = int(f.read().rsplit(")", 1)[-1].split()[1])
            except (OSError, ValueError, IndexError):
                continue
            if ppid == pid:
                out.append("child process %s:" % entry)
                out.append(_one_process_diag(int(entry)))
    return "\n".join(out)


def _one_process_diag(pid):
    out = []
    try:
        tids = sorted(os.listdir("/proc/%d/task" % pid), key=int)
    except OSError:
        return "(process %d gone)" % pid
    for tid in tids:
        base = "/proc/%d/task/%s/" % (pid, tid)
        def rd(name):
            try:
                with open(base + name) as f:
                    return f.read().strip()
            except OSError:
                return "?"
        stat_fields = rd("stat").rsplit(")", 1)[-1].split()
        state = stat_fields[0] if stat_fields else "?"
        out.append("tid %s (%s) state %s wchan %s syscall %s"
                   % (tid, rd("comm"), state, rd("wchan"), rd("syscall").split(" ")[0]))
        stack = rd("stack")
        if stack and stack != "?" and state in ("D", "S"):
            out.extend("    " + l for l in stack.splitlines()[:8])
    return "\n".join(out)


# --------------------------------------------------------------------------
# CLI

def cmd_accel(args):
    kernel, initrd, _ = build_guest_images(args.outdir)
    accel, why = choose_accel(kernel, initrd)
    print("accel=%s (%s)" % (accel, why))
    return 0


def cmd_session(args):
    kernel, initrd, kver = build_guest_images(args.outdir)
    accel, why = choose_accel(kernel, initrd)
    log("accel=%s (%s)" % (accel, why))
    workdir = args.workdir or os.path.join(args.outdir, "session-%d" % os.getpid())
    os.makedirs(workdir, exist_ok=True)
    sock = os.path.join(workdir, "vhost-fs.sock")
    dlog = os.path.join(workdir, "daemon.log")
    daemon = Daemon(args.daemon, sock, os.path.abspath(args.shared_dir), dlog,
                    cache=args.cache, xattr=args.xattr)
    log("starting daemon: " + " ".join(daemon.cmd))
    daemon.start()
    guest = Guest(kernel, initrd, accel, sock, args.tag, workdir)
    status = 0
    try:
        log("booting guest (kernel %s, %s, %d vCPU)" % (kver, accel, guest.smp))
        guest.start()
        log("guest up in %.1fs" % guest.boot_secs)
        for c in args.cmd:
            print("guest# " + c, flush=True)
            res = guest.run(c, timeout=args.timeout)
            sys.stdout.write(res.out)
            if res.out and not res.out.endswith("\n"):
                sys.stdout.write("\n")
            if res.rc != 0:
                print("(exit status %d)" % res.rc, flush=True)
                status = 1
                break
        print("guest# poweroff -f", flush=True)
        qrc = guest.poweroff()
    except VMError as e:
        log("error: %s" % e)
        guest.kill()
        daemon.kill()
        return 1
    drc = daemon.wait(15)
    if drc is None:
        log("daemon did not exit within 15s after QEMU quit; killing it")
        daemon.kill()
        status = 1
    elif drc != 0:
        status = 1
    summary = [
        "daemon:        %s" % " ".join(daemon.cmd),
        "accel:         %s (%s)" % (accel, why),
        "guest kernel:  %s, %d vCPU, %s" % (guest.kernel_release, guest.smp, guest.mem),
        "boot time:     %.1fs from QEMU start to the guest agent ready" % guest.boot_secs,
        "qemu exit:     %s" % qrc,
        "daemon exit:   %s" % drc,
        "logs:          %s" % workdir,
    ]
    text = "\n".join(summary) + "\n"
    if args.summary_file:
        with open(args.summary_file, "w") as f:
            f.write(text)
    else:
        sys.stdout.write("---- summary ----\n" + text)
    return status


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--outdir", default=DEFAULT_OUT, help="kernel/initramfs cache dir")
    sub = ap.add_subparsers(dest="sub", required=True)
    sub.add_parser("accel")
    s = sub.add_parser("session")
    s.add_argument("--daemon", default=os.environ.get("HOSTSHARE_DAEMON", "hostshared"))
    s.add_argument("--shared-dir", required=True)
    s.add_argument("--cache", default="auto")
    s.add_argument("--xattr", action="store_true")
    s.add_argument("--tag", default="hostshare")
    s.add_argument("--workdir")
    s.add_argument("--timeout", type=int, default=120)
    s.add_argument("--cmd", action="append", default=[])
    s.add_argument("--summary-file", help="write the summary there, not to stdout")
    args = ap.parse_args(argv)
    if args.sub == "accel":
        return cmd_accel(args)
    return cmd_session(args)


if __name__ == "__main__":
    sys.exit(main())
