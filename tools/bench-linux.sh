#!/usr/bin/env bash
# bench-linux.sh: the Linux figures of make bench, exact under Bochs (one TSC
# tick is one instruction). Boots Debian's stock kernel with the test
# initramfs (tools/mk-linux-guest.sh) whose /init writes uhv's mark port:
#   mark 1 at /init's start:   instructions from uhv's entry to /init
#   mark 2, 10 s idle, mark 3: exits per second of guest time while idle,
#                              by reason (a tickless idle guest should cost
#                              almost nothing)
#   the baseline:              the same kernel and initramfs booted straight
#                              by OVMF under the same Bochs, without uhv
#                              (build/linux-direct.efi in uhv's place:
#                              tests/bench/linux_direct.c), from each UEFI
#                              application's entry to /init (uhv.direct:
#                              /init prints the TSC); target: uhv 1.2x or less
#   marks 20-23:               sequential I/O on a 16 MiB virtio-blk disk in
#                              memory (uhv.blkbench: dd bs=1M, direct I/O),
#                              exits per MiB written and read, by reason
set -u
export LC_ALL=C
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
"$ROOT/tools/mk-linux-guest.sh" >/dev/null || exit 2
dir=$(mktemp -d "${TMPDIR:-/tmp}/uhv-benchlx.XXXXXX")
trap 'rm -rf "$dir"' EXIT
cp "$ROOT/build/linux/vmlinuz" "$ROOT/build/linux/initrd.gz" "$dir/"
truncate -s 16M "$dir/d.img"
cat > "$dir/uhv.cfg" <<CFG
[vm linux]
image   = vmlinuz
initrd  = initrd.gz
memory  = 256M
disk    = d.img
cmdline = console=ttyS0 quiet uhv.idle uhv.blkbench=16
CFG
log=$dir/console.log
"$ROOT/tools/uhv-run" -q --emulator bochs --timeout 900 --config "$dir/uhv.cfg" \
    --files "$dir" --log "$log" --expect linux=poweroff

khz=$(sed -nE 's/^uhv: .*TSC ([0-9]+) kHz.*/\1/p' "$log" | head -n 1)
m1=$(grep -m1 '^uhv: vm linux mark 1:' "$log")
m2=$(grep -m1 '^uhv: vm linux mark 2:' "$log")
m3=$(grep -m1 '^uhv: vm linux mark 3:' "$log")
if [ -z "$m1" ] || [ -z "$m2" ] || [ -z "$m3" ] || [ -z "$khz" ]; then
    echo "bench-linux.sh: marks missing (see a run with tools/uhv-run --keep)" >&2
    exit 2
fi
since() { sed -nE 's/.*, ([0-9]+) since uhv.s entry.*/\1/p' <<< "$1"; }
tsc() { sed -nE 's/.*: tsc ([0-9]+),.*/\1/p' <<< "$1"; }
echo "Linux guest (Debian $(sed -nE 's/.*UHV-LINUX: init running on Linux ([^ ]+).*/\1/p' "$log" | head -n 1), 256 MiB, TSC $khz kHz)"
echo "  uhv entry -> /init:               $(since "$m1") instructions"
t2=$(tsc "$m2"); t3=$(tsc "$m3")
secs_ms=$(( (t3 - t2) / khz ))
echo "  idle at /init for:                $((secs_ms / 1000)).$(printf %03d $((secs_ms % 1000))) s of guest time"
# per-reason counts after each mark: "..., NAME count, NAME count"
counts() { sed -E 's/^[^,]*, [0-9]+ since[^,]*, [0-9]+ exits//' <<< "$1" | tr ',' '\n' | sed '/^ *$/d'; }
# grown MARK_A MARK_B: "NAME N" for each reason whose count grew between
# the two mark lines, by N
grown() {
    local name n d
    declare -A at=()
    while read -r name n; do at[$name]=$n; done < <(counts "$1")
    while read -r name n; do
        d=$((n - ${at[$name]:-0}))
        [ $d -le 0 ] || echo "$name $d"
    done < <(counts "$2")
}
total=0
while read -r name d; do
    total=$((total + d))
    printf '  idle exits/s %-19s %d.%d\n' "$name:" $((d * 1000 / secs_ms)) $(( (d * 10000 / secs_ms) % 10 ))
done < <(grown "$m2" "$m3")
printf '  idle exits/s %-19s %d.%d\n' "total:" $((total * 1000 / secs_ms)) $(( (total * 10000 / secs_ms) % 10 ))

# sequential virtio-blk I/O: exits per MiB by reason, and the requests the
# kernel sent (its block statistics: reads, sectors read, writes, sectors)
blk_phase() {   # blk_phase NAME MARK_A MARK_B
    local a b d name line=""
    a=$(grep -m1 "^uhv: vm linux mark $2:" "$log"); b=$(grep -m1 "^uhv: vm linux mark $3:" "$log")
    [ -n "$a" ] && [ -n "$b" ] || { echo "bench-linux.sh: blkbench marks missing" >&2; return 2; }
    total=0
    while read -r name d; do
        total=$((total + d))
        line="$line, $name $d"
    done < <(grown "$a" "$b")
    printf '  virtio-blk %-5s exits per MiB:  %d.%d (over 16 MiB%s), %d ticks per MiB\n' "$1" \
        $((total / 16)) $(( (total * 10 / 16) % 10 )) "$line" $(( ($(tsc "$b") - $(tsc "$a")) / 16 ))
}
blk_phase write 20 21 || exit 2
blk_phase read 22 23 || exit 2
stat=$(sed -nE 's/.*UHV-LINUX: blkbench stats +(.*)/\1/p' "$log")
limits=$(sed -nE 's/.*UHV-LINUX: blkbench 16 MiB, (.*)/\1/p' "$log")
read -r r_ios _ r_sec _ w_ios _ w_sec _ <<< "$stat"
if [ -z "$w_ios" ] || [ "$w_ios" -eq 0 ] || [ "$r_ios" -eq 0 ]; then
    echo "bench-linux.sh: no blkbench statistics from the guest" >&2
    exit 2
fi
echo "  virtio-blk requests:              $w_ios writes of $((w_sec / 2 / w_ios)) KiB on average, $r_ios reads of $((r_sec / 2 / r_ios)) KiB ($limits)"

# the baseline: the same kernel and initramfs straight from OVMF, no uhv
make -s -C "$ROOT" build/linux-direct.efi >/dev/null ||
    { echo "bench-linux.sh: build/linux-direct.efi does not build" >&2; exit 2; }
direct=$dir/direct
mkdir -p "$direct"
cp "$ROOT/build/linux/vmlinuz" "$ROOT/build/linux/initrd.gz" "$direct/"
"$ROOT/tools/uhv-run" -q --emulator bochs --timeout 900 --efi "$ROOT/build/linux-direct.efi" \
    --files "$direct" --log "$direct/console.log" --stop-on 'UHV-LINUX: tsc at /init' >/dev/null 2>&1
d_entry=$(sed -nE 's/^linux-direct: entry tsc ([0-9]+).*/\1/p' "$direct/console.log" | head -n 1)
d_init=$(sed -nE 's/.*UHV-LINUX: tsc at \/init ([0-9]+).*/\1/p' "$direct/console.log" | head -n 1)
loader=$(sed -nE 's/^uhv: .*loader tsc ([0-9]+).*/\1/p' "$log" | head -n 1)
if [ -z "$d_entry" ] || [ -z "$d_init" ] || [ -z "$loader" ]; then
    echo "bench-linux.sh: the direct boot's marks are missing (see a run of build/linux-direct.efi with tools/uhv-run --keep)" >&2
    exit 2
fi
u=$(( $(tsc "$m1") - loader )) d=$((d_init - d_entry))
ratio=$(( u * 100 / d ))
if [ $ratio -le 120 ]; then verdict=met; else verdict=MISSED; fi
echo "  loader entry -> /init under uhv:  $u instructions"
echo "  the same, straight from OVMF:     $d instructions (linux-direct.efi; no hypervisor)"
echo "  uhv against the direct boot:      $((ratio / 100)).$(printf %02d $((ratio % 100)))x (target 1.2x or less: $verdict)"
