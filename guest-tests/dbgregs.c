/* dbgregs - proves uhv keeps each VM's debug registers across VM
 * switches, and that WBINVD exits instead of running.  DR0-DR3 (breakpoint
 * addresses) are not in the VMCS and MOV to them does not exit, so uhv
 * switches them with the vCPU; DR7 is saved and loaded by the VMCS's debug
 * controls (SDM Vol. 3C §27.3.1, §28.3.1; a VM exit sets DR7 to 400H).
 * This guest writes its own values (from seed=N) to DR0-DR3 and to DR7's
 * condition and length fields (no breakpoint enabled), reads them back
 * hold=N ticks later (default 20000), for ticks=N ticks (default
 * 20000000); run two with different seeds on one CPU and many a hold
 * spans the other's turn.  It also runs WBINVD once: uhv counts it as a
 * WBINVD exit (it would otherwise write back every cache of the machine).
 * Fails at the first value that changed, or if it was never preempted. */
#include "guest.h"

#define NAME "dbgregs"
#define HOLD_DEFAULT  20000ull
#define GAP_TICKS     10000ull       /* more than uhv handling an exit */
#define TICKS_DEFAULT 20000000ull
#define SEED_DEFAULT  0x5a000000u
#define NR_DR         4
#define DR7_FIXED     0x400u         /* bit 10 reads as 1 */
#define DR7_RW_LEN_SHIFT 16          /* R/W and LEN fields: bits 31:16 */
#define DR7_RW_LEN_MASK  0xffffu

#define DR_ACCESS(n)                                                   \
    static inline void write_dr##n(u32 v)                              \
    {                                                                  \
        __asm__ volatile("mov %0, %%db" #n ::"r"(v));                  \
    }                                                                  \
    static inline u32 read_dr##n(void)                                 \
    {                                                                  \
        u32 v;                                                         \
        __asm__ volatile("mov %%db" #n ", %0" : "=r"(v));              \
        return v;                                                      \
    }
DR_ACCESS(0)
DR_ACCESS(1)
DR_ACCESS(2)
DR_ACCESS(3)
DR_ACCESS(7)

/* The values of check n: four addresses and DR7's fields. */
static void want_values(u32 seed, u32 n, u32 *dr, u32 *dr7)
{
    for (u32 i = 0; i < NR_DR; i++)
        dr[i] = seed + (n * NR_DR + i) * 0x10u;
    *dr7 = DR7_FIXED | (((seed >> 8) + n) & DR7_RW_LEN_MASK) << DR7_RW_LEN_SHIFT;
}

static void write_all(const u32 *dr, u32 dr7)
{
    write_dr0(dr[0]);
    write_dr1(dr[1]);
    write_dr2(dr[2]);
    write_dr3(dr[3]);
    write_dr7(dr7);
}

/* One check; returns whether it spanned a preemption. */
static bool check_once(u32 seed, u32 n, u64 hold)
{
    u32 dr[NR_DR], dr7, got[NR_DR], got7;
    bool preempted;

    want_values(seed, n, dr, &dr7);
    write_all(dr, dr7);
    preempted = tsc_hold(hold, GAP_TICKS, NULL);
    got[0] = read_dr0();
    got[1] = read_dr1();
    got[2] = read_dr2();
    got[3] = read_dr3();
    got7 = read_dr7();
    for (u32 i = 0; i < NR_DR; i++)
        if (got[i] != dr[i])
            fail(NAME, "check %u: DR%u read 0x%x, written 0x%x", n, i, got[i],
                 dr[i]);
    if (got7 != dr7)
        fail(NAME, "check %u: DR7 read 0x%x, written 0x%x", n, got7, dr7);
    return preempted;
}

/* See the file comment. */
void guest_main(u32 magic, const struct mb_info *mbi)
{
    require_multiboot(NAME, magic);
    const char *cmd = mb_cmdline(mbi);
    u64 hold = cmdline_u64(cmd, "hold", HOLD_DEFAULT);
    u64 ticks = cmdline_u64(cmd, "ticks", TICKS_DEFAULT);
    u32 seed = (u32)cmdline_u64(cmd, "seed", SEED_DEFAULT);
    u64 start, gaps = 0;
    u32 checks = 0;

    __asm__ volatile("wbinvd" ::: "memory");
    gprintf("WBINVD done; writing DR0-DR3 and DR7 from 0x%x\n", seed);
    for (start = rdtsc(); rdtsc() - start < ticks; checks++)
        gaps += check_once(seed, checks, hold);
    write_all((const u32[NR_DR]){ 0, 0, 0, 0 }, DR7_FIXED);
    gprintf("%u checks, DR0-DR3 and DR7 kept each time; %llu across a "
            "preemption\n", checks, gaps);
    if (!gaps)
        fail(NAME, "never preempted between a write and its read: run it "
             "beside another busy VM");
    pass(NAME);
}
