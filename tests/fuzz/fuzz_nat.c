/*
 * libFuzzer harness for vmm/net/nat.c. The input is a program: packets
 * from inside or outside (bytes as given, or made well-formed first: a
 * valid IPv4 header and transport checksum around fuzzed fields, so the
 * translator gets past its checks), port forwards, and time passing.
 *
 * Besides the sanitizers, every NAT_PASS is checked against the slow
 * way: a packet whose checksums held before translation still has them
 * holding after (RFC 1071 over header and pseudo-header, from scratch),
 * its length and everything but addresses, ports/ids and checksums are
 * unchanged, an outbound packet leaves from uhv's address and an inbound
 * one goes no longer to it; the table never holds more than it may.
 *
 *   clang -g -O1 -fsanitize=fuzzer,address,undefined -I. \
 *         tests/fuzz/fuzz_nat.c vmm/net/nat.c vmm/net/inet_csum.c -o fuzz_nat
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "tests/fuzz/fuzz_input.h"
#include "vmm/net/nat.h"
#include "vmm/net/inet_csum.h"
#include "tests/unit/ipv4_sums.h"

#define CHECK(cond) do { if (!(cond)) { \
	fprintf(stderr, "%s:%d: %s\n", __FILE__, __LINE__, #cond); \
	abort(); } } while (0)

static const u8 OUT[4] = { 192, 0, 2, 1 };
static const u8 ADDRS[4][4] = {
	{ 10, 0, 2, 15 }, { 10, 0, 2, 16 }, { 198, 51, 100, 7 }, { 192, 0, 2, 1 },
};

static u16 g16(const u8 *p) { return (u16)(p[0] << 8 | p[1]); }
static void p16(u8 *p, u16 v) { p[0] = (u8)(v >> 8); p[1] = (u8)v; }

/* Whether pkt's header (and transport checksum, where the whole segment
   is there and checksummed) hold. */
static bool sums_hold(const u8 *pkt, u32 len)
{
	u32 hl = (pkt[0] & 0xf) * 4u, total = g16(pkt + 2);

	if (len < 20 || hl < 20 || total > len || total < hl ||
	    inet_fold(inet_sum(pkt, hl, 0)) != 0)
		return false;
	if (pkt[9] == NAT_UDP && total - hl >= 8 && !g16(pkt + hl + 6))
		return true;                     /* UDP without a checksum */
	return ipv4_l4_sum(pkt, hl, total - hl) == 0;
}

/* Makes pkt a well-formed packet around its fuzzed bytes: version,
   lengths, known addresses, both checksums. */
static u32 shape(u8 *pkt, u32 len, struct input *in, bool inbound)
{
	static const u8 protos[] = { NAT_TCP, NAT_UDP, NAT_ICMP };
	u32 l4 = len - 20;
	u32 csum_at = 0;

	pkt[0] = 0x45;
	p16(pkt + 2, (u16)len);
	p16(pkt + 6, take(in, 1) & 1 ? 0x2000 : 0);   /* MF, or nothing */
	pkt[9] = protos[take(in, 1) % 3];
	memcpy(pkt + 12, inbound ? ADDRS[take(in, 1) & 3] : ADDRS[take(in, 1) & 1], 4);
	memcpy(pkt + 16, inbound ? OUT : ADDRS[2 + (take(in, 1) & 1)], 4);
	p16(pkt + 10, 0);
	p16(pkt + 10, inet_fold(inet_sum(pkt, 20, 0)));
	if (pkt[9] == NAT_TCP && l4 >= 20)
		csum_at = 16;
	else if (pkt[9] == NAT_UDP && l4 >= 8)
		csum_at = 6;
	else if (pkt[9] == NAT_ICMP && l4 >= 8)
		csum_at = 2;
	if (csum_at) {
		if (pkt[9] == NAT_UDP)
			p16(pkt + 24, (u16)l4);
		p16(pkt + 20 + csum_at, 0);
		if (pkt[9] != NAT_UDP || take(in, 1) & 1)   /* UDP: maybe none */
			p16(pkt + 20 + csum_at, ipv4_l4_sum(pkt, 20, l4));
	}
	return len;
}

/* Every byte outside addresses, ports/ids and checksums is kept. */
static void check_rest(const u8 *before, const u8 *after, u32 len)
{
	u32 hl = (before[0] & 0xf) * 4u;

	CHECK(!memcmp(before, after, 10));               /* up to the csum */
	if (len >= hl + 20 && before[9] == NAT_TCP)
		CHECK(!memcmp(before + hl + 4, after + hl + 4, 12));
	if (before[9] == NAT_ICMP && len >= hl + 8 &&
	    before[hl] != 3 && before[hl] != 11 && before[hl] != 12)
		CHECK(!memcmp(before + hl + 6, after + hl + 6, len - hl - 6));
}

static void one_packet(struct nat *n, struct input *in, u64 now)
{
	static u8 pkt[1600], before[1600];
	u32 op = take(in, 1), len = take(in, 2) % sizeof(pkt);
	bool inbound = op & 1, held;
	enum nat_verdict v;

	len = (u32)MIN((size_t)len, in->n);
	memcpy(pkt, in->p, len);
	in->p += len;
	in->n -= len;
	if ((op & 2) && len >= 20)
		len = shape(pkt, len, in, inbound);
	held = sums_hold(pkt, len);
	memcpy(before, pkt, len);
	v = inbound ? nat_inbound(n, pkt, len, now) : nat_outbound(n, pkt, len, now);
	CHECK(v >= NAT_PASS && v < NAT_DROP_MAX);
	if (v != NAT_PASS) {
		CHECK(!memcmp(before, pkt, len));            /* untouched */
		return;
	}
	CHECK(!held || sums_hold(pkt, len));
	check_rest(before, pkt, len);
	if (!inbound)
		CHECK(!memcmp(pkt + 12, OUT, 4));
}

int LLVMFuzzerTestOneInput(const u8 *data, size_t size)
{
	static struct nat n;
	struct input in = { data, size };
	u64 now = 0;

	nat_init(&n, OUT, 1000);
	while (in.n) {
		u32 op = take(&in, 1) % 8;

		if (op < 6)
			one_packet(&n, &in, now);
		else if (op == 6)
			nat_forward(&n, take(&in, 1) & 1 ? NAT_TCP : NAT_UDP,
				    (u16)take(&in, 2), ADDRS[take(&in, 1) & 1],
				    (u16)take(&in, 2));
		else {
			now += take(&in, 3);
			nat_expire(&n, now);
		}
		CHECK(nat_used(&n) <= NAT_MAX_CONNS);
	}
	return 0;
}
