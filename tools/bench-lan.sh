#!/usr/bin/env bash
# bench-lan.sh: a stock Linux guest's 2 MiB HTTP download through a NAT
# network and through a bridged one, under Bochs on a LAN in a network
# namespace (tests/system/lan.sh, which also checks the downloads): VM
# exits per 1,000 packets of the guest's eth0, and MiB per emulated second
# (Bochs: the TSC counts instructions, at the kHz uhv measured).
# usage: tools/bench-lan.sh
# Exit status: 0 measured, 2 no measurement (the reason on stderr).
set -u
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
out=$("$ROOT/tests/system/lan.sh" 2>&1)
figs=$(grep '^figure: ' <<< "$out")
[ -n "$figs" ] || { echo "bench-lan.sh: lan.sh gave no figures: $(tail -n 3 <<< "$out")" >&2; exit 2; }
echo "LAN downloads under Bochs (tests/system/lan.sh; $(tail -n 1 <<< "$out"))"
sed 's/^figure: /  /' <<< "$figs"
