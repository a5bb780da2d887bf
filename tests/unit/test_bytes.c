/*
 * The small helpers of lib/ that every part shares: lib/bytes.h (byte
 * order, access masks), lib/name.h (uhv's names) and lib/version.h (the
 * one version, as a string and as VMCALL 0's number).
 */
#include <stdio.h>
#include <string.h>
#include "unit.h"
#include "lib/bytes.h"
#include "lib/name.h"
#include "lib/version.h"

START_TEST(size_masks)
{
	ck_assert_uint_eq(size_mask(0), 0);
	ck_assert_uint_eq(size_mask(1), 0xff);
	ck_assert_uint_eq(size_mask(2), 0xffff);
	ck_assert_uint_eq(size_mask(4), 0xffffffffULL);
	ck_assert_uint_eq(size_mask(8), ~0ULL);
	ck_assert_uint_eq(size_mask(16), ~0ULL);         /* no shift by 64+ */
}
END_TEST

START_TEST(little_endian)
{
	const u8 b[8] = { 0x01, 0x23, 0x45, 0x67, 0x89, 0xab, 0xcd, 0xef };
	u8 out[9];

	ck_assert_uint_eq(le16_get(b), 0x2301);
	ck_assert_uint_eq(le32_get(b), 0x67452301);
	ck_assert_uint_eq(le64_get(b), 0xefcdab8967452301ULL);
	ck_assert_uint_eq(le_get(b + 1, 3), 0x674523);
	ck_assert_uint_eq(le_get(b, 0), 0);
	ck_assert_uint_eq(le_get(b, 8), le64_get(b));
	memset(out, 0xee, sizeof(out));
	le_put(out, 0x0807060504030201ULL, 2);          /* the low 2 bytes only */
	ck_assert_uint_eq(out[0], 1);
	ck_assert_uint_eq(out[1], 2);
	ck_assert_uint_eq(out[2], 0xee);
	le_put(out, 0xefcdab8967452301ULL, 8);
	ck_assert(!memcmp(out, b, 8));
	ck_assert_uint_eq(out[8], 0xee);
}
END_TEST

START_TEST(network_order)
{
	const u8 b[2] = { 0x08, 0x06 };                 /* ARP's EtherType */
	u8 out[3] = { 0, 0, 0xee };

	ck_assert_uint_eq(be16_get(b), 0x0806);
	be16_put(out, 0x86dd);
	ck_assert_uint_eq(out[0], 0x86);
	ck_assert_uint_eq(out[1], 0xdd);
	ck_assert_uint_eq(out[2], 0xee);
}
END_TEST

START_TEST(names)
{
	char longest[UHV_NAME_MAX], too_long[UHV_NAME_MAX + 1];

	ck_assert(name_valid("a"));
	ck_assert(name_valid("web-1_Z9"));
	ck_assert(!name_valid(""));
	ck_assert(!name_valid("a b"));
	ck_assert(!name_valid("a.b"));
	ck_assert(!name_valid("\xc3\xa9"));          /* UTF-8 e-acute */
	ck_assert(!name_valid("x\n"));
	memset(longest, 'n', sizeof(longest) - 1);
	longest[sizeof(longest) - 1] = '\0';            /* 15 characters */
	ck_assert(name_valid(longest));
	memset(too_long, 'n', sizeof(too_long) - 1);
	too_long[sizeof(too_long) - 1] = '\0';          /* 16 */
	ck_assert(!name_valid(too_long));
}
END_TEST

START_TEST(one_version)
{
	char s[32];

	snprintf(s, sizeof(s), "%d.%d", UHV_VERSION_MAJOR, UHV_VERSION_MINOR);
	ck_assert_str_eq(UHV_VERSION_STRING, s);
	ck_assert_uint_eq(UHV_VERSION_NUMBER >> 16, UHV_VERSION_MAJOR);
	ck_assert_uint_eq(UHV_VERSION_NUMBER & 0xffff, UHV_VERSION_MINOR);
}
END_TEST

Suite *bytes_suite(void)
{
	Suite *s = suite_create("bytes");
	TCase *tc = tcase_create("bytes");

	tcase_add_test(tc, size_masks);
	tcase_add_test(tc, little_endian);
	tcase_add_test(tc, network_order);
	tcase_add_test(tc, names);
	tcase_add_test(tc, one_version);
	suite_add_tcase(s, tc);
	return s;
}
