#!/bin/bash
# The rootfs suites: a guest booted from the host's own / served read-only by
# hostshared runs the POSIX conformance suite (tests/conformance) and real
# workloads (tests/workloads) against writable shares.
#
#   scripts/rootfs-suite.sh ci      conformance on the default configuration
#                                   (native + hostshared cache=auto, --readonly
#                                   for EROFS) and the workload suite (cache=auto,
#                                   with the crash test): what CI runs
#   scripts/rootfs-suite.sh full    the long matrix: conformance against
#                                   hostshared (auto, never), the reference C
#                                   virtiofsd (auto, none), QEMU 9p, guest tmpfs
#                                   and native, written into CONFORMANCE.md;
#                                   workloads with cache=auto, cache=never and
#                                   on the reference; boot-to-shell time of
#                                   hostshared vs the reference (5 reps)
#
# Environment: HOSTSHARE_BIN (default: built here in build-rootfs),
# HOSTSHARE_ACCEL (auto|tcg|kvm). The last line is "N passed, N failed".
set -uo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
root=$(cd "$here/.." && pwd)
cd "$root"
# shellcheck source=lib/ensure-packages.sh
. "$here/lib/ensure-packages.sh"

mode=${1:-ci}
case "$mode" in ci|full) ;; *) echo "usage: $0 ci|full" >&2; exit 2 ;; esac

ensure_packages qemu-system-x86 qemu-system-common python3 busybox-static cpio gzip \
    linux-image-amd64 kmod gcc libc6-dev git make sqlite3 fio rsync python3-venv python3-pip \
    python3-setuptools tar \
    diffutils || exit 1

if [ -z "${HOSTSHARE_BIN:-}" ]; then
    ensure_packages cmake ninja-build g++ pkg-config libgtest-dev libseccomp-dev \
        libcap-ng-dev || exit 1
    [ -f build-rootfs/build.ninja ] ||
        cmake -S . -B build-rootfs -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null || exit 1
    ninja -C build-rootfs hostshared || exit 1
    export HOSTSHARE_BIN=$root/build-rootfs/hostshared
fi
if [ -z "${HOSTSHARE_ACCEL:-}" ] || [ "$HOSTSHARE_ACCEL" = auto ]; then
    scripts/rootfs-initramfs.sh build/rootfs >/dev/null || exit 1
    line=$(python3 scripts/hsvm.py accel) || exit 1
    echo "rootfs-suite: $line"
    HOSTSHARE_ACCEL=$(echo "$line" | sed -n 's/^accel=\([a-z]*\).*/\1/p')
    export HOSTSHARE_ACCEL
fi

mkdir -p build/rootfs
tp=0 tf=0 status=0
step() {  # step NAME COMMAND...: runs it, adds its "N passed, N failed" line
    local name=$1 start rc last p f
    shift
    echo
    echo "======== $name"
    start=$(date +%s)
    "$@" 2>&1 | tee "build/rootfs/$name.out"
    rc=${PIPESTATUS[0]}
    last=$(grep -E '^[0-9]+ passed, [0-9]+ failed' "build/rootfs/$name.out" | tail -1)
    echo "rootfs-suite: $name: exit $rc, ${last:-no result line}, $(($(date +%s) - start))s"
    p=$(echo "$last" | sed -n 's/^\([0-9]*\) passed.*/\1/p')
    f=$(echo "$last" | sed -n 's/.* \([0-9]*\) failed.*/\1/p')
    tp=$((tp + ${p:-0})); tf=$((tf + ${f:-0}))
    if [ "$rc" -ne 0 ]; then
        status=1
        [ "${f:-0}" -gt 0 ] || tf=$((tf + 1))
    fi
}

if [ "$mode" = ci ]; then
    step conformance python3 tests/conformance/run.py --targets native,hostshared
    step workloads python3 tests/workloads/run.py --cache auto --ci
else
    step conformance-matrix python3 tests/conformance/run.py --targets all --update-doc
    step workloads-auto python3 tests/workloads/run.py --cache auto
    step workloads-never python3 tests/workloads/run.py --cache never --skip-crash
    step workloads-reference python3 tests/workloads/run.py --daemon reference --skip-crash
    step boottime python3 scripts/rootfs_vm.py boottime --reps 5 --out build/rootfs/boottime.txt
fi
echo
echo "rootfs-suite: $mode $([ $status -eq 0 ] && echo OK || echo FAILED)"
echo "$tp passed, $tf failed"
exit $status
