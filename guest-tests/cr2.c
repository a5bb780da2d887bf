/* cr2 - proves uhv keeps each vCPU's CR2 across VM switches.  CR2 holds
 * the last page-fault address; the VMCS guest-state area does not (SDM
 * Vol. 3C §25.4.1: CR0, CR3 and CR4 only), and MOV to CR2 never exits, so
 * a hypervisor that shares a CPU must switch it by hand or a guest whose
 * #PF handler is preempted before it reads CR2 sees another VM's fault
 * address.  This guest writes its own values to CR2 and reads each back
 * hold=N ticks later (default 20000), for ticks=N ticks in all (default
 * 20000000); run two with different seed=N on one CPU, and each is
 * preempted between many a write and its read (a jump of more than
 * GAP_TICKS in the TSC: the other VM ran).  Prints the number of checks;
 * fails at the first value that changed, or if it was never preempted. */
#include "guest.h"

#define NAME "cr2"
#define HOLD_DEFAULT  20000ull
#define GAP_TICKS     10000ull       /* more than uhv handling an exit */
#define TICKS_DEFAULT 20000000ull
#define SEED_DEFAULT  0x5a000000u
#define STEP          0x1000u        /* a page apart, like fault addresses */

static inline void write_cr2(u32 v)
{
    __asm__ volatile("mov %0, %%cr2" ::"r"(v) : "memory");
}

static inline u32 read_cr2(void)
{
    u32 v;
    __asm__ volatile("mov %%cr2, %0" : "=r"(v));
    return v;
}

/* See the file comment. */
void guest_main(u32 magic, const struct mb_info *mbi)
{
    require_multiboot(NAME, magic);
    const char *cmd = mb_cmdline(mbi);
    u64 hold = cmdline_u64(cmd, "hold", HOLD_DEFAULT);
    u64 ticks = cmdline_u64(cmd, "ticks", TICKS_DEFAULT);
    u32 seed = (u32)cmdline_u64(cmd, "seed", SEED_DEFAULT);
    u64 start = rdtsc(), gaps = 0;
    u32 checks = 0;

    gprintf("writing CR2 from 0x%x, each read back %llu ticks later\n", seed,
            hold);
    while (rdtsc() - start < ticks) {
        u32 want = seed + checks * STEP, got;
        u64 held;
        bool preempted;

        write_cr2(want);
        preempted = tsc_hold(hold, GAP_TICKS, &held);
        got = read_cr2();
        gaps += preempted;
        if (got != want)
            fail(NAME, "CR2 read 0x%x, written 0x%x %llu ticks before "
                 "(check %u)", got, want, held, checks);
        checks++;
    }
    gprintf("%u checks, CR2 kept each time; %llu of them across a "
            "preemption\n", checks, gaps);
    if (!gaps)
        fail(NAME, "never preempted between a write and its read: run it "
             "beside another busy VM");
    pass(NAME);
}
