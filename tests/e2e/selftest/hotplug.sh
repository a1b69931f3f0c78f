# Scenario (d): a stick hot-plugged by the harness after QK-READY-FOR-HOTPLUG
# is announced on the kernel's netlink uevent socket (busybox `uevent` is a
# netlink listener, like libudev's "kernel" monitor source) and appears in
# sysfs; QK-READY-FOR-UNPLUG makes the harness remove it again.
# Host side: vm.sh --hotplug-stick IMG,serial=QKHOT001@1
. /qk/lib.sh

cat > /tmp/on-uevent <<'EOS'
#!/bin/sh
echo "$ACTION $SUBSYSTEM $DEVTYPE $PRODUCT $DEVPATH" >> /tmp/uevents
EOS
chmod +x /tmp/on-uevent
: > /tmp/uevents
uevent /tmp/on-uevent &
sleep 0.5

qk_check "no 46f4:0001 before the hot-plug" test -z "$(qk_usb_find 46f4 0001)"
qk_ready_for_hotplug
qk_wait 30 'test -n "$(qk_usb_find 46f4 0001)"'
dev=$(qk_usb_find 46f4 0001 | head -n 1)
qk_log "hot-plugged device: ${dev:-none}"
qk_check "46f4:0001 appears in sysfs" test -n "$dev"
qk_check "serial is QKHOT001" test "$(cat /sys/bus/usb/devices/$dev/serial)" = QKHOT001
qk_wait 10 "grep -q '^add usb usb_device 46f4/1/' /tmp/uevents"
qk_check "netlink: add usb_device 46f4/1/..." grep -q '^add usb usb_device 46f4/1/' /tmp/uevents
qk_wait 15 'test -n "$(qk_block_of "$dev")"'
blk=$(qk_block_of "$dev")
qk_wait 5 "grep -q '^add block disk .*/$blk\$' /tmp/uevents"
qk_check "netlink: add block $blk" grep -q "^add block disk .*/$blk\$" /tmp/uevents
qk_check "stick content readable" \
    sh -c "dd if=/dev/$blk bs=512 count=1 2>/dev/null | grep -q QKIOSK-STICK-MARKER"

qk_ready_for_unplug
qk_wait 20 'test -z "$(qk_usb_find 46f4 0001)"'
qk_check "device gone from sysfs after unplug" test -z "$(qk_usb_find 46f4 0001)"
qk_wait 5 "grep -q '^remove usb usb_device 46f4/1/' /tmp/uevents"
qk_check "netlink: remove usb_device" grep -q '^remove usb usb_device 46f4/1/' /tmp/uevents
qk_check "block device gone" test ! -b "/dev/$blk"
echo "uevents seen: $(wc -l < /tmp/uevents)"
grep -E ' (usb_device|disk) ' /tmp/uevents
qk_done
