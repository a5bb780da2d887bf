/* tsc.c - TSC rate from CPUID and busy waits (see tsc.h). */
#include "tsc.h"
#include "abi.h"
#include "cpu.h"
#include "util.h"

#define HZ_PER_KHZ 1000u

/* See tsc.h.  Leaf 0x15 exists only if leaf 0's EAX reaches it. */
u64 tsc_hz_leaf15(void)
{
    if (cpuid(0, 0).eax < CPUID_LEAF_TSC)
        return 0;
    struct cpuid_regs r = cpuid(CPUID_LEAF_TSC, 0);
    if (!r.eax || !r.ebx || !r.ecx)
        return 0;
    return udiv64((u64)r.ecx * r.ebx, r.eax, NULL);
}

/* See tsc.h.  The leaf exists only below the hypervisor's highest leaf. */
u64 tsc_hz_hv_leaf(void)
{
    if (!(cpuid(CPUID_LEAF_FEATURES, 0).ecx & CPUID_ECX_HYPERVISOR) ||
        cpuid(CPUID_LEAF_HV_BASE, 0).eax < CPUID_LEAF_HV_TIMING)
        return 0;
    return (u64)cpuid(CPUID_LEAF_HV_TIMING, 0).eax * HZ_PER_KHZ;
}

/* See tsc.h.  PAUSE keeps the loop polite on a real CPU. */
void tsc_spin_until(u64 t)
{
    while (rdtsc() < t)
        __asm__ volatile("pause");
}

/* See tsc.h.  A gap may end the wait: it is tested before the deadline. */
bool tsc_hold(u64 hold, u64 gap, u64 *elapsed)
{
    u64 t0 = rdtsc(), prev = t0, now;
    bool preempted = false;

    do {
        now = rdtsc();
        preempted |= now - prev > gap;
        prev = now;
    } while (now - t0 < hold);
    if (elapsed)
        *elapsed = now - t0;
    return preempted;
}
