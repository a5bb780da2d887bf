#!/usr/bin/env bash
# Disk images for the virtio-blk system tests, with the test guest:
# build/disks/disk0.img
# (4 MiB, written by the test) and disk1.img (1 MiB, given read-only).
# Sparse and zeroed; recreated on every call so each run starts clean.
set -eu
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
OUT=$ROOT/build/disks
mkdir -p "$OUT"
rm -f "$OUT/disk0.img" "$OUT/disk1.img"
truncate -s 4M "$OUT/disk0.img"
truncate -s 1M "$OUT/disk1.img"
# the guests that drive them (virtio_blk, netpair, netbad), so one folder holds the
# whole ESP payload
cp "$ROOT/guest-tests/build/virtio_blk.elf" "$OUT/"
cp "$ROOT/guest-tests/build/netpair.elf" "$OUT/"
cp "$ROOT/guest-tests/build/netbad.elf" "$OUT/"
