/*
 * lib/string.c. uhv's memcpy/strlen/... carry the libc names, so the build
 * compiles lib/string.c a second time with -fno-builtin and those names
 * renamed uhv_* (tests/unit.mk); this file calls them by the new names.
 * str_copy has no libc twin and keeps its name (config.c uses it too).
 */
#include <string.h>
#include "unit.h"

void *uhv_memcpy(void *dst, const void *src, size_t n);
void *uhv_memset(void *dst, int c, size_t n);
void *uhv_memmove(void *dst, const void *src, size_t n);
int uhv_memcmp(const void *a, const void *b, size_t n);
size_t uhv_strlen(const char *s);
int uhv_strcmp(const char *a, const char *b);
int uhv_strncmp(const char *a, const char *b, size_t n);
void str_copy(char *dst, const char *src, size_t size);

START_TEST(mem_copy_set)
{
	char d[16] = "................";
	const char s[] = "abcdef";

	ck_assert_ptr_eq(uhv_memcpy(d + 2, s, 6), d + 2);
	ck_assert_mem_eq(d, "..abcdef........", 16);
	ck_assert_ptr_eq(uhv_memcpy(d, s, 0), d);
	ck_assert_int_eq(d[0], '.');
	ck_assert_ptr_eq(uhv_memset(d + 1, 0x1ff, 3), d + 1); /* c as a byte */
	ck_assert_mem_eq(d, ".\xff\xff\xff" "cdef........", 16);
	uhv_memset(d, 0, 16);
	for (int i = 0; i < 16; i++)
		ck_assert_int_eq(d[i], 0);
}
END_TEST

START_TEST(mem_move_overlap)
{
	char b[] = "0123456789";

	ck_assert_ptr_eq(uhv_memmove(b + 2, b, 6), b + 2);   /* forward */
	ck_assert_str_eq(b, "0101234589");
	memcpy(b, "0123456789", 10);
	ck_assert_ptr_eq(uhv_memmove(b, b + 3, 7), b);       /* backward */
	ck_assert_str_eq(b, "3456789789");
	memcpy(b, "0123456789", 10);
	uhv_memmove(b + 1, b, 9);
	ck_assert_str_eq(b, "0012345678");
	uhv_memmove(b, b, 10);
	ck_assert_str_eq(b, "0012345678");
	uhv_memmove(b + 5, b, 0);
	ck_assert_str_eq(b, "0012345678");
}
END_TEST

START_TEST(mem_compare)
{
	ck_assert_int_eq(uhv_memcmp("abc", "abc", 3), 0);
	ck_assert_int_eq(uhv_memcmp("abc", "abd", 2), 0);
	ck_assert_int_lt(uhv_memcmp("abc", "abd", 3), 0);
	ck_assert_int_gt(uhv_memcmp("b", "a", 1), 0);
	ck_assert_int_gt(uhv_memcmp("\x80", "\x01", 1), 0);   /* unsigned bytes */
	ck_assert_int_eq(uhv_memcmp("a\0x", "a\0y", 2), 0);   /* not a string */
	ck_assert_int_lt(uhv_memcmp("a\0x", "a\0y", 3), 0);
	ck_assert_int_eq(uhv_memcmp(NULL, NULL, 0), 0);
}
END_TEST

START_TEST(str_length_compare)
{
	ck_assert_uint_eq(uhv_strlen(""), 0);
	ck_assert_uint_eq(uhv_strlen("hello"), 5);
	ck_assert_uint_eq(uhv_strlen("ab\0cd"), 2);
	ck_assert_int_eq(uhv_strcmp("image", "image"), 0);
	ck_assert_int_lt(uhv_strcmp("image", "imagf"), 0);
	ck_assert_int_lt(uhv_strcmp("ab", "abc"), 0);
	ck_assert_int_gt(uhv_strcmp("abc", "ab"), 0);
	ck_assert_int_gt(uhv_strcmp("\xe9", "z"), 0);         /* unsigned */
	ck_assert_int_eq(uhv_strcmp("", ""), 0);
	ck_assert_int_eq(uhv_strncmp("vm a", "vmx", 2), 0);
	ck_assert_int_lt(uhv_strncmp("vm a", "vmx", 3), 0);
	ck_assert_int_eq(uhv_strncmp("ab", "ab", 100), 0);    /* stops at NUL */
	ck_assert_int_eq(uhv_strncmp("abc", "abd", 0), 0);
	ck_assert_int_gt(uhv_strncmp("\x80", "\x7f", 1), 0);
}
END_TEST

START_TEST(string_copy)
{
	char d[8];

	memset(d, '#', sizeof(d));
	str_copy(d, "abcdef", 4);
	ck_assert_str_eq(d, "abc");
	ck_assert_int_eq(d[4], '#');
	str_copy(d, "abc", 4);                  /* exact fit */
	ck_assert_str_eq(d, "abc");
	str_copy(d, "xyz", 1);
	ck_assert_str_eq(d, "");
	ck_assert_int_eq(d[1], 'b');
	str_copy(d, "", sizeof(d));
	ck_assert_str_eq(d, "");
	str_copy(d, "1234567", sizeof(d));
	ck_assert_str_eq(d, "1234567");
	str_copy(d, "123456789", sizeof(d));
	ck_assert_str_eq(d, "1234567");
}
END_TEST

Suite *string_suite(void)
{
	Suite *s = suite_create("string");
	TCase *tc = tcase_create("string");

	tcase_add_test(tc, mem_copy_set);
	tcase_add_test(tc, mem_move_overlap);
	tcase_add_test(tc, mem_compare);
	tcase_add_test(tc, str_length_compare);
	tcase_add_test(tc, string_copy);
	suite_add_tcase(s, tc);
	return s;
}
