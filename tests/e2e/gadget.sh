#!/bin/sh
# gadget.sh - a USB device of our own making, plugged into the guest through
# dummy_hcd and a configfs gadget (runs INSIDE the e2e guest, busybox sh).
#
# Usage:
#   gadget.sh storage   IMG VID PID SERIAL   mass storage only
#   gadget.sh composite IMG VID PID SERIAL   mass storage + HID boot keyboard
#                                           (a "BadUSB")
#   gadget.sh FUNCS     IMG VID PID SERIAL   FUNCS: functions joined by '+',
#                                           in interface order, from
#                                           ms (mass storage), hid (keyboard),
#                                           acm (serial), ecm (ethernet);
#                                           e.g. ms+acm, hid+ms, ms+ecm
#   gadget.sh remove                        unplug and delete the gadget
#
# VID/PID are 4 hex digits (without 0x). IMG is a file inside the guest
# (e.g. added with vm.sh --add-file, or made with dd in /tmp); it is exported
# read-only unless GADGET_RW=1. SERIAL may be "" for a device without serial.
# Environment: GADGET_NAME (default qk), GADGET_MANUFACTURER, GADGET_PRODUCT.
#
# The device appears on the dummy_hcd bus (a new USB bus, e.g. usb3) as soon
# as the gadget is bound to the dummy UDC; with usbcore.authorized_default=0
# it stays unauthorized like any other new device.
# Prints the UDC name on success; exit 0 ok, 1 failure, 2 bad arguments.
set -e

CFG=/sys/kernel/config/usb_gadget
NAME=${GADGET_NAME:-qk}
G=$CFG/$NAME

die() { echo "gadget.sh: $*" >&2; exit 1; }
usage() { sed -n '2,26p' "$0" >&2; exit 2; }

load_modules() {
    for m in libcomposite dummy_hcd "$@"; do
        modprobe "$m" 2>/dev/null || die "cannot load module $m"
    done
    if [ ! -d $CFG ]; then
        mountpoint -q /sys/kernel/config || mount -t configfs configfs /sys/kernel/config
    fi
    [ -d $CFG ] || die "$CFG missing (configfs / libcomposite)"
}

# Standard boot-keyboard report descriptor (63 bytes, see the kernel's
# Documentation/usb/gadget_hid.rst), written as octal escapes for busybox.
write_kbd_report_desc() {
    printf '\005\001\011\006\241\001\005\007\031\340\051\347\025\000\045\001'
    printf '\165\001\225\010\201\002\225\001\165\010\201\003\225\005\165\001'
    printf '\005\010\031\001\051\005\221\002\225\001\165\003\221\003\225\006'
    printf '\165\010\025\000\045\145\005\007\031\000\051\145\201\000\300'
}

remove_gadget() {
    [ -d "$G" ] || return 0
    [ -n "$(cat "$G/UDC" 2>/dev/null)" ] && echo "" > "$G/UDC"
    for l in "$G"/configs/*/*.*; do [ -L "$l" ] && rm "$l"; done
    for s in "$G"/configs/*/strings/*; do [ -d "$s" ] && rmdir "$s"; done
    for c in "$G"/configs/*; do [ -d "$c" ] && rmdir "$c"; done
    for f in "$G"/functions/*; do [ -d "$f" ] && rmdir "$f"; done
    for s in "$G"/strings/*; do [ -d "$s" ] && rmdir "$s"; done
    rmdir "$G"
}

[ $# -ge 1 ] || usage
mode=$1; shift
case "$mode" in
    remove) remove_gadget; exit 0 ;;
    storage) funcs=ms ;;
    composite) funcs=ms+hid ;;
    -h|--help) usage ;;
    *) funcs=$mode ;;
esac
[ $# -eq 4 ] || usage
img=$1 vid=$2 pid=$3 serial=$4
echo "$vid" | grep -Eqi '^[0-9a-f]{4}$' || { echo "gadget.sh: bad VID '$vid'" >&2; exit 2; }
echo "$pid" | grep -Eqi '^[0-9a-f]{4}$' || { echo "gadget.sh: bad PID '$pid'" >&2; exit 2; }

mods=""
for f in $(echo "$funcs" | tr '+' ' '); do
    case "$f" in
        ms)  mods="$mods usb_f_mass_storage"
             [ -f "$img" ] || [ -b "$img" ] || { echo "gadget.sh: no image '$img'" >&2; exit 2; } ;;
        hid) mods="$mods usb_f_hid" ;;
        acm) mods="$mods usb_f_acm" ;;
        ecm) mods="$mods usb_f_ecm" ;;
        *) echo "gadget.sh: unknown function '$f' (ms, hid, acm, ecm)" >&2; exit 2 ;;
    esac
done
load_modules $mods
[ -d "$G" ] && die "gadget $NAME exists already (gadget.sh remove first)"

mkdir "$G"
echo "0x$vid" > "$G/idVendor"
echo "0x$pid" > "$G/idProduct"
echo 0x0100 > "$G/bcdDevice"
echo 0x0200 > "$G/bcdUSB"
mkdir "$G/strings/0x409"
echo "${GADGET_MANUFACTURER:-qkiosk e2e}" > "$G/strings/0x409/manufacturer"
echo "${GADGET_PRODUCT:-qkiosk test gadget ($funcs)}" > "$G/strings/0x409/product"
[ -n "$serial" ] && echo "$serial" > "$G/strings/0x409/serialnumber"
mkdir "$G/configs/c.1"
mkdir "$G/configs/c.1/strings/0x409"
echo "$funcs" > "$G/configs/c.1/strings/0x409/configuration"
echo 100 > "$G/configs/c.1/MaxPower"

n=0
for f in $(echo "$funcs" | tr '+' ' '); do
    case "$f" in
        ms)
            d=$G/functions/mass_storage.$n
            mkdir "$d"
            echo 1 > "$d/stall"
            echo 1 > "$d/lun.0/removable"
            if [ "${GADGET_RW:-0}" = 1 ]; then echo 0 > "$d/lun.0/ro"; else echo 1 > "$d/lun.0/ro"; fi
            echo "$img" > "$d/lun.0/file"
            ;;
        hid)
            d=$G/functions/hid.$n
            mkdir "$d"
            echo 1 > "$d/protocol"       # keyboard
            echo 1 > "$d/subclass"       # boot interface
            echo 8 > "$d/report_length"
            # configfs takes the descriptor in one write(): stage it first.
            write_kbd_report_desc > /tmp/.gadget-report-desc
            cat /tmp/.gadget-report-desc > "$d/report_desc"
            rm -f /tmp/.gadget-report-desc
            ;;
        acm) d=$G/functions/acm.$n; mkdir "$d" ;;
        ecm) d=$G/functions/ecm.$n; mkdir "$d" ;;
    esac
    ln -s "$d" "$G/configs/c.1/"
    n=$((n + 1))
done

udc=$(ls /sys/class/udc | head -n 1)
[ -n "$udc" ] || die "no UDC (dummy_hcd not loaded?)"
echo "$udc" > "$G/UDC"
echo "$udc"
