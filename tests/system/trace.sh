#!/usr/bin/env bash
# Exit trace tests (docs/protocol.md "trace", docs/uhvctl.md): one boot of
# uhv under Bochs with the control channel (as tests/system/control.sh),
# a VM from uhv.cfg with `trace = console` running guest-tests/exitloop.c
# (each round one CPUID and a line on its UART, then a spin), and uhvctl
# reading its trace through the relay:
#   - the config key: uhv warns at the VM's start that its exits go to the
#     console, prints them there, and says how many its pace held back;
#   - paused, the VM's ring holds still, and uhvctl trace --after 0 pages
#     through all of it: CPUID, IN and OUT records whose RIPs are exactly
#     those instructions of exitloop.elf (objdump), with leaf 0x1 and
#     ports 0x3fd and 0x3f8, seqs without a gap;
#   - resumed, uhvctl trace --follow reports new records, each once and in
#     order, after the newest one seen while it was paused;
#   - --off stops the recording (the newest seq holds for seconds), --on
#     resumes it, its first record's delta 0 (the VM paused around it, so
#     that record is still held when it is read);
#   - a VM created at run time with --trace on keeps its last exits after
#     it stops: the last is its debug exit, OUT 0xf4;
#   - bad requests (an unknown VM, 'after' beyond the newest record, a
#     count out of range, a wrong type, an unknown field) get protocol
#     errors, and uhvctl's status 1;
#   - shutdown ends uhv with its summary.
# Prints PASS/FAIL lines and "N passed, M failed".
set -u
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
RUN=$ROOT/tools/uhv-run
CTL=$ROOT/build/tools/uhvctl
ELF=$ROOT/guest-tests/build/exitloop.elf
LOGS=$ROOT/build/test-logs/trace
PORT=${UHV_CTL_TEST_PORT:-$((20000 + RANDOM % 20000))}
pass=0 fail=0

ok()  { echo "PASS system/trace/$1${UHV_TEST_TIMES:+ (${SECONDS}s)}"; pass=$((pass + 1)); }
bad() { echo "FAIL system/trace/$1: $2"; fail=$((fail + 1)); }
u()   { "$CTL" --connect "127.0.0.1:$PORT" --timeout 60 "$@"; }

# newest VM: the newest record's seq in VM's trace
newest() { u --json trace "$1" --count 1 2>/dev/null | grep -o '"newest":[0-9]*' | cut -d: -f2; }

# raw LINE and expect_error NAME CODE LINE
. "$(dirname "${BASH_SOURCE[0]}")/ctl-client.sh"

# addr INSN: the addresses (0x..., as uhv prints a RIP) of exitloop.elf's
# instructions whose disassembly matches INSN (an ERE)
addr() {
    objdump -d "$ELF" | sed -nE "s/^ +([0-9a-f]+):\t([0-9a-f]{2} )+ *\t$1\$/0x\\1/p"
}

# seqs_in_order FILE: the records' seqs in FILE go up by one, or jump
# past a "records missed" line by as many as it says
seqs_in_order() {
    awk '/records missed/ { gap = $2; sub(/^\(/, "", gap); next }
         /^ *[0-9]/ { if (prev && $1 != prev + 1 + gap) exit 1; prev = $1; gap = 0 }' "$1"
}

rm -rf "$LOGS"; mkdir -p "$LOGS/files/images"
cp "$ELF" "$LOGS/files/images/"
CPUID_AT=$(addr 'cpuid')
OUT_AT=$(addr 'out +%al,\(%dx\)')
IN_AT=$(addr 'in +\(%dx\),%al')
F4_AT=$(addr 'out +%eax,\$0xf4')
if [ -z "$CPUID_AT" ] || [ -z "$OUT_AT" ] || [ -z "$IN_AT" ] || [ -z "$F4_AT" ]; then
    bad objdump "no cpuid, in, out or out 0xf4 instruction found in $ELF"
fi
cat > "$LOGS/uhv.cfg" <<'EOF'
control = on
images = images
reserve = 32M

[vm ex]
image = images/exitloop.elf
cmdline = period=25000000
trace = console
EOF
"$RUN" -q --config "$LOGS/uhv.cfg" --files "$LOGS/files" \
    --ctl-port "$PORT" --ctl-log "$LOGS/ctl.log" --log "$LOGS/uhv.log" \
    --timeout 900 --expect t2=exit >/dev/null &
upid=$!
for _ in $(seq 1 60); do u events --wait hello --timeout 300 >/dev/null 2>&1 && break; sleep 2; done
if u version | grep -q "protocol 1"; then ok version; else bad version "no answer from uhv"; fi
sleep 5                         # a few rounds of exitloop

# Paused, the ring holds still; all of it, page after page.
u pause ex >/dev/null
n1=$(newest ex); sleep 2; n2=$(newest ex)
if [ -n "$n1" ] && [ "$n1" = "$n2" ] && [ "$n1" -gt 256 ]; then ok paused-holds-still
else bad paused-holds-still "newest $n1 -> $n2 while paused (want equal, > 256)"; fi
u trace ex --after 0 --count 256 > "$LOGS/all.txt" 2>&1
if [ "$(grep -c '^ *[0-9]' "$LOGS/all.txt")" = 256 ] && seqs_in_order "$LOGS/all.txt" &&
   grep -q "^ *- ($((n1 - 256)) records missed" "$LOGS/all.txt"; then
    ok ring-paged-whole
else bad ring-paged-whole "want 256 records after $((n1 - 256)) missed (${LOGS#"$ROOT"/}/all.txt)"; fi
# each kind of exit at its instruction
rip_check() {   # rip_check NAME REASON ADDRS DETAIL
    local rips
    rips=$(awk -v r="$2" -v d="$4" '$3 == r && index($0, " " d " ") { print $4 }' "$LOGS/all.txt" | sort -u)
    if [ -n "$rips" ] && [ -z "$(comm -23 <(echo "$rips") <(echo "$3" | sort -u))" ]; then
        ok "$1"
    else bad "$1" "$2 '$4' at ${rips:-nowhere}; exitloop.elf has it at $(echo "$3" | tr '\n' ' ')"; fi
}
rip_check cpuid-rip CPUID "$CPUID_AT" "leaf 0x1 sub 0x0"
rip_check out-rip IO_INSTRUCTION "$OUT_AT" "out 0x3f8/1"
rip_check in-rip IO_INSTRUCTION "$IN_AT" "in 0x3fd/1"

# Resumed: --follow reports the new records, after those seen paused.
u resume ex >/dev/null
u trace ex --follow --count 40 --interval 0.2 > "$LOGS/follow.txt" 2>&1
first=$(awk '/^ *[0-9]/ { print $1; exit }' "$LOGS/follow.txt")
if [ "$(grep -c '^ *[0-9]' "$LOGS/follow.txt")" = 40 ] && seqs_in_order "$LOGS/follow.txt" &&
   [ -n "$(awk -v n="$n1" '/^ *[0-9]/ && $1 > n' "$LOGS/follow.txt")" ]; then
    ok follow-new-records
else bad follow-new-records "want 40 records in order, some after $n1 (first $first; ${LOGS#"$ROOT"/}/follow.txt)"; fi

# Off: nothing recorded; on again: recording, its first delta 0.
u trace ex --off > /dev/null 2>&1
o1=$(newest ex); sleep 3; o2=$(newest ex)
if [ -n "$o1" ] && [ "$o1" = "$o2" ] && u --json trace ex --count 1 2>/dev/null | grep -q '"on":false'; then
    ok off-stops
else bad off-stops "newest $o1 -> $o2 after --off"; fi
# (on while paused, then a moment of running: its first records stay in
# the ring however fast it exits, as it is paused again to read them)
u pause ex >/dev/null; u trace ex --on >/dev/null; u resume ex >/dev/null; u pause ex >/dev/null
first=$(u trace ex --after "$o2" --count 1 | grep -E '^ *[0-9]')
u resume ex >/dev/null; sleep 3
o3=$(newest ex)
if [ "${o3:-0}" -gt "${o2:-0}" ] && [[ $first =~ ^\ *$((o2 + 1))\ +0\ .*\ \+0$ ]]; then
    ok on-resumes
else bad on-resumes "newest $o2 -> $o3 after --on; the first record after it: ${first:-none} (want seq $((o2 + 1)), delta 0)"; fi

# A VM created with the trace on: its last exits outlive it.
u events --wait vm_stopped --vm t2 --timeout 300 > "$LOGS/t2.event" 2>&1 &
epid=$!
sleep 1
u create t2 --image images/exitloop.elf --trace on --cmdline "rounds=2 period=1000000" >/dev/null &&
    u start t2 >/dev/null
if wait "$epid" && grep -q 'result="exit" status=1' "$LOGS/t2.event"; then
    u trace t2 --count 3 > "$LOGS/t2.txt" 2>&1
    last=$(grep '^ *[0-9]' "$LOGS/t2.txt" | tail -n 1)
    if [[ $last =~ IO_INSTRUCTION\ +(0x[0-9a-f]+)\ +out\ 0xf4/4 ]] &&
       echo "$F4_AT" | grep -qx "${BASH_REMATCH[1]}"; then
        ok stopped-vm-keeps-its-trace
    else bad stopped-vm-keeps-its-trace "last record: ${last:-none}"; fi
else bad stopped-vm-keeps-its-trace "t2 did not pass: $(cat "$LOGS/t2.event")"; fi

# Bad requests.
expect_error no-such-vm no_such_vm '{"id":1,"cmd":"trace","vm":"nosuch"}\n'
expect_error after-beyond invalid_value '{"id":2,"cmd":"trace","vm":"ex","after":999999999}\n'
expect_error count-range invalid_value '{"id":3,"cmd":"trace","vm":"ex","count":16}\n'
expect_error on-type wrong_type '{"id":4,"cmd":"trace","vm":"ex","on":"yes"}\n'
expect_error unknown-field unknown_field '{"id":5,"cmd":"trace","vm":"ex","seq":1}\n'
out=$(u trace nosuch 2>&1); rc=$?
if [ "$rc" = 1 ] && [[ $out == *"no_such_vm"* ]]; then ok uhvctl-no-such-vm
else bad uhvctl-no-such-vm "status $rc: $out"; fi

# The end: shutdown; the console shows the config key at work.
u shutdown >/dev/null
if wait "$upid"; then ok shutdown; else bad shutdown "uhv-run failed (log: ${LOGS#"$ROOT"/}/uhv.log)"; fi
if grep -q "^uhv: vm ex: trace = console: its VM exits are printed here, at most 25 a second" "$LOGS/uhv.log" &&
   grep -qE "^uhv: trace ex #1 cpu0 CPUID rip $CPUID_AT leaf 0x1 sub 0x0 \+0$" "$LOGS/uhv.log" &&
   grep -qE "^uhv: trace ex #[0-9]+ cpu0 IO_INSTRUCTION rip 0x[0-9a-f]+ out 0x3f8/1 \+[0-9]+$" "$LOGS/uhv.log" &&
   grep -qE '^uhv: trace ex: [0-9]+ exits not printed \(at most 25 a second\)$' "$LOGS/uhv.log" &&
   grep -q '^uhv: vm ex: exit trace off (control channel)' "$LOGS/uhv.log" &&
   ! grep -q '^uhv: trace t2 ' "$LOGS/uhv.log"; then
    ok console-trace
else bad console-trace "uhv.log lacks the warning, the first exits or the pace line (${LOGS#"$ROOT"/}/uhv.log)"; fi
echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
