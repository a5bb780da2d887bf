#!/usr/bin/env bash
# make test: the unit tests, uhvctl's tests (against a fake uhv), then the
# system tests; each prints its own "N passed, M failed" as its last line.
# This adds them up and prints the total as the very last line. Exit
# status 1 if anything failed or a suite did not report.
set -u
cd "$(dirname "${BASH_SOURCE[0]}")/.." || exit 2

total_pass=0
total_fail=0
bad=0

# run_suite NAME COMMAND...: runs it, streams its output, adds its counts.
run_suite() {
    local name=$1 out last
    shift
    echo "=== $name"
    out=$(mktemp)
    "$@" 2>&1 | tee "$out"
    last=$(grep -E '^[0-9]+ passed, [0-9]+ failed$' "$out" | tail -n 1)
    rm -f "$out"
    if [ -z "$last" ]; then
        echo "=== $name: no 'N passed, M failed' line: counted as 1 failure"
        total_fail=$((total_fail + 1))
        bad=1
        return
    fi
    total_pass=$((total_pass + ${last%% passed*}))
    last=${last#*, }
    total_fail=$((total_fail + ${last%% failed}))
}

run_suite "unit tests" make --no-print-directory test-unit-only
run_suite "uhvctl tests" make --no-print-directory test-uhvctl
run_suite "system tests" tests/system/run.sh "$@"
run_suite "storage tests" tests/system/storage.sh
run_suite "control channel tests" tests/system/control.sh
run_suite "guest agent tests" tests/system/agent-control.sh

echo "$total_pass passed, $total_fail failed"
[ "$total_fail" -eq 0 ] && [ "$bad" -eq 0 ]
