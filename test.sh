#!/usr/bin/env bash
# Installs what is missing, builds, and runs the whole test suite with ctest:
# first the release build, then the same suite under AddressSanitizer and
# UndefinedBehaviorSanitizer, then a short run of every fuzz harness
# (tests/fuzz/run.sh: clang, libFuzzer, 10 s each, after every saved input in
# tests/fuzz/regressions is replayed; fuzz longer by hand with
# tests/fuzz/run.sh 600). Exit status is ctest's, or run.sh's for the fuzz
# stage.
#   ./test.sh [--fast] [--no-sanitizers] [--no-fuzz]
# --fast: the release build and its `unit` tests only (no image, no tool, no
# VM: under a minute once built); every slow check (label `slow`: real images,
# services, QEMU) and the other two stages are what ./test.sh, and CI, add.
# The time each stage took is printed at the end.
set -euo pipefail
cd "$(dirname "$0")"

sanitizers=1 fuzz=1 labels=()
for arg in "$@"; do
  case "$arg" in
    --fast) sanitizers=0 fuzz=0 labels=(-L unit) ;;
    --no-sanitizers) sanitizers=0 ;;
    --no-fuzz) fuzz=0 ;;
    *) echo "usage: ./test.sh [--fast] [--no-sanitizers] [--no-fuzz]" >&2; exit 2 ;;
  esac
done
start=$SECONDS
times=()
stage_done() { times+=("$1: $((SECONDS - stage_start)) s"); }

stage_start=$SECONDS
scripts/install-deps.sh test
stage_done "install"

jobs=$(nproc)
run_suite() {
  local dir=$1; shift
  cmake -S . -B "$dir" "$@" >/dev/null
  stage_start=$SECONDS
  cmake --build "$dir" -j"$jobs"
  stage_done "$dir: build"
  stage_start=$SECONDS
  (cd "$dir" && ctest -j"$jobs" --output-on-failure --timeout 600 "${labels[@]}")
  stage_done "$dir: ctest"
}

echo "== release build =="
run_suite build -DCMAKE_BUILD_TYPE=Release -DQKIOSK_BUILD_TESTS=ON
if [ "$sanitizers" = 1 ]; then
  echo "== asan-ubsan build =="
  run_suite build-asan -DCMAKE_BUILD_TYPE=Debug -DQKIOSK_SANITIZE=ON -DQKIOSK_BUILD_TESTS=ON
fi
if [ "$fuzz" = 1 ]; then
  echo "== fuzz (tests/fuzz/run.sh) =="
  rc=0
  stage_start=$SECONDS
  QKIOSK_FUZZ_JOBS=$jobs tests/fuzz/run.sh 10 || rc=$?
  stage_done "fuzz"
  if [ "$rc" = 77 ]; then
    echo "== fuzz: SKIPPED (clang or libFuzzer missing) =="
  elif [ "$rc" != 0 ]; then
    exit "$rc"
  fi
fi
echo "== times: $(IFS=,; echo "${times[*]}" | sed 's/,/, /g'); total $((SECONDS - start)) s =="
