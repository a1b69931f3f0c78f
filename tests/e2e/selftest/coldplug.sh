# Scenario (a): a cold-plugged QEMU usb-storage stick is enumerated and bound.
# Host side: vm.sh --stick IMG,serial=QKCOLD01 (IMG starts with QKIOSK-STICK-MARKER)
. /qk/lib.sh

dev=$(qk_usb_find 46f4 0001 | head -n 1)
qk_log "usb device: ${dev:-none}"
qk_check "46f4:0001 in /sys/bus/usb/devices" test -n "$dev"
qk_check "serial is QKCOLD01" test "$(cat /sys/bus/usb/devices/$dev/serial)" = QKCOLD01
qk_check "authorized by default" test "$(cat /sys/bus/usb/devices/$dev/authorized)" = 1
qk_wait 15 'test -n "$(qk_block_of "$dev")"'
blk=$(qk_block_of "$dev")
qk_log "block device: ${blk:-none}"
qk_check "a /dev/sdX block device appears" test -b "/dev/$blk"
qk_check "interface bound to usb-storage or uas" \
    test -e "/sys/bus/usb/devices/$dev:1.0/driver"
qk_check "first sector holds the image's marker" \
    sh -c "dd if=/dev/$blk bs=512 count=1 2>/dev/null | grep -q QKIOSK-STICK-MARKER"
# Writes must not reach the host image (snapshot=on); the host checks that.
dd if=/dev/zero of="/dev/$blk" bs=512 count=1 conv=fsync 2>/dev/null
qk_check "guest write went to the snapshot" \
    sh -c "! dd if=/dev/$blk bs=512 count=1 2>/dev/null | grep -q QKIOSK-STICK-MARKER"
qk_done
