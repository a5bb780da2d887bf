/* apic_state - IA32_APIC_BASE's states and the local APIC's MSRs as the
 * CPU has them (Intel SDM Vol. 3A §11.4.3, §11.12): an operating system
 * that resets its APIC by clearing the global enable bit, then brings it
 * back in xAPIC or x2APIC mode.
 *
 * xAPIC with a periodic timer running; disabled (EN = 0): IA32_APIC_BASE
 * reads so, the xAPIC page reads all ones and drops writes, the x2APIC
 * MSRs #GP, no timer interrupt comes, and the invalid moves (EN = 0 with
 * EXTD = 1, disabled -> x2APIC) #GP; xAPIC again: every register as after
 * power-up (§11.4.7.1) but the ID, the timer stopped, then working when
 * programmed; x2APIC: x2APIC -> xAPIC #GP, 0x82F (LVT CMCI, which uhv's
 * APIC lacks) #GP, SELF IPI and TPR with a reserved bit #GP, a good SELF
 * IPI taken; x2APIC -> disabled -> xAPIC keeps the ID; another base
 * address or a reserved bit #GP.  Last IA32_MISC_ENABLE (SDM Vol. 4
 * Table 2-2, docs/cpuid.md): fast strings, BTS and PEBS unavailable set,
 * fast strings the one bit that changes and stays, the others #GP.
 * Each part prints its verdict line only after its checks.  Option:
 * period=N TSC ticks of the timer (default 200000). */
#include "guest.h"

#define NAME             "apic_state"
#define TIMER_VEC        0x40u
#define SELF_IPI_VEC     0x41u
#define PERIOD_DEFAULT   200000ull
#define QUIET_PERIODS    10u          /* periods with nothing allowed to fire */
#define FIRES_WANTED     2u
#define WAIT_PERIODS     100u         /* bound on waiting for FIRES_WANTED */
#define ALL_ONES         0xFFFFFFFFu
#define APIC_BASE_ADDR_MASK 0xFFFFFF000ull
#define APIC_BASE_BIT9   (1u << 9)    /* reserved */
#define OTHER_APIC_BASE  0xFED00000ull
#define APIC_DFR         0x0E0u
#define APIC_LVT_LINT0   0x350u
#define APIC_LVT_ERROR   0x370u
#define APIC_LVT_FIRST   0x320u       /* timer ... error, 16 bytes apart */
#define APIC_LVT_STRIDE  0x10u
#define APIC_VERSION_UHV 0x00050014u  /* version 0x14, six LVT entries */
#define APIC_VEC_REGS    8u
#define X2APIC_MSR(off)  (X2APIC_MSR_BASE + ((off) >> 4))
#define X2APIC_LVT_CMCI  0x82Fu
#define RSVD_SELF_IPI    (1u << 8)    /* SELF IPI: bits 31:8 reserved */
#define RSVD_TPR         (1u << 8)
#define MSR_MISC_ENABLE  0x1A0u
#define MISC_FAST_STRINGS (1ull << 0)
#define MISC_BTS_UNAVAIL (1ull << 11)
#define MISC_PEBS_UNAVAIL (1ull << 12)
#define MISC_EIST        (1ull << 16)
#define MISC_LIMIT_CPUID (1ull << 22)
#define MISC_XD_DISABLE  (1ull << 34)
#define MISC_UHV (MISC_FAST_STRINGS | MISC_BTS_UNAVAIL | MISC_PEBS_UNAVAIL)

static volatile u32 fired, self_ipis;
static u64 period, base0;

static void on_timer(struct intr_frame *f)
{
    (void)f;
    fired++;
    apic_eoi();
}

static void on_self_ipi(struct intr_frame *f)
{
    (void)f;
    self_ipis++;
    apic_eoi();
}

/* Interrupts on until `want` timer interrupts came or n timer periods
 * passed; how many came. */
static u32 fires_within(u32 want, u32 n)
{
    u32 before = fired;
    u64 end = rdtsc() + n * period;
    irq_enable();
    while (fired - before < want && rdtsc() < end)
        ;
    irq_disable();
    return fired - before;
}

/* Interrupts on for n timer periods; how many timer interrupts came. */
static u32 fires_during(u32 n)
{
    return fires_within(~0u, n);
}

/* The timer interrupts every period (checks that the APIC delivers). */
static void check_timer_runs(const char *when)
{
    apic_sw_enable();
    apic_write(APIC_TIMER_DIV, APIC_DIV_1);
    apic_write(APIC_LVT_TIMER, APIC_TIMER_PERIODIC | TIMER_VEC);
    apic_write(APIC_TIMER_INIT, (u32)period);
    u32 n = fires_within(FIRES_WANTED, WAIT_PERIODS);
    if (n < FIRES_WANTED)
        fail(NAME, "%s: %u timer interrupts in %u periods", when, n,
             WAIT_PERIODS);
    gprintf("%s: the timer interrupts\n", when);
}

/* IA32_APIC_BASE after RESET (§11.4.4): 0xFEE00000, enabled, xAPIC. */
static void check_reset_base(void)
{
    base0 = rdmsr(MSR_IA32_APIC_BASE);
    gprintf("IA32_APIC_BASE at start: 0x%llx\n", base0);
    if ((base0 & APIC_BASE_ADDR_MASK) != APIC_MMIO_BASE ||
        !(base0 & APIC_BASE_ENABLE) || (base0 & APIC_BASE_EXTD) ||
        !(base0 & APIC_BASE_BSP))
        fail(NAME, "IA32_APIC_BASE 0x%llx is not 0xFEE00000, EN, BSP", base0);
}

/* A write that must #GP and leave IA32_APIC_BASE as it was. */
static void base_refused(const char *what, u64 value)
{
    u64 before = rdmsr(MSR_IA32_APIC_BASE);
    if (apic_set_base(value))
        fail(NAME, "%s: IA32_APIC_BASE took 0x%llx, no #GP", what, value);
    if (rdmsr(MSR_IA32_APIC_BASE) != before)
        fail(NAME, "%s: IA32_APIC_BASE changed to 0x%llx after #GP", what,
             rdmsr(MSR_IA32_APIC_BASE));
    apic_set_base(before);       /* the library's mode follows the state */
}

/* A write that must be taken and read back as written. */
static void base_taken(const char *what, u64 value)
{
    if (!apic_set_base(value))
        fail(NAME, "%s: WRMSR IA32_APIC_BASE 0x%llx got #GP", what, value);
    if (rdmsr(MSR_IA32_APIC_BASE) != value)
        fail(NAME, "%s: IA32_APIC_BASE reads 0x%llx, wrote 0x%llx", what,
             rdmsr(MSR_IA32_APIC_BASE), value);
}

/* One 32-bit MOV from the xAPIC page, whatever the library's mode. */
static u32 page_read(u32 off)
{
    return *(volatile u32 *)(APIC_MMIO_BASE + off);
}

/* The page is unclaimed: these registers read all ones, a write to SVR
 * (the TPR at 0x80 is left out: with APIC virtualization the CPU keeps
 * virtualizing it, docs/interfaces.md) changes nothing. */
static void check_page_gone(void)
{
    static const u32 offs[] = { APIC_ID, APIC_VERSION, APIC_SVR, APIC_LVT_TIMER,
                                APIC_TIMER_CUR, APIC_IRR };
    for (u32 i = 0; i < sizeof(offs) / sizeof(offs[0]); i++)
        if (page_read(offs[i]) != ALL_ONES)
            fail(NAME, "disabled: xAPIC offset 0x%x reads 0x%x, not all ones",
                 offs[i], page_read(offs[i]));
    *(volatile u32 *)(APIC_MMIO_BASE + APIC_SVR) = APIC_SVR_ENABLE | APIC_SPURIOUS_VEC;
    if (page_read(APIC_SVR) != ALL_ONES)
        fail(NAME, "disabled: a write to SVR stuck (0x%x)", page_read(APIC_SVR));
}

/* EN = 0 with the timer running: gone, silent, and only xAPIC may follow. */
static void check_disabled(void)
{
    u64 v, off = base0 & ~(u64)APIC_BASE_ENABLE;
    base_taken("disable", off);
    check_page_gone();
    if (rdmsr_safe(X2APIC_MSR(APIC_ID), &v))
        fail(NAME, "disabled: RDMSR of the x2APIC ID gave 0x%llx, no #GP", v);
    u32 n = fires_during(QUIET_PERIODS);
    if (n)
        fail(NAME, "disabled: %u timer interrupts in %u periods", n, QUIET_PERIODS);
    base_refused("EN=0 with EXTD=1", off | APIC_BASE_EXTD);
    base_refused("disabled -> x2APIC", off | APIC_BASE_ENABLE | APIC_BASE_EXTD);
    gprintf("disabled: IA32_APIC_BASE 0x%llx, page reads all ones, x2APIC "
            "MSRs #GP, no interrupt in %u periods, invalid moves #GP\n",
            rdmsr(MSR_IA32_APIC_BASE), QUIET_PERIODS);
}

/* Registers as after power-up (§11.4.7.1); the ID kept. */
static void check_power_up_state(u32 id)
{
    if (apic_id() != id || apic_read(APIC_SVR) != APIC_SPURIOUS_VEC ||
        apic_read(APIC_TPR) != 0 || apic_read(APIC_DFR) != ALL_ONES ||
        apic_read(APIC_TIMER_INIT) != 0 || apic_read(APIC_VERSION) != APIC_VERSION_UHV)
        fail(NAME, "re-enabled: ID %u SVR 0x%x TPR 0x%x DFR 0x%x count %u "
             "version 0x%x", apic_id(), apic_read(APIC_SVR), apic_read(APIC_TPR),
             apic_read(APIC_DFR), apic_read(APIC_TIMER_INIT),
             apic_read(APIC_VERSION));
    for (u32 off = APIC_LVT_FIRST; off <= APIC_LVT_ERROR; off += APIC_LVT_STRIDE)
        if (apic_read(off) != APIC_LVT_MASKED)
            fail(NAME, "re-enabled: LVT 0x%x is 0x%x, not masked", off,
                 apic_read(off));
    for (u32 i = 0; i < APIC_VEC_REGS; i++)
        if (apic_read(APIC_IRR + i * APIC_VEC_STRIDE) ||
            apic_read(APIC_ISR + i * APIC_VEC_STRIDE))
            fail(NAME, "re-enabled: IRR/ISR word %u not clear", i);
}

/* EN = 1 again: xAPIC mode, reset, the timer stopped until programmed. */
static void check_reenabled(u32 id)
{
    base_taken("re-enable", base0);
    check_power_up_state(id);
    u32 n = fires_during(QUIET_PERIODS);
    if (n)
        fail(NAME, "re-enabled: %u timer interrupts before programming", n);
    gprintf("re-enabled: SVR 0x%x, LVTs masked, TPR 0, IRR/ISR clear, ID %u "
            "kept, no interrupt\n", apic_read(APIC_SVR), id);
    check_timer_runs("re-enabled");
    apic_write(APIC_TIMER_INIT, 0);
}

/* x2APIC mode: what does not exist or is reserved gets #GP. */
static void check_x2apic_msrs(void)
{
    u64 v;
    if (rdmsr_safe(X2APIC_LVT_CMCI, &v) || wrmsr_safe(X2APIC_LVT_CMCI, APIC_LVT_MASKED))
        fail(NAME, "x2APIC: MSR 0x82F (LVT CMCI) exists: 0x%llx", v);
    if (wrmsr_safe(X2APIC_MSR(APIC_SELF_IPI), RSVD_SELF_IPI | SELF_IPI_VEC))
        fail(NAME, "x2APIC: SELF IPI with bit 8 set was taken");
    if (wrmsr_safe(X2APIC_MSR(APIC_TPR), RSVD_TPR))
        fail(NAME, "x2APIC: TPR with bit 8 set was taken");
    irq_enable();
    tsc_spin_until(rdtsc() + period);
    irq_disable();
    if (self_ipis)
        fail(NAME, "x2APIC: the refused SELF IPI was delivered");
    apic_write(APIC_SELF_IPI, SELF_IPI_VEC);
    irq_enable();
    tsc_spin_until(rdtsc() + period);
    irq_disable();
    if (self_ipis != 1)
        fail(NAME, "x2APIC: a good SELF IPI came %u times", self_ipis);
    gprintf("x2APIC: 0x82F #GP, SELF IPI bit 8 #GP, TPR bit 8 #GP, SELF IPI "
            "0x%x taken\n", SELF_IPI_VEC);
}

/* xAPIC -> x2APIC, the refused way back, the two-step way back. */
static void check_x2apic(u32 id)
{
    u64 x2 = base0 | APIC_BASE_EXTD;
    base_taken("xAPIC -> x2APIC", x2);
    if (apic_id() != id)
        fail(NAME, "x2APIC: ID %u, was %u in xAPIC mode", apic_id(), id);
    apic_sw_enable();
    base_refused("x2APIC -> xAPIC", base0);
    check_x2apic_msrs();
    base_taken("x2APIC -> disabled", base0 & ~(u64)APIC_BASE_ENABLE);
    base_taken("disabled -> xAPIC", base0);
    if (apic_id() != id || apic_read(APIC_SVR) != APIC_SPURIOUS_VEC)
        fail(NAME, "back in xAPIC: ID %u SVR 0x%x", apic_id(), apic_read(APIC_SVR));
    gprintf("x2APIC -> xAPIC #GP; x2APIC -> disabled -> xAPIC kept ID %u\n", id);
}

/* uhv keeps its APIC at 0xFEE00000; reserved bits are reserved. */
static void check_base_rules(void)
{
    base_refused("another address", (base0 & ~APIC_BASE_ADDR_MASK) | OTHER_APIC_BASE);
    base_refused("reserved bit 9", base0 | APIC_BASE_BIT9);
    base_refused("reserved bit 0", base0 | 1);
    gprintf("another base address and reserved bits #GP\n");
}

/* IA32_MISC_ENABLE as uhv's model CPU has it (docs/cpuid.md). */
static void check_misc_enable(void)
{
    static const u64 refused[] = { MISC_EIST, MISC_LIMIT_CPUID, MISC_XD_DISABLE };
    u64 m = rdmsr(MSR_MISC_ENABLE);
    if (m != MISC_UHV)
        fail(NAME, "IA32_MISC_ENABLE reads 0x%llx, want 0x%llx", m, MISC_UHV);
    if (!wrmsr_safe(MSR_MISC_ENABLE, m & ~MISC_FAST_STRINGS) ||
        rdmsr(MSR_MISC_ENABLE) != (m & ~MISC_FAST_STRINGS))
        fail(NAME, "IA32_MISC_ENABLE: fast strings did not clear");
    for (u32 i = 0; i < sizeof(refused) / sizeof(refused[0]); i++)
        if (wrmsr_safe(MSR_MISC_ENABLE, m | refused[i]))
            fail(NAME, "IA32_MISC_ENABLE took bit 0x%llx", refused[i]);
    if (wrmsr_safe(MSR_MISC_ENABLE, m & ~MISC_BTS_UNAVAIL))
        fail(NAME, "IA32_MISC_ENABLE: BTS unavailable (read-only) cleared");
    if (rdmsr(MSR_MISC_ENABLE) != (m & ~MISC_FAST_STRINGS))
        fail(NAME, "IA32_MISC_ENABLE changed by refused writes: 0x%llx",
             rdmsr(MSR_MISC_ENABLE));
    wrmsr(MSR_MISC_ENABLE, m);
    gprintf("IA32_MISC_ENABLE 0x%llx: fast strings toggles and stays, "
            "EIST, limit CPUID, XD disable and BTS #GP\n", m);
}

/* See the file comment. */
void guest_main(u32 magic, const struct mb_info *mbi)
{
    require_multiboot(NAME, magic);
    period = cmdline_u64(mb_cmdline(mbi), "period", PERIOD_DEFAULT);
    intr_init(NAME);
    intr_set_handler(TIMER_VEC, on_timer);
    intr_set_handler(SELF_IPI_VEC, on_self_ipi);
    check_reset_base();
    u32 id = apic_id();
    check_timer_runs("xAPIC");
    check_disabled();
    check_reenabled(id);
    check_x2apic(id);
    check_base_rules();
    check_misc_enable();
    pass(NAME);
}
