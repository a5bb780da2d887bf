#!/usr/bin/env bash
# Builds the Linux test guest: Debian's stock kernel (linux-image-amd64,
# unmodified, taken from its package) and a small initramfs with Debian's
# busybox-static, guest-tests/linux/init and the guest agent
# (agent/uhv-agent.c, built here with `make agent`).
#
# usage: tools/mk-linux-guest.sh [OUTDIR]     (default build/linux)
# Makes OUTDIR/vmlinuz, its System.map (the kernel's symbols, for
# tests/system/gdb.sh), the virtio modules it needs (OUTDIR/modules, from
# the same package), OUTDIR/initrd.gz and a blank 8 MiB disk OUTDIR/vda.img;
# the kernel and modules are fetched once. Needs apt-get (network to Debian's mirror), cpio,
# gzip and busybox-static (tools/deps.sh installs them).
set -eu
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
OUT=${1:-$ROOT/build/linux}
INIT=$ROOT/guest-tests/linux/init
mkdir -p "$OUT"
OUT=$(cd "$OUT" && pwd)

# virtio_console: the agent's port, /dev/hvc0 (Debian: CONFIG_VIRTIO_CONSOLE=m)
MODULES="virtio_ring virtio virtio_pci_modern_dev virtio_pci_legacy_dev virtio_pci virtio_blk failover net_failover virtio_net virtio_console"
AGENT=$ROOT/build/agent/uhv-agent
XSTATE=$ROOT/build/agent/xstate-check
TSC=$ROOT/build/agent/uhv-tsc
make -s -C "$ROOT" agent >/dev/null
have_modules=1
for m in $MODULES; do [ -s "$OUT/modules/$m.ko" ] || have_modules=0; done
if [ ! -s "$OUT/vmlinuz" ] || [ ! -s "$OUT/System.map" ] || [ "$have_modules" = 0 ]; then
    work=$(mktemp -d)
    trap 'rm -rf "$work"' EXIT
    # the metapackage names the current kernel package; download that one
    pkg=$(apt-cache depends linux-image-amd64 2>/dev/null |
          sed -n 's/^ *Depends: \(linux-image-[0-9][^ ]*\)$/\1/p' | head -n 1)
    [ -n "$pkg" ] || { echo "mk-linux-guest: cannot resolve linux-image-amd64 (apt-get update?)" >&2; exit 1; }
    (cd "$work" && apt-get download "$pkg" >/dev/null)
    dpkg-deb -x "$work"/*.deb "$work/x"
    cp "$work"/x/boot/vmlinuz-* "$OUT/vmlinuz"
    cp "$work"/x/boot/System.map-* "$OUT/System.map"
    mkdir -p "$OUT/modules"
    for m in $MODULES; do
        find "$work/x/lib/modules" -name "$m.ko" -exec cp {} "$OUT/modules/" \;
    done
    echo "mk-linux-guest: kernel $pkg -> $OUT/vmlinuz, modules: $(ls "$OUT/modules" | tr '\n' ' ')"
fi

if [ ! -s "$OUT/initrd.gz" ] || [ "$INIT" -nt "$OUT/initrd.gz" ] ||
   [ "$AGENT" -nt "$OUT/initrd.gz" ] || [ "$XSTATE" -nt "$OUT/initrd.gz" ] || [ "$TSC" -nt "$OUT/initrd.gz" ] || [ "${BASH_SOURCE[0]}" -nt "$OUT/initrd.gz" ]; then
    rd=$(mktemp -d)
    mkdir -p "$rd"/bin "$rd"/dev "$rd"/proc "$rd"/sys "$rd"/tmp "$rd"/lib/modules
    cp "$OUT"/modules/*.ko "$rd/lib/modules/"
    echo "$MODULES" > "$rd/lib/modules/order"
    cp /bin/busybox "$rd/bin/busybox"
    cp "$INIT" "$rd/init"
    cp "$AGENT" "$rd/bin/uhv-agent"
    cp "$XSTATE" "$rd/bin/xstate-check"
    cp "$TSC" "$rd/bin/uhv-tsc"
    chmod 755 "$rd/init" "$rd/bin/busybox" "$rd/bin/uhv-agent" "$rd/bin/xstate-check" "$rd/bin/uhv-tsc"
    # the console node, for the kernel to open before devtmpfs is mounted
    (cd "$rd" && mknod -m 600 dev/console c 5 1 && mknod -m 666 dev/ttyS0 c 4 64)
    (cd "$rd" && find . | cpio -o -H newc --quiet | gzip -9) > "$OUT/initrd.gz"
    rm -rf "$rd"
    echo "mk-linux-guest: initramfs -> $OUT/initrd.gz"
fi

# a blank disk for the guest's virtio-blk, fresh for every run
rm -f "$OUT/vda.img"
truncate -s 8M "$OUT/vda.img"

# the next step (README.md, "A Linux guest")
echo "mk-linux-guest: boot it with a shell on its console (Ctrl-] ends the run):"
echo "  tools/uhv-run --interactive --guest \"${OUT#"$ROOT"/}/vmlinuz,name=linux,mem=256M,cpus=2,initrd=${OUT#"$ROOT"/}/initrd.gz,cmdline=console=ttyS0 uhv.shell\""
