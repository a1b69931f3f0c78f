#!/usr/bin/env bash
# run.sh [--corpus DIR] [--sigs DIR] [--out FILE] [--runs N] [--tools LIST]
#        [--qkiosk PATH] [--cpus LIST] [--cold] [--retries N] [--no-wait-idle]
#
# Benchmarks, on the same files, signatures, limits and CPUs:
#   qkiosk   qkiosk scan --image CORPUS/stick.img --db SIGS --json -
#   clamscan clamscan -r --no-summary -d SIGS CORPUS/tree      (single-threaded)
#   clamd    private clamd (MaxThreads 3, DisableCache) +
#            clamdscan --multiscan --fdpass CORPUS/tree
# --sigs is one database directory, or a directory holding small/ and large/
# (then both sets are run). Prints a Markdown table and writes it to --out;
# raw numbers go to OUT.json, tool outputs to OUT.raw/.
# Before each run it waits (up to 5 min) for the machine to be idle; a run
# during which other processes used >10 % of the CPUs is re-run (--retries 2).
# Exit status: 0 all runs agree with the expected findings, 1 some do not,
# 2 bad arguments or missing corpus.
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(cd "$HERE/.." && pwd)
CORPUS=$HERE/work/corpus-1024
SIGS=$HERE/work/sigs
OUT=
RUNS=2
TOOLS=qkiosk,clamscan,clamd
QKIOSK=${QKIOSK:-$ROOT/build/bin/qkiosk}
CPUS=0-$(( $(nproc) - 1 ))
COLD=()
EXTRA=()

usage() { sed -n '2,16p' "$0" | sed 's/^# \{0,1\}//' >&2; exit 2; }
while [[ $# -gt 0 ]]; do
  [[ $1 == --cold || $1 == --no-wait-idle || $# -ge 2 ]] || usage
  case $1 in
    --corpus) CORPUS=$2; shift 2 ;;
    --sigs)   SIGS=$2; shift 2 ;;
    --out)    OUT=$2; shift 2 ;;
    --runs)   RUNS=$2; shift 2 ;;
    --tools)  TOOLS=$2; shift 2 ;;
    --qkiosk) QKIOSK=$2; shift 2 ;;
    --cpus)   CPUS=$2; shift 2 ;;
    --cold)   COLD=(--cold); shift ;;
    --retries) EXTRA+=(--retries "$2"); shift 2 ;;
    --no-wait-idle) EXTRA+=(--no-wait-idle); shift ;;
    *) usage ;;
  esac
done
[[ -n $OUT ]] || OUT=$HERE/work/results-$(basename "$CORPUS").md
for t in clamscan clamd clamdscan /usr/bin/time; do
  command -v "$t" >/dev/null || { echo "run.sh: $t not found (apt-get install clamav clamav-daemon time)" >&2; exit 2; }
done
[[ -d $CORPUS/tree && -f $CORPUS/stick.img ]] || { echo "run.sh: $CORPUS: no corpus (run make-corpus.sh $CORPUS)" >&2; exit 2; }
[[ -d $SIGS ]] || { echo "run.sh: $SIGS: no signatures (run make-sigs.sh $SIGS)" >&2; exit 2; }
mkdir -p "$(dirname "$OUT")"
exec "${PYTHON:-python3}" "$HERE/lib/bench.py" --corpus "$CORPUS" --sigs "$SIGS" --out "$OUT" \
  --runs "$RUNS" --tools "$TOOLS" --qkiosk "$QKIOSK" --cpus "$CPUS" "${COLD[@]}" "${EXTRA[@]}"
