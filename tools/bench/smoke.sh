#!/bin/bash
# CI smoke test of the benchmark tools (ctest bench_smoke): each runs and
# prints; no speed is asserted.
#
#   smoke.sh HOSTSHARE_BENCH HOSTSHARED
#
# hostshare-bench natively, against hostshared and (when installed) against
# the reference virtiofsd, with tiny sizes; the guest helper fsbench run
# natively; bench-report.py over the results.
set -euo pipefail
bench=$1
hostshared=$2
src=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
tmp=$(mktemp -d /tmp/hostshare-bench-smoke.XXXXXX)
trap 'rm -rf "$tmp"' EXIT
share=$tmp/share
mkdir -p "$share" "$tmp/results"

"$bench" --dir "$share" --smoke --native --label native --json "$tmp/results/micro-native-r0.json"
"$bench" --dir "$share" --smoke --memory 200 --label hostshared \
    --json "$tmp/results/micro-hostshared-r0.json" \
    --spawn "$hostshared --socket-path={socket} --shared-dir={dir} --sandbox=none --seccomp=none --thread-pool-size=2"
if [ -x /usr/lib/qemu/virtiofsd ]; then
    "$bench" --dir "$share" --smoke --workloads getattr,lookup,read4k,write1m --label reference \
        --json "$tmp/results/micro-reference-r0.json" \
        --spawn "env MALLOC_ARENA_MAX=1 /usr/lib/qemu/virtiofsd --socket-path={socket} -o source={dir} -o cache=auto"
fi
if command -v gcc >/dev/null; then
    gcc -O2 -Wall -Wextra -Werror -o "$tmp/fsbench" "$src/tools/bench/guest/fsbench.c"
    mkdir "$tmp/meta"
    for op in create stat readdir unlink; do
        if [ $op = readdir ]; then "$tmp/fsbench" $op "$tmp/meta"; else "$tmp/fsbench" $op "$tmp/meta" 100; fi
    done
fi
python3 "$src/scripts/bench-report.py" --results "$tmp/results" --vm "$tmp/none" --print >/dev/null
echo "bench smoke: ok"
