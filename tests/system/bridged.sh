#!/usr/bin/env bash
# Bridged networks: a VM's network with one of uhv's own NICs as its uplink
# (uplink = e1000.0, bridged = lan) makes the VM a peer on that NIC's LAN.
# Two uhv machines under Bochs, their e1000 NICs joined by Bochs's bxhub
# (a small Ethernet hub over UDP on 127.0.0.1): on uhv 1, VM a runs
# netpair role=a; on uhv 2, VM b runs role=b. Their HELLOs, DATA frames
# (sizes 60..1514, each checksummed) and ACKs go guest -> bridge -> uhv's
# e1000 driver -> hub -> the other uhv's driver -> bridge -> guest, so both
# PASS lines prove frames cross the uplink both ways with nothing lost,
# reordered or changed. Each uhv's summary shows the uplink's counters.
# Bochs's UDP back end (ethmod=socket) passes on to its NIC only frames to
# the NIC's own MAC and broadcast, whatever the NIC's filter says, so each
# machine's e1000 is given its VM's MAC (uhv-run --nic-mac): frames to the
# VM then reach uhv's uplink. (QEMU's has no such filter; the uplink's
# promiscuous mode matters on a real LAN.)
# Then a config naming a NIC the machine lacks: a clear message, and the
# VM runs on a host-only network.
# Prints PASS/FAIL lines and "N passed, M failed".
set -u
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
RUN=$ROOT/tools/uhv-run
LOGS=$ROOT/build/test-logs/bridged
G=$ROOT/guest-tests/build
rm -rf "$LOGS"; mkdir -p "$LOGS"
pass=0 fail=0
HUB_PID=
trap '[ -z "$HUB_PID" ] || kill "$HUB_PID" 2>/dev/null' EXIT

check() {   # check NAME LOG REGEX
    if grep -qE "$3" "$2"; then echo "PASS system/bridged/$1"; pass=$((pass + 1))
    else echo "FAIL system/bridged/$1: no line matches '$3' (log: ${2#"$ROOT"/})"; fail=$((fail + 1)); fi
}

if ! command -v bxhub >/dev/null; then
    echo "SKIP system/bridged: no bxhub (Debian's bochs package has it)"
    echo "0 passed, 0 failed, 1 skipped"
    exit 0
fi
BASE=$(( (20000 + RANDOM % 20000) & ~1 ))
bxhub -ports=2 -base="$BASE" -logfile="$LOGS/bxhub.log" > /dev/null 2>&1 &
HUB_PID=$!

# machine N ROLE MAC CMDLINE: one uhv with one netpair VM on bridged lan
machine() {
    local n=$1 role=$2 mac=$3 cmd=$4 dir=$LOGS/uhv$1
    mkdir -p "$dir"
    cp "$G/netpair.elf" "$dir/"
    printf 'uplink  = e1000.0\nbridged = lan\n[vm %s]\nimage   = netpair.elf\ncmdline = %s\nnet     = lan,mac=%s\n' \
        "$role" "$cmd" "$mac" > "$dir/uhv.cfg"
    "$RUN" -q --emulator bochs --timeout 900 --nic e1000 --nic-port $((BASE + 2 * (n - 1))) --nic-mac "$mac" \
        --config "$dir/uhv.cfg" --files "$dir" --log "$LOGS/uhv$n.log" > "$LOGS/uhv$n.verdict" 2>&1
}

mac_of() { [ "$1" = 1 ] && echo 02:00:00:00:01:0a || echo 02:00:00:00:02:0b; }
# netpair's waits are in TSC ticks without progress: long enough for the
# other machine to boot
machine 1 a "$(mac_of 1)" "role=a count=300 window=8 wait=20000000000" &
m1=$!
machine 2 b "$(mac_of 2)" "role=b ack=4 wait=20000000000" &
m2=$!
wait "$m1" "$m2"

for n in 1 2; do
    log=$LOGS/uhv$n.log
    check "uhv$n-lists-nic" "$log" "^uhv:   e1000\\.0 \\(82540EM\\) MAC $(mac_of "$n"), link up\$"
    check "uhv$n-bridged" "$log" '^uhv: network lan bridged to e1000\.0 \(link up\): its VMs are peers on that LAN; polled every [0-9]+ us$'
    check "uhv$n-uplink-counters" "$log" '^uhv: uplink e1000\.0: from the LAN [1-9][0-9]* frames .* to the LAN [1-9][0-9]* frames .* longest gap between polls [0-9]+ us$'
done
check a-pass "$LOGS/uhv1.log" '^\[a\] PASS netpair'
check b-pass "$LOGS/uhv2.log" '^\[b\] PASS netpair'

# A config that names a NIC the machine lacks: uhv says so, the network
# stays host-only, and the VM on it runs to its end
dir=$LOGS/nonic
mkdir -p "$dir"
cp "$G/hello.elf" "$dir/"
printf 'uplink  = e1000.5\nbridged = lan\n[vm h]\nimage   = hello.elf\nnet     = lan\n' > "$dir/uhv.cfg"
"$RUN" -q --emulator bochs --timeout 300 --config "$dir/uhv.cfg" --files "$dir" \
    --log "$LOGS/nonic.log" > "$LOGS/nonic.verdict" 2>&1
check no-such-nic "$LOGS/nonic.log" '^uhv: uplink e1000\.5: no such NIC; network lan stays host-only$'
check no-such-nic-vm-runs "$LOGS/nonic.log" '^\[h\] PASS hello$'
echo "$pass passed, $fail failed"
[ $fail -eq 0 ]
