#!/usr/bin/env bash
# run.sh - builds the libFuzzer harnesses (the fuzz preset: clang-14, ASan,
# UBSan, coverage) into build-fuzz/ and gives each a short run:
#   1. every saved input in tests/fuzz/regressions/<harness>/ is replayed once;
#   2. each harness fuzzes for SECONDS (default 60), two at a time, from a
#      fresh scratch corpus (in a temporary folder) plus its seed corpus
#      tests/fuzz/corpus/<harness>/, which is only read: tests/ is never written.
# Prints one line per harness with the executions done.
#   tests/fuzz/run.sh [SECONDS]        (or QKIOSK_FUZZ_SECONDS=N)
# Exit status: 0 nothing found; 1 a harness crashed, timed out, leaked or ran
# out of memory (the saved input's path is printed, under
# build-fuzz/fuzz-artifacts/); 2 build error; 77 clang or libFuzzer missing.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/../.."
ROOT=$PWD
SECS=${1:-${QKIOSK_FUZZ_SECONDS:-60}}
[[ $SECS =~ ^[1-9][0-9]*$ ]] || { echo "usage: tests/fuzz/run.sh [SECONDS]" >&2; exit 2; }
BUILD=$ROOT/build-fuzz
BIN=$BUILD/bin
HARNESSES=(fuzz_protocol fuzz_whitelist fuzz_usb_descriptors fuzz_media_reader fuzz_fat_volume fuzz_layout
           fuzz_virtual_disk fuzz_ticket fuzz_officer_request fuzz_status_line fuzz_zip_directory fuzz_installers)
# Inputs are bounded: a packet of the protocol (header + 64 KiB + 1, so an
# oversized one is tried too), a config file, a device's descriptors, a 1.25
# MiB disk image (the NTFS seed is 1 MiB + its backup boot sector), a 1 MiB
# FAT volume, the first MiB of a stick (its layout: tables, EBRs, GPT
# headers, boot sectors), a 1 MiB virtual disk file, a zip or a program of
# up to 256 KiB (a zip's end record searches its last 64 KiB).
declare -A MAX_LEN=([fuzz_protocol]=65545 [fuzz_whitelist]=16384 [fuzz_usb_descriptors]=8192
                    [fuzz_media_reader]=1310720 [fuzz_fat_volume]=1048576 [fuzz_layout]=1048576
                    [fuzz_virtual_disk]=1048576 [fuzz_ticket]=65536
                    [fuzz_officer_request]=8192 [fuzz_status_line]=8192 [fuzz_zip_directory]=262144 [fuzz_installers]=262144)

# ------------------------------------------------------------------ tools
for t in clang-14 clang++-14 cmake; do
  if ! command -v "$t" >/dev/null; then
    echo "run.sh: $t not found (Debian packages: clang libclang-rt-14-dev cmake): fuzzing SKIPPED" >&2
    exit 77
  fi
done
WORK=$(mktemp -d "${TMPDIR:-/tmp}/qkiosk-fuzz.XXXXXX")
trap 'rm -rf "$WORK"' EXIT
printf 'extern "C" int LLVMFuzzerTestOneInput(const unsigned char*, unsigned long) { return 0; }\n' > "$WORK/probe.cpp"
if ! clang++-14 -fsanitize=fuzzer,address,undefined "$WORK/probe.cpp" -o "$WORK/probe" 2>"$WORK/probe.err"; then
  echo "run.sh: clang++-14 cannot link libFuzzer (Debian package libclang-rt-14-dev): fuzzing SKIPPED" >&2
  head -n3 "$WORK/probe.err" >&2
  exit 77
fi

# ------------------------------------------------------------------ build
echo "== fuzz: building (cmake --preset fuzz -> build-fuzz) =="
if ! cmake --preset fuzz >"$WORK/configure.log" 2>&1; then
  cat "$WORK/configure.log" >&2
  echo "run.sh: configuring the fuzz build failed" >&2
  exit 2
fi
if ! cmake --build "$BUILD" -j"${QKIOSK_FUZZ_JOBS:-2}"; then
  echo "run.sh: building the fuzz harnesses failed" >&2
  exit 2
fi

# libtsk's own known leaks (tests/sanitizer/lsan.supp); UBSan findings are fatal.
export LSAN_OPTIONS="suppressions=$ROOT/tests/sanitizer/lsan.supp:print_suppressions=0"
export UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1"
ARTIFACTS=$BUILD/fuzz-artifacts
rm -rf "$ARTIFACTS"
COMMON=(-timeout=10 -rss_limit_mb=2048 -error_exitcode=1 -timeout_exitcode=1)
failed=0

# What libFuzzer saved, and why, from a log.
report_failure() { # report_failure HARNESS LOG
  local kind input
  kind=$(grep -m1 -oE 'ERROR: (libFuzzer: [a-z-]+|AddressSanitizer: [a-zA-Z-]+|LeakSanitizer: [a-z ]+)|runtime error: .*' "$2" || true)
  input=$(grep -oE 'Test unit written to .*' "$2" | tail -n1 | sed 's/^Test unit written to //' || true)
  echo "$1: FAILED: ${kind:-exit status non-zero}"
  [[ -n $input ]] && echo "$1:   input saved as $input"
  echo "$1:   log: $2 (first stack frames below)"
  # The first frames outside libFuzzer and the sanitizers' own machinery.
  grep -E '^ +#[0-9]+ |SUMMARY' "$2" |
    grep -vE ' in (fuzzer::|__sanitizer|__asan|__lsan|__ubsan|__interceptor|operator new|operator delete)' |
    head -n10 | cut -c1-220 | sed "s/^/$1:   /" || true
}

# ------------------------------------------------------------------ 1. regressions
mkdir -p "$BUILD/fuzz-logs"
echo "== fuzz: replaying tests/fuzz/regressions =="
for h in "${HARNESSES[@]}"; do
  inputs=()
  for f in "$ROOT/tests/fuzz/regressions/$h"/*; do [[ -f $f ]] && inputs+=("$f"); done
  if [[ ${#inputs[@]} -eq 0 ]]; then
    echo "$h: no regression inputs"
    continue
  fi
  log=$BUILD/fuzz-logs/$h.regressions.log
  if "$BIN/$h" "${COMMON[@]}" "${inputs[@]}" >"$log" 2>&1; then
    echo "$h: ${#inputs[@]} regression inputs ok"
  else
    echo "$h: FAILED on a regression input: $(grep -E '^Running: ' "$log" | tail -n1 | sed 's/^Running: //')"
    report_failure "$h" "$log"
    failed=1
  fi
done

# ------------------------------------------------------------------ 2. fuzzing
fuzz_one() { # fuzz_one HARNESS
  local h=$1 extra=()
  mkdir -p "$WORK/corpus/$h" "$ARTIFACTS/$h"
  [[ -f $ROOT/tests/fuzz/dict/$h.dict ]] && extra+=("-dict=$ROOT/tests/fuzz/dict/$h.dict")
  local rc=0
  "$BIN/$h" "${COMMON[@]}" -max_total_time="$SECS" -max_len="${MAX_LEN[$h]}" -print_final_stats=1 \
    -artifact_prefix="$ARTIFACTS/$h/" "${extra[@]}" \
    "$WORK/corpus/$h" "$ROOT/tests/fuzz/corpus/$h" >"$BUILD/fuzz-logs/$h.log" 2>&1 || rc=$?
  echo "$rc" >"$WORK/$h.rc"
}

echo "== fuzz: ${SECS} s per harness, two at a time =="
for (( i = 0; i < ${#HARNESSES[@]}; i += 2 )); do
  fuzz_one "${HARNESSES[i]}" &
  [[ -n ${HARNESSES[i + 1]:-} ]] && fuzz_one "${HARNESSES[i + 1]}" &
  wait
done
for h in "${HARNESSES[@]}"; do
  log=$BUILD/fuzz-logs/$h.log
  runs=$(grep -oE 'stat::number_of_executed_units: [0-9]+' "$log" | grep -oE '[0-9]+$' || echo "?")
  last=$(grep -E '^#[0-9]+' "$log" | tail -n1 || true)
  cov=$(grep -oE 'cov: [0-9]+' <<<"$last" | grep -oE '[0-9]+' || echo "?")
  corp=$(grep -oE 'corp: [0-9]+' <<<"$last" | grep -oE '[0-9]+' || echo "?")
  if [[ $(cat "$WORK/$h.rc") == 0 ]]; then
    echo "$h: $runs executions in ${SECS} s, coverage $cov edges, corpus $corp inputs: ok"
  else
    echo "$h: $runs executions before the failure"
    report_failure "$h" "$log"
    failed=1
  fi
done
if [[ $failed -ne 0 ]]; then
  echo "== fuzz: FAILED (add the input to tests/fuzz/regressions/<harness>/ once fixed, see tests/fuzz/README.md) =="
  exit 1
fi
echo "== fuzz: ok =="
