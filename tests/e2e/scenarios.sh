#!/usr/bin/env bash
# End-to-end device admission on a real Linux kernel (QEMU, TCG): the real
# `qkiosk run` daemon with its two workers, real xHCI/usb-storage, and
# dummy_hcd gadgets for devices QEMU cannot emulate (any VID/PID/serial, a
# composite storage+keyboard BadUSB). One scenario per call:
#
#   tests/e2e/scenarios.sh SCENARIO [BUILD_BIN_DIR]
#     coldplug      stick present at boot (authorized_default=0) -> admitted, scanned, FAIL report (EICAR)
#     hotplug       stick plugged into the running kiosk -> scanned, PASS report
#     badusb        composite storage+keyboard clone of the approved stick -> refused, keyboard never bound
#     approved      approved stick (whitelisted VID/PID/serial) -> only its storage interface authorized, PASS
#     unplug        stick pulled out in mid-scan -> FAIL read-error, the kiosk serves the next device
#
# Exit: 0 pass, 1 fail, 77 skipped (no QEMU/kernel, qkiosk not built).
set -euo pipefail
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
scenario=${1:?usage: scenarios.sh SCENARIO [BUILD_BIN_DIR]}
BIN=${2:-$ROOT/build/bin}
for b in qkiosk qkiosk-reader qkiosk-scanner; do
    [[ -x $BIN/$b ]] || { echo "scenarios.sh: SKIP: $BIN/$b not built" >&2; exit 77; }
done

WORK=$(mktemp -d "${TMPDIR:-/tmp}/qkiosk-e2e-$scenario.XXXXXX")
trap 'rm -rf "$WORK"' EXIT
mkdir -p "$WORK/db" "$WORK/clean/docs" "$WORK/infected/docs/deep" "$WORK/etc"
cp "$ROOT/tests/signatures/qkiosk-test.hdb" "$WORK/db/"
printf 'ward schedule\n' > "$WORK/clean/docs/schedule.txt"
printf 'ward schedule\n' > "$WORK/infected/docs/schedule.txt"
printf '%s%s' 'X5O!P%@AP[4\PZX54(P^)7CC)7}$' 'EICAR-STANDARD-ANTIVIRUS-TEST-FILE!$H+H*' > "$WORK/infected/docs/deep/eicar.com"
mkimg() { "$ROOT/tests/fixtures/make-image.sh" "$@" >/dev/null; }
mkimg "$WORK/clean.img" --fs fat32 --table mbr --size-mb 36 "$WORK/clean"
mkimg "$WORK/infected.img" --fs fat32 --table mbr --size-mb 36 "$WORK/infected"

cat > "$WORK/etc/qkiosk.toml" <<TOML
kiosk_id  = "e2e"
db_dir    = "/qk/db"
policy    = "/qk/etc/whitelist.toml"
spool_dir = "/var/spool/qkiosk"
[ticket]
archive = []   # the guest has no fonts; the ticket pictures are tested on the host (ticket_tests)
TOML
cat > "$WORK/etc/whitelist.toml" <<TOML
[[device]]
vendor_id  = "0781"
product_id = "5567"
serial     = "4C530001"
interfaces = ["08:06:50"]
owner      = "Example Medical Systems K.K."
purpose    = "CT firmware maintenance"
expires    = "2099-12-31"
TOML

vm=("$HERE/vm.sh" --work "$WORK/vm" --quiet --timeout 150
    --cmdline usbcore.authorized_default=0
    --add-bin "$BIN/qkiosk" --add-bin "$BIN/qkiosk-reader" --add-bin "$BIN/qkiosk-scanner"
    --add-file "$WORK/db:/qk/db" --add-file "$WORK/etc:/qk/etc"
    --add-file /usr/share/misc/magic.mgc:/usr/share/misc/magic.mgc
    --add-file "$HERE/scenarios/daemon.sh:/qk/daemon.sh"
    --collect /var/spool/qkiosk
    --script "$HERE/scenarios/$scenario.guest.sh")
case $scenario in
  coldplug) vm+=(--stick "$WORK/infected.img,serial=QK0001") ;;
  hotplug)  vm+=(--hotplug-stick "$WORK/clean.img,serial=QK0002@0") ;;
  badusb|approved) vm+=(--add-file "$WORK/clean.img:/qk/gadget.img") ;;
  unplug)
    # Large enough that the scan is still running when the stick is pulled.
    mkdir -p "$WORK/big"
    head -c 96M /dev/urandom > "$WORK/big/archive.bin"
    mkimg "$WORK/big.img" --fs fat32 --table mbr --size-mb 120 "$WORK/big"
    vm+=(--hotplug-stick "$WORK/big.img,serial=QK0003@0" --add-file "$WORK/clean.img:/qk/gadget.img") ;;
  *) echo "scenarios.sh: unknown scenario $scenario" >&2; exit 2 ;;
esac

set +e
"${vm[@]}"
rc=$?
set -e
[[ $rc -eq 0 ]] || { echo "scenarios.sh: $scenario: guest checks failed (exit $rc); console: $WORK/vm/console.log" >&2
                     tail -n 60 "$WORK/vm/console.log" >&2 || true; exit "$rc"; }

# Host side: the reports the kiosk wrote in the guest's spool.
spool=$WORK/vm/out/var/spool/qkiosk
python3 - "$scenario" "$spool" <<'PY'
import json, pathlib, sys
scenario, spool = sys.argv[1], pathlib.Path(sys.argv[2])
reports = sorted((json.loads(p.read_text()) for p in spool.glob("*.json")), key=lambda r: r["started"])
for r in reports:
    assert (spool / (r["ticket_id"] + ".ticket")).exists(), "ticket missing for " + r["ticket_id"]
def codes(r): return {x["code"] for x in r["reasons"]}
def check(cond, what):
    print(("ok - " if cond else "not ok - ") + what)
    if not cond: sys.exit(1)
check(len(reports) >= 1, "a report in the spool")
first = reports[0]
if scenario == "coldplug":
    check(first["verdict"] == "fail" and "infected" in codes(first), "the stick's EICAR file made it FAIL")
    check(any(x["path"] == "/p1/docs/deep/eicar.com" for x in first["reasons"]), "the finding names the file")
    check(first["device"]["vendor_id"] == "46f4" and first["device"]["serial"] == "QK0001", "the report names the device")
elif scenario == "hotplug":
    check(first["verdict"] == "pass" and first["files_scanned"] == 1, "the hot-plugged clean stick PASSed")
elif scenario == "badusb":
    check(first["verdict"] == "fail" and codes(first) == {"badusb"}, "the composite device was refused as badusb")
    check(first["device"]["interfaces"] == ["03:01:01", "08:06:50"], "both interfaces are on the record")
elif scenario == "approved":
    check(first["verdict"] == "pass", "the approved stick PASSed")
    check(first["device"]["approval"]["owner"] == "Example Medical Systems K.K.", "the approval is on the report")
elif scenario == "unplug":
    check(first["verdict"] == "fail" and "read-error" in codes(first), "the stick pulled in mid-scan is a FAIL with read-error")
    check(len(reports) == 2 and reports[1]["verdict"] == "pass", "the next device was served and PASSed")
print("host checks passed")
PY
