/*
 * The virtual local APIC (see lapic.h). The 256-bit IRR, ISR and TMR live
 * in the register file at their architectural offsets (eight 32-bit
 * registers 16 bytes apart), so a guest reading them sees exactly what
 * the emulation uses.
 */
#include "vmm/dev/lapic.h"

#define APIC_VERSION_VALUE 0x00050014U  /* version 0x14, 6 LVT entries */
#define APIC_ID_SHIFT      24           /* xAPIC: ID in bits 31:24 */
#define PRIO_CLASS(v)      ((v) & 0xf0U)
#define FIRST_VALID_VECTOR 16           /* 0-15 are reserved (§11.5.2) */
#define ESR_RECV_ILLEGAL   (1U << 6)
#define ESR_SEND_ILLEGAL   (1U << 5)
#define DCR_MASK           0xbU
#define LDR_MASK           0xff000000U
#define X2APIC_CLUSTER_SHIFT 16
#define TPR_MASK           0xffU
/* SVR: vector, software enable, focus processor checking (§11.9); bit 12,
   EOI-broadcast suppression, is reserved: the version register's bit 24
   says this APIC lacks it. */
#define SVR_MASK           0x3ffU
#define MMIO_UNCLAIMED     (~0ULL)       /* what the bus reads where no device is */

#define REG_WORD(off) (((off) >> 4 & (LAPIC_NR_REGS - 1)) * 4)

static u32 *reg(struct lapic *l, u32 off)
{
	return &l->regs[REG_WORD(off)];
}

static u32 get(const struct lapic *l, u32 off)
{
	return l->regs[REG_WORD(off)];
}

/* Bit `vec` of a 256-bit vector register (IRR, ISR, TMR). */
static bool vbit(const struct lapic *l, u32 base, u8 vec)
{
	return get(l, base + (vec / 32) * 16) & (1U << (vec % 32));
}

static void vset(struct lapic *l, u32 base, u8 vec, bool on)
{
	u32 *r = reg(l, base + (vec / 32) * 16);

	*r = on ? *r | (1U << (vec % 32)) : *r & ~(1U << (vec % 32));
}

/* Highest set vector of a 256-bit register, or -1. */
static int vhighest(const struct lapic *l, u32 base)
{
	for (int i = 7; i >= 0; i--) {
		u32 r = get(l, base + (u32)i * 16);

		if (r)
			return i * 32 + 31 - __builtin_clz(r);
	}
	return -1;
}

int lapic_highest(const struct lapic *l, u32 base)
{
	return vhighest(l, base);
}

void lapic_tmr(const struct lapic *l, u32 out[8])
{
	for (u32 i = 0; i < 8; i++)
		out[i] = get(l, LAPIC_TMR + i * 16);
}

/*
 * The registers and the timer as after power-up or RESET (SDM Vol. 3A
 * §11.4.7.1), in xAPIC format, with the APIC ID apic_id. The caller sets
 * the mode.
 */
static void reset(struct lapic *l, u32 apic_id)
{
	for (u32 i = 0; i < LAPIC_PAGE_WORDS; i++)
		l->regs[i] = 0;
	*reg(l, LAPIC_ID) = apic_id << APIC_ID_SHIFT;
	*reg(l, LAPIC_VERSION) = APIC_VERSION_VALUE;
	*reg(l, LAPIC_DFR) = 0xffffffffU;
	*reg(l, LAPIC_SVR) = 0xffU;          /* software-disabled at reset */
	for (u32 off = LAPIC_LVT_TIMER; off <= LAPIC_LVT_ERROR; off += 16)
		*reg(l, off) = LVT_MASKED;
	l->timer_mode = LVT_TIMER_ONESHOT;
	l->timer_start = 0;
	l->deadline = LAPIC_NO_DEADLINE;
	l->tsc_deadline = 0;
	l->esr_pending = 0;
	l->nmi_pending = false;
}

void lapic_init(struct lapic *l, u32 apic_id, const struct lapic_ops *ops,
		void *ctx, u32 *page)
{
	*l = (struct lapic){ .regs = page, .ops = ops, .ctx = ctx,
			     .mode = LAPIC_XAPIC, .bsp = apic_id == 0 };
	reset(l, apic_id);
}

/* The APIC ID as a number, whatever the mode's register format. */
static u32 apic_id(const struct lapic *l)
{
	u32 id = get(l, LAPIC_ID);

	return l->mode == LAPIC_X2APIC ? id : id >> APIC_ID_SHIFT;
}

/* Processor priority (§11.8.3.1): the higher of TPR and the in-service class. */
static u32 ppr(const struct lapic *l)
{
	u32 tpr = get(l, LAPIC_TPR) & 0xff;
	int isrv = vhighest(l, LAPIC_ISR);
	u32 cls = isrv < 0 ? 0 : PRIO_CLASS((u32)isrv);

	return PRIO_CLASS(tpr) >= cls ? tpr : cls;
}

int lapic_pending(const struct lapic *l)
{
	int irrv = vhighest(l, LAPIC_IRR);

	if (irrv < 0 || PRIO_CLASS((u32)irrv) <= PRIO_CLASS(ppr(l)))
		return -1;
	return irrv;
}

void lapic_ack(struct lapic *l, u8 vector)
{
	vset(l, LAPIC_IRR, vector, false);
	vset(l, LAPIC_ISR, vector, true);
}

void lapic_accept(struct lapic *l, u8 vector, bool level)
{
	if (l->mode == LAPIC_DISABLED)
		return;                      /* not on the bus at all (§11.4.3) */
	if (vector < FIRST_VALID_VECTOR) {
		l->esr_pending |= ESR_RECV_ILLEGAL;
		l->ops->error(l->ctx, "illegal vector received", vector);
		return;
	}
	vset(l, LAPIC_IRR, vector, true);
	vset(l, LAPIC_TMR, vector, level);
}

void lapic_nmi(struct lapic *l)
{
	if (l->mode != LAPIC_DISABLED)
		l->nmi_pending = true;
}

bool lapic_nmi_pending(const struct lapic *l)
{
	return l->nmi_pending;
}

bool lapic_take_nmi(struct lapic *l)
{
	bool was = l->nmi_pending;

	l->nmi_pending = false;
	return was;
}

/* EOI (§11.8.5): retire the highest in-service vector. */
static void eoi(struct lapic *l)
{
	int v = vhighest(l, LAPIC_ISR);

	if (v < 0)
		return;
	vset(l, LAPIC_ISR, (u8)v, false);
	if (vbit(l, LAPIC_TMR, (u8)v))
		l->ops->eoi_level(l->ctx, (u8)v);
}

/* ---- timer (§11.5.4) ---- */

static u32 timer_mode(const struct lapic *l)
{
	return get(l, LAPIC_LVT_TIMER) >> LVT_TIMER_SHIFT & LVT_TIMER_MASK;
}

/* Divide configuration bits 3,1:0 -> divisor 2, 4, ... 128, then 1. */
static u64 divisor(const struct lapic *l)
{
	u32 d = get(l, LAPIC_TIMER_DCR);
	u32 v = ((d >> 1) & 4U) | (d & 3U);

	return v == 7 ? 1 : 2ULL << v;
}

static u64 period(const struct lapic *l)
{
	return (u64)get(l, LAPIC_TIMER_ICR) * divisor(l);
}

static void timer_load(struct lapic *l)
{
	l->timer_start = l->ops->now(l->ctx);
	l->deadline = period(l) ? l->timer_start + period(l) : LAPIC_NO_DEADLINE;
}

static u32 current_count(struct lapic *l)
{
	u64 now = l->ops->now(l->ctx);

	if (timer_mode(l) == LVT_TIMER_TSC_DEADLINE ||
	    l->deadline == LAPIC_NO_DEADLINE || now >= l->deadline)
		return 0;
	return (u32)((l->deadline - now) / divisor(l));
}

void lapic_tick(struct lapic *l)
{
	u64 now = l->ops->now(l->ctx);
	u32 lvt = get(l, LAPIC_LVT_TIMER);

	if (l->deadline == LAPIC_NO_DEADLINE || now < l->deadline)
		return;
	l->timer_fired++;
	if (!(lvt & LVT_MASKED))
		lapic_accept(l, (u8)(lvt & LVT_VECTOR_MASK), false);
	if (timer_mode(l) == LVT_TIMER_PERIODIC && period(l)) {
		/* skip whole periods the guest missed rather than fire a burst */
		u64 p = period(l);

		l->deadline += ((now - l->deadline) / p + 1) * p;
	} else {
		l->deadline = LAPIC_NO_DEADLINE;
		if (timer_mode(l) == LVT_TIMER_TSC_DEADLINE)
			l->tsc_deadline = 0;
	}
}

u64 lapic_next_deadline(const struct lapic *l)
{
	return l->deadline;
}

u64 lapic_tsc_deadline_read(struct lapic *l)
{
	return timer_mode(l) == LVT_TIMER_TSC_DEADLINE ? l->tsc_deadline : 0;
}

void lapic_tsc_deadline_write(struct lapic *l, u64 val)
{
	if (timer_mode(l) != LVT_TIMER_TSC_DEADLINE)
		return;               /* ignored outside TSC-deadline mode */
	l->tsc_deadline = val;
	l->deadline = val ? val : LAPIC_NO_DEADLINE;
}

static void write_lvt_timer(struct lapic *l, u32 val)
{
	u32 old_mode = l->timer_mode;   /* the page may hold val already */

	*reg(l, LAPIC_LVT_TIMER) = val;
	l->timer_mode = timer_mode(l);
	if (l->timer_mode != old_mode) {   /* a mode change disarms (§11.5.4.1) */
		l->deadline = LAPIC_NO_DEADLINE;
		l->tsc_deadline = 0;
		*reg(l, LAPIC_TIMER_ICR) = 0;
	}
}

/* ---- register access ---- */

static void send_ipi(struct lapic *l, u32 lo, u32 dest)
{
	u32 shorthand = lo >> ICR_SHORT_SHIFT & ICR_SHORT_MASK;
	u32 mode = lo >> ICR_MODE_SHIFT & ICR_MODE_MASK;
	u32 self = apic_id(l);
	u32 broadcast = l->mode == LAPIC_X2APIC ? 0xffffffffU : 0xffU;  /* §11.6.2.1 */
	bool to_self = shorthand == ICR_SHORT_SELF ||
		       shorthand == ICR_SHORT_ALL ||
		       (shorthand == ICR_SHORT_NONE && !(lo & ICR_DEST_LOGICAL) &&
			(dest == self || dest == broadcast));

	if (mode == ICR_MODE_FIXED && (lo & ICR_VECTOR_MASK) < FIRST_VALID_VECTOR) {
		l->esr_pending |= ESR_SEND_ILLEGAL;       /* not sent at all */
		l->ops->error(l->ctx, "IPI with an illegal vector", lo & ICR_VECTOR_MASK);
		return;
	}
	if (to_self && mode == ICR_MODE_FIXED)
		lapic_accept(l, (u8)(lo & ICR_VECTOR_MASK), false);
	else if (to_self && mode == ICR_MODE_NMI)
		lapic_nmi(l);                    /* the vector is ignored */
	else if (to_self)
		l->ops->error(l->ctx, "unsupported self-IPI delivery mode", mode);
	if (!to_self || shorthand == ICR_SHORT_ALL || dest == broadcast)
		l->ops->ipi(l->ctx, lo, dest);
}

u32 lapic_read(struct lapic *l, u32 off)
{
	switch (off) {
	case LAPIC_PPR:
		return ppr(l);
	case LAPIC_TIMER_CCR:
		return current_count(l);
	case LAPIC_EOI:
	case LAPIC_SELF_IPI:
		return 0;             /* write-only */
	default:
		return off < LAPIC_NR_REGS * 16 ? get(l, off) : 0;
	}
}

static void write_svr(struct lapic *l, u32 val)
{
	*reg(l, LAPIC_SVR) = val & SVR_MASK;
	if (!(val & SVR_APIC_ENABLED))        /* software disable masks all LVTs */
		for (u32 off = LAPIC_LVT_TIMER; off <= LAPIC_LVT_ERROR; off += 16)
			*reg(l, off) |= LVT_MASKED;
}

void lapic_write(struct lapic *l, u32 off, u32 val)
{
	bool sw_enabled = get(l, LAPIC_SVR) & SVR_APIC_ENABLED;

	switch (off) {
	case LAPIC_ID:  *reg(l, off) = val & LDR_MASK; break;
	case LAPIC_TPR: *reg(l, off) = val & TPR_MASK; break;
	case LAPIC_EOI: eoi(l); break;
	case LAPIC_LDR: *reg(l, off) = val & LDR_MASK; break;
	case LAPIC_DFR: *reg(l, off) = val | 0x0fffffffU; break;
	case LAPIC_SVR: write_svr(l, val); break;
	case LAPIC_ESR:      /* a write shows the errors since the last one (§11.5.3) */
		*reg(l, off) = l->esr_pending;
		l->esr_pending = 0;
		break;
	case LAPIC_ICR_HI: *reg(l, off) = val & LDR_MASK; break;
	case LAPIC_ICR_LO:
		*reg(l, off) = val & ~(1U << 12);    /* delivery is instant */
		send_ipi(l, val, get(l, LAPIC_ICR_HI) >> APIC_ID_SHIFT);
		break;
	case LAPIC_LVT_TIMER:
		write_lvt_timer(l, sw_enabled ? val : val | LVT_MASKED);
		break;
	case LAPIC_LVT_THERMAL: case LAPIC_LVT_PERF:
	case LAPIC_LVT_LINT0: case LAPIC_LVT_LINT1: case LAPIC_LVT_ERROR:
		*reg(l, off) = sw_enabled ? val : val | LVT_MASKED;
		break;
	case LAPIC_TIMER_ICR:
		if (timer_mode(l) == LVT_TIMER_TSC_DEADLINE)
			break;        /* ignored in TSC-deadline mode */
		*reg(l, off) = val;
		timer_load(l);
		break;
	case LAPIC_TIMER_DCR: *reg(l, off) = val & DCR_MASK; break;
	default:
		break;            /* read-only or reserved: ignored, as hardware does */
	}
}

/* Registers the CPU writes in the page before its APIC-write exit
   (SDM Vol. 3C §30.4.3.1) though this APIC has none there: no CMCI. */
static bool virtualized_but_reserved(u32 off)
{
	return off == LAPIC_LVT_CMCI;
}

void lapic_apic_write(struct lapic *l, u32 off)
{
	/* the CPU retires EOIs itself and never exits for TPR writes */
	if (off == LAPIC_EOI || off == LAPIC_TPR)
		return;
	/* in TSC-deadline mode the initial count ignores writes: stays 0 */
	if ((off == LAPIC_TIMER_ICR && timer_mode(l) == LVT_TIMER_TSC_DEADLINE) ||
	    virtualized_but_reserved(off))
		*reg(l, off) = 0;
	else
		lapic_write(l, off, get(l, off));
}

void lapic_store_ppr(struct lapic *l)
{
	*reg(l, LAPIC_PPR) = ppr(l);
}

void lapic_virtual_eoi(struct lapic *l, u8 vector)
{
	if (vbit(l, LAPIC_TMR, vector))
		l->ops->eoi_level(l->ctx, vector);
}

/* Outside xAPIC mode the page is not decoded (§11.4.3, §11.12.2): it
   reads as nothing is there, and writes vanish. */
u64 lapic_mmio_read(void *dev, u64 off, unsigned size)
{
	struct lapic *l = dev;

	if (l->mode != LAPIC_XAPIC)
		return MMIO_UNCLAIMED;
	/* registers are 32-bit at 16-byte strides; other accesses see 0 */
	if (size != 4 || (off & 0xf))
		return 0;
	return lapic_read(l, (u32)off);
}

void lapic_mmio_write(void *dev, u64 off, unsigned size, u64 val)
{
	struct lapic *l = dev;

	if (l->mode != LAPIC_XAPIC) {
		l->ops->error(l->ctx, l->mode == LAPIC_DISABLED ?
			      "APIC MMIO write while the APIC is disabled" :
			      "APIC MMIO write in x2APIC mode", (u32)off);
		return;
	}
	if (size != 4 || (off & 0xf)) {
		l->ops->error(l->ctx, "APIC MMIO write not 32-bit aligned", (u32)off);
		return;
	}
	lapic_write(l, (u32)off, (u32)val);
}

/* ---- x2APIC (§11.12) ---- */

static u32 x2apic_ldr(u32 id)
{
	return ((id >> 4) << X2APIC_CLUSTER_SHIFT) | (1U << (id & 0xf));
}

/*
 * Which x2APIC MSRs exist and how (SDM Vol. 3A Table 11-6): R readable,
 * W writable. Anything else, and the wrong direction, is #GP. LVT CMCI
 * (0x82F) is there only on a CPU with CMCI (MCG_CAP[10]), which uhv's
 * guests are not: their MCG_CAP reads 0, and the version register counts
 * six LVT entries, not seven.
 */
enum { X2_R = 1, X2_W = 2, X2_RW = 3 };

static int x2apic_access(u32 off)
{
	if (off >= LAPIC_ISR && off < LAPIC_ESR)
		return X2_R;                       /* ISR, TMR, IRR */
	switch (off) {
	case LAPIC_ID: case LAPIC_VERSION: case LAPIC_PPR: case LAPIC_LDR:
	case LAPIC_TIMER_CCR:
		return X2_R;
	case LAPIC_EOI: case LAPIC_SELF_IPI:
		return X2_W;
	case LAPIC_TPR: case LAPIC_SVR: case LAPIC_ESR: case LAPIC_ICR_LO:
	case LAPIC_LVT_TIMER: case LAPIC_LVT_THERMAL:
	case LAPIC_LVT_PERF: case LAPIC_LVT_LINT0: case LAPIC_LVT_LINT1:
	case LAPIC_LVT_ERROR: case LAPIC_TIMER_ICR: case LAPIC_TIMER_DCR:
		return X2_RW;
	default:
		return 0;                          /* reserved, DFR, ICR_HI, CMCI */
	}
}

/* LVT fields (§11.5.1): vector, delivery status (read-only) and mask in
   every entry; delivery mode in those that have one; input polarity,
   remote IRR (read-only) and trigger mode in LINT0/1; the timer mode. */
#define LVT_BITS_COMMON   0x000110ffULL
#define LVT_BITS_DELIVERY 0x00000700ULL
#define LVT_BITS_LINT     0x0000e000ULL
#define LVT_BITS_TIMER    0x00060000ULL
/* ICR (§11.6.1): vector, delivery mode, destination mode, level, trigger
   mode, shorthand; in x2APIC mode delivery status (12) is gone, and the
   high half is the 32-bit destination (§11.12.9). */
#define ICR_BITS_X2APIC   0xffffffff000ccfffULL
#define X2APIC_BITS_VECTOR 0xffULL
#define X2APIC_BITS_COUNT 0xffffffffULL

/*
 * The bits a writable x2APIC register defines: a WRMSR that sets any
 * other bit is #GP (§11.12.1.3, reserved bit checking). EOI and ESR
 * define none: only 0 may be written.
 */
static u64 x2apic_defined(u32 off)
{
	switch (off) {
	case LAPIC_TPR: case LAPIC_SELF_IPI:
		return X2APIC_BITS_VECTOR;
	case LAPIC_SVR:
		return SVR_MASK;
	case LAPIC_ICR_LO:
		return ICR_BITS_X2APIC;
	case LAPIC_LVT_TIMER:
		return LVT_BITS_COMMON | LVT_BITS_TIMER;
	case LAPIC_LVT_THERMAL: case LAPIC_LVT_PERF:
		return LVT_BITS_COMMON | LVT_BITS_DELIVERY;
	case LAPIC_LVT_LINT0: case LAPIC_LVT_LINT1:
		return LVT_BITS_COMMON | LVT_BITS_DELIVERY | LVT_BITS_LINT;
	case LAPIC_LVT_ERROR:
		return LVT_BITS_COMMON;
	case LAPIC_TIMER_ICR:
		return X2APIC_BITS_COUNT;
	case LAPIC_TIMER_DCR:
		return DCR_MASK;
	default:
		return 0;
	}
}

bool lapic_msr_read(struct lapic *l, u32 msr, u64 *val)
{
	u32 off = (msr - X2APIC_MSR_BASE) << 4;

	if (l->mode != LAPIC_X2APIC || !(x2apic_access(off) & X2_R))
		return false;
	if (off == LAPIC_ICR_LO)
		*val = ((u64)get(l, LAPIC_ICR_HI) << 32) | get(l, LAPIC_ICR_LO);
	else if (off == LAPIC_LDR)
		*val = x2apic_ldr(get(l, LAPIC_ID));
	else
		*val = lapic_read(l, off);
	return true;
}

bool lapic_msr_write(struct lapic *l, u32 msr, u64 val)
{
	u32 off = (msr - X2APIC_MSR_BASE) << 4;

	if (l->mode != LAPIC_X2APIC || !(x2apic_access(off) & X2_W) ||
	    (val & ~x2apic_defined(off)))
		return false;          /* no such register, read-only, reserved bits */
	if (off == LAPIC_SELF_IPI) {
		lapic_accept(l, (u8)val, false);
		return true;
	}
	if (off == LAPIC_ICR_LO) {
		*reg(l, LAPIC_ICR_HI) = (u32)(val >> 32);
		*reg(l, LAPIC_ICR_LO) = (u32)val;
		send_ipi(l, (u32)val, (u32)(val >> 32));
		return true;
	}
	lapic_write(l, off, (u32)val);
	return true;
}

/* ---- IA32_APIC_BASE (§11.4.4, §11.12.5) ---- */

enum lapic_mode lapic_mode(const struct lapic *l)
{
	return l->mode;
}

u64 lapic_base_read(const struct lapic *l)
{
	return LAPIC_MMIO_BASE | (l->bsp ? LAPIC_BASE_BSP : 0) |
	       (l->mode != LAPIC_DISABLED ? LAPIC_BASE_EN : 0) |
	       (l->mode == LAPIC_X2APIC ? LAPIC_BASE_EXTD : 0);
}

/* §11.12.5.1: x2APIC mode is left only for "disabled", and entered only
   from xAPIC mode. */
static bool valid_move(enum lapic_mode from, enum lapic_mode to)
{
	return !(from == LAPIC_X2APIC && to == LAPIC_XAPIC) &&
	       !(from == LAPIC_DISABLED && to == LAPIC_X2APIC);
}

bool lapic_base_write(struct lapic *l, u64 val)
{
	u64 flags = LAPIC_BASE_BSP | LAPIC_BASE_EXTD | LAPIC_BASE_EN;
	bool en = val & LAPIC_BASE_EN, extd = val & LAPIC_BASE_EXTD;
	enum lapic_mode to = !en ? LAPIC_DISABLED : extd ? LAPIC_X2APIC : LAPIC_XAPIC;
	u32 id = apic_id(l);

	if ((val & ~flags) != LAPIC_MMIO_BASE)
		return false;          /* a reserved bit, or another address */
	if ((!en && extd) || !valid_move(l->mode, to))
		return false;          /* the invalid state, an invalid move */
	if (to == l->mode)
		return true;
	if (to == LAPIC_X2APIC)
		*reg(l, LAPIC_ID) = id;    /* the 32-bit x2APIC ID (§11.12.5.1) */
	else
		reset(l, id);              /* disabled, or xAPIC coming from it */
	l->mode = to;
	return true;
}
