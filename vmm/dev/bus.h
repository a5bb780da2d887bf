/*
 * An address bus: where port I/O and MMIO handlers register by address
 * range, in one place per VM (as kvmtool's mmio.c and ioport.c do). The
 * same structure serves the 16-bit port space and the guest-physical MMIO
 * space. Accesses that hit no device read as all ones and writes vanish,
 * as on a real bus with nothing there; they are counted.
 */
#ifndef UHV_VMM_BUS_H
#define UHV_VMM_BUS_H

#include "lib/types.h"

#define BUS_MAX_DEVICES 16

struct bus_device {
	const char *name;
	u64 base, len;
	/* off is relative to base; size is 1, 2, 4 or 8 bytes */
	u64 (*read)(void *dev, u64 off, unsigned size);
	void (*write)(void *dev, u64 off, unsigned size, u64 val);
	void *dev;
	u64 accesses;
};

struct bus {
	const char *name;           /* "port" or "mmio", for messages */
	struct bus_device devs[BUS_MAX_DEVICES];
	int nr;
	u64 unclaimed_reads, unclaimed_writes;
};

/* Registers a device; -1 if the range overlaps another or the bus is full. */
int bus_register(struct bus *b, const struct bus_device *d);
/* The device covering [addr, addr+size), or NULL. */
struct bus_device *bus_find(struct bus *b, u64 addr, unsigned size);
u64 bus_read(struct bus *b, u64 addr, unsigned size);
void bus_write(struct bus *b, u64 addr, unsigned size, u64 val);

#endif
