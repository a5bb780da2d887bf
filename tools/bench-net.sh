#!/usr/bin/env bash
# bench-net.sh: virtio-net figures of make bench, exact under Bochs (one TSC
# tick is one instruction). Two netpair guests on one network: A sends
# COUNT unicast DATA frames of one size to B (a window of frames per
# notification, B ACKing every few), and both write uhv's mark port when
# the exchange starts and ends (netpair `mark`); uhv prints the time and
# each VM's exits by reason at each mark. Run once with 64-byte and once
# with 1514-byte frames (Ethernet header included, no FCS):
#   exits per 1,000 packets   A's and B's exits between their marks, all
#                             reasons (notifications, time-slice ends, ...)
#   packets and MiB per emulated second   COUNT frames over A's marks
# Both sizes run twice: with uhv's default time slice, and with a short one
# (global timeslice = SHORT_SLICE). Both guests poll and never halt, so
# each runs out its slice, and with the default the rates measure the
# round robin more than the data path; the short slice shows the path.
# usage: tools/bench-net.sh [COUNT]   (default 2000)
set -u
export LC_ALL=C
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
COUNT=${1:-2000}
SHORT_SLICE=50000
dir=$(mktemp -d "${TMPDIR:-/tmp}/uhv-benchnet.XXXXXX")
trap 'rm -rf "$dir"' EXIT
cp "$ROOT/guest-tests/build/netpair.elf" "$dir/"

# run SIZE SLICE: one boot (SLICE: a timeslice, or "" for uhv's default);
# the console log is $dir/SIZE-SLICE.log
run() {
    local global=()
    [ -z "$2" ] || global=(--global "timeslice=$2")
    printf '[vm a]\nimage = netpair.elf\ncmdline = role=a count=%s size=%s mark\nnet = lan\n[vm b]\nimage = netpair.elf\ncmdline = role=b size=%s mark\nnet = lan\n' \
        "$COUNT" "$1" "$1" > "$dir/uhv.cfg"
    "$ROOT/tools/uhv-run" -q --emulator bochs --timeout 600 "${global[@]}" \
        --config "$dir/uhv.cfg" --files "$dir" --log "$dir/$1-$2.log" >/dev/null
}

mark() { grep -m1 "^uhv: vm $2 mark $3:" "$dir/$1.log"; }
tsc() { sed -nE 's/.*: tsc ([0-9]+),.*/\1/p' <<< "$1"; }
# per-reason counts after a mark: "NAME count" lines
counts() { sed -E 's/^[^,]*, [0-9]+ since[^,]*, [0-9]+ exits//' <<< "$1" | tr ',' '\n' | sed '/^ *$/d'; }
declare -A delta
# add_exits LOG VM: delta[reason] += exits between VM's marks 20 and 21
add_exits() {
    local -A before=()
    local name n
    while read -r name n; do before[$name]=$n; done < <(counts "$(mark "$1" "$2" 20)")
    while read -r name n; do
        delta[$name]=$(( ${delta[$name]:-0} + n - ${before[$name]:-0} ))
    done < <(counts "$(mark "$1" "$2" 21)")
}
# dec X100: X100 / 100 with two decimals
dec() { printf '%d.%02d' $(($1 / 100)) $(($1 % 100)); }

first=1
for slice in "" $SHORT_SLICE; do
for size in 64 1514; do
    run "$size" "$slice"
    id=$size-$slice
    log=$dir/$id.log
    khz=$(sed -nE 's/^uhv: .*TSC ([0-9]+) kHz.*/\1/p' "$log" | head -n 1)
    ticks=$(sed -nE 's/^uhv: running .*, time slice ([0-9]+) TSC ticks.*/\1/p' "$log" | head -n 1)
    ok=$(grep -cE "^\[(a|b)\] PASS netpair" "$log")
    if [ -z "$khz" ] || [ "$ok" != 2 ] || [ -z "$(mark "$id" a 21)" ] || [ -z "$(mark "$id" b 21)" ]; then
        echo "bench-net.sh: $size-byte run${slice:+ (timeslice $slice)} incomplete (see a run with tools/uhv-run --keep)" >&2
        exit 2
    fi
    if [ $first = 1 ]; then
        echo "virtio-net guest to guest (netpair A -> B on one network, $COUNT frames a run, TSC $khz kHz)"
        first=0
    fi
    if [ "$size" = 64 ]; then
        if [ -n "$slice" ]; then how="timeslice = $slice"; else how="uhv's default"; fi
        echo "  time slice $ticks ticks ($how):"
    fi
    dt=$(( $(tsc "$(mark "$id" a 21)") - $(tsc "$(mark "$id" a 20)") ))
    delta=()
    add_exits "$id" a
    add_exits "$id" b
    total=0 detail=
    for r in $(printf '%s\n' "${!delta[@]}" | sort); do
        [ "${delta[$r]}" -gt 0 ] || continue
        total=$((total + delta[$r]))
        detail="$detail, $r $(dec $((delta[$r] * 100000 / COUNT)))"
    done
    pps=$(( COUNT * khz * 1000 / dt ))
    mib100=$(( COUNT * size * khz * 1000 / dt * 100 / 1048576 ))
    printf '    %4d-byte frames: %s exits per 1,000 packets (%s), %d packets and %s MiB per emulated second (%d ticks per packet, guests included)\n' \
        "$size" "$(dec $((total * 100000 / COUNT)))" "${detail#, }" "$pps" "$(dec "$mib100")" $((dt / COUNT))
    window=$(sed -nE 's/^\[a\] a: sending .* window ([0-9]+)$/\1/p' "$log")
    kicks=$(sed -nE 's/^\[a\] a: .* tx ([0-9]+ kicks \([0-9]+ suppressed\)).*/\1/p' "$log")
    echo "      A: window $window, tx $kicks"
done
done
echo "  (netpair polls, so each guest runs out its slice: the default slice holds A to one window a round of two slices, which is the scheduler's rate; the short one shows the data path and netpair's own per-byte fill and checksum, which dominate at 1514 bytes, with a PREEMPTION_TIMER exit per slice)"
