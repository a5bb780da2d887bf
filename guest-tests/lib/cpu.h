/* cpu.h - CPU instructions the tests use: RDTSC, CPUID, halting. */
#ifndef GUEST_CPU_H
#define GUEST_CPU_H

#include "types.h"

struct cpuid_regs {
    u32 eax, ebx, ecx, edx;
};

/* TSC saved by crt0 before anything else ran (see crt0.asm). */
extern volatile u64 boot_tsc;

/* Read the time-stamp counter (not serializing; good enough for ticks). */
static inline u64 rdtsc(void)
{
    u32 lo, hi;
    __asm__ volatile("rdtsc" : "=a"(lo), "=d"(hi));
    return ((u64)hi << 32) | lo;
}

/* Execute CPUID for leaf/subleaf; under uhv this always exits. */
static inline struct cpuid_regs cpuid(u32 leaf, u32 subleaf)
{
    struct cpuid_regs r;
    __asm__ volatile("cpuid"
                     : "=a"(r.eax), "=b"(r.ebx), "=c"(r.ecx), "=d"(r.edx)
                     : "a"(leaf), "c"(subleaf));
    return r;
}

/* Stop this CPU for good: interrupts off, HLT in a loop. */
static inline __attribute__((noreturn)) void halt_forever(void)
{
    for (;;)
        __asm__ volatile("cli; hlt");
}

#endif
