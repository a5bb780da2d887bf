/*
 * vmm/dev/ioapic.c (Intel 82093AA I/O APIC datasheet §3.2): the index/data
 * register pair, the ID, version and redirection registers with their
 * read-only bits, edge and level pins, Remote IRR and re-delivery on EOI,
 * masking, and what happens with a bad index or access size. Deliveries
 * to the local APIC are recorded.
 */
#include <string.h>
#include "unit.h"
#include "vmm/dev/ioapic.h"

#define IOREGSEL   0x00
#define IOWIN      0x10
#define REG_ID     0x00
#define REG_VER    0x01
#define REG_ARB    0x02
#define REDIR(pin) (0x10 + 2 * (pin))
#define RTE_LOGICAL (1U << 11)
#define RTE_DELIVS (1U << 12)
#define RTE_RIRR   (1U << 14)
#define RTE_LEVEL  (1U << 15)
#define RTE_MASK   (1U << 16)

static struct ioapic io;
static struct deliveries {
	int n, errors;
	u8 vector, dest;
	bool level, logical;
} got;

static void fake_deliver(void *ctx, u8 vector, bool level, u8 dest,
			 bool logical)
{
	(void)ctx;
	got.n++;
	got.vector = vector;
	got.level = level;
	got.dest = dest;
	got.logical = logical;
}

static void fake_error(void *ctx, const char *what, u32 value)
{
	(void)ctx;
	(void)what;
	(void)value;
	got.errors++;
}

static const struct ioapic_ops ops = { fake_deliver, fake_error };

static void setup(void)
{
	memset(&got, 0, sizeof(got));
	memset(&io, 0x5a, sizeof(io));
	ioapic_init(&io, &ops, NULL);
}

static u32 rd(u32 index)
{
	ioapic_mmio_write(&io, IOREGSEL, 4, index);
	return (u32)ioapic_mmio_read(&io, IOWIN, 4);
}

static void wr(u32 index, u32 val)
{
	ioapic_mmio_write(&io, IOREGSEL, 4, index);
	ioapic_mmio_write(&io, IOWIN, 4, val);
}

/* Programs pin: vector, level or edge, unmasked, destination APIC 0. */
static void route(unsigned pin, u8 vector, bool level)
{
	wr(REDIR(pin) + 1, 0);
	wr(REDIR(pin), vector | (level ? RTE_LEVEL : 0));
}

START_TEST(reset_and_identification)
{
	for (unsigned pin = 0; pin < IOAPIC_PINS; pin++) {
		ck_assert_uint_eq(rd(REDIR(pin)), RTE_MASK);
		ck_assert_uint_eq(rd(REDIR(pin) + 1), 0);
	}
	ck_assert_uint_eq(rd(REG_VER), 0x170011);        /* 24 entries, v0x11 */
	ck_assert_uint_eq(rd(REG_ID), 0);
	wr(REG_ID, 0xffffffffU);
	ck_assert_uint_eq(rd(REG_ID), 0x0f000000U);      /* ID in bits 27:24 */
	ck_assert_uint_eq(rd(REG_ARB), 0x0f000000U);
	wr(REG_VER, 0);                                  /* read-only */
	ck_assert_uint_eq(rd(REG_VER), 0x170011);
	ck_assert_int_eq(got.errors, 1);
}
END_TEST

START_TEST(index_register)
{
	ioapic_mmio_write(&io, IOREGSEL, 4, 0x1ff);
	ck_assert_uint_eq(ioapic_mmio_read(&io, IOREGSEL, 4), 0xff);
	ck_assert_uint_eq(ioapic_mmio_read(&io, IOWIN, 4), 0xffffffffU);  /* none */
	ck_assert_uint_eq(ioapic_mmio_read(&io, 0x20, 4), ~0ULL);        /* hole */
	ck_assert_uint_eq(ioapic_mmio_read(&io, IOWIN, 2), ~0ULL);       /* size */
	ioapic_mmio_write(&io, IOREGSEL, 1, REDIR(0));
	ck_assert_int_eq(got.errors, 1);
	ck_assert_uint_eq(ioapic_mmio_read(&io, IOREGSEL, 4), 0xff);
}
END_TEST

/* Past the last entry (0x3f) and the read-only registers: errors, reads
   all ones, nothing changes. */
START_TEST(bad_index)
{
	ck_assert_uint_eq(rd(REDIR(IOAPIC_PINS)), 0xffffffffU);
	ck_assert_uint_eq(rd(0x03), 0xffffffffU);
	wr(REDIR(IOAPIC_PINS), 0x31);
	wr(0xff, 0x31);
	wr(REG_ARB, 0x31);
	ck_assert_int_eq(got.errors, 3);
	for (unsigned pin = 0; pin < IOAPIC_PINS; pin++)
		ck_assert_uint_eq(rd(REDIR(pin)), RTE_MASK);
	ioapic_set_irq(&io, IOAPIC_PINS, true);          /* no such pin */
	ioapic_set_irq(&io, 1000, true);
	ck_assert_int_eq(got.n, 0);
}
END_TEST

/* Delivery status and Remote IRR are read-only; the halves are separate. */
START_TEST(redirection_write_mask)
{
	wr(REDIR(3), 0xffffffffU);
	ck_assert_uint_eq(rd(REDIR(3)) & (RTE_DELIVS | RTE_RIRR), 0);
	ck_assert_uint_eq(rd(REDIR(3)) & 0xbfff, 0xafff);
	wr(REDIR(3) + 1, 0x12000000U);
	ck_assert_uint_eq(rd(REDIR(3)) & 0xff, 0xff);    /* low half kept */
	ck_assert_uint_eq(rd(REDIR(3) + 1), 0x12000000U);
	ck_assert_uint_eq(rd(REDIR(4)), RTE_MASK);       /* neighbours untouched */
	ck_assert_int_eq(got.errors, 0);
}
END_TEST

/* Edge: each rising edge once; a line held high is not a new edge. */
START_TEST(edge_pin)
{
	wr(REDIR(4) + 1, 0x07000000U);
	wr(REDIR(4), 0x34);
	ioapic_set_irq(&io, 4, true);
	ck_assert_int_eq(got.n, 1);
	ck_assert_uint_eq(got.vector, 0x34);
	ck_assert(!got.level);
	ck_assert_uint_eq(got.dest, 7);
	ck_assert(!got.logical);
	ioapic_set_irq(&io, 4, true);
	ck_assert_int_eq(got.n, 1);
	ioapic_set_irq(&io, 4, false);
	wr(REDIR(4), 0x34 | RTE_LOGICAL);                /* dest: a mask now */
	ioapic_set_irq(&io, 4, true);
	ck_assert_int_eq(got.n, 2);
	ck_assert(got.logical);
	ck_assert_uint_eq(rd(REDIR(4)) & RTE_RIRR, 0);   /* edges never set it */
	ioapic_eoi(&io, 0x34);
	ck_assert_int_eq(got.n, 2);
	ck_assert_uint_eq(io.delivered, 2);
}
END_TEST

/* A masked edge is lost; unmasking later does not bring it back. */
START_TEST(masked_edge_is_lost)
{
	wr(REDIR(4), 0x34 | RTE_MASK);
	ioapic_set_irq(&io, 4, true);
	ck_assert_int_eq(got.n, 0);
	wr(REDIR(4), 0x34);
	ck_assert_int_eq(got.n, 0);
	ioapic_set_irq(&io, 4, false);
	ioapic_set_irq(&io, 4, true);
	ck_assert_int_eq(got.n, 1);
}
END_TEST

/* Level: Remote IRR holds further deliveries until the EOI; an EOI with
   the line still high delivers again. */
START_TEST(level_remote_irr_and_eoi)
{
	route(9, 0x39, true);
	ioapic_set_irq(&io, 9, true);
	ck_assert_int_eq(got.n, 1);
	ck_assert(got.level);
	ck_assert_uint_eq(rd(REDIR(9)) & RTE_RIRR, RTE_RIRR);
	ioapic_set_irq(&io, 9, true);
	ck_assert_int_eq(got.n, 1);
	ioapic_eoi(&io, 0x38);                           /* another vector */
	ck_assert_uint_eq(rd(REDIR(9)) & RTE_RIRR, RTE_RIRR);
	ioapic_eoi(&io, 0x39);                           /* still high */
	ck_assert_int_eq(got.n, 2);
	ck_assert_uint_eq(rd(REDIR(9)) & RTE_RIRR, RTE_RIRR);
	ioapic_set_irq(&io, 9, false);
	ioapic_eoi(&io, 0x39);
	ck_assert_int_eq(got.n, 2);
	ck_assert_uint_eq(rd(REDIR(9)) & RTE_RIRR, 0);
	wr(REDIR(9), 0x39 | RTE_LEVEL | RTE_RIRR);       /* cannot be forged */
	ck_assert_uint_eq(rd(REDIR(9)) & RTE_RIRR, 0);
}
END_TEST

/* A level pin masked while high is delivered when unmasked. */
START_TEST(level_unmask_delivers)
{
	wr(REDIR(9), 0x39 | RTE_LEVEL | RTE_MASK);
	ioapic_set_irq(&io, 9, true);
	ck_assert_int_eq(got.n, 0);
	wr(REDIR(9), 0x39 | RTE_LEVEL);
	ck_assert_int_eq(got.n, 1);
	wr(REDIR(9) + 1, 0);                             /* rIRR set: no more */
	ck_assert_int_eq(got.n, 1);
	ioapic_set_irq(&io, 9, false);
	ioapic_eoi(&io, 0x39);
	wr(REDIR(9), 0x39 | RTE_LEVEL);                  /* low line: nothing */
	ck_assert_int_eq(got.n, 1);
}
END_TEST

/* Two level pins sharing a vector: one EOI serves both. */
START_TEST(eoi_matches_by_vector)
{
	route(10, 0x3a, true);
	route(11, 0x3a, true);
	route(12, 0x3c, true);
	ioapic_set_irq(&io, 10, true);
	ioapic_set_irq(&io, 11, true);
	ioapic_set_irq(&io, 12, true);
	ck_assert_int_eq(got.n, 3);
	ioapic_set_irq(&io, 10, false);
	ioapic_eoi(&io, 0x3a);
	ck_assert_uint_eq(rd(REDIR(10)) & RTE_RIRR, 0);
	ck_assert_uint_eq(rd(REDIR(11)) & RTE_RIRR, RTE_RIRR);   /* re-sent */
	ck_assert_int_eq(got.n, 4);
	ck_assert_uint_eq(rd(REDIR(12)) & RTE_RIRR, RTE_RIRR);
}
END_TEST

Suite *ioapic_suite(void)
{
	Suite *s = suite_create("ioapic");
	TCase *t = tcase_create("ioapic");

	tcase_add_checked_fixture(t, setup, NULL);
	tcase_add_test(t, reset_and_identification);
	tcase_add_test(t, index_register);
	tcase_add_test(t, bad_index);
	tcase_add_test(t, redirection_write_mask);
	tcase_add_test(t, edge_pin);
	tcase_add_test(t, masked_edge_is_lost);
	tcase_add_test(t, level_remote_irr_and_eoi);
	tcase_add_test(t, level_unmask_delivers);
	tcase_add_test(t, eoi_matches_by_vector);
	suite_add_tcase(s, t);
	return s;
}
