#!/usr/bin/python3
"""Runs the posixconf conformance suite natively and in a guest against
virtio-fs / 9p shares, and prints (or writes into CONFORMANCE.md) the table.

  tests/conformance/run.py [--targets LIST] [--update-doc] [--filter GLOB]...

Targets (comma-separated; default "native,hostshared"):
  native            the host's own file system (build/conformance/...), and a
                    read-only bind mount of a fixture for the EROFS tests
  hostshared        hostshared, default cache mode (auto), writable share,
                    plus a --readonly share for the EROFS tests
  hostshared-never  hostshared --cache=never
  reference         /usr/lib/qemu/virtiofsd (cache=auto); it has no read-only
                    option, so no EROFS column
  reference-never   /usr/lib/qemu/virtiofsd cache=none
  9p                QEMU -virtfs local,security_model=passthrough (+ readonly=on)
  guest-tmpfs       tmpfs inside the guest: the guest kernel's own behaviour
  all               every target above

Every guest target runs in one guest booted from the host's / (read-only,
served by hostshared, scripts/rootfs_vm.py); each share is its own device.
The last line is "N passed, N failed" over the default-configuration targets
(native and hostshared): a test failing there fails the run, except the known
differences listed in KNOWN (explained in CONFORMANCE.md), which count as
expected failures on the virtio-fs targets.  Results of the other targets are
reported, not judged.

Environment: HOSTSHARE_ACCEL, HOSTSHARE_BIN (see scripts/hsvm.py).
"""

import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(HERE)), "scripts"))
import hsvm  # noqa: E402
import rootfs_vm  # noqa: E402

ROOT = hsvm.ROOT
OUT = os.path.join(ROOT, "build", "conformance")
BIN = os.path.join(OUT, "posixconf")
DOC = os.path.join(ROOT, "CONFORMANCE.md")
ALL = ["native", "hostshared", "hostshared-never", "reference", "reference-never", "9p",
       "guest-tmpfs"]
JUDGED = ["native", "hostshared"]
# target -> (share kind, cache, has a read-only variant)
GUEST_TARGETS = {
    "hostshared": ("hostshared", "auto", True),
    "hostshared-never": ("hostshared", "never", False),
    "reference": ("reference", "auto", False),
    "reference-never": ("reference", "never", False),
    "9p": ("9p", None, True),
}


# Known differences of the virtio-fs targets from native, explained in
# CONFORMANCE.md. A listed test failing there is reported as "xfail" and does
# not fail the run; any other failure of a judged target does.
KNOWN = {
    "erofs_attrs": "access(W_OK) on a --readonly share mounted rw: the guest kernel answers "
                   "from the mode bits (FUSE default_permissions, no ACCESS request); "
                   "inherent to FUSE (mount -o ro in the guest gives EROFS)",
}


def build():
    os.makedirs(OUT, exist_ok=True)
    srcs = sorted(os.path.join(HERE, f) for f in os.listdir(HERE) if f.endswith(".c"))
    deps = srcs + [os.path.join(HERE, "conf.h")]
    if os.path.exists(BIN) and all(os.path.getmtime(BIN) >= os.path.getmtime(d) for d in deps):
        return
    subprocess.run(["gcc", "-D_GNU_SOURCE", "-O2", "-g", "-Wall", "-Wextra", "-Werror",
                    "-o", BIN + ".tmp"] + srcs, check=True)
    os.replace(BIN + ".tmp", BIN)


def parse(text):
    """posixconf output -> {test: ("ok"|"FAIL"|"SKIP", detail)}"""
    res = {}
    cur = None
    for line in text.splitlines():
        m = re.match(r"^(ok|FAIL|SKIP) +([^:\s]+)(?::\s*(.*))?$", line)
        if m:
            cur = m.group(2)
            res[cur] = [m.group(1), m.group(3) or ""]
        elif line.startswith("     ") and cur and res[cur][0] == "FAIL":
            res[cur][1] += ("; " if res[cur][1] else "") + line.strip()
    return {k: tuple(v) for k, v in res.items()}


def fresh_dir(path):
    shutil.rmtree(path, ignore_errors=True)
    os.makedirs(path)
    os.chmod(path, 0o755)
    return path


def run_native(rundir, filters):
    base = fresh_dir(os.path.join(rundir, "native"))
    fargs = sum((["-f", f] for f in filters), [])
    rw = subprocess.run([BIN] + fargs + [base], stdout=subprocess.PIPE, text=True, cwd="/")
    out = rw.stdout
    ro = fresh_dir(os.path.join(rundir, "native-ro"))
    mnt = fresh_dir(os.path.join(rundir, "native-ro-mnt"))
    subprocess.run([BIN, "-p", ro], check=True, cwd="/")
    subprocess.run(["mount", "--bind", ro, mnt], check=True)
    try:
        subprocess.run(["mount", "-o", "remount,bind,ro", mnt], check=True)
        out += subprocess.run([BIN, "-r"] + fargs + [mnt], stdout=subprocess.PIPE, text=True,
                              cwd="/").stdout
    finally:
        subprocess.run(["umount", mnt])
    return parse(out), out


def run_guest(targets, rundir, filters, log_level=None):
    """Boots one guest with a share per target; returns {target: (results, raw)}."""
    shares = {}
    for t in targets:
        if t == "guest-tmpfs":
            continue
        kind, cache, has_ro = GUEST_TARGETS[t]
        tag = t.replace("-", "_")
        shares[t] = rootfs_vm.Share(kind, tag, fresh_dir(os.path.join(rundir, tag)),
                                    cache=cache or "auto")
        if has_ro:
            ro_dir = fresh_dir(os.path.join(rundir, tag + "_ro"))
            subprocess.run([BIN, "-p", ro_dir], check=True, cwd="/")
            shares[t + "/ro"] = rootfs_vm.Share(kind, tag + "_ro", ro_dir,
                                                cache=cache or "auto", readonly=True)
    root = rootfs_vm.Share("hostshared", "rootfs", "/", readonly=True)
    wd = os.path.join(rundir, "vm")
    results = {}
    gbin = rootfs_vm.guest_path(BIN)  # BIN as the guest sees it
    fargs = " ".join("-f '%s'" % f for f in filters)
    with rootfs_vm.Session(wd, root, list(shares.values()), mem="1G",
                           log_level=log_level) as s:
        hsvm.log("guest booted from %s in %.1fs (accel %s)"
                 % (root.describe(), s.guest.boot_secs, s.accel))
        for name, share in shares.items():
            s.guest.mount_share(share, "/run/hs/" + share.tag)
            hsvm.log("share %s: %s" % (name, share.describe()))
        for t in targets:
            t0 = time.monotonic()
            if t == "guest-tmpfs":
                cmd = ("mkdir -p /tmp/conf /tmp/ro /run/hs_ro; {b} {f} /tmp/conf; {b} -p /tmp/ro && "
                       "mount --bind /tmp/ro /run/hs_ro && mount -o remount,bind,ro /run/hs_ro && "
                       "{b} -r {f} /run/hs_ro").format(b=gbin, f=fargs)
            else:
                cmd = "%s %s /run/hs/%s" % (gbin, fargs, shares[t].tag)
                if t + "/ro" in shares:
                    cmd += "; %s -r %s /run/hs/%s" % (gbin, fargs, shares[t + "/ro"].tag)
            try:
                res = s.guest.run(cmd, timeout=1500)
                out = res.out
            except hsvm.CommandTimeout as e:
                out = "FAIL (timeout)\n     %s\n" % str(e).splitlines()[0]
                out += s.guest.diagnose()
            results[t] = (parse(out), out)
            hsvm.log("%s: %s in %.0fs" % (t, summary(results[t][0]), time.monotonic() - t0))
            if not s.guest.alive():
                break
        for name, share in shares.items():
            if share.daemon is not None and not share.daemon.alive():
                hsvm.log("daemon of %s died: %s" % (name, share.daemon.log_tail(20)))
    return results


def summary(res):
    n = {"ok": 0, "FAIL": 0, "SKIP": 0}
    for st, _ in res.values():
        n[st] += 1
    return "%d ok, %d FAIL, %d SKIP" % (n["ok"], n["FAIL"], n["SKIP"])


def family(test):
    return re.split(r"[._]", test)[0]


def table(results, targets):
    names = sorted({n for r in results.values() for n in r[0]})
    lines = []
    # summary per family
    fams = []
    for n in names:
        if family(n) not in fams:
            fams.append(family(n))
    lines.append("| family | tests | " + " | ".join(targets) + " |")
    lines.append("|---|---|" + "---|" * len(targets))
    total = {t: [0, 0] for t in targets}
    for f in fams:
        fn = [n for n in names if family(n) == f]
        cells = []
        for t in targets:
            r = results.get(t, ({}, ""))[0]
            ok = sum(1 for n in fn if r.get(n, ("-",))[0] == "ok")
            ran = sum(1 for n in fn if r.get(n, ("-",))[0] in ("ok", "FAIL"))
            total[t][0] += ok
            total[t][1] += ran
            cells.append("%d/%d" % (ok, ran) if ran else "-")
        lines.append("| %s | %d | %s |" % (f, len(fn), " | ".join(cells)))
    lines.append("| **all** | %d | %s |" % (len(names), " | ".join(
        "**%d/%d**" % tuple(total[t]) for t in targets)))
    # every test that is not ok somewhere
    diff = [n for n in names if any(results.get(t, ({}, ""))[0].get(n, ("ok",))[0] != "ok"
                                    for t in targets)]
    if diff:
        lines.append("")
        lines.append("Tests that do not pass everywhere (ok / FAIL / SKIP / - = not run):")
        lines.append("")
        lines.append("| test | " + " | ".join(targets) + " |")
        lines.append("|---|" + "---|" * len(targets))
        for n in diff:
            cells = [results.get(t, ({}, ""))[0].get(n, ("-", ""))[0] for t in targets]
            lines.append("| %s | %s |" % (n, " | ".join(cells)))
        lines.append("")
        lines.append("Failure details:")
        lines.append("")
        for n in diff:
            for t in targets:
                st, detail = results.get(t, ({}, ""))[0].get(n, ("-", ""))
                if st in ("FAIL", "SKIP"):
                    lines.append("- `%s` on %s: %s" % (n, t, detail.replace("|", "\\|")[:600]))
    return "\n".join(lines) + "\n"


def update_doc(text, meta):
    begin, end = "<!-- conformance-table:begin -->", "<!-- conformance-table:end -->"
    with open(DOC) as f:
        doc = f.read()
    if begin not in doc or end not in doc:
        raise SystemExit("%s has no %s ... %s markers" % (DOC, begin, end))
    new = doc[:doc.index(begin) + len(begin)] + "\n" + meta + "\n\n" + text + doc[doc.index(end):]
    with open(DOC, "w") as f:
        f.write(new)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--targets", default="native,hostshared")
    ap.add_argument("--filter", action="append", default=[])
    ap.add_argument("--update-doc", action="store_true", help="write the table into CONFORMANCE.md")
    ap.add_argument("--log-level", help="daemon log level (e.g. debug)")
    args = ap.parse_args()
    targets = ALL if args.targets == "all" else args.targets.split(",")
    for t in targets:
        if t not in ALL:
            ap.error("unknown target %s" % t)
    build()
    t0 = time.monotonic()
    rundir = fresh_dir(os.path.join(OUT, "runs", time.strftime("%Y%m%d-%H%M%S")))
    results = {}
    if "native" in targets:
        results["native"] = run_native(rundir, args.filter)
        hsvm.log("native: %s" % summary(results["native"][0]))
    guest = [t for t in targets if t != "native"]
    if guest:
        try:
            results.update(run_guest(guest, rundir, args.filter, args.log_level))
        except hsvm.VMError as e:
            print("conformance: guest run failed: %s" % e, flush=True)
            for t in guest:
                results.setdefault(t, ({"(guest)": ("FAIL", str(e).splitlines()[0])}, str(e)))
    with open(os.path.join(rundir, "results.json"), "w") as f:
        json.dump({t: r[0] for t, r in results.items()}, f, indent=1)
    for t, (_, raw) in results.items():
        with open(os.path.join(rundir, "%s.out" % t), "w") as f:
            f.write(raw)
    text = table(results, targets)
    print(text)
    secs = time.monotonic() - t0
    if args.update_doc:
        meta = ("Generated by `tests/conformance/run.py --targets %s --update-doc` on %s "
                "(guest kernel %s, accel %s, %.0f s)." % (
                    args.targets, time.strftime("%Y-%m-%d"), rootfs_vm.build_images()[2],
                    os.environ.get("HOSTSHARE_ACCEL", "auto"), secs))
        update_doc(text, meta)
    passed = failed = 0
    expected = set(results["native"][0]) if "native" in results else set()
    for t in targets:
        if t not in JUDGED:
            continue
        # A judged target must run every test the native run ran: a guest
        # that could not run the suite (or ran part of it) is a failure.
        missing = expected - set(results.get(t, ({}, ""))[0])
        if missing:
            failed += len(missing)
            print("conformance: FAIL %s: %d tests did not run (%s...)"
                  % (t, len(missing), ", ".join(sorted(missing)[:5])))
        if t not in results:
            continue
        for name, (st, detail) in sorted(results[t][0].items()):
            if st == "ok":
                passed += 1
                if name in KNOWN and t != "native":
                    print("conformance: xpass %s on %s (listed as a known difference)" % (name, t))
            elif st == "FAIL" and name in KNOWN and t != "native":
                passed += 1
                print("conformance: xfail %s on %s: %s" % (name, t, KNOWN[name]))
            elif st == "FAIL":
                failed += 1
                print("conformance: FAIL %s on %s: %s" % (name, t, detail[:300]))
    print("conformance: results in %s (%.0f s)" % (rundir, secs))
    print("%d passed, %d failed" % (passed, failed))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
