#!/usr/bin/env bash
# uhvctl's tests, without an emulator: a fake uhv (tests/uhvctl/fake_uhv.c:
# uhv's own protocol code behind simulated VMs whose counters advance)
# takes the one connection of `uhvctl relay`, as Bochs's COM2 socket
# would, and every uhvctl command is driven through the relay: human and
# --json output, error replies and exit statuses, unreachable uhv, a
# silent uhv, events --wait, several clients at once with the same ids,
# raw malformed lines, top, record and plot, gdb (a stand-in for gdb,
# tests/uhvctl/gdb_client.py, against the fake's tiny stub); argument
# errors are found before connecting.
#
# usage: tests/uhvctl/run.sh   (after make uhvctl build/tests/fake_uhv)
# Last line: "N passed, M failed"; exit status 1 if any failed.
set -u
export LC_ALL=C
cd "$(dirname "${BASH_SOURCE[0]}")/../.." || exit 2
ROOT=$PWD
UHVCTL=$ROOT/build/tools/uhvctl
FAKE=$ROOT/build/tests/fake_uhv
T=$(mktemp -d "${TMPDIR:-/tmp}/uhvctl-test.XXXXXX") || exit 2
PASS=0
FAIL=0
PIDS=()

cleanup() {
    local p
    for p in "${PIDS[@]+"${PIDS[@]}"}"; do kill "$p" 2>/dev/null; wait "$p" 2>/dev/null; done
    rm -rf "$T"
}
trap cleanup EXIT

ok()   { PASS=$((PASS + 1)); echo "PASS: $1"; }
bad()  { FAIL=$((FAIL + 1)); echo "FAIL: $1"; sed 's/^/    | /' "$T/out" "$T/err" 2>/dev/null | head -n 20; }

# run ARGS...: uhvctl through the relay; sets RC, output in $T/out, $T/err
run() { "$UHVCTL" --connect "127.0.0.1:$RELAY_PORT" "$@" > "$T/out" 2> "$T/err"; RC=$?; }
# expect NAME RC REGEX [FILE]: the last run's status is RC and FILE
# (default: its stdout) matches the extended regex
expect() {
    local f=${4:-$T/out}
    if [ "$RC" = "$2" ] && grep -Eq -- "$3" "$f"; then ok "$1"; else bad "$1 (status $RC, wanted $2; /$3/)"; fi
}

port_free() { ! grep -qs "$(printf ':%04X ' "$1")" /proc/net/tcp /proc/net/tcp6; }
pick_port() { local p; while :; do p=$((20000 + RANDOM % 12000)); port_free "$p" && break; done; echo "$p"; }
wait_port() { local i; for i in $(seq 100); do ! port_free "$1" && return 0; sleep 0.05; done; return 1; }

[ -x "$UHVCTL" ] && [ -x "$FAKE" ] || { echo "build uhvctl and fake_uhv first (make test-uhvctl)"; echo "0 passed, 1 failed"; exit 1; }

SERIAL_PORT=$(pick_port)
FAKE_GDB_LOG=$T/gdb.log "$FAKE" "$SERIAL_PORT" & PIDS+=($!); FAKE_PID=$!
wait_port "$SERIAL_PORT"
RELAY_PORT=$(pick_port)
"$UHVCTL" relay --serial "127.0.0.1:$SERIAL_PORT" --listen "127.0.0.1:$RELAY_PORT" --log "$T/ctl.log" &
PIDS+=($!); RELAY_PID=$!
wait_port "$RELAY_PORT"
for i in $(seq 50); do grep -q '"event":"hello"' "$T/ctl.log" 2>/dev/null && break; sleep 0.05; done

# ---- read-only commands
run version;            expect "version" 0 '^uhv 0\.1-fake, protocol 1$'
run --json version;     expect "version --json is uhv's line" 0 '^\{"id":[0-9]+,"ok":true,"protocol":1,"uhv":"0\.1-fake"\}$'
run list;               expect "list: header" 0 '^ Name +State$'
expect "list: alpha running" 0 '^ alpha +running$'
run --json list;        expect "list --json" 0 '"vms":\[\{"vm":"alpha","state":"running"\},\{"vm":"beta","state":"running"\}\]'
run info alpha;         expect "info: agent" 0 '^agent +true$'
run info nope;          expect "info of no VM: status 1, code and message" 1 "no_such_vm: no VM named 'nope'" "$T/err"
run --json info nope;   expect "info --json of no VM: the error line" 1 '"ok":false,"error":\{"code":"no_such_vm"'
run stats alpha;        expect "stats VM: by reason" 0 '^  IO_INSTRUCTION +[1-9][0-9]*$'
run stats;              expect "stats of all: a row per VM" 0 '^ beta +running +[1-9][0-9]* '
run --json stats;       expect "stats --json: one reply line per VM" 0 '^\{"id":[0-9]+,"ok":true,"vm":"beta","state":"running",'
[ "$(wc -l < "$T/out")" = 2 ] && ok "stats --json: two lines" || bad "stats --json lines"
run stats beta;         expect "stats VM: CPU time" 0 '^cpu time: +[0-9]+\.[0-9]{6} s$'
expect "stats VM: disks table" 0 '^  +beta\.img +[1-9][0-9]* +[1-9][0-9]* '
expect "stats VM: nics table" 0 '^  +02:00:00:00:00:02 +lan +[1-9]'
[ "$(grep -c '"cmd":"stats"' "$T/ctl.log")" -ge 4 ] && ok "stats of all: list, then stats per VM" || bad "stats of all"

# ---- the exit trace (the fake's traced VM exits every 5 ms: CPUID leaf 1
# at 0x100010, then OUT 0x3f8 at 0x100020, 256 records held)
run trace alpha;        expect "trace: off at first, said so" 0 "exit trace of VM 'alpha' is off \(uhvctl trace alpha --on\)" "$T/err"
[ "$(wc -l < "$T/out")" = 1 ] && ok "trace: off, only the header" || bad "trace off: $(cat "$T/out")"
run trace alpha --on --count 1; expect "trace --on" 0 '^ +SEQ CPU REASON +RIP +DETAIL +\+TSC$'
grep -q '{"vm":"alpha","on":true,"count":1,' "$T/ctl.log" && ok "trace --on: sent" || bad "trace --on not sent"
sleep 0.3
run trace alpha --count 4; expect "trace: a CPUID record" 0 '^ +[0-9]+ +0 CPUID +0x100010 +leaf 0x1 sub 0x0 +\+15000000$'
expect "trace: an I/O record" 0 '^ +[0-9]+ +0 IO_INSTRUCTION +0x100020 +out 0x3f8/1 +\+15000000$'
[ "$(grep -c '^ *[0-9]' "$T/out")" = 4 ] && ok "trace --count 4: four records" || bad "trace --count 4"
run trace alpha --after 0 --count 2; expect "trace --after 0: from seq 1, delta 0" 0 '^ +1 +0 CPUID +0x100010 +leaf 0x1 sub 0x0 +\+0$'
run --json trace alpha --count 2; expect "trace --json: uhv's line" 0 '^\{"id":[0-9]+,"ok":true,"vm":"alpha","on":true,"console":false,"newest":[0-9]+,"missed":0,"records":\[\[[0-9]+,0,"'
run trace alpha --count 40; expect "trace --count 40: pages" 0 '^ +[0-9]+ +0 '
[ "$(grep -c '^ *[0-9]' "$T/out")" = 40 ] && ok "trace --count 40: forty records" || bad "trace --count 40: $(grep -c '^ *[0-9]' "$T/out")"
run trace alpha --follow --count 60 --interval 0.1
n0=$(awk '/^ *[0-9]/ { print $1; exit }' "$T/out")
if [ "$RC" = 0 ] && [ "$(grep -c '^ *[0-9]' "$T/out")" = 60 ] &&
   awk -v s="$n0" '/^ *[0-9]/ { if ($1 != s++) exit 1 }' "$T/out"; then
    ok "trace --follow: 60 records, each seq once, in order, new ones included"
else bad "trace --follow (status $RC)"; fi
run --json trace alpha --count 1; last=$(grep -o '"newest":[0-9]*' "$T/out" | cut -d: -f2)
sleep 1.5                       # 300 more: the ring's 256 overwrite some
run trace alpha --after "$last" --count 3
expect "trace --after: the overwritten ones said" 0 '^ +- \(([4-9][0-9]|[1-9][0-9][0-9]) records missed: uhv overwrote them before uhvctl asked\)$'
run trace nope;         expect "trace: no such VM" 1 "no_such_vm: no VM named 'nope'" "$T/err"
run trace alpha --after 99999999; expect "trace --after beyond the newest: invalid_value" 1 "invalid_value: 'after' 99999999 is beyond the newest record of VM 'alpha'" "$T/err"
run trace alpha --off;  expect "trace --off" 0 '^ +SEQ '
run --json trace alpha --count 1; expect "trace --off: off, records kept" 0 '"on":false,"console":false,"newest":[1-9][0-9]*,'
run create tracer --image x.elf --trace console; expect "create --trace console" 0 "^VM 'tracer' created"
grep -q '"trace":"console"' "$T/ctl.log" && ok "create --trace: sent" || bad "create --trace not sent"
run start tracer; sleep 0.3
"$UHVCTL" --connect "127.0.0.1:$RELAY_PORT" trace tracer --follow --count 400 --interval 0.05 > "$T/follow" 2>&1 &
FOL=$!
sleep 0.4
run stop tracer --timeout 0; run start tracer
wait "$FOL"; RC=$?
expect "trace --follow: the VM started again, its trace anew" 0 "^ +- \(VM 'tracer' started again: its trace begins anew\)$" "$T/follow"
run destroy tracer; run stop tracer --timeout 0; run destroy tracer

# ---- the lifecycle
run create gamma --image agent.elf --memory 32M --cpus 2 --disk a.img,ro --disk b.img,serial=B --cmdline "console=ttyS0 x=1"
expect "create" 0 "^VM 'gamma' created \(created\)$"
grep -q '"disk":\["a.img,ro","b.img,serial=B"\]' "$T/ctl.log" && grep -q '"memory":"32M"' "$T/ctl.log" &&
    grep -q '"cpus":2' "$T/ctl.log" && ok "create: disks as an array, memory, cpus" || bad "create fields"
run info gamma;         expect "create: the config reached uhv" 0 '^memory +33554432$'
run create gamma --image agent.elf; expect "create twice: vm_exists" 1 'vm_exists: ' "$T/err"
run create big --image x.elf --memory 4G; expect "create 4G: invalid_value, out of range" 1 "invalid_value: memory: '4G' is out of range: whole MiB from 2M to 3G" "$T/err"
run create "bad name" --image x.elf; expect "create bad name: invalid_value" 1 "invalid_value: VM name 'bad name'" "$T/err"
run create lonely;      expect "create without --image: usage" 2 'usage' "$T/err"
run start gamma;        expect "start" 0 "^VM 'gamma' is running$"
run start gamma;        expect "start twice: bad_state" 1 "bad_state: VM 'gamma' is running" "$T/err"
run pause beta;         expect "pause" 0 "^VM 'beta' is paused$"
run --json stats beta; e1=$(grep -o '"exits":[0-9]*' "$T/out"); sleep 0.3
run --json stats beta; e2=$(grep -o '"exits":[0-9]*' "$T/out")
[ -n "$e1" ] && [ "$e1" = "$e2" ] && ok "paused: counters frozen ($e1)" || bad "paused: $e1 -> $e2"
run resume beta;        expect "resume" 0 "^VM 'beta' is running$"
run resume beta;        expect "resume twice: bad_state" 1 'bad_state' "$T/err"

# ---- agent and events
run agent gamma '{"ping":1}'; expect "agent: the answer" 0 '^\{"pong":1\}$'
run --json agent gamma hi;    expect "agent --json: the event, with our id" 0 '^\{"event":"agent_message","vm":"gamma","id":1,'
run agent beta hi;      expect "agent without one: bad_state" 1 'bad_state' "$T/err"
"$UHVCTL" --connect "127.0.0.1:$RELAY_PORT" events --wait agent_lost --vm gamma --timeout 10 > "$T/ev" 2>&1 &
EV=$!
sleep 0.3
run agent gamma lose;   expect "agent: lost while waiting: status 1" 1 "no answer: agent_lost of VM 'gamma'" "$T/err"
wait "$EV"; RC=$?
expect "events --wait agent_lost" 0 '^agent_lost vm="gamma"$' "$T/ev"
run events --wait vm_stopped --vm nope --timeout 1; expect "events --wait: timeout is status 4" 4 'no vm_stopped event for VM nope' "$T/err"
t0=$SECONDS
run events --wait bogus --timeout 20; expect "events --wait bogus: usage, the events named" 2 "unknown event 'bogus' \(uhv sends: hello, vm_started, vm_stopped," "$T/err"
[ $((SECONDS - t0)) -le 2 ] && ok "events --wait bogus: at once, not at its timeout" || bad "events --wait bogus took $((SECONDS - t0)) s"
run stop gamma --wait;  expect "stop --wait: the vm_stopped event" 0 "^VM 'gamma' stopped: poweroff, status 0 \(ACPI power off \(S5\)\)$"
run info gamma;         expect "info of a stopped VM: result" 0 '^result +poweroff$'
"$UHVCTL" --connect "127.0.0.1:$RELAY_PORT" --json events --wait vm_stopped --timeout 10 > "$T/ev" 2>&1 &
EV=$!
sleep 0.3
run --json stop alpha --timeout 0 --wait; expect "stop --timeout 0 --wait --json" 0 '^\{"event":"vm_stopped","vm":"alpha","result":"halted"'
grep -q '"timeout":0' "$T/ctl.log" && ok "stop: timeout sent" || bad "stop timeout"
wait "$EV"; RC=$?
expect "events --json: another client sees the event too" 0 '^\{"event":"vm_stopped","vm":"alpha"' "$T/ev"
run stop alpha --timeout x; expect "stop --timeout x: usage" 2 'usage' "$T/err"
run destroy gamma;      expect "destroy" 0 "^VM 'gamma' destroyed$"
run info gamma;         expect "destroyed: gone" 1 'no_such_vm' "$T/err"

# ---- gdb VM --listen: a stand-in for gdb (tests/uhvctl/gdb_client.py)
# against the fake's stub, through the relay; the fake appends what gdb
# sent to $T/gdb.log
GDBC=$ROOT/tests/uhvctl/gdb_client.py
# gdb_start VM: uhvctl gdb in the background (20 s at most), once it
# has said that it listens; GDB_PID, GDB_PORT
gdb_start() {
    GDB_PORT=$(pick_port)
    timeout 20 "$UHVCTL" --connect "127.0.0.1:$RELAY_PORT" gdb "$1" \
        --listen "127.0.0.1:$GDB_PORT" > "$T/gdb.out" 2> "$T/gdb.err" &
    GDB_PID=$!; PIDS+=($GDB_PID)
    for i in $(seq 100); do
        grep -q '^uhvctl: gdb for VM ' "$T/gdb.err" && return 0
        sleep 0.05
    done
    return 1
}
# gdbc_expect STEP...: the stand-in's "ok STEP" lines
gdbc_expect() {
    local s
    for s in "$@"; do
        grep -qx "ok $s" "$T/gdbc" && ok "gdb: $s" || bad "gdb: $s ($(grep -m1 "$s" "$T/gdbc"))"
    done
}
detaches() { grep -ao '\$D#44' "$T/gdb.log" 2>/dev/null | wc -l; }
run create dbg --image x.elf; run start dbg
gdb_start dbg && grep -qx "uhvctl: gdb for VM dbg on 127.0.0.1:$GDB_PORT (target remote 127.0.0.1:$GDB_PORT)" "$T/gdb.err" &&
    ok "gdb: listens and says where" || bad "gdb: no listen line: $(cat "$T/gdb.err")"
python3 "$GDBC" session "$GDB_PORT" > "$T/gdbc" 2>&1
gdbc_expect handshake every-byte-value packet-over-512-bytes answer-with-more \
    continue-then-stop-event ctrl-c
wait "$GDB_PID"; RC=$?
expect "gdb: closed without a detach: status 0, says so" 0 "^uhvctl: gdb: gdb closed the connection: VM 'dbg' detached, it runs on$" "$T/gdb.err"
[ "$(tail -c 5 "$T/gdb.log")" = '$D#44' ] && [ "$(detaches)" = 1 ] &&
    ok "gdb: closed without a detach: uhvctl sent one" || bad "gdb: no detach at the end of $T/gdb.log"
# a reply with "more", and at once the next request, with no data
awk 'more && !seen { seen = 1; good = /^-> \{"vm":"dbg","data":"","id":[0-9]+,"cmd":"gdb"\}$/ }
     /^<- \{"id":[0-9]+,"ok":true,"data":"[^"]*","more":true\}$/ { more = 1 }
     END { exit !good }' "$T/ctl.log" &&
    ok "gdb: uhv said more, uhvctl asked again at once" || bad "gdb: no reply with more, or no request after it"
grep -q '^<- {"event":"gdb","vm":"dbg","data":"\$T05thread:01;#' "$T/ctl.log" &&
    ok "gdb: the stop came as an event" || bad "gdb: no gdb event"
grep -q '^-> {"vm":"dbg","data":"","id":[0-9]*,"cmd":"gdb"}$' "$T/ctl.log" &&
    ok "gdb: asks with no data while gdb is quiet" || bad "gdb: no empty request"
n0=$(detaches)
gdb_start dbg
python3 "$GDBC" detach "$GDB_PORT" > "$T/gdbc" 2>&1
gdbc_expect handshake detach
wait "$GDB_PID"; RC=$?
expect "gdb: gdb detached itself: status 0" 0 '^uhvctl: gdb: gdb detached$' "$T/gdb.err"
[ "$(detaches)" = $((n0 + 1)) ] && ok "gdb: gdb detached itself: no second detach" || bad "gdb: detaches $n0 -> $(detaches)"
# gdb_hold VM: a session that holds on, once it has had an answer; HOLD
gdb_hold() {
    gdb_start "$1"
    python3 "$GDBC" hold "$GDB_PORT" > "$T/gdbc" 2>&1 &
    HOLD=$!
    for i in $(seq 100); do grep -q '^ok handshake' "$T/gdbc" && break; sleep 0.05; done
}
n0=$(detaches)
gdb_hold dbg
kill -TERM "$GDB_PID"
wait "$GDB_PID"; RC=$?
expect "gdb: SIGTERM: status 0, says so" 0 "^uhvctl: gdb: ended by a signal: VM 'dbg' detached, it runs on$" "$T/gdb.err"
[ "$(detaches)" = $((n0 + 1)) ] && ok "gdb: SIGTERM: a detach sent" || bad "gdb: SIGTERM: detaches $n0 -> $(detaches)"
wait "$HOLD"; gdbc_expect closed-by-uhvctl
gdb_hold dbg
run stop dbg --timeout 0
wait "$GDB_PID"; RC=$?
expect "gdb: the VM stopped: status 0, says so" 0 "^uhvctl: gdb: VM 'dbg' stopped \(halted, status 0: stopped by the management client\): the gdb session ends$" "$T/gdb.err"
wait "$HOLD"; gdbc_expect closed-by-uhvctl
run gdb dbg --listen "127.0.0.1:$(pick_port)"
expect "gdb of a stopped VM: status 1" 1 "^uhvctl: gdb: VM 'dbg' is stopped; gdb needs it running or paused$" "$T/err"
run destroy dbg
run gdb nope --listen "127.0.0.1:$(pick_port)"
expect "gdb of no VM: status 1, uhv's message" 1 "^uhvctl: gdb: no VM named 'nope'$" "$T/err"
run create nogdb --image nogdb.elf; run start nogdb
gdb_start nogdb
python3 "$GDBC" send "$GDB_PORT" > "$T/gdbc" 2>&1
gdbc_expect closed-by-uhvctl
wait "$GDB_PID"; RC=$?
expect "gdb: an error reply: status 1, uhv's message" 1 "^uhvctl: gdb: VM 'nogdb' has no gdb stub$" "$T/gdb.err"
run stop nogdb --timeout 0; run destroy nogdb

# ---- several clients at once, the same ids: each gets its own reply
for i in 1 2 3 4 5 6; do
    "$UHVCTL" --connect "127.0.0.1:$RELAY_PORT" --json info beta > "$T/c$i" 2>&1 &
    CP[$i]=$!
done
good=0
for i in 1 2 3 4 5 6; do
    wait "${CP[$i]}" && grep -q '^{"id":1,"ok":true,"vm":"beta"' "$T/c$i" && good=$((good + 1))
done
[ "$good" = 6 ] && ok "6 clients at once, all id 1: 6 right replies" || bad "concurrent clients: $good of 6"
ids=$(grep -o '^-> {[^}]*"id":[0-9]*' "$T/ctl.log" | grep -o '[0-9]*$' | sort | uniq -d)
[ -z "$ids" ] && ok "relay: ids unique on the serial side" || bad "relay: repeated ids $ids"

# ---- raw lines through the relay: malformed, unknown, the greeting
exec 5<>"/dev/tcp/127.0.0.1/$RELAY_PORT"
read -r -t 5 l <&5; [[ $l == '{"event":"hello","protocol":1'* ]] && ok "a new client gets the greeting" || bad "greeting: $l"
printf '{"id":9,"cmd":"version"\n' >&5
read -r -t 5 l <&5; [[ $l == '{"id":null,"ok":false,"error":{"code":"parse_error"'* ]] && ok "malformed line: parse_error" || bad "malformed: $l"
printf '\n{"id":77,"cmd":"reboot"}\n' >&5
read -r -t 5 l <&5; [[ $l == '{"id":77,"ok":false,"error":{"code":"unknown_command"'* ]] && ok "unknown command: its id back" || bad "unknown: $l"
printf '{"id":78,"cmd":"start","vm":"beta","vm":"x"}\n' >&5
read -r -t 5 l <&5; [[ $l == '{"id":78,"ok":false,"error":{"code":"duplicate_field"'* ]] && ok "duplicate field passes the relay unchanged" || bad "dup: $l"
head -c 5000 /dev/zero | tr '\0' x >&5; printf '\n' >&5
read -r -t 5 l <&5; [[ $l == *'"code":"line_too_long"'* ]] && ok "a 5000-byte line: line_too_long" || bad "long: $l"
exec 5>&-

# ---- unreachable and silent uhv
NOPORT=$(pick_port)
"$UHVCTL" --connect "127.0.0.1:$NOPORT" list > "$T/out" 2> "$T/err"; RC=$?
expect "unreachable: status 3" 3 "cannot connect to uhv at 127.0.0.1:$NOPORT" "$T/err"
SILENT=$(pick_port)
"$UHVCTL" relay --serial "127.0.0.1:$NOPORT" --listen "127.0.0.1:$SILENT" & PIDS+=($!); SILENT_PID=$!
wait_port "$SILENT"
"$UHVCTL" --connect "127.0.0.1:$SILENT" --timeout 1 list > "$T/out" 2> "$T/err"; RC=$?
expect "no reply: status 4" 4 "no reply from uhv to 'list' within 1 s" "$T/err"
kill "$SILENT_PID"
UHV_CTL=127.0.0.1:$RELAY_PORT "$UHVCTL" version > "$T/out" 2> "$T/err"; RC=$?
expect "UHV_CTL names the address" 0 '^uhv '
"$UHVCTL" frobnicate > "$T/out" 2> "$T/err"; RC=$?
expect "unknown command: usage status 2" 2 "unknown command 'frobnicate'" "$T/err"
# argument errors come before the connection: reported as usage (status
# 2) with no uhv listening, never as "cannot connect" (status 3)
for args in "create" "create lonely" "create a --image x b" "info" "start" \
            "stop" "stop a --timeout x" "agent a" "stats a b" "list x" \
            "events x" "events --wait bogus" "trace" "trace a b" "trace a --count 0" \
            "trace a --count x" "trace a --on --off" "trace a --after -1" "trace a --interval 0" \
            "gdb" "gdb a" "gdb a b --listen 127.0.0.1:1234" "gdb a --listen nonsense" \
            "gdb a --listen 127.0.0.1:0" "gdb a --listen"; do
    # shellcheck disable=SC2086
    "$UHVCTL" --connect "127.0.0.1:$NOPORT" $args > "$T/out" 2> "$T/err"; RC=$?
    if [ "$RC" = 2 ] && ! grep -q 'cannot connect' "$T/err"; then ok "no uhv: '$args' is a usage error"
    else bad "no uhv: '$args' (status $RC, wanted 2 without 'cannot connect')"; fi
done
for addr in nonsense :5555 127.0.0.1: 127.0.0.1:0 127.0.0.1:65536 127.0.0.1:x; do
    "$UHVCTL" --connect "$addr" list > "$T/out" 2> "$T/err"; RC=$?
    if [ "$RC" = 2 ] && grep -q -- "--connect '$addr': " "$T/err" && ! grep -q 'is uhv running' "$T/err"; then
        ok "--connect $addr: usage, no connection hint"
    else bad "--connect $addr (status $RC, wanted 2)"; fi
done
UHV_CTL=nonsense "$UHVCTL" list > "$T/out" 2> "$T/err"; RC=$?
expect "UHV_CTL=nonsense: usage" 2 "UHV_CTL 'nonsense': an address is HOST:PORT" "$T/err"

# ---- top, record, plot (alpha is stopped, beta runs: 10000 exits/s)
run top --count 2 --interval 0.5
[ "$(grep -c '^VM  *STATE  *CPU%  *EXITS/s' "$T/out")" = 2 ] && ok "top --count 2: two tables" || bad "top tables"
expect "top: beta's exits/s and top reasons" 0 '^beta +running +[-0-9.]+ +[1-9][0-9]{3,} .* IO_INSTRUCTION [1-9][0-9]*, PREEMPTION_TIMER [1-9][0-9]*, HLT [1-9]'
expect "top: stopped alpha, no exits" 0 '^alpha +stopped +0\.0 +0 '
expect "top: beta's CPU share (fake: 50%)" 0 '^beta +running +(49\.[5-9]|50\.[0-4]) '
expect "top: beta's disk and net KiB/s (fake: 4000 2000 977 1465)" 0 '^beta +running +[0-9.]+ +[0-9]+ +(39[6-9][0-9]|40[0-3][0-9])\.[0-9] +(19[89][0-9]|20[01][0-9])\.[0-9] +(9[67][0-9]|98[0-9])\.[0-9] +(14[4-8][0-9])\.[0-9] '
grep -q $'\e' "$T/out" && bad "top: escape codes when not a terminal" || ok "top: plain tables when not a terminal"
run record "$T/rec.csv" --count 3 --interval 0.3
[ "$RC" = 0 ] && ok "record: status 0" || bad "record: status $RC"
expect "record: says what it records, on stderr" 0 '^uhvctl: record: a sample every 0\.3 s into .*rec\.csv, 3 samples' "$T/err"
expect "record: says when it is done" 0 '^uhvctl: record: done: 3 samples, 6 rows in ' "$T/err"
run record "$T/rec3.csv" --count 21 --interval 0.02
expect "record: a progress line every 10 samples" 0 '^uhvctl: record: 20 samples, 40 rows$' "$T/err"
[ "$(grep -c 'samples, [0-9]* rows$' "$T/err")" = 2 ] && ok "record: 21 samples, two progress lines" || bad "record progress lines"
head -n 1 "$T/rec.csv" | grep -qx 't_s,vm,state,cpu_share,exits_per_s,reason1,reason1_per_s,reason2,reason2_per_s,reason3,reason3_per_s,disk_read_Bps,disk_write_Bps,net_rx_Bps,net_tx_Bps' &&
    ok "record: header" || bad "record header: $(head -n 1 "$T/rec.csv")"
[ "$(grep -Ec '^[0-9.]*,beta,running,0\.[45][0-9]*,[1-9][0-9]*\.[0-9],IO_INSTRUCTION,[0-9.]*,PREEMPTION_TIMER,[0-9.]*,HLT,[0-9.]*,4[01][0-9]{5}\.[0-9],2[0-9]{6}\.[0-9],[0-9]{6,7}\.[0-9],1[0-9]{6}\.[0-9]$' "$T/rec.csv")" = 3 ] &&
    ok "record: 3 rows of beta with exits/s" || { bad "record rows"; cat "$T/rec.csv"; }
run record "$T/rec2.csv" --duration 0.6 --interval 0.3
[ "$(grep -c ',beta,' "$T/rec2.csv")" = 2 ] && ok "record --duration" || bad "record --duration"
run plot "$T/rec.csv" -o "$T/rec.png"
expect "plot" 0 'rec.png: 2 VMs, 6 samples'
[ ! -s "$T/err" ] && ok "plot: quiet (gnuplot warns of alpha's flat zero line)" || bad "plot: stderr"
file "$T/rec.png" | grep -q 'PNG image data' && [ -s "$T/rec.png" ] && ok "plot: a PNG ($(stat -c %s "$T/rec.png") bytes)" || bad "plot: $(file "$T/rec.png")"
# The panels as gnuplot drew them: per panel "panel XMIN XMAX YMIN
# LEFT RIGHT" (its time range, its y axis's bottom, its left and right
# edges on the image), printed by lines added after each plot command.
panels() {
    awk '/^plot/ { p = 1 } { print } p && !/\\$/ { print "print sprintf(\"panel %g %g %g %g %g\", GPVAL_X_MIN, GPVAL_X_MAX, GPVAL_Y_MIN, GPVAL_TERM_XMIN, GPVAL_TERM_XMAX)"; p = 0 }' "$1" > "$1.check"
    gnuplot "$1.check" 2>&1 | grep '^panel '
}
run plot "$T/rec.csv" -o "$T/rec.png" --script "$T/rec.gp"
panels "$T/rec.gp" > "$T/panels"
[ "$(wc -l < "$T/panels")" = 3 ] && ok "plot: three panels" || bad "plot: $(wc -l < "$T/panels") panels"
[ "$(cut -d' ' -f2,3,5,6 "$T/panels" | sort -u | wc -l)" = 1 ] &&
    ok "plot: the panels' time axes line up (same range, same left and right edges)" || { bad "plot: axes"; cat "$T/panels"; }
grep -q "^set title 'CPU share'" "$T/rec.gp" && grep -q 'eq "beta" ? \$4/' "$T/rec.gp" &&
    ok "plot: the CPU share (column 4) is drawn" || bad "plot: no CPU share panel"
{ head -n 1 "$T/rec.csv"; grep ',alpha,' "$T/rec.csv"; } > "$T/idle.csv"
run plot "$T/idle.csv" -o "$T/idle.png" --script "$T/idle.gp"
panels "$T/idle.gp" > "$T/panels"
[ "$RC" = 0 ] && [ "$(wc -l < "$T/panels")" = 3 ] && [ "$(cut -d' ' -f4 "$T/panels" | sort -u)" = 0 ] &&
    ok "plot of an idle VM: every y axis starts at 0 (no negative I/O axis)" || { bad "plot idle"; cat "$T/panels"; }
echo nonsense > "$T/bad.csv"; run plot "$T/bad.csv"
expect "plot of a non-record: status 6" 6 'not a uhvctl record' "$T/err"

# ---- the log; shutdown, and the relay's end with the serial side
grep -q '^<- {"event":"hello"' "$T/ctl.log" && grep -q '^-> {"id":' "$T/ctl.log" &&
    ok "log: both directions marked" || bad "log"
run shutdown;           expect "shutdown" 0 '^uhv: shutdown requested$'
grep -q '^<- {"event":"vm_stopped","vm":"beta","result":"poweroff"' "$T/ctl.log" && ok "shutdown: beta stopped" || bad "shutdown: no vm_stopped"
wait "$FAKE_PID" 2>/dev/null
for i in $(seq 40); do kill -0 "$RELAY_PID" 2>/dev/null || break; sleep 0.05; done
kill -0 "$RELAY_PID" 2>/dev/null && bad "relay still running after the serial side closed" || ok "relay ends with the serial side"

# ---- a serial device instead of a socket (uhv on real hardware, a cable):
# the relay opens it raw at 115200 8N1; a pseudo-terminal stands in
# (FAKE_STRAY: each reply follows one to line noise, without an id)
FAKE_STRAY=1 "$FAKE" --pty "$T/pty" & PIDS+=($!); FAKE_PID=$!
for i in $(seq 50); do [ -s "$T/pty" ] && break; sleep 0.05; done
RELAY_PORT=$(pick_port)
"$UHVCTL" relay --serial "$(cat "$T/pty")" --listen "127.0.0.1:$RELAY_PORT" --log "$T/tty.log" &
PIDS+=($!); RELAY_PID=$!
wait_port "$RELAY_PORT"
for i in $(seq 50); do grep -q '"event":"hello"' "$T/tty.log" 2>/dev/null && break; sleep 0.05; done
run version;            expect "tty: version through a serial device" 0 '^uhv 0\.1-fake, protocol 1$'
grep -q '^# a reply without id [0-9]*: dropped' "$T/tty.log" && ok "tty: a reply without the request's id is dropped" || bad "tty: no stray reply dropped"
run shutdown;           expect "tty: shutdown" 0 '^uhv: shutdown requested$'
# a cable does not hang up when uhv powers off: the relay stays
kill -0 "$RELAY_PID" 2>/dev/null && ok "tty: the relay stays after the power-off" || bad "tty: relay gone"
kill "$RELAY_PID"; wait "$RELAY_PID" 2>/dev/null
wait "$FAKE_PID" 2>/dev/null

# ---- events --wait started before uhv's control port listens (README:
# `uhv-run --ctl-port P ... &` then at once `uhvctl events --wait hello`):
# it waits for the port, within its timeout; other commands do not wait
RELAY_PORT=$(pick_port)
t0=$SECONDS
run list;               expect "nothing listening: list fails at once, status 3" 3 'cannot connect' "$T/err"
[ $((SECONDS - t0)) -le 2 ] && ok "nothing listening: list does not wait" || bad "list waited $((SECONDS - t0)) s"
"$UHVCTL" --connect "127.0.0.1:$RELAY_PORT" events --wait hello --timeout 30 > "$T/ev" 2> "$T/ev.err" &
EV_PID=$!; PIDS+=($EV_PID)
sleep 1.5
SERIAL_PORT=$(pick_port)
"$FAKE" "$SERIAL_PORT" & PIDS+=($!); FAKE_PID=$!
wait_port "$SERIAL_PORT"
"$UHVCTL" relay --serial "127.0.0.1:$SERIAL_PORT" --listen "127.0.0.1:$RELAY_PORT" --log "$T/late.log" &
PIDS+=($!); RELAY_PID=$!
wait "$EV_PID"; RC=$?
expect "events --wait hello before the relay listens: it waits" 0 '^hello ' "$T/ev"
expect "events --wait hello: says once that it waits" 0 '^uhvctl: waiting for uhv at 127\.0\.0\.1:[0-9]+ \(Connection refused\)$' "$T/ev.err"
run shutdown
wait "$FAKE_PID" 2>/dev/null
kill "$RELAY_PID" 2>/dev/null; wait "$RELAY_PID" 2>/dev/null
RELAY_PORT=$(pick_port)
run events --wait hello --timeout 1; expect "events --wait with nothing listening: status 3 at its timeout" 3 'cannot connect' "$T/err"

echo "$PASS passed, $FAIL failed"
[ "$FAIL" = 0 ]
