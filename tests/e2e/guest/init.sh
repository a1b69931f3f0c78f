#!/bin/sh
# /init of the qkiosk e2e guest (busybox sh, PID 1). Built into the initramfs
# by tests/e2e/vm.sh; not meant to run anywhere else.
#
# Base setup, then the test's script (/qk/script.sh), then the results:
#   - files to collect are sent as a tar on the virtio-serial port
#     "qk.collect", dmesg on "qk.dmesg" (fallback: base64 on /dev/ttyS1),
#   - "QK-EXIT <status>" on the console (ttyS0), then power off.
export PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
export HOME=/root TERM=vt100 LANG=C.UTF-8

mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev 2>/dev/null
exec 0</dev/console 1>/dev/console 2>&1
mkdir -p /dev/pts /dev/shm
mount -t devpts devpts /dev/pts
mount -t tmpfs tmpfs /dev/shm
mount -t tmpfs -o mode=1777 tmpfs /tmp
mount -t tmpfs -o mode=755 tmpfs /run
# Keep kernel messages off the console (they would interleave with the test's
# output); the whole dmesg comes back to the host at the end.
echo 1 > /proc/sys/kernel/printk
hostname qkiosk-e2e

. /qk/env

for m in $QK_BOOT_MODULES; do
    modprobe "$m" || echo "QK-WARN modprobe $m failed"
done
mount -t configfs configfs /sys/kernel/config 2>/dev/null \
    || echo "QK-WARN configfs not mounted"

# Wait (at most 20 s) until every cold-plugged stick is enumerated, so that
# test scripts start with the devices present in sysfs.
qk_usb_count() {   # QEMU usb-storage devices (46f4:0001) present
    n=0
    for d in /sys/bus/usb/devices/*; do
        [ -f "$d/idVendor" ] || continue
        [ "$(cat "$d/idVendor"):$(cat "$d/idProduct")" = 46f4:0001 ] && n=$((n + 1))
    done
    echo $n
}
if [ "${QK_STICKS:-0}" -gt 0 ]; then
    i=0
    while [ "$(qk_usb_count)" -lt "$QK_STICKS" ] && [ $i -lt 200 ]; do
        sleep 0.1; i=$((i + 1))
    done
    [ $i -ge 200 ] && echo "QK-WARN only $(qk_usb_count) of $QK_STICKS cold-plugged sticks enumerated"
fi

read -r up _ < /proc/uptime
echo "QK-BOOTED uptime=${up}s"

mkdir -p /qk/out
if [ -f /qk/script.sh ]; then
    chmod +x /qk/script.sh
    (cd /tmp && sh /qk/script.sh) < /dev/null
    rc=$?
else
    echo "QK-WARN no guest script"
    rc=0
fi

# Results: a tar of the collected paths on the virtio port "qk.collect" and
# the kernel log on "qk.dmesg" (host files WORK/xfer.tar, WORK/dmesg.log).
# Without virtio ports: base64 over the second serial port (slow).
vport() {
    for v in /sys/class/virtio-ports/*; do
        [ "$(cat "$v/name" 2>/dev/null)" = "$1" ] && { echo "/dev/${v##*/}"; return 0; }
    done
    return 1
}
paths=""
for p in $QK_COLLECT; do          # unquoted on purpose: guest-side globs
    if [ -e "$p" ]; then
        paths="$paths ${p#/}"
    else
        echo "QK-WARN collect: $p does not exist"
    fi
done
if [ -n "$(ls -A /qk/out 2>/dev/null)" ]; then paths="$paths qk/out"; fi
cport=$(vport qk.collect) dport=$(vport qk.dmesg)
if [ -n "$cport" ] && [ -n "$dport" ]; then
    # shellcheck disable=SC2086
    [ -n "$paths" ] && tar -C / -cf "$cport" $paths
    dmesg > "$dport"
else
    echo "QK-WARN no virtio ports; results go over ttyS1 (slow)"
    xfer=/dev/ttyS1
    stty -F $xfer raw -echo 2>/dev/null
    if [ -n "$paths" ]; then
        {
            echo "QK-COLLECT-BEGIN"
            # shellcheck disable=SC2086
            tar -C / -cf - $paths | gzip -1 | base64
            echo "QK-COLLECT-END"
        } > $xfer
    fi
    {
        echo "QK-DMESG-BEGIN"
        dmesg | gzip -1 | base64
        echo "QK-DMESG-END"
    } > $xfer
fi

read -r up _ < /proc/uptime
echo "QK-EXIT $rc uptime=${up}s"
sync
poweroff -f
sleep 5
