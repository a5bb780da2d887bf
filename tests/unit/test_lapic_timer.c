/*
 * The local APIC timer of vmm/dev/lapic.c (Intel SDM Vol. 3A §11.5.4) on a
 * fake TSC: one-shot, periodic and TSC-deadline modes, the divide
 * configuration, the current count, periodic catch-up after a long gap,
 * disarming by a mode change or an initial count of 0, and masking.
 */
#include <string.h>
#include "unit.h"
#include "vmm/dev/lapic.h"

#define VEC       0x30
#define DCR_DIV1  0xbU
#define START     1000ULL              /* fake TSC when each test begins */
#define LVT(mode) ((mode) << LVT_TIMER_SHIFT | VEC)

static struct lapic apic;
static u32 page[LAPIC_PAGE_WORDS];       /* the register page */
static u64 now_tsc;
static int errors;

static u64 fake_now(void *ctx) { (void)ctx; return now_tsc; }
static void no_eoi(void *ctx, u8 v) { (void)ctx; (void)v; ck_abort(); }
static void no_ipi(void *ctx, u32 lo, u32 d) { (void)ctx; (void)lo; (void)d; ck_abort(); }
static void count_error(void *ctx, const char *w, u32 v) { (void)ctx; (void)w; (void)v; errors++; }

static const struct lapic_ops ops = { fake_now, no_eoi, no_ipi, count_error };

static void setup(void)
{
	now_tsc = START;
	errors = 0;
	lapic_init(&apic, 0, &ops, NULL, page);
	lapic_write(&apic, LAPIC_SVR, SVR_APIC_ENABLED | 0xff);
	lapic_write(&apic, LAPIC_TIMER_DCR, DCR_DIV1);
}

/* Moves the clock to t and lets the timer fire if due; true if it did. */
static bool at(u64 t)
{
	u64 before = apic.timer_fired;

	now_tsc = t;
	lapic_tick(&apic);
	return apic.timer_fired != before;
}

static bool irr(void)
{
	return lapic_read(&apic, LAPIC_IRR + (VEC / 32) * 16) >> (VEC % 32) & 1;
}

/* The CPU takes the timer's interrupt and the handler EOIs it. */
static void service(void)
{
	ck_assert_int_eq(lapic_pending(&apic), VEC);
	lapic_ack(&apic, VEC);
	lapic_write(&apic, LAPIC_EOI, 0);
}

START_TEST(oneshot_fires_once)
{
	lapic_write(&apic, LAPIC_LVT_TIMER, LVT(LVT_TIMER_ONESHOT));
	lapic_write(&apic, LAPIC_TIMER_ICR, 500);
	ck_assert_uint_eq(lapic_next_deadline(&apic), START + 500);
	ck_assert(!at(START + 499));
	ck_assert(!irr());
	ck_assert(at(START + 500));
	ck_assert(irr());
	ck_assert_uint_eq(lapic_next_deadline(&apic), LAPIC_NO_DEADLINE);
	ck_assert_uint_eq(lapic_read(&apic, LAPIC_TIMER_CCR), 0);
	service();
	ck_assert(!at(START + 5000));
	ck_assert_uint_eq(lapic_read(&apic, LAPIC_TIMER_ICR), 500);  /* kept */
}
END_TEST

/* DCR bits 3,1:0: 000 -> 2, 001 -> 4, ... 110 -> 128, 111 -> 1. */
START_TEST(divide_configuration)
{
	static const struct { u32 dcr; u64 div; } t[] = {
		{ 0x0, 2 }, { 0x1, 4 }, { 0x2, 8 }, { 0x3, 16 },
		{ 0x8, 32 }, { 0x9, 64 }, { 0xa, 128 }, { 0xb, 1 },
	};

	lapic_write(&apic, LAPIC_LVT_TIMER, LVT(LVT_TIMER_ONESHOT));
	for (size_t i = 0; i < ARRAY_SIZE(t); i++) {
		lapic_write(&apic, LAPIC_TIMER_DCR, t[i].dcr);
		lapic_write(&apic, LAPIC_TIMER_ICR, 100);
		ck_assert_uint_eq(lapic_next_deadline(&apic), START + 100 * t[i].div);
	}
	lapic_write(&apic, LAPIC_TIMER_DCR, 0xffffffffU);
	ck_assert_uint_eq(lapic_read(&apic, LAPIC_TIMER_DCR), 0xb);  /* bits 3,1:0 */
}
END_TEST

/* CCR counts down from ICR at TSC / divide. */
START_TEST(current_count_falls)
{
	lapic_write(&apic, LAPIC_LVT_TIMER, LVT(LVT_TIMER_ONESHOT));
	lapic_write(&apic, LAPIC_TIMER_DCR, 0x1);            /* divide by 4 */
	lapic_write(&apic, LAPIC_TIMER_ICR, 1000);
	ck_assert_uint_eq(lapic_read(&apic, LAPIC_TIMER_CCR), 1000);
	now_tsc = START + 400;
	ck_assert_uint_eq(lapic_read(&apic, LAPIC_TIMER_CCR), 900);
	now_tsc = START + 3996;
	ck_assert_uint_eq(lapic_read(&apic, LAPIC_TIMER_CCR), 1);
	now_tsc = START + 4000;
	ck_assert_uint_eq(lapic_read(&apic, LAPIC_TIMER_CCR), 0);
	lapic_write(&apic, LAPIC_TIMER_CCR, 77);             /* read-only */
	ck_assert_uint_eq(lapic_read(&apic, LAPIC_TIMER_CCR), 0);
}
END_TEST

START_TEST(initial_count_zero_stops)
{
	lapic_write(&apic, LAPIC_LVT_TIMER, LVT(LVT_TIMER_PERIODIC));
	lapic_write(&apic, LAPIC_TIMER_ICR, 100);
	now_tsc = START + 50;
	lapic_write(&apic, LAPIC_TIMER_ICR, 0);
	ck_assert_uint_eq(lapic_next_deadline(&apic), LAPIC_NO_DEADLINE);
	ck_assert_uint_eq(lapic_read(&apic, LAPIC_TIMER_CCR), 0);
	ck_assert(!at(START + 1000));
}
END_TEST

/* Periodic: every period from the load; a long gap costs the periods
   missed (one interrupt, not a burst) and keeps the phase. */
START_TEST(periodic_and_catch_up)
{
	lapic_write(&apic, LAPIC_LVT_TIMER, LVT(LVT_TIMER_PERIODIC));
	lapic_write(&apic, LAPIC_TIMER_ICR, 100);
	ck_assert(at(START + 100));
	service();
	ck_assert_uint_eq(lapic_next_deadline(&apic), START + 200);
	now_tsc = START + 150;
	ck_assert_uint_eq(lapic_read(&apic, LAPIC_TIMER_CCR), 50);
	ck_assert(!at(START + 199));
	ck_assert(at(START + 250));
	service();
	ck_assert_uint_eq(lapic_next_deadline(&apic), START + 300);
	ck_assert(at(START + 1050));                         /* 300..1000 missed */
	ck_assert(!at(START + 1050));
	ck_assert_uint_eq(lapic_next_deadline(&apic), START + 1100);
	ck_assert_uint_eq(apic.timer_fired, 3);
}
END_TEST

/* Changing the timer mode disarms it (§11.5.4.1); masking does not. */
START_TEST(mode_change_disarms)
{
	lapic_write(&apic, LAPIC_LVT_TIMER, LVT(LVT_TIMER_PERIODIC));
	lapic_write(&apic, LAPIC_TIMER_ICR, 100);
	lapic_write(&apic, LAPIC_LVT_TIMER, LVT(LVT_TIMER_PERIODIC) | LVT_MASKED);
	ck_assert_uint_eq(lapic_next_deadline(&apic), START + 100);
	lapic_write(&apic, LAPIC_LVT_TIMER, LVT(LVT_TIMER_ONESHOT));
	ck_assert_uint_eq(lapic_next_deadline(&apic), LAPIC_NO_DEADLINE);
	ck_assert_uint_eq(lapic_read(&apic, LAPIC_TIMER_ICR), 0);
	ck_assert(!at(START + 1000));
	lapic_write(&apic, LAPIC_LVT_TIMER, LVT(LVT_TIMER_TSC_DEADLINE));
	lapic_tsc_deadline_write(&apic, START + 2000);
	lapic_write(&apic, LAPIC_LVT_TIMER, LVT(LVT_TIMER_ONESHOT));
	ck_assert_uint_eq(lapic_next_deadline(&apic), LAPIC_NO_DEADLINE);
	ck_assert(!at(START + 3000));
}
END_TEST

/* A masked LVT: the count runs out, nothing is raised. */
START_TEST(masked_lvt_raises_nothing)
{
	lapic_write(&apic, LAPIC_LVT_TIMER, LVT(LVT_TIMER_ONESHOT) | LVT_MASKED);
	lapic_write(&apic, LAPIC_TIMER_ICR, 100);
	ck_assert(at(START + 100));
	ck_assert(!irr());
	ck_assert_int_eq(lapic_pending(&apic), -1);
}
END_TEST

START_TEST(tsc_deadline_mode)
{
	lapic_tsc_deadline_write(&apic, START + 10);         /* not in this mode */
	ck_assert_uint_eq(lapic_tsc_deadline_read(&apic), 0);
	ck_assert_uint_eq(lapic_next_deadline(&apic), LAPIC_NO_DEADLINE);
	lapic_write(&apic, LAPIC_LVT_TIMER, LVT(LVT_TIMER_TSC_DEADLINE));
	lapic_write(&apic, LAPIC_TIMER_ICR, 100);            /* ignored */
	ck_assert_uint_eq(lapic_read(&apic, LAPIC_TIMER_ICR), 0);
	ck_assert_uint_eq(lapic_next_deadline(&apic), LAPIC_NO_DEADLINE);
	lapic_tsc_deadline_write(&apic, START + 500);
	ck_assert_uint_eq(lapic_tsc_deadline_read(&apic), START + 500);
	ck_assert_uint_eq(lapic_next_deadline(&apic), START + 500);
	ck_assert_uint_eq(lapic_read(&apic, LAPIC_TIMER_CCR), 0);  /* always 0 */
	ck_assert(!at(START + 499));
	ck_assert(at(START + 500));
	ck_assert(irr());
	ck_assert_uint_eq(lapic_tsc_deadline_read(&apic), 0);    /* cleared */
	service();
	ck_assert(!at(START + 5000));
	lapic_tsc_deadline_write(&apic, START + 100);        /* already past */
	ck_assert(at(START + 5000));
	service();
	lapic_tsc_deadline_write(&apic, START + 9000);
	lapic_tsc_deadline_write(&apic, 0);                  /* disarms */
	ck_assert_uint_eq(lapic_next_deadline(&apic), LAPIC_NO_DEADLINE);
	ck_assert(!at(START + 10000));
}
END_TEST

/* x2APIC: the timer registers through their MSRs behave the same. */
START_TEST(timer_through_msrs)
{
	u64 v;

	ck_assert(lapic_base_write(&apic, LAPIC_MMIO_BASE | LAPIC_BASE_EN |
				   LAPIC_BASE_EXTD));
	ck_assert(lapic_msr_write(&apic, X2APIC_MSR_BASE + (LAPIC_LVT_TIMER >> 4),
				  LVT(LVT_TIMER_ONESHOT)));
	ck_assert(lapic_msr_write(&apic, X2APIC_MSR_BASE + (LAPIC_TIMER_ICR >> 4), 300));
	now_tsc = START + 100;
	ck_assert(lapic_msr_read(&apic, X2APIC_MSR_BASE + (LAPIC_TIMER_CCR >> 4), &v));
	ck_assert_uint_eq(v, 200);
	ck_assert(at(START + 300));
	ck_assert_int_eq(errors, 0);
}
END_TEST

Suite *lapic_timer_suite(void)
{
	Suite *s = suite_create("lapic_timer");
	TCase *t = tcase_create("timer");

	tcase_add_checked_fixture(t, setup, NULL);
	tcase_add_test(t, oneshot_fires_once);
	tcase_add_test(t, divide_configuration);
	tcase_add_test(t, current_count_falls);
	tcase_add_test(t, initial_count_zero_stops);
	tcase_add_test(t, periodic_and_catch_up);
	tcase_add_test(t, mode_change_disarms);
	tcase_add_test(t, masked_lvt_raises_nothing);
	tcase_add_test(t, tsc_deadline_mode);
	tcase_add_test(t, timer_through_msrs);
	suite_add_tcase(s, t);
	return s;
}
