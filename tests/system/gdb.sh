#!/usr/bin/env bash
# gdb debugs uhv's guests (docs/gdb.md): Debian's gdb in batch mode, on a
# TCP port that `uhvctl gdb VM --listen` opens and carries over uhv's
# control channel to the VM's GDB stub. One boot of uhv under Bochs with
# two VMs:
#   - linux: a stock Debian kernel (1 vCPU: faster to boot under Bochs
#     than 2) with its agent (uhv.agent=1, uhv.agentwait=1); its init prints where its banner
#     lies, virtual (kallsyms) and physical (/proc/iomem), and the banner
#     itself (uhv.symbols);
#   - mb: guest-tests/gdbtarget.c, built with symbols, a 32-bit protected
#     mode guest with 2 vCPUs (the second waits for a SIPI it never
#     gets) that waits until gdb sets gdb_attached and passes only if
#     gdb wrote poked while it ran.
# Session 1 (mb): gdb sees two threads, one per vCPU, reads eip (in
#   gdbtarget's code), sets gdb_attached,
#   breaks at tick (round = 0, called from guest_main), steps a line
#   (next), sets a hardware watchpoint on counter that fires (old value 0,
#   new 1); while mb is stopped there, Linux's agent answers a ping (the
#   other VM runs on); then gdb writes poked and continues to mb's exit,
#   which it reports (code 01), and mb's own PASS says the write arrived.
# Session 2 (linux): attaching stops it; gdb takes the x86-64
#   description, reads rip (a kernel address) and the
#   banner at its virtual address (through the guest's page tables) and,
#   after `monitor phys`, at its physical one, both as the guest printed
#   it; continues; an interrupt (SIGINT to gdb: Ctrl-C, a 0x03 on the
#   wire) stops the VM again; gdb detaches, and the agent answers.
# Session 3 (linux, raw bytes): a wrong checksum gets '-', an oversized
#   packet E22, an unknown packet the empty one; the client goes without
#   detaching, uhvctl detaches for it, and the agent answers.
# Prints PASS/FAIL lines and "N passed, M failed".
set -u
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
LOGS=$ROOT/build/test-logs/gdb
UHVCTL=$ROOT/build/tools/uhvctl
ELF=$ROOT/guest-tests/build/gdbtarget.elf
PORT=${UHV_CTL_TEST_PORT:-$((20000 + RANDOM % 20000))}
GP1=$((PORT + 1)) GP2=$((PORT + 2)) GP3=$((PORT + 3))
pass=0 fail=0

ok()  { echo "PASS system/gdb/$1${UHV_TEST_TIMES:+ (${SECONDS}s)}"; pass=$((pass + 1)); }
bad() { echo "FAIL system/gdb/$1: $2"; fail=$((fail + 1)); }
check() {   # check NAME FILE REGEX
    if grep -qE -- "$3" "$2"; then ok "$1"
    else bad "$1" "no line of ${2#"$ROOT"/} matches '$3'"; return 1; fi
}
ctl() { "$UHVCTL" --connect "127.0.0.1:$PORT" --timeout 300 "$@"; }

if ! command -v gdb >/dev/null; then
    echo "SKIP system/gdb: no gdb (apt-get install gdb; tools/deps.sh does)"
    echo "0 passed, 0 failed, 1 skipped"
    exit 0
fi

# wait_agent: polls info until linux's agent is connected (or uhv ended)
wait_agent() {
    for _ in $(seq 1 300); do
        ctl --json info linux 2>/dev/null | grep -qE '"agent": ?true' && return 0
        kill -0 "$upid" 2>/dev/null || return 1
        sleep 2
    done
    return 1
}
# listening LOG: waits until uhvctl gdb says (in LOG) that it listens
listening() {
    for _ in $(seq 1 100); do
        grep -q '^uhvctl: gdb for VM ' "$1" 2>/dev/null && return 0
        sleep 0.2
    done
    return 1
}
# ping NAME: linux's agent answers a ping
ping_agent() {
    ctl agent linux ping > "$LOGS/$1.log" 2>&1
    check "$1" "$LOGS/$1.log" '^\{"pong":true\}$'
}

rm -rf "$LOGS"; mkdir -p "$LOGS/files"
[ -s "$ROOT/build/linux/vmlinuz" ] || "$ROOT/tools/mk-linux-guest.sh" >/dev/null
cp "$ROOT/build/linux/vmlinuz" "$ROOT/build/linux/initrd.gz" "$ELF" "$LOGS/files/"
cat > "$LOGS/uhv.cfg" <<'CFG'
control = on

[vm linux]
image   = vmlinuz
initrd  = initrd.gz
memory  = 256M
agent   = on
cmdline = console=ttyS0 quiet uhv.agent=1 uhv.agentwait=1 uhv.symbols

[vm mb]
image   = gdbtarget.elf
cpus    = 2
CFG
"$ROOT/tools/uhv-run" -q --config "$LOGS/uhv.cfg" --files "$LOGS/files" \
    --ctl-port "$PORT" --ctl-log "$LOGS/ctl.log" --log "$LOGS/uhv.log" \
    --timeout 1800 --expect mb=exit > "$LOGS/uhv-run.log" 2>&1 &
upid=$!
if wait_agent; then ok linux-up
else bad linux-up "linux's agent never connected (${LOGS#"$ROOT"/}/uhv.log)"; fi

# Session 1: mb, with its symbols.
cat > "$LOGS/mb.gdb" <<GDB
set pagination off
set confirm off
set remotetimeout 30
target remote 127.0.0.1:$GP1
info threads
info registers eip
set var gdb_attached = 1
break tick
continue
print round
bt
next
print counter
watch counter
continue
shell "$UHVCTL" --connect 127.0.0.1:$PORT --timeout 300 agent linux ping > "$LOGS/ping-mb-stopped.log" 2>&1
delete
set var poked = 0x1234abcd
continue
GDB
"$UHVCTL" --connect "127.0.0.1:$PORT" gdb mb --listen "127.0.0.1:$GP1" \
    > "$LOGS/uhvctl-mb.log" 2>&1 &
u1=$!
listening "$LOGS/uhvctl-mb.log" || bad mb-listen "uhvctl gdb does not listen on $GP1"
timeout 600 gdb -batch -nx -x "$LOGS/mb.gdb" "$ELF" > "$LOGS/mb.out" 2>&1
check mb-threads "$LOGS/mb.out" '^ +2 +Thread 2 '
check mb-eip "$LOGS/mb.out" '^eip +0x10[0-9a-f]{4} +0x10[0-9a-f]{4} <guest_main\+[0-9]+>$'
check mb-break "$LOGS/mb.out" '^Thread 1 hit Breakpoint 1, tick \(round=0\) at gdbtarget\.c:[0-9]+$'
check mb-print "$LOGS/mb.out" '^\$1 = 0$'
check mb-backtrace "$LOGS/mb.out" '^#1 +0x[0-9a-f]+ in guest_main '
check mb-next "$LOGS/mb.out" '^[0-9]+'$'\t''    counter = round \* 3 \+ 1;$'
check mb-watch-set "$LOGS/mb.out" '^Hardware watchpoint 2: counter$'
if grep -qx 'Old value = 0' "$LOGS/mb.out" && grep -qx 'New value = 1' "$LOGS/mb.out"; then
    ok mb-watch-fires
else bad mb-watch-fires "no 'Old value = 0' / 'New value = 1' in ${LOGS#"$ROOT"/}/mb.out"; fi
check other-vm-runs "$LOGS/ping-mb-stopped.log" '^\{"pong":true\}$'
check mb-exited "$LOGS/mb.out" '^\[Inferior 1 \(Remote target\) exited with code 01\]$'
check mb-pass "$LOGS/uhv.log" '^\[mb\] gdbtarget: counter 10 poked 0x1234abcd$'
wait "$u1"

# Session 2: linux, no symbols but what its init printed.
banner_va=$(sed -n 's/.*UHV-LINUX: symbols linux_banner \(0x[0-9a-f]*\) phys.*/\1/p' "$LOGS/uhv.log")
banner_pa=$(sed -n 's/.*UHV-LINUX: symbols linux_banner 0x[0-9a-f]* phys \(0x[0-9a-f]*\)$/\1/p' "$LOGS/uhv.log")
banner=$(sed -n 's/.*UHV-LINUX: banner \(.*\)$/\1/p' "$LOGS/uhv.log")
[ -n "$banner_va" ] && [ -n "$banner_pa" ] && [ -n "$banner" ] ||
    bad linux-symbols "the guest printed no symbols line (${LOGS#"$ROOT"/}/uhv.log)"
cat > "$LOGS/linux.gdb" <<GDB
set pagination off
set confirm off
set remotetimeout 30
target remote 127.0.0.1:$GP2
show architecture
info registers rip
x/s $banner_va
monitor phys
x/s $banner_pa
monitor virt
shell touch "$LOGS/continuing"
continue
info registers rip
detach
GDB
"$UHVCTL" --connect "127.0.0.1:$PORT" gdb linux --listen "127.0.0.1:$GP2" \
    > "$LOGS/uhvctl-linux.log" 2>&1 &
listening "$LOGS/uhvctl-linux.log" || bad linux-listen "uhvctl gdb does not listen on $GP2"
timeout 600 gdb -batch -nx -x "$LOGS/linux.gdb" > "$LOGS/linux.out" 2>&1 &
gpid=$!
# gdb's own "Continuing." waits in its output buffer (a file): its
# script marks the continue with a file of its own instead. gdb sends
# the continue (vCont) only after more round trips over the control
# channel, and a SIGINT before that aborts its script ("Quit"): so the
# interrupt waits until the VM runs again, which the agent's answer
# proves (it cannot answer while the stub holds the VM).
for _ in $(seq 1 300); do [ -e "$LOGS/continuing" ] && break; sleep 1; done
for _ in $(seq 1 60); do
    ctl --timeout 5 agent linux ping 2>/dev/null | grep -q '"pong":true' && break
    sleep 1
done
sleep 1; kill -INT "$gpid"
wait "$gpid"
check linux-arch "$LOGS/linux.out" '\(currently "i386:x86-64"\)'
check linux-rip "$LOGS/linux.out" '^rip +0xffffffff[0-9a-f]{8} '
banner_re=$(printf '%s' "${banner:0:40}" | sed 's/[][\.*^$()+?{}|/]/\\&/g')
check linux-banner-virtual "$LOGS/linux.out" "^$banner_va:"$'\t'"\"$banner_re"
check linux-banner-physical "$LOGS/linux.out" "^$banner_pa:"$'\t'"\"$banner_re"
check linux-interrupt "$LOGS/linux.out" '^(Program|Thread [0-9]+) received signal SIGINT, Interrupt\.$' ||
    sed 's/^/  linux.out: /' "$LOGS/linux.out" | tail -n 12    # what gdb said instead
check linux-detach "$LOGS/linux.out" '^\[Inferior 1 \(Remote target\) detached\]$'
ping_agent linux-runs-after-detach

# Session 3: bad packets, raw.
"$UHVCTL" --connect "127.0.0.1:$PORT" gdb linux --listen "127.0.0.1:$GP3" \
    > "$LOGS/uhvctl-raw.log" 2>&1 &
rpid=$!
listening "$LOGS/uhvctl-raw.log" || bad raw-listen "uhvctl gdb does not listen on $GP3"
cs() {   # cs TEXT: the packet checksum of TEXT, two hex digits
    local s=0 c i
    for ((i = 0; i < ${#1}; i++)); do printf -v c %d "'${1:i:1}"; s=$(((s + c) % 256)); done
    printf %02x "$s"
}
answer() {   # answer: one acknowledgement and, after '+', the packet
    local a p=
    IFS= read -r -t 60 -N 1 a <&3 || { echo TIMEOUT; return; }
    if [ "$a" = + ]; then IFS= read -r -t 60 -d '#' p <&3; IFS= read -r -t 60 -N 2 _ <&3; fi
    echo "$a$p"
}
if exec 3<>"/dev/tcp/127.0.0.1/$GP3"; then
    printf '$?#00' >&3
    r=$(answer); [ "$r" = - ] && ok raw-bad-checksum || bad raw-bad-checksum "answer '$r', not '-'"
    big=$(head -c 3000 /dev/zero | tr '\0' 'm')
    printf '$%s#%s' "$big" "$(cs "$big")" >&3
    r=$(answer); [ "$r" = '+$E22' ] && ok raw-oversized || bad raw-oversized "answer '$r', not '+\$E22'"
    printf '$qUhvNoSuchPacket#%s' "$(cs qUhvNoSuchPacket)" >&3
    r=$(answer); [ "$r" = '+$' ] && ok raw-unknown || bad raw-unknown "answer '$r', not the empty packet"
    exec 3>&-
else bad raw-connect "no connection to $GP3"; fi
if wait "$rpid"; then ok raw-uhvctl-exit; else bad raw-uhvctl-exit "uhvctl gdb failed: $(tail -n 2 "$LOGS/uhvctl-raw.log")"; fi
ping_agent linux-runs-after-close

ctl shutdown > /dev/null
if wait "$upid"; then ok shutdown; else bad shutdown "uhv-run failed (${LOGS#"$ROOT"/}/uhv-run.log)"; fi
# A VM that gdb holds cannot send heartbeats: its agent is held, as for a
# paused VM, never declared lost (it was, after each session, before).
n=$(grep -c '^uhv: vm linux: agent lost' "$LOGS/uhv.log")
[ "$n" = 0 ] && ok agent-kept || bad agent-kept "uhv said $n times that linux's agent was lost"
echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
