/* steal - measures the TSC ticks uhv takes from a busy guest.  Counts the
 * rounds of a tight loop (read the TSC, compare, count) that fit in a
 * window of period=N ticks.  Under Bochs a tick is an instruction, but the
 * TSC read inside the loop advances in steps (Bochs runs traces of
 * instructions), so a single round cannot be timed; instead the guest
 * first times many short runs of the same loop (CAL_RUNS of CAL_TICKS)
 * and takes the one that fitted the most rounds: it ran without a VM exit,
 * so CAL_TICKS / its rounds is what a round costs.  Then every window
 * prints
 *   STEAL <k> rounds <R> stolen <S> of <period>
 * where S = period - R x (ticks per round): the ticks the guest did not
 * get (VM exits, uhv's run loop).  tools/bench-control.sh compares them
 * with and without a management client watching.  Runs rounds=N windows
 * (default 1000), then passes. */
#include "guest.h"

#define NAME "steal"
#define PERIOD_DEFAULT 50000000ull      /* one emulated second at 50 MHz */
#define WINDOWS_DEFAULT 1000ull
#define CAL_TICKS      100000ull        /* one calibration run */
#define CAL_RUNS       200u
#define MILLI          1000ull

/* Rounds of the loop in period ticks.  Not inlined: calibration and the
 * windows must run these very instructions. */
static __attribute__((noinline)) u64 spin(u64 period)
{
    u64 start = rdtsc(), rounds = 0;

    while (rdtsc() - start < period)
        rounds++;
    return rounds;
}

/* See the file comment. */
void guest_main(u32 magic, const struct mb_info *mbi)
{
    require_multiboot(NAME, magic);
    const char *cmd = mb_cmdline(mbi);
    u64 period = cmdline_u64(cmd, "period", PERIOD_DEFAULT);
    u64 windows = cmdline_u64(cmd, "rounds", WINDOWS_DEFAULT);
    u64 best = 0, per_round_milli;

    for (u32 i = 0; i < CAL_RUNS; i++) {
        u64 r = spin(CAL_TICKS);
        best = r > best ? r : best;
    }
    per_round_milli = udiv64(CAL_TICKS * MILLI, best, NULL);
    gprintf("STEAL calibration: %llu milliticks per round (%llu rounds in "
            "%llu ticks), period %llu\n", per_round_milli, best, CAL_TICKS,
            period);
    for (u64 k = 1; k <= windows; k++) {
        u64 r = spin(period), work = udiv64(r * per_round_milli, MILLI, NULL);
        gprintf("STEAL %llu rounds %llu stolen %lld of %llu\n", k, r,
                (long long)(period - work), period);
    }
    pass(NAME);
}
