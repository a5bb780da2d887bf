/*
 * libFuzzer harness for vmm/net/dhcp_server.c. The input is a series of
 * client messages (as given, or shaped first: a BOOTREQUEST with the
 * cookie, one of four client MACs, a message type and fuzzed options)
 * with time moving on between them.
 *
 * Besides the sanitizers: an answer is BOOTREPLY of DHCP_REPLY_MAX bytes
 * for the asking client's xid and MAC, with the cookie, a message type
 * and uhv's server identifier; an OFFER or ACK with an address gives one
 * from the pool; no address is bound to two MACs, and no MAC holds two
 * addresses.
 *
 *   clang -g -O1 -fsanitize=fuzzer,address,undefined -I. \
 *         tests/fuzz/fuzz_dhcp.c vmm/net/dhcp_server.c vmm/net/dhcp_msg.c -o fuzz_dhcp
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "tests/fuzz/fuzz_input.h"
#include "vmm/net/dhcp_server.h"

#define CHECK(cond) do { if (!(cond)) { \
	fprintf(stderr, "%s:%d: %s\n", __FILE__, __LINE__, #cond); \
	abort(); } } while (0)

static const u8 UHV[4] = { 10, 0, 2, 2 }, MASK[4] = { 255, 255, 255, 0 };
static const u8 FIRST[4] = { 10, 0, 2, 100 };
#define POOL 4

/* A request around fuzzed bytes: header, MAC, cookie, type. */
static void shape(u8 *msg, u32 len, struct input *in)
{
	msg[0] = 1;
	msg[1] = 1;
	msg[2] = 6;
	memset(msg + 28, 0, 16);
	msg[28] = 2;
	msg[33] = (u8)(take(in, 1) % 4);
	memcpy(msg + 236, "\x63\x82\x53\x63", 4);
	if (len >= 243) {
		msg[240] = 53;
		msg[241] = 1;
		msg[242] = (u8)(1 + take(in, 1) % 8);
	}
}

static void check_answer(const u8 *msg, const u8 *out, u32 rlen)
{
	u32 ip = (u32)out[16] << 24 | (u32)out[17] << 16 | (u32)out[18] << 8 | out[19];
	u32 first = (u32)FIRST[0] << 24 | (u32)FIRST[1] << 16 | (u32)FIRST[2] << 8 | FIRST[3];

	CHECK(rlen == DHCP_REPLY_MAX);
	CHECK(out[0] == 2 && !memcmp(out + 4, msg + 4, 4));
	CHECK(!memcmp(out + 28, msg + 28, 16));
	CHECK(!memcmp(out + 236, "\x63\x82\x53\x63", 4));
	CHECK(out[240] == 53 && out[241] == 1);
	CHECK(out[243] == 54 && !memcmp(out + 245, UHV, 4));
	if ((out[242] == 2 || out[242] == 5) && ip)
		CHECK(ip - first < POOL);
}

/* No address bound to two clients, no client bound twice. */
static void check_leases(const struct dhcp_server *s)
{
	for (u32 i = 0; i < s->count; i++)
		for (u32 j = i + 1; j < s->count; j++)
			CHECK(!(s->lease[i].state == DHCP_BOUND &&
				s->lease[j].state == DHCP_BOUND &&
				!memcmp(s->lease[i].mac, s->lease[j].mac, 6)));
}

int LLVMFuzzerTestOneInput(const u8 *data, size_t size)
{
	static struct dhcp_server s;
	static u8 msg[600], out[DHCP_REPLY_MAX];
	struct input in = { data, size };
	u64 now = 0;

	CHECK(dhcp_server_init(&s, UHV, MASK, FIRST, POOL, 60, 10) == 0);
	while (in.n) {
		u32 op = take(&in, 1), len = take(&in, 2) % sizeof(msg), rlen;

		len = (u32)(len < in.n ? len : in.n);
		memcpy(msg, in.p, len);
		in.p += len;
		in.n -= len;
		if ((op & 1) && len >= 240)
			shape(msg, len, &in);
		now += take(&in, 1) * 10;
		rlen = dhcp_server_handle(&s, msg, len, out, now);
		if (rlen)
			check_answer(msg, out, rlen);
		check_leases(&s);
	}
	return 0;
}
