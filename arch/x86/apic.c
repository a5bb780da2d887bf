/*
 * The host's interrupt controllers. uhv polls its devices and takes no
 * interrupts, so at start it masks the legacy PICs and the local APIC
 * timer the firmware may have left running; a physical interrupt that
 * still arrives during a guest's time slice causes an exit (acknowledged
 * on exit) and only needs an EOI.
 */
#include "cpu.h"
#include "msr.h"

#define PIC1_DATA 0x21
#define PIC2_DATA 0xa1
#define PIC_MASK_ALL 0xff
#define LAPIC_EOI 0xb0            /* xAPIC register offsets (SDM Vol. 3A §11.4.1) */
#define LAPIC_LVT_TIMER 0x320
#define LVT_MASKED (1U << 16)
#define MSR_X2APIC_EOI 0x80b

void arch_host_irq_init(void);
void arch_lapic_eoi(void);

static bool x2apic(void)
{
	return rdmsr(MSR_IA32_APIC_BASE) & APIC_BASE_X2APIC;
}

static volatile u32 *lapic_reg(u32 off)
{
	return (volatile u32 *)(uintptr_t)((rdmsr(MSR_IA32_APIC_BASE) &
					    APIC_BASE_ADDR_MASK) + off);
}

void arch_host_irq_init(void)
{
	outb(PIC1_DATA, PIC_MASK_ALL);
	outb(PIC2_DATA, PIC_MASK_ALL);
	if (x2apic())
		wrmsr(MSR_IA32_X2APIC_LVT_TIMER,
		      rdmsr(MSR_IA32_X2APIC_LVT_TIMER) | LVT_MASKED);
	else
		*lapic_reg(LAPIC_LVT_TIMER) |= LVT_MASKED;
}

void arch_lapic_eoi(void)
{
	if (x2apic())
		wrmsr(MSR_X2APIC_EOI, 0);
	else
		*lapic_reg(LAPIC_EOI) = 0;
}
