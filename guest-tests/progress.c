/* progress - shows whether this VM shares the CPU.  Busy-loops for
 * ticks=N TSC ticks (default 200000000) reading the TSC back to back; a
 * jump of more than 100000 ticks between two reads is a "gap": the CPU ran
 * something else (another VM's time slice).  Prints "progress k" five
 * times.  With expect-preempt on the cmdline it passes only if there was
 * at least one gap; otherwise it always passes. */
#include "guest.h"

#define NAME "progress"
#define TICKS_DEFAULT   200000000ull
#define GAP_TICKS       100000ull
#define REPORTS         5u

/* See the file comment. */
void guest_main(u32 magic, const struct mb_info *mbi)
{
    require_multiboot(NAME, magic);
    const char *cmd = mb_cmdline(mbi);
    u64 ticks = cmdline_u64(cmd, "ticks", TICKS_DEFAULT);
    bool expect = cmdline_has(cmd, "expect-preempt");
    u64 step = udiv64(ticks, REPORTS, NULL);
    gprintf("spinning %llu ticks, expect-preempt %u\n", ticks, expect);

    u32 gaps = 0;
    u64 max_gap = 0, start = rdtsc(), prev = start;
    for (u32 k = 1; k <= REPORTS; k++) {
        u64 now;
        while ((now = rdtsc()) - start < k * step) {
            u64 d = now - prev;
            if (d > GAP_TICKS) {
                gaps++;
                if (d > max_gap)
                    max_gap = d;
            }
            prev = now;
        }
        gprintf("progress %u\n", k);
        prev = rdtsc();                  /* printing is not a gap */
    }
    gprintf("gaps %u (over %llu ticks each), longest %llu ticks\n", gaps,
            GAP_TICKS, max_gap);
    if (expect && !gaps)
        fail(NAME, "no gaps although expect-preempt was given");
    pass(NAME);
}
