#!/usr/bin/env bash
# Installs what is missing, builds, and runs the whole test suite with ctest:
# first the release build, then the same suite under AddressSanitizer and
# UndefinedBehaviorSanitizer, then a short run of every fuzz harness
# (tests/fuzz/run.sh: clang, libFuzzer, about a minute each). Exit status is
# ctest's, or run.sh's for the fuzz stage.
#   ./test.sh [--no-sanitizers] [--no-fuzz]
set -euo pipefail
cd "$(dirname "$0")"

sanitizers=1 fuzz=1
for arg in "$@"; do
  case "$arg" in
    --no-sanitizers) sanitizers=0 ;;
    --no-fuzz) fuzz=0 ;;
    *) echo "usage: ./test.sh [--no-sanitizers] [--no-fuzz]" >&2; exit 2 ;;
  esac
done

scripts/install-deps.sh test

jobs=$(nproc)
run_suite() {
  local dir=$1; shift
  cmake -S . -B "$dir" "$@" >/dev/null
  cmake --build "$dir" -j"$jobs"
  (cd "$dir" && ctest -j"$jobs" --output-on-failure --timeout 600)
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
  QKIOSK_FUZZ_JOBS=$jobs tests/fuzz/run.sh || rc=$?
  if [ "$rc" = 77 ]; then
    echo "== fuzz: SKIPPED (clang or libFuzzer missing) =="
  elif [ "$rc" != 0 ]; then
    exit "$rc"
  fi
fi
