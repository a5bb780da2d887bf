/* badplatform - programs uhv's virtual platform wrongly on purpose and
 * checks that it gets what hardware would give (errors latched, writes
 * ignored, #GP where the SDM says so) and keeps working: the APIC with
 * illegal vectors, misaligned and read-only accesses and IPIs to CPUs that
 * do not exist; x2APIC MSRs while in xAPIC mode; junk to the I/O APIC,
 * PIT, RTC, PIC, PCI and ACPI PM registers, including an unsupported sleep
 * state. Then: timer interrupts still arrive, the PM timer still runs,
 * the PCI host bridge is unchanged.  A neighbour VM in the same boot must
 * be unaffected (the system test runs one). */
#include "guest.h"
#include "io32.h"

#define NAME "badplatform"
#define ESR_SEND_ILLEGAL (1u << 5)
#define ESR_RECV_ILLEGAL (1u << 6)
#define IOAPIC_BASE 0xFEC00000u
#define PM_CNT 0x604
#define PM_TMR 0x608
#define SLP_EN (1u << 13)
#define SLP_TYP_S3 (3u << 10)
#define PCI_ADDR 0xCF8
#define PCI_DATA 0xCFC
#define TIMER_VECTOR 0x40
#define TIMER_COUNT 200000u

static volatile u32 ticks;

static void on_timer(struct intr_frame *f)
{
    (void)f;
    ticks++;
    apic_eoi();
}

static void mmio32(u32 addr, u32 v) { *(volatile u32 *)addr = v; }

/* APIC abuse: each line is something a buggy guest might do. */
static void abuse_apic(void)
{
    apic_send_ipi(APIC_ICR_FIXED | APIC_ICR_SELF | 3, 0);    /* vector < 16 */
    apic_write(APIC_LVT_TIMER, 2);                            /* illegal LVT vector */
    *(volatile u8 *)(APIC_MMIO_BASE + APIC_TPR + 1) = 0xff;   /* byte access */
    apic_write(APIC_VERSION, 0xdeadbeef);                     /* read-only */
    apic_send_ipi(APIC_ICR_FIXED | 0x50, 7);                  /* no CPU 7 */
    apic_send_ipi(5u << 8 | (1u << 14), 3);                   /* INIT to CPU 3 */
    if (wrmsr_safe(X2APIC_MSR_BASE + (APIC_EOI >> 4), 0))     /* x2APIC off */
        fail(NAME, "x2APIC MSR write did not #GP in xAPIC mode");
}

static void abuse_devices(void)
{
    mmio32(IOAPIC_BASE, 0x7f);                  /* no such register */
    mmio32(IOAPIC_BASE + 0x10, 0xffffffff);
    mmio32(IOAPIC_BASE, 0x10 + 2 * 30);         /* pin 30 of 24 */
    mmio32(IOAPIC_BASE + 0x10, 0x12345678);
    outb(0x43, 0xff);                           /* PIT read-back of nothing */
    outb(0x40, 0xaa);
    outb(0x70, 0xff);                           /* RTC index junk */
    outb(0x71, 0x55);
    outb(0x20, 0x11);                           /* PIC: ICW1, then junk */
    outb(0x21, 0xff);
    outb(0x21, 0xff);
    outb(PCI_ADDR + 2, 0xff);                   /* byte write to 0xCFA */
    outl(PCI_ADDR, 0x80000000u);                /* host bridge, vendor ID */
    outl(PCI_DATA, 0xffffffffu);                /* IDs are read-only */
    outl(PCI_ADDR, 0x80ff0000u);                /* bus 255 */
    outl(PCI_DATA, 0x12345678u);
    outw(PM_CNT, SLP_TYP_S3 | SLP_EN);          /* S3: unsupported */
    outl(PM_TMR, 0);                            /* the timer is read-only */
}

/* After the abuse: do the basics still work? */
static void check_alive(void)
{
    u32 esr, t0, t1, id;
    u64 tsc0;

    apic_write(APIC_ESR, 0);                    /* latch, then read */
    esr = apic_read(APIC_ESR);
    gprintf("ESR after illegal vectors: 0x%x\n", esr);
    if (!(esr & (ESR_SEND_ILLEGAL | ESR_RECV_ILLEGAL)))
        fail(NAME, "no illegal-vector error latched in ESR (0x%x)", esr);
    outl(PCI_ADDR, 0x80000000u);
    id = inl(PCI_DATA);
    if (id != 0x12378086u)
        fail(NAME, "host bridge IDs changed to 0x%x", id);
    t0 = inl(PM_TMR);
    for (tsc0 = rdtsc(); rdtsc() - tsc0 < 1000000;)
        ;
    t1 = inl(PM_TMR);
    if (t0 == t1)
        fail(NAME, "PM timer stopped (0x%x)", t0);
    apic_write(APIC_TIMER_DIV, APIC_DIV_1);
    apic_write(APIC_LVT_TIMER, APIC_TIMER_PERIODIC | TIMER_VECTOR);
    apic_write(APIC_TIMER_INIT, TIMER_COUNT);
    for (tsc0 = rdtsc(); ticks < 5 && rdtsc() - tsc0 < 200000000ull;)
        sti_hlt();
    irq_disable();
    apic_write(APIC_TIMER_INIT, 0);
    gprintf("timer interrupts after the abuse: %u\n", ticks);
    if (ticks < 5)
        fail(NAME, "the APIC timer no longer interrupts (%u ticks)", ticks);
}

void guest_main(u32 magic, const struct mb_info *mbi)
{
    (void)mbi;
    require_multiboot(NAME, magic);
    intr_init(NAME);
    intr_set_handler(TIMER_VECTOR, on_timer);
    apic_sw_enable();
    abuse_apic();
    abuse_devices();
    gprintf("survived the abuse; checking the platform still works\n");
    check_alive();
    pass(NAME);
}
