/*
 * vmm/rampool.c: the guest RAM pool for VMs created at run time. The
 * property that matters to users: memory a destroyed VM gives back can
 * be handed whole to the next VM, however the frees were ordered.
 */
#include "unit.h"
#include "vmm/rampool.h"

#define BASE GiB(1)

static struct rampool p;

static void setup(void)
{
	rampool_init(&p);
}

START_TEST(alloc_is_first_fit_and_exact)
{
	ck_assert_int_eq(rampool_free(&p, BASE, MiB(64)), 0);
	ck_assert_uint_eq(rampool_alloc(&p, MiB(16)), BASE);
	ck_assert_uint_eq(rampool_alloc(&p, MiB(16)), BASE + MiB(16));
	ck_assert_uint_eq(p.free_bytes, MiB(32));
	ck_assert_uint_eq(rampool_alloc(&p, MiB(34)), 0);       /* too big */
	ck_assert_uint_eq(rampool_alloc(&p, MiB(32)), BASE + MiB(32));
	ck_assert_uint_eq(p.n, 0);
	ck_assert_uint_eq(rampool_alloc(&p, MiB(2)), 0);        /* empty */
}
END_TEST

START_TEST(frees_merge_in_any_order)
{
	u64 a, b, c;

	rampool_free(&p, BASE, MiB(48));
	a = rampool_alloc(&p, MiB(16));
	b = rampool_alloc(&p, MiB(16));
	c = rampool_alloc(&p, MiB(16));
	ck_assert_uint_eq(rampool_largest(&p), 0);
	/* free the middle first, then the sides: one range again */
	ck_assert_int_eq(rampool_free(&p, b, MiB(16)), 0);
	ck_assert_int_eq(rampool_free(&p, c, MiB(16)), 0);
	ck_assert_int_eq(rampool_free(&p, a, MiB(16)), 0);
	ck_assert_uint_eq(p.n, 1);
	ck_assert_uint_eq(rampool_largest(&p), MiB(48));
	ck_assert_uint_eq(rampool_alloc(&p, MiB(48)), BASE);
}
END_TEST

START_TEST(destroyed_vm_memory_is_reused)
{
	u64 a, b;

	rampool_free(&p, BASE, MiB(32));
	a = rampool_alloc(&p, MiB(32));
	ck_assert_uint_eq(rampool_alloc(&p, MiB(32)), 0);     /* no room */
	ck_assert_int_eq(rampool_free(&p, a, MiB(32)), 0);     /* destroy */
	b = rampool_alloc(&p, MiB(32));
	ck_assert_uint_eq(b, a);
}
END_TEST

START_TEST(bad_frees_are_refused)
{
	rampool_free(&p, BASE, MiB(8));
	ck_assert_int_eq(rampool_free(&p, BASE + 4096, MiB(2)), -1);
	ck_assert_int_eq(rampool_free(&p, BASE + MiB(8), MiB(1)), -1);
	ck_assert_int_eq(rampool_free(&p, BASE + MiB(6), MiB(4)), -1); /* overlap */
	ck_assert_int_eq(rampool_free(&p, BASE - MiB(2), MiB(4)), -1);
	ck_assert_int_eq(rampool_free(&p, BASE, 0), -1);
	ck_assert_int_eq(rampool_free(&p, ~0ULL - MiB(2) + 1 - MiB(2) + 1,
				      MiB(4)), -1);
	ck_assert_uint_eq(p.free_bytes, MiB(8));
	ck_assert_uint_eq(rampool_alloc(&p, MiB(3)), 0);       /* unaligned */
}
END_TEST

START_TEST(table_limit)
{
	/* every other 2 MiB piece: no merging, the table fills up */
	for (u32 i = 0; i < RAMPOOL_RANGES; i++)
		ck_assert_int_eq(rampool_free(&p, BASE + i * MiB(4), MiB(2)), 0);
	ck_assert_int_eq(rampool_free(&p, BASE + RAMPOOL_RANGES * MiB(4),
				      MiB(2)), -1);
	/* but a piece that joins two others still fits */
	ck_assert_int_eq(rampool_free(&p, BASE + MiB(2), MiB(2)), 0);
	ck_assert_uint_eq(p.n, RAMPOOL_RANGES - 1);
	ck_assert_uint_eq(rampool_largest(&p), MiB(6));
}
END_TEST

Suite *rampool_suite(void)
{
	Suite *s = suite_create("rampool");
	TCase *tc = tcase_create("rampool");

	tcase_add_checked_fixture(tc, setup, NULL);
	tcase_add_test(tc, alloc_is_first_fit_and_exact);
	tcase_add_test(tc, frees_merge_in_any_order);
	tcase_add_test(tc, destroyed_vm_memory_is_reused);
	tcase_add_test(tc, bad_frees_are_refused);
	tcase_add_test(tc, table_limit);
	suite_add_tcase(s, tc);
	return s;
}
