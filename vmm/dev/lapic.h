/*
 * A virtual local APIC (Intel SDM Vol. 3A ch. 11), one per vCPU: the
 * register file behind both the xAPIC MMIO page and the x2APIC MSRs,
 * interrupt acceptance and priority (IRR, ISR, TPR, PPR), EOI, IPIs and
 * the timer in one-shot, periodic and TSC-deadline modes.
 *
 * Pure C: time comes from ops->now (the TSC in uhv, a fake clock in the
 * unit tests), and what leaves the APIC (an EOI of a level-triggered
 * vector, an IPI) goes out through ops. The timer counts at the TSC rate
 * divided by the divide configuration: uhv reports that rate to guests as
 * the crystal clock in CPUID leaf 0x15, so no calibration is needed.
 */
#ifndef UHV_VMM_LAPIC_H
#define UHV_VMM_LAPIC_H

#include "lib/types.h"

#define LAPIC_MMIO_BASE  0xfee00000ULL
#define LAPIC_MMIO_SIZE  0x1000ULL
#define LAPIC_NR_REGS    64              /* xAPIC offsets 0x000-0x3f0 */
/* The register file is a 4 KiB page with each register at its xAPIC
   offset: the layout of the virtual-APIC page (SDM Vol. 3C §30.1), so
   with APIC virtualization the CPU reads and updates it directly. */
#define LAPIC_PAGE_WORDS 1024

/* xAPIC register offsets (SDM Vol. 3A Table 11-1). */
#define LAPIC_ID         0x020
#define LAPIC_VERSION    0x030
#define LAPIC_TPR        0x080
#define LAPIC_APR        0x090
#define LAPIC_PPR        0x0a0
#define LAPIC_EOI        0x0b0
#define LAPIC_RRD        0x0c0
#define LAPIC_LDR        0x0d0
#define LAPIC_DFR        0x0e0
#define LAPIC_SVR        0x0f0
#define LAPIC_ISR        0x100           /* 8 registers, 32 vectors each */
#define LAPIC_TMR        0x180
#define LAPIC_IRR        0x200
#define LAPIC_ESR        0x280
#define LAPIC_LVT_CMCI   0x2f0
#define LAPIC_ICR_LO     0x300
#define LAPIC_ICR_HI     0x310
#define LAPIC_LVT_TIMER  0x320
#define LAPIC_LVT_THERMAL 0x330
#define LAPIC_LVT_PERF   0x340
#define LAPIC_LVT_LINT0  0x350
#define LAPIC_LVT_LINT1  0x360
#define LAPIC_LVT_ERROR  0x370
#define LAPIC_TIMER_ICR  0x380           /* initial count */
#define LAPIC_TIMER_CCR  0x390           /* current count */
#define LAPIC_TIMER_DCR  0x3e0           /* divide configuration */
#define LAPIC_SELF_IPI   0x3f0           /* x2APIC only */

/* x2APIC MSRs (SDM Vol. 3A §11.12.1): 0x800 + offset / 16. */
#define X2APIC_MSR_BASE  0x800U
#define X2APIC_MSR_LAST  0x8ffU
#define MSR_IA32_TSC_DEADLINE 0x6e0U

/*
 * IA32_APIC_BASE (SDM Vol. 3A §11.4.4 Figure 11-5, with x2APIC
 * §11.12.1): BSP flag, x2APIC enable (EXTD), global enable (EN), the base
 * address in bits MAXPHYADDR-1:12; the rest is reserved.
 */
#define LAPIC_BASE_BSP   (1ULL << 8)
#define LAPIC_BASE_EXTD  (1ULL << 10)
#define LAPIC_BASE_EN    (1ULL << 11)

/* The APIC's state as IA32_APIC_BASE sets it (§11.12.5.1). */
enum lapic_mode {
	LAPIC_DISABLED,              /* EN = 0: no APIC at all (§11.4.3) */
	LAPIC_XAPIC,                 /* EN = 1, EXTD = 0: the MMIO page */
	LAPIC_X2APIC,                /* EN = 1, EXTD = 1: the MSRs */
};

/*
 * Local vector table entry (§11.5.1):
 *
 *  31   19 18:17 16   15   14   13  12   11  10:8  7:0
 *  +-----+-----+----+----+----+----+----+---+-----+------+
 *  |  0  |timer|mask|trig|rirr|pol |stat| 0 |mode |vector|
 *  +-----+-----+----+----+----+----+----+---+-----+------+
 */
#define LVT_VECTOR_MASK  0xffU
#define LVT_MASKED       (1U << 16)
#define LVT_LEVEL        (1U << 15)
#define LVT_TIMER_SHIFT  17
#define LVT_TIMER_MASK   3U
#define LVT_TIMER_ONESHOT 0U
#define LVT_TIMER_PERIODIC 1U
#define LVT_TIMER_TSC_DEADLINE 2U

#define SVR_APIC_ENABLED (1U << 8)

/*
 * Interrupt command register, low half (§11.6.1):
 *
 *  31  20 19:18 17:16 15   14   13  12   11   10:8   7:0
 *  +-----+-----+-----+----+----+---+----+----+------+------+
 *  |  0  |short|  0  |trig|lvl | 0 |stat|dest| mode |vector|
 *  +-----+-----+-----+----+----+---+----+----+------+------+
 */
#define ICR_VECTOR_MASK  0xffU
#define ICR_MODE_SHIFT   8
#define ICR_MODE_MASK    7U
#define ICR_MODE_FIXED   0U
#define ICR_MODE_SMI     2U
#define ICR_MODE_NMI     4U
#define ICR_MODE_INIT    5U
#define ICR_MODE_STARTUP 6U
#define ICR_DEST_LOGICAL (1U << 11)
#define ICR_LEVEL_ASSERT (1U << 14)
#define ICR_SHORT_SHIFT  18
#define ICR_SHORT_MASK   3U
#define ICR_SHORT_NONE   0U
#define ICR_SHORT_SELF   1U
#define ICR_SHORT_ALL    2U
#define ICR_SHORT_OTHERS 3U

#define LAPIC_NO_DEADLINE (~0ULL)

struct lapic;

struct lapic_ops {
	u64 (*now)(void *ctx);                       /* TSC ticks */
	/* EOI of a vector that arrived level-triggered (for the IOAPIC) */
	void (*eoi_level)(void *ctx, u8 vector);
	/* an IPI for another APIC (or all): icr low and high halves */
	void (*ipi)(void *ctx, u32 icr_lo, u32 dest);
	/* something the guest did that real hardware would flag in ESR */
	void (*error)(void *ctx, const char *what, u32 value);
};

struct lapic {
	u32 *regs;                   /* the register page, indexed by offset / 4 */
	u32 timer_mode;              /* LVT timer mode before the last write */
	u64 timer_start;             /* TSC when the count was loaded */
	u64 deadline;                /* TSC of the next timer interrupt */
	u64 tsc_deadline;            /* IA32_TSC_DEADLINE as the guest wrote it */
	u64 timer_fired;             /* statistics */
	u32 esr_pending;             /* errors since the last write to ESR */
	enum lapic_mode mode;
	bool bsp;                    /* IA32_APIC_BASE.BSP: APIC ID 0 */
	bool nmi_pending;            /* an NMI arrived, not yet taken */
	const struct lapic_ops *ops;
	void *ctx;
};

/* page: LAPIC_PAGE_WORDS words, 4 KiB aligned if the CPU is to use it as
   the virtual-APIC page. The APIC starts as after RESET: xAPIC mode,
   registers as §11.4.7.1 says; the one with ID 0 is the BSP. */
void lapic_init(struct lapic *l, u32 apic_id, const struct lapic_ops *ops,
		void *ctx, u32 *page);
/* Register access by xAPIC offset (32-bit). */
u32 lapic_read(struct lapic *l, u32 off);
void lapic_write(struct lapic *l, u32 off, u32 val);
/*
 * x2APIC MSR access (0x800-0x8ff); false: the guest gets #GP, as the CPU
 * answers outside x2APIC mode, for a register that does not exist (Table
 * 11-6; uhv's APIC has no CMCI LVT, MCG_CAP[10] being 0), a read of a
 * write-only or a write of a read-only one, and a write that sets a bit
 * the register reserves (§11.12.1.3).
 */
bool lapic_msr_read(struct lapic *l, u32 msr, u64 *val);
bool lapic_msr_write(struct lapic *l, u32 msr, u64 val);

/*
 * IA32_APIC_BASE. uhv's APIC stays at LAPIC_MMIO_BASE: a write must name
 * that address, with no reserved bit set; BSP is read-only (a write's
 * value of it is ignored). EN and EXTD move between the states of
 * §11.12.5.1: disabled <-> xAPIC -> x2APIC -> disabled.
 * x2APIC -> xAPIC, disabled -> x2APIC and EN = 0 with EXTD = 1 are
 * invalid. Each refused write returns false: the guest gets #GP.
 *
 * Leaving for "disabled" resets every register as at power-up except the
 * APIC ID (§11.4.3: prior initialization may be lost), and so does coming
 * back to xAPIC mode. While disabled the APIC accepts no interrupt, its
 * timer is stopped, its MMIO page is unclaimed (reads all ones, writes
 * vanish, as uhv's bus answers where no device is) and its MSRs #GP. In
 * x2APIC mode the page behaves the same way (§11.12.2).
 */
u64 lapic_base_read(const struct lapic *l);
bool lapic_base_write(struct lapic *l, u64 val);
enum lapic_mode lapic_mode(const struct lapic *l);
/* TSC-deadline MSR. */
u64 lapic_tsc_deadline_read(struct lapic *l);
void lapic_tsc_deadline_write(struct lapic *l, u64 val);

/* An interrupt arrives (from the IOAPIC, an IPI or the timer); a
   disabled APIC drops it. */
void lapic_accept(struct lapic *l, u8 vector, bool level);
/*
 * NMIs (SDM Vol. 3A §11.6.1, delivery mode NMI; §6.7.1): an NMI message
 * sets the pending NMI, and more arriving before the CPU takes it merge
 * into that one, as the CPU latches a single NMI. It needs no vector and
 * ignores TPR, PPR and the software enable (§11.4.7.2: a software-
 * disabled APIC still takes NMIs); a globally disabled APIC is off the
 * bus and drops it. take clears it and says whether there was one.
 */
void lapic_nmi(struct lapic *l);
bool lapic_nmi_pending(const struct lapic *l);
bool lapic_take_nmi(struct lapic *l);
/* Fires the timer if its time has come. */
void lapic_tick(struct lapic *l);
/* The highest pending vector that PPR lets through, or -1. */
int lapic_pending(const struct lapic *l);
/* The CPU takes vector: IRR -> ISR. */
void lapic_ack(struct lapic *l, u8 vector);
/* Highest vector set in the IRR or ISR (LAPIC_IRR, LAPIC_ISR), or -1. */
int lapic_highest(const struct lapic *l, u32 base);
/* The 256-bit TMR: the vectors that arrived level-triggered. */
void lapic_tmr(const struct lapic *l, u32 out[8]);

/*
 * With APIC virtualization the CPU does part of the work in the page:
 * lapic_apic_write acts on a write the guest already made there (an
 * APIC-write exit); lapic_virtual_eoi on an EOI the CPU already retired
 * from the ISR (an EOI-induced exit, for a level-triggered vector).
 */
void lapic_apic_write(struct lapic *l, u32 off);
void lapic_virtual_eoi(struct lapic *l, u8 vector);
/* Stores PPR in the page, where the CPU looks for it (VPPR, §30.1.3):
   the CPU keeps it current itself only for the TPR and EOI writes it
   virtualizes, not for ISR and TPR changes uhv emulates (x2APIC MSRs). */
void lapic_store_ppr(struct lapic *l);

/* TSC time of the next timer interrupt, LAPIC_NO_DEADLINE if none. */
u64 lapic_next_deadline(const struct lapic *l);

/* Memory-mapped access for the VM's MMIO bus (struct bus_device). */
u64 lapic_mmio_read(void *dev, u64 off, unsigned size);
void lapic_mmio_write(void *dev, u64 off, unsigned size, u64 val);

#endif
