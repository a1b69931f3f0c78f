# A stick plugged into the running kiosk (QEMU monitor device_add).
. /qk/daemon.sh
daemon_start
qk_ready_for_hotplug
daemon_wait 90 '^RESULT'
qk_check "hot-plugged stick scanned: PASS" grep -q '^RESULT PASS ' "$DAEMON_LOG"
daemon_stop
qk_done
