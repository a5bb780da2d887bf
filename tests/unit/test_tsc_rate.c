/*
 * lib/tsc_rate.c: the TSC rate from CPUID leaves 0x15/0x16 (SDM Vol. 2A)
 * is taken only where a measurement agrees within TSC_AGREE_PPM; the
 * arithmetic of a measurement against a reference clock. Values are
 * hand-derived: a 24 MHz crystal at 2:166 is 1992 MHz (Kaby Lake's
 * leaf 0x15 shape), Bochs's TSC counts its ips (50 MHz here).
 */
#include "unit.h"
#include "lib/tsc_rate.h"

START_TEST(stated_rates)
{
	const u32 l15[4] = { 2, 166, 24000000, 0 }, none[4] = { 0, 0, 0, 0 };
	const u32 no_crystal[4] = { 2, 166, 0, 0 }, l16[4] = { 3000, 4000, 100, 0 };

	ck_assert_uint_eq(tsc_cpuid_hz(l15, none), 1992000000ULL);
	ck_assert_uint_eq(tsc_cpuid_hz(no_crystal, l16), 3000000000ULL);
	ck_assert_uint_eq(tsc_cpuid_hz(none, l16), 3000000000ULL);
	ck_assert_uint_eq(tsc_cpuid_hz(none, none), 0);
}
END_TEST

START_TEST(pick_agrees_or_measures)
{
	bool used;

	/* 0.4% apart: the stated value (the measurement is the rougher) */
	ck_assert_uint_eq(tsc_pick(2000000000ULL, 2008000000ULL, &used), 2000000000ULL);
	ck_assert(used);
	/* 0.6% apart: measured */
	ck_assert_uint_eq(tsc_pick(2000000000ULL, 2012000000ULL, &used), 2012000000ULL);
	ck_assert(!used);
	/* an emulator stating 2.5 GHz whose TSC counts 50 M instructions/s */
	ck_assert_uint_eq(tsc_pick(2500000000ULL, 50002000ULL, &used), 50002000ULL);
	ck_assert(!used);
	/* nothing stated: measured; nothing measured: stated */
	ck_assert_uint_eq(tsc_pick(0, 50002000ULL, &used), 50002000ULL);
	ck_assert(!used);
	ck_assert_uint_eq(tsc_pick(3000000000ULL, 0, &used), 3000000000ULL);
	ck_assert(!used);
}
END_TEST

START_TEST(against_reference)
{
	/* 50 ms of the PM timer (178977 ticks) while a 3 GHz TSC ran */
	u64 dtsc = 150000000ULL, dref = 178977ULL;
	u64 hz = tsc_from_reference(dtsc, dref, 3579545ULL);

	ck_assert_uint_ge(hz, 2999990000ULL);
	ck_assert_uint_le(hz, 3000010000ULL);
	/* no overflow where dtsc * ref_hz exceeds 64 bits */
	ck_assert_uint_eq(tsc_from_reference(1ULL << 50, 1ULL << 20, 1000), (1ULL << 30) * 1000);
	ck_assert_uint_eq(tsc_from_reference(123, 0, 1000), 0);
}
END_TEST

Suite *tsc_rate_suite(void)
{
	Suite *s = suite_create("tsc_rate");
	TCase *t = tcase_create("core");

	tcase_add_test(t, stated_rates);
	tcase_add_test(t, pick_agrees_or_measures);
	tcase_add_test(t, against_reference);
	suite_add_tcase(s, t);
	return s;
}
