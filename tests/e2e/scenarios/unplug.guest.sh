# A stick pulled out in mid-scan: FAIL with read-error, no crash, and the
# kiosk serves the next device (a dummy_hcd gadget) as usual.
. /qk/daemon.sh
modprobe dummy_hcd; modprobe libcomposite
daemon_start
qk_ready_for_hotplug
daemon_wait 60 '^SCANNING'
qk_check "scan started" grep -q '^SCANNING' "$DAEMON_LOG"
qk_ready_for_unplug
daemon_wait 90 '^RESULT'
qk_check "pulled stick: FAIL" grep -q '^RESULT FAIL ' "$DAEMON_LOG"
qk_check "daemon still running" kill -0 "$DAEMON_PID"
gadget.sh storage /qk/gadget.img 090c 1000 NEXT0001
daemon_wait 90 '^RESULT PASS'
qk_check "next device served: PASS" grep -q '^RESULT PASS ' "$DAEMON_LOG"
daemon_stop
qk_done
