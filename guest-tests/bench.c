/* bench - cost figures for uhv.  Times 10,000 iterations of a loop around
 * CPUID leaf 0 (an unconditional VM exit) and of the same loop with CPUID
 * replaced by XORs that do not exit; the difference per iteration is the
 * exit round trip.  Also prints the TSC crt0 saved at entry, to set
 * against uhv's own entry TSC for the boot cost.  Always passes.
 * Output: "BENCH <key> <decimal value>". */
#include "guest.h"

#define NAME "bench"
#define ITERATIONS 10000u

/* TSC ticks for iters rounds of: zero EAX/ECX; CPUID. */
static u64 time_cpuid_loop(u32 iters)
{
    u64 t0 = rdtsc();
    __asm__ volatile("1: xorl %%eax, %%eax\n\t"
                     "xorl %%ecx, %%ecx\n\t"
                     "cpuid\n\t"
                     "decl %0\n\t"
                     "jnz 1b"
                     : "+S"(iters) : : "eax", "ebx", "ecx", "edx", "memory");
    return rdtsc() - t0;
}

/* TSC ticks for iters rounds of the same loop, CPUID swapped for two XORs
 * that write what CPUID would (EBX, EDX) without leaving the guest. */
static u64 time_empty_loop(u32 iters)
{
    u64 t0 = rdtsc();
    __asm__ volatile("1: xorl %%eax, %%eax\n\t"
                     "xorl %%ecx, %%ecx\n\t"
                     "xorl %%ebx, %%ebx\n\t"
                     "xorl %%edx, %%edx\n\t"
                     "decl %0\n\t"
                     "jnz 1b"
                     : "+S"(iters) : : "eax", "ebx", "ecx", "edx", "memory");
    return rdtsc() - t0;
}

/* See the file comment. */
void guest_main(u32 magic, const struct mb_info *mbi)
{
    (void)mbi;
    u64 first = boot_tsc;
    require_multiboot(NAME, magic);
    u64 with = time_cpuid_loop(ITERATIONS);
    u64 without = time_empty_loop(ITERATIONS);
    u64 cost = with > without ? udiv64(with - without, ITERATIONS, NULL) : 0;
    gprintf("BENCH first_guest_tsc %llu\n", first);
    gprintf("BENCH cpuid_loop_ticks %llu\n", with);
    gprintf("BENCH empty_loop_ticks %llu\n", without);
    gprintf("BENCH cpuid_exit_cost %llu\n", cost);
    pass(NAME);
}
