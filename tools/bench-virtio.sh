#!/usr/bin/env bash
# bench-virtio.sh: virtio-blk figures of make bench, exact under Bochs (one
# TSC tick is one instruction). The virtio_blk guest writes a 16 MiB
# in-memory disk, flushes, reads it back, and writes uhv's mark port around
# each phase's requests; uhv prints the time and exit counts by reason at
# each mark and, in its summary, the ticks spent in the device model.
# Two runs:
#   16 KiB requests of 4 KiB segments, every word of every sector checked
#     (the guest's default, and the figure make bench has always shown);
#   1 MiB requests, as Linux's own sequential I/O sends them (dd bs=1M
#     with direct I/O: 512 KiB to 1 MiB, tools/bench-linux.sh shows it),
#     each sector's number and seed checked (light-pattern): this is the
#     figure against the target, 2 exits per MiB or fewer.
# Each phase's exits are split into notifications (EPT_VIOLATION: a write
# to the notify register), time-slice ends (PREEMPTION_TIMER: they come
# with guest time, I/O or not) and the rest.
set -u
export LC_ALL=C
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
TARGET=2
dir=$(mktemp -d "${TMPDIR:-/tmp}/uhv-benchvb.XXXXXX")
trap 'rm -rf "$dir"' EXIT
cp "$ROOT/guest-tests/build/virtio_blk.elf" "$dir/"

# one_run TITLE CMDLINE: boot the guest once and print its two phases.
one_run() {
    local title=$1 cmdline=$2 log=$dir/console.log
    truncate -s 0 "$dir/d.img"; truncate -s 16M "$dir/d.img"
    printf '[vm vblk]\nimage = virtio_blk.elf\nmemory = 32M\ndisk = d.img\ncmdline = %s\n' \
        "$cmdline" > "$dir/uhv.cfg"
    "$ROOT/tools/uhv-run" -q --emulator bochs --timeout 600 --config "$dir/uhv.cfg" \
        --files "$dir" --log "$log" >/dev/null
    khz=$(sed -nE 's/^uhv: .*TSC ([0-9]+) kHz.*/\1/p' "$log" | head -n 1)
    ticks=$(sed -nE 's/^uhv:   disk d.img: .*; ([0-9]+) ticks in the device model/\1/p' "$log")
    reqs=$(sed -nE 's/^uhv:   disk d.img: ([0-9]+) reads, ([0-9]+) writes.*/\1 \2/p' "$log")
    if [ -z "$khz" ] || [ -z "$ticks" ] || [ -z "$(mark 13)" ] ||
       ! grep -q '^\[vblk\] PASS virtio_blk' "$log"; then
        echo "bench-virtio.sh: $title: measurement incomplete (see a run with tools/uhv-run --keep)" >&2
        return 2
    fi
    echo "virtio-blk, $title (16 MiB in-memory disk, TSC $khz kHz)"
    for phase in "write 10 11" "read 12 13"; do
        set -- $phase
        a=$(mark "$2"); b=$(mark "$3")
        dt=$(( $(tsc "$b") - $(tsc "$a") )); de=$(( $(exits "$b" total) - $(exits "$a" total) ))
        kicks=$(( $(exits "$b" EPT_VIOLATION) - $(exits "$a" EPT_VIOLATION) ))
        slices=$(( $(exits "$b" PREEMPTION_TIMER) - $(exits "$a" PREEMPTION_TIMER) ))
        printf '  %-5s %s exits per MiB (%s notifications, %s slice ends, %s other), %d.%02d MiB per emulated second (%d ticks per MiB, guest included)\n' \
            "$1" "$(per_mib "$de")" "$(per_mib "$kicks")" "$(per_mib "$slices")" \
            "$(per_mib $((de - kicks - slices)))" $((16 * khz * 1000 / dt)) \
            $(( (16 * khz * 100000 / dt) % 100 )) $((dt / 16))
        worst=$(( de > worst ? de : worst ))
    done
    read -r nr nw <<< "$reqs"
    echo "  device model: $ticks ticks for $((nr + nw)) requests, $(( ticks * 4 / (2 * 16 * 1024) )) instructions per 4 KiB moved"
}
mark() { grep -m1 "^uhv: vm vblk mark $1:" "$dir/console.log"; }
tsc() { sed -nE 's/.*: tsc ([0-9]+),.*/\1/p' <<< "$1"; }
# exits LINE REASON|total: a count off a mark line (0 if the reason is absent)
exits() {
    local n
    if [ "$2" = total ]; then n=$(sed -nE 's/.* ([0-9]+) exits.*/\1/p' <<< "$1")
    else n=$(sed -nE "s/.*[ ,]$2 ([0-9]+).*/\\1/p" <<< "$1"); fi
    echo "${n:-0}"
}
# per_mib N: N exits over 16 MiB, per MiB with one decimal
per_mib() { printf '%d.%d' $(( $1 / 16 )) $(( ($1 * 10 / 16) % 10 )); }

worst=0
one_run "16 KiB requests, full pattern" "" || exit 2
worst=0
one_run "1 MiB requests (as Linux sends sequential I/O), light pattern" \
    "request-kib=1024 seg-kib=256 light-pattern" || exit 2
if [ $((worst)) -le $((TARGET * 16)) ]; then verdict=met
else verdict="MISSED: $(per_mib "$worst")"; fi
echo "  target:  <= $TARGET exits per MiB with 1 MiB requests: $verdict"
