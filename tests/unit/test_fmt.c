/*
 * lib/fmt.c: conversions, length modifiers, width and flags, truncation
 * (always NUL-terminated, nothing written past size) and the return value.
 */
#include <limits.h>
#include <stdarg.h>
#include <string.h>
#include "unit.h"
#include "lib/fmt.h"

static char buf[256];

/* No format attribute here: lets the tests pass formats gcc would flag. */
static int via_va_list(char *b, size_t n, const char *f, ...)
{
	va_list ap;
	int r;

	va_start(ap, f);
	r = fmt_vsn(b, n, f, ap);
	va_end(ap);
	return r;
}

#define FV(expect, ...) do {                                                 \
	int n_ = via_va_list(buf, sizeof(buf), __VA_ARGS__);                  \
	ck_assert_str_eq(buf, expect);                                        \
	ck_assert_int_eq(n_, (int)strlen(expect));                            \
} while (0)

/* Formats into buf and checks both the text and the returned length. */
#define F(expect, ...) do {                                                  \
	int n_ = fmt_sn(buf, sizeof(buf), __VA_ARGS__);                       \
	ck_assert_str_eq(buf, expect);                                        \
	ck_assert_int_eq(n_, (int)strlen(expect));                            \
} while (0)

START_TEST(conversions)
{
	F("plain text", "plain text");
	FV("", "");
	F("a=hello b=x c=-42 d=42", "a=%s b=%c c=%d d=%u", "hello", 'x', -42, 42u);
	F("0 -1 2147483647 -2147483648", "%d %i %d %d", 0, -1, INT_MAX, INT_MIN);
	F("4294967295 0", "%u %u", UINT_MAX, 0u);
	F("deadbeef DEADBEEF 0", "%x %X %x", 0xdeadbeefu, 0xdeadbeefu, 0u);
	F("ffffffff", "%x", -1);
	FV("(null)", "%s", (char *)NULL);
	F("100% %", "100%% %%");
}
END_TEST

START_TEST(length_modifiers)
{
	F("-9223372036854775808 9223372036854775807", "%lld %lld",
	  LLONG_MIN, LLONG_MAX);
	F("18446744073709551615", "%llu", ULLONG_MAX);
	F("ffffffffffffffff FFFFFFFFFFFFFFFF", "%lx %llX", ULONG_MAX, ULLONG_MAX);
	F("-5 123456789012", "%ld %lu", -5L, 123456789012UL);
	F("12345 3039", "%zu %zx", (size_t)12345, (size_t)12345);
	F("1 4294967296", "%d %llu", 1, 1ULL << 32);   /* args stay in step */
}
END_TEST

START_TEST(pointers)
{
	F("0x1234", "%p", (void *)0x1234);
	F("0xffff800000001000", "%p", (void *)0xffff800000001000ULL);
	F("0x0", "%p", (void *)0);
}
END_TEST

START_TEST(width_and_flags)
{
	F("   42|42   |00042", "%5d|%-5d|%05d", 42, 42, 42);
	F("0000beef", "%08x", 0xbeefu);
	F("00000000deadbeef", "%016llx", 0xdeadbeefULL);
	F("12345", "%2d", 12345);                     /* width is a minimum */
	F("   ab|ab   |", "%5s|%-5s|", "ab", "ab");
	F("  x|x  |", "%3c|%-3c|", 'x', 'x');
	FV("42   |", "%-05d|", 42);                    /* '-' beats '0' */
	F("  -42", "%5d", -42);
	F("-42  |", "%-5d|", -42);
	F("        ", "%8s", "");
	F("   FF", "%5X", 255u);
	F("0", "%0d", 0);
}
END_TEST

/* BUG (reported): zero padding goes before the minus sign ("00-42"). */
START_TEST(zero_pad_negative)
{
	F("-0042", "%05d", -42);
	F("-00000000000000000001", "%021lld", -1LL);
}
END_TEST

START_TEST(unknown_conversions)
{
	FV("%q", "%q");
	FV("a%", "a%");                                 /* '%' at the very end */
	FV("a%", "a%5");
	FV("%w|7", "%w|%d", 7);
}
END_TEST

START_TEST(truncation)
{
	char b[16];

	memset(b, '#', sizeof(b));
	ck_assert_int_eq(fmt_sn(b, 8, "hello %s", "world"), 11);
	ck_assert_str_eq(b, "hello w");
	for (size_t i = 8; i < sizeof(b); i++)
		ck_assert_int_eq(b[i], '#');              /* nothing past size */

	memset(b, '#', sizeof(b));
	ck_assert_int_eq(fmt_sn(b, 1, "hello"), 5);
	ck_assert_int_eq(b[0], 0);
	ck_assert_int_eq(b[1], '#');

	memset(b, '#', sizeof(b));
	ck_assert_int_eq(fmt_sn(b, 0, "hello %d", 1234), 10);
	ck_assert_int_eq(b[0], '#');                  /* size 0: no write */

	memset(b, '#', sizeof(b));
	ck_assert_int_eq(fmt_sn(b, 4, "%d", 123456), 6);
	ck_assert_str_eq(b, "123");
	ck_assert_int_eq(b[4], '#');

	memset(b, '#', sizeof(b));
	ck_assert_int_eq(fmt_sn(b, 6, "%-10s|", "ab"), 11);
	ck_assert_str_eq(b, "ab   ");

	memset(b, '#', sizeof(b));
	ck_assert_int_eq(fmt_sn(b, 5, "abcd"), 4);     /* exact fit */
	ck_assert_str_eq(b, "abcd");
	ck_assert_int_eq(fmt_sn(b, 4, "abcd"), 4);     /* one short */
	ck_assert_str_eq(b, "abc");
}
END_TEST

START_TEST(truncation_every_size)
{
	static const char full[] = "x=-123 y=0x00ff s=[  abc] p=0xbeef";
	char b[64];

	for (size_t size = 1; size <= sizeof(full) + 2; size++) {
		memset(b, '#', sizeof(b));
		ck_assert_int_eq(fmt_sn(b, size, "x=%d y=0x%04x s=[%5s] p=%p", -123,
					0xffu, "abc", (void *)0xbeef),
				 (int)strlen(full));
		ck_assert_uint_eq(strlen(b), MIN(size - 1, strlen(full)));
		ck_assert_int_eq(strncmp(b, full, size - 1), 0);
		ck_assert_int_eq(b[size], '#');
	}
}
END_TEST

START_TEST(vsn)
{
	ck_assert_int_eq(via_va_list(buf, sizeof(buf), "%s-%d-%llx", "a", 7,
				     0x1ffffffffULL), 13);
	ck_assert_str_eq(buf, "a-7-1ffffffff");
	ck_assert_int_eq(via_va_list(buf, 3, "%s", "long"), 4);
	ck_assert_str_eq(buf, "lo");
}
END_TEST

Suite *fmt_suite(void)
{
	Suite *s = suite_create("fmt");
	TCase *tc = tcase_create("fmt");

	tcase_add_test(tc, conversions);
	tcase_add_test(tc, length_modifiers);
	tcase_add_test(tc, pointers);
	tcase_add_test(tc, width_and_flags);
	tcase_add_test(tc, zero_pad_negative);
	tcase_add_test(tc, unknown_conversions);
	tcase_add_test(tc, truncation);
	tcase_add_test(tc, truncation_every_size);
	tcase_add_test(tc, vsn);
	suite_add_tcase(s, tc);
	return s;
}
