#!/usr/bin/python3
"""Hostshare end-to-end suite: boots one QEMU guest per configuration against
a virtio-fs daemon and checks file-system behaviour from both sides.

  tests/e2e/run.py --daemon hostshared|reference [--filter PATTERN]...
                   [--config NAME]... [--list] [-v]

PATTERN is an fnmatch glob on "config.test" or "test", or a substring of the
test name (of "config.test" if it contains a dot), e.g. --filter xattr,
--filter 'never.*', --filter 'auto-xattr.big_*', --filter never.statfs.

Environment: HOSTSHARE_ACCEL=auto|tcg|kvm, HOSTSHARE_SMP (vCPUs, default 1),
HOSTSHARE_BIN (hostshared binary, default build/hostshared),
HOSTSHARE_DAEMON_LOG_LEVEL (passed to the daemon), HOSTSHARE_E2E_DIR (where
runs are kept, default build/e2e/runs).

The last line is "N passed, N failed[, N skipped]"; exit status 1 on failure.
"""

import argparse
import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402
import cases  # noqa: E402,F401  (registers the tests)


def main():
    ap = argparse.ArgumentParser(description="Hostshare e2e suite")
    ap.add_argument("--daemon", choices=["hostshared", "reference"], default="hostshared")
    ap.add_argument("--filter", action="append", default=[], help="glob/substring on config.test")
    ap.add_argument("--config", action="append", default=[],
                    choices=[c.name for c in harness.CONFIGS])
    ap.add_argument("--list", action="store_true", help="list the selected tests and exit")
    ap.add_argument("--repeat", type=int, default=1, help="run each selected test N times")
    ap.add_argument("-v", "--verbose", action="store_true", help="print guest command logs")
    args = ap.parse_args()

    base = os.environ.get("HOSTSHARE_E2E_DIR",
                          os.path.join(harness.hsvm.ROOT, "build", "e2e", "runs"))
    rundir = os.path.join(base, "%s-%s" % (args.daemon, time.strftime("%Y%m%d-%H%M%S")))
    runner = harness.Runner(args.daemon, args.filter, rundir, configs=args.config,
                            verbose=args.verbose, repeat=args.repeat)
    if args.list:
        for config in runner.configs:
            for c in harness.CASES:
                if runner.selected(config, c):
                    print("%s.%s  %s" % (config.name, c.name, c.doc))
        return 0
    os.makedirs(rundir, exist_ok=True)
    try:
        ok = runner.run()
    except harness.hsvm.VMError as e:
        print("e2e: setup failed: %s" % e, flush=True)
        print("0 passed, 1 failed")
        return 1
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
