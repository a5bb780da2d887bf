#!/usr/bin/env bash
# Storage tests: uhv's own disk drivers (ATA under Bochs, AHCI under QEMU
# q35, which needs no VMX for this) and data that survives power cycles.
# Each emulator: a blank disk image; boot 1 writes a pattern, flushes and
# reads it back (selftest = storage); boot 2 is killed abruptly right after
# its flush; boot 3 verifies (selftest = storage-verify) that the flushed
# data is there. Then a Linux-free VM check: a guest's virtio-blk disk
# backed by that disk ("disk = host:NAME") keeps what the guest wrote
# across a power cycle. Prints PASS/FAIL lines and "N passed, M failed".
set -u
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
RUN=$ROOT/tools/uhv-run
G=$ROOT/guest-tests/build
LOGS=$ROOT/build/test-logs/storage
mkdir -p "$LOGS"
pass=0 fail=0

check() {   # check NAME LOG REGEX
    if grep -qE "$3" "$2"; then echo "PASS system/storage/$1"; pass=$((pass + 1))
    else echo "FAIL system/storage/$1: no line matches '$3' (log: ${2#"$ROOT"/})"; fail=$((fail + 1)); fi
}

cycle() {   # cycle EMULATOR DEVICE
    local emu=$1 dev=$2 img=$LOGS/$1.img
    rm -f "$img"; truncate -s 8M "$img"
    "$RUN" -q --emulator "$emu" --timeout 200 --disk "$img" --global selftest=storage \
        --guest "$G/hello.elf" --log "$LOGS/$emu-write.log" >/dev/null
    check "$emu-write" "$LOGS/$emu-write.log" \
        "^uhv: storage selftest $dev: wrote, flushed and read back 2048 sectors: PASS"
    # an abrupt end right after the flush: the emulator is killed at once
    rm -f "$img"; truncate -s 8M "$img"
    "$RUN" -q --emulator "$emu" --timeout 200 --disk "$img" --global selftest=storage \
        --stop-on "^uhv: storage selftest $dev: wrote" \
        --guest "$G/hello.elf" --log "$LOGS/$emu-killed.log" >/dev/null
    "$RUN" -q --emulator "$emu" --timeout 200 --disk "$img" --global selftest=storage-verify \
        --guest "$G/hello.elf" --log "$LOGS/$emu-verify.log" >/dev/null
    check "$emu-survives-kill" "$LOGS/$emu-verify.log" \
        "^uhv: storage selftest $dev: verified 2048 sectors written by an earlier boot: PASS"
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
        --files "$dir" --stop-on '^\[vblk\] disk0: flushed' --log "$LOGS/vblk-killed.log" >/dev/null
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

cycle bochs ata0.1
cycle qemu-tcg ahci.p1
power_cycle
linux_cycle
echo "$pass passed, $fail failed"
[ $fail -eq 0 ]
