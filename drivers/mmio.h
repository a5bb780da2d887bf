/*
 * Device registers in memory space, and the bounded waits of uhv's
 * polled drivers (uhv takes no interrupts: every wait for a device is a
 * loop on a register with a deadline on the TSC).
 *
 * uhv's core is not told the TSC rate here, so waits assume a TSC of at
 * most 4 GHz: on a slower TSC they last longer, never shorter.
 */
#ifndef UHV_DRIVERS_MMIO_H
#define UHV_DRIVERS_MMIO_H

#include "lib/types.h"
#include "arch/x86/cpu.h"

#define MMIO_TSC_PER_MS_MAX 4000000ULL

static inline u32 mmio_read32(volatile u8 *base, u32 off)
{
	u32 v = *(volatile u32 *)(base + off);

	__asm__ volatile("" ::: "memory");
	return v;
}

/* The compiler barrier orders the normal stores that built a command
   before the MMIO store that issues it; x86 keeps them in order too. */
static inline void mmio_write32(volatile u8 *base, u32 off, u32 v)
{
	__asm__ volatile("" ::: "memory");
	*(volatile u32 *)(base + off) = v;
}

static inline void mmio_relax(void)
{
	__asm__ volatile("pause" ::: "memory");
}

/* The TSC value ms milliseconds from now (at most). */
static inline u64 mmio_deadline(u64 ms)
{
	return rdtsc() + ms * MMIO_TSC_PER_MS_MAX;
}

static inline bool mmio_expired(u64 when)
{
	return (s64)(rdtsc() - when) > 0;
}

static inline void mmio_delay_ms(u64 ms)
{
	u64 when = mmio_deadline(ms);

	while (!mmio_expired(when))
		mmio_relax();
}

/* Waits until (register & mask) == want; false on timeout (one last
   look after the deadline, so a slow emulator is not cut short). */
static inline bool mmio_wait32(volatile u8 *base, u32 off, u32 mask, u32 want,
			       u64 ms)
{
	u64 when = mmio_deadline(ms);

	for (;;) {
		if ((mmio_read32(base, off) & mask) == want)
			return true;
		if (mmio_expired(when))
			return (mmio_read32(base, off) & mask) == want;
		mmio_relax();
	}
}

#endif
