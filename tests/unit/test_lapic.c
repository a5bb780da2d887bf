/*
 * vmm/dev/lapic.c on a fake clock: priorities (TPR, PPR, ISR, IRR; Intel SDM
 * Vol. 3A §11.8.3.1), acceptance and EOI (§11.8.4, §11.8.5), IPIs
 * (§11.6.1), the x2APIC MSR interface and its #GP cases (§11.12.1.2,
 * Table 11-6, reserved bits §11.12.1.3), errors (§11.5.3) and
 * IA32_APIC_BASE's states (§11.4.3, §11.12.5); the timer is in
 * test_lapic_timer.c.
 * What leaves the APIC through ops is recorded.
 */
#include <stdio.h>
#include <string.h>
#include "unit.h"
#include "vmm/dev/lapic.h"

#define TIMER_VEC   0x30
#define ESR_SEND_ILLEGAL (1U << 5)
#define ESR_RECV_ILLEGAL (1U << 6)
#define MSR(off)    (X2APIC_MSR_BASE + ((off) >> 4))
/* IA32_APIC_BASE values for each state (SDM Vol. 3A §11.12.5.1). */
#define BASE_DISABLED LAPIC_MMIO_BASE
#define BASE_XAPIC  (LAPIC_MMIO_BASE | LAPIC_BASE_EN)
#define BASE_X2APIC (BASE_XAPIC | LAPIC_BASE_EXTD)
#define BASE_INVALID (LAPIC_MMIO_BASE | LAPIC_BASE_EXTD)

static struct lapic apic;
static u32 page[LAPIC_PAGE_WORDS];       /* the register page */
static u64 now_tsc;
static struct record {
	int eois, ipis, errors;
	u8 eoi_vec;
	u32 ipi_lo, ipi_dest, err_val;
} rec;

static u64 fake_now(void *ctx) { (void)ctx; return now_tsc; }

static void fake_eoi_level(void *ctx, u8 vector)
{
	(void)ctx;
	rec.eois++;
	rec.eoi_vec = vector;
}

static void fake_ipi(void *ctx, u32 icr_lo, u32 dest)
{
	(void)ctx;
	rec.ipis++;
	rec.ipi_lo = icr_lo;
	rec.ipi_dest = dest;
}

static void fake_error(void *ctx, const char *what, u32 value)
{
	(void)ctx;
	(void)what;
	rec.errors++;
	rec.err_val = value;
}

static const struct lapic_ops ops = {
	fake_now, fake_eoi_level, fake_ipi, fake_error,
};

/* A software-enabled APIC with ID 0, as a guest would leave it. */
static void setup(void)
{
	memset(&rec, 0, sizeof(rec));
	memset(&apic, 0x5a, sizeof(apic));       /* init must clear everything */
	memset(page, 0x5a, sizeof(page));
	now_tsc = 1000;
	lapic_init(&apic, 0, &ops, NULL, page);
	lapic_write(&apic, LAPIC_SVR, SVR_APIC_ENABLED | 0xff);
}

/* Bit vec of a 256-bit register as the guest reads it. */
static bool bit(u32 base, u8 vec)
{
	return lapic_read(&apic, base + (vec / 32) * 16) >> (vec % 32) & 1;
}

/* The CPU takes the highest deliverable vector; returns it or -1. */
static int take(void)
{
	int v = lapic_pending(&apic);

	if (v >= 0)
		lapic_ack(&apic, (u8)v);
	return v;
}

START_TEST(reset_state)
{
	lapic_init(&apic, 3, &ops, NULL, page);
	ck_assert_uint_eq(lapic_read(&apic, LAPIC_ID), 3U << 24);
	ck_assert_uint_eq(lapic_read(&apic, LAPIC_VERSION) & 0xff, 0x14);
	ck_assert_uint_eq(lapic_read(&apic, LAPIC_SVR), 0xff);   /* disabled */
	ck_assert_uint_eq(lapic_read(&apic, LAPIC_DFR), 0xffffffffU);
	for (u32 off = LAPIC_LVT_TIMER; off <= LAPIC_LVT_ERROR; off += 16)
		ck_assert_uint_eq(lapic_read(&apic, off), LVT_MASKED);
	ck_assert_uint_eq(lapic_read(&apic, LAPIC_PPR), 0);
	ck_assert_int_eq(lapic_pending(&apic), -1);
	ck_assert_uint_eq(lapic_next_deadline(&apic), LAPIC_NO_DEADLINE);
	/* software-disabled: an LVT cannot be unmasked */
	lapic_write(&apic, LAPIC_LVT_TIMER, TIMER_VEC);
	ck_assert_uint_eq(lapic_read(&apic, LAPIC_LVT_TIMER), LVT_MASKED | TIMER_VEC);
}
END_TEST

/* PPR = TPR if TPR's class >= the in-service class, else that class. */
START_TEST(ppr_follows_tpr_and_isr)
{
	lapic_write(&apic, LAPIC_TPR, 0x1235);
	ck_assert_uint_eq(lapic_read(&apic, LAPIC_TPR), 0x35);   /* 8 bits */
	ck_assert_uint_eq(lapic_read(&apic, LAPIC_PPR), 0x35);
	lapic_accept(&apic, 0x62, false);
	ck_assert_int_eq(take(), 0x62);
	ck_assert_uint_eq(lapic_read(&apic, LAPIC_PPR), 0x60);   /* class only */
	lapic_write(&apic, LAPIC_TPR, 0x6a);                     /* same class */
	ck_assert_uint_eq(lapic_read(&apic, LAPIC_PPR), 0x6a);
	lapic_write(&apic, LAPIC_TPR, 0x75);
	ck_assert_uint_eq(lapic_read(&apic, LAPIC_PPR), 0x75);
	lapic_write(&apic, LAPIC_TPR, 0);
	lapic_write(&apic, LAPIC_EOI, 0);
	ck_assert_uint_eq(lapic_read(&apic, LAPIC_PPR), 0);
	lapic_write(&apic, LAPIC_PPR, 0x90);                     /* read-only */
	ck_assert_uint_eq(lapic_read(&apic, LAPIC_PPR), 0);
}
END_TEST

/* A vector is deliverable only if its class is above PPR's class. */
START_TEST(pending_needs_higher_class)
{
	lapic_write(&apic, LAPIC_TPR, 0x40);
	lapic_accept(&apic, 0x4f, false);
	ck_assert(bit(LAPIC_IRR, 0x4f));
	ck_assert_int_eq(lapic_pending(&apic), -1);          /* class 4 = 4 */
	lapic_write(&apic, LAPIC_TPR, 0x3f);
	ck_assert_int_eq(take(), 0x4f);
	ck_assert(!bit(LAPIC_IRR, 0x4f));
	ck_assert(bit(LAPIC_ISR, 0x4f));
	lapic_write(&apic, LAPIC_TPR, 0);
	lapic_accept(&apic, 0x41, false);                    /* same class: waits */
	ck_assert_int_eq(lapic_pending(&apic), -1);
	lapic_write(&apic, LAPIC_EOI, 0);
	ck_assert_int_eq(take(), 0x41);
}
END_TEST

START_TEST(highest_first_and_nesting)
{
	lapic_accept(&apic, 0x50, false);
	lapic_accept(&apic, 0x80, false);
	ck_assert_int_eq(take(), 0x80);
	ck_assert_int_eq(lapic_pending(&apic), -1);          /* 0x50 below PPR */
	lapic_accept(&apic, 0x90, false);                    /* nests */
	ck_assert_int_eq(take(), 0x90);
	ck_assert(bit(LAPIC_ISR, 0x80) && bit(LAPIC_ISR, 0x90));
	lapic_write(&apic, LAPIC_EOI, 0);                    /* retires 0x90 */
	ck_assert(!bit(LAPIC_ISR, 0x90) && bit(LAPIC_ISR, 0x80));
	ck_assert_uint_eq(lapic_read(&apic, LAPIC_PPR), 0x80);
	lapic_write(&apic, LAPIC_EOI, 0);
	ck_assert_int_eq(take(), 0x50);
	lapic_write(&apic, LAPIC_EOI, 0);
	lapic_write(&apic, LAPIC_EOI, 0);                    /* nothing in service */
	ck_assert_uint_eq(lapic_read(&apic, LAPIC_ISR + 0x20), 0);
	ck_assert_int_eq(rec.eois, 0);
}
END_TEST

/* Level-triggered vectors (TMR set on acceptance) report their EOI. */
START_TEST(eoi_of_level_vector_calls_eoi_level)
{
	lapic_accept(&apic, 0x61, true);
	ck_assert(bit(LAPIC_TMR, 0x61));
	ck_assert_int_eq(take(), 0x61);
	lapic_write(&apic, LAPIC_EOI, 0);
	ck_assert_int_eq(rec.eois, 1);
	ck_assert_uint_eq(rec.eoi_vec, 0x61);
	lapic_accept(&apic, 0x61, false);                    /* now edge */
	ck_assert(!bit(LAPIC_TMR, 0x61));
	ck_assert_int_eq(take(), 0x61);
	lapic_write(&apic, LAPIC_EOI, 0);
	ck_assert_int_eq(rec.eois, 1);
}
END_TEST

/* Vectors 0-15 are illegal: ESR "receive illegal vector", no IRR bit.
   ESR shows errors once software writes it (SDM Vol. 3A §11.5.3). */
START_TEST(illegal_vector_sets_esr)
{
	lapic_accept(&apic, 5, false);
	ck_assert_uint_eq(lapic_read(&apic, LAPIC_ESR), 0);  /* not yet latched */
	lapic_write(&apic, LAPIC_ESR, 0);
	ck_assert_uint_eq(lapic_read(&apic, LAPIC_ESR) & ESR_RECV_ILLEGAL,
			  ESR_RECV_ILLEGAL);
	ck_assert_int_eq(rec.errors, 1);
	ck_assert_uint_eq(rec.err_val, 5);
	ck_assert_uint_eq(lapic_read(&apic, LAPIC_IRR), 0);
	ck_assert_int_eq(lapic_pending(&apic), -1);
	lapic_write(&apic, LAPIC_ESR, 0);
	ck_assert_uint_eq(lapic_read(&apic, LAPIC_ESR), 0);
	lapic_accept(&apic, 16, false);                      /* the first legal one */
	ck_assert(bit(LAPIC_IRR, 16));
	ck_assert_int_eq(rec.errors, 1);
}
END_TEST

START_TEST(ipi_destinations)
{
	lapic_write(&apic, LAPIC_ICR_HI, 0);
	lapic_write(&apic, LAPIC_ICR_LO, ICR_SHORT_SELF << ICR_SHORT_SHIFT | 0x51);
	ck_assert(bit(LAPIC_IRR, 0x51));
	ck_assert_int_eq(rec.ipis, 0);
	ck_assert_uint_eq(lapic_read(&apic, LAPIC_ICR_LO) & (1U << 12), 0);
	lapic_write(&apic, LAPIC_ICR_LO, 0x52);              /* to own ID 0 */
	ck_assert(bit(LAPIC_IRR, 0x52));
	lapic_write(&apic, LAPIC_ICR_HI, 5U << 24);
	lapic_write(&apic, LAPIC_ICR_LO, 0x53);              /* to APIC 5 */
	ck_assert(!bit(LAPIC_IRR, 0x53));
	ck_assert_int_eq(rec.ipis, 1);
	ck_assert_uint_eq(rec.ipi_dest, 5);
	ck_assert_uint_eq(rec.ipi_lo & 0xff, 0x53);
	lapic_write(&apic, LAPIC_ICR_LO, ICR_SHORT_ALL << ICR_SHORT_SHIFT | 0x54);
	ck_assert(bit(LAPIC_IRR, 0x54));                     /* self and others */
	ck_assert_int_eq(rec.ipis, 2);
	lapic_write(&apic, LAPIC_ICR_LO, ICR_SHORT_OTHERS << ICR_SHORT_SHIFT | 0x55);
	ck_assert(!bit(LAPIC_IRR, 0x55));
	ck_assert_int_eq(rec.ipis, 3);
	lapic_write(&apic, LAPIC_ICR_LO, ICR_SHORT_SELF << ICR_SHORT_SHIFT |
		    ICR_MODE_SMI << ICR_MODE_SHIFT);         /* not modelled */
	ck_assert_int_eq(rec.errors, 1);
}
END_TEST

/* NMI IPIs (§11.6.1): to self they set the one pending NMI (no vector,
   no IRR bit, no error); several merge into one; others get the message. */
START_TEST(nmi_ipi_self_and_others)
{
	ck_assert(!lapic_nmi_pending(&apic));
	lapic_write(&apic, LAPIC_ICR_LO, ICR_SHORT_SELF << ICR_SHORT_SHIFT |
		    ICR_MODE_NMI << ICR_MODE_SHIFT);
	ck_assert(lapic_nmi_pending(&apic));
	ck_assert_int_eq(lapic_highest(&apic, LAPIC_IRR), -1);
	ck_assert_int_eq(rec.errors, 0);
	ck_assert_int_eq(rec.ipis, 0);
	lapic_write(&apic, LAPIC_ICR_LO, ICR_MODE_NMI << ICR_MODE_SHIFT); /* own ID 0 */
	ck_assert(lapic_take_nmi(&apic));
	ck_assert(!lapic_take_nmi(&apic));               /* the two were one */
	lapic_write(&apic, LAPIC_ICR_LO, ICR_SHORT_OTHERS << ICR_SHORT_SHIFT |
		    ICR_MODE_NMI << ICR_MODE_SHIFT);
	ck_assert(!lapic_nmi_pending(&apic));
	ck_assert_int_eq(rec.ipis, 1);
	lapic_write(&apic, LAPIC_ICR_LO, ICR_SHORT_ALL << ICR_SHORT_SHIFT |
		    ICR_MODE_NMI << ICR_MODE_SHIFT);
	ck_assert(lapic_nmi_pending(&apic));
	ck_assert_int_eq(rec.ipis, 2);
	/* a software-disabled APIC takes NMIs; a globally disabled one not */
	lapic_take_nmi(&apic);
	lapic_write(&apic, LAPIC_SVR, 0xff);
	lapic_nmi(&apic);
	ck_assert(lapic_take_nmi(&apic));
	ck_assert(lapic_base_write(&apic, LAPIC_MMIO_BASE | LAPIC_BASE_BSP));
	lapic_nmi(&apic);
	ck_assert(!lapic_nmi_pending(&apic));
}
END_TEST

/* Physical destination 0xFF is the xAPIC broadcast (§11.6.2.1): the
   sender gets it too. */
START_TEST(ipi_broadcast_id_reaches_self)
{
	lapic_write(&apic, LAPIC_ICR_HI, 0xffU << 24);
	lapic_write(&apic, LAPIC_ICR_LO, 0x56);
	ck_assert(bit(LAPIC_IRR, 0x56));
}
END_TEST

/* A self-IPI with an illegal vector is an illegal send (x2APIC spec §2.3.5). */
START_TEST(self_ipi_illegal_vector_sets_send_error)
{
	lapic_write(&apic, LAPIC_ICR_LO, ICR_SHORT_SELF << ICR_SHORT_SHIFT | 3);
	lapic_write(&apic, LAPIC_ESR, 0);
	ck_assert_uint_eq(lapic_read(&apic, LAPIC_ESR) & ESR_SEND_ILLEGAL,
			  ESR_SEND_ILLEGAL);
}
END_TEST

START_TEST(mmio_access_rules)
{
	ck_assert_uint_eq(lapic_mmio_read(&apic, LAPIC_VERSION, 4),
			  lapic_read(&apic, LAPIC_VERSION));
	ck_assert_uint_eq(lapic_mmio_read(&apic, LAPIC_VERSION, 1), 0);
	ck_assert_uint_eq(lapic_mmio_read(&apic, LAPIC_VERSION + 4, 4), 0);
	lapic_mmio_write(&apic, LAPIC_TPR, 4, 0x20);
	ck_assert_uint_eq(lapic_read(&apic, LAPIC_TPR), 0x20);
	lapic_mmio_write(&apic, LAPIC_TPR, 2, 0x30);         /* not 32-bit */
	ck_assert_int_eq(rec.errors, 1);
	ck_assert_uint_eq(lapic_read(&apic, LAPIC_TPR), 0x20);
	ck_assert_uint_eq(lapic_read(&apic, LAPIC_EOI), 0);  /* write-only */
	ck_assert(lapic_base_write(&apic, BASE_X2APIC));     /* page goes away */
	ck_assert_uint_eq(lapic_mmio_read(&apic, LAPIC_TPR, 4), ~0ULL);
	lapic_mmio_write(&apic, LAPIC_TPR, 4, 0x40);
	ck_assert_int_eq(rec.errors, 2);
	ck_assert_uint_eq(lapic_read(&apic, LAPIC_TPR), 0x20);
}
END_TEST

/* ---- APIC virtualization: the CPU works in the register page ---- */

/* Word of the page that holds the register at xAPIC offset off. */
#define PAGE_REG(off) page[(off) / 4]

/* The page is the virtual-APIC page: each register at its offset (SDM
   Vol. 3C §30.1), IRR bit n in the word at 0x200 + n / 32 * 16. */
START_TEST(page_has_the_virtual_apic_layout)
{
	lapic_write(&apic, LAPIC_TPR, 0x20);
	ck_assert_uint_eq(PAGE_REG(LAPIC_TPR), 0x20);
	lapic_accept(&apic, 0x51, true);
	ck_assert_uint_eq(PAGE_REG(LAPIC_IRR + 0x20), 1U << (0x51 % 32));
	ck_assert_uint_eq(PAGE_REG(LAPIC_TMR + 0x20), 1U << (0x51 % 32));
	ck_assert_int_eq(lapic_highest(&apic, LAPIC_IRR), 0x51);
	ck_assert_int_eq(lapic_highest(&apic, LAPIC_ISR), -1);
	PAGE_REG(LAPIC_ISR + 0x30) = 1U << (0x70 % 32);  /* the CPU delivered */
	ck_assert_int_eq(lapic_highest(&apic, LAPIC_ISR), 0x70);
	ck_assert_int_eq(lapic_pending(&apic), -1);       /* class 7 in service */
	lapic_store_ppr(&apic);                           /* VPPR for the CPU */
	ck_assert_uint_eq(PAGE_REG(LAPIC_PPR), 0x70);
	PAGE_REG(LAPIC_ISR + 0x30) = 0;                   /* uhv's x2APIC EOI */
	lapic_store_ppr(&apic);
	ck_assert_uint_eq(PAGE_REG(LAPIC_PPR), 0x20);     /* TPR again */
}
END_TEST

/* An APIC-write exit: the value is in the page; uhv acts on it. */
START_TEST(apic_write_acts_on_the_page)
{
	PAGE_REG(LAPIC_ICR_HI) = 5U << 24;                /* no exit for this */
	PAGE_REG(LAPIC_ICR_LO) = 0x44;
	lapic_apic_write(&apic, LAPIC_ICR_LO);
	ck_assert_int_eq(rec.ipis, 1);
	ck_assert_uint_eq(rec.ipi_dest, 5);
	PAGE_REG(LAPIC_LVT_LINT0) = 0x700;                /* masked while disabled */
	PAGE_REG(LAPIC_SVR) = 0xff;
	lapic_apic_write(&apic, LAPIC_SVR);
	lapic_apic_write(&apic, LAPIC_LVT_LINT0);
	ck_assert_uint_eq(PAGE_REG(LAPIC_LVT_LINT0), 0x700 | LVT_MASKED);
	PAGE_REG(LAPIC_ESR) = 0x1234;                     /* shows the errors */
	lapic_apic_write(&apic, LAPIC_ESR);
	ck_assert_uint_eq(lapic_read(&apic, LAPIC_ESR), 0);
}
END_TEST

/* The old timer mode is uhv's, not the page's: the CPU overwrote it. */
START_TEST(apic_write_timer_mode_change_disarms)
{
	lapic_write(&apic, LAPIC_TIMER_ICR, 1000);
	ck_assert(lapic_next_deadline(&apic) != LAPIC_NO_DEADLINE);
	PAGE_REG(LAPIC_LVT_TIMER) = LVT_TIMER_TSC_DEADLINE << LVT_TIMER_SHIFT | 0x40;
	lapic_apic_write(&apic, LAPIC_LVT_TIMER);
	ck_assert(lapic_next_deadline(&apic) == LAPIC_NO_DEADLINE);
	ck_assert_uint_eq(PAGE_REG(LAPIC_TIMER_ICR), 0);
	PAGE_REG(LAPIC_TIMER_ICR) = 500;                  /* ignored in this mode */
	lapic_apic_write(&apic, LAPIC_TIMER_ICR);
	ck_assert_uint_eq(lapic_read(&apic, LAPIC_TIMER_ICR), 0);
	ck_assert(lapic_next_deadline(&apic) == LAPIC_NO_DEADLINE);
}
END_TEST

/* The CPU retired the EOI itself; uhv only tells the I/O APIC, and only
   of a level-triggered vector. An EOI reaching apic_write is ignored. */
START_TEST(virtual_eoi_reaches_the_ioapic_for_level_only)
{
	u32 tmr[8];

	lapic_accept(&apic, 0x61, true);
	lapic_accept(&apic, 0x62, false);
	lapic_tmr(&apic, tmr);
	ck_assert_uint_eq(tmr[3], 1U << (0x61 % 32));
	lapic_virtual_eoi(&apic, 0x62);
	ck_assert_int_eq(rec.eois, 0);
	lapic_virtual_eoi(&apic, 0x61);
	ck_assert_int_eq(rec.eois, 1);
	ck_assert_uint_eq(rec.eoi_vec, 0x61);
	ck_assert_int_eq(take(), 0x62);
	lapic_apic_write(&apic, LAPIC_EOI);
	ck_assert(bit(LAPIC_ISR, 0x62));
}
END_TEST

START_TEST(x2apic_msrs)
{
	u64 v;

	lapic_init(&apic, 0x23, &ops, NULL, page);
	ck_assert(!lapic_msr_read(&apic, MSR(LAPIC_TPR), &v));   /* xAPIC mode */
	ck_assert(!lapic_msr_write(&apic, MSR(LAPIC_TPR), 0));
	ck_assert(lapic_base_write(&apic, BASE_X2APIC));
	ck_assert(lapic_msr_read(&apic, MSR(LAPIC_ID), &v));
	ck_assert_uint_eq(v, 0x23);                          /* 32-bit ID */
	ck_assert(lapic_msr_read(&apic, MSR(LAPIC_LDR), &v));
	ck_assert_uint_eq(v, (2U << 16) | (1U << 3));        /* cluster 2, bit 3 */
	ck_assert(lapic_msr_write(&apic, MSR(LAPIC_SVR), SVR_APIC_ENABLED | 0xff));
	ck_assert(lapic_msr_write(&apic, MSR(LAPIC_ICR_LO), (5ULL << 32) | 0x44));
	ck_assert_int_eq(rec.ipis, 1);
	ck_assert_uint_eq(rec.ipi_dest, 5);
	ck_assert(lapic_msr_read(&apic, MSR(LAPIC_ICR_LO), &v));
	ck_assert_uint_eq(v, (5ULL << 32) | 0x44);           /* one 64-bit ICR */
	ck_assert(lapic_msr_write(&apic, MSR(LAPIC_ICR_LO), (0x23ULL << 32) | 0x45));
	ck_assert(bit(LAPIC_IRR, 0x45));                     /* own x2APIC ID */
	ck_assert(lapic_msr_write(&apic, MSR(LAPIC_SELF_IPI), 0x46));
	ck_assert(bit(LAPIC_IRR, 0x46));
	ck_assert_int_eq(take(), 0x46);
	ck_assert(!lapic_msr_write(&apic, MSR(LAPIC_EOI), 1));   /* non-zero */
	ck_assert(bit(LAPIC_ISR, 0x46));
	ck_assert(lapic_msr_write(&apic, MSR(LAPIC_EOI), 0));
	ck_assert(!bit(LAPIC_ISR, 0x46));
	ck_assert(lapic_base_write(&apic, BASE_DISABLED));   /* the way back */
	ck_assert(lapic_base_write(&apic, BASE_XAPIC));
	ck_assert_uint_eq(lapic_read(&apic, LAPIC_ID), 0x23U << 24);
}
END_TEST

/* Table 11-6: WRMSR to a read-only register, RDMSR of a write-only one
   and either on an address with no register raise #GP (false here). */
START_TEST(x2apic_gp_cases)
{
	static const u32 ro[] = { LAPIC_ID, LAPIC_VERSION, LAPIC_PPR, LAPIC_LDR };
	static const u32 wo[] = { LAPIC_EOI, LAPIC_SELF_IPI };
	static const u32 none[] = { LAPIC_DFR, LAPIC_ICR_HI };
	u64 v;

	ck_assert(lapic_base_write(&apic, BASE_X2APIC));
	for (size_t i = 0; i < ARRAY_SIZE(ro); i++) {
		ck_assert(!lapic_msr_write(&apic, MSR(ro[i]), 0));
		ck_assert(lapic_msr_read(&apic, MSR(ro[i]), &v));
	}
	for (size_t i = 0; i < ARRAY_SIZE(wo); i++)
		ck_assert(!lapic_msr_read(&apic, MSR(wo[i]), &v));
	for (size_t i = 0; i < ARRAY_SIZE(none); i++)
		ck_assert(!lapic_msr_read(&apic, MSR(none[i]), &v));
}
END_TEST

/* The same table: ISR, TMR, IRR and the current count are read-only too,
   the addresses it lists nothing for are reserved, and ESR takes only 0.
   Every refusal that is missing is listed in the failure message. */
START_TEST(x2apic_gp_status_and_reserved)
{
	static const u32 ro[] = { LAPIC_ISR, LAPIC_TMR + 0x70, LAPIC_IRR + 0x10,
				  LAPIC_TIMER_CCR };
	static const u32 rsvd[] = { 0x804, 0x809, 0x80c, 0x831, 0x840, 0x8ff };
	char missing[256] = "";
	size_t n = 0;
	u64 v;

	ck_assert(lapic_base_write(&apic, BASE_X2APIC));
	for (size_t i = 0; i < ARRAY_SIZE(ro); i++)
		if (lapic_msr_write(&apic, MSR(ro[i]), 0))
			n += (size_t)snprintf(missing + n, sizeof(missing) - n,
					      " wrmsr:0x%x", MSR(ro[i]));
	for (size_t i = 0; i < ARRAY_SIZE(rsvd); i++) {
		if (lapic_msr_read(&apic, rsvd[i], &v))
			n += (size_t)snprintf(missing + n, sizeof(missing) - n,
					      " rdmsr:0x%x", rsvd[i]);
		if (lapic_msr_write(&apic, rsvd[i], 0))
			n += (size_t)snprintf(missing + n, sizeof(missing) - n,
					      " wrmsr:0x%x", rsvd[i]);
	}
	if (lapic_msr_write(&apic, MSR(LAPIC_ESR), 1))
		n += (size_t)snprintf(missing + n, sizeof(missing) - n,
				      " wrmsr:0x828=1");
	ck_assert_msg(n == 0, "no #GP for:%s", missing);
}
END_TEST

/* ---- IA32_APIC_BASE (SDM Vol. 3A §11.4.4, §11.12.5) ---- */

/* After RESET: enabled, xAPIC mode, at 0xFEE00000; BSP only for ID 0. */
START_TEST(apic_base_after_reset)
{
	ck_assert_uint_eq(lapic_base_read(&apic), BASE_XAPIC | LAPIC_BASE_BSP);
	ck_assert_int_eq(lapic_mode(&apic), LAPIC_XAPIC);
	lapic_init(&apic, 3, &ops, NULL, page);
	ck_assert_uint_eq(lapic_base_read(&apic), BASE_XAPIC);
}
END_TEST

/* The state to reach from `from` through IA32_APIC_BASE, by value. */
static void enter(u64 from)
{
	lapic_init(&apic, 0, &ops, NULL, page);
	if (from == BASE_X2APIC)
		ck_assert(lapic_base_write(&apic, BASE_X2APIC));
	else if (from == BASE_DISABLED)
		ck_assert(lapic_base_write(&apic, BASE_DISABLED));
}

/* Every (state, written value) pair against §11.12.5.1's diagram: x2APIC
   -> xAPIC, disabled -> x2APIC and anything -> EN = 0 with EXTD = 1 are
   #GP and change nothing; the rest move (or stay). */
START_TEST(apic_base_state_machine)
{
	static const u64 state[] = { BASE_DISABLED, BASE_XAPIC, BASE_X2APIC };
	static const u64 to[] = { BASE_DISABLED, BASE_XAPIC, BASE_X2APIC, BASE_INVALID };
	static const bool ok[3][4] = {
		{ true, true, false, false },     /* from disabled */
		{ true, true, true, false },      /* from xAPIC */
		{ true, false, true, false },     /* from x2APIC */
	};

	for (size_t i = 0; i < ARRAY_SIZE(state); i++)
		for (size_t j = 0; j < ARRAY_SIZE(to); j++) {
			enter(state[i]);
			ck_assert_msg(lapic_base_write(&apic, to[j]) == ok[i][j],
				      "0x%llx -> 0x%llx", (unsigned long long)state[i],
				      (unsigned long long)to[j]);
			ck_assert_uint_eq(lapic_base_read(&apic) & ~LAPIC_BASE_BSP,
					  ok[i][j] ? to[j] : state[i]);
		}
}
END_TEST

/* Reserved bits (0-7, 9, MAXPHYADDR-63) and another address are #GP: uhv
   does not relocate the APIC. BSP is read-only: a write's bit is ignored. */
START_TEST(apic_base_reserved_bits_and_address)
{
	static const u64 bad[] = { BASE_XAPIC | 1, BASE_XAPIC | 0x80,
				   BASE_XAPIC | (1ULL << 9), BASE_XAPIC | (1ULL << 52),
				   BASE_XAPIC | (1ULL << 63),
				   (BASE_XAPIC & ~LAPIC_MMIO_BASE) | 0xfed00000ULL,
				   LAPIC_BASE_EN };

	for (size_t i = 0; i < ARRAY_SIZE(bad); i++)
		ck_assert_msg(!lapic_base_write(&apic, bad[i]), "0x%llx",
			      (unsigned long long)bad[i]);
	ck_assert(lapic_base_write(&apic, BASE_XAPIC));         /* BSP clear */
	ck_assert_uint_eq(lapic_base_read(&apic), BASE_XAPIC | LAPIC_BASE_BSP);
	ck_assert_int_eq(lapic_mode(&apic), LAPIC_XAPIC);
}
END_TEST

/* Globally disabled (§11.4.3): no interrupt, no timer, no MSRs, the page
   unclaimed; enabled again, the APIC is as after power-up (§11.4.7.1)
   but for its ID. */
START_TEST(disabled_apic_is_gone_and_comes_back_reset)
{
	u64 v;

	lapic_write(&apic, LAPIC_TPR, 0x20);
	lapic_write(&apic, LAPIC_LVT_TIMER, TIMER_VEC);
	lapic_write(&apic, LAPIC_TIMER_ICR, 1000);
	lapic_accept(&apic, 0x51, true);
	ck_assert(lapic_base_write(&apic, BASE_DISABLED));
	ck_assert_int_eq(lapic_mode(&apic), LAPIC_DISABLED);
	ck_assert_uint_eq(lapic_next_deadline(&apic), LAPIC_NO_DEADLINE);
	ck_assert_int_eq(lapic_highest(&apic, LAPIC_IRR), -1);
	lapic_accept(&apic, 0x52, false);
	now_tsc += 5000;
	lapic_tick(&apic);
	ck_assert_int_eq(lapic_pending(&apic), -1);
	ck_assert_int_eq(lapic_highest(&apic, LAPIC_IRR), -1);
	ck_assert_uint_eq(lapic_mmio_read(&apic, LAPIC_SVR, 4), ~0ULL);
	ck_assert_uint_eq(lapic_mmio_read(&apic, LAPIC_VERSION, 4), ~0ULL);
	lapic_mmio_write(&apic, LAPIC_SVR, 4, SVR_APIC_ENABLED | 0xff);
	ck_assert_int_eq(rec.errors, 1);
	ck_assert(!lapic_msr_read(&apic, MSR(LAPIC_ID), &v));
	ck_assert(!lapic_msr_write(&apic, MSR(LAPIC_TPR), 0));

	ck_assert(lapic_base_write(&apic, BASE_XAPIC));
	ck_assert_uint_eq(lapic_read(&apic, LAPIC_SVR), 0xff);
	ck_assert_uint_eq(lapic_read(&apic, LAPIC_TPR), 0);
	ck_assert_uint_eq(lapic_read(&apic, LAPIC_DFR), 0xffffffffU);
	for (u32 off = LAPIC_LVT_TIMER; off <= LAPIC_LVT_ERROR; off += 16)
		ck_assert_uint_eq(lapic_read(&apic, off), LVT_MASKED);
	ck_assert_uint_eq(lapic_read(&apic, LAPIC_TIMER_ICR), 0);
	ck_assert_int_eq(lapic_highest(&apic, LAPIC_TMR), -1);
	ck_assert_uint_eq(lapic_read(&apic, LAPIC_VERSION), 0x00050014U);
}
END_TEST

/* The ID survives x2APIC -> disabled -> xAPIC (§11.12.5.1), in each
   mode's format; the TPR a guest left in the page while disabled (the
   CPU virtualizes it, APIC virtualization paused) does not. */
START_TEST(id_survives_the_round_trip)
{
	u64 v;

	lapic_init(&apic, 2, &ops, NULL, page);
	ck_assert(lapic_base_write(&apic, BASE_X2APIC));
	ck_assert(lapic_msr_read(&apic, MSR(LAPIC_ID), &v));
	ck_assert_uint_eq(v, 2);
	ck_assert(lapic_base_write(&apic, BASE_DISABLED));
	page[LAPIC_TPR / 4] = 0x70;
	ck_assert(lapic_base_write(&apic, BASE_XAPIC));
	ck_assert_uint_eq(lapic_read(&apic, LAPIC_ID), 2U << 24);
	ck_assert_uint_eq(lapic_read(&apic, LAPIC_TPR), 0);
	ck_assert(lapic_base_write(&apic, BASE_X2APIC));
	ck_assert(lapic_msr_read(&apic, MSR(LAPIC_ID), &v));
	ck_assert_uint_eq(v, 2);
}
END_TEST

/* x2APIC reserved bit checking (§11.12.1.3): a WRMSR setting a bit the
   register does not define is #GP and changes nothing; its defined bits
   (all of them at once) are taken. */
START_TEST(x2apic_reserved_bits_gp)
{
	static const struct { u32 off; u64 good, bad; } r[] = {
		{ LAPIC_TPR, 0xff, 0x100 },
		{ LAPIC_SELF_IPI, 0x41, 0x140 },
		{ LAPIC_SVR, 0x3ff, 0x1ff | (1U << 12) },      /* no EOI-bcast suppression */
		{ LAPIC_LVT_TIMER, 0x700ff, 0x700ff | (1U << 19) },
		{ LAPIC_LVT_TIMER, 0x40, 0x140 },              /* no delivery mode */
		{ LAPIC_LVT_THERMAL, 0x107ff, 0x1e7ff },
		{ LAPIC_LVT_PERF, 0x104ff, 0x20000 },
		{ LAPIC_LVT_LINT0, 0x1f7ff, 0x3f7ff },
		{ LAPIC_LVT_LINT1, 0x1a700, 0x800 },
		{ LAPIC_LVT_ERROR, 0x10033, 0x10233 },
		{ LAPIC_TIMER_ICR, 0xffffffffULL, 1ULL << 32 },
		{ LAPIC_TIMER_DCR, 0xb, 0x4 },
	};
	char missing[512] = "";
	size_t n = 0;

	ck_assert(lapic_base_write(&apic, BASE_X2APIC));
	for (size_t i = 0; i < ARRAY_SIZE(r); i++) {
		if (!lapic_msr_write(&apic, MSR(r[i].off), r[i].good))
			n += (size_t)snprintf(missing + n, sizeof(missing) - n,
					      " refused 0x%llx to 0x%x",
					      (unsigned long long)r[i].good, MSR(r[i].off));
		if (lapic_msr_write(&apic, MSR(r[i].off), r[i].bad))
			n += (size_t)snprintf(missing + n, sizeof(missing) - n,
					      " took 0x%llx to 0x%x",
					      (unsigned long long)r[i].bad, MSR(r[i].off));
	}
	ck_assert_msg(n == 0, "x2APIC reserved bits:%s", missing);
	ck_assert(bit(LAPIC_IRR, 0x41));
	ck_assert(!bit(LAPIC_IRR, 0x40));    /* the bad self-IPI sent nothing */
}
END_TEST

/* ICR in x2APIC mode: delivery status (12) is gone, and 13, 16-17, 20-31
   are reserved (§11.6.1, §11.12.9); the 32-bit destination is not. */
START_TEST(x2apic_icr_reserved_bits_gp)
{
	static const u32 rsvd[] = { 12, 13, 16, 17, 20, 31 };

	ck_assert(lapic_base_write(&apic, BASE_X2APIC));
	for (size_t i = 0; i < ARRAY_SIZE(rsvd); i++)
		ck_assert_msg(!lapic_msr_write(&apic, MSR(LAPIC_ICR_LO),
					       (5ULL << 32) | 0x44 | (1U << rsvd[i])),
			      "ICR bit %u", rsvd[i]);
	ck_assert_int_eq(rec.ipis, 0);
	ck_assert(lapic_msr_write(&apic, MSR(LAPIC_ICR_LO),
				  (0xffffffffULL << 32) | 0xcc700 | 0x44));
	ck_assert_int_eq(rec.ipis, 1);
}
END_TEST

/* No CMCI (MCG_CAP[10] = 0): 0x82F does not exist in x2APIC mode, and
   offset 0x2F0 of the page is reserved, even when APIC virtualization
   already wrote it into the register page. */
START_TEST(no_cmci_lvt)
{
	u64 v;

	ck_assert_uint_eq(lapic_read(&apic, LAPIC_LVT_CMCI), 0);
	lapic_write(&apic, LAPIC_LVT_CMCI, 0x40);
	ck_assert_uint_eq(lapic_read(&apic, LAPIC_LVT_CMCI), 0);
	page[LAPIC_LVT_CMCI / 4] = 0x41;
	lapic_apic_write(&apic, LAPIC_LVT_CMCI);
	ck_assert_uint_eq(lapic_read(&apic, LAPIC_LVT_CMCI), 0);
	ck_assert(lapic_base_write(&apic, BASE_X2APIC));
	ck_assert(!lapic_msr_read(&apic, 0x82f, &v));
	ck_assert(!lapic_msr_write(&apic, 0x82f, LVT_MASKED));
}
END_TEST

Suite *lapic_suite(void)
{
	Suite *s = suite_create("lapic");
	TCase *t = tcase_create("registers");

	tcase_add_checked_fixture(t, setup, NULL);
	tcase_add_test(t, reset_state);
	tcase_add_test(t, ppr_follows_tpr_and_isr);
	tcase_add_test(t, pending_needs_higher_class);
	tcase_add_test(t, highest_first_and_nesting);
	tcase_add_test(t, eoi_of_level_vector_calls_eoi_level);
	tcase_add_test(t, illegal_vector_sets_esr);
	tcase_add_test(t, ipi_destinations);
	tcase_add_test(t, nmi_ipi_self_and_others);
	tcase_add_test(t, ipi_broadcast_id_reaches_self);
	tcase_add_test(t, self_ipi_illegal_vector_sets_send_error);
	tcase_add_test(t, mmio_access_rules);
	tcase_add_test(t, page_has_the_virtual_apic_layout);
	tcase_add_test(t, apic_write_acts_on_the_page);
	tcase_add_test(t, apic_write_timer_mode_change_disarms);
	tcase_add_test(t, virtual_eoi_reaches_the_ioapic_for_level_only);
	tcase_add_test(t, x2apic_msrs);
	tcase_add_test(t, x2apic_gp_cases);
	tcase_add_test(t, x2apic_gp_status_and_reserved);
	tcase_add_test(t, apic_base_after_reset);
	tcase_add_test(t, apic_base_state_machine);
	tcase_add_test(t, apic_base_reserved_bits_and_address);
	tcase_add_test(t, disabled_apic_is_gone_and_comes_back_reset);
	tcase_add_test(t, id_survives_the_round_trip);
	tcase_add_test(t, x2apic_reserved_bits_gp);
	tcase_add_test(t, x2apic_icr_reserved_bits_gp);
	tcase_add_test(t, no_cmci_lvt);
	suite_add_tcase(s, t);
	return s;
}
