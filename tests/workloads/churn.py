#!/usr/bin/python3
"""churn: concurrent appends and renames on a shared tree, and a checker
that reads the other side's files while they change.

  churn.py write DIR --who host|guest --seconds N
      appends fixed-format records to DIR/<who>-log-<k>.txt (one write() per
      record) and replaces DIR/<who>-snap by writing <who>-snap.tmp and
      renaming it over (each generation is self-checking).
  churn.py check DIR --who host|guest --seconds N --out FILE.json
      reads the files of the writer <who> in a loop and verifies them:
        * every complete line of a log is a valid record, records are
          consecutive from 0, no NUL bytes, only the last line may be partial;
        * every snapshot read is one whole, valid generation.
      Staleness (an older generation, a shorter log) is allowed and counted;
      corruption is an error.  Writes a JSON summary; exit 1 on errors.

Stdlib only: runs on the host and in the rootfs guest (the host's python3).
"""

import argparse
import hashlib
import json
import os
import sys
import time

LOGS = 4


def record(who, seq):
    body = "%s %08d" % (who, seq)
    return "%s %s\n" % (body, hashlib.sha1(body.encode()).hexdigest()[:16])


def snapshot(who, gen):
    payload = hashlib.sha256(("%s-%d" % (who, gen)).encode()).hexdigest() * (50 + gen % 200)
    digest = hashlib.sha256(payload.encode()).hexdigest()
    return ("GEN %s %d %d %s\n%s" % (who, gen, len(payload), digest, payload)).encode()


def stopped(args):
    return args.stop is not None and os.path.exists(args.stop)


def write(args):
    os.makedirs(args.dir, exist_ok=True)
    seq = [0] * LOGS
    fds = [os.open(os.path.join(args.dir, "%s-log-%d.txt" % (args.who, k)),
                   os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644) for k in range(LOGS)]
    gen = 0
    end = time.monotonic() + args.seconds
    i = 0
    while time.monotonic() < end and not stopped(args):
        k = i % LOGS
        os.write(fds[k], record(args.who, seq[k]).encode())
        seq[k] += 1
        if i % 5 == 0:
            tmp = os.path.join(args.dir, "%s-snap.tmp" % args.who)
            with open(tmp, "wb") as f:
                f.write(snapshot(args.who, gen))
            os.rename(tmp, os.path.join(args.dir, "%s-snap" % args.who))
            gen += 1
        i += 1
        time.sleep(args.interval)
    for fd in fds:
        os.close(fd)
    print(json.dumps({"who": args.who, "records": seq, "generations": gen}))
    return 0


def check_log(path, who, errors):
    try:
        with open(path, "rb") as f:
            data = f.read()
    except FileNotFoundError:
        return 0
    if b"\0" in data:
        errors.append("%s: NUL bytes at offset %d (size %d)" % (path, data.index(b"\0"), len(data)))
        return 0
    lines = data.split(b"\n")
    complete, partial = lines[:-1], lines[-1]
    for n, line in enumerate(complete):
        want = record(who, n).encode()[:-1]
        if line != want:
            errors.append("%s: line %d is %r, want %r" % (path, n, line[:80], want))
            return n
    if partial:
        want = record(who, len(complete)).encode()
        if not want.startswith(partial):
            errors.append("%s: partial last line %r is not a prefix of %r" % (path, partial, want))
    return len(complete)


def check_snap(path, who, errors):
    try:
        with open(path, "rb") as f:
            data = f.read()
    except FileNotFoundError:
        return None
    head, _, payload = data.partition(b"\n")
    parts = head.split()
    if len(parts) != 5 or parts[0] != b"GEN" or parts[1] != who.encode():
        errors.append("%s: bad header %r (size %d)" % (path, head[:80], len(data)))
        return None
    gen = int(parts[2])
    if data != snapshot(who, gen):
        errors.append("%s: generation %d corrupted (size %d, want %d)"
                      % (path, gen, len(data), len(snapshot(who, gen))))
        return None
    return gen


def check(args):
    errors = []
    reads = 0
    lines_seen = [0] * LOGS
    gens = []
    backwards = 0
    end = time.monotonic() + args.seconds
    while time.monotonic() < end and len(errors) < 20 and not stopped(args):
        for k in range(LOGS):
            n = check_log(os.path.join(args.dir, "%s-log-%d.txt" % (args.who, k)), args.who, errors)
            lines_seen[k] = max(lines_seen[k], n)
        g = check_snap(os.path.join(args.dir, "%s-snap" % args.who), args.who, errors)
        if g is not None:
            if gens and g < gens[-1]:
                backwards += 1
            gens.append(g)
        reads += 1
        time.sleep(args.interval)
    out = {"checked": args.who, "reads": reads, "max_lines": lines_seen,
           "generations_seen": len(set(gens)), "last_generation": gens[-1] if gens else None,
           "went_back": backwards, "errors": errors}
    text = json.dumps(out)
    if args.out:
        with open(args.out, "w") as f:
            f.write(text)
    print(text)
    return 1 if errors else 0


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("mode", choices=["write", "check"])
    ap.add_argument("dir")
    ap.add_argument("--who", required=True)
    ap.add_argument("--seconds", type=float, default=60)
    ap.add_argument("--interval", type=float, default=0.02)
    ap.add_argument("--out")
    ap.add_argument("--stop", help="also stop as soon as this file exists")
    args = ap.parse_args()
    return write(args) if args.mode == "write" else check(args)


if __name__ == "__main__":
    sys.exit(main())
