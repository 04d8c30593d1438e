#!/bin/bash
# Build the busybox initramfs of the Hostshare test/demo guest.
#
#   scripts/build-initramfs.sh OUTDIR
#
# Output: OUTDIR/initramfs-<kver>.cpio.gz and OUTDIR/vmlinuz-<kver> (a copy of
# the kernel, readable without root); the last line printed on stdout is
#   KERNEL=<path> INITRAMFS=<path> KVER=<kver>
# The result is cached: it is rebuilt only when an input changes (this script,
# the guest init, tests/e2e/guest_tool.c, the busybox binary, the kernel and
# its modules, the compiler).
#
# Environment: HOSTSHARE_KVER picks a kernel release (default: the newest
# /boot/vmlinuz-* that has /lib/modules/<kver>).
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
root=$(cd "$here/.." && pwd)
# shellcheck source=lib/ensure-packages.sh
. "$here/lib/ensure-packages.sh"

[ $# -eq 1 ] || { echo "usage: $0 OUTDIR" >&2; exit 2; }
outdir=$1
mkdir -p "$outdir"
outdir=$(cd "$outdir" && pwd)

ensure_packages busybox-static cpio gzip gcc libc6-dev linux-image-amd64 kmod

pick_kver() {
    local k best=
    for k in /boot/vmlinuz-*; do
        [ -e "$k" ] || continue
        k=${k#/boot/vmlinuz-}
        [ -f "/lib/modules/$k/modules.dep" ] || continue
        if [ -z "$best" ] || dpkg --compare-versions "$k" gt "$best"; then best=$k; fi
    done
    echo "$best"
}
kver=${HOSTSHARE_KVER:-$(pick_kver)}
[ -n "$kver" ] || { echo "build-initramfs: no kernel with modules found in /boot" >&2; exit 1; }
kernel=/boot/vmlinuz-$kver
moddir=/lib/modules/$kver
[ -f "$kernel" ] || { echo "build-initramfs: $kernel missing" >&2; exit 1; }

busybox=$(command -v busybox || true)
[ -x /bin/busybox ] && busybox=/bin/busybox
file "$busybox" 2>/dev/null | grep -q 'dynamically' && {
    echo "build-initramfs: $busybox is not static (install busybox-static)" >&2; exit 1; }

wanted="virtio virtio_ring virtio_pci_legacy_dev virtio_pci_modern_dev virtio_pci fuse virtiofs virtio_console"

# Resolve the load order from modules.dep: each module after its dependencies.
declare -A dep_of=() path_of=() seen=()
while IFS= read -r line; do
    mod=${line%%:*}
    name=${mod##*/}; name=${name%%.ko*}; name=${name//-/_}
    path_of[$name]=$mod
    dep_of[$name]=${line#*:}
done <"$moddir/modules.dep"

order=()
visit() {
    local name=${1//-/_} d dn
    [ -n "${seen[$name]:-}" ] && return 0
    seen[$name]=1
    if [ -z "${path_of[$name]:-}" ]; then
        # built into the kernel?
        if grep -q "/$name.ko" "$moddir/modules.builtin" 2>/dev/null; then return 0; fi
        echo "build-initramfs: module $name not found for $kver" >&2
        exit 1
    fi
    # modules.dep lists the full dependency closure; visit it in reverse so
    # the deepest dependencies come first.
    local deps=(${dep_of[$name]})
    local i
    for ((i = ${#deps[@]} - 1; i >= 0; i--)); do
        dn=${deps[$i]##*/}; dn=${dn%%.ko*}
        visit "$dn"
    done
    order+=("${path_of[$name]}")
}
for m in $wanted; do visit "$m"; done

guest_tool_src=$root/tests/e2e/guest_tool.c
init_src=$here/guest-init.sh

# Cache key over every input.
key=$( {
    echo "v1 $kver"
    for f in "$0" "$init_src" "$guest_tool_src" "$busybox" "$kernel" "${order[@]/#/$moddir/}"; do
        sha256sum <"$f"
    done
    gcc --version | head -1
} | sha256sum | cut -d' ' -f1)

out=$outdir/initramfs-$kver.cpio.gz
kout=$outdir/vmlinuz-$kver
stamp=$outdir/initramfs-$kver.key
if [ -f "$out" ] && [ -f "$kout" ] && [ "$(cat "$stamp" 2>/dev/null)" = "$key" ]; then
    echo "build-initramfs: up to date ($out)" >&2
    echo "KERNEL=$kout INITRAMFS=$out KVER=$kver"
    exit 0
fi

echo "build-initramfs: building $out (modules: ${order[*]##*/})" >&2
work=$(mktemp -d "$outdir/.work.XXXXXX")
trap 'rm -rf "$work"' EXIT
r=$work/root
mkdir -p "$r"/{bin,sbin,usr/bin,usr/sbin,proc,sys,dev,tmp,mnt,run,etc/hostshare,lib/modules,root}

cp "$busybox" "$r/bin/busybox"
for applet in $("$r/bin/busybox" --list); do
    [ "$applet" = busybox ] && continue
    ln -sf busybox "$r/bin/$applet"
done

gcc -static -O2 -Wall -Wextra -Werror -o "$r/bin/guest_tool" "$guest_tool_src"
strip "$r/bin/guest_tool" 2>/dev/null || true

: >"$r/etc/hostshare/modules.order"
for m in "${order[@]}"; do
    base=$(basename "$m")
    case "$base" in
    *.ko) cp "$moddir/$m" "$r/lib/modules/$base" ;;
    *.ko.xz) xz -dc "$moddir/$m" >"$r/lib/modules/${base%.xz}"; base=${base%.xz} ;;
    *.ko.zst) zstd -qdc "$moddir/$m" >"$r/lib/modules/${base%.zst}"; base=${base%.zst} ;;
    *.ko.gz) gzip -dc "$moddir/$m" >"$r/lib/modules/${base%.gz}"; base=${base%.gz} ;;
    *) echo "build-initramfs: unknown module format $m" >&2; exit 1 ;;
    esac
    echo "$base" >>"$r/etc/hostshare/modules.order"
done

install -m 0755 "$init_src" "$r/init"
echo "root:x:0:0:root:/root:/bin/sh" >"$r/etc/passwd"
echo "root:x:0:" >"$r/etc/group"
echo "$kver" >"$r/etc/hostshare/kver"

(cd "$r" && find . -print0 | LC_ALL=C sort -z | cpio --null -o -H newc --quiet -R 0:0) |
    gzip -6 -n >"$work/initramfs.cpio.gz"
mv "$work/initramfs.cpio.gz" "$out"
cp "$kernel" "$work/vmlinuz" && mv "$work/vmlinuz" "$kout"
echo "$key" >"$stamp"
echo "build-initramfs: built $out ($(du -k "$out" | cut -f1) KiB)" >&2
echo "KERNEL=$kout INITRAMFS=$out KVER=$kver"
