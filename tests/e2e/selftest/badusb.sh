# Scenario (c): a composite gadget (mass storage + HID keyboard) on dummy_hcd
# with usbcore.authorized_default=0: both interfaces visible, nothing bound;
# admitting only the storage interface gives /dev/sdX and still no keyboard.
# Then a storage-only gadget with another VID/PID/serial.
# Host side: vm.sh --cmdline usbcore.authorized_default=0
. /qk/lib.sh
U=/sys/bus/usb/devices

nevents() { ls /dev/input/event* 2>/dev/null | wc -l; }
ev0=$(nevents)
dd if=/dev/zero of=/tmp/gadget.img bs=1M count=8 2>/dev/null
printf 'QKIOSK-STICK-MARKER' | dd of=/tmp/gadget.img conv=notrunc 2>/dev/null

udc=$(gadget.sh composite /tmp/gadget.img 1234 5678 BADUSB01)
qk_check "composite gadget bound to a UDC ($udc)" test -n "$udc"
qk_wait 15 'test -n "$(qk_usb_find 1234 5678)"'
dev=$(qk_usb_find 1234 5678 | head -n 1)
qk_log "gadget device: ${dev:-none} on $udc"
qk_check "1234:5678 in /sys/bus/usb/devices" test -n "$dev"
qk_check "serial is BADUSB01" test "$(cat $U/$dev/serial)" = BADUSB01
qk_check "device authorized is 0" test "$(cat $U/$dev/authorized)" = 0
desc=$(od -An -tx1 -v $U/$dev/descriptors | tr -s ' \n' '  ')
qk_check "descriptors show interfaces of class 08 and 03" sh -c \
    "echo ' $desc ' | grep -Eq ' 09 04 [0-9a-f]{2} 00 [0-9a-f]{2} 08 ' &&
     echo ' $desc ' | grep -Eq ' 09 04 [0-9a-f]{2} 00 [0-9a-f]{2} 03 '"

bus=$U/usb$(cat $U/$dev/busnum)
echo 0 > $bus/interface_authorized_default
echo 1 > $U/$dev/authorized
qk_wait 5 test -e $U/$dev:1.1
classes=$(cat $U/$dev:1.*/bInterfaceClass | sort | tr '\n' ' ')
qk_log "interfaces: $(cd $U && echo $dev:1.*) classes: $classes"
qk_check "both interfaces in sysfs (classes 03 08)" test "$classes" = "03 08 "
qk_check "both interfaces unauthorized" \
    test "$(cat $U/$dev:1.*/authorized | tr -d '\n')" = 00
sleep 2
qk_check "no interface bound" sh -c "! ls -d $U/$dev:1.*/driver 2>/dev/null | grep -q ."
qk_check "no /dev/hidraw*" sh -c '! ls /dev/hidraw* 2>/dev/null | grep -q .'
qk_check "no new /dev/input/event*" test "$(nevents)" = "$ev0"
qk_check "no /dev/sd*" sh -c '! ls /dev/sd* 2>/dev/null | grep -q .'

# Admit the storage interface only.
for i in $U/$dev:1.*; do
    [ "$(cat $i/bInterfaceClass)" = 08 ] || continue
    echo 1 > $i/authorized
    echo "${i##*/}" > /sys/bus/usb/drivers_probe
done
qk_wait 15 'test -n "$(qk_block_of "$dev")"'
blk=$(qk_block_of "$dev")
qk_check "storage admitted: /dev/$blk" test -b "/dev/$blk"
qk_check "gadget storage content readable" \
    sh -c "dd if=/dev/$blk bs=512 count=1 2>/dev/null | grep -q QKIOSK-STICK-MARKER"
qk_check "gadget storage is read-only" test "$(cat /sys/block/$blk/ro)" = 1
sleep 1
qk_check "keyboard still not bound: no /dev/hidraw*" sh -c '! ls /dev/hidraw* 2>/dev/null | grep -q .'
qk_check "keyboard still not bound: no new event device" test "$(nevents)" = "$ev0"

# Control: the keyboard interface does bind once authorized, so the checks
# above are not vacuous.
for i in $U/$dev:1.*; do
    [ "$(cat $i/bInterfaceClass)" = 03 ] || continue
    echo 1 > $i/authorized
    echo "${i##*/}" > /sys/bus/usb/drivers_probe
done
qk_wait 10 'ls /dev/hidraw* 2>/dev/null | grep -q .'
qk_check "control: authorized keyboard interface gets /dev/hidraw*" \
    sh -c 'ls /dev/hidraw* 2>/dev/null | grep -q .'
qk_check "control: and a new /dev/input/event*" test "$(nevents)" -gt "$ev0"
qk_check "libusb device nodes exist (/dev/bus/usb/BBB/DDD)" \
    test -c "/dev/bus/usb/$(printf %03d "$(cat $U/$dev/busnum)")/$(printf %03d "$(cat $U/$dev/devnum)")"

# Unplug, then a storage-only gadget.
gadget.sh remove
qk_wait 10 'test -z "$(qk_usb_find 1234 5678)"'
qk_check "composite gadget gone" test -z "$(qk_usb_find 1234 5678)"
gadget.sh storage /tmp/gadget.img 0781 5567 4C530001 >/dev/null
qk_wait 15 'test -n "$(qk_usb_find 0781 5567)"'
dev=$(qk_usb_find 0781 5567 | head -n 1)
qk_check "storage gadget 0781:5567 appears" test -n "$dev"
qk_check "storage gadget serial 4C530001" test "$(cat $U/$dev/serial)" = 4C530001
qk_admit_storage "$dev"
qk_wait 15 'test -n "$(qk_block_of "$dev")"'
qk_check "storage gadget has one interface, class 08" \
    test "$(cat $U/$dev:1.*/bInterfaceClass | tr -d '\n')" = 08
qk_check "storage gadget admitted: /dev/sdX" test -n "$(qk_block_of "$dev")"
qk_done
