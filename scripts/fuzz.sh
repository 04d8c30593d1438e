#!/bin/bash
# Hostshare: build the libFuzzer targets (clang, ASan + UBSan) and fuzz each
# one for a bounded time. Fails if any target finds a crash, a leak, a
# timeout, an allocation over 64 MiB or an RSS over 2 GiB.
#
#   scripts/fuzz.sh [SECONDS]       # seconds per target (default 60); 0 = replay only
#
# The four targets (fuzz/*.cc) run side by side, so the wall time is about
# SECONDS plus the build. Each starts from the committed seeds
# (fuzz/corpus/<target>/) plus what earlier runs found
# (BUILD/fuzz-work/<target>/, kept between runs). SECONDS=0 only replays
# those corpora and any earlier crash artifacts once: a regression check.
#
# A crash leaves its input in BUILD/fuzz-artifacts/<target>/crash-*;
# reproduce with `BUILD/fuzz/<target> FILE` and, once fixed, copy the file
# into fuzz/corpus/<target>/ so that every later run replays it.
#
# Longer runs: `scripts/fuzz.sh 3600`, or one target by hand with more
# workers, e.g.
#   BUILD/fuzz/fuse_passthrough_fuzzer -jobs=8 -workers=2 -max_total_time=86400 \
#       -timeout=10 -malloc_limit_mb=64 BUILD/fuzz-work/fuse_passthrough_fuzzer fuzz/corpus/fuse_passthrough_fuzzer
# and minimise a grown corpus before committing seeds from it:
#   BUILD/fuzz/TARGET -merge=1 NEWDIR BUILD/fuzz-work/TARGET
#
# Environment: HOSTSHARE_FUZZ_BUILD_DIR (default build-fuzz),
# HOSTSHARE_FUZZ_TARGETS (default: all four, space-separated).
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
root=$(cd "$here/.." && pwd)
cd "$root"
. "$here/lib/ensure-packages.sh"

secs=${1:-60}
build=${HOSTSHARE_FUZZ_BUILD_DIR:-build-fuzz}
targets=${HOSTSHARE_FUZZ_TARGETS:-"fuse_null_fuzzer fuse_passthrough_fuzzer chain_fuzzer vhost_user_fuzzer"}

ensure_packages cmake ninja-build pkg-config clang libclang-rt-14-dev libseccomp-dev libcap-ng-dev

echo "== build fuzzers (clang, libFuzzer + ASan + UBSan, -Werror) in $build"
CXX=clang++ cmake -S . -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo \
    -DHOSTSHARE_FUZZ=ON -DHOSTSHARE_TESTS=OFF >/dev/null
# shellcheck disable=SC2086
ninja -C "$build" $targets

export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
flags=(-timeout=10 -rss_limit_mb=2048 -malloc_limit_mb=64 -print_final_stats=1)

pids=()
for t in $targets; do
    work="$build/fuzz-work/$t"
    art="$build/fuzz-artifacts/$t"
    mkdir -p "$work" "$art"
    log="$build/fuzz-$t.log"
    if [ "$secs" -eq 0 ]; then
        # Replay: every corpus input and every earlier artifact, once.
        mapfile -t old < <(find "$art" -type f 2>/dev/null)
        "$build/fuzz/$t" "${flags[@]}" -runs=0 -artifact_prefix="$art/replay-" \
            "$work" "fuzz/corpus/$t" >"$log" 2>&1 &
        if [ ${#old[@]} -gt 0 ]; then
            wait $! || { echo "$t: corpus replay failed"; exit 1; }
            "$build/fuzz/$t" "${flags[@]}" "${old[@]}" >>"$log" 2>&1 &
        fi
    else
        "$build/fuzz/$t" "${flags[@]}" -max_total_time="$secs" -artifact_prefix="$art/" \
            "$work" "fuzz/corpus/$t" >"$log" 2>&1 &
    fi
    pids+=("$!")
done

failed=0
i=0
for t in $targets; do
    rc=0
    wait "${pids[$i]}" || rc=$?
    i=$((i + 1))
    log="$build/fuzz-$t.log"
    execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
    speed=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$log" | tail -1)
    corpus=$(find "$build/fuzz-work/$t" -type f | wc -l)
    printf '%-26s %s  execs %-10s exec/s %-7s corpus %s\n' "$t" \
        "$([ $rc -eq 0 ] && echo ok || echo FAILED)" "${execs:-?}" "${speed:-?}" "$corpus"
    if [ $rc -ne 0 ]; then
        failed=1
        grep -E 'ERROR|SUMMARY|Test unit written|^    #[0-9]+ ' "$log" | head -40 || true
        echo "full log: $log; inputs: $build/fuzz-artifacts/$t/"
    fi
done
if [ $failed -ne 0 ]; then
    echo "fuzz: FAILED"
    exit 1
fi
n=$(echo $targets | wc -w)
echo "fuzz: $n passed, 0 failed"
