#!/usr/bin/env bash
# bench-bridge.sh: the bridge's cost per forwarded frame in host
# instructions, counted by callgrind (valgrind) in tests/bench/bench_bridge.c
# built for the host with -O2: 100,000 frames of 64..1514 bytes forwarded
# between two ports, each copied into a receive buffer as virtio-net copies
# into a guest's, against a plain memcpy of the same frames; the same
# frames with a checksum left unfinished (CSUM), passed on to receivers that
# finish it (GUEST_CSUM) or finished by the bridge for receivers that do
# not; and a MAC-table spray (every frame evicts the oldest station).
# usage: tools/bench-bridge.sh
# Exit status: 0 measured, 2 no measurement (the reason on stderr).
set -u
export LC_ALL=C
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
command -v valgrind >/dev/null && command -v callgrind_annotate >/dev/null ||
    { echo "bench-bridge.sh: no valgrind (apt-get install valgrind)" >&2; exit 2; }
dir=$(mktemp -d "${TMPDIR:-/tmp}/uhv-benchbr.XXXXXX")
trap 'rm -rf "$dir"' EXIT
gcc -std=c11 -O2 -I"$ROOT" "$ROOT/tests/bench/bench_bridge.c" "$ROOT/vmm/net/bridge.c" \
    "$ROOT/vmm/net/inet_csum.c" "$ROOT/lib/fmt.c" -o "$dir/bench_bridge" ||
    { echo "bench-bridge.sh: bench_bridge.c does not build" >&2; exit 2; }
(cd "$dir" && valgrind --tool=callgrind --callgrind-out-file=callgrind.out \
    --toggle-collect='run_*' ./bench_bridge > out.txt 2> valgrind.txt) ||
    { echo "bench-bridge.sh: bench_bridge failed: $(cat "$dir/out.txt")" >&2; exit 2; }
callgrind_annotate --inclusive=yes "$dir/callgrind.out" > "$dir/annotate.txt"

# insns RUN: run_RUN's inclusive instructions; frames WHAT: the frames the
# program says its WHAT line moved
insns() { sed -nE "s/^ *([0-9,]+) .*:run_$1 .*/\\1/p" "$dir/annotate.txt" | tr -d , | head -n 1; }
frames() { sed -nE "s/^$1: ([0-9]+) frames.*/\\1/p" "$dir/out.txt"; }
# per RUN WHAT: instructions per frame, two decimals (X100 in per100)
per() {
    local i f
    i=$(insns "$1") f=$(frames "$2")
    [ -n "$i" ] && [ -n "$f" ] && [ "$f" -gt 0 ] || { echo "bench-bridge.sh: no count for run_$1" >&2; exit 2; }
    per100=$(( i * 100 / f ))
}
# dec X100: X100 / 100 with two decimals and its sign
dec() { local v=$1 s=; [ "$v" -ge 0 ] || { v=$((-v)); s=-; }; printf '%s%d.%02d' "$s" $((v / 100)) $((v % 100)); }
per bridge bridge;  bridge=$per100
per memcpy memcpy;  copy=$per100
per csum csum;      csum=$per100
per finish finish;  finish=$per100
per spray spray;    spray=$per100
bytes=$(sed -nE 's/^memcpy: [0-9]+ frames copied, ([0-9]+) bytes/\1/p' "$dir/out.txt")
echo "bridge, host instructions per frame (callgrind, gcc -O2; $(frames bridge) frames of 64..1514 bytes, $(( bytes / $(frames bridge) )) on average)"
echo "  forwarded, with its copy to the receiver:  $(dec "$bridge")"
echo "  plain memcpy of the same frames:           $(dec "$copy")"
echo "  what the bridge adds to the copy:          $(dec $((bridge - copy)))"
echo "  checksum left unfinished, passed on:       $(dec "$csum") ($(dec $((csum - bridge))) more for the metadata)"
echo "  checksum finished by the bridge:           $(dec "$finish") (receivers without GUEST_CSUM: a copy and the sum)"
echo "  MAC table spray, every frame evicts:       $(dec "$spray")"
