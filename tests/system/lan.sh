#!/usr/bin/env bash
# uhv on a LAN: its e1000 NIC, under Bochs, on a tap in a network namespace
# this test makes (bridge br0 at 192.168.77.1/24 with Debian's dnsmasq as
# the LAN's DHCP and DNS server and a Python HTTP server with a file), so
# stock Linux guests reach a server beyond uhv, both ways uhv offers:
#
#  nat       uplink = e1000.0, nat = lan. uhv leases its outside address
#            from dnsmasq (DHCP client), leases 10.0.2.15 to the guest (its
#            own DHCP server, router and DNS = uhv), relays the guest's DNS
#            query for files.lan to dnsmasq, and translates the guest's HTTP
#            download of 2 MiB and its pings of the server: the server logs
#            uhv's outside address as the client, and a capture on br0 never
#            shows the guest's MAC. From the LAN: ping uhv's outside
#            address, and TCP to its port 2222, forwarded to the guest's
#            port 7000 (the guest answers). A second guest on the same uhv,
#            alone on a host-only network (netpair role=c), broadcasts and
#            hears nothing, and the capture never shows its MAC either.
#  bridged   uplink = e1000.0, bridged = lan. The guest is a peer on the
#            LAN: dnsmasq leases it an address (its MAC in dnsmasq's log),
#            it downloads the file, and the LAN pings it and reaches its
#            port 7000 directly.
#
# Both machines run at once, each on its own tap on br0. Everything lives
# in the namespace and is removed at the end, also after a failure.
# LAN_OUTSIDE=static gives the NAT machine a static outside address
# (outside = 192.168.77.2/24,gw=...,dns=...) instead of a DHCP lease, and
# LAN_CPU=MODEL runs both under that Bochs CPU model (make test-long runs
# LAN_OUTSIDE=static LAN_CPU=tigerlake).
# Prints PASS/FAIL/SKIP lines and "N passed, M failed, K skipped".
set -u
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
RUN=$ROOT/tools/uhv-run
LOGS=$ROOT/build/test-logs/lan
L=$ROOT/build/linux
NS=uhvlan$$
LAN=192.168.77
rm -rf "$LOGS"; mkdir -p "$LOGS/www"
pass=0 fail=0 skipped=0
PIDS=()

skip() {
    echo "SKIP system/lan: $*"
    echo "0 passed, 0 failed, 1 skipped"
    exit 0
}
cleanup() {
    for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null; done
    ip netns pids "$NS" 2>/dev/null | xargs -r kill 2>/dev/null
    sleep 1
    ip netns pids "$NS" 2>/dev/null | xargs -r kill -9 2>/dev/null
    ip netns del "$NS" 2>/dev/null
    rm -rf "/etc/netns/$NS"
}
trap cleanup EXIT

check() {   # check NAME LOG REGEX
    if grep -qE -- "$3" "$2"; then echo "PASS system/lan/$1"; pass=$((pass + 1))
    else echo "FAIL system/lan/$1: no line matches '$3' (log: ${2#"$ROOT"/})"; fail=$((fail + 1)); fi
}
verdict() {   # verdict NAME OK DETAIL
    if [ "$2" = 1 ]; then echo "PASS system/lan/$1"; pass=$((pass + 1))
    else echo "FAIL system/lan/$1: $3"; fail=$((fail + 1)); fi
}

[ "$(id -u)" = 0 ] || skip "needs root (network namespaces and taps)"
command -v dnsmasq >/dev/null || skip "no dnsmasq (tools/deps.sh installs dnsmasq-base)"
[ -s "$L/vmlinuz" ] && [ -s "$L/initrd.gz" ] || skip "no Linux test guest (tools/mk-linux-guest.sh)"
grep -q uhv.fetch "$ROOT/guest-tests/linux/init" && [ "$ROOT/guest-tests/linux/init" -ot "$L/initrd.gz" ] ||
    "$ROOT/tools/mk-linux-guest.sh" > /dev/null 2>&1

# The LAN: a namespace with br0, two taps, and its servers
lan() { ip netns exec "$NS" "$@"; }
ip netns add "$NS" || skip "cannot create a network namespace"
lan ip link set lo up
lan ip link add br0 type bridge
for t in tap0 tap1; do
    lan ip tuntap add dev "$t" mode tap
    lan ip link set "$t" master br0 up
done
lan ip addr add "$LAN.1/24" dev br0
lan ip link set br0 up
head -c 2097152 /dev/urandom > "$LOGS/www/file.bin"
want=$(md5sum < "$LOGS/www/file.bin" | cut -d' ' -f1)
lan dnsmasq --keep-in-foreground --interface=br0 --bind-interfaces --no-resolv \
    --no-hosts --address=/files.lan/"$LAN.1" --dhcp-range="$LAN.50,$LAN.59,255.255.255.0,600" \
    --dhcp-option=option:router,"$LAN.1" --dhcp-option=option:dns-server,"$LAN.1" \
    --dhcp-leasefile="$LOGS/leases" --log-dhcp --log-queries --log-facility="$LOGS/dnsmasq.log" \
    --pid-file="$LOGS/dnsmasq.pid" > /dev/null 2>&1 &
PIDS+=($!)
lan python3 -m http.server --bind "$LAN.1" --directory "$LOGS/www" 8080 \
    > "$LOGS/http.log" 2>&1 &
PIDS+=($!)
# everything on the LAN, for what must never appear there
lan tshark -q -i br0 -w "$LOGS/br0.pcap" > /dev/null 2>&1 &
PIDS+=($!)

cp "$L/vmlinuz" "$L/initrd.gz" "$ROOT/guest-tests/build/netpair.elf" "$LOGS/"
OUTSIDE=dhcp
[ "${LAN_OUTSIDE:-dhcp}" = static ] && OUTSIDE="$LAN.2/24,gw=$LAN.1,dns=$LAN.1"
CPU=()
[ -z "${LAN_CPU:-}" ] || CPU=(--cpu-model "$LAN_CPU")
GUEST='console=ttyS0 quiet uhv.ip=dhcp uhv.banner=7000 uhv.hold=240'
cat > "$LOGS/nat.cfg" <<CFG
uplink  = e1000.0
nat     = lan
outside = $OUTSIDE
host    = lan:10.0.2.1
dhcp    = 10.0.2.15-10.0.2.20
forward = tcp:2222:10.0.2.15:7000
forward = tcp:2223:10.0.2.15:7001
metrics = 9100
[vm n]
image   = vmlinuz
initrd  = initrd.gz
memory  = 128M
net     = lan
cmdline = $GUEST uhv.lookup=files.lan uhv.fetch=http://files.lan:8080/file.bin uhv.ping=$LAN.1
[vm h]
image   = netpair.elf
cmdline = role=c
net     = iso,mac=02:75:68:76:0c:01
CFG
cat > "$LOGS/bridged.cfg" <<CFG
uplink  = e1000.0
bridged = lan
[vm b]
image   = vmlinuz
initrd  = initrd.gz
memory  = 128M
net     = lan,mac=02:75:68:76:0b:01
cmdline = $GUEST uhv.fetch=http://$LAN.1:8080/file.bin
CFG

# machine NAME TAP MAC: one uhv under Bochs on the tap
machine() {
    lan "$RUN" -q --emulator bochs "${CPU[@]}" --timeout 1500 --nic e1000 --nic-tap "$2" \
        --nic-mac "$3" --config "$LOGS/$1.cfg" --files "$LOGS" \
        --log "$LOGS/$1.log" > "$LOGS/$1.verdict" 2>&1 &
    PIDS+=($!)
}
machine nat tap0 52:54:00:75:68:01
machine bridged tap1 52:54:00:75:68:02

# wait_line LOG REGEX SECONDS: until the log has a line matching REGEX
wait_line() {
    local t=0
    while [ "$t" -lt "$3" ]; do
        grep -qE -- "$2" "$1" 2>/dev/null && return 0
        sleep 3; t=$((t + 3))
    done
    return 1
}
# from_lan NAME HOST PORT: a TCP connection from the LAN, its first line
from_lan() {
    lan busybox nc -w 10 "$2" "$3" < /dev/null 2>/dev/null | head -n 1 > "$LOGS/$1.nc"
}

wait_line "$LOGS/nat.log" 'UHV-LINUX: banner on tcp port' 1200
wait_line "$LOGS/bridged.log" 'UHV-LINUX: banner on tcp port' 600
out=$(sed -nE 's/^uhv: uplink e1000\.0: address ([0-9.]+) .*/\1/p' "$LOGS/nat.log" | tail -n 1)
bip=$(sed -nE 's/^\[b\] UHV-LINUX: dhcp lease ([0-9.]+) .*/\1/p' "$LOGS/bridged.log")
echo "lan: uhv's outside address ${out:-none}, bridged guest ${bip:-none}" > "$LOGS/addresses"
# From the LAN: pings, and TCP to the forward and to the bridged guest
# busybox's ping: Debian's iputils-ping need not be there
n=$(lan busybox ping -c 3 -W 3 "${out:-$LAN.254}" 2>/dev/null | sed -n 's/.* \([0-9]*\) packets received.*/\1/p')
verdict nat-ping-outside "$([ "${n:-0}" = 3 ] && echo 1)" "uhv's outside address ${out:-none} answered ${n:-0} of 3 pings from the LAN"
from_lan nat-forward "${out:-$LAN.254}" 2222
check nat-port-forward "$LOGS/nat-forward.nc" '^uhv-guest 10\.0\.2\.15 says hello$'
n=$(lan busybox ping -c 3 -W 3 "${bip:-$LAN.254}" 2>/dev/null | sed -n 's/.* \([0-9]*\) packets received.*/\1/p')
verdict bridged-ping-guest "$([ "${n:-0}" = 3 ] && echo 1)" "the bridged guest ${bip:-none} answered ${n:-0} of 3 pings from the LAN"
from_lan bridged-tcp "${bip:-$LAN.254}" 7000
check bridged-tcp-from-lan "$LOGS/bridged-tcp.nc" "^uhv-guest ${bip//./\\.} says hello\$"
# uhv's metrics on its outside address, while the guests run
# (busybox wget, without -T: Debian 12's crashes on it)
for try in 1 2; do
    lan timeout 20 busybox wget -q -O "$LOGS/metrics.txt" "http://${out:-$LAN.254}:9100/metrics" 2>/dev/null && break
done
# and Debian's Prometheus scraping it every second for a while, asked back
# for the VM's state through its query API
if command -v prometheus >/dev/null; then
    mkdir -p "$LOGS/prom"
    printf 'global:\n  scrape_interval: 1s\nscrape_configs:\n  - job_name: uhv\n    static_configs:\n      - targets: ["%s:9100"]\n' \
        "${out:-$LAN.254}" > "$LOGS/prom/prometheus.yml"
    lan prometheus --config.file="$LOGS/prom/prometheus.yml" --storage.tsdb.path="$LOGS/prom/data" \
        --web.listen-address="$LAN.1:9090" > "$LOGS/prom/prometheus.log" 2>&1 &
    PROM=$!
    sleep 8
    lan timeout 20 busybox wget -q -O "$LOGS/prom/query.json" \
        "http://$LAN.1:9090/api/v1/query?query=uhv_vm_running" 2>/dev/null
    kill "$PROM" 2>/dev/null
fi
printf 'GET /nope HTTP/1.1\r\nHost: uhv\r\n\r\n' | lan busybox nc -w 5 "${out:-$LAN.254}" 9100 2>/dev/null |
    head -n 1 | tr -d '\r' > "$LOGS/metrics-404.txt"
# the guests hold until their port 7001 is reached: then they power off
# and uhv prints its summary
lan busybox nc -w 5 "${out:-$LAN.254}" 2223 < /dev/null > /dev/null 2>&1
lan busybox nc -w 5 "${bip:-$LAN.254}" 7001 < /dev/null > /dev/null 2>&1
for p in "${PIDS[@]:3}"; do wait "$p"; done
kill "${PIDS[2]}" 2>/dev/null; sleep 2    # the capture, written out

N=$LOGS/nat.log B=$LOGS/bridged.log
check nat-forward-set "$N" '^uhv: forward tcp 2222 on the uplink to 10\.0\.2\.15:7000$'
if [ "$OUTSIDE" = dhcp ]; then
    check nat-router "$N" '^uhv: network lan NATed to e1000\.0 \(link up\): its VMs reach that LAN through uhv.s address there \(DHCP\)'
    check nat-outside-lease "$N" "^uhv: uplink e1000\\.0: address $LAN\\.5[0-9] mask 255\\.255\\.255\\.0 gateway $LAN\\.1 dns $LAN\\.1 \\(DHCP lease\\)\$"
    check nat-lease-in-dnsmasq "$LOGS/dnsmasq.log" "DHCPACK\\(br0\\) ${out//./\\.} 52:54:00:75:68:01"
else
    check nat-router "$N" '^uhv: network lan NATed to e1000\.0 \(link up\): its VMs reach that LAN through uhv.s address there \(static\)'
    check nat-outside-static "$N" "^uhv: uplink e1000\\.0: address $LAN\\.2 mask 255\\.255\\.255\\.0 gateway $LAN\\.1 dns $LAN\\.1\$"
fi
check nat-guest-lease "$N" '^\[n\] UHV-LINUX: dhcp lease 10\.0\.2\.15 mask 255\.255\.255\.0 server 10\.0\.2\.1 lease 3600 s router 10\.0\.2\.1 dns 10\.0\.2\.1$'
check nat-dns-relay "$N" "^\\[n\\] UHV-LINUX: lookup files\\.lan: $LAN\\.1\$"
check nat-fetch "$N" "^\\[n\\] UHV-LINUX: fetch http://files\\.lan:8080/file\\.bin: 2097152 bytes, md5 $want\$"
check nat-ping-server "$N" "^\\[n\\] UHV-LINUX: ping $LAN\\.1: 3 of 3 received\$"
check hostonly-heard-nothing "$N" '^\[h\] c: heard nothing \(0 frames\)$'
check hostonly-pass "$N" '^\[h\] PASS netpair'
gets=$(grep -c '"GET /file.bin' "$LOGS/http.log")
verdict http-two-clients "$([ "$gets" = 2 ] && echo 1)" "the HTTP server had $gets GETs of the file, not 2 (the NAT and the bridged guest)"
seen() { tshark -r "$LOGS/br0.pcap" -Y "eth.src==$1" 2>/dev/null | wc -l; }
n=$(seen 52:54:00:75:68:01); g=$(seen 02:75:68:76:00:00); h=$(seen 02:75:68:76:0c:01)
verdict lan-sees-uhv-not-vms "$([ "$n" -gt 0 ] && [ "$g" = 0 ] && [ "$h" = 0 ] && echo 1)" "on br0: $n frames from uhv's NIC, $g from the NAT guest's MAC, $h from the host-only guest's (want >0, 0, 0)"
check nat-server-saw-uhv "$LOGS/http.log" "^${out//./\\.} .*\"GET /file\\.bin HTTP/1\\.1\" 200"
check metrics-served "$N" '^uhv: metrics on tcp port 9100 of uhv.s address on e1000\.0 \(GET /metrics\)$'
check metrics-vm-running "$LOGS/metrics.txt" '^uhv_vm_running\{vm="n"\} 1$'
check metrics-vm-exits "$LOGS/metrics.txt" '^uhv_vm_exits_total\{vm="n",reason="CPUID"\} [1-9][0-9]*$'
check metrics-nat "$LOGS/metrics.txt" '^uhv_nat_connections [0-9]+$'
check metrics-uplink "$LOGS/metrics.txt" '^uhv_uplink_frames_total\{nic="e1000\.0",direction="rx"\} [1-9][0-9]*$'
# every line of the exposition is a HELP, a TYPE or a sample (name,
# labels, an integer value: Prometheus's text format 0.0.4)
bad=$(grep -cvE '^(# (HELP|TYPE) [a-z_]+ .+|[a-z_]+(\{[a-z_]+="[^"]*"(,[a-z_]+="[^"]*")*\})? [0-9]+)$' "$LOGS/metrics.txt" 2>/dev/null)
lines=$(wc -l < "$LOGS/metrics.txt" 2>/dev/null || echo 0)
verdict metrics-format "$([ "${lines:-0}" -gt 10 ] && [ "$bad" = 0 ] && echo 1)" "$lines lines, $bad not in the exposition format (build/test-logs/lan/metrics.txt)"
check metrics-404 "$LOGS/metrics-404.txt" '^HTTP/1\.1 404 Not Found$'
if command -v promtool >/dev/null; then
    promtool check metrics < "$LOGS/metrics.txt" > "$LOGS/promtool.txt" 2>&1
    verdict metrics-promtool "$([ $? = 0 ] && echo 1)" "promtool check metrics: $(head -c 300 "$LOGS/promtool.txt")"
    check metrics-prometheus-scraped "$LOGS/prom/query.json" '"__name__":"uhv_vm_running".*"vm":"n".*"1"\]'
else
    echo "SKIP system/lan/metrics-promtool: no promtool (tools/deps.sh installs prometheus)"; skipped=$((skipped + 1))
    echo "SKIP system/lan/metrics-prometheus-scraped: no prometheus"; skipped=$((skipped + 1))
fi
check nat-counters "$N" '^uhv: NAT via e1000\.0: [1-9][0-9]* packets out, [1-9][0-9]* in; [1-9][0-9]* connections'
check bridged-lease "$B" "^\\[b\\] UHV-LINUX: dhcp lease $LAN\\.5[0-9] mask 255\\.255\\.255\\.0 server $LAN\\.1 lease 600 s router $LAN\\.1 dns $LAN\\.1\$"
check bridged-lease-in-dnsmasq "$LOGS/dnsmasq.log" 'DHCPACK\(br0\) [0-9.]+ 02:75:68:76:0b:01'
check bridged-fetch "$B" "^\\[b\\] UHV-LINUX: fetch http://$LAN\\.1:8080/file\\.bin: 2097152 bytes, md5 $want\$"
check bridged-server-saw-guest "$LOGS/http.log" "^${bip//./\\.} .*\"GET /file\\.bin HTTP/1\\.1\" 200"
# Figures (make bench reads them: tools/bench-lan.sh): the NAT guest's
# download between its marks 12 and 13, exits per 1,000 packets of its
# eth0 and MiB per emulated second (Bochs: TSC ticks are instructions)
figure() {   # figure LOG VM LABEL
    local m12 m13 t0 t1 e0 e1 pk bytes khz
    m12=$(grep "^uhv: vm $2 mark 12:" "$1" | tail -n 1); m13=$(grep "^uhv: vm $2 mark 13:" "$1" | tail -n 1)
    [ -n "$m12" ] && [ -n "$m13" ] || return 0
    t0=$(sed -nE 's/.*: tsc ([0-9]+),.*/\1/p' <<< "$m12"); t1=$(sed -nE 's/.*: tsc ([0-9]+),.*/\1/p' <<< "$m13")
    e0=$(sed -nE 's/.* ([0-9]+) exits,.*/\1/p' <<< "$m12"); e1=$(sed -nE 's/.* ([0-9]+) exits,.*/\1/p' <<< "$m13")
    pk=$(sed -nE "s/^\\[$2\\] UHV-LINUX: fetch eth0 packets before tx ([0-9]+) rx ([0-9]+), after tx ([0-9]+) rx ([0-9]+)\$/\\3 - \\1 + \\4 - \\2/p" "$1")
    bytes=$(sed -nE "s/^\\[$2\\] UHV-LINUX: fetch [^ ]+: ([0-9]+) bytes.*/\\1/p" "$1")
    khz=$(sed -nE 's/^uhv: .*TSC ([0-9]+) kHz.*/\1/p' "$1" | head -n 1)
    [ -n "$pk" ] && [ -n "$bytes" ] && [ -n "$khz" ] && [ "$t1" -gt "$t0" ] || return 0
    pk=$(( pk ))
    echo "figure: $3 download of $bytes bytes: $pk packets, $((e1 - e0)) exits ($(( (e1 - e0) * 1000 / (pk > 0 ? pk : 1) )) per 1000 packets), $((t1 - t0)) TSC ticks ($(( bytes * 1000 * 100 / ((t1 - t0) / khz) / 1048576 )) hundredths of a MiB per emulated second at $khz kHz)"
}
figure "$N" n "NAT"
figure "$B" b "bridged"
echo "$pass passed, $fail failed, $skipped skipped"
[ $fail -eq 0 ]
