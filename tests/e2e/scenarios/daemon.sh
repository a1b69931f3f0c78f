# Guest helpers for the scenarios: start and stop the real daemon, wait for
# its status lines (docs/admin.md lists them).
. /qk/lib.sh
DAEMON_LOG=/qk/out/daemon.log

daemon_start() {
    mkdir -p /var/spool/qkiosk
    qkiosk run --config /qk/etc/qkiosk.toml > "$DAEMON_LOG" 2>&1 &
    DAEMON_PID=$!
    qk_wait 60 'grep -q "^READY" "$DAEMON_LOG"'
}

# daemon_wait SECONDS PATTERN   wait for a status line matching the grep pattern
daemon_wait() { qk_wait "$1" "grep -q '$2' \"\$DAEMON_LOG\""; }

daemon_stop() {
    kill "$DAEMON_PID" 2>/dev/null
    qk_wait 20 '! kill -0 $DAEMON_PID'
    echo "---- daemon status lines ----"
    cat "$DAEMON_LOG"
    echo "-----------------------------"
}

# usb_attr DEV ATTR
usb_attr() { cat "/sys/bus/usb/devices/$1/$2" 2>/dev/null; }
