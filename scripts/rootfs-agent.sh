# The guest agent of the rootfs guest, run after switch_root by the served
# tree's own /bin/sh (copied to /run/hostshare by scripts/rootfs-init.sh).
# Same line protocol as scripts/guest-init.sh, so scripts/hsvm.py drives it:
#   host -> guest  @@HS-RUN <id> <timeout-s> <base64 of a sh script>
#   guest -> host  @@HS-READY <kernel release> <uptime>   (once per boot)
#                  @@HS-BEGIN <id> / base64 of stdout+stderr / @@HS-END <id> <status>
# Channels: virtio serial ports hs.ctl (control) and hs.diag (diagnostics),
# as scripts/hsvm.py sets them up (the emulated 16550 stalls under TCG).
# Every tool used here (base64, timeout, stty, uname) comes from the served root.
export PATH=/run/hostshare/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
export HOME=/tmp/home LANG=C.UTF-8 TERM=dumb
mkdir -p "$HOME" /tmp/hs
[ -w /var/tmp ] || mount -t tmpfs -o mode=1777 tmpfs /var/tmp 2>/dev/null
mkdir -p /dev/pts && mount -t devpts devpts /dev/pts 2>/dev/null
mkdir -p /dev/shm && mount -t tmpfs -o mode=1777 tmpfs /dev/shm 2>/dev/null
ulimit -n 65536 2>/dev/null

agent() {
    [ -t 0 ] && stty raw -echo 2>/dev/null
    echo "@@HS-READY $(uname -r) $(cut -d' ' -f1 /proc/uptime)"
    while IFS= read -r line; do
        set -- $line
        [ "$1" = "@@HS-RUN" ] || continue
        id=$2
        echo "$4" | base64 -d >"/tmp/hs/cmd.$id"
        cd /
        timeout -s KILL "$3" sh "/tmp/hs/cmd.$id" </dev/null >"/tmp/hs/out.$id" 2>&1
        rc=$?
        echo "@@HS-BEGIN $id"
        base64 <"/tmp/hs/out.$id"
        echo "@@HS-END $id $rc"
        rm -f "/tmp/hs/cmd.$id" "/tmp/hs/out.$id"
    done
}

port_dev() {  # the /dev node of the virtio serial port named $1
    for d in /sys/class/virtio-ports/*; do
        [ "$(cat "$d/name" 2>/dev/null)" = "$1" ] && { echo "/dev/${d##*/}"; return 0; }
    done
    return 1
}

# A virtio port can be opened once: one read-write open per agent loop.
if dev=$(port_dev hs.diag); then
    (while :; do agent 0<>"$dev" 1>&0 2>&0; sleep 1; done) &
fi
echo "rootfs-agent: up at $(cut -d' ' -f1 /proc/uptime)s" >/dev/console
dev=$(port_dev hs.ctl) || { echo "rootfs-agent: no hs.ctl port" >/dev/console; exec sh; }
while :; do
    agent 0<>"$dev" 1>&0 2>&0
    sleep 1
done
