#!/usr/bin/env bash
# Example: the real qkiosk binaries in the QEMU guest scan a FAT32 stick that
# holds the EICAR test string, and the JSON report comes back to the host.
#   examples/scan-device.sh [BUILD_BIN_DIR]     (default: build/bin)
# Exit: 0 ok, 1 failure, 77 skipped (no QEMU, or qkiosk not built).
set -euo pipefail
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(cd "$HERE/../../.." && pwd)
BIN=${1:-$ROOT/build/bin}
for b in qkiosk qkiosk-reader qkiosk-scanner; do
    [[ -x $BIN/$b ]] || { echo "scan-device.sh: SKIP: $BIN/$b not built" >&2; exit 77; }
done
if [[ -n ${QK_E2E_WORK:-} ]]; then
    WORK=$QK_E2E_WORK
else
    WORK=$(mktemp -d "${TMPDIR:-/tmp}/qkiosk-e2e-scan.XXXXXX")
    trap 'rm -rf "$WORK"' EXIT
fi
mkdir -p "$WORK/tree/docs" "$WORK/db"
echo hello > "$WORK/tree/docs/readme.txt"
printf '%s' 'X5O!P%@AP[4\PZX54(P^)7CC)7}$EICAR-STANDARD-ANTIVIRUS-TEST-FILE!$H+H*' \
    > "$WORK/tree/docs/eicar.com"
cp "$ROOT/tests/signatures/qkiosk-test.hdb" "$WORK/db/"
"$ROOT/tests/fixtures/make-image.sh" "$WORK/stick.img" --fs fat32 --table mbr \
    --size-mb 40 "$WORK/tree" >/dev/null

set +e
"$HERE/../vm.sh" --work "$WORK/vm" --quiet \
    --cmdline usbcore.authorized_default=0 \
    --stick "$WORK/stick.img,serial=4C530001" \
    --add-bin "$BIN/qkiosk" --add-bin "$BIN/qkiosk-reader" --add-bin "$BIN/qkiosk-scanner" \
    --add-file "$WORK/db:/qk/db" \
    --add-file /usr/share/misc/magic.mgc:/usr/share/misc/magic.mgc \
    --collect /var/spool/qkiosk \
    --script "$HERE/scan-device.guest.sh"
rc=$?
set -e
[[ $rc -eq 0 ]] || exit "$rc"
report=$WORK/vm/out/var/spool/qkiosk/report.json
grep -q '"verdict": *"fail"' "$report" && grep -q 'EICAR' "$report" || {
    echo "scan-device.sh: unexpected report $report" >&2; exit 1; }
echo "report (from the guest):"
cat "$report"
