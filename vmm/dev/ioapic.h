/*
 * A virtual I/O APIC (Intel 82093AA datasheet): 24 redirection entries
 * behind an index/data register pair at 0xFEC00000. Devices raise and
 * lower pins; unmasked pins become interrupts for a local APIC through
 * ops->deliver. Level-triggered pins keep Remote IRR set until the local
 * APIC's EOI for their vector comes back (ioapic_eoi).
 */
#ifndef UHV_VMM_IOAPIC_H
#define UHV_VMM_IOAPIC_H

#include "lib/types.h"

#define IOAPIC_MMIO_BASE 0xfec00000ULL
#define IOAPIC_MMIO_SIZE 0x1000ULL
#define IOAPIC_PINS      24

struct ioapic_ops {
	/* dest: an APIC id, or with logical set a logical-destination mask */
	void (*deliver)(void *ctx, u8 vector, bool level, u8 dest, bool logical);
	void (*error)(void *ctx, const char *what, u32 value);
};

struct ioapic {
	u32 index;                   /* IOREGSEL */
	u32 id;
	u64 redir[IOAPIC_PINS];
	u32 asserted;                /* one bit per pin: the line is high */
	u64 delivered;               /* statistics */
	const struct ioapic_ops *ops;
	void *ctx;
};

void ioapic_init(struct ioapic *io, const struct ioapic_ops *ops, void *ctx);
/* A device drives pin to level (true = asserted). */
void ioapic_set_irq(struct ioapic *io, unsigned pin, bool level);
/* The local APIC retired vector, which was level-triggered. */
void ioapic_eoi(struct ioapic *io, u8 vector);
u64 ioapic_mmio_read(void *dev, u64 off, unsigned size);
void ioapic_mmio_write(void *dev, u64 off, unsigned size, u64 val);

#endif
