#!/usr/bin/env bash
# deps.sh: install the Debian packages uhv needs to build, run and test.
# Installs only what is missing (checked with dpkg first); runs apt-get as
# root, or through sudo otherwise.
#
# usage: tools/deps.sh [--check]
#   --check   only list the missing packages; exit 1 if any
set -eu
export LC_ALL=C

# libjson-c-dev: uhvctl's JSON; gnuplot-nox: uhvctl plot; file: its test.
# tshark: reads the pcap captures of the system tests (uhv-run --capture).
# valgrind: make bench counts the bridge's instructions with callgrind.
# gdb: tests/system/gdb.sh debugs guests with it (docs/gdb.md).
# dnsmasq-base, iproute2: tests/system/lan.sh's LAN (a namespace with a DHCP
# and DNS server) for bridged and NAT networks; prometheus: its promtool
# checks uhv's metrics, and it scrapes them there.
# bochs-x: bochs depends on "bochs-wx | bochs-gui"; naming the small X11
# plugin (never used: uhv-run uses the built-in rfb display) keeps apt from
# pulling in wxWidgets.
PACKAGES="gnu-efi nasm check qemu-system-x86 ovmf bochs bochs-x bochsbios vgabios
mtools dosfstools fdisk busybox-static cpio gcc make pkg-config
libjson-c-dev gnuplot-nox file
tshark valgrind gdb dnsmasq-base iproute2 prometheus"

missing=()
for p in $PACKAGES; do
    st=$(dpkg-query -W -f='${Status}' "$p" 2>/dev/null || true)
    [ "$st" = "install ok installed" ] || missing+=("$p")
done

if [ ${#missing[@]} -eq 0 ]; then
    echo "deps: all $(echo $PACKAGES | wc -w) packages installed"
    exit 0
fi
echo "deps: missing: ${missing[*]}"
[ "${1:-}" != --check ] || exit 1

if [ "$(id -u)" = 0 ]; then
    SUDO=()
elif command -v sudo >/dev/null; then
    SUDO=(sudo)
else
    echo "deps: not root and no sudo; install as root: apt-get install ${missing[*]}" >&2
    exit 1
fi
export DEBIAN_FRONTEND=noninteractive
# tshark's package would ask whether non-root users may capture: they need
# not, and nothing may ask.
echo "wireshark-common wireshark-common/install-setuid boolean false" |
    "${SUDO[@]+"${SUDO[@]}"}" debconf-set-selections
"${SUDO[@]+"${SUDO[@]}"}" env DEBIAN_FRONTEND=noninteractive apt-get update
"${SUDO[@]+"${SUDO[@]}"}" env DEBIAN_FRONTEND=noninteractive \
    apt-get install -y --no-install-recommends "${missing[@]}"

# Check again: apt-get can succeed without installing everything (e.g. a
# package that no configured repository has).
still=()
for p in "${missing[@]}"; do
    st=$(dpkg-query -W -f='${Status}' "$p" 2>/dev/null || true)
    [ "$st" = "install ok installed" ] || still+=("$p")
done
if [ ${#still[@]} -gt 0 ]; then
    echo "deps: still missing after apt-get: ${still[*]}" >&2
    exit 1
fi
echo "deps: installed ${missing[*]}"
