#!/usr/bin/python3
"""bench-vm: file-system workloads in a real Linux guest (QEMU), on a share
served by hostshared, by the reference C virtiofsd, or by QEMU's 9p.

Each session boots a guest whose root is the host's "/" (read-only, over 9p:
the same for every contender; see scripts/rootfs_vm.py) with the share under
test attached and mounted at /run/hsbench, then runs, timed inside the guest:

  meta      create, stat and unlink of 10k files (tools/bench/guest/fsbench.c)
  readdir   a fresh 10k-entry directory listed with a stat of every entry,
            once cold (first listing) and once warm (again after 1.1 s)
  tar       `tar x` of a ~50 MB tree of C/C++ headers (+ sync), from guest RAM
  fio       seq 1 MiB read, seq 1 MiB write, random 4 KiB read; libaio,
            iodepth 16, O_DIRECT, 256 MiB file, 8 s each

Contenders run alternately (the order rotates each repetition) and the
report gives medians, so that the noise of TCG on a shared host spreads
evenly. Output: OUT/results.json and a markdown table on stdout.

  scripts/bench-vm.py [--reps 5] [--contenders hostshared,reference,9p]
                      [--quick] [--out DIR]

A contender is "hostshared", "reference" or "9p", optionally with daemon
options after a colon: "hostshared:--thread-pool-size=2". HOSTSHARE_BIN
picks the hostshared binary (default build-bench/hostshared);
HOSTSHARE_ACCEL the accelerator (default tcg).
"""

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import hsvm  # noqa: E402
import rootfs_vm  # noqa: E402

ROOT = hsvm.ROOT
log = hsvm.log

TAR_DIRS = ["llvm-14", "c++", "linux", "unicode", "x86_64-linux-gnu"]  # of /usr/include
FIO_JOBS = [
    ("fio-seqread-1m", "read", "1M"),
    ("fio-seqwrite-1m", "write", "1M"),
    ("fio-randread-4k", "randread", "4k"),
]


def sh(cmd, **kw):
    return subprocess.run(cmd, shell=True, check=True, **kw)


def prepare(out, quick):
    """Builds the guest helper and the tarball (cached in OUT)."""
    os.makedirs(out, exist_ok=True)
    fsbench = os.path.join(out, "fsbench")
    src = os.path.join(ROOT, "tools", "bench", "guest", "fsbench.c")
    if not os.path.exists(fsbench) or os.path.getmtime(fsbench) < os.path.getmtime(src):
        sh("gcc -static -O2 -Wall -Wextra -Werror -o %s %s" % (fsbench, src))
    tarball = os.path.join(out, "src-quick.tar" if quick else "src.tar")
    if not os.path.exists(tarball):
        dirs = ["linux"] if quick else TAR_DIRS
        sh("tar -C /usr/include --sort=name -cf %s.tmp %s" % (tarball, " ".join(dirs)))
        os.rename(tarball + ".tmp", tarball)
    return fsbench, tarball


def fresh_share(path, entries):
    """An empty share with a dir10k/ of `entries` empty files (made on the host)."""
    if os.path.exists(path):
        shutil.rmtree(path)
    os.makedirs(os.path.join(path, "dir10k"))
    for i in range(entries):
        open(os.path.join(path, "dir10k", "file-%06d" % i), "w").close()
    os.chmod(path, 0o777)


def guest_script(fsbench, tarball, n, fio_seconds, fio_size):
    """The guest side: a metadata script and one script per fio job, each
    printing one "RESULT name value unit" line per measurement. They run as
    separate guest commands, so that a job that hangs (a daemon that lost a
    request) costs only its own results."""
    fio = []
    for name, rw, bs in FIO_JOBS:
        fio.append(
            "set -e\n"
            "fio --name=%s --filename=/run/hsbench/fio.dat --rw=%s --bs=%s --size=%s "
            "--ioengine=libaio --iodepth=16 --direct=1 --time_based --runtime=%d "
            "--output-format=json --output=/tmp/%s.json >/dev/null 2>/tmp/%s.err || "
            "{ cat /tmp/%s.err; exit 1; }\n"
            "python3 -c 'import json; j=json.load(open(\"/tmp/%s.json\"))[\"jobs\"][0]; "
            "d=j[\"read\"] if j[\"read\"][\"io_bytes\"] else j[\"write\"]; "
            "print(\"RESULT %s-mibs\", d[\"bw_bytes\"]/1048576, \"MiB/s\"); "
            "print(\"RESULT %s-iops\", d[\"iops\"], \"IOPS\")'\n"
            % (name, rw, bs, fio_size, fio_seconds, name, name, name, name, name, name))
    return r"""
set -e
B=%(fsbench)s
t() { date +%%s.%%N; }
r() { echo "RESULT $1 $2 $3"; }
mkdir /run/hsbench/meta
set -- $($B create /run/hsbench/meta %(n)d); r create $3 s
set -- $($B stat /run/hsbench/meta %(n)d); r stat $3 s
set -- $($B unlink /run/hsbench/meta %(n)d); r unlink $3 s
set -- $($B readdir /run/hsbench/dir10k); r readdir-cold $3 s
sleep 1.1
set -- $($B readdir /run/hsbench/dir10k); r readdir-warm $3 s
cp %(tarball)s /tmp/src.tar
mkdir /run/hsbench/tarx
s=$(t); tar xf /tmp/src.tar -C /run/hsbench/tarx; sync; e=$(t)
r tar-x $(echo "$e - $s" | bc -l) s
rm -f /tmp/src.tar
fio --name=layout --filename=/run/hsbench/fio.dat --rw=write --bs=1M --size=%(fio_size)s \
    --ioengine=psync --create_only=1 >/dev/null
""" % dict(fsbench=fsbench, n=n, tarball=tarball, fio_size=fio_size), fio


def parse(out):
    res = {}
    for line in out.splitlines():
        if line.startswith("RESULT "):
            _, name, value, unit = line.split()
            res[name] = (float(value), unit)
    return res


def contender_share(spec, share_dir):
    kind, _, opts = spec.partition(":")
    extra = opts.split() if opts else []
    return rootfs_vm.Share(kind, "bench", share_dir, cache="auto", extra=extra)


def run_session(spec, workdir, share_dir, script, images, accel, timeout):
    root = rootfs_vm.Share("9p", "rootfs", "/", readonly=True)
    bench = contender_share(spec, share_dir)
    with rootfs_vm.Session(workdir, root, extra=[bench], accel=accel, images=images) as s:
        s.guest.mount_share(bench, "/run/hsbench")
        load0 = os.getloadavg()[0]
        meta_script, fio_scripts = script
        res = s.guest.run(meta_script, timeout=timeout)
        if res.rc != 0:
            raise hsvm.VMError("%s: guest script failed (%d):\n%s" % (spec, res.rc, res.out))
        out = parse(res.out)
        failures = []
        for (name, _, _), job in zip(FIO_JOBS, fio_scripts):
            try:
                r = s.guest.run(job, timeout=min(timeout, 600))
            except hsvm.CommandTimeout:
                failures.append("%s: no answer within 600 s" % name)
                log("%s: %s hung; the rest of this session is skipped" % (spec, name))
                break
            if r.rc != 0:
                failures.append("%s: exit %d: %s" % (name, r.rc, r.out.strip()[-300:]))
                continue
            out.update(parse(r.out))
        load1 = os.getloadavg()[0]
        return out, (load0, load1), bench.describe(), failures


def table(results, contenders):
    names = []
    for spec in contenders:
        for run in results[spec]:
            for k in run["results"]:
                if k not in names:
                    names.append(k)
    lines = ["| workload | " + " | ".join(contenders) + " | " +
             " | ".join("%s / %s" % (contenders[0], c) for c in contenders[1:]) + " |",
             "|---|" + "---|" * (2 * len(contenders) - 1)]
    for k in names:
        meds = []
        unit = ""
        for spec in contenders:
            vals = [r["results"][k][0] for r in results[spec] if k in r["results"]]
            unit = next((r["results"][k][1] for r in results[spec] if k in r["results"]), unit)
            meds.append(statistics.median(vals) if vals else None)
        cells = []
        for m in meds:
            cells.append("n/a" if m is None else ("%.2f %s" % (m, unit) if unit == "s"
                                                  else "%.0f %s" % (m, unit)))
        ratios = []
        for m in meds[1:]:
            if m is None or meds[0] is None or m == 0 or meds[0] == 0:
                ratios.append("n/a")
            elif unit == "s":  # time: lower is better
                ratios.append("%.2fx" % (m / meds[0]))
            else:
                ratios.append("%.2fx" % (meds[0] / m))
        lines.append("| %s | %s | %s |" % (k, " | ".join(cells), " | ".join(ratios)))
    return "\n".join(lines) + "\n"


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--reps", type=int, default=5)
    ap.add_argument("--contenders", default="hostshared,reference,9p")
    ap.add_argument("--out", default=os.path.join(ROOT, "build-bench", "vm"))
    ap.add_argument("--quick", action="store_true",
                    help="small sizes, 1 s fio runs: checks that everything works")
    ap.add_argument("--timeout", type=int, default=1800)
    args = ap.parse_args(argv)
    contenders = [c for c in args.contenders.split(",") if c]
    out = os.path.abspath(args.out)
    os.makedirs(out, exist_ok=True)
    os.environ.setdefault("HOSTSHARE_BIN", os.path.join(ROOT, "build-bench", "hostshared"))
    accel = os.environ.get("HOSTSHARE_ACCEL", "tcg")
    n = 1000 if args.quick else 10000
    fsbench, tarball = prepare(out, args.quick)
    script = guest_script(fsbench, tarball, n, 1 if args.quick else 8,
                          "16M" if args.quick else "256M")
    images = rootfs_vm.build_images()
    results = {c: [] for c in contenders}
    meta = {"accel": accel, "kernel": images[2], "reps": args.reps, "files": n,
            "tarball": tarball, "tarball_bytes": os.path.getsize(tarball),
            "started": time.strftime("%Y-%m-%d %H:%M:%S"), "contenders": {}}
    for rep in range(args.reps):
        k = rep % len(contenders)
        order = contenders[k:] + contenders[:k]
        for spec in order:
            share = os.path.join(out, "share")
            fresh_share(share, n)
            wd = os.path.join(out, "run-%d-%s" % (rep, spec.replace(":", "_").replace(" ", "")))
            t0 = time.monotonic()
            res, load, desc, failures = run_session(spec, wd, share, script, images, accel,
                                                    args.timeout)
            meta["contenders"][spec] = desc
            results[spec].append({"rep": rep, "results": res, "load": load,
                                  "secs": time.monotonic() - t0, "failures": failures})
            log("rep %d %-28s %s (load %.1f -> %.1f)%s" % (
                rep, spec, " ".join("%s=%.3g" % (k2, v[0]) for k2, v in res.items()),
                load[0], load[1], "".join("; FAILED " + f for f in failures)))
            with open(os.path.join(out, "results.json"), "w") as f:
                json.dump({"meta": meta, "results": results}, f, indent=1)
    shutil.rmtree(os.path.join(out, "share"), ignore_errors=True)
    text = table(results, contenders)
    with open(os.path.join(out, "table.md"), "w") as f:
        f.write(text)
    sys.stdout.write(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
