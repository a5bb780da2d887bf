/*
 * vmm/trace/exit_trace.c: the exit trace's ring. What its readers rely
 * on: records are numbered from 1 without gaps, the newest TRACE_RECORDS
 * are held and older ones overwritten, a reader asking after seq N gets
 * exactly the held records after N and learns how many it missed; each
 * kind of record is worded as docs/protocol.md says; the console's pace
 * holds back what is over its limit and says how many.
 */
#include <stdio.h>
#include <string.h>
#include "unit.h"
#include "vmm/trace/exit_trace.h"

static struct trace_rec recs[TRACE_RECORDS];
static struct trace t;

static void setup(void)
{
	memset(recs, 0x5a, sizeof(recs));       /* trace_add must clear */
	trace_init(&t, recs);
}

/* Adds n records at TSC 1000, 1010, ...; each one's rip is its seq. */
static void add_n(u64 n)
{
	for (u64 i = 0; i < n; i++) {
		u64 seq = trace_newest(&t) + 1;
		struct trace_rec *r = trace_add(&t, 1000 + 10 * seq);

		r->rip = seq;
		r->reason = 10;
	}
}

START_TEST(empty_and_unset)
{
	struct trace none = { 0 };

	ck_assert_uint_eq(trace_newest(&t), 0);
	ck_assert_uint_eq(trace_oldest(&t), 1);
	ck_assert_ptr_null(trace_at(&t, 0));
	ck_assert_ptr_null(trace_at(&t, 1));
	ck_assert_uint_eq(trace_missed(&t, 0), 0);
	ck_assert_uint_eq(trace_tail(&t, 5), 0);
	/* a VM never started has a trace never set up: empty, not a crash */
	ck_assert_uint_eq(trace_newest(&none), 0);
	ck_assert_uint_eq(trace_newest(NULL), 0);
	ck_assert_ptr_null(trace_at(&none, 1));
	ck_assert_ptr_null(trace_at(NULL, 1));
}
END_TEST

START_TEST(numbered_with_deltas)
{
	const struct trace_rec *r;

	add_n(3);
	ck_assert_uint_eq(trace_newest(&t), 3);
	ck_assert_uint_eq(trace_oldest(&t), 1);
	r = trace_at(&t, 1);
	ck_assert_ptr_nonnull(r);
	ck_assert_uint_eq(r->rip, 1);
	ck_assert_uint_eq(r->delta, 0);         /* the first: nothing before */
	ck_assert_uint_eq(r->detail, 0);        /* cleared, not 0x5a... */
	ck_assert_uint_eq(r->kind, TRACE_NONE);
	ck_assert_uint_eq(trace_at(&t, 2)->delta, 10);
	ck_assert_uint_eq(trace_at(&t, 3)->rip, 3);
	ck_assert_ptr_null(trace_at(&t, 4));
	/* turned off and on again: the pause is not a delta */
	trace_restart_clock(&t);
	ck_assert_uint_eq(trace_add(&t, 999999)->delta, 0);
	ck_assert_uint_eq(trace_add(&t, 1000005)->delta, 6);
}
END_TEST

START_TEST(overwrites_the_oldest)
{
	add_n(TRACE_RECORDS);
	ck_assert_uint_eq(trace_oldest(&t), 1);
	ck_assert_uint_eq(trace_at(&t, 1)->rip, 1);
	add_n(1);
	ck_assert_uint_eq(trace_newest(&t), TRACE_RECORDS + 1);
	ck_assert_uint_eq(trace_oldest(&t), 2);
	ck_assert_ptr_null(trace_at(&t, 1));
	ck_assert_uint_eq(trace_at(&t, 2)->rip, 2);
	ck_assert_uint_eq(trace_at(&t, TRACE_RECORDS + 1)->rip, TRACE_RECORDS + 1);
	add_n(3 * TRACE_RECORDS + 7);
	for (u64 s = trace_oldest(&t); s <= trace_newest(&t); s++)
		ck_assert_uint_eq(trace_at(&t, s)->rip, s);
	ck_assert_uint_eq(trace_newest(&t) - trace_oldest(&t) + 1, TRACE_RECORDS);
}
END_TEST

/* A follower asks after the last seq it saw; what it missed is counted. */
START_TEST(reader_after_seq)
{
	u64 n;

	add_n(10);
	ck_assert_uint_eq(trace_missed(&t, 0), 0);
	ck_assert_uint_eq(trace_missed(&t, 10), 0);
	add_n(TRACE_RECORDS + 5);               /* newest 10 + 256 + 5 */
	n = trace_newest(&t);
	ck_assert_uint_eq(trace_oldest(&t), n - TRACE_RECORDS + 1);
	/* it saw up to 10; 11 .. oldest - 1 are gone */
	ck_assert_uint_eq(trace_missed(&t, 10), trace_oldest(&t) - 11);
	ck_assert_uint_eq(trace_missed(&t, 0), trace_oldest(&t) - 1);
	ck_assert_uint_eq(trace_missed(&t, trace_oldest(&t) - 1), 0);
	ck_assert_uint_eq(trace_missed(&t, n), 0);
	/* the tail: the newest count, never further back than held */
	ck_assert_uint_eq(trace_tail(&t, 1), n - 1);
	ck_assert_uint_eq(trace_tail(&t, 32), n - 32);
	ck_assert_uint_eq(trace_tail(&t, 100000), trace_oldest(&t) - 1);
	ck_assert_uint_eq(trace_missed(&t, trace_tail(&t, 100000)), 0);
}
END_TEST

static const char *words(const struct trace_rec *r)
{
	static char buf[TRACE_DETAIL_MAX];

	trace_detail(r, buf, sizeof(buf));
	return buf;
}

START_TEST(detail_words)
{
	struct trace_rec r = { .kind = TRACE_IO, .detail = 0xf4, .aux = 4 };

	ck_assert_str_eq(words(&r), "out 0xf4/4");
	r = (struct trace_rec){ .kind = TRACE_IO, .detail = 0x3fd,
				.aux = 1 | TRACE_IO_IN };
	ck_assert_str_eq(words(&r), "in 0x3fd/1");
	r.aux = 2 | TRACE_IO_STRING | TRACE_IO_REP;
	ck_assert_str_eq(words(&r), "outs 0x3fd/2 rep");
	r = (struct trace_rec){ .kind = TRACE_MSR, .detail = 0x1b };
	ck_assert_str_eq(words(&r), "rdmsr 0x1b");
	r.aux = TRACE_MSR_WRITE;
	ck_assert_str_eq(words(&r), "wrmsr 0x1b");
	r = (struct trace_rec){ .kind = TRACE_EPT, .detail = 0xfee000b0,
				.aux = TRACE_EPT_READ | TRACE_EPT_WRITE };
	ck_assert_str_eq(words(&r), "gpa 0xfee000b0 rw");
	r.aux = TRACE_EPT_FETCH;
	ck_assert_str_eq(words(&r), "gpa 0xfee000b0 x");
	r.aux = 0;                              /* a misconfiguration */
	ck_assert_str_eq(words(&r), "gpa 0xfee000b0");
	r = (struct trace_rec){ .kind = TRACE_CR, .detail = 0,
				.aux = 0 | 0 << TRACE_CR_GPR_SHIFT };
	ck_assert_str_eq(words(&r), "mov cr0, rax");
	r = (struct trace_rec){ .kind = TRACE_CR, .detail = 3,
				.aux = 1 | 11 << TRACE_CR_GPR_SHIFT };
	ck_assert_str_eq(words(&r), "mov r11, cr3");
	r.aux = 2;
	ck_assert_str_eq(words(&r), "clts");
	r.aux = 3 | 0x11 << TRACE_CR_LMSW_SHIFT;
	ck_assert_str_eq(words(&r), "lmsw 0x11");
	r = (struct trace_rec){ .kind = TRACE_VECTOR, .detail = 14 };
	ck_assert_str_eq(words(&r), "vector 14");
	r = (struct trace_rec){ .kind = TRACE_CPUID, .detail = 0x40000000,
				.aux = 2 };
	ck_assert_str_eq(words(&r), "leaf 0x40000000 sub 0x2");
	r = (struct trace_rec){ .kind = TRACE_APIC, .detail = 0xb0 };
	ck_assert_str_eq(words(&r), "apic 0xb0");
	r = (struct trace_rec){ .kind = TRACE_NONE, .detail = 7 };
	ck_assert_str_eq(words(&r), "");
	r.kind = TRACE_KINDS + 3;               /* not a kind: no words */
	ck_assert_str_eq(words(&r), "");
}
END_TEST

/* The longest words fit TRACE_DETAIL_MAX; a short buffer is cut, NUL'd. */
START_TEST(detail_fits)
{
	struct trace_rec r = { .kind = TRACE_EPT, .detail = ~0ULL,
			       .aux = TRACE_EPT_READ | TRACE_EPT_WRITE |
				      TRACE_EPT_FETCH };
	char small[8];

	ck_assert_int_lt(trace_detail(&r, small, sizeof(small)) + 1,
			 TRACE_DETAIL_MAX);
	ck_assert_str_eq(small, "gpa 0xf");
	r = (struct trace_rec){ .kind = TRACE_IO, .detail = 0xffff,
				.aux = ~0u };
	ck_assert_int_lt(trace_detail(&r, small, sizeof(small)) + 1,
			 TRACE_DETAIL_MAX);
	r = (struct trace_rec){ .kind = TRACE_CPUID, .detail = 0xffffffff,
				.aux = ~0u };
	ck_assert_int_lt(trace_detail(&r, small, sizeof(small)) + 1,
			 TRACE_DETAIL_MAX);
	r = (struct trace_rec){ .kind = TRACE_CR, .detail = 15, .aux = ~0u };
	ck_assert_int_lt(trace_detail(&r, small, sizeof(small)) + 1,
			 TRACE_DETAIL_MAX);
	ck_assert_str_eq(words(&r), "lmsw 0xffff");
}
END_TEST

#define WINDOW 1000
#define LIMIT 3

START_TEST(console_pace)
{
	struct trace_pace p = { 0 };
	u64 held = 99;
	int printed = 0;

	/* 10 records in the first window: 3 printed, 7 held back */
	for (u64 now = 5; now < 15; now++)
		printed += trace_pace_allow(&p, now, WINDOW, LIMIT, &held);
	ck_assert_int_eq(printed, LIMIT);
	ck_assert_uint_eq(held, 0);             /* said only at the next window */
	/* the next window: the 7 are reported once, printing resumes */
	ck_assert(trace_pace_allow(&p, 5 + WINDOW, WINDOW, LIMIT, &held));
	ck_assert_uint_eq(held, 7);
	ck_assert(trace_pace_allow(&p, 6 + WINDOW, WINDOW, LIMIT, &held));
	ck_assert_uint_eq(held, 0);
	/* a quiet window after it: nothing held, nothing to say */
	ck_assert(trace_pace_allow(&p, 10 * WINDOW, WINDOW, LIMIT, &held));
	ck_assert_uint_eq(held, 0);
	/* TSC 0 is a time like any other */
	p = (struct trace_pace){ 0 };
	ck_assert(trace_pace_allow(&p, 0, WINDOW, 1, &held));
	ck_assert(!trace_pace_allow(&p, 1, WINDOW, 1, &held));
	ck_assert(trace_pace_allow(&p, WINDOW + 1, WINDOW, 1, &held));
	ck_assert_uint_eq(held, 1);
}
END_TEST

Suite *trace_suite(void)
{
	Suite *s = suite_create("trace");
	TCase *tc = tcase_create("trace");

	tcase_add_checked_fixture(tc, setup, NULL);
	tcase_add_test(tc, empty_and_unset);
	tcase_add_test(tc, numbered_with_deltas);
	tcase_add_test(tc, overwrites_the_oldest);
	tcase_add_test(tc, reader_after_seq);
	tcase_add_test(tc, detail_words);
	tcase_add_test(tc, detail_fits);
	tcase_add_test(tc, console_pace);
	suite_add_tcase(s, tc);
	return s;
}
