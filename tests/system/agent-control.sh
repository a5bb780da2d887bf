#!/usr/bin/env bash
# The guest agent end to end through the control channel (COM2, relayed
# by `uhvctl relay` on 127.0.0.1:PORT), everything asked and seen through
# uhvctl: a stock Debian kernel with agent = on runs uhv-agent
# (uhv.agent=1), stays up (uhv.agentwait=1), and init kills the agent
# KILL_S guest seconds after starting it (uhv.agentkill). One boot of uhv:
#   boot 1: uhvctl asks the agent for ping and info, a request uhv refuses
#     (a line break in data), one the agent does not know; then
#     `stop --timeout 120 --wait`: uhv asks the agent to shut down (the
#     agent_message with id 0 is its answer) and the guest powers off:
#     vm_stopped poweroff, not killed; all well before KILL_S;
#   boot 2: `start` runs the stopped VM afresh in its slot; its agent
#     connects again (info: agent true); init kills it and `events --wait
#     agent_lost` sees uhv notice; `stop --timeout 20 --wait` then presses
#     the power button, which busybox Linux ignores (no acpid), and uhv
#     stops the VM outright after the 20 s of its own clock (killed);
#   `shutdown` ends uhv, whose summary must say linux ended killed.
# Prints PASS/FAIL lines and "N passed, M failed".
set -u
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
LOGS=$ROOT/build/test-logs/agent-control
UHVCTL=$ROOT/build/tools/uhvctl
PORT=${UHV_CTL_PORT:-$((21000 + RANDOM % 8000))}
# guest seconds from the agent's start to its kill: boot 1's requests and
# its graceful stop take a few (uhv's clock: 50 MHz of Bochs instructions)
KILL_S=30
mkdir -p "$LOGS"
rm -f "$LOGS"/*.log
pass=0 fail=0

ok() { echo "PASS system/agent-control/$1"; pass=$((pass + 1)); }
bad() { echo "FAIL system/agent-control/$1: $2"; fail=$((fail + 1)); }
check() {   # check NAME FILE REGEX
    if grep -qE "$3" "$2"; then ok "$1"
    else bad "$1" "no line of ${2#"$ROOT"/} matches '$3'"; fi
}
# the reply timeout is host seconds; a guest second under Bochs takes two
# or more, so waits on the guest get a generous one
ctl() { "$UHVCTL" --connect "127.0.0.1:$PORT" --timeout 300 "$@"; }
# now_us: uhv's clock (microseconds since its boot), from stats
now_us() { ctl --json stats linux | grep -o '"now_us":[0-9]*' | cut -d: -f2; }
# wait_agent LOG: polls info until it shows the agent connected (or the run ends)
wait_agent() {
    for _ in $(seq 1 300); do
        ctl --json info linux > "$1" 2>&1
        grep -qE '"agent": ?true' "$1" && return 0
        kill -0 "$run" 2>/dev/null || return 1
        sleep 2
    done
    return 1
}

[ -x "$UHVCTL" ] || make -s -C "$ROOT" uhvctl >/dev/null
[ -s "$ROOT/build/linux/vmlinuz" ] || "$ROOT/tools/mk-linux-guest.sh" >/dev/null
cat > "$LOGS/agent.cfg" <<CFG
[vm linux]
image   = vmlinuz
initrd  = initrd.gz
memory  = 256M
agent   = on
cmdline = console=ttyS0 quiet uhv.agent=1 uhv.agentwait=1 uhv.agentkill=$KILL_S
CFG
"$ROOT/tools/uhv-run" -q --timeout 1200 --global control=on \
    --config "$LOGS/agent.cfg" --files "$ROOT/build/linux" \
    --ctl-port "$PORT" --ctl-log "$LOGS/control.log" \
    --expect linux=killed \
    --log "$LOGS/console.log" > "$LOGS/uhv-run.log" 2>&1 &
run=$!

# Boot 1: the agent's first heartbeat makes info say so.
if wait_agent "$LOGS/info.log"; then ok connected
else bad connected "info never showed the agent: $(tail -n 1 "$LOGS/info.log")"; fi
ctl info linux >> "$LOGS/info.log" 2>&1
check info-agent "$LOGS/info.log" '^agent +true$'
ctl agent linux ping > "$LOGS/ping.log" 2>&1
check ping "$LOGS/ping.log" '^\{"pong":true\}$'
ctl agent linux info > "$LOGS/agent-info.log" 2>&1
check agent-info "$LOGS/agent-info.log" \
    '^\{"kernel":"6\.[^"]*","uptime_s":[0-9]+,"mem_total_kib":2[0-9]{5},"mem_free_kib":[0-9]+,"load":\[[0-9.]+,[0-9.]+,[0-9.]+\],"addresses":\[[^]]*\]\}$'
ctl agent linux reboot > "$LOGS/unknown.log" 2>&1
check unknown "$LOGS/unknown.log" "unknown request 'reboot'"
ctl agent linux "$(printf 'a\nb')" > "$LOGS/newline.log" 2>&1
check newline-refused "$LOGS/newline.log" "line break"

# (a) A graceful stop through the agent: it answers, the guest powers off.
ctl stop linux --timeout 120 --wait > "$LOGS/stop1.log" 2>&1
check stop-graceful "$LOGS/stop1.log" "^VM 'linux' stopped: poweroff, status 0 \(powered off through ACPI \(S5\)\)"
check stop-asked-agent "$LOGS/console.log" '^uhv: vm linux: asked its agent to shut down \(120s\)$'
if grep -q "UHV-LINUX: agent killed" "$LOGS/console.log"; then
    bad stop-before-kill "the agent was killed before the stop: raise KILL_S"
else ok stop-before-kill; fi

# (b) start runs the stopped VM afresh in the same slot; its agent returns.
ctl info linux > "$LOGS/info2.log" 2>&1
ctl start linux > "$LOGS/start2.log" 2>&1
ctl events --wait agent_lost --vm linux --timeout 900 > "$LOGS/lost.log" 2>&1 &
lost=$!
if wait_agent "$LOGS/info2.log" && grep -q '"state":"running"' "$LOGS/info2.log"; then
    ok restart-agent
else bad restart-agent "no agent after start: $(cat "$LOGS/start2.log") $(tail -n 1 "$LOGS/info2.log")"; fi
if [ "$(grep -c 'UHV-LINUX: init running' "$LOGS/console.log")" = 2 ]; then
    ok restart-booted
else bad restart-booted "wanted init to run twice on the console"; fi

# (c) init kills the agent: uhv reports it lost.
if wait "$lost" && grep -q '^agent_lost vm="linux"' "$LOGS/lost.log"; then
    ok agent-lost
else bad agent-lost "events said: $(cat "$LOGS/lost.log")"; fi
ctl --json info linux > "$LOGS/info3.log" 2>&1
check info-no-agent "$LOGS/info3.log" '"agent": ?false'

# (d) No agent: the power button; Linux ignores it; stopped outright after
#     the timeout (uhv's clock).
t0=$(now_us)
ctl stop linux --timeout 20 --wait > "$LOGS/stop2.log" 2>&1
t1=$(now_us)
check stop-killed "$LOGS/stop2.log" "^VM 'linux' stopped: killed, status 0 \(did not power off in time: stopped outright\)"
check stop-pressed "$LOGS/console.log" '^uhv: vm linux: pressed its power button \(20s\)$'
if [ -n "$t0" ] && [ -n "$t1" ] && [ $((t1 - t0)) -ge 20000000 ]; then
    ok stop-waited
else bad stop-waited "uhv's clock went from ${t0:-?} to ${t1:-?} us: not the 20 s"; fi

# The end: shutdown; uhv's summary has linux killed (uhv-run --expect).
ctl shutdown > "$LOGS/shutdown.log" 2>&1
if wait "$run"; then ok uhv-verdict
else bad uhv-verdict "$(tail -n 1 "$LOGS/uhv-run.log")"; fi
check summary "$LOGS/console.log" '^uhv: result linux killed'
# the relay's log (copied out at the end): the agent answered uhv's own
# shutdown request, id 0, during (a)
check stop-agent-answer "$LOGS/control.log" \
    '^<- \{"event":"agent_message","vm":"linux","id":0,"data":"\{\\"shutdown\\":true\}"\}$'
if grep -q "agent: dropped" "$LOGS/console.log"; then
    bad no-drops "uhv dropped lines from the agent"
else ok no-drops; fi
echo "$pass passed, $fail failed"
[ "$fail" = 0 ]
