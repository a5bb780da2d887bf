/*
 * vmm/net/tcp.c: two instances talk through a fake wire that can hold,
 * drop or forge segments: handshakes, data both ways through small
 * windows, half-close, loss and retransmission with backoff, RST (RFC
 * 5961's exact-sequence rule), keepalive, and every segment's checksum
 * checked from scratch on the way.
 */
#include <string.h>
#include "unit.h"
#include "vmm/net/tcp.h"
#include "vmm/net/inet_csum.h"

#define HZ 1000
#define WIRE_MAX 64
static const u8 IP_A[4] = { 192, 168, 7, 5 }, IP_B[4] = { 192, 168, 7, 1 };

struct wire_seg {
	int to;                    /* 0: A, 1: B */
	u32 len;
	u8 s[TCP_SEG_MAX];
};
static struct wire_seg wire[WIRE_MAX];
static u32 queued, sent_by[2];
static struct tcp a, b;
static u64 now;
static int drop_next;              /* segments to drop before delivery */

static u16 g16(const u8 *p) { return (u16)(p[0] << 8 | p[1]); }
static u32 g32(const u8 *p) { return (u32)g16(p) << 16 | g16(p + 2); }

/* The segment's checksum over the pseudo-header holds. */
static void assert_csum(const u8 *src, const u8 *dst, const u8 *s, u32 len)
{
	u8 ph[12] = { src[0], src[1], src[2], src[3], dst[0], dst[1], dst[2],
		      dst[3], 0, 6, (u8)(len >> 8), (u8)len };

	ck_assert_uint_eq(inet_fold(inet_sum(s, len, inet_sum(ph, 12, 0))), 0);
}

/* The wire: what side `from` (0 A, 1 B; ctx points at it) sends goes
   to the other, its checksum checked on the way. */
static void send_seg(void *ctx, const u8 *ip, const u8 *s, u32 len)
{
	int from = *(const int *)ctx;
	const u8 *me = from ? IP_B : IP_A, *peer = from ? IP_A : IP_B;

	ck_assert_mem_eq(ip, peer, 4);
	assert_csum(me, peer, s, len);
	ck_assert_uint_lt(queued, WIRE_MAX);
	wire[queued] = (struct wire_seg){ !from, len, { 0 } };
	memcpy(wire[queued++].s, s, len);
	sent_by[from]++;
}
static const int SIDE_A = 0, SIDE_B = 1;
static const struct tcp_ops ops = { send_seg };

/* Delivers everything on the wire (and what that sends) in order,
   dropping the first drop_next segments. */
static void run(void)
{
	while (queued) {
		struct wire_seg w = wire[0];

		memmove(wire, wire + 1, (queued - 1) * sizeof(wire[0]));
		queued--;
		if (drop_next > 0) {
			drop_next--;
			continue;
		}
		if (w.to == 0)
			tcp_input(&a, IP_B, w.s, w.len, now);
		else
			tcp_input(&b, IP_A, w.s, w.len, now);
	}
}

static void setup(void)
{
	queued = sent_by[0] = sent_by[1] = 0;
	now = 1;
	drop_next = 0;
	tcp_init(&a, IP_A, HZ, 1000, &ops, (void *)&SIDE_A);
	tcp_init(&b, IP_B, HZ, 0xfffff000u, &ops, (void *)&SIDE_B);   /* wraps soon */
	ck_assert_int_eq(tcp_listen(&b, 80), 0);
}

/* A connects to B:80; B accepts. Returns A's id; *bid B's. */
static int connect_ab(int *bid)
{
	int id = tcp_connect(&a, IP_B, 80, now);

	ck_assert_int_ge(id, 0);
	run();
	ck_assert_int_eq(tcp_state(&a, id), TCP_ESTABLISHED);
	*bid = tcp_accept(&b);
	ck_assert_int_ge(*bid, 0);
	ck_assert_int_eq(tcp_state(&b, *bid), TCP_ESTABLISHED);
	ck_assert_int_eq(tcp_accept(&b), -1);
	return id;
}

/* The SYN-ACK as sent: our MSS option, ack = their ISN + 1, window. */
START_TEST(handshake_fields)
{
	int id = tcp_connect(&a, IP_B, 80, now);
	const u8 *syn = wire[0].s, *sa;

	ck_assert_int_ge(id, 0);
	ck_assert_uint_eq(syn[13], 0x02);
	ck_assert_uint_eq(syn[12] >> 4, 6);                 /* 24 bytes */
	ck_assert_uint_eq(g16(syn + 22), TCP_MSS);
	ck_assert_uint_eq(g32(syn + 4), 1000);
	tcp_input(&b, IP_A, wire[0].s, wire[0].len, now);
	sa = wire[1].s;
	ck_assert_uint_eq(sa[13], 0x12);                    /* SYN|ACK */
	ck_assert_uint_eq(g32(sa + 8), 1001);
	ck_assert_uint_eq(g16(sa + 14), TCP_RX_BUF);
	ck_assert_uint_eq(g16(sa + 0), 80);
	ck_assert_uint_eq(g16(sa + 2), g16(syn + 0));
}
END_TEST

/* Data both ways, then half-close: A closes, B still sends, B closes;
   A goes through TIME_WAIT, B to CLOSED. */
START_TEST(data_and_half_close)
{
	int bid, id = connect_ab(&bid);
	u8 buf[64];

	ck_assert_uint_eq(tcp_write(&a, id, (const u8 *)"GET /metrics", 12, now), 12);
	run();
	ck_assert_uint_eq(tcp_read(&b, bid, buf, sizeof(buf), now), 12);
	ck_assert_mem_eq(buf, "GET /metrics", 12);
	tcp_close(&a, id, now);
	run();
	ck_assert_int_eq(tcp_state(&a, id), TCP_FIN_WAIT_2);
	ck_assert_int_eq(tcp_state(&b, bid), TCP_CLOSE_WAIT);
	ck_assert(tcp_eof(&b, bid));
	ck_assert_uint_eq(tcp_write(&b, bid, (const u8 *)"up 1\n", 5, now), 5);
	run();
	ck_assert_uint_eq(tcp_read(&a, id, buf, sizeof(buf), now), 5);
	ck_assert_mem_eq(buf, "up 1\n", 5);
	tcp_close(&b, bid, now);
	run();
	ck_assert_int_eq(tcp_state(&b, bid), TCP_CLOSED);
	ck_assert_int_eq(tcp_state(&a, id), TCP_TIME_WAIT);
	ck_assert(tcp_eof(&a, id));
	now += 2 * TCP_MSL_S * HZ;
	tcp_tick(&a, now);
	ck_assert_int_eq(tcp_state(&a, id), TCP_CLOSED);
	ck_assert(!b.conn[bid].reset);
}
END_TEST

/* 40,000 bytes from B to A through A's 4 KiB receive buffer: B stops
   at A's window, and goes on as A reads (window updates). */
START_TEST(bulk_through_window)
{
	static u8 out[40000], in[40000];
	int bid, id = connect_ab(&bid);
	u32 put = 0, got = 0;

	for (u32 i = 0; i < sizeof(out); i++)
		out[i] = (u8)(i * 31 + (i >> 8));
	while (got < sizeof(out)) {
		put += tcp_write(&b, bid, out + put, (u32)sizeof(out) - put, now);
		run();
		ck_assert_uint_le(bytering_used(&a.conn[id].rx), TCP_RX_BUF);
		got += tcp_read(&a, id, in + got, 1000, now);   /* slowly */
		run();
		now += 1;
	}
	ck_assert_mem_eq(in, out, sizeof(out));
	ck_assert_uint_eq(b.stats.retransmits, 0);
	ck_assert_uint_eq(b.conn[bid].snd_una, b.conn[bid].snd_nxt);
}
END_TEST

/* 30,000 bytes from A to B with segments lost now and then: each comes
   again (the oldest unacknowledged first), B takes only what is new, and
   every byte arrives once, in order. */
START_TEST(loss_in_bulk)
{
	static u8 out[30000], in[30000];
	int bid, id = connect_ab(&bid);
	u32 put = 0, got = 0, round = 0;

	for (u32 i = 0; i < sizeof(out); i++)
		out[i] = (u8)(i * 7 + (i >> 9));
	while (got < sizeof(out) && round++ < 2000) {
		put += tcp_write(&a, id, out + put, (u32)sizeof(out) - put, now);
		drop_next = round % 5 == 0;
		run();
		got += tcp_read(&b, bid, in + got, (u32)sizeof(in) - got, now);
		run();
		now += HZ / 4;
		tcp_tick(&a, now);
		tcp_tick(&b, now);
	}
	ck_assert_uint_eq(got, sizeof(out));
	ck_assert_mem_eq(in, out, sizeof(out));
	ck_assert_uint_gt(a.stats.retransmits, 0);
}
END_TEST

/* A lost data segment comes again after the RTO; the RTO doubles while
   nothing is acknowledged. */
START_TEST(loss_and_backoff)
{
	int bid, id = connect_ab(&bid);
	u8 buf[16];

	tcp_write(&a, id, (const u8 *)"hello", 5, now);
	ck_assert_uint_eq(queued, 1);
	drop_next = 1;
	run();
	ck_assert_uint_eq(tcp_read(&b, bid, buf, sizeof(buf), now), 0);
	now += TCP_RTO_S * HZ;
	tcp_tick(&a, now);
	ck_assert_uint_eq(a.stats.retransmits, 1);
	ck_assert_uint_eq(a.conn[id].rto, 2 * TCP_RTO_S * HZ);
	drop_next = 1;
	run();
	now += 2 * TCP_RTO_S * HZ - 1;
	tcp_tick(&a, now);
	ck_assert_uint_eq(a.stats.retransmits, 1);          /* not yet */
	now += 1;
	tcp_tick(&a, now);
	ck_assert_uint_eq(a.stats.retransmits, 2);
	run();
	ck_assert_uint_eq(tcp_read(&b, bid, buf, sizeof(buf), now), 5);
	ck_assert_mem_eq(buf, "hello", 5);
	ck_assert_uint_eq(a.conn[id].rto, TCP_RTO_S * HZ);   /* reset by the ACK */
	ck_assert_uint_eq(a.conn[id].deadline, 0);
}
END_TEST

/* A peer that never answers: reset after TCP_RETRIES retransmissions. */
START_TEST(retries_exhausted)
{
	int id = tcp_connect(&a, IP_B, 80, now);

	for (int i = 0; i <= TCP_RETRIES + 1; i++) {
		queued = 0;
		now += TCP_RTO_MAX_S * HZ;
		tcp_tick(&a, now);
	}
	ck_assert_int_eq(tcp_state(&a, id), TCP_CLOSED);
	ck_assert(a.conn[id].reset);
	ck_assert_uint_eq(a.stats.retransmits, TCP_RETRIES);
}
END_TEST

/* No listener: RST, and the connecting side ends reset. A forged RST
   off rcv_nxt gets a challenge ACK and ends nothing; one at rcv_nxt
   ends the connection. */
START_TEST(resets)
{
	int id = tcp_connect(&a, IP_B, 81, now), bid;
	u8 rst[TCP_HLEN];

	run();
	ck_assert_int_eq(tcp_state(&a, id), TCP_CLOSED);
	ck_assert(a.conn[id].reset);
	ck_assert_uint_eq(b.stats.no_conn, 1);
	ck_assert_uint_eq(b.stats.resets_out, 1);
	id = connect_ab(&bid);
	memcpy(rst, wire[0].s, 0);
	memset(rst, 0, sizeof(rst));
	rst[0] = 0; rst[1] = 80;                     /* from B:80 */
	rst[2] = (u8)(a.conn[id].lport >> 8); rst[3] = (u8)a.conn[id].lport;
	{
		u32 seq = a.conn[id].rcv_nxt + 100;  /* in window, not exact */
		u8 ph[12] = { 192, 168, 7, 1, 192, 168, 7, 5, 0, 6, 0, TCP_HLEN };
		u16 c;

		rst[4] = (u8)(seq >> 24); rst[5] = (u8)(seq >> 16);
		rst[6] = (u8)(seq >> 8); rst[7] = (u8)seq;
		rst[12] = 5 << 4;
		rst[13] = 0x04;
		c = inet_fold(inet_sum(rst, TCP_HLEN, inet_sum(ph, 12, 0)));
		rst[16] = (u8)(c >> 8); rst[17] = (u8)c;
		tcp_input(&a, IP_B, rst, TCP_HLEN, now);
		ck_assert_int_eq(tcp_state(&a, id), TCP_ESTABLISHED);
		ck_assert_uint_eq(queued, 1);                /* challenge ACK */
		ck_assert_uint_eq(wire[0].s[13], 0x10);
		queued = 0;
		seq = a.conn[id].rcv_nxt;
		rst[4] = (u8)(seq >> 24); rst[5] = (u8)(seq >> 16);
		rst[6] = (u8)(seq >> 8); rst[7] = (u8)seq;
		rst[16] = rst[17] = 0;
		c = inet_fold(inet_sum(rst, TCP_HLEN, inet_sum(ph, 12, 0)));
		rst[16] = (u8)(c >> 8); rst[17] = (u8)c;
		tcp_input(&a, IP_B, rst, TCP_HLEN, now);
		ck_assert_int_eq(tcp_state(&a, id), TCP_CLOSED);
		ck_assert(a.conn[id].reset);
		/* a bad checksum and a short header are counted, not taken */
		rst[17] ^= 1;
		tcp_input(&a, IP_B, rst, TCP_HLEN, now);
		tcp_input(&a, IP_B, rst, 12, now);
		ck_assert_uint_eq(a.stats.bad_csum, 1);
		ck_assert_uint_eq(a.stats.malformed, 1);
	}
}
END_TEST

/* Keepalive: an idle connection probes; an answering peer keeps it, a
   silent one loses it after TCP_KEEPALIVE_PROBES. */
START_TEST(keepalive_probes)
{
	int bid, id = connect_ab(&bid);
	u32 before = sent_by[0];

	now += TCP_KEEPALIVE_S * HZ;
	tcp_tick(&a, now);
	ck_assert_uint_eq(sent_by[0], before + 1);
	run();                                   /* B answers the probe */
	ck_assert_int_eq(tcp_state(&a, id), TCP_ESTABLISHED);
	ck_assert_uint_eq(a.conn[id].probes, 0);
	for (int i = 0; i <= TCP_KEEPALIVE_PROBES + 1; i++) {
		now += TCP_KEEPALIVE_S * HZ;
		tcp_tick(&a, now);
		queued = 0;                      /* B is gone */
	}
	ck_assert_int_eq(tcp_state(&a, id), TCP_CLOSED);
	ck_assert(a.conn[id].reset);
}
END_TEST

/* Every slot busy: a SYN is refused with an RST. A closed connection's
   slot comes back once its user lets go. */
START_TEST(full_table)
{
	int ids[TCP_MAX_CONNS], bid;

	for (int i = 0; i < TCP_MAX_CONNS; i++)
		ids[i] = connect_ab(&bid);
	ck_assert_int_eq(tcp_connect(&a, IP_B, 80, now), -1);
	tcp_abort(&a, ids[0]);
	run();
	ck_assert_int_ge(tcp_connect(&a, IP_B, 80, now), 0);
	run();
	ck_assert_uint_eq(b.stats.refused, 1);    /* B's slot not let go */
}
END_TEST

/* Both close at once (FIN crossing FIN): CLOSING, then TIME_WAIT for
   2 MSL on both sides, then CLOSED. A released FIN_WAIT_2 whose peer
   never closes is let go after 2 MSL. */
START_TEST(simultaneous_close)
{
	int bid, id = connect_ab(&bid);

	tcp_close(&a, id, now);
	tcp_close(&b, bid, now);               /* both FINs on the wire */
	run();
	ck_assert_int_eq(tcp_state(&a, id), TCP_TIME_WAIT);
	ck_assert_int_eq(tcp_state(&b, bid), TCP_TIME_WAIT);
	tcp_tick(&a, now + 1);
	ck_assert_int_eq(tcp_state(&a, id), TCP_TIME_WAIT);
	now += 2 * TCP_MSL_S * HZ;
	tcp_tick(&a, now);
	tcp_tick(&b, now);
	ck_assert_int_eq(tcp_state(&a, id), TCP_CLOSED);
	ck_assert_int_eq(tcp_state(&b, bid), TCP_CLOSED);
	id = connect_ab(&bid);
	tcp_close(&a, id, now);
	run();
	ck_assert_int_eq(tcp_state(&a, id), TCP_FIN_WAIT_2);
	now += 2 * TCP_MSL_S * HZ + 1;
	tcp_tick(&a, now);
	ck_assert_int_eq(tcp_state(&a, id), TCP_CLOSED);
}
END_TEST

Suite *tcp_suite(void)
{
	Suite *s = suite_create("tcp");
	TCase *tc = tcase_create("tcp");

	tcase_add_checked_fixture(tc, setup, NULL);
	tcase_add_test(tc, handshake_fields);
	tcase_add_test(tc, data_and_half_close);
	tcase_add_test(tc, bulk_through_window);
	tcase_add_test(tc, loss_and_backoff);
	tcase_add_test(tc, loss_in_bulk);
	tcase_add_test(tc, retries_exhausted);
	tcase_add_test(tc, resets);
	tcase_add_test(tc, keepalive_probes);
	tcase_add_test(tc, full_table);
	tcase_add_test(tc, simultaneous_close);
	suite_add_tcase(s, tc);
	return s;
}
