/*
 * arch/x86/dbgreg.c: which data breakpoints an access uhv carries out
 * for a guest matches, as DR7 and DR0-DR3 say (SDM Vol. 3B §18.2.4,
 * §18.2.5): enabling (L or G), the kind (writes, reads and writes, never
 * fetch or I/O breakpoints), each LEN, the range aligned down, and any
 * byte of the access inside it.
 */
#include "unit.h"
#include "arch/x86/dbgreg.h"

/* DR7 for breakpoint n: enable bits en (1 L, 2 G), R/W rw, LEN len. */
static u64 bp(unsigned n, unsigned en, unsigned rw, unsigned len)
{
	return (u64)en << (2 * n) | (u64)(rw | len << 2) << (16 + 4 * n);
}

#define LEN1 0U
#define LEN2 1U
#define LEN8 2U
#define LEN4 3U

static const u64 addrs[DR_COUNT] = { 0x1000, 0x2002, 0x3004, 0x4008 };

START_TEST(disabled_never_match)
{
	/* R/W and LEN set up, no L or G bit */
	u64 dr7 = bp(0, 0, DR7_RW_READ_WRITE, LEN4);

	ck_assert_uint_eq(dr_data_match(dr7, addrs, 0x1000, 4, true), 0);
	ck_assert_uint_eq(dr_data_match(0x400, addrs, 0x1000, 4, false), 0);
}
END_TEST

START_TEST(kind_of_access)
{
	u64 w = bp(0, 1, DR7_RW_WRITE, LEN4), rw = bp(0, 2, DR7_RW_READ_WRITE, LEN4);
	u64 fetch = bp(0, 1, 0, LEN1), io = bp(0, 1, 2, LEN4);

	ck_assert_uint_eq(dr_data_match(w, addrs, 0x1000, 4, true), 1);
	ck_assert_uint_eq(dr_data_match(w, addrs, 0x1000, 4, false), 0);
	ck_assert_uint_eq(dr_data_match(rw, addrs, 0x1000, 4, false), 1);
	ck_assert_uint_eq(dr_data_match(rw, addrs, 0x1000, 4, true), 1);
	ck_assert_uint_eq(dr_data_match(fetch, addrs, 0x1000, 1, false), 0);
	ck_assert_uint_eq(dr_data_match(io, addrs, 0x1000, 4, true), 0);
}
END_TEST

START_TEST(ranges_and_lengths)
{
	u64 dr7 = bp(0, 1, DR7_RW_WRITE, LEN1) | bp(1, 1, DR7_RW_WRITE, LEN2) |
		  bp(2, 1, DR7_RW_WRITE, LEN4) | bp(3, 1, DR7_RW_WRITE, LEN8);

	/* one byte at 0x1000 */
	ck_assert_uint_eq(dr_data_match(dr7, addrs, 0x0fff, 1, true), 0);
	ck_assert_uint_eq(dr_data_match(dr7, addrs, 0x0ffe, 4, true), 1);
	ck_assert_uint_eq(dr_data_match(dr7, addrs, 0x1001, 4, true), 0);
	/* 2 bytes at 0x2002 */
	ck_assert_uint_eq(dr_data_match(dr7, addrs, 0x2003, 1, true), 2);
	ck_assert_uint_eq(dr_data_match(dr7, addrs, 0x2004, 1, true), 0);
	/* 4 bytes at 0x3004, and 8 at 0x4008: the last byte, one past */
	ck_assert_uint_eq(dr_data_match(dr7, addrs, 0x3007, 1, true), 4);
	ck_assert_uint_eq(dr_data_match(dr7, addrs, 0x3008, 4, true), 0);
	ck_assert_uint_eq(dr_data_match(dr7, addrs, 0x400f, 2, true), 8);
	ck_assert_uint_eq(dr_data_match(dr7, addrs, 0x4010, 8, true), 0);
	/* one access across two breakpoints' ranges */
	ck_assert_uint_eq(dr_data_match(dr7, (const u64[DR_COUNT]){
		0x5000, 0x5002, 0, 0 }, 0x5000, 4, true), 3);
}
END_TEST

START_TEST(address_aligned_down)
{
	/* LEN 4 at 0x1002 watches 0x1000-0x1003 */
	u64 dr7 = bp(2, 1, DR7_RW_READ_WRITE, LEN4);
	const u64 dr[DR_COUNT] = { 0, 0, 0x1002, 0 };

	ck_assert_uint_eq(dr_data_match(dr7, dr, 0x1000, 1, false), 4);
	ck_assert_uint_eq(dr_data_match(dr7, dr, 0x1004, 1, false), 0);
	ck_assert_uint_eq(dr_data_match(dr7, dr, 0x1000, 0, false), 0);
}
END_TEST

Suite *dbgreg_suite(void)
{
	Suite *s = suite_create("dbgreg");
	TCase *tc = tcase_create("core");

	tcase_add_test(tc, disabled_never_match);
	tcase_add_test(tc, kind_of_access);
	tcase_add_test(tc, ranges_and_lengths);
	tcase_add_test(tc, address_aligned_down);
	suite_add_tcase(s, tc);
	return s;
}
