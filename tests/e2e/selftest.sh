#!/usr/bin/env bash
# selftest.sh - prove the QEMU end-to-end harness (vm.sh, gadget.sh) works on
# this machine. Each scenario boots a fresh guest (about 7-15 s each).
#
#   coldplug   (a) cold-plugged usb-storage 46f4:0001 is enumerated and gets
#                  /dev/sdX; guest writes do not reach the host image
#   authorize  (b) usbcore.authorized_default=0: the stick stays unbound;
#                  authorize device + storage interface + drivers_probe
#                  gives /dev/sdX
#   badusb     (c) composite gadget (storage + HID keyboard) on dummy_hcd
#                  with authorized_default=0: interfaces 08 and 03 visible,
#                  nothing bound; storage-only admission; storage-only gadget
#   hotplug    (d) stick hot-plugged after QK-READY-FOR-HOTPLUG is seen on the
#                  kernel's netlink uevent socket; QK-READY-FOR-UNPLUG removes it
#   unplug     (d) --unplug-after removes the hot-plugged stick by itself
#   collect    (e) files written in the guest come back intact (--collect,
#                  /qk/out); --add-bin with shared libraries, --add-file
#   status     guest exit status 3 becomes vm.sh's status
#   crash      a kernel panic in the guest gives 125
#   timeout    a guest that never ends is killed at --timeout: 124
#
# Usage: selftest.sh [-v] [-k] [SCENARIO...]     (default: all)
#   -v  stream the guest consoles;  -k  keep the work folder and print it
# Environment: QK_E2E_WORK (work folder, kept; default: a new temporary
#   folder, removed at the end unless -k),
#   QK_E2E_CACHE (initramfs cache shared between runs, default WORK/cache).
# Exit: 0 all passed, 1 something failed, 77 QEMU/kernel/busybox missing
# (every scenario skipped). Last line: "N passed, N failed, N skipped".
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
VM=$HERE/vm.sh
G=$HERE/selftest
VERBOSE=0 KEEP=0
while [[ $# -gt 0 && $1 == -* ]]; do
    case "$1" in -v) VERBOSE=1 ;; -k) KEEP=1 ;; *) echo "usage: $0 [-v] [-k] [SCENARIO...]" >&2; exit 2 ;; esac
    shift
done
ALL=(coldplug authorize badusb hotplug unplug collect status crash timeout)
if [[ $# -gt 0 ]]; then SCEN=("$@"); else SCEN=("${ALL[@]}"); fi

if [[ -n ${QK_E2E_WORK:-} ]]; then
    WORK=$QK_E2E_WORK; mkdir -p "$WORK"          # kept: it is yours
else
    WORK=$(mktemp -d "${TMPDIR:-/tmp}/qkiosk-e2e-selftest.XXXXXX")
    if [[ $KEEP -eq 1 ]]; then echo "work folder: $WORK"; else trap 'rm -rf "$WORK"' EXIT; fi
fi
CACHE=${QK_E2E_CACHE:-$WORK/cache}

# Stick image: 16 MiB of zeros with a marker at offset 0 (no file system is
# needed here, and nothing is ever mounted on the host).
STICK=$WORK/stick.img
rm -f "$STICK"; truncate -s 16M "$STICK"
printf 'QKIOSK-STICK-MARKER' | dd of="$STICK" conv=notrunc status=none
STICK_SHA=$(sha256sum < "$STICK")

PASS=0 FAIL=0 SKIP=0 SKIP_ALL=0
RESULTS=()

# run NAME EXPECTED_STATUS VM_ARGS...  -> sets LAST_RC, LAST_OUT
run() {
    local name=$1 want=$2; shift 2
    local out=$WORK/$name.out t0 t1 rc
    local q=(--quiet); [[ $VERBOSE -eq 1 ]] && q=()
    t0=$EPOCHREALTIME
    set +e
    "$VM" --work "$WORK/$name" --cache "$CACHE" "${q[@]}" "$@" > "$out" 2>&1
    rc=$?
    set -e
    t1=$EPOCHREALTIME
    [[ $VERBOSE -eq 1 ]] && cat "$out"
    LAST_SECS=$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.1f", b - a }')
    LAST_BOOT=$(sed -n 's/.*guest booted in \([0-9.?]*\)s.*/\1/p' "$out" | tail -n 1)
    if [[ $rc -eq 77 ]]; then
        SKIP_ALL=1
        grep 'SKIP' "$out" >&2 || true
        return 1
    fi
    if [[ $rc -ne $want ]]; then
        echo "--- $name: vm.sh status $rc, expected $want; output:" >&2
        cat "$out" >&2
        return 1
    fi
    return 0
}
record() {  # record NAME ok|fail [DETAIL]
    local r=$2
    if [[ $SKIP_ALL -eq 1 ]]; then r=skip; fi
    case $r in
        ok) PASS=$((PASS + 1)); r=PASS ;;
        fail) FAIL=$((FAIL + 1)); r=FAIL ;;
        skip) SKIP=$((SKIP + 1)); r=SKIP ;;
    esac
    RESULTS+=("$(printf '%-10s %-4s %6ss wall  guest boot %5ss  %s' "$1" "$r" "${LAST_SECS:-0}" "${LAST_BOOT:-?}" "${3:-}")")
    echo "${RESULTS[-1]}"
}

for s in "${SCEN[@]}"; do
    LAST_SECS="" LAST_BOOT=""
    if [[ $SKIP_ALL -eq 1 ]]; then record "$s" skip; continue; fi
    case $s in
        coldplug)
            if run coldplug 0 --stick "$STICK,serial=QKCOLD01" --script "$G/coldplug.sh" &&
               [[ $(sha256sum < "$STICK") == "$STICK_SHA" ]]; then
                record coldplug ok "(host image unchanged)"
            else record coldplug fail; fi ;;
        authorize)
            if run authorize 0 --cmdline usbcore.authorized_default=0 \
                   --stick "$STICK,serial=QKAUTH01" --script "$G/authorize.sh"; then
                record authorize ok
            else record authorize fail; fi ;;
        badusb)
            if run badusb 0 --cmdline usbcore.authorized_default=0 --script "$G/badusb.sh"; then
                record badusb ok
            else record badusb fail; fi ;;
        hotplug)
            if run hotplug 0 --hotplug-stick "$STICK,serial=QKHOT001@1" --script "$G/hotplug.sh"; then
                record hotplug ok
            else record hotplug fail; fi ;;
        unplug)
            if run unplug 0 --hotplug-stick "$STICK@0" --unplug-after 3 \
                   --script "$G/unplug-after.sh"; then
                record unplug ok
            else record unplug fail; fi ;;
        collect)
            extra=(--add-file "$G:/opt/qk-data")
            if [[ -x /usr/bin/file && -f /usr/share/misc/magic.mgc ]]; then
                extra+=(--add-bin /usr/bin/file --add-file /usr/share/misc/magic.mgc:/usr/share/misc/magic.mgc)
            fi
            if run collect 0 --script "$G/collect.sh" --collect /var/spool/qkiosk \
                   --collect '/var/log/qk-*.txt' "${extra[@]}" &&
               [[ -s $WORK/collect/out/qk/out/SHA256SUMS ]] &&
               (cd "$WORK/collect/out" && sha256sum --quiet -c qk/out/SHA256SUMS) &&
               ls "$WORK"/collect/out/var/spool/qkiosk/*.json >/dev/null 2>&1; then
                n=$(wc -l < "$WORK/collect/out/qk/out/SHA256SUMS")
                record collect ok "($n files, sha256 match)"
            else record collect fail; fi ;;
        status)
            if run status 3 --script "$G/status.sh"; then record status ok
            else record status fail; fi ;;
        crash)
            if run crash 125 --script "$G/crash.sh"; then record crash ok
            else record crash fail; fi ;;
        timeout)
            if run timeout 124 --timeout 15 --script "$G/timeout.sh"; then record timeout ok
            else record timeout fail; fi ;;
        *) echo "selftest.sh: unknown scenario '$s' (${ALL[*]})" >&2; exit 2 ;;
    esac
done

echo
printf '%s\n' "${RESULTS[@]}"
echo "$PASS passed, $FAIL failed, $SKIP skipped"
if [[ $FAIL -gt 0 ]]; then exit 1; fi
if [[ $SKIP_ALL -eq 1 ]]; then exit 77; fi
exit 0
