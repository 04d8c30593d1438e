#!/usr/bin/python3
"""bench-vm-profile: where the time of a guest file-system workload goes.

For each step of the guest metadata workloads (create / stat / unlink of N
files, cold and warm listing of an N-entry directory, tar x) it measures,
per FUSE request:
  - the guest's wall time (timed inside the guest),
  - the CPU time of the daemon's process tree (/proc/PID/stat),
  - the CPU time of QEMU (the TCG vCPU emulating the guest kernel),
so that a ratio between two daemons can be read against what the daemon
could change at all. The request count of each step comes from one extra
run of hostshared with --log-level=trace (both daemons receive the same
requests: the guest kernel decides them).

  scripts/bench-vm-profile.py [--contenders hostshared,reference] [--files 10000]
                              [--out DIR]
"""

import argparse
import collections
import json
import os
import re
import shutil
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import hsvm  # noqa: E402
import rootfs_vm  # noqa: E402

ROOT = hsvm.ROOT
MNT = "/run/hsbench"


def tree_cpu(pid):
    """user+system seconds of pid and its descendants."""
    hz = os.sysconf("SC_CLK_TCK")
    procs = {}
    for e in os.listdir("/proc"):
        if e.isdigit():
            try:
                with open("/proc/%s/stat" % e) as f:
                    fields = f.read().rsplit(")", 1)[1].split()
                procs[int(e)] = (int(fields[1]), int(fields[11]) + int(fields[12]))
            except (OSError, IndexError, ValueError):
                pass
    total, todo = 0, [pid]
    while todo:
        p = todo.pop()
        if p in procs:
            total += procs[p][1]
            todo += [c for c, (pp, _) in procs.items() if pp == p]
    return total / hz


def steps(fsbench, tarball, n):
    return [
        ("create", "mkdir %s/meta && %s create %s/meta %d" % (MNT, fsbench, MNT, n)),
        ("stat", "%s stat %s/meta %d" % (fsbench, MNT, n)),
        ("unlink", "%s unlink %s/meta %d" % (fsbench, MNT, n)),
        ("readdir-cold", "%s readdir %s/dir10k" % (fsbench, MNT)),
        ("readdir-warm", "sleep 1.1; %s readdir %s/dir10k" % (fsbench, MNT)),
        ("tar-x", "cp %s /tmp/src.tar && mkdir %s/tarx && s=$(date +%%s.%%N) && "
                  "tar xf /tmp/src.tar -C %s/tarx && sync && e=$(date +%%s.%%N) && "
                  "echo tar-x 0 $(echo \"$e - $s\" | bc -l)" % (tarball, MNT, MNT)),
    ]


def session(kind, out, share, n, fsbench, tarball, images, trace=False):
    if os.path.exists(share):
        shutil.rmtree(share)
    os.makedirs(os.path.join(share, "dir10k"))
    for i in range(n):
        open(os.path.join(share, "dir10k", "file-%06d" % i), "w").close()
    os.chmod(share, 0o777)
    root = rootfs_vm.Share("9p", "rootfs", "/", readonly=True)
    spec_kind, _, opts = kind.partition(":")
    extra = opts.split() if opts else []
    if trace:
        extra.append("--log-level=trace")
    bench = rootfs_vm.Share(spec_kind, "bench", share, cache="auto", extra=extra)
    wd = os.path.join(out, "%s%s" % (kind.replace(":", "_"), "-trace" if trace else ""))
    rows = []
    with rootfs_vm.Session(wd, root, extra=[bench], accel="tcg", images=images) as s:
        s.guest.mount_share(bench, MNT)
        dpid = bench.daemon.proc.pid
        qpid = s.guest.proc.pid
        for name, cmd in steps(fsbench, tarball, n):
            mark = os.path.getsize(bench.daemon.log_path)
            d0, q0 = tree_cpu(dpid), tree_cpu(qpid)
            r = s.guest.run(cmd, timeout=1800)
            d1, q1 = tree_cpu(dpid), tree_cpu(qpid)
            if r.rc != 0:
                raise hsvm.VMError("%s %s failed: %s" % (kind, name, r.out))
            wall = float(r.out.split()[-1])
            reqs = None
            if trace:
                time.sleep(1.0)
                with open(bench.daemon.log_path, "rb") as f:
                    f.seek(mark)
                    text = f.read().decode("utf-8", "replace")
                reqs = collections.Counter(re.findall(r"fuse: (\w+) unique", text))
            rows.append({"step": name, "wall_s": wall, "daemon_cpu_s": d1 - d0,
                         "qemu_cpu_s": q1 - q0, "requests": dict(reqs) if reqs else None})
            hsvm.log("%s %s wall %.2fs daemon %.2fs qemu %.2fs" % (
                kind, name, wall, d1 - d0, q1 - q0))
    return rows


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--contenders", default="hostshared,reference")
    ap.add_argument("--files", type=int, default=10000)
    ap.add_argument("--out", default=os.path.join(ROOT, "build-bench", "vm-profile"))
    args = ap.parse_args(argv)
    out = os.path.abspath(args.out)
    os.makedirs(out, exist_ok=True)
    os.environ.setdefault("HOSTSHARE_BIN", os.path.join(ROOT, "build-bench", "hostshared"))
    vm_out = os.path.join(ROOT, "build-bench", "vm")
    fsbench = os.path.join(vm_out, "fsbench")
    tarball = os.path.join(vm_out, "src.tar")
    if not (os.path.exists(fsbench) and os.path.exists(tarball)):
        sys.exit("run scripts/bench-vm.py first (it builds fsbench and the tarball)")
    images = rootfs_vm.build_images()
    share = os.path.join(out, "share")
    counted = session("hostshared", out, share, args.files, fsbench, tarball, images, trace=True)
    requests = {r["step"]: sum(r["requests"].values()) for r in counted}
    mix = {r["step"]: r["requests"] for r in counted}
    result = {"files": args.files, "requests": requests, "mix": mix, "runs": {}}
    for kind in args.contenders.split(","):
        result["runs"][kind] = session(kind, out, share, args.files, fsbench, tarball, images)
    shutil.rmtree(share, ignore_errors=True)
    with open(os.path.join(out, "profile.json"), "w") as f:
        json.dump(result, f, indent=1)
    lines = ["| step | requests | " + " | ".join(
        "%s: wall / daemon CPU / QEMU CPU, us per request" % k for k in result["runs"]) + " |",
        "|---|---:|" + "---:|" * len(result["runs"])]
    for step, _ in steps("", "", 0):
        n = requests.get(step) or 1
        cells = []
        for k, rows in result["runs"].items():
            r = next(x for x in rows if x["step"] == step)
            cells.append("%.0f / %.1f / %.0f" % (r["wall_s"] / n * 1e6, r["daemon_cpu_s"] / n * 1e6,
                                                 r["qemu_cpu_s"] / n * 1e6))
        lines.append("| %s | %d | %s |" % (step, n, " | ".join(cells)))
    text = "\n".join(lines) + "\n"
    with open(os.path.join(out, "profile.md"), "w") as f:
        f.write(text)
    sys.stdout.write(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
