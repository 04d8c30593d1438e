#!/bin/bash
# Hostshare demo: share a host directory with a QEMU guest over virtio-fs.
#
#   scripts/demo.sh [SHARED_DIR]
#
# Installs what is missing (apt), builds hostshared, starts it on a demo
# directory, boots a small guest (busybox initramfs, the host's Debian
# kernel) that mounts the share, lists it, writes a file, and powers off;
# then prints what the guest wrote and a summary.
#
# Environment:
#   HOSTSHARE_DAEMON=hostshared|reference   daemon to serve the share
#                    (reference = /usr/lib/qemu/virtiofsd; default hostshared)
#   HOSTSHARE_ACCEL=auto|tcg|kvm            accelerator (default: probe KVM)
#   HOSTSHARE_CACHE=auto|never|always       daemon cache mode (default auto)
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
root=$(cd "$here/.." && pwd)
cd "$root"
# shellcheck source=lib/ensure-packages.sh
. "$here/lib/ensure-packages.sh"

daemon=${HOSTSHARE_DAEMON:-hostshared}
cache=${HOSTSHARE_CACHE:-auto}
tag=hostshare

echo "== Hostshare demo (daemon: $daemon)"
ensure_packages qemu-system-x86 qemu-system-common python3 busybox-static cpio gzip \
    gcc libc6-dev linux-image-amd64 kmod
if [ "$daemon" = hostshared ]; then
    ensure_packages cmake ninja-build g++ pkg-config libgtest-dev libseccomp-dev libcap-ng-dev
    echo "== building the project (Release)"
    cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=Release >/dev/null
    ninja -C build
fi

demo_dir=${1:-$root/build/demo/shared}
mkdir -p "$demo_dir"
demo_dir=$(cd "$demo_dir" && pwd)
echo "Hello from the host ($(hostname), $(date -u '+%Y-%m-%d %H:%M:%S UTC'))" >"$demo_dir/hello-from-host.txt"
rm -f "$demo_dir/hello-from-guest.txt"
echo "== shared directory: $demo_dir"
ls -la "$demo_dir"

workdir=$root/build/demo/run
rm -rf "$workdir"
mkdir -p "$workdir"

echo "== starting $daemon and booting the guest"
set +e
python3 "$here/hsvm.py" session --daemon "$daemon" --shared-dir "$demo_dir" \
    --cache "$cache" --tag "$tag" --workdir "$workdir" \
    --cmd "mount -t virtiofs $tag /mnt && echo 'mounted:' && grep virtiofs /proc/mounts" \
    --cmd "ls -la /mnt && cat /mnt/hello-from-host.txt" \
    --cmd "{ echo \"Hello from the guest\"; echo \"date:   \$(date -u '+%Y-%m-%d %H:%M:%S UTC')\"; echo \"kernel: \$(uname -r)\"; } > /mnt/hello-from-guest.txt && sync && ls -l /mnt/hello-from-guest.txt" \
    --cmd "umount /mnt && echo unmounted" --summary-file "$workdir/summary.txt" >"$workdir/session.out" 2>&1 &
pid=$!
# Show the session as it goes.
tail -n +1 -f "$workdir/session.out" --pid=$pid 2>/dev/null
wait $pid
rc=$?
set -e

echo
if [ -f "$demo_dir/hello-from-guest.txt" ]; then
    echo "== the host reads what the guest wrote ($demo_dir/hello-from-guest.txt):"
    sed 's/^/    /' "$demo_dir/hello-from-guest.txt"
else
    echo "== the guest's file is missing: $demo_dir/hello-from-guest.txt" >&2
    rc=1
fi
if [ -f "$workdir/summary.txt" ]; then
    echo "== summary"
    sed 's/^/    /' "$workdir/summary.txt"
fi
if [ $rc -eq 0 ]; then
    echo "== demo OK (logs: $workdir)"
else
    echo "== demo FAILED (exit $rc); daemon log tail ($workdir/daemon.log):" >&2
    tail -n 20 "$workdir/daemon.log" >&2 || true
    echo "console tail ($workdir/console.log):" >&2
    tail -n 20 "$workdir/console.log" >&2 || true
fi
exit $rc
