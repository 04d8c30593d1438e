#!/usr/bin/python3
"""rootfs_vm: boot a guest whose root file system is a host tree served over
virtio-fs (hostshared or the reference C virtiofsd) or 9p, with optional
extra shares; used by tests/conformance and tests/workloads.

Built on scripts/hsvm.py (accelerator choice, daemon start, the guest agent
protocol); the initramfs is scripts/rootfs-initramfs.sh, its /init
scripts/rootfs-init.sh, the agent scripts/rootfs-agent.sh.

  * Share(kind, tag, host_dir, ...): one file system for the guest:
      kind "hostshared" | "reference" (a vhost-user-fs-pci device and its
      daemon) or "9p" (QEMU's own -virtfs local,security_model=passthrough).
  * RootGuest(kernel, initrd, accel, workdir, root, extra_shares): a QEMU
      guest; root is the Share mounted as /, extra shares are mounted by the
      caller with guest.mount_share(share, path).

CLI:
  rootfs_vm.py shell [--root DIR] [--daemon hostshared|reference|9p] [--rw]
                     [--cmd 'guest command']...
  rootfs_vm.py boottime [--root DIR] [--reps N] [--out FILE]
      boot-to-shell time of hostshared vs the reference virtiofsd serving
      the same tree read-only, alternating, N repetitions each.
"""

import argparse
import os
import re
import statistics
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import hsvm  # noqa: E402

ROOT = hsvm.ROOT
OUT = os.path.join(ROOT, "build", "rootfs")
log = hsvm.log


def build_images(outdir=OUT):
    res = subprocess.run([os.path.join(hsvm.SCRIPTS, "rootfs-initramfs.sh"), outdir],
                         stdout=subprocess.PIPE, text=True)
    if res.returncode != 0:
        raise hsvm.VMError("rootfs-initramfs.sh failed (exit %d)" % res.returncode)
    fields = dict(kv.split("=", 1) for kv in res.stdout.strip().splitlines()[-1].split())
    return fields["KERNEL"], fields["INITRAMFS"], fields["KVER"]


def guest_path(path):
    """Where a guest booted from the host's / sees the host file `path`: the
    guest's /tmp is its own tmpfs, the host's /tmp is at /run/host-tmp
    (scripts/rootfs-init.sh)."""
    p = os.path.abspath(path)
    if p == "/tmp" or p.startswith("/tmp/"):
        return "/run/host-tmp" + p[len("/tmp"):]
    return p


_HELP = {}


def hostshared_accepts_sandbox(binary, mode):
    """True if this hostshared build implements --sandbox MODE (its --help
    says so); the option is refused as "not yet supported" otherwise."""
    if binary not in _HELP:
        try:
            _HELP[binary] = subprocess.run([binary, "--help"], stdout=subprocess.PIPE,
                                           stderr=subprocess.STDOUT, text=True).stdout
        except OSError:
            _HELP[binary] = ""
    for line in _HELP[binary].splitlines():
        if line.strip().startswith("--sandbox"):
            # e.g. "--sandbox MODE   none (namespace|chroot not yet supported)"
            return mode in re.split(r"[\s|,]+", line.split("(")[0])
    return False


class Share:
    """One file system for the guest; see the module doc."""

    def __init__(self, kind, tag, host_dir, cache="auto", readonly=False, xattr=False,
                 extra=()):
        if kind not in ("hostshared", "reference", "9p"):
            raise hsvm.VMError("unknown share kind %r" % kind)
        self.kind = kind
        self.tag = tag
        self.host_dir = os.path.abspath(host_dir)
        self.cache = cache
        self.readonly = readonly
        self.xattr = xattr
        self.extra = list(extra)
        self.daemon = None
        self.sock = None

    @property
    def fstype(self):
        return "9p" if self.kind == "9p" else "virtiofs"

    def describe(self):
        if self.kind == "9p":
            return "9p local,security_model=passthrough%s on %s" % (
                ",readonly=on" if self.readonly else "", self.host_dir)
        return " ".join(self.daemon.cmd) if self.daemon else self.kind

    def start(self, workdir, log_level=None):
        """Starts the daemon (virtio-fs shares); no-op for 9p."""
        if self.kind == "9p":
            return self
        self.sock = os.path.join(workdir, "%s.sock" % self.tag)
        extra = list(self.extra)
        if self.kind == "hostshared":
            if self.readonly:
                extra.append("--readonly")
            serving_root = os.path.realpath(self.host_dir) == "/"
            if serving_root and not any(e.startswith("--sandbox") for e in extra):
                # A pivot_root sandbox cannot pivot into the host's "/" (EBUSY).
                binary = hsvm.daemon_binary("hostshared")
                if hostshared_accepts_sandbox(binary, "chroot"):
                    extra.append("--sandbox=chroot")
                elif hostshared_accepts_sandbox(binary, "namespace"):
                    extra.append("--sandbox=none")
        elif self.kind == "reference":
            if os.path.realpath(self.host_dir) == "/":
                extra += ["-o", "sandbox=chroot"]
        self.daemon = hsvm.Daemon(self.kind, self.sock, self.host_dir,
                                  os.path.join(workdir, "daemon-%s.log" % self.tag),
                                  cache=self.cache, xattr=self.xattr,
                                  log_level=log_level, extra=extra)
        self.daemon.start()
        return self

    def stop(self):
        if self.daemon is not None:
            self.daemon.kill()

    def qemu_args(self, index):
        if self.kind == "9p":
            opt = "local,path=%s,mount_tag=%s,security_model=passthrough,id=p9_%d" % (
                self.host_dir, self.tag, index)
            if self.readonly:
                opt += ",readonly=on"
            return ["-virtfs", opt]
        cid = "vfs%d" % index
        return ["-chardev", "socket,id=%s,path=%s" % (cid, self.sock),
                "-device", "vhost-user-fs-pci,chardev=%s,tag=%s" % (cid, self.tag)]

    def mount_options(self, ro=False):
        opts = ["ro" if ro else "rw"]
        if self.kind == "9p":
            opts += ["trans=virtio", "version=9p2000.L", "msize=512000"]
        return ",".join(opts)


class RootGuest(hsvm.Guest):
    """A guest booted from `root` (a Share) with `extra` shares attached."""

    def __init__(self, kernel, initrd, accel, workdir, root, extra=(), root_rw=False,
                 mem="1536M", smp=None):
        append = "hsroot=%s:%s hsroot.mode=%s" % (root.fstype, root.tag,
                                                   "rw" if root_rw else "ro")
        super().__init__(kernel, initrd, accel, None, root.tag, workdir, smp=smp, mem=mem,
                         append_extra=append)
        self.root = root
        self.shares = [root] + list(extra)

    def command_line(self):
        # no_timer_check: under TCG on a loaded host the IO-APIC timer check
        # can time out and panic the kernel ("IO-APIC + timer doesn't work").
        cmdline = "console=ttyS0 quiet loglevel=4 no_timer_check " + self.append_extra
        cmd = [hsvm.QEMU, "-name", "hostshare-rootfs", "-accel", self.accel,
               "-m", self.mem, "-smp", str(self.smp),
               "-object", "memory-backend-memfd,id=mem,size=%s,share=on" % self.mem,
               "-numa", "node,memdev=mem",
               "-nodefaults", "-no-user-config", "-nographic",
               "-chardev", "file,id=con,path=" + self.console_path,
               "-chardev", "socket,id=ctl,path=" + self.sock_path(self.ctl),
               "-serial", "chardev:con",
               "-device", "virtio-serial-pci,id=vser0",
               "-device", "virtserialport,bus=vser0.0,chardev=ctl,name=hs.ctl",
               "-chardev", "socket,id=diag,path=" + self.sock_path(self.diag),
               "-device", "virtserialport,bus=vser0.0,chardev=diag,name=hs.diag",
               "-kernel", self.kernel, "-initrd", self.initrd, "-append", cmdline]
        for i, share in enumerate(self.shares):
            cmd += share.qemu_args(i)
        if self.accel == "kvm":
            cmd[1:1] = ["-cpu", "host"]
        return cmd

    def mount_share(self, share, path, ro=False, timeout=60):
        res = self.run("mkdir -p %s && mount -t %s -o %s %s %s" % (
            path, share.fstype, share.mount_options(ro), share.tag, path), timeout)
        if res.rc != 0:
            raise hsvm.VMError("mounting %s on %s failed: %s" % (share.tag, path, res.out))


class Session:
    """Daemons + guest for one run; use as a context manager."""

    def __init__(self, workdir, root, extra=(), root_rw=False, mem="1536M", accel=None,
                 images=None, log_level=None):
        self.workdir = workdir
        os.makedirs(workdir, exist_ok=True)
        self.root = root
        self.extra = list(extra)
        self.root_rw = root_rw
        self.mem = mem
        self.log_level = log_level
        self.kernel, self.initrd, self.kver = images or build_images()
        self.accel = accel
        self.guest = None

    def start(self, boot_timeout=None):
        if self.accel is None:
            self.accel, why = hsvm.choose_accel(self.kernel, self.initrd)
        for s in [self.root] + self.extra:
            s.start(self.workdir, self.log_level)
        self.guest = RootGuest(self.kernel, self.initrd, self.accel, self.workdir, self.root,
                               self.extra, root_rw=self.root_rw, mem=self.mem)
        try:
            self.guest.start(boot_timeout=boot_timeout or float(
                os.environ.get("HOSTSHARE_BOOT_TIMEOUT", "180")))
        except Exception:
            self.stop()
            raise
        return self

    def stop(self):
        if self.guest is not None:
            if self.guest.alive():
                try:
                    self.guest.poweroff(timeout=20)
                except Exception:
                    self.guest.kill()
            self.guest.kill()
        for s in [self.root] + self.extra:
            s.stop()

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()


# --------------------------------------------------------------------------
# CLI

def cmd_shell(args):
    root = Share(args.daemon, "rootfs", args.root, readonly=not args.rw)
    wd = args.workdir or os.path.join(OUT, "shell-%d" % os.getpid())
    status = 0
    with Session(wd, root, root_rw=args.rw) as s:
        log("accel=%s; booted from %s in %.1fs" % (s.accel, root.describe(), s.guest.boot_secs))
        for c in args.cmd:
            print("guest# " + c, flush=True)
            res = s.guest.run(c, timeout=args.timeout)
            sys.stdout.write(res.out)
            if res.rc:
                print("(exit status %d)" % res.rc)
                status = 1
                break
    return status


def cpu_seconds(pid):
    """User+system CPU time of a process and of its live children."""
    tick = os.sysconf("SC_CLK_TCK")
    total = 0.0
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open("/proc/%s/stat" % entry) as f:
                fields = f.read().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(entry) == pid or int(fields[1]) == pid:
            total += (int(fields[11]) + int(fields[12])) / tick
    return total


FIRST_CMD = "bash -c 'python3 -c \"import json, sqlite3\" && git --version && gcc --version'"


def cmd_boottime(args):
    images = build_images()
    accel = os.environ.get("HOSTSHARE_ACCEL") or None
    if accel in (None, "auto"):
        accel, _ = hsvm.choose_accel(images[0], images[1])
    base = args.workdir or os.path.join(OUT, "boottime-%s" % time.strftime("%Y%m%d-%H%M%S"))
    results = {"hostshared": [], "reference": []}
    first = {"hostshared": [], "reference": []}
    cpu = {"hostshared": [], "reference": []}
    order = ["hostshared", "reference"]
    for rep in range(args.reps):
        for kind in (order if rep % 2 == 0 else order[::-1]):
            root = Share(kind, "rootfs", args.root, readonly=True)
            wd = os.path.join(base, "%s-%d" % (kind, rep))
            with Session(wd, root, accel=accel, images=images) as s:
                res = s.guest.run(FIRST_CMD, timeout=300)
                if res.rc != 0:
                    raise hsvm.VMError("first command failed on %s: %s" % (kind, res.out))
                results[kind].append(s.guest.boot_secs)
                first[kind].append(res.secs)
                cpu[kind].append(cpu_seconds(root.daemon.proc.pid))
                log("rep %d %-10s boot-to-shell %.1fs, first command %.1fs, daemon CPU %.2fs"
                    % (rep, kind, s.guest.boot_secs, res.secs, cpu[kind][-1]))
    lines = ["boot-to-shell, root = %s served read-only, accel %s, %d reps alternating"
             % (args.root, accel, args.reps),
             "(QEMU start -> agent READY from the served root's /bin/sh; first command = %s)"
             % FIRST_CMD]
    for kind in order:
        b, f = results[kind], first[kind]
        lines.append("%-10s boot median %.1fs (min %.1f max %.1f)  first command median %.1fs"
                     "  daemon CPU median %.2fs  runs: %s"
                     % (kind, statistics.median(b), min(b), max(b), statistics.median(f),
                        statistics.median(cpu[kind]), " ".join("%.1f" % x for x in b)))
    text = "\n".join(lines) + "\n"
    sys.stdout.write(text)
    if args.out:
        with open(args.out, "w") as fh:
            fh.write(text)
    return 0


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    sub = ap.add_subparsers(dest="sub", required=True)
    s = sub.add_parser("shell")
    s.add_argument("--root", default="/")
    s.add_argument("--daemon", default="hostshared", choices=["hostshared", "reference", "9p"])
    s.add_argument("--rw", action="store_true")
    s.add_argument("--workdir")
    s.add_argument("--timeout", type=int, default=300)
    s.add_argument("--cmd", action="append", default=[])
    b = sub.add_parser("boottime")
    b.add_argument("--root", default="/")
    b.add_argument("--reps", type=int, default=5)
    b.add_argument("--workdir")
    b.add_argument("--out")
    args = ap.parse_args(argv)
    return cmd_shell(args) if args.sub == "shell" else cmd_boottime(args)


if __name__ == "__main__":
    sys.exit(main())
