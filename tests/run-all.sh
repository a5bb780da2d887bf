#!/usr/bin/env bash
# make test: the harness's own tests, the run tool's verdicts (a fake
# QEMU), the layering rules (docs/layering.md), the examples in README.md
# and docs/, the unit tests, uhvctl's tests (against a fake uhv), then the
# system tests. Each suite prints its own
# "N passed, M failed" or "N passed, M failed, K skipped" as its last count
# line; this adds them up and prints the total as the very last line,
# "N passed, M failed, K skipped". A suite that prints no count, or whose
# exit status says it failed while its count has no failure, adds one
# failure. Exit status 1 if anything failed.
#
# usage: tests/run-all.sh [ARGS...]              ARGS go to tests/system/run.sh
#        tests/run-all.sh --suite NAME COMMAND ...  only these suites (COMMAND
#                                                   runs under bash -c; for
#                                                   tests/harness/run.sh)
set -u
cd "$(dirname "${BASH_SOURCE[0]}")/.." || exit 2

total_pass=0
total_fail=0
total_skip=0

# run_suite NAME COMMAND...: runs it, streams its output, adds its counts.
run_suite() {
    local name=$1 out last rc p f s=0
    shift
    echo "=== $name"
    out=$(mktemp)
    "$@" 2>&1 | tee "$out"
    rc=${PIPESTATUS[0]}
    last=$(grep -E '^[0-9]+ passed, [0-9]+ failed(, [0-9]+ skipped)?$' "$out" | tail -n 1)
    rm -f "$out"
    if [ -z "$last" ]; then
        echo "=== $name: no 'N passed, M failed' line (exit status $rc): counted as 1 failure"
        total_fail=$((total_fail + 1))
        return
    fi
    [[ $last =~ ^([0-9]+)\ passed,\ ([0-9]+)\ failed(,\ ([0-9]+)\ skipped)?$ ]]
    p=${BASH_REMATCH[1]} f=${BASH_REMATCH[2]} s=${BASH_REMATCH[4]:-0}
    if [ "$rc" -ne 0 ] && [ "$f" -eq 0 ]; then
        echo "=== $name: exit status $rc after '$last': counted as 1 failure"
        f=1
    fi
    total_pass=$((total_pass + p))
    total_fail=$((total_fail + f))
    total_skip=$((total_skip + s))
}

if [ "${1:-}" = --suite ]; then
    while [ $# -gt 0 ]; do
        [ "$1" = --suite ] && [ $# -ge 3 ] || { echo "run-all.sh: want --suite NAME COMMAND" >&2; exit 3; }
        run_suite "$2" bash -c "$3"
        shift 3
    done
else
    run_suite "harness tests" tests/harness/run.sh
    run_suite "run tool tests" tests/harness/uhv-run.sh
    run_suite "layering tests" tests/layering/run.sh
    run_suite "documentation tests" tests/docs/run.sh
    run_suite "unit tests" make --no-print-directory test-unit-only
    run_suite "uhvctl tests" make --no-print-directory test-uhvctl
    run_suite "system tests" tests/system/run.sh "$@"
    run_suite "storage tests" tests/system/storage.sh
    run_suite "NIC tests" tests/system/nic.sh
    run_suite "bridged network tests" tests/system/bridged.sh
    run_suite "LAN tests (NAT and bridged)" tests/system/lan.sh
    run_suite "control channel tests" tests/system/control.sh
    run_suite "exit trace tests" tests/system/trace.sh
    run_suite "guest agent tests" tests/system/agent-control.sh
    run_suite "gdb tests" tests/system/gdb.sh
fi

echo "$total_pass passed, $total_fail failed, $total_skip skipped"
[ "$total_fail" -eq 0 ]
