/*
 * The ACPI PM register block (ACPI 6.x §4.8.3). Accesses of any size at
 * any offset are taken byte by byte and applied to the registers they
 * touch, so a guest that reads PM1_EVT as one 32-bit word, or writes the
 * high byte of PM1_CNT alone, sees what real chipsets give. Nothing a
 * guest writes stops anything except the documented S5 power-off.
 */
#include "vmm/dev/acpi_pm.h"

#define BYTE_BITS 8
#define BYTE_MASK 0xffULL
#define HOLE_BYTE 0xff             /* a byte no register covers */

/* The bit that TMR_STS follows: bit 23 of a 24-bit timer (§4.8.3.3). */
#define TMR_STS_SHIFT (ACPI_PM_TIMER_BITS - 1)

/* Bits that exist in each register; the rest are reserved, read as 0
   (a status bit is only ever set by this file, so only those are kept). */
#define STS_BITS (ACPI_PM1_TMR_STS | ACPI_PM1_BM_STS | ACPI_PM1_GBL_STS | \
		  ACPI_PM1_PWRBTN_STS | ACPI_PM1_SLPBTN_STS | ACPI_PM1_RTC_STS | \
		  ACPI_PM1_PCIEXP_WAKE_STS | ACPI_PM1_WAK_STS)
#define EN_BITS  (ACPI_PM1_TMR_EN | ACPI_PM1_GBL_EN | ACPI_PM1_PWRBTN_EN | \
		  ACPI_PM1_SLPBTN_EN | ACPI_PM1_RTC_EN | ACPI_PM1_PCIEXP_WAKE_DIS)
/* GBL_RLS and SLP_EN are write-only (read as 0); SCI_EN is wired to 1. */
#define CNT_KEPT (ACPI_PM1_BM_RLD | ACPI_PM1_SLP_TYP_MASK)

enum pm_reg { REG_STS, REG_EN, REG_CNT, REG_TMR, NR_REGS };

static const struct { u8 off, len; } regs[NR_REGS] = {
	[REG_STS] = { ACPI_PM1_STS_OFF, ACPI_PM1_EVT_LEN / 2 },
	[REG_EN]  = { ACPI_PM1_EN_OFF,  ACPI_PM1_EVT_LEN / 2 },
	[REG_CNT] = { ACPI_PM1_CNT_OFF, ACPI_PM1_CNT_LEN },
	[REG_TMR] = { ACPI_PM_TMR_OFF,  ACPI_PM_TMR_LEN },
};

int acpi_pm_init(struct acpi_pm *pm, const struct acpi_pm_ops *ops,
		 void *ctx, u64 tick_hz)
{
	if (!ops || !ops->ticks || !tick_hz || tick_hz > ACPI_PM_MAX_TICK_HZ)
		return -1;
	*pm = (struct acpi_pm){ .ops = ops, .ctx = ctx, .tick_hz = tick_hz };
	pm->start = ops->ticks(ctx);
	return 0;
}

/*
 * Timer counts since init, unwrapped: elapsed ticks split into whole
 * seconds q and a remainder r < tick_hz, so that r * 3579545 stays below
 * 2^64 (tick_hz <= ACPI_PM_MAX_TICK_HZ) and no 128-bit product is needed.
 * Exact (floor of elapsed * 3579545 / tick_hz) while q * 3579545 < 2^64,
 * i.e. for 163,000 years; past that it wraps mod 2^64, which keeps the
 * low 24 bits (what the guest sees) exact anyway.
 */
static u64 timer_count(const struct acpi_pm *pm)
{
	u64 elapsed = pm->ops->ticks(pm->ctx) - pm->start;  /* wraps safely */
	u64 q = elapsed / pm->tick_hz, r = elapsed % pm->tick_hz;

	return q * ACPI_PM_TIMER_HZ + r * ACPI_PM_TIMER_HZ / pm->tick_hz;
}

u32 acpi_pm_timer(const struct acpi_pm *pm)
{
	return (u32)(timer_count(pm) & ACPI_PM_TIMER_MASK);
}

/* True if [off, off+size) touches register r. */
static bool touches(u64 off, unsigned size, enum pm_reg r)
{
	return off < (u64)regs[r].off + regs[r].len && regs[r].off < off + size;
}

/* TMR_STS is set whenever timer bit 23 has flipped (§4.8.3.3). Only an
   access to PM1_STS can tell, so it is brought up to date then, from how
   often bit 23 has flipped since the last look: timer reads stay cheap. */
static void update_tmr_sts(struct acpi_pm *pm, u64 off, unsigned size)
{
	u64 epoch;

	if (!touches(off, size, REG_STS))
		return;
	epoch = timer_count(pm) >> TMR_STS_SHIFT;
	if (epoch != pm->tmr_epoch)
		pm->sts |= ACPI_PM1_TMR_STS;
	pm->tmr_epoch = epoch;
}

static u64 reg_value(const struct acpi_pm *pm, enum pm_reg r)
{
	switch (r) {
	case REG_STS: return pm->sts;
	case REG_EN:  return pm->en;
	case REG_CNT: return pm->cnt | ACPI_PM1_SCI_EN;   /* no SMI_CMD */
	default:      return acpi_pm_timer(pm);
	}
}

/* The register holding byte `off` of the block, or NR_REGS (the hole). */
static enum pm_reg reg_at(u64 off)
{
	for (int r = 0; r < NR_REGS; r++)
		if (off >= regs[r].off && off < (u64)regs[r].off + regs[r].len)
			return (enum pm_reg)r;
	return NR_REGS;
}

u64 acpi_pm_read(void *dev, u64 off, unsigned size)
{
	struct acpi_pm *pm = dev;
	u64 val[NR_REGS] = { 0 }, v = 0;

	update_tmr_sts(pm, off, size);
	for (int r = 0; r < NR_REGS; r++)     /* each once: one clock read */
		if (touches(off, size, (enum pm_reg)r))
			val[r] = reg_value(pm, (enum pm_reg)r);
	for (unsigned i = 0; i < size; i++) {
		u64 b = off + i;
		enum pm_reg r = reg_at(b);
		u64 byte = r == NR_REGS ? HOLE_BYTE :
			   val[r] >> (BYTE_BITS * (b - regs[r].off));

		v |= (byte & BYTE_MASK) << (BYTE_BITS * i);
	}
	return v;
}

/* SLP_EN with SLP_TYP (§4.8.3.2.1, §7.4.2): S5 powers off; any other
   type is refused, and WAK_STS is set as though the guest had slept and
   woken at once, so a guest polling WAK_STS (Linux does) carries on. */
static void enter_sleep(struct acpi_pm *pm)
{
	unsigned typ = (unsigned)((pm->cnt & ACPI_PM1_SLP_TYP_MASK) >>
				  ACPI_PM1_SLP_TYP_SHIFT);

	if (typ == ACPI_SLP_TYP_S5) {
		pm->off = true;
		if (pm->ops->poweroff)
			pm->ops->poweroff(pm->ctx);
		return;
	}
	pm->sts |= ACPI_PM1_WAK_STS;
	if (pm->ops->sleep_unsupported)
		pm->ops->sleep_unsupported(pm->ctx, typ);
}

/* Fixed events that raise the SCI when enabled (§4.8.3.1); the timer's
   carry (TMR_STS) is left out: uhv sets it lazily, when read. */
#define SCI_EVENTS (ACPI_PM1_PWRBTN_STS | ACPI_PM1_SLPBTN_STS | \
		    ACPI_PM1_RTC_STS)

/* Drives the SCI line from the status and enable bits. */
static void update_sci(struct acpi_pm *pm)
{
	bool level = (pm->sts & pm->en & SCI_EVENTS) != 0;

	if (level == pm->sci)
		return;
	pm->sci = level;
	if (pm->ops->sci)
		pm->ops->sci(pm->ctx, level);
}

void acpi_pm_power_button(struct acpi_pm *pm)
{
	if (pm->off)
		return;
	pm->sts |= ACPI_PM1_PWRBTN_STS;
	update_sci(pm);
}

/* Applies the bytes of r selected by mask (register-relative) from val. */
static void reg_write(struct acpi_pm *pm, enum pm_reg r, u64 val, u64 mask)
{
	val &= mask;
	switch (r) {
	case REG_STS:
		pm->sts &= (u16)~(val & STS_BITS);           /* write 1 to clear */
		break;
	case REG_EN:
		pm->en = (u16)((pm->en & ~mask) | (val & EN_BITS));
		break;
	case REG_CNT:
		pm->cnt = (u16)((pm->cnt & ~mask) | (val & CNT_KEPT));
		if (val & ACPI_PM1_SLP_EN)
			enter_sleep(pm);
		break;
	default:
		break;                                       /* PM_TMR: read-only */
	}
}

void acpi_pm_write(void *dev, u64 off, unsigned size, u64 val)
{
	struct acpi_pm *pm = dev;

	if (pm->off)
		return;
	update_tmr_sts(pm, off, size);
	for (int r = 0; r < NR_REGS; r++) {
		u64 rv = 0, mask = 0;

		if (!touches(off, size, (enum pm_reg)r))
			continue;
		for (unsigned i = 0; i < size; i++) {
			u64 b = off + i, shift;

			if (reg_at(b) != (enum pm_reg)r)
				continue;
			shift = BYTE_BITS * (b - regs[r].off);
			rv |= ((val >> (BYTE_BITS * i)) & BYTE_MASK) << shift;
			mask |= BYTE_MASK << shift;
		}
		if (mask)
			reg_write(pm, (enum pm_reg)r, rv, mask);
	}
	update_sci(pm);
}
