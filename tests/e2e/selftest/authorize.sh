# Scenario (b): usbcore.authorized_default=0 keeps a cold-plugged stick
# unbound; authorizing the device, then only its storage interface, and
# drivers_probe, gives /dev/sdX.
# Host side: vm.sh --cmdline usbcore.authorized_default=0 --stick IMG
. /qk/lib.sh
U=/sys/bus/usb/devices

dev=$(qk_usb_find 46f4 0001 | head -n 1)
qk_log "usb device: ${dev:-none}"
qk_check "46f4:0001 in /sys/bus/usb/devices" test -n "$dev"
qk_check "authorized_default of its bus is 0" \
    test "$(cat "$U/usb$(cat $U/$dev/busnum)/authorized_default")" = 0
qk_check "device authorized is 0" test "$(cat $U/$dev/authorized)" = 0
# The descriptors stay readable (libusb_get_config_descriptor works): the
# raw descriptors hold an interface descriptor of class 08.
desc=$(od -An -tx1 -v $U/$dev/descriptors | tr -s ' \n' '  ')
qk_check "descriptors show a class-08 interface" \
    sh -c "echo ' $desc ' | grep -Eq ' 09 04 [0-9a-f]{2} 00 [0-9a-f]{2} 08 '"
sleep 2
qk_check "no /dev/sd* while unauthorized" sh -c '! ls /dev/sd* 2>/dev/null | grep -q .'
qk_check "no interface configured while unauthorized" sh -c "! ls -d $U/$dev:* 2>/dev/null | grep -q ."

# Admission: interfaces unauthorized by default, then the device.
echo 0 > "$U/usb$(cat $U/$dev/busnum)/interface_authorized_default"
echo 1 > $U/$dev/authorized
qk_wait 5 test -e $U/$dev:1.0
qk_check "device authorized is 1" test "$(cat $U/$dev/authorized)" = 1
qk_check "interface $dev:1.0 is class 08" test "$(cat $U/$dev:1.0/bInterfaceClass)" = 08
qk_check "interface authorized is 0" test "$(cat $U/$dev:1.0/authorized)" = 0
sleep 1
qk_check "interface not bound yet" test ! -e $U/$dev:1.0/driver
qk_check "still no /dev/sd*" sh -c '! ls /dev/sd* 2>/dev/null | grep -q .'

echo 1 > $U/$dev:1.0/authorized
echo "$dev:1.0" > /sys/bus/usb/drivers_probe
qk_wait 15 'test -n "$(qk_block_of "$dev")"'
blk=$(qk_block_of "$dev")
qk_log "after admission: interface driver $(basename "$(readlink $U/$dev:1.0/driver)"), block ${blk:-none}"
qk_check "/dev/sdX appears after admission" test -b "/dev/$blk"
qk_check "stick content readable" \
    sh -c "dd if=/dev/$blk bs=512 count=1 2>/dev/null | grep -q QKIOSK-STICK-MARKER"
qk_done
