#!/usr/bin/env bash
# The guest agent end to end through the control channel (COM2, relayed
# by `uhvctl relay` on 127.0.0.1:PORT): a stock Debian kernel with
# agent = on runs uhv-agent (uhv.agent=1) and stays up (uhv.agentwait=1);
# uhvctl asks its agent for ping and info, a request uhv refuses (a line
# break in data), one the agent does not know, then shutdown: the agent
# answers, powers the guest off, and uhv reports vm_stopped poweroff
# (the run ends there: with the control channel on, uhv itself runs on).
# Prints PASS/FAIL lines and "N passed, M failed".
set -u
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
LOGS=$ROOT/build/test-logs/agent-control
UHVCTL=$ROOT/build/tools/uhvctl
PORT=${UHV_CTL_PORT:-$((21000 + RANDOM % 8000))}
mkdir -p "$LOGS"
rm -f "$LOGS"/*.log
pass=0 fail=0

ok() { echo "PASS system/agent-control/$1"; pass=$((pass + 1)); }
bad() { echo "FAIL system/agent-control/$1: $2"; fail=$((fail + 1)); }
check() {   # check NAME FILE REGEX
    if grep -qE "$3" "$2"; then ok "$1"
    else bad "$1" "no line of ${2#"$ROOT"/} matches '$3'"; fi
}
ctl() { "$UHVCTL" --connect "127.0.0.1:$PORT" "$@"; }

[ -x "$UHVCTL" ] || make -s -C "$ROOT" uhvctl >/dev/null
[ -s "$ROOT/build/linux/vmlinuz" ] || "$ROOT/tools/mk-linux-guest.sh" >/dev/null
cat > "$LOGS/agent.cfg" <<'EOF'
[vm linux]
image   = vmlinuz
initrd  = initrd.gz
memory  = 256M
agent   = on
cmdline = console=ttyS0 quiet uhv.agent=1 uhv.agentwait=1
EOF
"$ROOT/tools/uhv-run" -q --timeout 600 --global control=on \
    --config "$LOGS/agent.cfg" --files "$ROOT/build/linux" \
    --ctl-port "$PORT" --ctl-log "$LOGS/control.log" \
    --stop-on '^uhv: vm linux stopped' \
    --log "$LOGS/console.log" > "$LOGS/uhv-run.log" 2>&1 &
run=$!

# the agent's first heartbeat: uhv says so on its console
for _ in $(seq 1 400); do
    grep -q "agent connected" "$LOGS/console.log" 2>/dev/null && break
    kill -0 "$run" 2>/dev/null || break
    sleep 1
done
check connected "$LOGS/console.log" "^uhv: vm linux: agent connected"

ctl info linux > "$LOGS/info.log" 2>&1
ctl --json info linux >> "$LOGS/info.log" 2>&1
check info-agent "$LOGS/info.log" '"agent": ?true'
ctl agent linux ping > "$LOGS/ping.log" 2>&1
check ping "$LOGS/ping.log" '^\{"pong":true\}$'
ctl agent linux info > "$LOGS/agent-info.log" 2>&1
check agent-info "$LOGS/agent-info.log" \
    '^\{"kernel":"6\.[^"]*","uptime_s":[0-9]+,"mem_total_kib":2[0-9]{5},"mem_free_kib":[0-9]+,"load":\[[0-9.]+,[0-9.]+,[0-9.]+\],"addresses":\[[^]]*\]\}$'
ctl agent linux reboot > "$LOGS/unknown.log" 2>&1
check unknown "$LOGS/unknown.log" "unknown request 'reboot'"
ctl agent linux "$(printf 'a\nb')" > "$LOGS/newline.log" 2>&1
check newline-refused "$LOGS/newline.log" "line break"
ctl agent linux shutdown > "$LOGS/shutdown.log" 2>&1
check shutdown-answer "$LOGS/shutdown.log" '^\{"shutdown":true\}$'

wait "$run"
check stopped-event "$LOGS/control.log" '"event":"vm_stopped","vm":"linux","result":"poweroff"'
check poweroff "$LOGS/console.log" "^uhv: vm linux stopped: .*(S5|power)"
if grep -q "agent: dropped" "$LOGS/console.log"; then
    bad no-drops "uhv dropped lines from the agent"
else ok no-drops; fi
echo "$pass passed, $fail failed"
[ "$fail" = 0 ]
