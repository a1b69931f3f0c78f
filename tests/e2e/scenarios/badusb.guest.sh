# A composite storage+keyboard device posing as the approved stick (same
# VID/PID/serial), made with dummy_hcd: refused, nothing of it ever bound.
. /qk/daemon.sh
modprobe dummy_hcd; modprobe libcomposite
inputs_before=$(ls /dev/input/ 2>/dev/null | grep -c event)
daemon_start
gadget.sh composite /qk/gadget.img 0781 5567 4C530001
daemon_wait 60 '^REFUSED'
dev=$(qk_usb_find 0781 5567 | head -n 1)
qk_check "composite device refused as badusb" grep -q "^REFUSED $dev .*badusb" "$DAEMON_LOG"
qk_check "device left unauthorized" test "$(usb_attr "$dev" authorized)" = 0
qk_check "no hidraw node" sh -c '! ls /dev/hidraw* >/dev/null 2>&1'
qk_check "no new input device" test "$(ls /dev/input/ 2>/dev/null | grep -c event)" = "$inputs_before"
qk_check "no disk appeared" test -z "$(qk_block_of "$dev")"
qk_check "no driver bound to any interface" sh -c "! ls -d /sys/bus/usb/devices/$dev:*/driver >/dev/null 2>&1"
daemon_stop
qk_done
