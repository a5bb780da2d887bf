#!/usr/bin/env bash
# bench-linux-net.sh: guest-to-guest figures of make bench with two stock
# Debian kernels (tools/mk-linux-guest.sh), exact under Bochs (one TSC tick
# is one instruction). Their stock virtio_net drivers are interrupt driven
# and halt when idle, unlike the polling netpair guests of bench-net.sh.
# A sends B a file of BYTES (default 4 MiB, a text pattern made by /init,
# uhv.ncsize) with busybox nc over TCP; both write uhv's mark port when the
# transfer starts and ends as they see it (marks 10 and 11, /init), and uhv
# prints the time and each VM's exits by reason at each mark:
#   MiB and packets per emulated second   the file over A's marks; packets
#                          are A's eth0 tx + rx during them (data and ACKs;
#                          nothing else is on the network)
#   exits per 1,000 packets   A's and B's exits between their marks, all
#                          reasons, over those packets
# It checks the md5 B received against A's, shows whether the drivers took
# CSUM, GUEST_CSUM and MRG_RXBUF, and uhv's NIC counters for the run.
# usage: tools/bench-linux-net.sh [BYTES]
#        tools/bench-linux-net.sh --log FILE   (the figures of a kept log)
#   UHV_BENCH_KEEP=FILE keeps the run's console log in FILE
#   UHV_BENCH_APICV=off runs uhv with apicv = off: every local-APIC access
#   of the guests exits (for comparison with APIC virtualization, the default)
# Exit status: 0 measured, 2 no measurement (the reason on stderr).
set -u
export LC_ALL=C
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
BYTES=${1:-4194304}
dir=$(mktemp -d "${TMPDIR:-/tmp}/uhv-benchlxnet.XXXXXX")
trap 'rm -rf "$dir"' EXIT
log=$dir/console.log
# boot: A and B under Bochs; their console in $log
boot() {
    "$ROOT/tools/mk-linux-guest.sh" >/dev/null ||
        { echo "bench-linux-net.sh: no Linux guest (tools/mk-linux-guest.sh failed)" >&2; exit 2; }
    cp "$ROOT/build/linux/vmlinuz" "$ROOT/build/linux/initrd.gz" "$dir/"
    cat > "$dir/uhv.cfg" <<CFG
apicv = ${UHV_BENCH_APICV:-on}
[vm a]
image   = vmlinuz
initrd  = initrd.gz
memory  = 128M
net     = lan
cmdline = console=ttyS0 quiet uhv.ip=10.0.0.1 uhv.ping=10.0.0.2 uhv.nc=10.0.0.2 uhv.ncsize=$BYTES
[vm b]
image   = vmlinuz
initrd  = initrd.gz
memory  = 128M
net     = lan
cmdline = console=ttyS0 quiet uhv.ip=10.0.0.2 uhv.nc=serve
CFG
    "$ROOT/tools/uhv-run" -q --emulator bochs --timeout 900 --config "$dir/uhv.cfg" \
        --files "$dir" --log "$log" --expect a=poweroff --expect b=poweroff >/dev/null
    [ -z "${UHV_BENCH_KEEP:-}" ] || cp "$log" "$UHV_BENCH_KEEP"
}
if [ "$BYTES" = --log ]; then
    [ -f "${2:-}" ] || { echo "bench-linux-net.sh: --log needs a file" >&2; exit 2; }
    cp "$2" "$log"
else
    boot
fi
[ -s "$log" ] || { echo "bench-linux-net.sh: uhv-run left no console log" >&2; exit 2; }

fail() { echo "bench-linux-net.sh: $* (see a run with tools/uhv-run --keep)" >&2; exit 2; }
khz=$(sed -nE 's/^uhv: .*TSC ([0-9]+) kHz.*/\1/p' "$log" | head -n 1)
[ -n "$khz" ] || fail "no 'TSC kHz' line: uhv did not start"
# mark VM N: VM's last mark N line (A marks 10 before each try to connect)
mark() { grep "^uhv: vm $1 mark $2:" "$log" | tail -n 1; }
for vm in a b; do
    for n in 10 11; do
        [ -n "$(mark $vm $n)" ] || fail "no mark $n from VM $vm"
    done
done
sent=$(sed -nE 's/^\[a\] UHV-LINUX: nc sending ([0-9]+ bytes, md5 [0-9a-f]+)$/\1/p' "$log")
got=$(sed -nE 's/^\[b\] UHV-LINUX: nc received ([0-9]+ bytes, md5 [0-9a-f]+)$/\1/p' "$log")
[ -n "$sent" ] && [ "$sent" = "$got" ] || fail "B received '${got:-nothing}', A sent '${sent:-nothing}'"
# A's eth0 counters: "nc eth0 packets before tx N rx M, after tx N rx M"
read -r tx0 rx0 tx1 rx1 < <(sed -nE 's/^\[a\] UHV-LINUX: nc eth0 packets before tx ([0-9]+) rx ([0-9]+), after tx ([0-9]+) rx ([0-9]+)$/\1 \2 \3 \4/p' "$log")
[ -n "${rx1:-}" ] || fail "no 'nc eth0 packets' line from A"
packets=$(( tx1 - tx0 + rx1 - rx0 ))

tsc() { sed -nE 's/.*: tsc ([0-9]+),.*/\1/p' <<< "$1"; }
# per-reason counts after a mark: "NAME count" lines
counts() { sed -E 's/^[^,]*, [0-9]+ since[^,]*, [0-9]+ exits//' <<< "$1" | tr ',' '\n' | sed '/^ *$/d'; }
declare -A delta
# add_exits VM: delta[reason] += VM's exits between its marks 10 and 11;
# sum = their total
add_exits() {
    local -A before=()
    local name n
    sum=0
    while read -r name n; do before[$name]=$n; done < <(counts "$(mark "$1" 10)")
    while read -r name n; do
        delta[$name]=$(( ${delta[$name]:-0} + n - ${before[$name]:-0} ))
        sum=$(( sum + n - ${before[$name]:-0} ))
    done < <(counts "$(mark "$1" 11)")
}
# dec X100: X100 / 100 with two decimals
dec() { printf '%d.%02d' $(($1 / 100)) $(($1 % 100)); }
# feature BITS N: yes if bit N (the Nth character, from 0) is set
feature() { [ "${1:$2:1}" = 1 ] && echo yes || echo no; }

dt=$(( $(tsc "$(mark a 11)") - $(tsc "$(mark a 10)") ))
bytes=${sent%% *}
delta=()
add_exits a; ea=$sum
add_exits b; eb=$sum
total=0 detail=
for r in $(printf '%s\n' "${!delta[@]}" | sort); do
    [ "${delta[$r]}" -gt 0 ] || continue
    total=$((total + delta[$r]))
    detail="$detail, $r $(dec $((delta[$r] * 100000 / packets)))"
done

echo "Linux guest to guest (two Debian $(sed -nE 's/.*UHV-LINUX: init running on Linux ([^ ]+).*/\1/p' "$log" | head -n 1) guests, stock virtio_net, A -> B over TCP with busybox nc, TSC $khz kHz)"
for vm in a b; do
    bits=$(sed -nE "s/^\\[$vm\\] UHV-LINUX: eth0 features ([01]+)$/\\1/p" "$log")
    echo "  $vm's driver took: CSUM $(feature "$bits" 0), GUEST_CSUM $(feature "$bits" 1), MRG_RXBUF $(feature "$bits" 15)"
done
echo "  file: $sent sent, the same received by B (md5 checked)"
printf '  transfer: %s emulated s, %s MiB and %d packets per emulated second (%d packets: A sent %d, received %d)\n' \
    "$(dec $(( dt * 100 / (khz * 1000) )))" "$(dec $(( bytes * khz * 1000 / dt * 100 / 1048576 )))" \
    $(( packets * khz * 1000 / dt )) "$packets" $((tx1 - tx0)) $((rx1 - rx0))
printf '  exits per 1,000 packets: %s (A %s, B %s; %s)\n' "$(dec $((total * 100000 / packets)))" \
    "$(dec $((ea * 100000 / packets)))" "$(dec $((eb * 100000 / packets)))" "${detail#, }"
echo "  uhv's NIC counters for the whole run (boot, ping and nc):"
sed -nE 's/^uhv: vm ([a-z]+): .* exits in .*/\1/p; s/^uhv:   nic lan: (tx .*)/\1/p' "$log" |
    paste -d' ' - - | sed 's/^/    /'
