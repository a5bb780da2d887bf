/* exitloop - a steady stream of VM exits for the exit trace's tests
 * (tests/system/trace.sh).  Each round does one CPUID (leaf 1) and prints
 * "exitloop K" (an IN of the UART's LSR and an OUT per byte), then spins
 * period=N TSC ticks; rounds=N rounds (default 0: until it is stopped),
 * then it passes.  The test finds the CPUID, IN and OUT instructions in
 * this ELF (objdump) and checks that the trace's records name exactly
 * their addresses as RIP. */
#include "guest.h"

#define NAME "exitloop"
#define PERIOD_DEFAULT 20000000ull      /* ticks between rounds */
#define LEAF           CPUID_LEAF_FEATURES

/* See the file comment. */
void guest_main(u32 magic, const struct mb_info *mbi)
{
    require_multiboot(NAME, magic);
    const char *cmd = mb_cmdline(mbi);
    u64 period = cmdline_u64(cmd, "period", PERIOD_DEFAULT);
    u64 rounds = cmdline_u64(cmd, "rounds", 0);

    for (u64 k = 1; !rounds || k <= rounds; k++) {
        u32 ecx = cpuid(LEAF, 0).ecx;
        gprintf("exitloop %llu ecx 0x%x\n", k, ecx);
        u64 start = rdtsc();
        while (rdtsc() - start < period)
            ;
    }
    pass(NAME);
}
