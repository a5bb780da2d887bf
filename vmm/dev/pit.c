/*
 * The 8254 model (Intel 8254 datasheet). A control word at port 0x43:
 *
 *    7:6    5:4     3:1    0
 *  +-----+-------+------+---+
 *  | sel |access | mode |BCD|    sel 3 = read-back, access 0 = latch
 *  +-----+-------+------+---+
 *
 * Counters are not stepped: the count is computed from the TSC when read,
 * and channel 0's next interrupt is a deadline the scheduler honours.
 */
#include "vmm/dev/pit.h"

#define CTRL_PORT        3
#define CTRL_SEL_SHIFT   6
#define CTRL_SEL_READBACK 3
#define CTRL_ACCESS_SHIFT 4
#define CTRL_ACCESS_LATCH 0
#define CTRL_MODE_SHIFT  1
#define CTRL_MODE_MASK   7
#define GATE2            0x01
#define OUT2             0x20
#define PORT61_WRITABLE  0x0f

void pit_init(struct pit *p, u64 tsc_hz, const struct pit_ops *ops, void *ctx)
{
	*p = (struct pit){ .tsc_hz = tsc_hz ? tsc_hz : PIT_HZ, .ops = ops,
			   .ctx = ctx, .next_irq = PIT_NO_DEADLINE };
}

/* PIT ticks since the channel was loaded. */
static u64 elapsed(const struct pit *p, const struct pit_channel *c)
{
	u64 d = p->ops->now(p->ctx) - c->start;

	/* d * PIT_HZ / tsc_hz without overflow for d < 2^64 / 2^21 */
	return (d / p->tsc_hz) * PIT_HZ + (d % p->tsc_hz) * PIT_HZ / p->tsc_hz;
}

static u64 ticks_to_tsc(const struct pit *p, u64 ticks)
{
	return (ticks / PIT_HZ) * p->tsc_hz + (ticks % PIT_HZ) * p->tsc_hz / PIT_HZ;
}

static bool periodic(const struct pit_channel *c)
{
	return (c->mode & 3) == 2 || (c->mode & 3) == 3;  /* modes 2, 3, 6, 7 */
}

static u16 count(const struct pit *p, const struct pit_channel *c)
{
	u64 e;

	if (!c->armed)
		return 0;
	e = elapsed(p, c);
	if (periodic(c))
		return (u16)(c->reload - e % c->reload);
	return e >= c->reload ? (u16)(0x10000 - (e - c->reload) % 0x10000)
			      : (u16)(c->reload - e);
}

static bool out(const struct pit *p, const struct pit_channel *c)
{
	u64 e;

	if (!c->armed)
		return false;
	e = elapsed(p, c);
	if (c->mode == 0)
		return e >= c->reload;            /* goes high at terminal count */
	if ((c->mode & 3) == 3)
		return e % c->reload < (c->reload + 1) / 2;   /* square wave */
	return true;
}

static void load(struct pit *p, int n, u32 value)
{
	struct pit_channel *c = &p->ch[n];

	c->reload = value ? value : 0x10000;
	c->start = p->ops->now(p->ctx);
	c->armed = true;
	if (n == 0)
		p->next_irq = c->start + ticks_to_tsc(p, c->reload);
}

void pit_tick(struct pit *p)
{
	struct pit_channel *c = &p->ch[0];
	u64 now = p->ops->now(p->ctx);

	if (p->next_irq == PIT_NO_DEADLINE || now < p->next_irq)
		return;
	p->irqs++;
	p->ops->irq0(p->ctx);
	if (periodic(c)) {
		u64 per = ticks_to_tsc(p, c->reload);

		per = per ? per : 1;
		p->next_irq += ((now - p->next_irq) / per + 1) * per;
	} else {
		p->next_irq = PIT_NO_DEADLINE;
	}
}

u64 pit_next_deadline(const struct pit *p)
{
	return p->next_irq;
}

static void control(struct pit *p, u8 v)
{
	unsigned sel = v >> CTRL_SEL_SHIFT;
	unsigned access = (v >> CTRL_ACCESS_SHIFT) & 3;
	struct pit_channel *c;

	if (sel == CTRL_SEL_READBACK) {           /* latch the selected counts */
		for (int n = 0; n < 3; n++)
			if (!(v & 0x20) && (v & (2 << n))) {
				p->ch[n].latch = count(p, &p->ch[n]);
				p->ch[n].latched = true;
			}
		return;
	}
	c = &p->ch[sel];
	if (access == CTRL_ACCESS_LATCH) {
		c->latch = count(p, c);
		c->latched = true;
		return;
	}
	c->access = (u8)access;
	c->mode = (v >> CTRL_MODE_SHIFT) & CTRL_MODE_MASK;
	c->write_hi = c->read_hi = c->latched = false;
	c->armed = false;
	if (sel == 0)
		p->next_irq = PIT_NO_DEADLINE;
}

static void write_count(struct pit *p, int n, u8 v)
{
	struct pit_channel *c = &p->ch[n];

	switch (c->access) {
	case 1: load(p, n, v); break;
	case 2: load(p, n, (u32)v << 8); break;
	default:
		if (!c->write_hi) {
			c->latch = v;             /* hold the low byte */
			c->write_hi = true;
		} else {
			c->write_hi = false;
			load(p, n, c->latch | ((u32)v << 8));
		}
	}
}

static u8 read_count(struct pit *p, int n)
{
	struct pit_channel *c = &p->ch[n];
	u16 v = c->latched ? c->latch : count(p, c);
	bool hi = c->access == 2 || (c->access == 3 && c->read_hi);

	if (c->access == 3)
		c->read_hi = !c->read_hi;
	if (c->access != 3 || !c->read_hi)
		c->latched = false;               /* the latch is read out */
	return hi ? (u8)(v >> 8) : (u8)v;
}

u64 pit_read(void *dev, u64 off, unsigned size)
{
	(void)size;
	return off < CTRL_PORT ? read_count(dev, (int)off) : 0xff;
}

void pit_write(void *dev, u64 off, unsigned size, u64 val)
{
	(void)size;
	if (off == CTRL_PORT)
		control(dev, (u8)val);
	else
		write_count(dev, (int)off, (u8)val);
}

u64 pit_gate_read(void *dev, u64 off, unsigned size)
{
	struct pit *p = dev;

	(void)off;
	(void)size;
	return (p->port61 & PORT61_WRITABLE) |
	       ((p->port61 & GATE2) && out(p, &p->ch[2]) ? OUT2 : 0);
}

void pit_gate_write(void *dev, u64 off, unsigned size, u64 val)
{
	struct pit *p = dev;
	bool gate_rises = !(p->port61 & GATE2) && (val & GATE2);

	(void)off;
	(void)size;
	p->port61 = (u8)val & PORT61_WRITABLE;
	if (gate_rises && p->ch[2].armed)         /* gate restarts channel 2 */
		p->ch[2].start = p->ops->now(p->ctx);
}
