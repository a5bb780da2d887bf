/* lapic_timer - the local APIC timer (Intel SDM Vol. 3A §11.5.4), timed
 * against the TSC, first through the xAPIC page, then through the x2APIC
 * MSRs.  uhv counts the timer at the TSC rate divided by the divide
 * configuration, so an initial count N with divide 1 is N TSC ticks.
 *
 * In each mode: one-shot with divide 1 and 16 (fires once, not before its
 * deadline, not later than `slack` ticks after it); the current count
 * falls; initial count 0 stops the timer; a masked LVT raises nothing;
 * periodic fires K times in K periods (+ slack); TSC-deadline fires once
 * at the deadline, clears IA32_TSC_DEADLINE, fires at once for a deadline
 * in the past and is disarmed by writing 0.  Interrupts are awaited with
 * `sti; hlt`.  Each case prints its verdict ("on time", or FAIL) only
 * after its checks; each mode ends with "MODE: ... all on time".
 *
 * Between the two modes the guest moves its TSC (IA32_TSC_ADJUST, SDM
 * Vol. 3B §17.17.3; CPUID.7.0:EBX[1]): forward 2^40 ticks by writing
 * IA32_TSC_ADJUST, so that x2APIC mode's timers all count in the moved
 * TSC, then back 2^39 by writing IA32_TSC, which IA32_TSC_ADJUST must
 * follow, and the TSC-deadline case once more.
 *
 * Options: oneshot=N, period=N, slack=N (TSC ticks; defaults 1000000,
 * 3000000, 2000000).  uhv delivers at the first exit
 * after the deadline, so with other VMs on the CPU give slack at least
 * one time slice (uhv's default is 2000000 ticks). */
#include "guest.h"

#define NAME            "lapic_timer"
#define TIMER_VEC       0x40u
#define MAX_FIRES       16u
#define ONESHOT_DEFAULT 1000000ull
#define PERIOD_DEFAULT  3000000ull
#define SLACK_DEFAULT   2000000ull
#define PERIODS         5u          /* periodic interrupts to wait for */
#define DIV16           16u
#define QUIET_FACTOR    2u          /* watch this many deadlines for extras */
#define CCR_SAMPLE_GAP  100000ull   /* ticks between two current-count reads */
#define CCR_BIG_COUNT   0x10000000u /* so the count cannot reach 0 meanwhile */
#define MSR_IA32_TSC    0x10u
#define MSR_TSC_ADJUST  0x3Bu
#define CPUID_7_EBX_TSC_ADJUST (1u << 1)
#define TSC_FORWARD     (1ull << 40)
#define TSC_BACK        (1ull << 39)
#define MOVE_SLACK      100000000ull /* other VMs may run between two reads:
                                        tiny beside 2^39, so still a proof */

static volatile u32 fired;
static volatile u64 fire_tsc[MAX_FIRES];
static u64 slack, oneshot, period;

/* The timer's vector: note when, then EOI. */
static void timer_handler(struct intr_frame *f)
{
    (void)f;
    if (fired < MAX_FIRES)
        fire_tsc[fired] = rdtsc();
    fired++;
    apic_eoi();
}

/* Sleep with `sti; hlt` until `want` interrupts have come.  The check runs
 * with IF clear, so an interrupt can only land inside the STI shadow + HLT
 * pair and always wakes it. */
static void wait_fires(u32 want)
{
    irq_disable();
    while (fired < want) {
        sti_hlt();
        irq_disable();
    }
}

/* Spin with interrupts on until the TSC reaches t (for "nothing fires"). */
static void spin_open(u64 t)
{
    irq_enable();
    tsc_spin_until(t);
    irq_disable();
}

/* The one interrupt came no earlier than earliest and no later than
 * latest + slack; `what` names the case in the output.  The line saying
 * "on time" comes only after both checks, so a harness that matches it
 * cannot pass on a timer that fired early or late. */
static void check_fire(const char *mode, const char *what, u32 i, u64 earliest,
                       u64 latest)
{
    u64 t = fire_tsc[i];

    if (t < earliest)
        fail(NAME, "%s %s: fired %llu ticks early", mode, what, earliest - t);
    if (t > latest + slack)
        fail(NAME, "%s %s: fired %llu ticks late (slack %llu)", mode, what,
             t - latest, slack);
    gprintf("%s %s: on time, fired %llu ticks after the deadline (set within "
            "%llu, slack %llu)\n", mode, what, t - earliest,
            latest - earliest, slack);
}

/* One-shot with divide `div`: once, on time, and CCR is 0 afterwards. */
static void test_oneshot(const char *mode, u32 dcr, u32 div)
{
    u64 count = udiv64(oneshot, div, NULL);
    apic_write(APIC_TIMER_DIV, dcr);
    apic_write(APIC_LVT_TIMER, APIC_TIMER_ONESHOT | TIMER_VEC);
    fired = 0;
    u64 t0 = rdtsc();
    apic_write(APIC_TIMER_INIT, (u32)count);
    u64 t1 = rdtsc();
    wait_fires(1);
    check_fire(mode, div == 1 ? "one-shot div 1" : "one-shot div 16", 0,
               t0 + count * div, t1 + count * div);
    spin_open(rdtsc() + QUIET_FACTOR * count * div);
    if (fired != 1)
        fail(NAME, "%s one-shot fired %u times", mode, fired);
    if (apic_read(APIC_TIMER_CUR) != 0)
        fail(NAME, "%s one-shot: current count %u after expiry", mode,
             apic_read(APIC_TIMER_CUR));
}

/* The current count falls at TSC / divide; writing 0 to the initial count
 * stops the timer: CCR reads 0 and no interrupt comes. */
static void test_count_and_stop(const char *mode)
{
    apic_write(APIC_TIMER_DIV, APIC_DIV_16);
    apic_write(APIC_LVT_TIMER, APIC_TIMER_ONESHOT | TIMER_VEC);
    fired = 0;
    apic_write(APIC_TIMER_INIT, CCR_BIG_COUNT);
    u32 c1 = apic_read(APIC_TIMER_CUR);
    tsc_spin_until(rdtsc() + CCR_SAMPLE_GAP);
    u32 c2 = apic_read(APIC_TIMER_CUR);
    gprintf("%s current count: %u then %u after %llu ticks (divide 16)\n",
            mode, c1, c2, CCR_SAMPLE_GAP);
    if (c1 > CCR_BIG_COUNT || c2 >= c1)
        fail(NAME, "%s current count does not fall: %u, %u", mode, c1, c2);
    if (c1 - c2 < CCR_SAMPLE_GAP / DIV16)
        fail(NAME, "%s current count fell %u, want >= %llu", mode, c1 - c2,
             CCR_SAMPLE_GAP / DIV16);
    apic_write(APIC_TIMER_INIT, 0);
    if (apic_read(APIC_TIMER_CUR) != 0)
        fail(NAME, "%s initial count 0: current count %u", mode,
             apic_read(APIC_TIMER_CUR));

    apic_write(APIC_TIMER_DIV, APIC_DIV_1);
    apic_write(APIC_TIMER_INIT, (u32)oneshot);
    apic_write(APIC_TIMER_INIT, 0);              /* stop before it fires */
    spin_open(rdtsc() + QUIET_FACTOR * oneshot);
    if (fired)
        fail(NAME, "%s timer fired after initial count 0", mode);
    gprintf("%s initial count 0 stops the timer\n", mode);
}

/* A masked LVT: the count runs out but no interrupt is raised or pending. */
static void test_masked(const char *mode)
{
    apic_write(APIC_TIMER_DIV, APIC_DIV_1);
    apic_write(APIC_LVT_TIMER, APIC_LVT_MASKED | APIC_TIMER_ONESHOT | TIMER_VEC);
    fired = 0;
    apic_write(APIC_TIMER_INIT, (u32)oneshot);
    spin_open(rdtsc() + QUIET_FACTOR * oneshot);
    if (fired || apic_vec_bit(APIC_IRR, TIMER_VEC))
        fail(NAME, "%s masked timer: %u interrupts, IRR %u", mode, fired,
             apic_vec_bit(APIC_IRR, TIMER_VEC));
    apic_write(APIC_TIMER_INIT, 0);
    gprintf("%s masked LVT: no interrupt\n", mode);
}

/* Periodic: K interrupts, the k-th not before k periods, the last within
 * K periods + slack of the start; none after the timer is stopped. */
static void test_periodic(const char *mode)
{
    apic_write(APIC_TIMER_DIV, APIC_DIV_1);
    apic_write(APIC_LVT_TIMER, APIC_TIMER_PERIODIC | TIMER_VEC);
    fired = 0;
    u64 t0 = rdtsc();
    apic_write(APIC_TIMER_INIT, (u32)period);
    u64 t1 = rdtsc();
    wait_fires(PERIODS);
    apic_write(APIC_TIMER_INIT, 0);
    for (u32 k = 0; k < PERIODS; k++)
        if (fire_tsc[k] < t0 + (k + 1) * period)
            fail(NAME, "%s periodic: interrupt %u early by %llu ticks", mode,
                 k + 1, t0 + (k + 1) * period - fire_tsc[k]);
    check_fire(mode, "periodic x5", PERIODS - 1, t0 + PERIODS * period,
               t1 + PERIODS * period);
    u32 n = fired;
    spin_open(rdtsc() + QUIET_FACTOR * period);
    if (fired != n)
        fail(NAME, "%s periodic: %u interrupts after stopping", mode, fired - n);
}

/* TSC-deadline mode (§11.5.4.1). */
static void test_tsc_deadline(const char *mode)
{
    apic_write(APIC_LVT_TIMER, APIC_TIMER_TSC_DEADLINE | TIMER_VEC);
    fired = 0;
    u64 deadline = rdtsc() + oneshot;
    wrmsr(MSR_TSC_DEADLINE, deadline);
    u64 armed = rdmsr(MSR_TSC_DEADLINE);
    if (armed != deadline)
        fail(NAME, "%s IA32_TSC_DEADLINE reads 0x%llx, wrote 0x%llx", mode,
             armed, deadline);
    wait_fires(1);
    check_fire(mode, "TSC deadline", 0, deadline, deadline);
    spin_open(rdtsc() + QUIET_FACTOR * oneshot);
    if (fired != 1)
        fail(NAME, "%s TSC deadline fired %u times", mode, fired);
    if (rdmsr(MSR_TSC_DEADLINE) != 0)
        fail(NAME, "%s IA32_TSC_DEADLINE not cleared after firing", mode);

    u64 past = rdtsc();                          /* a deadline already over */
    wrmsr(MSR_TSC_DEADLINE, past);
    wait_fires(2);
    check_fire(mode, "TSC deadline in the past", 1, past, past);

    wrmsr(MSR_TSC_DEADLINE, rdtsc() + oneshot);
    wrmsr(MSR_TSC_DEADLINE, 0);                  /* disarm */
    spin_open(rdtsc() + QUIET_FACTOR * oneshot);
    if (fired != 2)
        fail(NAME, "%s TSC deadline fired after writing 0", mode);
    apic_write(APIC_LVT_TIMER, APIC_LVT_MASKED);
}

/* Every case in the APIC's current access mode. */
static void run_mode(const char *mode)
{
    apic_sw_enable();
    test_oneshot(mode, APIC_DIV_1, 1);
    test_oneshot(mode, APIC_DIV_16, DIV16);
    test_count_and_stop(mode);
    test_masked(mode);
    test_periodic(mode);
    test_tsc_deadline(mode);
    gprintf("%s: one-shot, periodic and TSC-deadline timers all on time\n",
            mode);
}

/* FAIL unless the TSC moved by want (+ at most MOVE_SLACK) between two
 * reads around a write that moved it; what says which. */
static void check_moved(const char *what, u64 before, u64 after, s64 want)
{
    s64 moved = (s64)(after - before);
    if (moved < want || moved > want + (s64)MOVE_SLACK)
        fail(NAME, "%s: the TSC moved by %lld, want %lld (+ up to %llu)",
             what, moved, want, MOVE_SLACK);
}

/* The TSC moved 2^40 forward through IA32_TSC_ADJUST, which must start
 * at 0 and read back what was written; RDMSR IA32_TSC agrees with RDTSC. */
static void move_tsc_forward(void)
{
    if (!(cpuid(7, 0).ebx & CPUID_7_EBX_TSC_ADJUST))
        fail(NAME, "CPUID.7.0:EBX does not offer IA32_TSC_ADJUST");
    if (rdmsr(MSR_TSC_ADJUST) != 0)
        fail(NAME, "IA32_TSC_ADJUST reads 0x%llx at start, want 0",
             rdmsr(MSR_TSC_ADJUST));
    u64 before = rdtsc();
    wrmsr(MSR_TSC_ADJUST, TSC_FORWARD);
    check_moved("IA32_TSC_ADJUST = 2^40", before, rdtsc(), (s64)TSC_FORWARD);
    if (rdmsr(MSR_TSC_ADJUST) != TSC_FORWARD)
        fail(NAME, "IA32_TSC_ADJUST reads 0x%llx, wrote 0x%llx",
             rdmsr(MSR_TSC_ADJUST), TSC_FORWARD);
    before = rdtsc();
    check_moved("RDMSR IA32_TSC", before, rdmsr(MSR_IA32_TSC), 0);
}

/* The TSC moved 2^39 back through IA32_TSC, IA32_TSC_ADJUST following. */
static void move_tsc_back(void)
{
    u64 before = rdtsc();
    wrmsr(MSR_IA32_TSC, before - TSC_BACK);
    u64 after = rdtsc();
    check_moved("IA32_TSC = TSC - 2^39", before, after, -(s64)TSC_BACK);
    /* the TSC became before - 2^39 as the WRMSR ran, a little after
       `before`: IA32_TSC_ADJUST moved back by 2^39 and that little */
    u64 adjust = rdmsr(MSR_TSC_ADJUST);
    if (adjust > TSC_FORWARD - TSC_BACK ||
        adjust < TSC_FORWARD - TSC_BACK - MOVE_SLACK)
        fail(NAME, "IA32_TSC_ADJUST reads 0x%llx after IA32_TSC moved the "
             "TSC back 2^39 from 2^40 ahead, want 2^39 (- up to %llu)",
             adjust, MOVE_SLACK);
}

/* See the file comment. */
void guest_main(u32 magic, const struct mb_info *mbi)
{
    require_multiboot(NAME, magic);
    const char *cmd = mb_cmdline(mbi);
    oneshot = cmdline_u64(cmd, "oneshot", ONESHOT_DEFAULT);
    period = cmdline_u64(cmd, "period", PERIOD_DEFAULT);
    slack = cmdline_u64(cmd, "slack", SLACK_DEFAULT);
    u64 hz = tsc_hz_leaf15();
    gprintf("TSC %llu Hz (CPUID 0x15), %llu Hz (0x40000010); one-shot %llu, "
            "period %llu, slack %llu ticks\n", hz, tsc_hz_hv_leaf(), oneshot,
            period, slack);
    if (!(cpuid(CPUID_LEAF_FEATURES, 0).ecx & CPUID_ECX_TSC_DEADLINE))
        fail(NAME, "CPUID.1:ECX does not offer the TSC-deadline timer");
    intr_init(NAME);
    intr_set_handler(TIMER_VEC, timer_handler);

    run_mode("xapic");
    move_tsc_forward();
    if (!apic_set_x2apic(true))
        fail(NAME, "CPUID.1:ECX does not offer x2APIC");
    run_mode("x2apic");
    move_tsc_back();
    test_tsc_deadline("x2apic, TSC moved back");
    gprintf("TSC moved 2^40 forward by IA32_TSC_ADJUST (x2apic's timers ran "
            "on it) and 2^39 back by IA32_TSC, IA32_TSC_ADJUST following\n");
    pass(NAME);
}
