#!/usr/bin/env bash
# make-sigs.sh OUT_DIR
#
# Writes two deterministic ClamAV signature sets for the benchmark:
#   OUT_DIR/small/  qkiosk-test.hdb: EICAR and ClamAV's clam.exe (MD5 hash sigs)
#   OUT_DIR/large/  qkiosk-test.hdb + qkiosk-synth.hdb (1,000,000 MD5 sigs)
#                   + qkiosk-synth.ndb (50,000 body sigs, target types 0/1,
#                   some with ?? and * wildcards)
# and checks with clamscan that both sets load and detect the test files.
set -euo pipefail

usage() { echo "usage: $0 OUT_DIR [--hdb N] [--ndb N]" >&2; exit 2; }
[[ $# -ge 1 ]] || usage
OUT=$1; shift
EXTRA=()
while [[ $# -gt 0 ]]; do
  case $1 in
    --hdb|--ndb) [[ $# -ge 2 ]] || usage; EXTRA+=("$1" "$2"); shift 2 ;;
    *) usage ;;
  esac
done

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
PY=${PYTHON:-python3}
command -v clamscan >/dev/null || { echo "make-sigs.sh: clamscan not found (apt-get install clamav)" >&2; exit 2; }

mkdir -p "$OUT"
echo "make-sigs: writing $OUT/small and $OUT/large" >&2
"$PY" "$HERE/lib/gen_sigs.py" "$OUT" "${EXTRA[@]}"

# Check: both sets load, and detect EICAR and clam.exe.
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
printf '%s' 'X5O!P%@AP[4\PZX54(P^)7CC)7}$EICAR-STANDARD-ANTIVIRUS-TEST-FILE!$H+H*' > "$tmp/eicar.com"
probe=("$tmp/eicar.com")
if [[ -r /usr/share/clamav-testfiles/clam.exe ]]; then
  cp /usr/share/clamav-testfiles/clam.exe "$tmp/clam.exe"
  probe+=("$tmp/clam.exe")
else
  echo "make-sigs: note: clamav-testfiles not installed, checking EICAR only" >&2
fi
printf 'plain clean text\n' > "$tmp/clean.txt"
probe+=("$tmp/clean.txt")

for set in small large; do
  start=$(date +%s.%N)
  set +e
  out=$(clamscan -d "$OUT/$set" "${probe[@]}" 2>&1)
  rc=$?
  set -e
  end=$(date +%s.%N)
  known=$(sed -n 's/^Known viruses: //p' <<<"$out")
  found=$(grep -c ' FOUND$' <<<"$out" || true)
  if [[ $rc -ne 1 || $found -ne $(( ${#probe[@]} - 1 )) ]] || grep -q 'clean.txt: .*FOUND' <<<"$out"; then
    echo "make-sigs: clamscan check of $set/ failed (rc=$rc):" >&2
    echo "$out" >&2
    exit 2
  fi
  printf 'make-sigs: %-5s loads: %s signatures, %d/%d test files detected, %.1f s\n' \
    "$set" "$known" "$found" $(( ${#probe[@]} - 1 )) "$(echo "$end - $start" | bc)" >&2
done
( cd "$OUT" && find small large -type f -print0 | sort -z | xargs -0 sha256sum ) > "$OUT/SHA256SUMS"
echo "make-sigs: done; checksums in $OUT/SHA256SUMS" >&2
