#!/bin/bash
# Build the tiny initramfs that boots a guest whose root file system is a host
# directory tree served over virtio-fs (hostshared or another daemon) or 9p.
#
#   scripts/rootfs-initramfs.sh OUTDIR
#
# The initramfs holds busybox, the virtio / virtio-fs / 9p modules of the
# guest kernel and scripts/rootfs-init.sh as /init.  /init mounts the root
# given on the kernel command line and switch_root's into it; from then on
# every program the guest runs (its shell, the agent, git, gcc, python3...)
# comes from the served tree.  See scripts/rootfs-init.sh for the command-line
# parameters and scripts/rootfs_vm.py for the host side.
#
# Output: OUTDIR/rootfs-initramfs-<kver>.cpio.gz and OUTDIR/vmlinuz-<kver>;
# the last line on stdout is  KERNEL=<path> INITRAMFS=<path> KVER=<kver>.
# Cached: rebuilt only when an input changes.  HOSTSHARE_KVER picks a kernel.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=lib/ensure-packages.sh
. "$here/lib/ensure-packages.sh"

[ $# -eq 1 ] || { echo "usage: $0 OUTDIR" >&2; exit 2; }
mkdir -p "$1"
outdir=$(cd "$1" && pwd)

ensure_packages busybox-static cpio gzip linux-image-amd64 kmod

newest_kver() {
    local k best=
    for k in /boot/vmlinuz-*; do
        [ -e "$k" ] || continue
        k=${k#/boot/vmlinuz-}
        [ -f "/lib/modules/$k/modules.dep" ] || continue
        if [ -z "$best" ] || dpkg --compare-versions "$k" gt "$best"; then best=$k; fi
    done
    echo "$best"
}
kver=${HOSTSHARE_KVER:-$(newest_kver)}
[ -n "$kver" ] || { echo "rootfs-initramfs: no kernel with modules in /boot" >&2; exit 1; }
kernel=/boot/vmlinuz-$kver
busybox=/bin/busybox
file -L "$busybox" 2>/dev/null | grep -q 'statically' || {
    echo "rootfs-initramfs: $busybox is not static (install busybox-static)" >&2; exit 1; }

# Load order: modprobe resolves the dependencies for us; keep first occurrences.
mods=()
while read -r verb path _; do
    [ "$verb" = insmod ] || continue
    case " ${mods[*]:-} " in *" $path "*) ;; *) mods+=("$path") ;; esac
done < <(for m in virtio_pci virtio_console virtiofs 9pnet_virtio 9p; do
    modprobe --show-depends -S "$kver" "$m"
done)
[ ${#mods[@]} -gt 0 ] || { echo "rootfs-initramfs: no modules resolved for $kver" >&2; exit 1; }

key=$( {
    echo "rootfs v1 $kver"
    for f in "$0" "$here/rootfs-init.sh" "$here/rootfs-agent.sh" "$busybox" "$kernel" "${mods[@]}"; do
        sha256sum <"$f"
    done
} | sha256sum | cut -d' ' -f1)

out=$outdir/rootfs-initramfs-$kver.cpio.gz
kout=$outdir/vmlinuz-$kver
stamp=$outdir/rootfs-initramfs-$kver.key
if [ -f "$out" ] && [ -f "$kout" ] && [ "$(cat "$stamp" 2>/dev/null)" = "$key" ]; then
    echo "KERNEL=$kout INITRAMFS=$out KVER=$kver"
    exit 0
fi

work=$(mktemp -d "$outdir/.rootfs-work.XXXXXX")
trap 'rm -rf "$work"' EXIT
r=$work/root
mkdir -p "$r"/{bin,proc,sys,dev,newroot,lib/modules,etc}
cp "$busybox" "$r/bin/busybox"
for applet in sh mount umount mkdir insmod switch_root cat cp sleep echo ls mknod ln poweroff; do
    ln -s busybox "$r/bin/$applet"
done
: >"$r/etc/modules.order"
for m in "${mods[@]}"; do
    base=$(basename "$m")
    case "$base" in
    *.ko) cp "$m" "$r/lib/modules/$base" ;;
    *.ko.xz) xz -dc "$m" >"$r/lib/modules/${base%.xz}"; base=${base%.xz} ;;
    *.ko.zst) zstd -qdc "$m" >"$r/lib/modules/${base%.zst}"; base=${base%.zst} ;;
    *) echo "rootfs-initramfs: unknown module format $m" >&2; exit 1 ;;
    esac
    echo "$base" >>"$r/etc/modules.order"
done
install -m 0755 "$here/rootfs-init.sh" "$r/init"
install -m 0755 "$here/rootfs-agent.sh" "$r/agent.sh"
(cd "$r" && find . -print0 | LC_ALL=C sort -z | cpio --null -o -H newc --quiet -R 0:0) |
    gzip -6 -n >"$work/initramfs.cpio.gz"
mv "$work/initramfs.cpio.gz" "$out"
[ -f "$kout" ] && cmp -s "$kernel" "$kout" || { cp "$kernel" "$work/vmlinuz" && mv "$work/vmlinuz" "$kout"; }
echo "$key" >"$stamp"
echo "rootfs-initramfs: built $out ($(du -k "$out" | cut -f1) KiB, modules: ${#mods[@]})" >&2
echo "KERNEL=$kout INITRAMFS=$out KVER=$kver"
