/* tsc.h - the TSC's rate as the hypervisor reports it, and busy waits.
 * uhv gives the rate in CPUID leaf 0x15 (TSC = crystal * EBX / EAX, with
 * EAX = EBX = 1 and the crystal in ECX, SDM Vol. 3B §18.7.3) and in kHz in
 * leaf 0x40000010 EAX (the "timing" leaf other hypervisors also use). */
#ifndef GUEST_TSC_H
#define GUEST_TSC_H

#include "types.h"

#define CPUID_LEAF_TSC        0x15u
#define CPUID_LEAF_HV_TIMING  0x40000010u

/* TSC ticks per second from leaf 0x15, or 0 if the leaf gives none. */
u64 tsc_hz_leaf15(void);
/* TSC ticks per second from leaf 0x40000010 (kHz * 1000), or 0. */
u64 tsc_hz_hv_leaf(void);
/* Spin (interrupts as they are) until the TSC reaches t. */
void tsc_spin_until(u64 t);
/* Spin hold ticks; true if the TSC jumped by more than gap between two
   reads meanwhile: the CPU ran something else (another VM, on one CPU).
   *elapsed (if not NULL) gets the ticks actually spun. */
bool tsc_hold(u64 hold, u64 gap, u64 *elapsed);

#endif
