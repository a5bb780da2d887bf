/*
 * vmm/dev/pit.c (Intel 8254 datasheet) on a fake TSC running at exactly ten
 * times the PIT's 1.193182 MHz, so one PIT tick is 10 TSC ticks: modes 0,
 * 2 and 3, the access modes (lobyte, hibyte, lobyte then hibyte), counter
 * latch and read-back commands, channel 0's IRQ 0 deadlines and channel
 * 2's output on port 0x61 bit 5.
 */
#include <string.h>
#include "unit.h"
#include "vmm/dev/pit.h"

#define TSC_PER_TICK 10ULL
#define TSC_HZ       (PIT_HZ * TSC_PER_TICK)
#define START        100000ULL
#define CTRL         3              /* port offsets from 0x40 */
#define CH0          0
#define CH2          2
/* Control words: channel << 6 | access << 4 | mode << 1. */
#define CW(ch, acc, mode) ((u8)((ch) << 6 | (acc) << 4 | (mode) << 1))
#define LO    1
#define HI    2
#define LOHI  3
#define GATE2 0x01
#define OUT2  0x20

static struct pit pit;
static u64 now_tsc;
static int irqs;

static u64 fake_now(void *ctx) { (void)ctx; return now_tsc; }
static void fake_irq0(void *ctx) { (void)ctx; irqs++; }
static const struct pit_ops ops = { fake_now, fake_irq0 };

static void setup(void)
{
	memset(&pit, 0x5a, sizeof(pit));
	now_tsc = START;
	irqs = 0;
	pit_init(&pit, TSC_HZ, &ops, NULL);
}

/* Moves the clock to `ticks` PIT ticks after START. */
static void at_ticks(u64 ticks)
{
	now_tsc = START + ticks * TSC_PER_TICK;
}

/* Programs channel ch in mode with a 16-bit count, low byte first. */
static void program(int ch, int mode, u16 count)
{
	pit_write(&pit, CTRL, 1, CW(ch, LOHI, mode));
	pit_write(&pit, (u64)ch, 1, count & 0xff);
	pit_write(&pit, (u64)ch, 1, count >> 8);
}

/* Reads a lobyte/hibyte channel's count: low byte, then high byte. */
static u16 read16(int ch)
{
	u16 lo = (u16)pit_read(&pit, (u64)ch, 1);

	return (u16)(lo | pit_read(&pit, (u64)ch, 1) << 8);
}

START_TEST(reset_state)
{
	ck_assert_uint_eq(pit_next_deadline(&pit), PIT_NO_DEADLINE);
	ck_assert_uint_eq(pit_read(&pit, CTRL, 1), 0xff);   /* write-only */
	ck_assert_uint_eq(pit_gate_read(&pit, 0, 1), 0);
	pit_tick(&pit);
	ck_assert_int_eq(irqs, 0);
}
END_TEST

/* Mode 2 on channel 0: a rate generator, IRQ 0 every `count` ticks. */
START_TEST(mode2_rate_generator_irq0)
{
	program(CH0, 2, 1000);
	ck_assert_uint_eq(pit_next_deadline(&pit), START + 1000 * TSC_PER_TICK);
	ck_assert_uint_eq(read16(CH0), 1000);
	at_ticks(100);
	ck_assert_uint_eq(read16(CH0), 900);
	at_ticks(999);
	pit_tick(&pit);
	ck_assert_int_eq(irqs, 0);
	at_ticks(1000);
	pit_tick(&pit);
	ck_assert_int_eq(irqs, 1);
	ck_assert_uint_eq(read16(CH0), 1000);               /* reloaded */
	ck_assert_uint_eq(pit_next_deadline(&pit), START + 2000 * TSC_PER_TICK);
	at_ticks(5500);                                     /* 2000..5000 missed */
	pit_tick(&pit);
	pit_tick(&pit);
	ck_assert_int_eq(irqs, 2);
	ck_assert_uint_eq(pit_next_deadline(&pit), START + 6000 * TSC_PER_TICK);
	ck_assert_uint_eq(pit.irqs, 2);
}
END_TEST

/* Mode 0: one interrupt at terminal count, then the counter wraps on. */
START_TEST(mode0_one_shot)
{
	program(CH0, 0, 100);
	at_ticks(100);
	pit_tick(&pit);
	ck_assert_int_eq(irqs, 1);
	ck_assert_uint_eq(pit_next_deadline(&pit), PIT_NO_DEADLINE);
	at_ticks(100000);
	pit_tick(&pit);
	ck_assert_int_eq(irqs, 1);
	at_ticks(101);
	ck_assert_uint_eq(read16(CH0), 0xffff);
}
END_TEST

/* A control word stops the channel until a new count is written; a count
   of 0 means 65536. */
START_TEST(control_word_disarms_and_zero_count)
{
	program(CH0, 2, 10);
	pit_write(&pit, CTRL, 1, CW(CH0, LOHI, 2));
	ck_assert_uint_eq(pit_next_deadline(&pit), PIT_NO_DEADLINE);
	at_ticks(50);
	pit_tick(&pit);
	ck_assert_int_eq(irqs, 0);
	pit_write(&pit, CH0, 1, 0);
	ck_assert_uint_eq(pit_next_deadline(&pit), PIT_NO_DEADLINE);  /* half */
	pit_write(&pit, CH0, 1, 0);
	ck_assert_uint_eq(pit_next_deadline(&pit),
			  now_tsc + 65536 * TSC_PER_TICK);
}
END_TEST

/* Lobyte-only and hibyte-only access: one write loads, one read reads. */
START_TEST(lobyte_and_hibyte_access)
{
	pit_write(&pit, CTRL, 1, CW(CH0, LO, 2));
	pit_write(&pit, CH0, 1, 0x20);
	ck_assert_uint_eq(pit_next_deadline(&pit), START + 0x20 * TSC_PER_TICK);
	at_ticks(1);
	ck_assert_uint_eq(pit_read(&pit, CH0, 1), 0x1f);
	ck_assert_uint_eq(pit_read(&pit, CH0, 1), 0x1f);    /* low byte again */
	now_tsc = START;
	pit_write(&pit, CTRL, 1, CW(CH0, HI, 2));
	pit_write(&pit, CH0, 1, 0x02);                      /* 0x200 */
	ck_assert_uint_eq(pit_next_deadline(&pit), START + 0x200 * TSC_PER_TICK);
	at_ticks(0x101);
	ck_assert_uint_eq(pit_read(&pit, CH0, 1), 0x00);    /* 0x0ff: high byte */
}
END_TEST

/* A latched count stays until read out, whatever the clock does. */
START_TEST(counter_latch)
{
	program(CH0, 2, 1000);
	at_ticks(10);
	pit_write(&pit, CTRL, 1, CW(CH0, 0, 0));            /* latch channel 0 */
	at_ticks(500);
	ck_assert_uint_eq(pit_read(&pit, CH0, 1), 990 & 0xff);
	at_ticks(600);
	ck_assert_uint_eq(pit_read(&pit, CH0, 1), 990 >> 8);
	ck_assert_uint_eq(read16(CH0), 400);                /* live again */
	program(CH2, 0, 300);
	pit_write(&pit, CTRL, 1, CW(CH0, 0, 0));
	ck_assert_uint_eq(read16(CH2), 300);                /* other channel live */
	ck_assert_uint_eq(read16(CH0), 400);
}
END_TEST

/* Read-back (control 11 0 1 ccc 0): latches each selected count. */
START_TEST(read_back_command)
{
	program(CH0, 2, 1000);
	program(CH2, 0, 2000);
	at_ticks(5);
	pit_write(&pit, CTRL, 1, 0xc0 | 0x10 | 0x02 | 0x08);   /* ch0 and ch2 */
	at_ticks(50);
	ck_assert_uint_eq(read16(CH0), 995);
	ck_assert_uint_eq(read16(CH2), 1995);
	pit_write(&pit, CTRL, 1, 0xc0 | 0x20 | 0x10 | 0x02);   /* no count latch */
	ck_assert_uint_eq(read16(CH0), 950);
}
END_TEST

/* Port 0x61: gate 2 and speaker bits read back; bit 5 is channel 2's
   output. Mode 0 as Linux calibrates with it: OUT low until the count
   runs out. */
START_TEST(port61_out2_mode0)
{
	pit_gate_write(&pit, 0, 1, 0xff);
	ck_assert_uint_eq(pit_gate_read(&pit, 0, 1) & 0x0f, 0x0f);
	ck_assert_uint_eq(pit_gate_read(&pit, 0, 1) & 0xc0, 0);
	pit_gate_write(&pit, 0, 1, GATE2);
	program(CH2, 0, 1000);
	ck_assert_uint_eq(pit_gate_read(&pit, 0, 1) & OUT2, 0);
	at_ticks(999);
	ck_assert_uint_eq(pit_gate_read(&pit, 0, 1) & OUT2, 0);
	at_ticks(1000);
	ck_assert_uint_eq(pit_gate_read(&pit, 0, 1) & OUT2, OUT2);
	ck_assert_int_eq(irqs, 0);                          /* not IRQ 0 */
}
END_TEST

/* Mode 3, a square wave: high for the first half of each period; a
   rising gate reloads the count. */
START_TEST(port61_out2_mode3)
{
	pit_gate_write(&pit, 0, 1, GATE2);
	program(CH2, 3, 100);
	at_ticks(0);
	ck_assert_uint_eq(pit_gate_read(&pit, 0, 1) & OUT2, OUT2);
	at_ticks(49);
	ck_assert_uint_eq(pit_gate_read(&pit, 0, 1) & OUT2, OUT2);
	at_ticks(50);
	ck_assert_uint_eq(pit_gate_read(&pit, 0, 1) & OUT2, 0);
	at_ticks(99);
	ck_assert_uint_eq(pit_gate_read(&pit, 0, 1) & OUT2, 0);
	at_ticks(100);
	ck_assert_uint_eq(pit_gate_read(&pit, 0, 1) & OUT2, OUT2);
	at_ticks(130);
	pit_gate_write(&pit, 0, 1, 0);
	pit_gate_write(&pit, 0, 1, GATE2);                  /* rising: reload */
	ck_assert_uint_eq(read16(CH2), 100);
	at_ticks(180);
	ck_assert_uint_eq(pit_gate_read(&pit, 0, 1) & OUT2, 0);
	at_ticks(0);
	program(CH0, 3, 100);                               /* periodic IRQ 0 */
	at_ticks(300);
	pit_tick(&pit);
	ck_assert_int_eq(irqs, 1);
	ck_assert_uint_eq(pit_next_deadline(&pit), START + 400 * TSC_PER_TICK);
}
END_TEST

Suite *pit_suite(void)
{
	Suite *s = suite_create("pit");
	TCase *t = tcase_create("pit");

	tcase_add_checked_fixture(t, setup, NULL);
	tcase_add_test(t, reset_state);
	tcase_add_test(t, mode2_rate_generator_irq0);
	tcase_add_test(t, mode0_one_shot);
	tcase_add_test(t, control_word_disarms_and_zero_count);
	tcase_add_test(t, lobyte_and_hibyte_access);
	tcase_add_test(t, counter_latch);
	tcase_add_test(t, read_back_command);
	tcase_add_test(t, port61_out2_mode3);
	tcase_add_test(t, port61_out2_mode0);
	suite_add_tcase(s, t);
	return s;
}
