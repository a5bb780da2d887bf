#!/usr/bin/env bash
# Storage tests: uhv's own disk drivers (ATA under Bochs; AHCI, ATA on a
# PIIX3 IDE controller and NVMe under QEMU q35, which needs no VMX for this)
# and data that survives power cycles.
# Each emulator: a blank disk; boot 1 writes a pattern, flushes and reads it
# back (selftest = storage); boot 2 loses its power (SIGKILL, --kill-on) the
# moment it prints that its flush has completed; boot 3 verifies (selftest =
# storage-verify) that the flushed data is there.
# Under QEMU the disk is tests/nbd/cache-disk.py, an NBD server on 127.0.0.1
# that keeps writes in a volatile cache until NBD_CMD_FLUSH (QEMU sends one
# for the guest's FLUSH CACHE and NVMe FLUSH) and forgets them at the power cut; its flush
# takes 2 s, so a uhv that reports its flush done before the disk's FLUSH
# CACHE has completed is cut first and fails survives-kill. (Bochs's disk is
# a plain file: there every write lands, flushed or not.)
# An NVMe disk that fails a write (EIO) or never answers one: uhv reports
# the failed request and still powers off (nvme_faults).
# Then a Linux-free VM check: a guest's virtio-blk disk backed by the ATA
# disk ("disk = host:NAME") keeps what the guest wrote across a power cycle.
# Prints PASS/FAIL lines and "N passed, M failed".
set -u
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
RUN=$ROOT/tools/uhv-run
G=$ROOT/guest-tests/build
LOGS=$ROOT/build/test-logs/storage
mkdir -p "$LOGS"
pass=0 fail=0
TMP=$(mktemp -d "${TMPDIR:-/tmp}/uhv-storage.XXXXXX") || exit 2
NBD_PID=
nbd_stop() {   # the disk's power cut: what it had not flushed is lost
    [ -n "$NBD_PID" ] || return 0
    kill -TERM "$NBD_PID" 2>/dev/null; wait "$NBD_PID" 2>/dev/null; NBD_PID=
}
trap 'nbd_stop; rm -rf "$TMP"' EXIT
trap 'exit 2' INT TERM HUP
# (bash runs the INT trap only when the command it waited for died of
# SIGINT; uhv-run exits 2 after its own clean-up, so ask it)
interrupted() { grep -q '^uhv-run: INTERRUPTED by SIG' "$1" && exit 2; }
# nbd_start IMG LOG [OPTION...]: serve IMG (cache-disk.py) on 127.0.0.1;
# sets NBD_URL
nbd_start() {
    local img=$1 log=$2 i
    shift 2
    rm -f "$TMP/port"
    python3 "$ROOT/tests/nbd/cache-disk.py" "$img" --port-file "$TMP/port" --log "$log" "$@" &
    NBD_PID=$!
    for i in $(seq 100); do
        [ -s "$TMP/port" ] && { NBD_URL=nbd://127.0.0.1:$(cat "$TMP/port"); return 0; }
        kill -0 "$NBD_PID" 2>/dev/null || break
        sleep 0.1
    done
    echo "storage.sh: cache-disk.py did not start (log: ${log#"$ROOT"/})"; NBD_URL=nbd://127.0.0.1:1
}

check() {   # check NAME LOG REGEX
    if grep -qE "$3" "$2"; then echo "PASS system/storage/$1"; pass=$((pass + 1))
    else echo "FAIL system/storage/$1: no line matches '$3' (log: ${2#"$ROOT"/})"; fail=$((fail + 1)); fi
}

# boot TAG EMULATOR IMG NAME MODE [uhv-run option...]: the self-test on disk
# IMG (a file; under QEMU served by cache-disk.py, --flush-delay and the
# like from $NBD_OPTS), log $LOGS/TAG-NAME.log; uhv-run's verdict line in
# $LOGS/TAG-NAME.verdict (with its stderr); the disk's power is cut when
# the boot ends
boot() {
    local tag=$1 emu=$2 img=$3 name=$4 mode=$5 disk=$3
    shift 5
    if [ "$emu" != bochs ]; then
        nbd_start "$img" "$LOGS/$tag-$name.nbd.log" ${NBD_OPTS-}
        disk=$NBD_URL
    fi
    "$RUN" -q --emulator "$emu" --timeout 200 --disk "$disk" --global selftest="$mode" \
        --guest "$G/hello.elf" --log "$LOGS/$tag-$name.log" "$@" > "$LOGS/$tag-$name.verdict" 2>&1
    nbd_stop
    interrupted "$LOGS/$tag-$name.verdict"
}

cycle() {   # cycle TAG EMULATOR DEVICE [uhv-run option...]
    local tag=$1 emu=$2 dev=$3 img=$LOGS/$1.img
    shift 3
    rm -f "$img" "$LOGS/$tag"-*.log; truncate -s 8M "$img"
    boot "$tag" "$emu" "$img" write storage "$@"
    check "$tag-write" "$LOGS/$tag-write.log" \
        "^uhv: storage selftest $dev: wrote, flushed and read back 2048 sectors: PASS"
    # the power goes the moment uhv says its flush has completed: SIGKILL,
    # then the disk forgets its cache (under QEMU a slow flush, and half of
    # what was not flushed is written, the rest lost). The flush takes
    # 0.3 s: far longer than the ~10 ms from uhv's line to the cut, and
    # within the ATA driver's flush timeout, which counts status reads and
    # so is shorter under QEMU TCG than on hardware (2 s timed it out in
    # a clean-clone CI run under load)
    rm -f "$img"; truncate -s 8M "$img"
    NBD_OPTS="--flush-delay 0.3 --keep-random 1" \
        boot "$tag" "$emu" "$img" killed storage --kill-on "^uhv: storage selftest $dev: flushed\$" "$@"
    check "$tag-killed-at-flush" "$LOGS/$tag-killed.verdict" "killed \(SIGKILL\) at a --kill-on line"
    boot "$tag" "$emu" "$img" verify storage-verify "$@"
    check "$tag-survives-kill" "$LOGS/$tag-verify.log" \
        "^uhv: storage selftest $dev: verified 2048 sectors written by an earlier boot: PASS"
}

# A disk that fails or hangs (under QEMU, NVMe): the NBD server answers a
# write with EIO, or never answers one; uhv's driver fails the request
# (an error status, or its command timeout, after which it gives the
# controller up), the self-test says which disk and why, and uhv carries
# on to its power off instead of hanging.
nvme_faults() {
    local how
    for how in fail stall; do
        rm -f "$LOGS/nvme-$how.img"; truncate -s 8M "$LOGS/nvme-$how.img"
        NBD_OPTS="--$how-write 3" boot "nvme-$how" qemu-tcg "$LOGS/nvme-$how.img" \
            "$how" storage --disk-bus nvme
        check "qemu-tcg-nvme-$how-reported" "$LOGS/nvme-$how-$how.log" \
            '^uhv: storage selftest nvme0n1: wrote, flushed and read back [0-9]+ sectors: FAIL: write failed$'
        check "qemu-tcg-nvme-$how-carries-on" "$LOGS/nvme-$how-$how.log" \
            '^uhv: poweroff: storage selftest FAILED'
        check "qemu-tcg-nvme-$how-happened" "$LOGS/nvme-$how-$how.nbd.log" \
            "write 3: (failed with EIO|stalled, never answered)"
    done
}

# The NBD disk itself: it keeps what was flushed and forgets what was not
nbd_selftest() {
    local l n=0
    while IFS= read -r l; do
        case $l in
            PASS\ *) echo "PASS system/storage/${l#PASS }"; pass=$((pass + 1)); n=$((n + 1));;
            FAIL\ *) echo "FAIL system/storage/${l#FAIL }"; fail=$((fail + 1)); n=$((n + 1));;
        esac
    done < <(python3 "$ROOT/tests/nbd/cache-disk.py" --selftest 2>&1)
    [ $n -gt 0 ] || { echo "FAIL system/storage/nbd: cache-disk.py --selftest ran no check"; fail=$((fail + 1)); }
}

# A VM's virtio-blk disk on uhv's own disk (disk = host:ata0.1): what the
# guest's driver wrote and flushed is there after the machine powers off and
# boots again.
power_cycle() {
    local img=$LOGS/vblk.img dir=$LOGS/vblk-esp
    rm -rf "$dir" "$img"; mkdir -p "$dir"; truncate -s 2M "$img"
    cp "$G/virtio_blk.elf" "$dir/"
    for mode in "seed=5" "verify-only seed=5"; do
        printf '[vm vblk]\nimage = virtio_blk.elf\ncmdline = %s\ndisk = host:ata0.1,serial=host-disk\n' \
            "$mode" > "$dir/uhv.cfg"
        "$RUN" -q --emulator bochs --timeout 300 --disk "$img" --config "$dir/uhv.cfg" \
            --files "$dir" --log "$LOGS/vblk-${mode%% *}.log" >/dev/null
    done
    check virtio-on-host-disk-write "$LOGS/vblk-seed=5.log" '^\[vblk\] PASS virtio_blk'
    check virtio-on-host-disk-after-power-cycle "$LOGS/vblk-verify-only.log" \
        '^\[vblk\] PASS virtio_blk'
    # the machine dies the moment the guest's flush has completed
    rm -f "$img"; truncate -s 2M "$img"
    printf '[vm vblk]\nimage = virtio_blk.elf\ncmdline = seed=7\ndisk = host:ata0.1\n' > "$dir/uhv.cfg"
    "$RUN" -q --emulator bochs --timeout 300 --disk "$img" --config "$dir/uhv.cfg" \
        --files "$dir" --kill-on '^\[vblk\] disk0: flushed' --log "$LOGS/vblk-killed.log" >/dev/null
    printf '[vm vblk]\nimage = virtio_blk.elf\ncmdline = verify-only seed=7\ndisk = host:ata0.1\n' > "$dir/uhv.cfg"
    "$RUN" -q --emulator bochs --timeout 300 --disk "$img" --config "$dir/uhv.cfg" \
        --files "$dir" --log "$LOGS/vblk-after-kill.log" >/dev/null
    check virtio-killed-after-guest-flush "$LOGS/vblk-killed.log" '^\[vblk\] disk0: flushed'
    check virtio-flushed-data-after-kill "$LOGS/vblk-after-kill.log" '^\[vblk\] PASS virtio_blk'
}

# Linux: the stock virtio_blk driver writes a pattern with dd (fsync) on a
# disk uhv drives itself; after the machine powers off, a second boot finds it.
linux_cycle() {
    local img=$LOGS/linux.img dir=$LOGS/linux-esp
    rm -rf "$dir" "$img"; mkdir -p "$dir"; truncate -s 8M "$img"
    cp "$ROOT/build/linux/vmlinuz" "$ROOT/build/linux/initrd.gz" "$dir/"
    for extra in "" "uhv.blkverify"; do
        printf '[vm linux]\nimage = vmlinuz\ninitrd = initrd.gz\nmemory = 256M\ndisk = host:ata0.1,serial=uhv-ata\ncmdline = console=ttyS0 quiet %s\n' \
            "$extra" > "$dir/uhv.cfg"
        "$RUN" -q --emulator bochs --timeout 900 --disk "$img" --config "$dir/uhv.cfg" \
            --files "$dir" --expect linux=poweroff --log "$LOGS/linux${extra:+-verify}.log" >/dev/null
    done
    check linux-dd-on-host-disk "$LOGS/linux.log" \
        '^\[linux\] UHV-LINUX: vda pattern written, flushed and read back'
    check linux-data-after-power-cycle "$LOGS/linux-verify.log" \
        '^\[linux\] UHV-LINUX: vda pattern survived the power cycle'
}

nbd_selftest
cycle bochs bochs ata0.1
cycle qemu-tcg qemu-tcg ahci.p1
cycle qemu-tcg-ata qemu-tcg ata0.1 --disk-bus ide
cycle qemu-tcg-nvme qemu-tcg nvme0n1 --disk-bus nvme
nvme_faults
power_cycle
linux_cycle
echo "$pass passed, $fail failed"
[ $fail -eq 0 ]
