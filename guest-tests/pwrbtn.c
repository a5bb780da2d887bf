/* pwrbtn - a guest that powers off when its ACPI power button is pressed,
 * as an OS with acpid would: it enables the fixed power-button event
 * (ACPI 6.x §4.8.3.1.2 PWRBTN_EN), routes the SCI (ISA IRQ 9, level,
 * active high per uhv's MADT override) through the IOAPIC, then sleeps in
 * HLT with interrupts on.  The SCI handler checks PWRBTN_STS and clears
 * it (write 1 to clear); the main loop then says so and enters S5, which
 * uhv reports as "poweroff".  uhv's control channel presses the button
 * (stop with a timeout), so this proves the graceful stop from inside.
 * Under uhv the PM1 block is at 0x600 (FADT PM1a_EVT_BLK; the acpi guest
 * test checks the FADT itself). */
#include "guest.h"
#include "intr.h"
#include "apic.h"
#include "io32.h"

#define NAME "pwrbtn"
#define PM1_BASE          0x600u
#define PM1_STS           (PM1_BASE + 0)
#define PM1_EN            (PM1_BASE + 2)
#define PM1_CNT           (PM1_BASE + 4)
#define PM1_PWRBTN        (1u << 8)         /* STS and EN: bit 8 */
#define PM1_SLP_TYP_S5    (5u << 10)        /* uhv's \_S5 SLP_TYPa */
#define PM1_SLP_EN        (1u << 13)
#define SCI_PIN           9u
#define SCI_VECTOR        0x39u

/* IOAPIC (82093AA data sheet §3.2.4): index/data window, RTE layout. */
#define IOAPIC_BASE       0xFEC00000u
#define IOAPIC_IOREGSEL   0x00u
#define IOAPIC_IOWIN      0x10u
#define IOAPIC_RTE_LO(p)  (0x10u + 2u * (p))
#define IOAPIC_RTE_HI(p)  (0x11u + 2u * (p))
#define RTE_LEVEL         (1u << 15)
#define RTE_DEST_SHIFT    24

static volatile u32 presses;

static void ioapic_write(u32 reg, u32 val)
{
    *(volatile u32 *)(IOAPIC_BASE + IOAPIC_IOREGSEL) = reg;
    *(volatile u32 *)(IOAPIC_BASE + IOAPIC_IOWIN) = val;
}

/* The SCI: acknowledge the power button at the PM1 block, then the APIC
   (the EOI lets the level-triggered pin deliver again). */
static void sci_handler(struct intr_frame *f)
{
    (void)f;
    u16 sts = inw(PM1_STS);
    if (sts & PM1_PWRBTN) {
        outw(PM1_STS, PM1_PWRBTN);
        presses++;
    }
    apic_eoi();
}

/* See the file comment. */
void guest_main(u32 magic, const struct mb_info *mbi)
{
    (void)mbi;
    require_multiboot(NAME, magic);
    intr_init(NAME);
    apic_sw_enable();
    intr_set_handler(SCI_VECTOR, sci_handler);
    ioapic_write(IOAPIC_RTE_HI(SCI_PIN), apic_id() << RTE_DEST_SHIFT);
    ioapic_write(IOAPIC_RTE_LO(SCI_PIN), SCI_VECTOR | RTE_LEVEL);
    outw(PM1_EN, PM1_PWRBTN);
    gprintf("waiting for the power button\n");
    while (!presses)
        sti_hlt();
    irq_disable();
    gprintf("power button pressed (%u), powering off through S5\n", presses);
    outw(PM1_CNT, PM1_SLP_TYP_S5 | PM1_SLP_EN);
    fail(NAME, "S5 did not power the VM off");
}
