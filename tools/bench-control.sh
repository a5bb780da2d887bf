#!/usr/bin/env bash
# bench-control.sh: the control channel's figures of make bench, exact under
# Bochs (one TSC tick is one instruction). Two boots of uhv with control = on
# and one busy VM, guest-tests/steal (it counts the rounds of a loop it
# fits in each emulated second and prints the ticks it did not get: VM
# exits, uhv's run loop, the control channel):
#   1. uhvctl stats, ROUNDS times one after the other, then shutdown: uhv's
#      summary line "control: N requests answered, T ticks from their last
#      byte to the reply queued" gives what a stats request costs uhv itself
#      (the shutdown that ends the run is one of the N, and cheap);
#   2. the busy VM's stolen ticks and exits per emulated second, first with
#      no client, then with `uhvctl top --interval 1` watching: the cost of
#      monitoring. Windows cut by a phase boundary are left out.
set -u
export LC_ALL=C
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
CTL=$ROOT/build/tools/uhvctl
ROUNDS=${UHV_BENCH_CTL_ROUNDS:-20}
WINDOWS=${UHV_BENCH_CTL_WINDOWS:-8}      # emulated seconds per phase
dir=$(mktemp -d "${TMPDIR:-/tmp}/uhv-benchctl.XXXXXX")
trap 'rm -rf "$dir"' EXIT
cp "$ROOT/guest-tests/build/steal.elf" "$dir/"
printf '[vm busy]\nimage = steal.elf\nmemory = 16M\ncmdline = rounds=100000\n' \
    > "$dir/uhv.cfg"

PORT=
u() { "$CTL" --connect "127.0.0.1:$PORT" --timeout 120 "$@"; }
# boot N: starts uhv in the background (console in $dir/N.log), waits for
# its greeting and the busy VM's first window
boot() {
    PORT=$((30000 + RANDOM % 20000))
    "$ROOT/tools/uhv-run" -q --emulator bochs --timeout 900 --global control=on \
        --config "$dir/uhv.cfg" --files "$dir" --ctl-port "$PORT" \
        --ctl-log "$dir/$1.ctl" --log "$dir/$1.log" --expect busy=killed \
        > "$dir/$1.out" 2>&1 &
    upid=$!
    for _ in $(seq 1 120); do
        u events --wait hello --timeout 300 >/dev/null 2>&1 && break
        kill -0 "$upid" 2>/dev/null || break
        sleep 2
    done
    wait_windows "$1" 1
}
# last_window LOG: the number of the last STEAL window in LOG (0: none yet)
last_window() {
    local k
    k=$(sed -nE 's/^\[busy\] STEAL ([0-9]+) rounds.*/\1/p' "$1" 2>/dev/null | tail -n 1)
    echo "${k:-0}"
}
# wait_windows BOOT N: until boot BOOT has printed N more windows
wait_windows() {
    local want=$(( $2 + $(last_window "$dir/$1.log") ))
    for _ in $(seq 1 600); do
        [ "$(last_window "$dir/$1.log")" -ge "$want" ] 2>/dev/null && return 0
        kill -0 "$upid" 2>/dev/null || return 1
        sleep 1
    done
    return 1
}
# stolen BOOT FIRST LAST: "mean count" of the stolen ticks of windows FIRST..LAST
stolen() {
    sed -nE 's/^\[busy\] STEAL ([0-9]+) rounds [0-9]+ stolen (-?[0-9]+) of.*/\1 \2/p' "$dir/$1.log" |
        awk -v a="$2" -v b="$3" '$1 >= a && $1 <= b { s += $2; n++ }
            END { if (n) printf "%d %d\n", s / n, n }'
}
# sample: "exits now_us" of the busy VM
sample() {
    local r
    r=$(u --json stats busy)
    echo "$(grep -o '"exits":[0-9]*' <<< "$r" | head -n 1 | cut -d: -f2)" \
         "$(grep -o '"now_us":[0-9]*' <<< "$r" | cut -d: -f2)"
}
fail() { echo "bench-control.sh: $*" >&2; exit 2; }

# 1. The cost of a stats request inside uhv.
boot 1 || fail "boot 1: no STEAL lines (see a run with tools/uhv-run --keep)"
for _ in $(seq 1 "$ROUNDS"); do u stats busy >/dev/null || fail "stats failed"; done
u shutdown >/dev/null
wait "$upid"
line=$(grep -m1 '^uhv: control: [0-9]* requests answered' "$dir/1.log")
[ "$(sed -nE 's/.*: ([0-9]+) requests answered.*/\1/p' <<< "$line")" = $((ROUNDS + 1)) ] ||
    fail "boot 1: wanted $((ROUNDS + 1)) requests answered: $line"
[ -n "$line" ] || fail "no 'control: requests answered' line in boot 1"
n=$(sed -nE 's/.*: ([0-9]+) requests answered.*/\1/p' <<< "$line")
mean=$(sed -nE 's/.*\(mean ([0-9]+), longest ([0-9]+)\).*/\1/p' <<< "$line")
longest=$(sed -nE 's/.*\(mean ([0-9]+), longest ([0-9]+)\).*/\2/p' <<< "$line")
khz=$(sed -nE 's/^uhv: .*TSC ([0-9]+) kHz.*/\1/p' "$dir/1.log" | head -n 1)
echo "control channel (COM2, TSC $khz kHz)"
total=$(sed -nE 's/.* requests answered, ([0-9]+) ticks.*/\1/p' <<< "$line")
# the longest is the shutdown, which stops the VM and prints to the
# console; the stats requests all cost about the same
echo "  stats request inside uhv:         $(( (total - longest) / (n - 1) )) instructions, last byte -> reply queued (mean of $((n - 1)); with the shutdown, the longest at $longest: $mean)"

# 2. A busy VM with and without uhvctl top watching.
boot 2 || fail "boot 2: no STEAL lines"
phase() {   # phase NAME: WINDOWS whole windows; prints "stolen n exits/s"
    local s0 s1 w0 w1
    s0=$(sample); wait_windows 2 1; w0=$(( $(last_window "$dir/2.log") + 1 ))
    wait_windows 2 "$WINDOWS"; w1=$(last_window "$dir/2.log"); s1=$(sample)
    read -r e0 t0 <<< "$s0"; read -r e1 t1 <<< "$s1"
    echo "$(stolen 2 "$w0" "$w1") $(( (e1 - e0) * 1000000 / (t1 - t0) ))"
}
read -r quiet_st quiet_n quiet_ex <<< "$(phase quiet)"
"$CTL" --connect "127.0.0.1:$PORT" top --interval 1 > "$dir/top.out" 2>&1 &
top=$!
read -r top_st top_n top_ex <<< "$(phase top)"
kill "$top" 2>/dev/null; wait "$top" 2>/dev/null
u shutdown >/dev/null
wait "$upid"
[ -n "${quiet_st:-}" ] && [ -n "${top_st:-}" ] || fail "boot 2: windows missing"
period=$(sed -nE 's/^\[busy\] STEAL calibration: .*, period ([0-9]+).*/\1/p' "$dir/2.log")
tops=$(( $(grep -c '"cmd":"list"' "$dir/2.ctl") ))
d=$((top_st - quiet_st))
echo "  busy VM (steal, windows of $period ticks):"
printf '    no client:                      %d instructions per window taken from it (mean of %d), %d exits/s\n' \
    "$quiet_st" "$quiet_n" "$quiet_ex"
printf '    uhvctl top --interval 1:        %d (mean of %d), %d exits/s; %d list + stats rounds\n' \
    "$top_st" "$top_n" "$top_ex" "$tops"
printf '    cost of watching:               %d instructions per window (%d.%03d%% of the VM), %+d exits/s\n' \
    "$d" $((d * 100 / period)) $(( (d < 0 ? -d : d) * 100000 / period % 1000 )) $((top_ex - quiet_ex))
