/*
 * libFuzzer harness for vmm/net/tcp.c. The input is a program: segments
 * from a hostile peer (bytes as given, or with the ports of a connection
 * and a right checksum, so they get past the first checks), the user's
 * calls (connect, accept, read, write, close, abort) and time passing.
 *
 * Besides the sanitizers: every segment TCP sends has a checksum that
 * holds and fits TCP_SEG_MAX; no connection ever holds more than its
 * buffers; unacknowledged data never exceeds what was queued.
 *
 *   clang -g -O1 -fsanitize=fuzzer,address,undefined -I. \
 *         tests/fuzz/fuzz_tcp.c vmm/net/tcp.c vmm/net/inet_csum.c \
 *         lib/bytering.c -o fuzz_tcp
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "tests/fuzz/fuzz_input.h"
#include "vmm/net/tcp.h"
#include "vmm/net/inet_csum.h"

#define CHECK(cond) do { if (!(cond)) { \
	fprintf(stderr, "%s:%d: %s\n", __FILE__, __LINE__, #cond); \
	abort(); } } while (0)

static const u8 US[4] = { 10, 0, 0, 1 }, PEER[4] = { 10, 0, 0, 2 };
static struct tcp t;

static u16 sum(const u8 *src, const u8 *dst, const u8 *s, u32 len)
{
	u8 ph[12] = { src[0], src[1], src[2], src[3], dst[0], dst[1], dst[2],
		      dst[3], 0, 6, (u8)(len >> 8), (u8)len };

	return inet_fold(inet_sum(s, len, inet_sum(ph, 12, 0)));
}

static void sent(void *ctx, const u8 *ip, const u8 *s, u32 len)
{
	(void)ctx;
	CHECK(len >= TCP_HLEN && len <= TCP_SEG_MAX);
	CHECK(sum(US, ip, s, len) == 0);
}
static const struct tcp_ops ops = { sent };

/* Makes seg a segment of connection c (or to port 80) with its checksum. */
static void shape(u8 *seg, u32 len, struct input *in)
{
	const struct tcp_conn *c = &t.conn[take(in, 1) % TCP_MAX_CONNS];
	u16 sp = c->state ? c->rport : (u16)take(in, 2);
	u16 dp = c->state ? c->lport : 80;

	seg[0] = (u8)(sp >> 8), seg[1] = (u8)sp;
	seg[2] = (u8)(dp >> 8), seg[3] = (u8)dp;
	if (take(in, 1) & 1) {         /* an in-window sequence number */
		u32 q = c->rcv_nxt;

		seg[4] = (u8)(q >> 24), seg[5] = (u8)(q >> 16);
		seg[6] = (u8)(q >> 8), seg[7] = (u8)q;
	}
	seg[12] = (u8)((5 + (take(in, 1) & 3)) << 4);
	seg[16] = seg[17] = 0;
	{
		u16 s = sum(PEER, US, seg, len);

		seg[16] = (u8)(s >> 8), seg[17] = (u8)s;
	}
}

static void user(struct input *in, u64 now)
{
	static u8 buf[TCP_TX_BUF];
	int id = (int)(take(in, 1) % TCP_MAX_CONNS);
	u32 n = (u32)take(in, 2) % sizeof(buf);

	switch (take(in, 1) % 6) {
	case 0: tcp_connect(&t, PEER, (u16)take(in, 2), now); break;
	case 1: tcp_accept(&t); break;
	case 2: tcp_read(&t, id, buf, n, now); break;
	case 3: memset(buf, 'x', n); tcp_write(&t, id, buf, n, now); break;
	case 4: tcp_close(&t, id, now); break;
	default: tcp_abort(&t, id); break;
	}
}

int LLVMFuzzerTestOneInput(const u8 *data, size_t size)
{
	struct input in = { data, size };
	static u8 seg[2048];
	u64 now = 1;

	tcp_init(&t, US, 1000, (u32)take(&in, 4), &ops, NULL);
	tcp_listen(&t, 80);
	while (in.n) {
		u8 op = (u8)take(&in, 1);
		u32 len = (u32)(take(&in, 2) % sizeof(seg));

		if (op % 4 == 0) {
			now += take(&in, 2) * 10;
			tcp_tick(&t, now);
		} else if (op % 4 == 1) {
			user(&in, now);
		} else {
			len = (u32)MIN((size_t)len, in.n);
			memcpy(seg, in.p, len);
			in.p += len;
			in.n -= len;
			if (op % 4 == 2 && len >= TCP_HLEN + 12)
				shape(seg, len, &in);
			tcp_input(&t, PEER, seg, len, now);
		}
		for (int i = 0; i < TCP_MAX_CONNS; i++) {
			const struct tcp_conn *c = &t.conn[i];

			CHECK(bytering_used(&c->rx) <= TCP_RX_BUF);
			CHECK(bytering_used(&c->tx) <= TCP_TX_BUF);
		}
	}
	return 0;
}
