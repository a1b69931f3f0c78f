# A stick present at boot: the kernel leaves it unauthorized; the daemon takes
# over, admits it as unknown media, authorizes only its storage interface, scans.
. /qk/daemon.sh
dev=$(qk_usb_find 46f4 0001 | head -n 1)
qk_check "stick enumerated and still unauthorized" test "$(usb_attr "$dev" authorized)" = 0
daemon_start
qk_check "daemon ready" grep -q '^READY' "$DAEMON_LOG"
daemon_wait 90 '^RESULT'
qk_check "scan finished with FAIL" grep -q "^RESULT FAIL $dev " "$DAEMON_LOG"
qk_check "bus locked down" test "$(cat /sys/bus/usb/devices/usb$(usb_attr "$dev" busnum)/interface_authorized_default)" = 0
qk_check "device authorized" test "$(usb_attr "$dev" authorized)" = 1
qk_check "storage interface authorized" test "$(cat /sys/bus/usb/devices/$dev:1.0/authorized)" = 1
qk_check "told staff to remove the media" grep -q "^REMOVE-MEDIA $dev" "$DAEMON_LOG"
daemon_stop
qk_done
