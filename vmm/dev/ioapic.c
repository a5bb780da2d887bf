/*
 * The I/O APIC model (82093AA datasheet §3).
 *
 * A redirection table entry (64 bits, registers 0x10 + 2n and 0x11 + 2n):
 *
 *  63    56 55  17 16   15   14    13   12   11   10:8   7:0
 *  +-------+------+----+----+-----+----+----+----+------+------+
 *  | dest  |  0   |mask|trig|rIRR |pol |stat|dmod| mode |vector|
 *  +-------+------+----+----+-----+----+----+----+------+------+
 */
#include "vmm/dev/ioapic.h"

#define REG_SELECT      0x00         /* MMIO offsets */
#define REG_WINDOW      0x10
#define IOAPIC_REG_ID   0x00         /* indirect registers */
#define IOAPIC_REG_VER  0x01
#define IOAPIC_REG_ARB  0x02
#define IOAPIC_REG_REDIR 0x10
#define IOAPIC_VERSION  (((IOAPIC_PINS - 1) << 16) | 0x11)
#define IOAPIC_ID_MASK  0x0f000000U

#define RTE_VECTOR_MASK 0xffULL
#define RTE_DEST_LOGICAL (1ULL << 11)
#define RTE_REMOTE_IRR  (1ULL << 14)
#define RTE_LEVEL       (1ULL << 15)
#define RTE_MASKED      (1ULL << 16)
#define RTE_DEST_SHIFT  56
#define RTE_WRITABLE    (~(RTE_REMOTE_IRR | (1ULL << 12)))  /* not rIRR, status */

void ioapic_init(struct ioapic *io, const struct ioapic_ops *ops, void *ctx)
{
	*io = (struct ioapic){ .ops = ops, .ctx = ctx };
	for (int i = 0; i < IOAPIC_PINS; i++)
		io->redir[i] = RTE_MASKED;   /* reset state: all masked */
}

/* Delivers pin's interrupt if it is unmasked (and, if level, not in service). */
static void try_deliver(struct ioapic *io, unsigned pin)
{
	u64 *e = &io->redir[pin];

	if (*e & RTE_MASKED)
		return;
	if (*e & RTE_LEVEL) {
		if (*e & RTE_REMOTE_IRR)
			return;
		*e |= RTE_REMOTE_IRR;
	}
	io->delivered++;
	io->ops->deliver(io->ctx, (u8)(*e & RTE_VECTOR_MASK), *e & RTE_LEVEL,
			 (u8)(*e >> RTE_DEST_SHIFT), *e & RTE_DEST_LOGICAL);
}

void ioapic_set_irq(struct ioapic *io, unsigned pin, bool level)
{
	u32 bit;
	bool was;

	if (pin >= IOAPIC_PINS)
		return;
	bit = 1U << pin;
	was = io->asserted & bit;
	io->asserted = level ? io->asserted | bit : io->asserted & ~bit;
	/* edge: the rising edge counts; level: the line being high does */
	if (level && (!was || (io->redir[pin] & RTE_LEVEL)))
		try_deliver(io, pin);
}

void ioapic_eoi(struct ioapic *io, u8 vector)
{
	for (unsigned pin = 0; pin < IOAPIC_PINS; pin++) {
		u64 *e = &io->redir[pin];

		if ((*e & RTE_VECTOR_MASK) != vector || !(*e & RTE_REMOTE_IRR))
			continue;
		*e &= ~RTE_REMOTE_IRR;
		if (io->asserted & (1U << pin))   /* still high: interrupt again */
			try_deliver(io, pin);
	}
}

static u32 read_reg(const struct ioapic *io, u32 index)
{
	unsigned pin = (index - IOAPIC_REG_REDIR) / 2;

	if (index == IOAPIC_REG_ID)
		return io->id;
	if (index == IOAPIC_REG_VER)
		return IOAPIC_VERSION;
	if (index == IOAPIC_REG_ARB)
		return io->id;
	if (index >= IOAPIC_REG_REDIR && pin < IOAPIC_PINS)
		return (u32)(io->redir[pin] >> (index & 1 ? 32 : 0));
	return ~0U;
}

static void write_reg(struct ioapic *io, u32 index, u32 val)
{
	unsigned pin = (index - IOAPIC_REG_REDIR) / 2;
	u64 *e, keep;

	if (index == IOAPIC_REG_ID) {
		io->id = val & IOAPIC_ID_MASK;
		return;
	}
	if (index < IOAPIC_REG_REDIR || pin >= IOAPIC_PINS) {
		io->ops->error(io->ctx, "write to a read-only or missing IOAPIC "
			       "register", index);
		return;
	}
	e = &io->redir[pin];
	keep = *e & ~RTE_WRITABLE;
	if (index & 1)
		*e = ((*e & 0xffffffffULL) | ((u64)val << 32));
	else
		*e = ((*e & ~0xffffffffULL) | val);
	*e = (*e & RTE_WRITABLE) | keep;
	/* unmasking a level pin that is still high delivers it now */
	if ((io->asserted & (1U << pin)) && (*e & RTE_LEVEL))
		try_deliver(io, pin);
}

u64 ioapic_mmio_read(void *dev, u64 off, unsigned size)
{
	struct ioapic *io = dev;

	if (size != 4)
		return ~0ULL;
	if (off == REG_SELECT)
		return io->index;
	if (off == REG_WINDOW)
		return read_reg(io, io->index);
	return ~0ULL;
}

void ioapic_mmio_write(void *dev, u64 off, unsigned size, u64 val)
{
	struct ioapic *io = dev;

	if (size != 4) {
		io->ops->error(io->ctx, "IOAPIC access not 32-bit", (u32)off);
		return;
	}
	if (off == REG_SELECT)
		io->index = (u32)val & 0xff;
	else if (off == REG_WINDOW)
		write_reg(io, io->index, (u32)val);
}
