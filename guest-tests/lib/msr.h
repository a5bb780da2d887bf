/* msr.h - RDMSR/WRMSR for guest tests, plainly or with a #GP caught.
 * Each is a VM exit under uhv, which answers an MSR it refuses with #GP
 * (as a CPU without that MSR does, SDM Vol. 2B RDMSR/WRMSR). */
#ifndef GUEST_MSR_H
#define GUEST_MSR_H

#include "types.h"

/* Read MSR msr (a #GP here is fatal: intr_init's default handler). */
static inline u64 rdmsr(u32 msr)
{
    u32 lo, hi;
    __asm__ volatile("rdmsr" : "=a"(lo), "=d"(hi) : "c"(msr) : "memory");
    return ((u64)hi << 32) | lo;
}

/* Write MSR msr. */
static inline void wrmsr(u32 msr, u64 v)
{
    __asm__ volatile("wrmsr" : : "c"(msr), "a"((u32)v), "d"((u32)(v >> 32))
                     : "memory");
}

/* Like rdmsr/wrmsr, but a #GP is caught: false if the instruction
 * faulted (then *v is 0).  Need intr_init first; install a #GP handler of
 * their own for the duration of the call. */
bool rdmsr_safe(u32 msr, u64 *v);
bool wrmsr_safe(u32 msr, u64 v);

#endif
