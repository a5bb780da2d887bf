/*
 * lib/bytering.c: the bounded byte FIFO behind the control channel's and
 * the capture's transmit queues and the virtio console's output. What
 * its users rely on: a put is whole or nothing, bytes come out in order
 * across the buffer's end, and peeks never run past what is queued.
 */
#include "unit.h"
#include "lib/bytering.h"

#define SIZE 16

static u8 buf[SIZE];
static struct bytering r;

static void setup(void)
{
	bytering_init(&r, buf, SIZE);
}

START_TEST(put_is_whole_or_nothing)
{
	u8 data[SIZE + 1] = { 0 };

	ck_assert(!bytering_put(&r, data, SIZE + 1));
	ck_assert_uint_eq(bytering_used(&r), 0);
	ck_assert(bytering_put(&r, data, 10));
	ck_assert(!bytering_put(&r, data, 7));          /* 6 left */
	ck_assert_uint_eq(bytering_room(&r), 6);
	ck_assert(bytering_put(&r, data, 6));
	ck_assert_uint_eq(bytering_room(&r), 0);
	ck_assert(bytering_put(&r, data, 0));
}
END_TEST

START_TEST(order_kept_across_the_end)
{
	const u8 *p;
	u8 got[32];
	u32 n = 0, k;

	for (u8 i = 0; i < 12; i++)
		ck_assert(bytering_put(&r, &i, 1));
	bytering_consume(&r, 12);                      /* tail near the end */
	for (u8 i = 0; i < 10; i++)
		ck_assert(bytering_put(&r, &i, 1));
	k = bytering_peek(&r, &p);                      /* first piece: 4 */
	ck_assert_uint_eq(k, 4);
	ck_assert_uint_eq(bytering_peek_at(&r, 4, &p), 6);   /* the rest */
	ck_assert_uint_eq(bytering_peek_at(&r, 10, &p), 0);  /* past the end */
	ck_assert_uint_eq(bytering_peek_at(&r, 99, &p), 0);
	while ((k = bytering_peek(&r, &p))) {
		memcpy(got + n, p, k);
		n += k;
		bytering_consume(&r, k);
	}
	ck_assert_uint_eq(n, 10);
	for (u8 i = 0; i < 10; i++)
		ck_assert_uint_eq(got[i], i);
	bytering_consume(&r, 5);                        /* more than queued */
	ck_assert_uint_eq(bytering_used(&r), 0);
}
END_TEST

Suite *bytering_suite(void)
{
	Suite *s = suite_create("bytering");
	TCase *tc = tcase_create("bytering");

	tcase_add_checked_fixture(tc, setup, NULL);
	tcase_add_test(tc, put_is_whole_or_nothing);
	tcase_add_test(tc, order_kept_across_the_end);
	suite_add_tcase(s, tc);
	return s;
}
