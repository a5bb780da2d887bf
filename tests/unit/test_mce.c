/*
 * arch/x86/mce_decode.c: machine-check records as real CPUs log them
 * (SDM Vol. 3B §16.3.2.2 status bits, §16.9 error codes): which banks
 * count, each MCA code's class, the verdict (PCC stops the machine,
 * anything else only the VM) and the line uhv prints. The MSR reads
 * themselves (mce.c) and the exits that lead here cannot be triggered
 * under Bochs; this is the part that can be tested.
 */
#include <string.h>
#include "unit.h"
#include "arch/x86/mce.h"

/* The "3-strike" timeout: VAL OVER UC EN MISCV ADDRV PCC, internal timer. */
#define ST_TIMER_PCC   0xfe00000000800400ULL
/* An uncorrected memory read (controller, channel unspecified): no PCC. */
#define ST_MEM_READ_UC 0xbc0000000010009fULL
/* A corrected data-cache read error (VAL EN only). */
#define ST_CACHE_CE    0x9000000000000134ULL

START_TEST(bank_count)
{
	ck_assert_uint_eq(mce_bank_count(0), 0);
	ck_assert_uint_eq(mce_bank_count(0x0c09), 9);      /* CMCI_P, TES_P */
	ck_assert_uint_eq(mce_bank_count(0x10000ff), MCE_MAX_BANKS);
}
END_TEST

START_TEST(error_classes)
{
	ck_assert_str_eq(mce_error_class(0x0000), "no error");
	ck_assert_str_eq(mce_error_class(0x0001), "unclassified error");
	ck_assert_str_eq(mce_error_class(0x0005), "internal parity error");
	ck_assert_str_eq(mce_error_class(0x0400), "internal timer error");
	ck_assert_str_eq(mce_error_class(0x0405), "internal unclassified error");
	ck_assert_str_eq(mce_error_class(0x0e0b), "I/O error");
	ck_assert_str_eq(mce_error_class(0x000e), "generic cache hierarchy error");
	ck_assert_str_eq(mce_error_class(0x0014), "TLB error");
	ck_assert_str_eq(mce_error_class(0x009f), "memory controller error");
	ck_assert_str_eq(mce_error_class(0x109f), "memory controller error");
	ck_assert_str_eq(mce_error_class(0x0134), "cache hierarchy error");
	ck_assert_str_eq(mce_error_class(0x0e0f), "bus/interconnect error");
	ck_assert_str_eq(mce_error_class(0x2000), "unknown error");
}
END_TEST

START_TEST(valid_banks_only)
{
	struct arch_mce m;

	memset(&m, 0, sizeof(m));
	mce_add_bank(&m, 0, 0x0000000000000400ULL, 1, 2);   /* VAL clear */
	mce_add_bank(&m, 3, ST_CACHE_CE, 0x1234, 0x5678);
	mce_add_bank(&m, 7, ST_MEM_READ_UC, 0xabc000, 0x86);
	ck_assert_uint_eq(m.nr_valid, 2);
	ck_assert_uint_eq(m.banks[0].index, 3);
	ck_assert_uint_eq(m.banks[0].addr, 0);    /* ADDRV clear */
	ck_assert_uint_eq(m.banks[0].misc, 0);
	ck_assert_uint_eq(m.banks[1].index, 7);
	ck_assert_uint_eq(m.banks[1].addr, 0xabc000);
	ck_assert_uint_eq(m.banks[1].misc, 0x86);
	for (u32 i = 0; i < 2 * MCE_MAX_BANKS; i++)
		mce_add_bank(&m, i, ST_CACHE_CE, 0, 0);
	ck_assert_uint_eq(m.nr_valid, MCE_MAX_BANKS);
}
END_TEST

START_TEST(verdicts)
{
	struct arch_mce m;

	memset(&m, 0, sizeof(m));
	ck_assert_int_eq(mce_verdict(&m), MCE_STOP_VM);    /* nothing logged */
	mce_add_bank(&m, 1, ST_MEM_READ_UC, 0, 0);
	ck_assert_int_eq(mce_verdict(&m), MCE_STOP_VM);
	mce_add_bank(&m, 4, ST_TIMER_PCC, 0, 0);
	ck_assert_int_eq(mce_verdict(&m), MCE_STOP_MACHINE);
}
END_TEST

START_TEST(formatted_lines)
{
	struct arch_mce_bank pcc = { 4, ST_TIMER_PCC, 0x7f00, 0x20 };
	struct arch_mce_bank ce = { 3, ST_CACHE_CE, 0, 0 };
	char buf[192];

	mce_format_bank(&pcc, buf, sizeof(buf));
	ck_assert_str_eq(buf, "bank 4 status 0xfe00000000800400 (uncorrected, "
			 "PCC, overflow, internal timer error 0x0400, model code "
			 "0x0080) addr 0x7f00 misc 0x20");
	mce_format_bank(&ce, buf, sizeof(buf));
	ck_assert_str_eq(buf, "bank 3 status 0x9000000000000134 (corrected, "
			 "cache hierarchy error 0x0134, model code 0x0000)");
	ck_assert_int_gt(mce_format_bank(&pcc, buf, 16), 15);
	ck_assert_uint_eq(strlen(buf), 15);                /* cut, terminated */
}
END_TEST

Suite *mce_suite(void)
{
	Suite *s = suite_create("mce");
	TCase *t = tcase_create("decode");

	tcase_add_test(t, bank_count);
	tcase_add_test(t, error_classes);
	tcase_add_test(t, valid_banks_only);
	tcase_add_test(t, verdicts);
	tcase_add_test(t, formatted_lines);
	suite_add_tcase(s, t);
	return s;
}
