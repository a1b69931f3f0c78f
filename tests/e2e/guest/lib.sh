# Helpers for guest scripts of the qkiosk e2e harness (busybox sh).
# Use with:  . /qk/lib.sh
# Then print results with qk_check and finish with qk_done (its status is
# the script's exit status, which becomes vm.sh's exit status).

QK_FAILED=0
QK_CHECKS=0

# qk_log MSG...          one line on the console, prefixed with the uptime
qk_log() {
    read -r _up _ < /proc/uptime
    echo "[$_up] $*"
}

# qk_wait SECONDS CMD...  evaluate CMD (with eval, so put $(...) in single
# quotes to have it re-evaluated) every 0.1 s until it succeeds; 1 on timeout.
#   qk_wait 15 'test -n "$(qk_block_of "$dev")"'
qk_wait() {
    _qk_n=$(($1 * 10)); shift
    while [ $_qk_n -gt 0 ]; do
        eval "$*" >/dev/null 2>&1 && return 0
        sleep 0.1; _qk_n=$((_qk_n - 1))
    done
    return 1
}

# qk_check DESCRIPTION CMD...   run CMD, print "ok - D" or "not ok - D"
qk_check() {
    _d=$1; shift
    QK_CHECKS=$((QK_CHECKS + 1))
    if "$@" >/dev/null 2>&1; then
        echo "ok - $_d"
    else
        echo "not ok - $_d"
        QK_FAILED=$((QK_FAILED + 1))
    fi
}

# qk_done   summary line; exit 0 when every check passed, else 1
qk_done() {
    echo "checks: $QK_CHECKS, failed: $QK_FAILED"
    [ $QK_FAILED -eq 0 ] && exit 0
    exit 1
}

# qk_ready_for_hotplug   tell vm.sh to plug the --hotplug-stick(s) now
qk_ready_for_hotplug() { echo "QK-READY-FOR-HOTPLUG"; }

# qk_ready_for_unplug    tell vm.sh to remove the hot-plugged stick(s) now
qk_ready_for_unplug() { echo "QK-READY-FOR-UNPLUG"; }

# qk_usb_find VID PID    print the sysfs names (e.g. 1-1) of matching devices
qk_usb_find() {
    for _d in /sys/bus/usb/devices/*; do
        [ -f "$_d/idVendor" ] || continue
        [ "$(cat "$_d/idVendor")" = "$1" ] && [ "$(cat "$_d/idProduct")" = "$2" ] \
            && echo "${_d##*/}"
    done
}

# qk_block_of USBDEV     print the block devices (sda ...) below a USB device
qk_block_of() {
    for _b in /sys/block/sd*; do
        [ -e "$_b" ] || continue
        case "$(readlink -f "$_b/device")" in
            */"$1"/*) echo "${_b##*/}" ;;
        esac
    done
}

# qk_admit_storage USBDEV   the admission the kiosk does, by hand: authorize
# the device with interface_authorized_default=0 on its bus, then authorize
# and probe only its mass-storage (class 08) interfaces.
qk_admit_storage() {
    _bus=/sys/bus/usb/devices/usb$(cat "/sys/bus/usb/devices/$1/busnum")
    echo 0 > "$_bus/interface_authorized_default"
    echo 1 > "/sys/bus/usb/devices/$1/authorized"
    for _i in /sys/bus/usb/devices/"$1":*; do
        [ "$(cat "$_i/bInterfaceClass")" = 08 ] || continue
        echo 1 > "$_i/authorized"
        echo "${_i##*/}" > /sys/bus/usb/drivers_probe
    done
}

# qk_collect PATH...    copy files/directories into /qk/out (sent to the host
# at the end of the run, under WORK/out/qk/out/)
qk_collect() {
    for _p in "$@"; do cp -a "$_p" /qk/out/; done
}
