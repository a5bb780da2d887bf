/*
 * A NAT network's cost per packet, in host instructions, beside the
 * bridge's for the same frames: 100,000 TCP/IPv4 frames of 64..1514
 * bytes, half from a VM to a server beyond the uplink (nat_router_inside:
 * ARP resolved, translated, TTL decremented, sent out) and half the
 * answers (nat_router_outside: translated back, sent in), each sent
 * frame copied into a buffer as a NIC ring or a guest's RX buffer would
 * take it. run_bridge moves the same frames between two ports of a
 * bridge network, each copied once the same way. The frames are built
 * before the runs.
 *
 *   gcc -std=c11 -O2 -I. tests/bench/bench_nat.c vmm/net/nat_router.c \
 *       vmm/net/nat.c vmm/net/dhcp_client.c vmm/net/dhcp_msg.c \
 *       vmm/net/ipv4.c vmm/net/inet_csum.c vmm/net/bridge.c vmm/net/tcp.c \
 *       lib/bytering.c lib/fmt.c \
 *       -o bench_nat
 *   valgrind --tool=callgrind --toggle-collect='run_*' ./bench_nat
 *
 * Each run_* function is counted inclusively: divide by FRAMES.
 */
#include <stdio.h>
#include <string.h>
#include "vmm/net/nat_router.h"
#include "vmm/net/bridge.h"
#include "vmm/net/inet_csum.h"
#include "lib/bytes.h"

#define FRAMES    100000
#define MIN_LEN   64
#define LEN_STEP  37
#define BENCH_HZ  1000000000ULL

static const u8 IN_MAC[6] = { 2, 0x75, 0x68, 0x76, 0xff, 0 };
static const u8 OUT_MAC[6] = { 0x52, 0x54, 0, 0x75, 0x68, 1 };
static const u8 VM_MAC[6] = { 2, 0, 0, 0, 0, 0x15 };
static const u8 GW_MAC[6] = { 2, 0, 0, 0, 0, 0xaa };
static const u8 IN_IP[4] = { 10, 0, 2, 1 }, VM[4] = { 10, 0, 2, 15 };
static const u8 MASK[4] = { 255, 255, 255, 0 };
static const u8 OUT_IP[4] = { 192, 168, 7, 5 }, GW[4] = { 192, 168, 7, 1 };
static const u8 WEB[4] = { 203, 0, 113, 9 };

static struct nat_router r;
static struct bridge br;
#define LENGTHS   (ETH_FRAME_MAX - MIN_LEN + 1)
/* every frame, built before the runs: [length][direction], for NAT
   (0 VM -> uplink, 1 back) and the bridge (2, 3) */
static u8 pre[LENGTHS][4][ETH_FRAME_MAX];
static u8 rx_buf[ETH_FRAME_MAX];
static u64 rx_bytes, rx_frames;

static void take(void *ctx, const u8 *f, u32 len)
{
	(void)ctx;
	memcpy(rx_buf, f, len);
	rx_bytes += len;
	rx_frames++;
}
static bool deliver(void *ctx, const u8 *f, u32 len)
{
	take(ctx, f, len);
	return true;
}
static const struct nat_router_ops ops = { take, take };

/* A TCP segment in a frame from smac to dmac, sip:sport -> dip:dport,
   total len bytes, checksums right (the router checks the IP header's). */
static void tcp_frame(u8 *f, u32 len, const u8 *dmac, const u8 *smac,
		      const u8 *sip, u16 sport, const u8 *dip, u16 dport)
{
	u8 *ip = f + ETH_HLEN;

	memset(f, 0, len);
	eth_put(f, dmac, smac, ETHERTYPE_IPV4);
	ip[0] = IP_VERSION_IHL;
	be16_put(ip + IP_TOTAL_OFF, (u16)(len - ETH_HLEN));
	ip[IP_TTL_OFF] = IP_TTL;
	ip[IP_PROTO_OFF] = IP_PROTO_TCP;
	memcpy(ip + IP_SRC_OFF, sip, 4);
	memcpy(ip + IP_DST_OFF, dip, 4);
	be16_put(ip + IP_CSUM_OFF, inet_fold(inet_sum(ip, IP_MIN_HLEN, 0)));
	be16_put(ip + IP_MIN_HLEN, sport);
	be16_put(ip + IP_MIN_HLEN + 2, dport);
	ip[IP_MIN_HLEN + 12] = 0x50;           /* data offset: 5 words */
	ip[IP_MIN_HLEN + 13] = 0x10;           /* ACK */
}

static u32 length(u32 i)
{
	return MIN_LEN + (i * LEN_STEP) % LENGTHS;
}

static void build_all(void)
{
	for (u32 l = 0; l < LENGTHS; l++) {
		u32 len = MIN_LEN + l;

		tcp_frame(pre[l][0], len, IN_MAC, VM_MAC, VM, 40000, WEB, 80);
		tcp_frame(pre[l][1], len, OUT_MAC, GW_MAC, WEB, 80, OUT_IP,
			  NAT_PORT_FIRST);
		tcp_frame(pre[l][2], len, GW_MAC, VM_MAC, VM, 40000, WEB, 80);
		tcp_frame(pre[l][3], len, VM_MAC, GW_MAC, WEB, 80, VM, 40000);
	}
}

void run_nat(void);
void run_nat(void)
{
	for (u32 i = 0; i < FRAMES; i++) {
		u32 len = length(i);

		if (i & 1)
			nat_router_outside(&r, pre[len - MIN_LEN][1], len, i);
		else
			nat_router_inside(&r, pre[len - MIN_LEN][0], len, i);
	}
}

void run_bridge(void);
void run_bridge(void)
{
	for (u32 i = 0; i < FRAMES; i++) {
		u32 len = length(i);

		bridge_send(&br, BRIDGE_PORT_ID(0, i & 1),
			    pre[len - MIN_LEN][2 + (i & 1)], len, i);
	}
}

/* Both set up with the stations known: the router has its address, the
   gateway's MAC and the VM's; the bridge has learned both ends. */
static void setup(void)
{
	static const struct bridge_port_ops port = { .deliver = deliver };
	struct bridge_port_config a = { "vm", VM_MAC, &port, NULL, 0, 0 };
	struct bridge_port_config b = { "lan", GW_MAC, &port, NULL, 0, 0 };
	u8 f[ETH_HLEN + ARP_LEN];

	nat_router_init(&r, &ops, NULL, BENCH_HZ, IN_MAC, IN_IP, MASK, OUT_MAC);
	nat_router_address(&r, OUT_IP, MASK, GW, GW);
	arp_frame(f, OUT_MAC, ARP_OP_REPLY, GW_MAC, GW, OUT_MAC, OUT_IP);
	nat_router_outside(&r, f, sizeof(f), 0);
	bridge_init(&br, NULL, NULL, BENCH_HZ);
	bridge_net_add(&br, "lan");
	bridge_attach(&br, 0, &a);
	bridge_attach(&br, 0, &b);
}

int main(void)
{
	setup();
	build_all();
	run_nat();
	printf("nat: %u frames, %llu delivered, %llu bytes; %llu out, %llu in, "
	       "%u connection(s)\n", FRAMES, (unsigned long long)rx_frames,
	       (unsigned long long)rx_bytes, (unsigned long long)r.stats.out,
	       (unsigned long long)r.stats.in, nat_used(&r.nat));
	if (rx_frames != FRAMES)
		return 1;
	rx_frames = rx_bytes = 0;
	run_bridge();
	printf("bridge: %u frames, %llu delivered, %llu bytes\n", FRAMES,
	       (unsigned long long)rx_frames, (unsigned long long)rx_bytes);
	return rx_frames == FRAMES ? 0 : 1;
}
