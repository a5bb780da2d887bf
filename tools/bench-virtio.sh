#!/usr/bin/env bash
# bench-virtio.sh: virtio-blk figures of make bench, exact under Bochs (one
# TSC tick is one instruction). The virtio_blk guest writes a 16 MiB
# in-memory disk with 16 KiB requests, flushes, reads it back, and writes
# uhv's mark port around each phase; uhv prints the time and exit counts
# at each mark and, in its summary, the ticks spent in the device model.
set -u
export LC_ALL=C
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
dir=$(mktemp -d "${TMPDIR:-/tmp}/uhv-benchvb.XXXXXX")
trap 'rm -rf "$dir"' EXIT
cp "$ROOT/guest-tests/build/virtio_blk.elf" "$dir/"
truncate -s 16M "$dir/d.img"
printf '[vm vblk]\nimage = virtio_blk.elf\nmemory = 32M\ndisk = d.img\n' > "$dir/uhv.cfg"
log=$dir/console.log
"$ROOT/tools/uhv-run" -q --emulator bochs --timeout 600 --config "$dir/uhv.cfg" \
    --files "$dir" --log "$log" >/dev/null

khz=$(sed -nE 's/^uhv: .*TSC ([0-9]+) kHz.*/\1/p' "$log" | head -n 1)
mark() { grep -m1 "^uhv: vm vblk mark $1:" "$log"; }
tsc() { sed -nE 's/.*: tsc ([0-9]+),.*/\1/p' <<< "$1"; }
exits() { sed -nE 's/.* ([0-9]+) exits.*/\1/p' <<< "$1"; }
ticks=$(sed -nE 's/^uhv:   disk d.img: .*; ([0-9]+) ticks in the device model/\1/p' "$log")
reqs=$(sed -nE 's/^uhv:   disk d.img: ([0-9]+) reads, ([0-9]+) writes.*/\1 \2/p' "$log")
if [ -z "$khz" ] || [ -z "$ticks" ] || [ -z "$(mark 13)" ]; then
    echo "bench-virtio.sh: measurement incomplete (see a run with tools/uhv-run --keep)" >&2
    exit 2
fi
echo "virtio-blk (16 MiB in-memory disk, 16 KiB requests, TSC $khz kHz)"
for phase in "write 10 11" "read 12 13"; do
    set -- $phase
    a=$(mark "$2"); b=$(mark "$3")
    dt=$(( $(tsc "$b") - $(tsc "$a") )); de=$(( $(exits "$b") - $(exits "$a") ))
    printf '  %-5s %4d exits per MiB, %d.%02d MiB per emulated second (%d ticks per MiB, guest included)\n' \
        "$1" $((de / 16)) $((16 * khz * 1000 / dt)) $(( (16 * khz * 100000 / dt) % 100 )) $((dt / 16))
done
read -r nr nw <<< "$reqs"
kib4=$(( (nr + nw) * 4 ))    # 16 KiB requests = 4 units of 4 KiB each
echo "  device model: $ticks ticks for $((nr + nw)) requests: $((ticks / kib4)) instructions per 4 KiB (plus the exit round trips counted above, ~113 instructions each)"
