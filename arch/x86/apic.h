/*
 * The host's own interrupt controllers (apic.c): silenced at boot, then
 * used only to acknowledge stray interrupts and to send self-test NMIs.
 */
#ifndef UHV_ARCH_APIC_H
#define UHV_ARCH_APIC_H

#include "lib/types.h"

/* Masks the legacy PICs, every I/O APIC redirection entry (the MADT's,
   or the default I/O APIC without one), the HPET's timers (its ACPI
   table's, or one at the default address that reads true), and the
   local APIC's timer, LINT0/1, CMCI, thermal and perf entries; logs what
   it silenced. acpi_rsdp: the firmware's RSDP, 0 if none. */
void arch_host_irq_init(u64 acpi_rsdp);
/* The serial console the firmware's ACPI SPCR table names (a 16550 at
   an I/O port); false where there is none. */
bool arch_host_spcr(u64 acpi_rsdp, u16 *port, u32 *baud);
/* End of interrupt to this CPU's local APIC (§11.8.5). */
void arch_lapic_eoi(void);

#endif
