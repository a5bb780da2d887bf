#!/usr/bin/env bash
# NIC tests: uhv's own NIC drivers (selftest = net, which needs no VMX)
# against tests/net/echo-peer.py outside the emulator: the emulator carries
# the NIC's frames as UDP datagrams on 127.0.0.1 (tools/uhv-run --nic-port).
# For each NIC model, under QEMU TCG (e1000, e1000e, virtio-net-pci) and
# Bochs (e1000):
#   - uhv finds the NIC, reads its MAC from the EEPROM (the one uhv-run
#     gave the emulator) and sees the link up;
#   - 24 frames one at a time and a burst of 16 go out with contents the
#     peer checks (all 40 good, none bad), and come back answered with
#     contents uhv checks (uhv's PASS line);
#   - a peer that answers frame 5 with one wrong byte makes uhv's check
#     fail (the check is real).
# Prints PASS/FAIL lines and "N passed, M failed".
set -u
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
RUN=$ROOT/tools/uhv-run
LOGS=$ROOT/build/test-logs/nic
MAC=52:54:00:75:68:76                  # tools/uhv-run's NIC_MAC
rm -rf "$LOGS"; mkdir -p "$LOGS"
pass=0 fail=0
PEER_PID=
trap '[ -z "$PEER_PID" ] || kill "$PEER_PID" 2>/dev/null' EXIT

check() {   # check NAME LOG REGEX
    if grep -qE "$3" "$2"; then echo "PASS system/nic/$1"; pass=$((pass + 1))
    else echo "FAIL system/nic/$1: no line matches '$3' (log: ${2#"$ROOT"/})"; fail=$((fail + 1)); fi
}

# selftest TAG EMULATOR MODEL [PEER OPTION...]: one boot against a peer
selftest() {
    local tag=$1 emu=$2 model=$3 port
    shift 3
    port=$((30000 + RANDOM % 20000))
    python3 "$ROOT/tests/net/echo-peer.py" --port "$port" --log "$LOGS/$tag.peer" "$@" &
    PEER_PID=$!
    for _ in $(seq 50); do [ -s "$LOGS/$tag.peer" ] && break; sleep 0.1; done
    "$RUN" -q --emulator "$emu" --timeout 300 --nic "$model" --nic-port "$port" \
        --global selftest=net --guest "$ROOT/guest-tests/build/hello.elf" \
        --log "$LOGS/$tag.log" > "$LOGS/$tag.verdict" 2>&1
    kill "$PEER_PID"; wait "$PEER_PID" 2>/dev/null; PEER_PID=
}

# nic_case EMULATOR MODEL NAME CHIP: one NIC model under one emulator
nic_case() {
    local emu=$1 model=$2 name=$3 chip=$4 tag=$1-$2
    selftest "$tag" "$emu" "$model"
    check "$tag-mac-and-link" "$LOGS/$tag.log" "^uhv: net: $name MAC $MAC, link up$"
    check "$tag-round-trips" "$LOGS/$tag.log" \
        "^uhv: net selftest $name \\($chip\\): 40 frames sent, 40 received, round trip mean [0-9]+ us, slowest [0-9]+ us: PASS$"
    check "$tag-peer-checked" "$LOGS/$tag.peer" '^peer: 40 test frames checked, 0 bad, '
    check "$tag-powers-off" "$LOGS/$tag.log" '^uhv: poweroff: net selftest passed'
}

nic_case qemu-tcg e1000 'e1000\.0' 82540EM
nic_case qemu-tcg e1000e 'e1000e\.0' 82574L
nic_case qemu-tcg virtio-net-pci 'virtio-net\.0' 'virtio 1\.x'
nic_case bochs e1000 'e1000\.0' 82540EM

selftest qemu-tcg-corrupt qemu-tcg e1000 --corrupt 5
check qemu-tcg-corrupt-reply-caught "$LOGS/qemu-tcg-corrupt.log" \
    '^uhv: net selftest e1000\.0 \(82540EM\): 5 frames sent, .*: FAIL: a reply was missing or wrong$'
check qemu-tcg-corrupt-fails "$LOGS/qemu-tcg-corrupt.log" '^uhv: poweroff: net selftest FAILED'
echo "$pass passed, $fail failed"
[ $fail -eq 0 ]
