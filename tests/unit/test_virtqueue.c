/*
 * vmm/virtio/virtqueue.c: split virtqueues (virtio 1.2 §2.7) on a fake guest RAM
 * laid out by the test driver's ring helpers. Each malformed case checks
 * the error code and that the reason names the problem.
 */
#include <stdlib.h>
#include <string.h>
#include "unit.h"
#include "virtio_driver.h"
#include "vmm/virtio/virtqueue.h"

Suite *virtqueue_suite(void);

#define QSIZE    8
#define F_EVENT  BIT(VIRTIO_F_RING_EVENT_IDX)
#define F_INDIR  BIT(VIRTIO_F_RING_INDIRECT_DESC)
#define BUF      VD_DATA
#define R        0                        /* a device-readable buffer */
#define W        VIRTQ_DESC_F_WRITE
#define N        VIRTQ_DESC_F_NEXT
#define I        VIRTQ_DESC_F_INDIRECT

static u8 *ram;
static struct vdrv d;                     /* only mem and qsize are used */
static struct virtq vq;
static struct virtq_chain chain;

static void setup(void)
{
	ram = calloc(1, VD_RAM_SIZE);
	ck_assert_ptr_nonnull(ram);
	memset(&d, 0, sizeof(d));
	d.mem = (struct gmem){ ram, VD_RAM_SIZE };
	d.qsize = QSIZE;
	memset(&vq, 0x5a, sizeof(vq));        /* setup must set everything */
}

static void teardown(void)
{
	free(ram);
}

/* A freshly set-up queue with an empty available ring. */
static void up(u64 features)
{
	ck_assert_int_eq(virtq_setup(&vq, &d.mem, QSIZE, VD_DESC, VD_AVAIL,
				     VD_USED, features), 0);
	vd_put16(&d, VD_AVAIL + VIRTQ_AVAIL_IDX, 0);
	d.avail_idx = 0;
}

#define ASSERT_WHY(sub) ck_assert_msg(strstr(vq.why, sub), "why: %s", vq.why)

/* Pops and expects error err with sub in the reason. */
static void pop_fails(int err, const char *sub)
{
	ck_assert_int_eq(virtq_pop(&vq, &chain), err);
	ASSERT_WHY(sub);
}

START_TEST(setup_checks_size_and_areas)
{
	static const struct { u16 size; u64 desc, avail, used; const char *why; } bad[] = {
		{ 0, VD_DESC, VD_AVAIL, VD_USED, "power of two" },
		{ 3, VD_DESC, VD_AVAIL, VD_USED, "power of two" },
		{ 12, VD_DESC, VD_AVAIL, VD_USED, "power of two" },
		{ 512, VD_DESC, VD_AVAIL, VD_USED, "power of two" },
		{ 8, VD_DESC + 8, VD_AVAIL, VD_USED, "descriptor area at 0x1008 is not 16-byte" },
		{ 8, VD_DESC, VD_AVAIL + 1, VD_USED, "driver area" },
		{ 8, VD_DESC, VD_AVAIL, VD_USED + 2, "device area" },
		{ 8, VD_RAM_SIZE - 64, VD_AVAIL, VD_USED, "outside guest RAM" },
		{ 8, ~0ULL - 15, VD_AVAIL, VD_USED, "outside guest RAM" },
		{ 8, VD_DESC, VD_RAM_SIZE - 16, VD_USED, "driver area" },
		{ 8, VD_DESC, VD_AVAIL, VD_RAM_SIZE - 64, "device area" },
	};

	for (unsigned i = 0; i < ARRAY_SIZE(bad); i++) {
		ck_assert_int_eq(virtq_setup(&vq, &d.mem, bad[i].size, bad[i].desc,
					     bad[i].avail, bad[i].used, 0),
				 VIRTQ_ERR_SETUP);
		ASSERT_WHY(bad[i].why);
		ck_assert_uint_eq(vq.size, 0);
		ck_assert_int_eq(virtq_pop(&vq, &chain), VIRTQ_ERR_SETUP);
	}
	/* the largest queue at the very end of RAM is fine */
	ck_assert_int_eq(virtq_setup(&vq, &d.mem, VIRTQ_MAX_SIZE,
				     VD_RAM_SIZE - VIRTQ_DESC_BYTES(256),
				     VD_RAM_SIZE - 0x10000,
				     VD_RAM_SIZE - 0x8000, 0), 0);
	ck_assert(!vq.event_idx && !vq.indirect);
}
END_TEST

START_TEST(empty_queue_pops_nothing)
{
	up(0);
	ck_assert_int_eq(virtq_pop(&vq, &chain), 0);
	ck_assert_int_eq(virtq_pending(&vq), 0);
	ck_assert(!virtq_should_signal(&vq));     /* nothing pushed */
}
END_TEST

START_TEST(chain_readable_then_writable)
{
	u32 id, len;

	up(0);
	vd_desc(&d, VD_DESC, 5, BUF, 16, N | R, 2);
	vd_desc(&d, VD_DESC, 2, BUF + 100, 10, N | R, 7);
	vd_desc(&d, VD_DESC, 7, BUF + 200, 300, W, 0);
	vd_avail(&d, 5);
	ck_assert_int_eq(virtq_pending(&vq), 1);
	ck_assert_int_eq(virtq_pop(&vq, &chain), 1);
	ck_assert_uint_eq(chain.head, 5);
	ck_assert_uint_eq(chain.nr_read, 2);
	ck_assert_uint_eq(chain.nr_write, 1);
	ck_assert_uint_eq(chain.read_len, 26);
	ck_assert_uint_eq(chain.write_len, 300);
	ck_assert_uint_eq(chain.seg[1].addr, BUF + 100);
	ck_assert_uint_eq(chain.seg[2].len, 300);
	ck_assert_int_eq(virtq_pop(&vq, &chain), 0);
	ck_assert_int_eq(virtq_push(&vq, &chain, 123), 0);
	ck_assert_uint_eq(vd_used_idx(&d), 1);
	vd_used_elem(&d, 0, &id, &len);
	ck_assert_uint_eq(id, 5);
	ck_assert_uint_eq(len, 123);
	ck_assert(virtq_should_signal(&vq));
	ck_assert(!virtq_should_signal(&vq));     /* once per batch */
}
END_TEST

START_TEST(streams_cross_segments_and_stop_at_their_end)
{
	u8 in[16], out[8] = "abcdefgh";

	up(0);
	memcpy(ram + BUF, "0123", 4);
	memcpy(ram + BUF + 64, "456789abcdef", 12);
	vd_desc(&d, VD_DESC, 0, BUF, 4, N | R, 1);
	vd_desc(&d, VD_DESC, 1, BUF + 64, 12, N | R, 2);
	vd_desc(&d, VD_DESC, 2, BUF + 128, 3, N | W, 3);
	vd_desc(&d, VD_DESC, 3, BUF + 256, 5, W, 0);
	vd_avail(&d, 0);
	ck_assert_int_eq(virtq_pop(&vq, &chain), 1);
	ck_assert_int_eq(virtq_read(&vq, &chain, 2, in, 6), 0);
	ck_assert_int_eq(memcmp(in, "234567", 6), 0);
	ck_assert_int_eq(virtq_write(&vq, &chain, 1, out, 6), 0);
	ck_assert_int_eq(memcmp(ram + BUF + 129, "ab", 2), 0);
	ck_assert_int_eq(memcmp(ram + BUF + 256, "cdef", 4), 0);
	/* the device never reads the writable part nor writes the readable */
	ck_assert_int_eq(virtq_read(&vq, &chain, 10, in, 7), VIRTQ_ERR_ACCESS);
	ASSERT_WHY("device-readable");
	ck_assert_int_eq(virtq_write(&vq, &chain, 4, out, 5), VIRTQ_ERR_ACCESS);
	ASSERT_WHY("device-writable");
	ck_assert_int_eq(virtq_write(&vq, &chain, ~0ULL, out, 2), VIRTQ_ERR_ACCESS);
	ck_assert_int_eq(virtq_push(&vq, &chain, 9), VIRTQ_ERR_ACCESS);
	ck_assert_int_eq(ram[BUF + 4], 0);       /* nothing past a segment */
}
END_TEST

START_TEST(buffers_outside_ram_are_refused)
{
	static const struct { u64 addr; u32 len; } bad[] = {
		{ VD_RAM_SIZE, 1 }, { VD_RAM_SIZE - 4, 8 },
		{ ~0ULL - 0xfff, 0x2000 },        /* addr + len wraps */
		{ 0, 0xffffffff },                /* a length larger than RAM */
	};

	for (unsigned i = 0; i < ARRAY_SIZE(bad); i++) {
		up(0);
		vd_desc(&d, VD_DESC, 0, BUF, 16, N, 1);
		vd_desc(&d, VD_DESC, 1, bad[i].addr, bad[i].len, W, 0);
		vd_avail(&d, 0);
		pop_fails(VIRTQ_ERR_RANGE, "outside guest RAM");
	}
}
END_TEST

START_TEST(chains_of_4g_or_more_are_refused)
{
	struct gmem big = { ram, GiB(64) };    /* buffers are only bounds-checked */

	ck_assert_int_eq(virtq_setup(&vq, &big, QSIZE, VD_DESC, VD_AVAIL, VD_USED, 0), 0);
	vd_desc(&d, VD_DESC, 0, GiB(1), 0xffffffff, N, 1);
	vd_desc(&d, VD_DESC, 1, GiB(8), 1, W, 0);
	vd_avail(&d, 0);
	pop_fails(VIRTQ_ERR_LONG, "4 GiB");
}
END_TEST

START_TEST(loops_are_caught)
{
	up(0);
	vd_desc(&d, VD_DESC, 0, BUF, 1, N, 1);
	vd_desc(&d, VD_DESC, 1, BUF, 1, N, 2);
	vd_desc(&d, VD_DESC, 2, BUF, 1, N, 0);
	vd_avail(&d, 0);
	pop_fails(VIRTQ_ERR_LOOP, "loops back to descriptor 0");
	up(0);                                  /* a descriptor pointing at itself */
	vd_desc(&d, VD_DESC, 4, BUF, 1, N | W, 4);
	vd_avail(&d, 4);
	pop_fails(VIRTQ_ERR_LOOP, "loops");
}
END_TEST

START_TEST(indexes_outside_the_table)
{
	up(0);
	vd_desc(&d, VD_DESC, 0, BUF, 1, N, QSIZE);
	vd_avail(&d, 0);
	pop_fails(VIRTQ_ERR_INDEX, "next descriptor index 8");
	up(0);
	vd_avail(&d, 0xffff);
	pop_fails(VIRTQ_ERR_INDEX, "head 65535");
}
END_TEST

START_TEST(avail_idx_running_ahead_is_refused)
{
	up(0);
	vd_put16(&d, VD_AVAIL + VIRTQ_AVAIL_IDX, QSIZE + 1);
	pop_fails(VIRTQ_ERR_AVAIL, "more than the queue size");
	ck_assert_int_eq(virtq_pending(&vq), VIRTQ_ERR_AVAIL);
	vd_put16(&d, VD_AVAIL + VIRTQ_AVAIL_IDX, 0xffff);   /* "behind" */
	pop_fails(VIRTQ_ERR_AVAIL, "65535");
}
END_TEST

START_TEST(readable_after_writable_is_refused)
{
	up(0);
	vd_desc(&d, VD_DESC, 0, BUF, 1, N | W, 1);
	vd_desc(&d, VD_DESC, 1, BUF, 1, R, 0);
	vd_avail(&d, 0);
	pop_fails(VIRTQ_ERR_ORDER, "device-readable buffer after");
}
END_TEST

START_TEST(indirect_tables)
{
	u8 hdr[4];

	up(F_INDIR);
	memcpy(ram + BUF, "abcd", 4);
	/* a direct descriptor, then one whose table holds three more; the
	   table descriptor's own WRITE flag means nothing (§2.7.5.3.2) */
	vd_desc(&d, VD_DESC, 3, BUF, 4, N | R, 6);
	vd_desc(&d, VD_DESC, 6, VD_INDIRECT, 3 * VIRTQ_DESC_SIZE, I | W, 0);
	vd_desc(&d, VD_INDIRECT, 0, BUF + 16, 8, N | R, 2);
	vd_desc(&d, VD_INDIRECT, 2, BUF + 32, 512, N | W, 1);
	vd_desc(&d, VD_INDIRECT, 1, BUF + 1024, 1, W, 0);
	vd_avail(&d, 3);
	ck_assert_int_eq(virtq_pop(&vq, &chain), 1);
	ck_assert_uint_eq(chain.head, 3);
	ck_assert_uint_eq(chain.nr_read, 2);
	ck_assert_uint_eq(chain.nr_write, 2);
	ck_assert_uint_eq(chain.read_len, 12);
	ck_assert_uint_eq(chain.write_len, 513);
	ck_assert_uint_eq(chain.seg[3].addr, BUF + 1024);
	ck_assert_int_eq(virtq_read(&vq, &chain, 0, hdr, 4), 0);
	ck_assert_int_eq(memcmp(hdr, "abcd", 4), 0);
}
END_TEST

/* Sets up a fresh queue whose head is descriptor 0 (flags f0, length l0)
   pointing at the table at VD_INDIRECT, and pops it expecting err. */
static void indirect_fails(u64 features, u16 f0, u32 l0, int err,
			   const char *why)
{
	up(features);
	vd_desc(&d, VD_DESC, 0, VD_INDIRECT, l0, f0, 1);
	vd_desc(&d, VD_DESC, 1, BUF, 1, W, 0);
	vd_avail(&d, 0);
	pop_fails(err, why);
}

START_TEST(indirect_rules)
{
	vd_desc(&d, VD_INDIRECT, 0, BUF, 1, N, 1);
	vd_desc(&d, VD_INDIRECT, 1, BUF, 1, W, 0);
	indirect_fails(0, I, 32, VIRTQ_ERR_INDIRECT, "not negotiated");
	indirect_fails(F_INDIR, I | N, 32, VIRTQ_ERR_INDIRECT, "INDIRECT and NEXT");
	indirect_fails(F_INDIR, I, 0, VIRTQ_ERR_INDIRECT, "whole number");
	indirect_fails(F_INDIR, I, 17, VIRTQ_ERR_INDIRECT, "whole number");
	indirect_fails(F_INDIR, I, 16 * (QSIZE + 1), VIRTQ_ERR_LONG, "longer than the queue");
	vd_desc(&d, VD_INDIRECT, 1, VD_INDIRECT, 32, I, 0);
	indirect_fails(F_INDIR, I, 32, VIRTQ_ERR_INDIRECT, "inside an indirect");
	vd_desc(&d, VD_INDIRECT, 1, BUF, 1, N, 0);
	indirect_fails(F_INDIR, I, 32, VIRTQ_ERR_LOOP, "indirect descriptor 0");
	vd_desc(&d, VD_INDIRECT, 1, BUF, 1, N, 2);
	indirect_fails(F_INDIR, I, 32, VIRTQ_ERR_INDEX, "outside the 2-entry");
	vd_desc(&d, VD_INDIRECT, 1, VD_RAM_SIZE, 1, W, 0);
	indirect_fails(F_INDIR, I, 32, VIRTQ_ERR_RANGE, "outside guest RAM");
	/* the table itself outside RAM */
	up(F_INDIR);
	vd_desc(&d, VD_DESC, 2, VD_RAM_SIZE - 16, 32, I, 0);
	vd_avail(&d, 2);
	pop_fails(VIRTQ_ERR_RANGE, "indirect table");
}
END_TEST

START_TEST(chains_longer_than_the_queue)
{
	up(F_INDIR);
	for (u16 i = 0; i < QSIZE - 1; i++)        /* 7 direct buffers... */
		vd_desc(&d, VD_DESC, i, BUF, 1, N, (u16)(i + 1));
	vd_desc(&d, VD_DESC, QSIZE - 1, VD_INDIRECT, 32, I, 0);
	vd_desc(&d, VD_INDIRECT, 0, BUF, 1, N, 1);  /* ...and 2 indirect */
	vd_desc(&d, VD_INDIRECT, 1, BUF, 1, W, 0);
	vd_avail(&d, 0);
	pop_fails(VIRTQ_ERR_LONG, "more than 8 buffers");
}
END_TEST

START_TEST(no_interrupt_and_no_notify_flags)
{
	up(0);
	vd_desc(&d, VD_DESC, 0, BUF, 1, W, 0);
	for (int i = 0; i < 2; i++) {
		vd_put16(&d, VD_AVAIL + VIRTQ_AVAIL_FLAGS, i ? 0 : VIRTQ_AVAIL_F_NO_INTERRUPT);
		vd_avail(&d, 0);
		ck_assert_int_eq(virtq_pop(&vq, &chain), 1);
		ck_assert_int_eq(virtq_push(&vq, &chain, 1), 0);
		ck_assert_int_eq(virtq_should_signal(&vq), i == 1);
	}
	ck_assert_int_eq(virtq_set_notify(&vq, false), 0);
	ck_assert_uint_eq(vd_get16(&d, VD_USED + VIRTQ_USED_FLAGS), VIRTQ_USED_F_NO_NOTIFY);
	ck_assert_int_eq(virtq_set_notify(&vq, true), 0);
	ck_assert_uint_eq(vd_get16(&d, VD_USED + VIRTQ_USED_FLAGS), 0);
}
END_TEST

/* Makes one chain available, pops and pushes it: one used element. */
static void one_round(void)
{
	vd_avail(&d, 0);
	ck_assert_int_eq(virtq_pop(&vq, &chain), 1);
	ck_assert_int_eq(virtq_push(&vq, &chain, 0), 0);
}

START_TEST(event_idx_suppression)
{
	u64 used_event = VD_AVAIL + VIRTQ_AVAIL_BYTES(QSIZE) - 2;
	u64 avail_event = VD_USED + VIRTQ_USED_BYTES(QSIZE) - 2;

	up(F_EVENT);
	vd_desc(&d, VD_DESC, 0, BUF, 1, W, 0);
	/* NO_INTERRUPT is ignored with EVENT_IDX: used_event decides */
	vd_put16(&d, VD_AVAIL + VIRTQ_AVAIL_FLAGS, VIRTQ_AVAIL_F_NO_INTERRUPT);
	vd_put16(&d, used_event, 0);
	one_round();                               /* used idx 0 -> 1 */
	ck_assert(virtq_should_signal(&vq));
	one_round();                               /* 1 -> 2: 0 is behind */
	ck_assert(!virtq_should_signal(&vq));
	vd_put16(&d, used_event, 4);
	one_round();                               /* 2 -> 3 */
	ck_assert(!virtq_should_signal(&vq));
	one_round();                               /* 3, 4 -> 5 in one batch */
	one_round();
	ck_assert(virtq_should_signal(&vq));
	/* the device asks to be notified from the next index on; flags stay 0 */
	ck_assert_int_eq(virtq_set_notify(&vq, false), 0);
	ck_assert_int_eq(virtq_set_notify(&vq, true), 0);
	ck_assert_uint_eq(vd_get16(&d, avail_event), 5);
	ck_assert_uint_eq(vd_get16(&d, VD_USED + VIRTQ_USED_FLAGS), 0);
}
END_TEST

START_TEST(indexes_wrap_at_65536)
{
	u64 used_event = VD_AVAIL + VIRTQ_AVAIL_BYTES(QSIZE) - 2;
	unsigned signals = 0;

	up(F_EVENT);
	vd_desc(&d, VD_DESC, 0, BUF, 1, W, 0);
	for (unsigned i = 0; i < 70000; i++) {
		vd_put16(&d, used_event, 65534);  /* one interrupt per wrap */
		one_round();
		signals += virtq_should_signal(&vq);
	}
	ck_assert_uint_eq(vd_used_idx(&d), (u16)70000);
	ck_assert_uint_eq(signals, 1);
	ck_assert_int_eq(virtq_pending(&vq), 0);
}
END_TEST

Suite *virtqueue_suite(void)
{
	Suite *s = suite_create("virtqueue");
	TCase *tc = tcase_create("virtqueue");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, setup_checks_size_and_areas);
	tcase_add_test(tc, empty_queue_pops_nothing);
	tcase_add_test(tc, chain_readable_then_writable);
	tcase_add_test(tc, streams_cross_segments_and_stop_at_their_end);
	tcase_add_test(tc, buffers_outside_ram_are_refused);
	tcase_add_test(tc, chains_of_4g_or_more_are_refused);
	tcase_add_test(tc, loops_are_caught);
	tcase_add_test(tc, indexes_outside_the_table);
	tcase_add_test(tc, avail_idx_running_ahead_is_refused);
	tcase_add_test(tc, readable_after_writable_is_refused);
	tcase_add_test(tc, indirect_tables);
	tcase_add_test(tc, indirect_rules);
	tcase_add_test(tc, chains_longer_than_the_queue);
	tcase_add_test(tc, no_interrupt_and_no_notify_flags);
	tcase_add_test(tc, event_idx_suppression);
	tcase_add_test(tc, indexes_wrap_at_65536);
	suite_add_tcase(s, tc);
	return s;
}
