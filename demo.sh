#!/usr/bin/env bash
# The kiosk's main job on two demo sticks: installs what is missing, builds,
# makes a clean stick and an infected one (EICAR inside a zip, in a folder),
# and scans both with the bundled test signatures. Expected: FAIL with its
# reason, then PASS.
set -euo pipefail
cd "$(dirname "$0")"

scripts/install-deps.sh build
cmake -S . -B build -DCMAKE_BUILD_TYPE=Release -DQKIOSK_BUILD_TESTS=OFF >/dev/null
cmake --build build -j"$(nproc)" >/dev/null

demo=build/demo
rm -rf "$demo"
mkdir -p "$demo/stick/書類" "$demo/stick/photos"
printf '外来診療予定\n月曜: 内科 9:00-12:00\n火曜: 外科 13:00-17:00\n' > "$demo/stick/書類/診療予定.txt"
printf 'Handover notes for the night shift.\nBed 12: check blood pressure at 22:00.\n' > "$demo/stick/handover.txt"
printf 'item,count\ngloves,400\nmasks,1200\n' > "$demo/stick/supplies.csv"
# A small but valid PDF and PNG, so the demo has real document types.
python3 - "$demo/stick" <<'PY'
import sys, zlib, struct, pathlib
d = pathlib.Path(sys.argv[1])
body = b"BT /F1 18 Tf 72 720 Td (Ward 3 schedule) Tj ET"
objs = [b"<< /Type /Catalog /Pages 2 0 R >>", b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 4 0 R /Resources << /Font << /F1 5 0 R >> >> >>",
        b"<< /Length %d >>\nstream\n" % len(body) + body + b"\nendstream",
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>"]
out, offs = bytearray(b"%PDF-1.4\n"), []
for i, o in enumerate(objs, 1):
    offs.append(len(out)); out += b"%d 0 obj\n" % i + o + b"\nendobj\n"
xref = len(out)
out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objs) + 1) + b"".join(b"%010d 00000 n \n" % x for x in offs)
out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objs) + 1, xref)
(d / "schedule.pdf").write_bytes(bytes(out))
def chunk(t, data): return struct.pack(">I", len(data)) + t + data + struct.pack(">I", zlib.crc32(t + data))
raw = b"".join(b"\x00" + b"".join(bytes((x * 8, y * 8, 160)) for x in range(32)) for y in range(32))
png = b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", 32, 32, 8, 2, 0, 0, 0)) + chunk(b"IDAT", zlib.compress(raw)) + chunk(b"IEND", b"")
(d / "photos" / "ward.png").write_bytes(png)
PY

cp -r "$demo/stick" "$demo/stick-infected"
mkdir -p "$demo/zip/attachments/2026"
# The EICAR test string: harmless, detected by every virus scanner by design.
printf '%s%s' 'X5O!P%@AP[4\PZX54(P^)7CC)7}$' 'EICAR-STANDARD-ANTIVIRUS-TEST-FILE!$H+H*' > "$demo/zip/attachments/2026/invoice.com"
(cd "$demo/zip" && zip -q -r ../stick-infected/書類/attachments.zip attachments)

tests/fixtures/make-image.sh "$demo/clean.img" --fs fat32 --table mbr --label CLEAN "$demo/stick"
tests/fixtures/make-image.sh "$demo/infected.img" --fs fat32 --table mbr --label VENDOR "$demo/stick-infected"

db=tests/signatures
status=0
for img in infected clean; do
  echo
  echo "\$ qkiosk scan --image $demo/$img.img --db $db --json $demo/$img.json"
  build/bin/qkiosk scan --image "$demo/$img.img" --db "$db" --json "$demo/$img.json" && rc=0 || rc=$?
  echo "(exit status $rc)"
  case "$img:$rc" in infected:1|clean:0) ;; *) status=1 ;; esac
done
echo
echo "JSON reports: $demo/infected.json $demo/clean.json"
echo "The kiosk terminal on the same sticks (L switches the language, Q quits):"
echo "  build/bin/qkiosk ui --image $demo/infected.img --db $db"
exit $status
