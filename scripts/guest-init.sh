#!/bin/sh
# /init of the Hostshare test/demo guest (busybox initramfs).
# Built into the initramfs by scripts/build-initramfs.sh.
#
# - console (kernel + this script's messages): ttyS0
# - control channel: virtio serial port "hs.ctl", driven by the host
#   (scripts/hsvm.py); see the agent loop below for the protocol.  (Not an
#   emulated 16550: under TCG its transmit side was seen to stall, leaving a
#   reply stuck in the guest's tty buffer.)
# - diagnostics channel: virtio serial port "hs.diag" (same protocol), for
#   looking at the guest while the control agent is busy or stuck.
# - kernel command line "hostshare.probe" = accelerator probe: print a marker
#   and power off at once (no modules loaded).
export PATH=/bin:/sbin:/usr/bin:/usr/sbin
umask 022
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev
mkdir -p /dev/pts /tmp /mnt /run
mount -t tmpfs tmpfs /tmp
mount -t tmpfs tmpfs /run

case " $(cat /proc/cmdline) " in
*" hostshare.probe "*)
    echo "HOSTSHARE-PROBE-OK uptime=$(cut -d' ' -f1 /proc/uptime)"
    poweroff -f
    ;;
esac

while read -r m; do
    [ -n "$m" ] || continue
    insmod "/lib/modules/$m" || echo "hostshare-init: insmod $m failed"
done </etc/hostshare/modules.order

echo "hostshare-init: modules loaded at $(cut -d' ' -f1 /proc/uptime)s: $(lsmod | awk 'NR>1 {print $1}' | tr '\n' ' ')"

# Agent. Protocol (one line each, host -> guest):
#   @@HS-RUN <id> <timeout-s> <base64 of a sh script>
# Guest -> host:
#   @@HS-READY <kernel release> <uptime>        (once per boot)
#   @@HS-BEGIN <id>
#   <base64 of the script's stdout+stderr>
#   @@HS-END <id> <exit status>
agent() {
    echo "@@HS-READY $(uname -r) $(cut -d' ' -f1 /proc/uptime)"
    while IFS= read -r line; do
        set -- $line
        [ "$1" = "@@HS-RUN" ] || continue
        id=$2
        tmo=$3
        echo "$4" | base64 -d >"/tmp/hs-cmd.$id"
        cd /
        timeout -s KILL "$tmo" sh "/tmp/hs-cmd.$id" </dev/null >"/tmp/hs-out.$id" 2>&1
        rc=$?
        echo "@@HS-BEGIN $id"
        base64 <"/tmp/hs-out.$id"
        echo "@@HS-END $id $rc"
        rm -f "/tmp/hs-cmd.$id" "/tmp/hs-out.$id"
    done
}

port_dev() {
    local d
    for d in /sys/class/virtio-ports/*; do
        [ "$(cat "$d/name" 2>/dev/null)" = "$1" ] && echo "/dev/${d##*/}" && return 0
    done
    return 1
}

# A virtio port can be open only once: one read-write open serves all three
# standard fds.
if dev=$(port_dev hs.diag); then
    (while :; do agent 0<>"$dev" 1>&0 2>&0; sleep 1; done) &
fi
if dev=$(port_dev hs.ctl); then
    while :; do
        agent 0<>"$dev" 1>&0 2>&0
        echo "hostshare-init: agent exited, restarting"
        sleep 1
    done
fi
echo "hostshare-init: no virtio port hs.ctl; starting a console shell"
exec setsid cttyhack sh
