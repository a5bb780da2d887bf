/*
 * libFuzzer harness for vmm/net/nat_router.c and the DHCP client it runs
 * (vmm/net/dhcp_client.c). The input is a program of steps: a frame from
 * inside (a VM, hostile) or from the uplink (the LAN, hostile), raw or
 * with Ethernet, ARP or IPv4/UDP headers set to addresses the router
 * knows so that it gets past its first checks; DHCP answers from a fake
 * server; and time passing (ticks).
 *
 * Besides the sanitizers: every frame the router sends fits a frame,
 * goes out from the side's own MAC, and, if IPv4, has a header checksum
 * that holds; no more than NAT_MAX_CONNS connections are ever open.
 *
 *   clang -g -O1 -fsanitize=fuzzer,address,undefined -I. \
 *         tests/fuzz/fuzz_nat_router.c vmm/net/nat_router.c vmm/net/nat.c \
 *         vmm/net/dhcp_client.c vmm/net/dhcp_msg.c vmm/net/ipv4.c \
 *         vmm/net/inet_csum.c vmm/net/tcp.c lib/bytering.c -o fuzz_nat_router
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "tests/fuzz/fuzz_input.h"
#include "vmm/net/nat_router.h"
#include "vmm/net/inet_csum.h"

#define CHECK(cond) do { if (!(cond)) { \
	fprintf(stderr, "%s:%d: %s\n", __FILE__, __LINE__, #cond); \
	abort(); } } while (0)
#define HZ 1000

static const u8 IN_MAC[6] = { 2, 0x75, 0x68, 0x76, 0xff, 0 };
static const u8 OUT_MAC[6] = { 0x52, 0x54, 0, 0x75, 0x68, 1 };
static const u8 IN_IP[4] = { 10, 0, 2, 1 };
static const u8 MASK[4] = { 255, 255, 255, 0 };
static const u8 ADDRS[4][4] = {
	{ 10, 0, 2, 15 }, { 192, 168, 7, 5 }, { 192, 168, 7, 1 }, { 203, 0, 113, 9 },
};
static struct nat_router r;

static void sent(const u8 *mac, const u8 *f, u32 len)
{
	CHECK(len >= ETH_HLEN && len <= ETH_FRAME_MAX);
	CHECK(!memcmp(f + ETH_ALEN, mac, ETH_ALEN));
	if (f[12] == 8 && f[13] == 0 && len >= ETH_HLEN + IP_MIN_HLEN)
		CHECK(inet_fold(inet_sum(f + ETH_HLEN, (f[ETH_HLEN] & 0xfU) * 4, 0)) == 0);
}
static void out(void *c, const u8 *f, u32 len) { (void)c; sent(OUT_MAC, f, len); }
static void in(void *c, const u8 *f, u32 len) { (void)c; sent(IN_MAC, f, len); }
static const struct nat_router_ops ops = { out, in };

/* Headers around the fuzzed bytes of f: kind 0 raw, 1 ARP, 2 IPv4. */
static void shape(u8 *f, u32 len, struct input *inp, bool inside)
{
	u8 kind = (u8)(take(inp, 1) % 3);

	if (kind == 0 || len < ETH_HLEN + IP_MIN_HLEN + UDP_HLEN)
		return;
	memcpy(f, take(inp, 1) & 1 ? (inside ? IN_MAC : OUT_MAC) : eth_broadcast, 6);
	if (kind == 1) {
		static const u8 fixed[6] = { 0, 1, 8, 0, 6, 4 };

		f[12] = 8, f[13] = 6;
		memcpy(f + ETH_HLEN, fixed, sizeof(fixed));
		memcpy(f + ETH_HLEN + ARP_TPA_OFF, ADDRS[take(inp, 1) & 3], 4);
		return;
	}
	f[12] = 8, f[13] = 0;
	f[ETH_HLEN] = IP_VERSION_IHL;
	f[ETH_HLEN + 2] = (u8)((len - ETH_HLEN) >> 8);
	f[ETH_HLEN + 3] = (u8)(len - ETH_HLEN);
	f[ETH_HLEN + 6] = 0;
	memcpy(f + ETH_HLEN + IP_SRC_OFF, ADDRS[take(inp, 1) & 3], 4);
	memcpy(f + ETH_HLEN + IP_DST_OFF, inside ? ADDRS[take(inp, 1) & 3] : ADDRS[1], 4);
	f[ETH_HLEN + IP_CSUM_OFF] = f[ETH_HLEN + IP_CSUM_OFF + 1] = 0;
	{
		u16 c = inet_fold(inet_sum(f + ETH_HLEN, IP_MIN_HLEN, 0));

		f[ETH_HLEN + IP_CSUM_OFF] = (u8)(c >> 8);
		f[ETH_HLEN + IP_CSUM_OFF + 1] = (u8)c;
	}
}

int LLVMFuzzerTestOneInput(const u8 *data, size_t size)
{
	struct input inp = { data, size };
	static u8 f[ETH_FRAME_MAX];
	u64 now = 0;

	nat_router_init(&r, &ops, NULL, HZ, IN_MAC, IN_IP, MASK, OUT_MAC);
	if (take(&inp, 1) & 1)
		nat_router_use_dhcp(&r, 1);
	else
		nat_router_address(&r, ADDRS[1], MASK, ADDRS[2], ADDRS[2]);
	nat_forward(&r.nat, NAT_TCP, 2222, ADDRS[0], 22);
	while (inp.n) {
		u8 op = (u8)take(&inp, 1);
		u32 len = (u32)(take(&inp, 2) % (ETH_FRAME_MAX + 1));

		if (op % 3 == 2) {
			now += take(&inp, 2) * (HZ / 10);
			nat_router_tick(&r, now);
			continue;
		}
		len = (u32)MIN((size_t)len, inp.n);
		memcpy(f, inp.p, len);
		inp.p += len;
		inp.n -= len;
		shape(f, len, &inp, op % 3 == 0);
		if (op % 3 == 0)
			nat_router_inside(&r, f, len, now);
		else
			nat_router_outside(&r, f, len, now);
		CHECK(nat_used(&r.nat) <= NAT_MAX_CONNS);
	}
	return 0;
}
