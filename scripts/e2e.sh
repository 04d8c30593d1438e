#!/bin/bash
# Build hostshared (if needed) and run the e2e suite against hostshared, then
# against the reference virtiofsd; exit non-zero if either run fails.
#
#   scripts/e2e.sh [run.py options, e.g. --filter xattr]
#
# Environment:
#   HOSTSHARE_E2E_DAEMONS   daemons to run, in order (default "hostshared reference")
#   HOSTSHARE_ACCEL         auto|tcg|kvm (probed once here, then reused by each run)
#   HOSTSHARE_BUILD_DIR     build directory (default build)
# The last line is the total over both runs: "N passed, N failed[, N skipped]".
set -uo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
root=$(cd "$here/.." && pwd)
cd "$root"
# shellcheck source=lib/ensure-packages.sh
. "$here/lib/ensure-packages.sh"

daemons=${HOSTSHARE_E2E_DAEMONS:-hostshared reference}
builddir=${HOSTSHARE_BUILD_DIR:-build}

ensure_packages qemu-system-x86 qemu-system-common python3 busybox-static cpio gzip \
    gcc libc6-dev linux-image-amd64 kmod || exit 1

case " $daemons " in
*" hostshared "*)
    ensure_packages cmake ninja-build g++ pkg-config libgtest-dev libseccomp-dev \
        libcap-ng-dev || exit 1
    if [ ! -f "$builddir/build.ninja" ]; then
        cmake -S . -B "$builddir" -G Ninja -DCMAKE_BUILD_TYPE=Release || exit 1
    fi
    echo "e2e.sh: building hostshared in $builddir"
    ninja -C "$builddir" hostshared || exit 1
    case "$builddir" in /*) bin=$builddir/hostshared ;; *) bin=$root/$builddir/hostshared ;; esac
    export HOSTSHARE_BIN=${HOSTSHARE_BIN:-$bin}
    ;;
esac

# Build the guest images and pick the accelerator once for all runs.
python3 - <<'EOF' || exit 1
import sys
sys.path.insert(0, "scripts")
import hsvm
hsvm.build_guest_images()
EOF
if [ -z "${HOSTSHARE_ACCEL:-}" ] || [ "${HOSTSHARE_ACCEL}" = auto ]; then
    line=$(python3 "$here/hsvm.py" accel) || exit 1
    echo "e2e.sh: $line"
    HOSTSHARE_ACCEL=$(echo "$line" | sed -n 's/^accel=\([a-z]*\).*/\1/p')
    export HOSTSHARE_ACCEL
fi

logdir=$root/build/e2e
mkdir -p "$logdir"
status=0
tp=0 tf=0 ts=0
for d in $daemons; do
    echo
    echo "======== e2e against $d (accel $HOSTSHARE_ACCEL)"
    start=$(date +%s)
    python3 tests/e2e/run.py --daemon "$d" "$@" 2>&1 | tee "$logdir/e2e-$d.out"
    rc=${PIPESTATUS[0]}
    last=$(grep -E '^[0-9]+ passed, [0-9]+ failed' "$logdir/e2e-$d.out" | tail -1)
    echo "e2e.sh: $d: exit $rc, ${last:-no result line}, $(($(date +%s) - start))s"
    p=$(echo "$last" | sed -n 's/^\([0-9]*\) passed.*/\1/p')
    f=$(echo "$last" | sed -n 's/.* \([0-9]*\) failed.*/\1/p')
    s=$(echo "$last" | sed -n 's/.* \([0-9]*\) skipped.*/\1/p')
    tp=$((tp + ${p:-0})); tf=$((tf + ${f:-0})); ts=$((ts + ${s:-0}))
    if [ "$rc" -ne 0 ]; then
        status=1
        [ -n "$last" ] && [ "${f:-0}" -gt 0 ] || tf=$((tf + 1))
    fi
done
echo
line="$tp passed, $tf failed"
[ "$ts" -gt 0 ] && line="$line, $ts skipped"
echo "e2e.sh: $([ $status -eq 0 ] && echo OK || echo FAILED) ($daemons)"
echo "$line"
exit $status
