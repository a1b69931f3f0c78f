# The approved stick (whitelisted VID/PID/serial, storage only), made with
# dummy_hcd: admitted with its approval, only its storage interface
# authorized, still scanned.
. /qk/daemon.sh
modprobe dummy_hcd; modprobe libcomposite
daemon_start
gadget.sh storage /qk/gadget.img 0781 5567 4C530001
daemon_wait 90 '^RESULT'
dev=$(qk_usb_find 0781 5567 | head -n 1)
qk_check "approved stick scanned: PASS" grep -q "^RESULT PASS $dev " "$DAEMON_LOG"
qk_check "device authorized" test "$(usb_attr "$dev" authorized)" = 1
qk_check "storage interface authorized and bound" test -e "/sys/bus/usb/devices/$dev:1.0/driver"
daemon_stop
qk_done
