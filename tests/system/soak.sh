#!/usr/bin/env bash
# The soak (make soak, make test-long): one boot of uhv under Bochs for
# SOAK_MINUTES (default 30) minutes of wall time with everything at once:
#   - two stock Debian kernels, a and b, on bridge network "lan", each
#     with a virtio-blk disk and its guest agent (heartbeats once a
#     second): a streams data to b over one TCP connection with busybox
#     nc while both write their disk in 128 KiB rounds, each with fsync
#     and read back past the page cache (guest-tests/linux/init,
#     uhv.soak=send|recv);
#   - Multiboot guests: busy (exitloop: spins, a CPUID and a console
#     line every round) and sleeper (pwrbtn: sleeps in HLT with
#     interrupts on), both paused and resumed every 10 s, and cyc
#     (pwrbtn from the images folder), stopped through its power button,
#     destroyed, created again and started every 30 rounds;
#   - this script, which reads `stats` of every VM once a second over the
#     control channel and pings both agents every 5 rounds.
# The soak's clock starts when both Linux guests say so; at its end the
# script creates a VM named soakend, whose line makes uhv-run type
# "soak-stop" on a's console: a ends its stream and its disk, b sees the
# stream end and ends its disk; both check their disk once more and print
# their NIC's counters. Then `shutdown`. What is checked (no timing, only
# totals and states):
#   - disk-a, disk-b: every round's 128 KiB read back with the md5 it was
#     written with, and every slot's last content at the end; uhv's disk
#     counters saw at least those bytes written and a flush per round;
#   - stream: b received as many bytes as a sent, with the same md5;
#     stop-typed: a ended on the typed line, not on its own bound;
#   - counters-a, counters-b: each guest's eth0 packets and bytes, sent
#     and received, equal its NIC's counters in uhv (stats, at the end);
#     bridge-totals: what a sent the bridge gave b, or counted as b's
#     drops, and the other way round;
#   - stats: every request answered, every VM in every reply, a, b, busy
#     and sleeper never stopped and their counters never went back (no
#     restart); busy and sleeper seen paused; pause-resume: every pause
#     and resume answered; cycles: every stop ended in a power-off and
#     every destroy, create and start was answered;
#   - no-other-stops: no VM but cyc stopped before the shutdown (uhv's
#     console and the control channel's vm_stopped events);
#   - agents: every ping answered, no "agent lost", both connected at the
#     end;
#   - memory: uhv reports no total of its own memory over the control
#     channel (its page allocator's free memory is printed once, at
#     boot), so uhv's memory for the VM it creates again and again is
#     compared: its "uhv: vm cyc: memory: ..." line (guest RAM, EPT
#     tables, uhv's own KiB for it) at each start, the address its RAM
#     got, and the reserve's free memory after each destroy ("(NM
#     free)") are the same every time;
#   - no-faults: no kernel fault or I/O error in either guest; busy-runs:
#     busy's rounds went on; shutdown: uhv-run's verdict PASS (summary,
#     every VM killed by the shutdown).
# Logs in build/test-logs/soak/. Prints PASS/FAIL lines and "N passed,
# M failed"; SKIP and status 0 if Bochs, python3, uhvctl or a guest is
# missing.
set -u
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
RUN=$ROOT/tools/uhv-run
CTL=$ROOT/build/tools/uhvctl
G=$ROOT/guest-tests/build
L=$ROOT/build/linux
LOGS=$ROOT/build/test-logs/soak
MINUTES=${SOAK_MINUTES:-30}
PORT=${UHV_CTL_TEST_PORT:-$((20000 + RANDOM % 20000))}
pass=0 fail=0

ok()  { echo "PASS system/soak/$1${UHV_TEST_TIMES:+ (${SECONDS}s)}"; pass=$((pass + 1)); }
bad() { echo "FAIL system/soak/$1: $2"; fail=$((fail + 1)); }
skip() {
    echo "SKIP system/soak: $1"
    echo "0 passed, 0 failed, 1 skipped"
    exit 0
}
u() { "$CTL" --connect "127.0.0.1:$PORT" --timeout 120 "$@"; }

if ! [[ $MINUTES =~ ^[1-9][0-9]*$ ]]; then
    echo "soak: SOAK_MINUTES must be a whole number of minutes, not '$MINUTES'" >&2
    exit 2
fi
# CI (.ci/run) gives make test-long a deadline, UHV_TEST_DEADLINE (seconds
# since the epoch): the soak shortens to what is left of it less 10
# minutes (the guests' boot, the checks, run.sh's margin) and says so;
# with less than 3 minutes for it, it is skipped (never passed).
if [ -n "${UHV_TEST_DEADLINE:-}" ]; then
    left=$(( (UHV_TEST_DEADLINE - $(date +%s)) / 60 - 10 ))
    [ "$left" -ge 3 ] || skip "$((left + 10)) minutes left of test-long's time (UHV_TEST_DEADLINE)"
    if [ "$left" -lt "$MINUTES" ]; then
        echo "# soak: $left minutes, not $MINUTES: what is left of test-long's time (UHV_TEST_DEADLINE)"
        MINUTES=$left
    fi
fi
command -v bochs >/dev/null || skip "no bochs (tools/deps.sh installs it)"
command -v python3 >/dev/null || skip "no python3"
[ -x "$CTL" ] || skip "no build/tools/uhvctl (make)"
for f in exitloop pwrbtn; do
    [ -s "$G/$f.elf" ] || skip "no guest-tests/build/$f.elf (make)"
done
# the Linux guest, with an initramfs that has the soak mode of its init
if [ ! -s "$L/vmlinuz" ] || [ ! -s "$L/initrd.gz" ] ||
   [ "$ROOT/guest-tests/linux/init" -nt "$L/initrd.gz" ]; then
    "$ROOT/tools/mk-linux-guest.sh" >/dev/null 2>&1
fi
[ -s "$L/vmlinuz" ] && [ -s "$L/initrd.gz" ] ||
    skip "no Linux test guest (tools/mk-linux-guest.sh)"
zcat "$L/initrd.gz" | cpio -i --quiet --to-stdout init 2>/dev/null | grep -q 'uhv.soak=send' ||
    skip "build/linux/initrd.gz lacks the soak mode of guest-tests/linux/init (tools/mk-linux-guest.sh)"

# Everything this script starts, ended on any exit (uhv-run stops Bochs).
PIDS=()
cleanup() {
    local p
    for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null; done
    for p in "${PIDS[@]}"; do wait "$p" 2>/dev/null; done
}
trap cleanup EXIT
trap 'echo "soak: interrupted"; exit 130' INT TERM HUP

SOAK_S=$((MINUTES * 60))
# a's and b's own bound, in guest seconds: a backstop, never the stop
MAX=$((SOAK_S * 4 + 1800))
rm -rf "$LOGS"; mkdir -p "$LOGS/files/imgs"
cp "$L/vmlinuz" "$L/initrd.gz" "$G/exitloop.elf" "$G/pwrbtn.elf" "$LOGS/files/"
cp "$G/pwrbtn.elf" "$LOGS/files/imgs/"
truncate -s 4M "$LOGS/files/a.img" "$LOGS/files/b.img"
cat > "$LOGS/uhv.cfg" <<CFG
control = on
images  = imgs
reserve = 16M

[vm a]
image   = vmlinuz
initrd  = initrd.gz
memory  = 128M
net     = lan
disk    = a.img,serial=soak-a
agent   = on
cmdline = console=ttyS0 quiet uhv.ip=10.0.0.1 uhv.agent=1 uhv.soak=send uhv.soakpeer=10.0.0.2 uhv.soakmax=$MAX

[vm b]
image   = vmlinuz
initrd  = initrd.gz
memory  = 128M
net     = lan
disk    = b.img,serial=soak-b
agent   = on
cmdline = console=ttyS0 quiet uhv.ip=10.0.0.2 uhv.agent=1 uhv.soak=recv uhv.soakmax=$MAX

[vm busy]
image   = exitloop.elf
memory  = 8M
cmdline = period=100000000

[vm sleeper]
image   = pwrbtn.elf
memory  = 8M
CFG
"$RUN" -q --config "$LOGS/uhv.cfg" --files "$LOGS/files" \
    --ctl-port "$PORT" --ctl-log "$LOGS/ctl.log" --log "$LOGS/uhv.log" \
    --timeout $((SOAK_S + 3600)) \
    --type-on '^uhv: control: created vm soakend:' 'soak-stop\n' \
    > "$LOGS/uhv-run.log" 2>&1 &
upid=$!
PIDS+=("$upid")

# wait_line REGEX SECONDS: until uhv's console has a line matching REGEX
wait_line() {
    local t=0
    while [ "$t" -lt "$2" ]; do
        grep -qE -- "$1" "$LOGS/uhv.log" 2>/dev/null && return 0
        kill -0 "$upid" 2>/dev/null || return 1
        sleep 2; t=$((t + 2))
    done
    return 1
}
# act NAME ARGS...: uhvctl ARGS, its output and status in actions.log
act() {
    local name=$1 out rc
    shift
    out=$(u "$@" 2>&1); rc=$?
    printf '%s %s rc=%s %s\n' "$SECONDS" "$name" "$rc" "$(printf '%s' "$out" | tr '\n' ' ' | head -c 300)" >> "$LOGS/actions.log"
    printf '%s' "$out"
    return "$rc"
}
: > "$LOGS/actions.log"
cycles=0 cycle_bad=0 pauses=0 pause_bad=0 pings=0 ping_bad=0
stats_n=0 stats_bad=0
# cycle: cyc stops through its power button, is destroyed, created, started
cycle() {
    local r
    if [ "$1" = again ]; then
        r=$(act stop-cyc stop cyc --timeout 60 --wait)
        case $r in *poweroff*) ;; *) cycle_bad=$((cycle_bad + 1)); return;; esac
        act destroy-cyc destroy cyc >/dev/null || { cycle_bad=$((cycle_bad + 1)); return; }
    fi
    act create-cyc create cyc --image imgs/pwrbtn.elf --memory 8M >/dev/null &&
        act start-cyc start cyc >/dev/null || { cycle_bad=$((cycle_bad + 1)); return; }
    cycles=$((cycles + 1))
}
pr() {   # pr ACTION VM: pause or resume
    pauses=$((pauses + 1))
    act "$1-$2" "$1" "$2" >/dev/null || pause_bad=$((pause_bad + 1))
}

echo "soak: $MINUTES minute(s) of load once both Linux guests are up; logs in ${LOGS#"$ROOT"/}/"
up=1
for _ in $(seq 1 300); do
    kill -0 "$upid" 2>/dev/null || break
    u events --wait hello --timeout 300 >/dev/null 2>&1 && break
    sleep 2
done
if wait_line '^\[a\] UHV-LINUX: soak started' 1800 && wait_line '^\[b\] UHV-LINUX: soak started' 600; then
    ok guests-up
else
    bad guests-up "a and b never both said 'soak started' (${LOGS#"$ROOT"/}/uhv.log)"
    up=0
fi

if [ "$up" = 1 ]; then
    cycle first
    start=$SECONDS i=0 busy_paused=0 sleeper_paused=0
    while [ $((SECONDS - start)) -lt "$SOAK_S" ] && kill -0 "$upid" 2>/dev/null; do
        i=$((i + 1))
        case $((i % 10)) in
            2) pr pause busy; busy_paused=1;;
            4) pr resume busy; busy_paused=0;;
            6) pr pause sleeper; sleeper_paused=1;;
            8) pr resume sleeper; sleeper_paused=0;;
        esac
        [ $((i % 30)) = 15 ] && cycle again
        if [ $((i % 5)) = 0 ]; then
            for vm in a b; do
                pings=$((pings + 1))
                case $(act "ping-$vm" agent "$vm" ping) in
                    *'"pong":true'*) ;;
                    *) ping_bad=$((ping_bad + 1));;
                esac
            done
        fi
        stats_n=$((stats_n + 1))
        echo "# sample $stats_n t=$SECONDS" >> "$LOGS/stats.jsonl"
        u --json stats >> "$LOGS/stats.jsonl" 2>> "$LOGS/stats.err" ||
            stats_bad=$((stats_bad + 1))
        sleep 1
    done
    [ "$busy_paused" = 1 ] && pr resume busy
    [ "$sleeper_paused" = 1 ] && pr resume sleeper
    echo "soak: load phase over after $((SECONDS - start)) s: $stats_n stats rounds, $cycles cycles of cyc"

    # The end: soakend's line makes uhv-run type soak-stop at a.
    act create-soakend create soakend --image imgs/pwrbtn.elf --memory 2M >/dev/null &&
        act destroy-soakend destroy soakend >/dev/null ||
        bad soakend "create or destroy of soakend failed (${LOGS#"$ROOT"/}/actions.log)"
    wait_line '^\[a\] UHV-LINUX: soak done' 1800 && wait_line '^\[b\] UHV-LINUX: soak done' 900 ||
        bad soak-done "a and b did not both say 'soak done' (${LOGS#"$ROOT"/}/uhv.log)"
    for vm in a b; do
        u --json stats "$vm" > "$LOGS/final-$vm.json" 2>&1
        u --json info "$vm" > "$LOGS/info-$vm.json" 2>&1
    done
fi
stops_before=$(grep -c '' "$LOGS/uhv.log")
u shutdown > "$LOGS/shutdown.log" 2>&1
wait "$upid"; rc=$?
PIDS=()
if [ "$rc" = 0 ] && grep -q '^uhv-run: PASS' "$LOGS/uhv-run.log"; then ok shutdown
else bad shutdown "uhv-run ended with status $rc: $(tail -n 1 "$LOGS/uhv-run.log")"; fi
[ "$up" = 1 ] || { echo "$pass passed, $fail failed"; exit 1; }

[ "$pause_bad" = 0 ] && [ "$pauses" -ge 4 ] && ok pause-resume ||
    bad pause-resume "$pause_bad of $pauses pauses and resumes failed (${LOGS#"$ROOT"/}/actions.log)"
[ "$cycle_bad" = 0 ] && [ "$cycles" -ge 2 ] && ok cycles ||
    bad cycles "$cycle_bad cycles of cyc failed, $cycles done (${LOGS#"$ROOT"/}/actions.log)"
[ "$ping_bad" = 0 ] && [ "$pings" -ge 2 ] && ok agent-pings ||
    bad agent-pings "$ping_bad of $pings agent pings unanswered (${LOGS#"$ROOT"/}/actions.log)"
[ "$stats_bad" = 0 ] && ok stats-answered ||
    bad stats-answered "$stats_bad of $stats_n stats rounds failed (${LOGS#"$ROOT"/}/stats.err)"

# The rest from the logs.
while IFS= read -r line; do
    case $line in
        PASS\ *) ok "${line#PASS }";;
        FAIL\ *) n=${line#FAIL }; bad "${n%%: *}" "${n#*: }";;
    esac
done < <(python3 - "$LOGS" "$stops_before" 2> "$LOGS/summary.txt" <<'PY'
import json, re, sys
logs, stops_before = sys.argv[1], int(sys.argv[2])
con = open(f"{logs}/uhv.log", errors="replace").read().splitlines()
def res(name, good, why):
    print(f"PASS {name}" if good else f"FAIL {name}: {why}")
def lines(rx, src=con):
    return [m for m in (re.search(rx, l) for l in src) if m]
def guest(vm, rx):
    return lines(r"^\[" + vm + r"\] UHV-LINUX: " + rx)
def load(path):
    try:
        for l in open(path):
            l = l.strip()
            if l.startswith("{"):
                j = json.loads(l)
                if "exits" in j:
                    return j
    except (OSError, ValueError):
        pass
    return None
final = {vm: load(f"{logs}/final-{vm}.json") for vm in "ab"}

# disks
for vm in "ab":
    d = guest(vm, r"soak disk: (\d+) rounds, (\d+) bytes written with fsync and read back, (\d+) bad; final check: (\d+) slots match, (\d+) differ$")
    if not d:
        res(f"disk-{vm}", False, f"{vm} printed no 'soak disk:' verdict")
        continue
    rounds, nbytes, nbad, match, differ = map(int, d[-1].groups())
    why = []
    if rounds < 2: why.append(f"only {rounds} rounds")
    if nbad or differ: why.append(f"{nbad} rounds read back wrong, {differ} slots differ at the end")
    if match < min(rounds, 32): why.append(f"final check of {match} slots")
    disks = (final[vm] or {}).get("disks") or [{}]
    dk = disks[0]
    if dk.get("write_bytes", -1) < nbytes: why.append(f"uhv counted {dk.get('write_bytes')} bytes written, the guest {nbytes}")
    if dk.get("flushes", -1) < rounds: why.append(f"uhv counted {dk.get('flushes')} flushes for {rounds} rounds")
    if dk.get("errors", 1) != 0: why.append(f"uhv counted {dk.get('errors')} disk errors")
    res(f"disk-{vm}", not why, "; ".join(why))
    print(f"INFO disk {vm}: {rounds} rounds, {nbytes} bytes; uhv: {dk}", file=sys.stderr)

# the stream
s = guest("a", r"soak net: sent (\d+) bytes, md5 ([0-9a-f]+): nc exited 0 on try \d+$")
r = guest("b", r"soak net: received (\d+) bytes, md5 ([0-9a-f]+)$")
if s and r:
    res("stream", s[-1].groups() == r[-1].groups() and int(s[-1].group(1)) > 0,
        f"a sent {s[-1].group(1)} bytes md5 {s[-1].group(2)}, b received {r[-1].group(1)} md5 {r[-1].group(2)}")
else:
    res("stream", False, f"no verdict: a {'sent' if s else 'said nothing'}, b {'received' if r else 'said nothing'}")
res("stop-typed", bool(guest("a", r"soak: stop typed$")) and not guest("[ab]", r"soak: \d+ s passed"),
    "a did not end on the typed soak-stop")

# each guest's counters against its NIC's in uhv
nic = {}
for vm in "ab":
    c = guest(vm, r"soak eth0 tx_packets (\d+) tx_bytes (\d+) rx_packets (\d+) rx_bytes (\d+) rx_dropped (\d+)$")
    n = ((final[vm] or {}).get("nics") or [None])[0]
    nic[vm] = n
    if not c or not n:
        res(f"counters-{vm}", False, f"no counters from {'uhv' if c else vm}")
        continue
    tp, tb, rp, rb, rd = map(int, c[-1].groups())
    g = dict(tx_frames=tp, tx_bytes=tb, rx_frames=rp, rx_bytes=rb)
    diff = [f"{k}: guest {g[k]}, uhv {n.get(k)}" for k in g if g[k] != n.get(k)]
    res(f"counters-{vm}", not diff and tp > 0 and rp > 0, "; ".join(diff) or "no traffic")
    print(f"INFO nic {vm}: guest {g} rx_dropped {rd}; uhv {n}", file=sys.stderr)
if nic.get("a") and nic.get("b"):
    a, b = nic["a"], nic["b"]
    why = []
    for x, y, xn, yn in ((a, b, "a", "b"), (b, a, "b", "a")):
        if x["tx_frames"] != y["rx_frames"] + y["drops"]:
            why.append(f"{xn} sent {x['tx_frames']} frames, {yn} got {y['rx_frames']} and dropped {y['drops']}")
    res("bridge-totals", not why, "; ".join(why))

# stats samples
samples, cur = [], None
for l in open(f"{logs}/stats.jsonl", errors="replace"):
    if l.startswith("# sample"):
        cur = {}
        samples.append(cur)
    elif l.startswith("{") and cur is not None:
        try:
            j = json.loads(l)
        except ValueError:
            continue
        if "exits" in j and "vm" in j:
            cur[j["vm"]] = j
why, paused, last = [], {"busy": 0, "sleeper": 0}, {}
for k, smp in enumerate(samples, 1):
    for vm in ("a", "b", "busy", "sleeper"):
        j = smp.get(vm)
        if not j:
            why.append(f"sample {k} lacks {vm}")
            continue
        ok_states = ("running",) if vm in "ab" else ("running", "paused")
        if j["state"] not in ok_states:
            why.append(f"sample {k}: {vm} {j['state']}")
        if j["state"] == "paused":
            paused[vm] += 1
        if vm in last and (j["exits"] < last[vm]["exits"] or j["cpu_us"] < last[vm]["cpu_us"]):
            why.append(f"sample {k}: {vm}'s counters went back (exits {last[vm]['exits']} -> {j['exits']})")
        for f in ("tx_frames", "rx_frames"):
            if vm in last and j.get("nics") and j["nics"][0][f] < last[vm]["nics"][0][f]:
                why.append(f"sample {k}: {vm}'s {f} went back")
        last[vm] = j
if not samples: why.append("no samples")
for vm, n in paused.items():
    if n == 0: why.append(f"{vm} never seen paused")
res("stats", not why, "; ".join(why[:5]))
print(f"INFO {len(samples)} stats samples; paused seen {paused}", file=sys.stderr)

# no VM stopped but cyc, until the shutdown
st = [m.group(1) for m in lines(r"^uhv: vm (\S+) stopped: ", con[:stops_before])]
ev = []
try:
    for l in open(f"{logs}/ctl.log", errors="replace"):
        if l.startswith("-> ") and '"cmd":"shutdown"' in l:
            break
        m = re.search(r'"event":"vm_stopped","vm":"([^"]*)"', l)
        if m:
            ev.append(m.group(1))
except OSError:
    ev = None
other = sorted(set(x for x in st if x != "cyc")) + sorted(set(x for x in (ev or []) if x != "cyc"))
res("no-other-stops", not other and ev is not None,
    f"stopped: {other}" if other else "no ctl.log")
print(f"INFO stops of cyc: console {st.count('cyc')}, events {(ev or []).count('cyc')}", file=sys.stderr)

# agents
lost = lines(r"^uhv: vm ([ab]): agent lost")
why = [f"{m.group(1)} lost its agent" for m in lost]
for vm in "ab":
    try:
        if not re.search(r'"agent": ?true', open(f"{logs}/info-{vm}.json").read()):
            why.append(f"{vm}'s agent not connected at the end")
    except OSError:
        why.append(f"no info of {vm}")
res("agents", not why, "; ".join(why))

# uhv's memory for the VM created again and again
mem = [m.group(1) for m in lines(r"^uhv: vm cyc: memory: (.*)$")]
free = [m.group(1) for m in lines(r"^uhv: control: destroyed vm cyc, \d+M RAM freed \((\d+)M free\)$")]
at = [m.group(1) for m in lines(r"^uhv: control: created vm cyc: .*RAM at (0x[0-9a-f]+)$")]
why = []
if len(mem) < 2 or len(set(mem)) != 1: why.append(f"{len(mem)} memory lines, {len(set(mem))} different: {sorted(set(mem))[:3]}")
if len(free) < 1 or len(set(free)) != 1: why.append(f"reserve free after destroys: {free}")
if len(set(at)) != 1: why.append(f"cyc's RAM at {sorted(set(at))}")
res("memory", not why, "; ".join(why))
print(f"INFO memory of cyc ({len(mem)} starts): {mem[:1]}; reserve free after {len(free)} destroys: {sorted(set(free))}M; RAM at {sorted(set(at))}", file=sys.stderr)

f = guest("[ab]", r"kernel: ")
res("no-faults", not f, f"{len(f)} kernel fault lines, first: {f[0].string if f else ''}")
rounds = [int(m.group(1)) for m in lines(r"^\[busy\] exitloop (\d+) ")]
res("busy-runs", len(rounds) >= 2 and rounds == sorted(rounds), f"busy's rounds: {rounds[:3]}..{rounds[-3:]}")
PY
)
sed 's/^/soak: /' "$LOGS/summary.txt"
echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
