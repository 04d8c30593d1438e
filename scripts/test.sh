#!/bin/bash
# Hostshare: install what is missing, build, and run every test.
#
#   scripts/test.sh
#
# 1. unit + in-process integration + hostile-input tests (GoogleTest via
#    ctest), built with AddressSanitizer + UndefinedBehaviorSanitizer and -Werror;
# 1b. the libFuzzer targets, HOSTSHARE_FUZZ_SECONDS (default 60) per target
#    (scripts/fuzz.sh; a crash fails the run);
# 2. the end-to-end suite: a real Linux guest under QEMU mounts the share with
#    the kernel's virtio-fs driver, against hostshared and then against the
#    reference C virtiofsd (/usr/lib/qemu/virtiofsd);
# 3. the rootfs suites (scripts/rootfs-suite.sh ci): a guest booted from the
#    host's / over hostshared runs the POSIX conformance suite and real
#    workloads (git, make, tar, sqlite, fio, rsync, venv, crash) on a share.
#
# Environment: HOSTSHARE_ACCEL=auto|tcg|kvm (default auto: KVM if a probe
# boot works, else TCG); HOSTSHARE_SKIP_E2E=1 runs only step 1.
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
root=$(cd "$here/.." && pwd)
cd "$root"
. "$here/lib/ensure-packages.sh"

ensure_packages cmake ninja-build g++ pkg-config libgtest-dev libgmock-dev googletest \
    libseccomp-dev libcap-ng-dev python3 attr

echo "== build (ASan + UBSan, -Werror)"
cmake -S . -B build-asan -G Ninja -DCMAKE_BUILD_TYPE=Debug -DHOSTSHARE_SANITIZE=ON >/dev/null
ninja -C build-asan

echo "== build (Release, as scripts/demo.sh builds it)"
cmake -S . -B build-release -G Ninja -DCMAKE_BUILD_TYPE=Release >/dev/null
ninja -C build-release hostshared

echo "== unit and integration tests"
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
ctest --test-dir build-asan --output-on-failure -j2

echo "== fuzzers (${HOSTSHARE_FUZZ_SECONDS:-60} s per target, side by side)"
bash "$here/fuzz.sh" "${HOSTSHARE_FUZZ_SECONDS:-60}"

if [ "${HOSTSHARE_SKIP_E2E:-0}" = 1 ]; then
    echo "== end-to-end suite skipped: HOSTSHARE_SKIP_E2E=1"
    exit 0
fi
echo "== end-to-end suite (real guest, real QEMU)"
e2e_status=0
HOSTSHARE_BUILD_DIR=build-asan bash "$here/e2e.sh" || e2e_status=$?

# A guest booted from the host's / over hostshared: the POSIX conformance
# suite (default configuration) and the real-workload suite; the longer
# matrix is scripts/rootfs-suite.sh full (see CONFORMANCE.md).
echo "== rootfs suites: conformance + workloads (guest root over hostshared)"
HOSTSHARE_BIN=$root/build-asan/hostshared bash "$here/rootfs-suite.sh" ci || exit 1
exit $e2e_status
