#!/usr/bin/env bash
# bench-nat.sh: a NAT network's cost per packet in host instructions,
# counted by callgrind (valgrind) in tests/bench/bench_nat.c built for the
# host with -O2: 100,000 TCP frames of 64..1514 bytes routed and translated
# each way through vmm/net/nat_router.c, beside the same frames forwarded
# by the bridge between two ports (each delivered frame copied once, as a
# NIC ring or a guest's buffer takes it). Target: NAT at most 1.5 times
# the bridge.
# usage: tools/bench-nat.sh
# Exit status: 0 measured, 2 no measurement (the reason on stderr).
set -u
export LC_ALL=C
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
command -v valgrind >/dev/null && command -v callgrind_annotate >/dev/null ||
    { echo "bench-nat.sh: no valgrind (apt-get install valgrind)" >&2; exit 2; }
dir=$(mktemp -d "${TMPDIR:-/tmp}/uhv-benchnat.XXXXXX")
trap 'rm -rf "$dir"' EXIT
N=$ROOT/vmm/net
gcc -std=c11 -O2 -I"$ROOT" "$ROOT/tests/bench/bench_nat.c" "$N/nat_router.c" "$N/nat.c" \
    "$N/dhcp_client.c" "$N/dhcp_msg.c" "$N/ipv4.c" "$N/inet_csum.c" "$N/bridge.c" "$N/tcp.c" "$ROOT/lib/bytering.c" \
    "$ROOT/lib/fmt.c" -o "$dir/bench_nat" ||
    { echo "bench-nat.sh: bench_nat.c does not build" >&2; exit 2; }
(cd "$dir" && valgrind --tool=callgrind --callgrind-out-file=callgrind.out \
    --toggle-collect='run_*' ./bench_nat > out.txt 2> valgrind.txt) ||
    { echo "bench-nat.sh: bench_nat failed: $(cat "$dir/out.txt")" >&2; exit 2; }
callgrind_annotate --inclusive=yes "$dir/callgrind.out" > "$dir/annotate.txt"
insns() { sed -nE "s/^ *([0-9,]+) .*:run_$1 .*/\\1/p" "$dir/annotate.txt" | tr -d , | head -n 1; }
frames=$(sed -nE 's/^nat: ([0-9]+) frames.*/\1/p' "$dir/out.txt")
nat=$(insns nat) bridge=$(insns bridge)
[ -n "$nat" ] && [ -n "$bridge" ] && [ -n "$frames" ] ||
    { echo "bench-nat.sh: no count for run_nat or run_bridge" >&2; exit 2; }
n100=$(( nat * 100 / frames )) b100=$(( bridge * 100 / frames ))
ratio=$(( nat * 100 / bridge ))
echo "NAT, host instructions per packet (callgrind, gcc -O2; $frames TCP frames of 64..1514 bytes, half each way)"
printf '  routed and translated (nat_router.c):    %d.%02d\n' $((n100 / 100)) $((n100 % 100))
printf '  the same frames through the bridge:      %d.%02d\n' $((b100 / 100)) $((b100 % 100))
printf '  NAT / bridge:                            %d.%02dx (target 1.50x or less)\n' $((ratio / 100)) $((ratio % 100))
