#!/usr/bin/env bash
# Installs what is missing, builds, and runs the whole test suite with ctest:
# first the release build, then the same suite under AddressSanitizer and
# UndefinedBehaviorSanitizer. Exit status is ctest's.
#   ./test.sh [--no-sanitizers]
set -euo pipefail
cd "$(dirname "$0")"

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
if [ "${1:-}" != "--no-sanitizers" ]; then
  echo "== asan-ubsan build =="
  run_suite build-asan -DCMAKE_BUILD_TYPE=Debug -DQKIOSK_SANITIZE=ON -DQKIOSK_BUILD_TESTS=ON
fi
