#!/bin/bash
# Hostshare benchmarks: regenerates every table of BENCHMARKS.md.
#
#   scripts/bench.sh
#
# 1. builds hostshared and hostshare-bench (RelWithDebInfo: -O2) in build-bench/;
# 2. hostshare-bench against hostshared, the reference C virtiofsd
#    (/usr/lib/qemu/virtiofsd) and natively, on a tmpfs share, depth 16,
#    in ROUNDS rounds whose order rotates (the report takes medians);
# 3. memory (idle RSS, bytes per cached inode) and system calls per request
#    (strace -c) of both daemons;
# 4. the guest benchmarks (scripts/bench-vm.py: hostshared / reference / 9p
#    in a TCG guest, REPS alternating repetitions);
# 5. scripts/bench-report.py rewrites the generated sections of BENCHMARKS.md.
#
# Environment: HOSTSHARE_BENCH_ROUNDS (default 3), HOSTSHARE_BENCH_SECONDS
# (measured seconds per workload, default 3), HOSTSHARE_BENCH_VM=0 skips
# step 4 (the previous guest results are kept), HOSTSHARE_BENCH_MICRO=0 skips
# the hostshare-bench rounds of step 2 (their previous results are kept),
# HOSTSHARE_BENCH_VM_REPS
# (default 5), HOSTSHARE_BENCH_VM_CONTENDERS (default: hostshared and the
# reference with and without a pool of 2 threads, and 9p), HOSTSHARE_BENCH_QUICK=1 (tiny sizes and durations: checks
# that everything runs; does not touch BENCHMARKS.md).
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
root=$(cd "$here/.." && pwd)
cd "$root"
. "$here/lib/ensure-packages.sh"
ensure_packages cmake ninja-build g++ pkg-config libseccomp-dev libcap-ng-dev liburing-dev \
    python3 strace fio bc qemu-system-x86 busybox-static cpio

quick=${HOSTSHARE_BENCH_QUICK:-0}
rounds=${HOSTSHARE_BENCH_ROUNDS:-3}
secs=${HOSTSHARE_BENCH_SECONDS:-3}
vm=${HOSTSHARE_BENCH_VM:-1}
micro=${HOSTSHARE_BENCH_MICRO:-1}
vm_reps=${HOSTSHARE_BENCH_VM_REPS:-5}
vm_contenders=${HOSTSHARE_BENCH_VM_CONTENDERS:-hostshared,hostshared:--thread-pool-size=2,reference,reference:--thread-pool-size=2,9p}
build=$root/build-bench
out=$build/results
share=/dev/shm/hostshare-bench
common=(--dir "$share" --depth 16 --duration "$secs" --warmup 0.5)
mem_inodes=15000
if [ "$quick" = 1 ]; then
    rounds=1
    common=(--dir "$share" --depth 16 --smoke)
    mem_inodes=1000
    vm_reps=1
    out=$build/results-quick
fi

echo "== build (RelWithDebInfo: -O2, with symbols for profiles) in $build"
cmake -S . -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DHOSTSHARE_TESTS=OFF >/dev/null
ninja -C "$build" hostshared hostshare-bench
# The same daemon linked statically (-DHOSTSHARE_STATIC=ON), for the memory table.
cmake -S . -B "$build-static" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DHOSTSHARE_TESTS=OFF \
    -DHOSTSHARE_STATIC=ON >/dev/null
ninja -C "$build-static" hostshared
bench=$build/tools/bench/hostshare-bench
hs=$build/hostshared
ref=/usr/lib/qemu/virtiofsd
if [ "$micro" = 1 ]; then
    rm -rf "$out"
else  # keep the previous hostshare-bench rounds, redo the rest
    find "$out" -maxdepth 1 -type f ! -name 'micro-*' -delete 2>/dev/null || true
fi
mkdir -p "$out" "$share"
uname -a >"$out/machine.txt"
lscpu >>"$out/machine.txt"
free -m >>"$out/machine.txt"
"$ref" --version >"$out/reference-version.txt" 2>&1 || true

hs_cmd() { echo "$hs --socket-path={socket} --shared-dir={dir} --cache=auto $*"; }
ref_cmd() {
    echo "env MALLOC_ARENA_MAX=1 $ref --socket-path={socket} -o source={dir} -o cache=auto $*"
}

# One configuration: label, then hostshare-bench arguments.
run() {
    local label=$1 json=$2
    shift 2
    echo "-- $label (load $(cut -d' ' -f1 /proc/loadavg))"
    "$bench" "${common[@]}" --label "$label" --json "$json" "$@"
}

configs=(
    "native|--native --queues 1,2"
    "native-uring|--native --queues 1 --io-engine uring --workloads read4k,read1m,write4k,write1m"
    "native-uring-async|--native --queues 1 --io-engine uring-async --workloads read4k,read1m,write4k,write1m"
    "hostshared|--queues 1,2,4 --spawn"
    "hostshared-tp2|--queues 1 --spawn"
    "hostshared-tp4|--queues 1 --spawn"
    "hostshared-nopoll|--queues 1 --spawn"
    "hostshared-poll200|--queues 1 --spawn"
    "reference|--queues 1 --spawn"
    "reference-tp2|--queues 1 --spawn"
    "reference-tp4|--queues 1 --spawn"
)
spawn_cmd() {
    case "$1" in
    hostshared) hs_cmd ;;
    hostshared-tp2) hs_cmd --thread-pool-size=2 ;;
    hostshared-tp4) hs_cmd --thread-pool-size=4 ;;
    hostshared-nopoll) hs_cmd --poll-max-us=0 ;;
    hostshared-poll200) hs_cmd --poll-max-us=200 ;;
    reference) ref_cmd ;;
    reference-tp2) ref_cmd --thread-pool-size=2 ;;
    reference-tp4) ref_cmd --thread-pool-size=4 ;;
    esac
}

echo "== hostshare-bench: $rounds round(s), ${#configs[@]} configurations"
[ "$micro" = 1 ] || rounds=0
for ((r = 0; r < rounds; r++)); do
    for ((i = 0; i < ${#configs[@]}; i++)); do
        c=${configs[$(((i + r * 3) % ${#configs[@]}))]}
        label=${c%%|*}
        read -r -a args <<<"${c#*|}"
        if [ "${args[-1]}" = --spawn ]; then
            args+=("$(spawn_cmd "$label")")
        fi
        run "$label" "$out/micro-$label-r$r.json" "${args[@]}"
    done
done

echo "== memory: idle RSS and bytes per cached inode ($mem_inodes lookups)"
run hostshared "$out/memory-hostshared.json" --workloads getattr --memory "$mem_inodes" \
    --spawn "$(hs_cmd)"
run hostshared-static "$out/memory-hostshared-static.json" --workloads getattr \
    --memory "$mem_inodes" --spawn "$(hs=$build-static/hostshared hs_cmd)"
run reference "$out/memory-reference.json" --workloads getattr --memory "$mem_inodes" \
    --spawn "$(ref_cmd)"

echo "== system calls per request (strace -f -c)"
for d in hostshared reference; do
    for w in getattr lookup lookup-miss read4k readdirplus; do
        if [ $d = hostshared ]; then cmd=$(hs_cmd --sandbox=none --seccomp=none); else cmd=$(ref_cmd); fi
        "$bench" --dir "$share" --depth 16 --duration 1 --warmup 0.2 --workloads "$w" \
            --label "$d" --json "$out/strace-$d-$w.json" \
            --spawn "strace -f -c -o $out/strace-$d-$w.txt $cmd" >/dev/null
    done
done

if [ "$vm" = 1 ]; then
    echo "== guest benchmarks (TCG; $vm_reps repetitions)"
    vm_args=(--reps "$vm_reps" --out "$build/vm" --contenders "$vm_contenders")
    [ "$quick" = 1 ] && vm_args+=(--quick --out "$build/vm-quick")
    HOSTSHARE_BIN=$hs python3 "$here/bench-vm.py" "${vm_args[@]}"
fi

echo "== report"
if [ "$quick" = 1 ]; then
    python3 "$here/bench-report.py" --results "$out" --vm "$build/vm-quick" --print
else
    python3 "$here/bench-report.py" --results "$out" --vm "$build/vm" --update BENCHMARKS.md
fi
