/* nmi_ipi.c - NMIs sent through the local APIC reach the guest as NMIs
 * (Intel SDM Vol. 3A §11.6.1 delivery mode NMI, §6.7.1 NMI handling;
 * uhv injects them with virtual NMIs, Vol. 3C §25.6.1):
 *  - self: an ICR write with delivery mode NMI and shorthand self reaches
 *    vector 2's handler at once, with IF = 1 and with IF = 0 (NMIs are
 *    not maskable), and so does one to the own APIC id and one to "all
 *    including self";
 *  - blocking: a second self-NMI sent inside the handler does not nest:
 *    it waits for the handler's IRET and arrives right after it, at the
 *    very instruction the IRET returned to (§6.7.1: NMIs are blocked
 *    until the next IRET);
 *  - with two vCPUs, the BSP starts the AP (INIT, STARTUP on
 *    lib/ap_nmi.asm), which halts with interrupts off; an NMI to its APIC
 *    id wakes it and reaches its real-mode handler, as does one to "all
 *    excluding self"; the BSP gets neither;
 *  - x2APIC (where CPUID offers it): a self-NMI through MSR 0x830.
 * One line per part; tests/system/nmi-ipi.test checks them and uhv's
 * count of NMIs injected. */
#include "guest.h"

#define NAME            "nmi_ipi"
#define NMI_VECTOR      2u
#define AP_PAGE         0x7000u         /* below the Multiboot info at 0x8000 */
#define AP_APIC_ID      1u
#define AP_NMI_READY    0x4e4d4921u     /* lib/ap_nmi.asm has the same value */
#define AP_WAIT_TICKS   2000000000ull
#define HANDLER_EXITS   50u             /* CPUIDs inside the handler: exits */
#define HANDLER_TICKS   2000000ull      /* and a spin, time for a nested NMI */
#define AP_HALT_TICKS   20000000ull     /* time for the AP to reach its HLT */
#define MAX_SEEN        8u

/* What lib/ap_nmi.asm writes, in its order. */
struct ap_nmi_report {
    u32 ready;                          /* AP_NMI_READY once set up */
    u32 nmis;                           /* NMIs its handler took */
    u32 wakes;                          /* times its HLT resumed */
};

extern const u8 ap_nmi_start[], ap_nmi_report[], ap_nmi_end[];

static volatile u32 nmis;               /* NMIs taken */
static volatile u32 depth, max_depth;   /* handler nesting */
static volatile u32 seen_eip[MAX_SEEN]; /* where each interrupted */
static volatile u32 seen_if[MAX_SEEN];  /* EFLAGS.IF it interrupted */
static volatile bool send_nested;       /* the handler sends one more */
static volatile u32 during_handler;     /* NMIs that came inside it */

/* Vector 2: count, record where and at which IF it came; once, send a
 * second self-NMI from inside and give it every chance to nest. */
static void nmi_handler(struct intr_frame *f)
{
    u32 n = nmis++;

    if (++depth > max_depth)
        max_depth = depth;
    if (n < MAX_SEEN) {
        seen_eip[n] = f->eip;
        seen_if[n] = f->eflags & EFLAGS_IF;
    }
    if (send_nested) {
        send_nested = false;
        apic_send_ipi(APIC_ICR_NMI | APIC_ICR_SELF, 0);
        for (u32 i = 0; i < HANDLER_EXITS; i++)
            (void)cpuid(0, 0);
        tsc_spin_until(rdtsc() + HANDLER_TICKS);
        during_handler = nmis - (n + 1);
    }
    depth--;
}

/* Sends icr_lo to dest; fails unless exactly `want` NMIs came, at once. */
static void self_nmi(u32 icr_lo, u32 dest, u32 want, const char *what)
{
    u32 before = nmis;

    apic_send_ipi(icr_lo, dest);
    u32 got = nmis - before;
    if (got != want)
        fail(NAME, "%s: %u NMIs arrived at once, not %u", what, got, want);
}

/* Self-NMIs with IF = 1 and IF = 0, to the own id, to all. */
static void check_self(void)
{
    irq_enable();
    self_nmi(APIC_ICR_NMI | APIC_ICR_SELF, 0, 1, "self, IF=1");
    if (!seen_if[0])
        fail(NAME, "the first NMI interrupted IF=0 code");
    irq_disable();
    self_nmi(APIC_ICR_NMI | APIC_ICR_SELF, 0, 1, "self, IF=0");
    if (seen_if[1] || (read_eflags() & EFLAGS_IF))
        fail(NAME, "IF changed around the NMI sent with IF=0");
    self_nmi(APIC_ICR_NMI, apic_id(), 1, "own APIC id, IF=0");
    self_nmi(APIC_ICR_NMI | APIC_ICR_ALL, 0, 1, "all including self, IF=0");
    irq_enable();
    gprintf("self-NMI: vector 2 taken at once with IF=1 and with IF=0 "
            "(shorthand self, own APIC id, all including self)\n");
}

/* A self-NMI sent inside the handler arrives right after its IRET. */
static void check_blocking(void)
{
    u32 first = nmis;

    send_nested = true;
    self_nmi(APIC_ICR_NMI | APIC_ICR_SELF, 0, 2, "blocking");
    if (max_depth != 1 || during_handler)
        fail(NAME, "an NMI nested in the NMI handler (depth %u, %u inside)",
             max_depth, during_handler);
    if (seen_eip[first + 1] != seen_eip[first])
        fail(NAME, "the second NMI came at 0x%x, not at 0x%x where the "
             "IRET returned", seen_eip[first + 1], seen_eip[first]);
    gprintf("blocking: the NMI sent inside the handler waited for its IRET "
            "and came at once after it (eip 0x%x both), never nested\n",
            seen_eip[first]);
}

/* Starts the AP on ap_nmi.asm; its report, or a FAIL. */
static volatile struct ap_nmi_report *start_ap(void)
{
    u32 size = (u32)(ap_nmi_end - ap_nmi_start);
    volatile struct ap_nmi_report *r = (volatile struct ap_nmi_report *)
        (AP_PAGE + (u32)(ap_nmi_report - ap_nmi_start));

    memcpy((void *)AP_PAGE, ap_nmi_start, size);
    r->ready = 0;
    apic_send_ipi(APIC_ICR_INIT | APIC_ICR_ASSERT, AP_APIC_ID);
    apic_send_ipi(APIC_ICR_STARTUP | (AP_PAGE >> 12), AP_APIC_ID);
    for (u64 t0 = rdtsc(); r->ready != AP_NMI_READY;)
        if (rdtsc() - t0 > AP_WAIT_TICKS)
            fail(NAME, "the AP never got ready");
    tsc_spin_until(rdtsc() + AP_HALT_TICKS);   /* let it reach its HLT */
    return r;
}

/* Waits for the AP's handler to count want NMIs. */
static void wait_ap(volatile struct ap_nmi_report *r, u32 want, const char *what)
{
    for (u64 t0 = rdtsc(); r->nmis < want;)
        if (rdtsc() - t0 > AP_WAIT_TICKS)
            fail(NAME, "%s: the AP took %u NMIs, not %u", what, r->nmis, want);
}

/* NMI IPIs from the BSP to the halted AP (IF = 0 there). */
static void check_ap(void)
{
    volatile struct ap_nmi_report *r = start_ap();
    u32 bsp = nmis;

    if (r->nmis || r->wakes)
        fail(NAME, "the AP woke before any NMI");
    apic_send_ipi(APIC_ICR_NMI, AP_APIC_ID);
    wait_ap(r, 1, "to APIC id 1");
    apic_send_ipi(APIC_ICR_NMI | APIC_ICR_OTHERS, 0);
    wait_ap(r, 2, "all excluding self");
    tsc_spin_until(rdtsc() + AP_HALT_TICKS);
    if (nmis != bsp)
        fail(NAME, "the BSP took %u of the NMIs sent to the AP", nmis - bsp);
    if (r->nmis != 2 || r->wakes != 2)
        fail(NAME, "AP: %u NMIs, %u wakes from HLT (want 2, 2)",
             r->nmis, r->wakes);
    gprintf("AP: halted with IF=0, woken by an NMI to APIC id 1 and by one "
            "to all excluding self: %u NMIs, %u wakes; the BSP took none\n",
            r->nmis, r->wakes);
}

/* A self-NMI through the x2APIC ICR (MSR 0x830). */
static void check_x2apic(void)
{
    if (!apic_set_x2apic(true)) {
        gprintf("x2APIC: not offered, skipped\n");
        return;
    }
    irq_disable();
    self_nmi(APIC_ICR_NMI | APIC_ICR_SELF, 0, 1, "x2APIC self, IF=0");
    irq_enable();
    gprintf("x2APIC: self-NMI through MSR 0x830 taken at once\n");
}

/* See the file comment. */
void guest_main(u32 magic, const struct mb_info *mbi)
{
    (void)mbi;
    require_multiboot(NAME, magic);
    intr_init(NAME);
    intr_set_handler(NMI_VECTOR, nmi_handler);
    apic_sw_enable();
    u32 cpus = fw_cfg_read_u16(FW_CFG_NB_CPUS);

    check_self();
    check_blocking();
    if (cpus > 1)
        check_ap();
    else
        gprintf("1 vCPU: AP checks skipped\n");
    check_x2apic();
    gprintf("%u NMIs taken by the BSP\n", nmis);
    pass(NAME);
}
