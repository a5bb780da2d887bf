/*
 * The TSC's rate: what the CPU says (CPUID leaves 0x15 and 0x16, SDM
 * Vol. 2A) checked against a measurement, so that a CPU or emulator that
 * states a wrong rate does not become every guest's clock drift. Pure C:
 * the loader measures, this decides, and host unit tests check it.
 */
#ifndef UHV_LIB_TSC_RATE_H
#define UHV_LIB_TSC_RATE_H

#include "lib/types.h"

/* The rate CPUID states, in Hz, or 0: leaf 0x15 (crystal Hz in ECX
   times EBX/EAX) where it is complete, else leaf 0x16's base MHz. l15
   and l16 are EAX..EDX, zeros where the CPU lacks the leaf. */
u64 tsc_cpuid_hz(const u32 l15[4], const u32 l16[4]);

/* How far (in parts per million) a stated rate may be from a measured
   one and still be taken: the measurement's own error is larger. */
#define TSC_AGREE_PPM 5000

/* The rate to use: stated where a measurement confirms it (within
   TSC_AGREE_PPM), else measured. *stated_used says which. */
u64 tsc_pick(u64 stated, u64 measured, bool *stated_used);

/* A rate from two counters read at the same two moments: dtsc TSC ticks
   while a reference counting at ref_hz advanced dref ticks. */
u64 tsc_from_reference(u64 dtsc, u64 dref, u64 ref_hz);

#endif
