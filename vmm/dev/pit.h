/*
 * An Intel 8254 programmable interval timer (ports 0x40-0x43) and the
 * port 0x61 gate/status bits. Channel 0 drives IRQ 0 (IOAPIC pin 2 by the
 * MADT's override), which an OS uses to check its interrupt routing and,
 * without a known TSC rate, to calibrate; channel 2's output is readable
 * through port 0x61 bit 5 for the same reason. Counts at 1.193182 MHz,
 * derived from the TSC through ops->now and tsc_hz.
 */
#ifndef UHV_VMM_PIT_H
#define UHV_VMM_PIT_H

#include "lib/types.h"

#define PIT_PORT_BASE   0x40
#define PIT_PORT_LEN    4
#define PIT_GATE_PORT   0x61
#define PIT_HZ          1193182ULL
#define PIT_NO_DEADLINE (~0ULL)

struct pit_channel {
	u8 mode;             /* 0-5 */
	u8 access;           /* 1 lobyte, 2 hibyte, 3 lobyte then hibyte */
	bool write_hi;       /* next write of a 16-bit access is the high byte */
	bool read_hi;
	bool latched;
	u16 latch;
	u32 reload;          /* 1..65536 */
	u64 start;           /* TSC when counting began */
	bool armed;
};

struct pit_ops {
	u64 (*now)(void *ctx);
	void (*irq0)(void *ctx);          /* a pulse on IRQ 0 */
};

struct pit {
	struct pit_channel ch[3];
	u8 port61;           /* bit 0 gate of channel 2, bit 1 speaker */
	u64 tsc_hz;
	u64 next_irq;        /* TSC of channel 0's next interrupt */
	u64 irqs;            /* statistics */
	const struct pit_ops *ops;
	void *ctx;
};

void pit_init(struct pit *p, u64 tsc_hz, const struct pit_ops *ops, void *ctx);
/* Raises IRQ 0 if channel 0's time has come. */
void pit_tick(struct pit *p);
u64 pit_next_deadline(const struct pit *p);
u64 pit_read(void *dev, u64 off, unsigned size);
void pit_write(void *dev, u64 off, unsigned size, u64 val);
u64 pit_gate_read(void *dev, u64 off, unsigned size);
void pit_gate_write(void *dev, u64 off, unsigned size, u64 val);

#endif
