#!/usr/bin/env bash
# Control channel tests: a script drives a running uhv (under Bochs) through
# uhvctl and its relay on COM2 (docs/protocol.md, docs/uhvctl.md), and
# checks what uhv does from outside: its replies, its events, its counters
# and its console log. One boot of uhv with a VM from uhv.cfg (pwrbtn, which
# powers off when its ACPI power button is pressed) and VMs created at run
# time from the images folder:
#   - two busy VMs both make progress in stats; pausing one freezes its
#     counters while the other runs on; resuming it unfreezes them;
#   - a third VM does not fit in the reserve (no_room); destroying one frees
#     its memory and the third is created and runs in it;
#   - stop with a timeout presses pwrbtn's power button: it powers off by
#     itself (graceful), vm_stopped arrives; stop --timeout 0 kills at once;
#   - bad input on the control channel (malformed JSON, unknown command and
#     field, wrong type, an oversized line, binary garbage, a client that
#     leaves mid-request) gets error replies, and everything keeps running;
#   - two VMs with NICs, created where destroyed VMs were, find each other
#     on a bridge network and exchange 200 frames; stats shows their NICs;
#   - a guest that triple-faults is reported with guest_panicked;
#   - a VM created with two disks from the images folder passes its disk
#     checks; stats counts its requests; its writable disk is refused to
#     another VM;
#   - shutdown ends uhv with its summary.
# Prints PASS/FAIL lines and "N passed, M failed".
set -u
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
RUN=$ROOT/tools/uhv-run
CTL=$ROOT/build/tools/uhvctl
G=$ROOT/guest-tests/build
LOGS=$ROOT/build/test-logs/control
PORT=${UHV_CTL_TEST_PORT:-$((20000 + RANDOM % 20000))}
pass=0 fail=0

ok()  { echo "PASS system/control/$1${UHV_TEST_TIMES:+ (${SECONDS}s)}"; pass=$((pass + 1)); }
bad() { echo "FAIL system/control/$1: $2"; fail=$((fail + 1)); }
u()   { "$CTL" --connect "127.0.0.1:$PORT" --timeout 60 "$@"; }

# field VM NAME: the integer NAME of VM's stats reply
field() { u --json stats "$1" | grep -o "\"$2\":[0-9]*" | head -n 1 | cut -d: -f2; }

# raw LINE and expect_error NAME CODE LINE
. "$(dirname "${BASH_SOURCE[0]}")/ctl-client.sh"

rm -rf "$LOGS"; mkdir -p "$LOGS/files/images"
[ -s "$ROOT/build/disks/disk0.img" ] || "$ROOT/tools/mk-test-disks.sh" >/dev/null
cp "$G/progress.elf" "$G/hello.elf" "$G/netpair.elf" "$G/triplefault.elf" \
    "$G/virtio_blk.elf" "$ROOT/build/disks/disk0.img" "$ROOT/build/disks/disk1.img" \
    "$LOGS/files/images/"
printf 'control = on\nimages = images\nreserve = 32M\n' > "$LOGS/uhv.cfg"
"$RUN" -q --config "$LOGS/uhv.cfg" --files "$LOGS/files" \
    --guest "$G/pwrbtn.elf,name=pwr" --ctl-port "$PORT" --ctl-log "$LOGS/ctl.log" \
    --log "$LOGS/uhv.log" --timeout 900 \
    --expect pwr=poweroff --expect nb=exit --expect vblk=exit >/dev/null &
upid=$!
# uhv is up when its greeting has come (the relay replays it to clients)
for _ in $(seq 1 60); do u events --wait hello --timeout 300 >/dev/null 2>&1 && break; sleep 2; done
if u version | grep -q "protocol 1"; then ok version; else bad version "no answer from uhv"; fi

# Two busy VMs made at run time; both make progress.
for w in w1 w2; do
    u create "$w" --image images/progress.elf --memory 16M \
        --cmdline "ticks=500000000000" >/dev/null && u start "$w" >/dev/null ||
        bad "create-$w" "create or start failed"
done
a1=$(field w1 exits); a2=$(field w2 exits); sleep 4
b1=$(field w1 exits); b2=$(field w2 exits)
if [ "${b1:-0}" -gt "${a1:-0}" ] && [ "${b2:-0}" -gt "${a2:-0}" ]; then
    ok both-progress
else bad both-progress "exits w1 $a1 -> $b1, w2 $a2 -> $b2"; fi

# Watching them: top, and a CSV record drawn as a PNG.
u top --interval 1 --count 2 > "$LOGS/top.txt" 2>&1
if [ "$(grep -cE '^ *w[12] +running' "$LOGS/top.txt")" -ge 4 ]; then ok top
else bad top "top lacks w1/w2 rows: $(head -c 300 "$LOGS/top.txt")"; fi
u record "$LOGS/rec.csv" --interval 1 --count 3 >/dev/null 2>&1
if [ "$(grep -c ',w1,running,' "$LOGS/rec.csv" 2>/dev/null)" -ge 2 ] &&
   u plot "$LOGS/rec.csv" -o "$LOGS/rec.png" >/dev/null 2>&1 &&
   file "$LOGS/rec.png" | grep -q 'PNG image'; then
    ok record-plot
else bad record-plot "no CSV rows or no PNG (${LOGS#"$ROOT"/}/rec.csv)"; fi

# Pausing w1 freezes its counters while w2 runs on.
u pause w1 >/dev/null
p1=$(field w1 exits); c1=$(field w1 cpu_us); q2=$(field w2 exits); sleep 4
r1=$(field w1 exits); d1=$(field w1 cpu_us); s2=$(field w2 exits)
if [ -n "$p1" ] && [ "$p1" = "$r1" ] && [ "$c1" = "$d1" ] && [ "${s2:-0}" -gt "${q2:-0}" ] &&
   u info w1 | grep -q "paused"; then
    ok pause-freezes
else bad pause-freezes "w1 exits $p1 -> $r1, cpu_us $c1 -> $d1; w2 $q2 -> $s2"; fi
u resume w1 >/dev/null; sleep 3
t1=$(field w1 exits)
if [ "${t1:-0}" -gt "${r1:-0}" ]; then ok resume; else bad resume "w1 exits $r1 -> $t1"; fi

# No room for a third VM; destroying w1 gives its memory to w3.
out=$(u create w3 --image images/hello.elf --memory 16M 2>&1)
case $out in *no_room*) ok no-room;; *) bad no-room "create w3 said: $out";; esac
u stop w1 --timeout 0 >/dev/null && u destroy w1 >/dev/null
u events --wait vm_stopped --vm w3 --timeout 120 > "$LOGS/w3.event" 2>&1 &
epid=$!
sleep 1
if u create w3 --image images/hello.elf --memory 16M >/dev/null && u start w3 >/dev/null &&
   wait "$epid" && grep -q 'result="exit"' "$LOGS/w3.event"; then
    ok destroy-frees-memory
else bad destroy-frees-memory "w3 did not run in w1's memory: $(cat "$LOGS/w3.event")"; fi
if u list | grep -q "w1"; then bad destroyed-gone "w1 still listed"; else ok destroyed-gone; fi

# Graceful stop: the power button, and pwrbtn powers itself off.
if out=$(u stop pwr --timeout 60 --wait 2>&1) && [[ $out == *poweroff* ]]; then
    ok graceful-stop
else bad graceful-stop "stop pwr said: $out"; fi

# Bad input on the control channel.
expect_error bad-json parse_error 'this is not JSON\n'
expect_error unknown-command unknown_command '{"id":1,"cmd":"frobnicate"}\n'
expect_error unknown-field unknown_field '{"id":2,"cmd":"list","colour":"red"}\n'
expect_error wrong-type wrong_type '{"id":3,"cmd":"info","vm":7}\n'
expect_error no-such-vm no_such_vm '{"id":4,"cmd":"start","vm":"nosuch"}\n'
expect_error bad-state bad_state '{"id":5,"cmd":"resume","vm":"w2"}\n'
expect_error oversized line_too_long "{\"id\":6,\"cmd\":\"list\",\"x\":\"$(head -c 5000 /dev/zero | tr '\0' a)\"}\n"
expect_error binary-garbage parse_error '\001\377\376{{{\200\033[2J\n'
exec 3<>"/dev/tcp/127.0.0.1/$PORT" && printf '{"id":7,"cmd":"li' >&3 && exec 3<&-
sleep 3
v1=$(field w2 exits); sleep 3; v2=$(field w2 exits)
if u list >/dev/null && [ "${v2:-0}" -gt "${v1:-0}" ]; then
    ok still-running
else bad still-running "after bad input: w2 exits $v1 -> $v2"; fi

# VMs with NICs made at run time, in the memory of two destroyed ones:
# they find each other on network lan and exchange frames.
u stop w2 --timeout 0 >/dev/null; u destroy w2 >/dev/null; u destroy w3 >/dev/null
u events --wait vm_stopped --vm nb --timeout 300 > "$LOGS/nb.event" 2>&1 &
epid=$!
sleep 1
for r in a b; do
    u create "n$r" --image images/netpair.elf --memory 16M --net lan \
        --cmdline "role=$r count=200" >/dev/null && u start "n$r" >/dev/null ||
        bad "create-n$r" "create or start failed"
done
if wait "$epid" && grep -q 'result="exit" status=1' "$LOGS/nb.event"; then
    ok runtime-network
else bad runtime-network "nb: $(cat "$LOGS/nb.event")"; fi
out=$(u --json stats na)
case $out in
    *'"network":"lan"'*'"tx_frames":'[1-9]*) ok nic-stats;;
    *) bad nic-stats "stats na: $out";;
esac

# A guest that crashes (triple fault): guest_panicked, then vm_stopped.
u destroy na >/dev/null
u events --wait guest_panicked --vm tf --timeout 120 > "$LOGS/tf.event" 2>&1 &
epid=$!
sleep 1
u create tf --image images/triplefault.elf >/dev/null && u start tf >/dev/null
if wait "$epid" && grep -q 'triple fault' "$LOGS/tf.event"; then
    ok guest-panicked
else bad guest-panicked "tf: $(cat "$LOGS/tf.event")"; fi

# Disks at run time: the virtio_blk guest checks its two disks (pattern,
# read-only, refusals); its writable disk cannot go to a second VM.
u destroy tf >/dev/null
u events --wait vm_stopped --vm vblk --timeout 300 > "$LOGS/vblk.event" 2>&1 &
epid=$!
sleep 1
u create vblk --image images/virtio_blk.elf --cmdline seed=3 \
    --disk images/disk0.img,serial=uhv-d0 --disk images/disk1.img,ro,serial=uhv-d1 \
    >/dev/null && u start vblk >/dev/null
if wait "$epid" && grep -q 'result="exit" status=1' "$LOGS/vblk.event"; then
    ok runtime-disks
else bad runtime-disks "vblk: $(cat "$LOGS/vblk.event")"; fi
out=$(u --json stats vblk)
case $out in
    *'"name":"images/disk0.img","reads":'[1-9]*'"write_bytes":'[1-9]*) ok disk-stats;;
    *) bad disk-stats "stats vblk: $out";;
esac
out=$(u create vb2 --image images/virtio_blk.elf --disk images/disk0.img 2>&1)
case $out in
    *"in use by VM 'vblk'"*) ok disk-in-use;;
    *) bad disk-in-use "create vb2 said: $out";;
esac

# The end: shutdown; uhv prints its summary and powers off.
u shutdown >/dev/null
if wait "$upid"; then ok shutdown; else bad shutdown "uhv-run failed (log: ${LOGS#"$ROOT"/}/uhv.log)"; fi
if grep -q '^uhv: control: destroyed vm w1, 16M RAM freed' "$LOGS/uhv.log" &&
   grep -q '^\[pwr\] power button pressed' "$LOGS/uhv.log" &&
   grep -qE '^\[nb\] b: received 200 DATA frames of 200, .* 0 lost' "$LOGS/uhv.log" &&
   grep -q '^\[vblk\] disk0: read and compared 8192 sectors' "$LOGS/uhv.log"; then
    ok console-log
else bad console-log "uhv.log lacks the destroy or power button lines"; fi
echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
