#!/usr/bin/python3
"""bench-report: turns the results of scripts/bench.sh into the tables of
BENCHMARKS.md.

  bench-report.py --results DIR --vm DIR (--update BENCHMARKS.md | --print)

--update rewrites, in place, every block of BENCHMARKS.md between
"<!-- generated:NAME -->" and "<!-- /generated:NAME -->"; the text around
them is left alone. Numbers are medians over the rounds.
"""

import argparse
import glob
import json
import os
import re
import statistics
import sys

WORKLOADS = ["getattr", "lookup", "lookup-miss", "read4k", "read1m", "write4k", "write1m",
             "create", "readdirplus", "readdirplus-warm", "mixed"]
HS = ["hostshared", "hostshared-tp2", "hostshared-tp4", "hostshared-nopoll",
      "hostshared-poll200"]
REF = ["reference", "reference-tp2", "reference-tp4"]


def load_micro(results):
    """{(label, queues, workload): [result dicts over rounds]}"""
    out = {}
    for path in sorted(glob.glob(os.path.join(results, "micro-*.json"))):
        with open(path) as f:
            j = json.load(f)
        for run in j["runs"]:
            for r in run["results"]:
                if r.get("failure"):
                    continue
                out.setdefault((run["target"], run["queues"], r["workload"]), []).append(r)
    return out


def med(rs, key):
    vals = [r[key] for r in rs]
    return statistics.median(vals) if vals else None


def fmt_ops(v):
    if v is None:
        return "n/a"
    if v >= 100:
        return "{:,.0f}".format(v)
    return "%.1f" % v


def fmt(v, digits=1):
    return "n/a" if v is None else ("%.*f" % (digits, v))


def ratio(a, b):
    if a is None or b is None or b == 0:
        return None
    return a / b


def fmt_ratio(x):
    return "n/a" if x is None else "%.2fx" % x


def metric(workload):
    """(key, unit) the workload is judged by."""
    if workload in ("read1m", "write1m"):
        return "mib_per_s", "MiB/s"
    if workload.startswith("readdirplus"):
        return "ops_per_s", "entries/s"
    return "ops_per_s", "ops/s"


def get(micro, label, q, w, key):
    rs = micro.get((label, q, w))
    return med(rs, key) if rs else None


def table_micro(micro):
    labels = ["native"] + HS + REF
    lines = ["| workload (q=1, depth 16) | unit | " + " | ".join(labels) + " |",
             "|---|---|" + "---:|" * len(labels)]
    for w in WORKLOADS:
        key, unit = metric(w)
        cells = [fmt_ops(get(micro, l, 1, w, key)) for l in labels]
        lines.append("| %s | %s | %s |" % (w, unit, " | ".join(cells)))
    return "\n".join(lines)


def best(micro, labels, q, w, key):
    vals = [(get(micro, l, q, w, key), l) for l in labels]
    vals = [v for v in vals if v[0] is not None]
    return max(vals) if vals else (None, None)


def table_targets(micro):
    rows = [
        ("GETATTR ops/s", "getattr", "ref", 2.0),
        ("LOOKUP ops/s (hit)", "lookup", "ref", 2.0),
        ("LOOKUP ops/s (miss)", "lookup-miss", "ref", 2.0),
        ("4 KiB READ ops/s", "read4k", "ref", 1.5),
        ("4 KiB WRITE ops/s", "write4k", "ref", 1.5),
        ("1 MiB READ MiB/s", "read1m", "native", 0.9),
    ]
    lines = ["| target | hostshared (best option) | against (best option) | ratio | "
             "same settings: tp0 / tp2 / tp4 | goal | met |",
             "|---|---:|---:|---:|---|---:|---|"]
    for name, w, against, goal in rows:
        key, _ = metric(w)
        hv, hl = best(micro, HS, 1, w, key)
        if against == "ref":
            ov, ol = best(micro, REF, 1, w, key)
            same = [ratio(get(micro, h, 1, w, key), get(micro, r, 1, w, key))
                    for h, r in zip(HS, REF)]
            same_s = " / ".join(fmt_ratio(x) for x in same)
        else:
            ov, ol = get(micro, "native", 1, w, key), "native pread, 1 thread"
            same_s = "-"
        r = ratio(hv, ov)
        lines.append("| %s | %s (%s) | %s (%s) | %s | %s | %.1fx | %s |" % (
            name, fmt_ops(hv), hl or "-", fmt_ops(ov), ol or "-", fmt_ratio(r), same_s, goal,
            "n/a" if r is None else ("**yes**" if r >= goal else "**no**")))
    return "\n".join(lines)


def table_latency(micro, labels):
    head = "| workload | " + " | ".join(
        "%s p50 / p99 / p99.9 us | %s CPU us/op" % (l, l) for l in labels) + " |"
    lines = [head, "|---|" + "---:|---:|" * len(labels)]
    for w in WORKLOADS:
        cells = []
        for l in labels:
            rs = micro.get((l, 1, w))
            if not rs:
                cells += ["n/a", "n/a"]
                continue
            cells.append("%s / %s / %s" % (fmt(med(rs, "p50_us")), fmt(med(rs, "p99_us"), 0),
                                           fmt(med(rs, "p999_us"), 0)))
            cells.append(fmt(med(rs, "daemon_cpu_us_per_op" if l != "native"
                                 else "bench_cpu_us_per_op"), 2))
        lines.append("| %s | %s |" % (w, " | ".join(cells)))
    return "\n".join(lines)


def table_scaling(micro):
    cols = [("hostshared", 1, "1 queue"), ("hostshared", 2, "2 queues"),
            ("hostshared", 4, "4 queues"),
            ("hostshared-tp2", 1, "1 queue + pool 2"), ("hostshared-tp4", 1, "1 queue + pool 4"),
            ("reference", 1, "ref, pool 0"), ("reference-tp2", 1, "ref, pool 2"),
            ("reference-tp4", 1, "ref, pool 4"),
            ("native", 1, "native 1 thread"), ("native", 2, "native 2 threads")]
    lines = ["| workload | unit | " + " | ".join(c[2] for c in cols) + " |",
             "|---|---|" + "---:|" * len(cols)]
    for w in WORKLOADS:
        key, unit = metric(w)
        cells = [fmt_ops(get(micro, l, q, w, key)) for l, q, _ in cols]
        lines.append("| %s | %s | %s |" % (w, unit, " | ".join(cells)))
    return "\n".join(lines)


def table_uring(micro):
    engines = [("native", "preadv/pwritev, 1 at a time"),
               ("native-uring", "io_uring, 16 in flight"),
               ("native-uring-async", "io_uring + IOSQE_ASYNC, 16 in flight")]
    lines = ["| workload | " + " | ".join("%s: MiB/s, CPU us/op" % e[1] for e in engines) + " |",
             "|---|" + "---:|" * len(engines)]
    for w in ["read4k", "read1m", "write4k", "write1m"]:
        cells = []
        for l, _ in engines:
            rs = micro.get((l, 1, w))
            cells.append("n/a" if not rs else "%s, %s" % (
                fmt_ops(med(rs, "mib_per_s")), fmt(med(rs, "bench_cpu_us_per_op"), 2)))
        lines.append("| %s | %s |" % (w, " | ".join(cells)))
    return "\n".join(lines)


def table_memory(results):
    lines = ["| daemon | RSS idle, serving process | RSS idle, all processes | "
             "RSS connected, all processes (guest memory excluded) | PSS idle / connected, "
             "all processes | bytes per cached inode |",
             "|---|---:|---:|---:|---:|---:|"]
    for d in ["hostshared", "hostshared-static", "reference"]:
        p = os.path.join(results, "memory-%s.json" % d)
        if not os.path.exists(p):
            continue
        with open(p) as f:
            run = json.load(f)["runs"][0]
        pss = "-"
        if "pss_listen_kib" in run:
            pss = "%.2f / %.2f MiB" % (run["pss_listen_kib"] / 1024.0,
                                       run["pss_connected_kib"] / 1024.0)
        lines.append("| %s | %.2f MiB | %.2f MiB (%d processes once connected) | %.2f MiB | "
                     "%s | %.0f B (%d inodes) |" % (
                         d, run["rss_listen_max_kib"] / 1024.0, run["rss_listen_kib"] / 1024.0,
                         run["processes"], run["rss_connected_kib"] / 1024.0, pss,
                         run["inode_bytes"], run["inode_probe"]))
    return "\n".join(lines)


def parse_strace(path):
    counts = {}
    with open(path) as f:
        for line in f:
            m = re.match(r"\s*[\d.]+\s+[\d.]+\s+\d+\s+(\d+)\s+(?:\d+\s+)?(\w+)\s*$", line)
            if m and m.group(2) != "total":
                counts[m.group(2)] = int(m.group(1))
    return counts


def table_syscalls(results):
    """System calls per request over the whole run (set-up adds ~100 calls
    to runs of tens of thousands of requests; calls below 0.03 per request
    are left out). READDIRPLUS: per directory entry."""
    session = {"recvmsg", "sendmsg", "recvfrom", "sendto"}  # vhost-user messages
    lines = ["| workload | daemon | requests | system calls |",
             "|---|---|---:|---|"]
    for w in ["getattr", "lookup", "lookup-miss", "read4k", "readdirplus"]:
        for d in ["hostshared", "reference"]:
            tp = os.path.join(results, "strace-%s-%s.txt" % (d, w))
            jp = os.path.join(results, "strace-%s-%s.json" % (d, w))
            if not (os.path.exists(tp) and os.path.exists(jp)):
                continue
            with open(jp) as f:
                res = json.load(f)["runs"][0]["results"]
            if not res:
                continue
            r = res[0]
            reqs = r.get("all_requests") or r["requests"]
            denom, what = reqs, "request"
            if w == "readdirplus":  # per entry: entries served, warm-up included
                denom = r["ops"] * reqs / max(1, r["requests"])
                what = "entry"
            counts = parse_strace(tp)
            per = sorted(((c / denom, n) for n, c in counts.items() if n not in session),
                         reverse=True)
            text = ", ".join("%s %.2f" % (n, v) for v, n in per if v >= 0.03)
            lines.append("| %s | %s | %d | per %s: %s |" % (w, d, reqs, what, text))
    return "\n".join(lines)


def table_machine(results):
    info = {}
    p = os.path.join(results, "machine.txt")
    if os.path.exists(p):
        with open(p) as f:
            text = f.read()
        info["uname"] = text.splitlines()[0]
        for key in ("Model name", "CPU(s)", "Hypervisor vendor"):
            m = re.search(r"^%s:\s*(.*)$" % re.escape(key), text, re.M)
            if m:
                info[key] = m.group(1).strip()
        m = re.search(r"^Mem:\s+(\d+)", text, re.M)
        if m:
            info["memory"] = "%s MiB" % m.group(1)
    ref = ""
    p = os.path.join(results, "reference-version.txt")
    if os.path.exists(p):
        with open(p) as f:
            ref = f.read().strip().splitlines()[0] if f else ""
    loads = []
    for path in glob.glob(os.path.join(results, "micro-*.json")):
        pass
    lines = ["| | |", "|---|---|",
             "| CPU | %s, %s CPUs (%s hypervisor) |" % (info.get("Model name", "?"),
                                                      info.get("CPU(s)", "?"),
                                                      info.get("Hypervisor vendor", "no")),
             "| memory | %s |" % info.get("memory", "?"),
             "| host kernel | %s |" % info.get("uname", "?"),
             "| reference | `/usr/lib/qemu/virtiofsd` (%s), `MALLOC_ARENA_MAX=1` |" % ref,
             "| share | tmpfs (`/dev/shm/hostshare-bench`); both daemons `--cache auto`, "
             "default sandbox and seccomp |"]
    return "\n".join(lines)


def table_vm(vmdir):
    p = os.path.join(vmdir, "results.json")
    if not os.path.exists(p):
        return "(no guest results yet: run scripts/bench.sh with HOSTSHARE_BENCH_VM=1)"
    with open(p) as f:
        j = json.load(f)
    res, meta = j["results"], j["meta"]
    cont = [c for c in res if res[c]]
    hss = [c for c in cont if c.startswith("hostshared")]
    refs = [c for c in cont if c.startswith("reference")]
    p9 = next((c for c in cont if c.startswith("9p")), None)
    names = []
    for c in cont:
        for run in res[c]:
            for k in run["results"]:
                if k not in names and k != "fio-randread-4k-mibs" and \
                        not (k.endswith("-iops") and k != "fio-randread-4k-iops"):
                    names.append(k)
    goals = {"create": 1.3, "stat": 1.3, "unlink": 1.3, "readdir-cold": 1.3, "readdir-warm": 1.3,
             "tar-x": 1.3}
    lines = ["| workload | " + " | ".join(cont) +
             " | best hostshared / best reference (goal) | best hostshared / 9p (goal 2x) |",
             "|---|" + "---:|" * (len(cont) + 2)]
    for n in names:
        vals, unit = {}, ""
        for c in cont:
            xs = [r["results"][n][0] for r in res[c] if n in r["results"]]
            unit = next((r["results"][n][1] for r in res[c] if n in r["results"]), unit)
            vals[c] = statistics.median(xs) if xs else None
        lower_better = unit == "s"

        def better(cs):
            vs = [vals[c] for c in cs if vals.get(c)]
            if not vs:
                return None
            return min(vs) if lower_better else max(vs)

        def cell(c):
            v = vals.get(c)
            if v is None:
                return "n/a"
            return ("%.2f s" % v) if lower_better else ("%.0f %s" % (v, unit))

        def speedup(a, b):
            if not a or not b:
                return None
            return b / a if lower_better else a / b

        def mark(r, goal):
            if r is None:
                return "n/a"
            return "%.2fx%s" % (r, "" if r >= goal else " (**missed**)")
        g = goals.get(n, 1.0)
        hb = better(hss)
        r1 = speedup(hb, better(refs))
        r2 = speedup(hb, vals.get(p9)) if p9 else None
        lines.append("| %s | %s | %s (%.1fx) | %s |" % (
            n, " | ".join(cell(c) for c in cont), mark(r1, g), g, mark(r2, 2.0)))
    reps = min(len(res[c]) for c in cont) if cont else 0
    loads = [x for c in cont for r in res[c] for x in r.get("load", [])]
    note = ("\nMedians of %d alternating repetitions; guest kernel %s, accel %s, 1 vCPU; host "
            "load average during the runs %.1f-%.1f. Times: lower is better; ratios are "
            "speed-ups.\n" % (reps, meta.get("kernel"), meta.get("accel"),
                             min(loads) if loads else 0, max(loads) if loads else 0))
    fails = ["- %s, repetition %d: %s" % (c, r["rep"], f)
             for c in cont for r in res[c] for f in r.get("failures", [])]
    if fails:
        note += "\nFailed measurements (their cells are medians of the others):\n\n" + \
            "\n".join(fails) + "\n"
    return "\n".join(lines) + "\n" + note


def sections(results, vmdir):
    micro = load_micro(results)
    return {
        "machine": table_machine(results),
        "targets": table_targets(micro),
        "micro": table_micro(micro),
        "latency": table_latency(micro, ["hostshared", "reference"]),
        "latency-pool": table_latency(micro, ["hostshared-tp2", "reference-tp2"]),
        "scaling": table_scaling(micro),
        "uring": table_uring(micro),
        "memory": table_memory(results),
        "syscalls": table_syscalls(results),
        "vm": table_vm(vmdir),
    }


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--results", required=True)
    ap.add_argument("--vm", required=True)
    ap.add_argument("--update")
    ap.add_argument("--print", action="store_true")
    args = ap.parse_args(argv)
    secs = sections(args.results, args.vm)
    if args.print or not args.update:
        for name, text in secs.items():
            print("### %s\n\n%s\n" % (name, text))
        return 0
    with open(args.update) as f:
        doc = f.read()
    for name, text in secs.items():
        # The block may be empty (a fresh skeleton) or hold a previous report.
        pat = re.compile(r"(<!-- generated:%s -->\n)(?:.*?\n)?(<!-- /generated:%s -->)"
                         % (re.escape(name), re.escape(name)), re.S)
        if not pat.search(doc):
            print("bench-report: no generated:%s block in %s" % (name, args.update),
                  file=sys.stderr)
            continue
        doc = pat.sub(lambda m: m.group(1) + text.rstrip("\n") + "\n" + m.group(2), doc)
    with open(args.update, "w") as f:
        f.write(doc)
    print("bench-report: updated %s" % args.update)
    return 0


if __name__ == "__main__":
    sys.exit(main())
