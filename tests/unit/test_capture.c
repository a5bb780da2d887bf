/*
 * vmm/net/capture.c: the pcap stream read back the way a reader reads it
 * (file header, then records, little endian): header fields, record
 * timestamps from uhv's clock, the snap length, whole-record drops when
 * the ring is full, and records that wrap around the ring's end.
 */
#include <string.h>
#include "unit.h"
#include "vmm/net/capture.h"

#define EPOCH   1700000000ULL       /* 2023-11-14 */
#define BASE    5000ULL             /* the TSC when the wall clock was read */
#define HZ      2000000000ULL       /* a 2 GHz TSC */

static struct capture_ring ring;
static const struct capture_clock clk = { EPOCH, BASE, HZ };
static u8 out[CAPTURE_RING_BYTES * 3];  /* what the sender has taken */
static u32 out_len;

static u32 get32(const u8 *p)
{
	return (u32)p[0] | (u32)p[1] << 8 | (u32)p[2] << 16 | (u32)p[3] << 24;
}

static u16 get16(const u8 *p)
{
	return (u16)(p[0] | p[1] << 8);
}

/* Takes up to max bytes as the UART sender would: in contiguous pieces. */
static void drain(u32 max)
{
	const u8 *p;
	u32 n;

	while (max && (n = capture_ring_peek(&ring, &p))) {
		n = MIN(n, max);
		ck_assert_uint_le(out_len + n, sizeof(out));
		memcpy(out + out_len, p, n);
		out_len += n;
		capture_ring_consume(&ring, n);
		max -= n;
	}
}

/* A frame whose bytes say which frame and where: 14-byte header first. */
static void make_frame(u8 *f, u32 len, u32 id)
{
	for (u32 i = 0; i < len; i++)
		f[i] = (u8)(id * 7 + i);
}

/* Parses out[] from `at` as records; checks each against make_frame and
   the given snap length; returns the number of whole records. */
static u32 parse_records(u32 at, u32 snaplen, u32 *first_id)
{
	u32 n = 0;
	u8 f[2048];

	while (at < out_len) {
		u32 incl, orig, id;

		ck_assert_uint_ge(out_len - at, PCAP_REC_HDR_LEN);
		incl = get32(out + at + 8);
		orig = get32(out + at + 12);
		ck_assert_uint_eq(incl, MIN(orig, snaplen));
		ck_assert_uint_ge(out_len - at - PCAP_REC_HDR_LEN, incl);
		id = (u32)(out[at + PCAP_REC_HDR_LEN] * 183u) & 0xff;  /* 7^-1 mod 256 */
		if (n == 0 && first_id)
			*first_id = id;
		make_frame(f, orig, id);
		ck_assert_mem_eq(out + at + PCAP_REC_HDR_LEN, f, incl);
		at += PCAP_REC_HDR_LEN + incl;
		n++;
	}
	return n;
}

static void setup(void)
{
	memset(&ring, 0xee, sizeof(ring));
	out_len = 0;
}

START_TEST(file_header)
{
	setup();
	ck_assert_int_eq(capture_ring_init(&ring, 256, &clk), 0);
	ck_assert_uint_eq(capture_ring_used(&ring), PCAP_FILE_HDR_LEN);
	drain(~0u);
	ck_assert_uint_eq(out_len, 24);
	ck_assert_mem_eq(out, "\xd4\xc3\xb2\xa1", 4);   /* 0xa1b2c3d4, LE */
	ck_assert_uint_eq(get16(out + 4), 2);
	ck_assert_uint_eq(get16(out + 6), 4);
	ck_assert_uint_eq(get32(out + 8), 0);
	ck_assert_uint_eq(get32(out + 12), 0);
	ck_assert_uint_eq(get32(out + 16), 256);
	ck_assert_uint_eq(get32(out + 20), 1);           /* LINKTYPE_ETHERNET */
	ck_assert_uint_eq(capture_ring_used(&ring), 0);
}
END_TEST

START_TEST(snaplen_limits)
{
	setup();
	ck_assert_int_eq(capture_ring_init(&ring, 13, &clk), -1);
	ck_assert_int_eq(capture_ring_init(&ring, 65536, &clk), -1);
	ck_assert_int_eq(capture_ring_init(&ring, 0, &clk), -1);
	ck_assert_int_eq(capture_ring_init(&ring, 14, &clk), 0);
	ck_assert_int_eq(capture_ring_init(&ring, 65535, &clk), 0);
}
END_TEST

START_TEST(record_fields_and_time)
{
	u8 f[100];
	const u8 *rec;

	setup();
	capture_ring_init(&ring, 64, &clk);
	drain(~0u);
	make_frame(f, sizeof(f), 3);
	/* 2.25 s after boot */
	ck_assert(capture_ring_add(&ring, f, sizeof(f), BASE + HZ * 2 + HZ / 4));
	make_frame(f, 42, 4);
	ck_assert(capture_ring_add(&ring, f, 42, BASE + HZ * 7 + 1));
	drain(~0u);
	rec = out + PCAP_FILE_HDR_LEN;
	ck_assert_uint_eq(get32(rec), EPOCH + 2);
	ck_assert_uint_eq(get32(rec + 4), 250000);
	ck_assert_uint_eq(get32(rec + 8), 64);           /* cut to snaplen */
	ck_assert_uint_eq(get32(rec + 12), 100);         /* what was sent */
	rec += PCAP_REC_HDR_LEN + 64;
	ck_assert_uint_eq(get32(rec), EPOCH + 7);
	ck_assert_uint_eq(get32(rec + 4), 0);            /* 0.5 ns rounds down */
	ck_assert_uint_eq(get32(rec + 8), 42);           /* short: whole */
	ck_assert_uint_eq(get32(rec + 12), 42);
	ck_assert_uint_eq(parse_records(PCAP_FILE_HDR_LEN, 64, NULL), 2);
	ck_assert_uint_eq(ring.frames, 2);
	ck_assert_uint_eq(ring.bytes, 142);
	ck_assert_uint_eq(ring.dropped, 0);
}
END_TEST

START_TEST(timestamp_edges)
{
	struct capture_clock slow = { EPOCH, BASE, 3 }, none = { EPOCH, BASE, 0 };
	u32 s, us;

	capture_timestamp(&clk, BASE - 1, &s, &us);      /* before the base */
	ck_assert_uint_eq(s, EPOCH);
	ck_assert_uint_eq(us, 0);
	capture_timestamp(&slow, BASE + 3 * 10 + 2, &s, &us);
	ck_assert_uint_eq(s, EPOCH + 10);
	ck_assert_uint_eq(us, 666666);
	capture_timestamp(&none, BASE + 12345, &s, &us);
	ck_assert_uint_eq(s, EPOCH);
	ck_assert_uint_eq(us, 0);
	/* a fast clock long after boot: no overflow in the remainder */
	struct capture_clock fast = { EPOCH, 0, 1000000000000ULL };
	capture_timestamp(&fast, 1000000000000ULL * 86400 + 999999999999ULL,
			  &s, &us);
	ck_assert_uint_eq(s, EPOCH + 86400);
	ck_assert_uint_eq(us, 999999);
}
END_TEST

/*
 * A full ring drops whole records and counts them; what the sender took
 * parses as whole records, and once it has drained, frames fit again.
 */
START_TEST(overflow_drops_whole_records)
{
	u8 f[1514];
	u32 added = 0, dropped = 0, id = 0;

	setup();
	capture_ring_init(&ring, 1514, &clk);
	drain(~0u);
	for (; dropped < 5; id++) {
		make_frame(f, 60 + id % 1455, id);
		if (capture_ring_add(&ring, f, 60 + id % 1455, BASE + id))
			added++;
		else
			dropped++;
	}
	ck_assert_uint_eq(ring.dropped, 5);
	ck_assert_uint_eq(ring.frames, added);
	ck_assert_uint_le(capture_ring_used(&ring), CAPTURE_RING_BYTES);
	/* a record that still fits exactly in what is left is taken */
	{
		u32 room = CAPTURE_RING_BYTES - capture_ring_used(&ring);

		ck_assert_uint_lt(room, PCAP_REC_HDR_LEN + 60 + 1455);
		if (room >= PCAP_REC_HDR_LEN + CAPTURE_SNAPLEN_MIN) {
			make_frame(f, room - PCAP_REC_HDR_LEN, id);
			ck_assert(capture_ring_add(&ring, f, room - PCAP_REC_HDR_LEN,
						   BASE));
			added++;
			id++;
			ck_assert_uint_eq(capture_ring_used(&ring), CAPTURE_RING_BYTES);
		}
	}
	drain(~0u);
	ck_assert_uint_eq(parse_records(PCAP_FILE_HDR_LEN, 1514, NULL), added);
	make_frame(f, 1514, id);
	ck_assert(capture_ring_add(&ring, f, 1514, BASE));
	ck_assert_uint_eq(ring.dropped, 5);
}
END_TEST

/*
 * The sender takes the stream in odd-sized bites while records keep
 * coming, so records and headers wrap around the ring's end; the bytes
 * taken are the exact stream: header, then every record in order.
 */
START_TEST(wraps_around_the_end)
{
	u8 f[1514];
	u32 id = 0, first = 99;

	setup();
	capture_ring_init(&ring, 200, &clk);
	for (int round = 0; round < 3000; round++) {
		u32 len = 60 + (u32)(round * 37) % 1455;

		make_frame(f, len, id);
		ck_assert(capture_ring_add(&ring, f, len, BASE + (u64)round));
		id++;
		drain(173 + (u32)round % 61);
	}
	ck_assert_uint_gt(ring.q.tail, CAPTURE_RING_BYTES); /* it wrapped */
	drain(~0u);
	ck_assert_uint_eq(ring.dropped, 0);
	ck_assert_uint_eq(get32(out), PCAP_MAGIC_USEC);
	ck_assert_uint_eq(parse_records(PCAP_FILE_HDR_LEN, 200, &first), 3000);
	ck_assert_uint_eq(first, 0);
}
END_TEST

Suite *capture_suite(void)
{
	Suite *s = suite_create("capture");
	TCase *tc = tcase_create("capture");

	tcase_add_test(tc, file_header);
	tcase_add_test(tc, snaplen_limits);
	tcase_add_test(tc, record_fields_and_time);
	tcase_add_test(tc, timestamp_edges);
	tcase_add_test(tc, overflow_drops_whole_records);
	tcase_add_test(tc, wraps_around_the_end);
	suite_add_tcase(s, tc);
	return s;
}
