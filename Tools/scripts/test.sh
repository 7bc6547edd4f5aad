#!/usr/bin/env bash
# The README's test command (and CI's): installs what is missing, checks the module layering,
# builds, and runs the whole test suite. Each step logs to .build-logs/; a failing step prints
# the tail of its log.
set -uo pipefail
cd "$(dirname "$0")/../.."
logs=.build-logs
mkdir -p "$logs"

step() {
  local name=$1; shift
  printf '== %s\n' "$name"
  if ! "$@" >"$logs/$name.log" 2>&1; then
    echo "FAILED: $name (log: $logs/$name.log)"
    tail -n 60 "$logs/$name.log"
    exit 1
  fi
}

step install bash Tools/scripts/install-deps.sh
step imports bash Tools/scripts/check-imports.sh
step build swift build --build-tests
# swift test's own summary lines are the result; they are printed in full.
printf '== test\n'
swift test >"$logs/test.log" 2>&1
status=$?
grep -E '✘|error:|Test run with|Executed [0-9]+ tests|recorded an issue|crashed' "$logs/test.log" | grep -v ' 0 tests' || true
if [ "$status" != 0 ]; then
  echo "FAILED: test (log: $logs/test.log)"
  grep -B2 -A20 -E '✘|crashed|Fatal error' "$logs/test.log" | head -n 120
  exit "$status"
fi
