#!/bin/sh
# /init of the rootfs initramfs (scripts/rootfs-initramfs.sh): loads the
# virtio / virtio-fs / 9p modules, mounts the root file system served by the
# host and switch_root's into it, where scripts/rootfs-agent.sh (run by the
# served tree's own /bin/sh) answers the host.
#
# Kernel command line:
#   hsroot=virtiofs:TAG | 9p:TAG   what to mount as / (default virtiofs:rootfs)
#   hsroot.mode=ro|rw              mount it read-only (default) or read-write
#   hsroot.opts=OPT,...            extra mount options (',' separated)
# The guest's own /proc, /sys, /dev, /run and /tmp are mounted over the served
# tree's; nothing is written to the served tree unless the guest does it.
export PATH=/bin
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev

while read -r m; do
    insmod "/lib/modules/$m" || echo "rootfs-init: insmod $m failed"
done </etc/modules.order

root=virtiofs:rootfs mode=ro opts=
for arg in $(cat /proc/cmdline); do
    case "$arg" in
    hsroot=*) root=${arg#hsroot=} ;;
    hsroot.mode=*) mode=${arg#hsroot.mode=} ;;
    hsroot.opts=*) opts=${arg#hsroot.opts=} ;;
    esac
done
type=${root%%:*} tag=${root#*:}
case "$type" in
virtiofs) mopts=$mode ;;
9p) mopts=$mode,trans=virtio,version=9p2000.L,msize=512000 ;;
*) echo "rootfs-init: unknown root type $type"; poweroff -f ;;
esac
[ -n "$opts" ] && mopts=$mopts,$opts
echo "rootfs-init: mounting $type $tag on / ($mopts) at $(cut -d' ' -f1 /proc/uptime)s"
if ! mount -t "$type" -o "$mopts" "$tag" /newroot || [ ! -x /newroot/bin/sh ]; then
    echo "rootfs-init: cannot mount the root file system (or no /bin/sh in it)"
    sleep 2
    poweroff -f
fi
mount -t tmpfs -o mode=0755 tmpfs /newroot/run
# The guest gets its own writable /tmp; the served tree's /tmp stays
# readable at /run/host-tmp (rootfs_vm.guest_path: a checkout under the
# host's /tmp must still reach the guest).
mkdir -p /newroot/run/host-tmp
mount --bind /newroot/tmp /newroot/run/host-tmp
mount -t tmpfs -o mode=1777 tmpfs /newroot/tmp
mkdir -p /newroot/run/hostshare/bin
cp /bin/busybox /agent.sh /newroot/run/hostshare/
for a in poweroff reboot; do ln -s ../busybox "/newroot/run/hostshare/bin/$a"; done
mount --move /dev /newroot/dev
mount --move /sys /newroot/sys
mount --move /proc /newroot/proc
exec switch_root /newroot /bin/sh /run/hostshare/agent.sh
