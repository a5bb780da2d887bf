/* bench - cost figures for uhv.  Times 10,000 iterations of a loop around
 * CPUID leaf 0 (an unconditional VM exit that uhv answers with the real
 * CPUID, filtered), of one around CPUID leaf 0x40000000 (uhv's own leaf,
 * no hardware CPUID), of one around leaf 1 (cached like leaf 0, plus the
 * bits that follow the vCPU's state: APIC id, CR4.OSXSAVE), and of the
 * same loop with CPUID replaced by an XOR
 * that does not exit; the difference per iteration is the exit round trip.  Also prints the TSC crt0 saved at entry, to set
 * against uhv's own entry TSC for the boot cost.  Always passes.
 * Output: "BENCH <key> <decimal value>". */
#include "guest.h"

#define NAME "bench"
#define ITERATIONS 10000u
#define LEAF_FEATURES 1u

/* TSC ticks for iters rounds of: EAX = leaf; zero ECX; CPUID. */
static u64 time_cpuid_loop(u32 iters, u32 leaf)
{
    u64 t0 = rdtsc();
    __asm__ volatile("1: movl %1, %%eax\n\t"
                     "xorl %%ecx, %%ecx\n\t"
                     "cpuid\n\t"
                     "decl %0\n\t"
                     "jnz 1b"
                     : "+S"(iters) : "D"(leaf) : "eax", "ebx", "ecx", "edx", "memory");
    return rdtsc() - t0;
}

/* TSC ticks for iters rounds of the same loop with CPUID swapped for one
 * XOR that does not leave the guest: instruction for instruction the same
 * (under Bochs one tick is one instruction), so the difference per round
 * is exactly what uhv executes per CPUID exit. */
static u64 time_empty_loop(u32 iters)
{
    u64 t0 = rdtsc();
    __asm__ volatile("1: movl $0, %%eax\n\t"
                     "xorl %%ecx, %%ecx\n\t"
                     "xorl %%ebx, %%ebx\n\t"
                     "decl %0\n\t"
                     "jnz 1b"
                     : "+S"(iters) : : "eax", "ebx", "ecx", "edx", "memory");
    return rdtsc() - t0;
}

static u64 per_round(u64 with, u64 without)
{
    return with > without ? udiv64(with - without, ITERATIONS, NULL) : 0;
}

/* See the file comment. */
void guest_main(u32 magic, const struct mb_info *mbi)
{
    (void)mbi;
    u64 first = boot_tsc;
    require_multiboot(NAME, magic);
    u64 with = time_cpuid_loop(ITERATIONS, 0);
    u64 with_hv = time_cpuid_loop(ITERATIONS, 0x40000000u);
    u64 with_1 = time_cpuid_loop(ITERATIONS, LEAF_FEATURES);
    u64 without = time_empty_loop(ITERATIONS);
    gprintf("BENCH first_guest_tsc %llu\n", first);
    gprintf("BENCH cpuid_loop_ticks %llu\n", with);
    gprintf("BENCH empty_loop_ticks %llu\n", without);
    gprintf("BENCH cpuid_hv_loop_ticks %llu\n", with_hv);
    gprintf("BENCH cpuid_exit_cost %llu\n", per_round(with, without));
    gprintf("BENCH cpuid_hv_exit_cost %llu\n", per_round(with_hv, without));
    gprintf("BENCH cpuid1_loop_ticks %llu\n", with_1);
    gprintf("BENCH cpuid1_exit_cost %llu\n", per_round(with_1, without));
    pass(NAME);
}
