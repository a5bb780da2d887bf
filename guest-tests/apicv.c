/* apicv - with APIC virtualization on, the xAPIC accesses the CPU
 * virtualizes need no VM exit (SDM Vol. 3C §30.4-30.5): reads of the
 * registers §30.4.2 lists, TPR writes, self-IPIs through ICR low (self-IPI
 * virtualization, §30.4.3.2), EOIs of edge-triggered vectors, and the
 * delivery of a pending interrupt.  The guest does many of each in
 * xAPIC mode (ROUNDS rounds of: every listed register read, a TPR write
 * read back, a fixed self-IPI through ICR low taken with interrupts open
 * and EOIed in its handler), then exactly one access the CPU does not
 * virtualize (a PPR read, which §30.4.2 leaves out): the harness
 * (tests/system/apicv.test) checks uhv's summary for this VM, alone in
 * its run: APIC_ACCESS exactly 1 (the PPR read: the counter works, and
 * nothing else needed one), no VIRTUALIZED_EOI and no INTERRUPT_WINDOW
 * exit, and one APIC_WRITE: the SVR write, which traps by design.  The verdict line comes after the guest's own
 * checks (each self-IPI taken once, nothing left in service, TPR reads
 * back).  Under `apicv = off` the same accesses all exit. */
#include "guest.h"

#define NAME        "apicv"
#define ROUNDS      200u
#define VEC_SELF    0x50u
#define TPR_TEST    0x20u       /* below VEC_SELF's class: blocks nothing */
#define APIC_LVT_LINT0 0x350u
#define APIC_LVT_ERROR 0x370u

/* Registers whose reads the CPU serves from the virtual-APIC page
 * (§30.4.2): ID, version, TPR, LDR, SVR, ESR, ICR low, the LVT timer,
 * LINT0 and error entries, initial count, divide configuration, and every
 * word of ISR, TMR and IRR (added in read_all). */
static const u32 plain_regs[] = {
    APIC_ID, APIC_VERSION, APIC_TPR, APIC_LDR, APIC_SVR, APIC_ESR,
    APIC_ICR_LO, APIC_LVT_TIMER, APIC_LVT_LINT0, APIC_LVT_ERROR,
    APIC_TIMER_INIT, APIC_TIMER_DIV,
};
#define VEC_REG_WORDS 8u        /* ISR, TMR, IRR: 8 words of 32 vectors */

static u32 reads, tpr_writes, ipis_sent, eois;

/* The self-IPI's handler: EOI, a write the CPU virtualizes. */
static void self_handler(struct intr_frame *f)
{
    (void)f;
    apic_eoi();
    eois++;
}

/* Every register of plain_regs and each word of ISR, TMR and IRR. */
static void read_all(void)
{
    for (u32 i = 0; i < ARRAY_LEN(plain_regs); i++)
        (void)apic_read(plain_regs[i]);
    reads += ARRAY_LEN(plain_regs);
    for (u32 w = 0; w < VEC_REG_WORDS; w++) {
        (void)apic_read(APIC_ISR + w * APIC_VEC_STRIDE);
        (void)apic_read(APIC_TMR + w * APIC_VEC_STRIDE);
        (void)apic_read(APIC_IRR + w * APIC_VEC_STRIDE);
    }
    reads += 3 * VEC_REG_WORDS;
}

/* TPR up and back down, each read back. */
static void tpr_round(void)
{
    apic_write(APIC_TPR, TPR_TEST);
    if (apic_read(APIC_TPR) != TPR_TEST)
        fail(NAME, "TPR reads 0x%x after writing 0x%x", apic_read(APIC_TPR),
             TPR_TEST);
    apic_write(APIC_TPR, 0);
    tpr_writes += 2;
    reads++;
}

/* One self-IPI through ICR low alone (shorthand "self", so ICR high is
 * not needed): pending with interrupts off, taken once when they open. */
static void ipi_round(void)
{
    u32 before = intr_count[VEC_SELF];
    apic_write(APIC_ICR_LO, APIC_ICR_FIXED | APIC_ICR_SELF | VEC_SELF);
    ipis_sent++;
    irq_enable();
    __asm__ volatile("nop" ::: "memory");    /* STI's shadow ends here */
    irq_disable();
    if (intr_count[VEC_SELF] != before + 1)
        fail(NAME, "self-IPI %u: taken %u times", ipis_sent,
             intr_count[VEC_SELF] - before);
}

/* See the file comment. */
void guest_main(u32 magic, const struct mb_info *mbi)
{
    (void)mbi;
    require_multiboot(NAME, magic);
    intr_init(NAME);
    intr_set_handler(VEC_SELF, self_handler);
    apic_sw_enable();
    for (u32 r = 0; r < ROUNDS; r++) {
        read_all();
        tpr_round();
        ipi_round();
    }
    if (eois != ROUNDS || apic_vec_bit(APIC_ISR, VEC_SELF) ||
        apic_vec_bit(APIC_IRR, VEC_SELF))
        fail(NAME, "%u EOIs for %u self-IPIs; ISR %u IRR %u", eois, ROUNDS,
             apic_vec_bit(APIC_ISR, VEC_SELF), apic_vec_bit(APIC_IRR, VEC_SELF));
    gprintf("xapic: %u register reads, %u TPR writes, %u self-IPIs taken and "
            "EOIed\n", reads, tpr_writes, ipis_sent);
    u32 ppr = apic_read(APIC_PPR);     /* the one access that must exit */
    gprintf("one PPR read (not virtualized by the CPU): 0x%x\n", ppr);
    pass(NAME);
}
