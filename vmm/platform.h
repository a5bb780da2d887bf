/*
 * The virtual platform of one VM: the devices an operating system expects
 * on a PC (local APIC, I/O APIC, masked legacy PIC, PIT, RTC, ACPI PM
 * block and tables, PCI host bridge) beside the UART, fw_cfg and debug
 * exit, and the wiring between them: which pin each device raises and how
 * an interrupt travels from a pin to the vCPU.
 *
 *   UART (IRQ 4) --+
 *   PIT  (IRQ 0) --+--> I/O APIC pin --> local APIC --> vCPU (injection)
 *   PM   (SCI 9) --+                       ^
 *                              APIC timer -+   EOI of level vectors -> I/O APIC
 */
#ifndef UHV_VMM_PLATFORM_H
#define UHV_VMM_PLATFORM_H

#include "vmm/dev/acpi_pm.h"
#include "vmm/dev/ioapic.h"
#include "vmm/dev/lapic.h"
#include "vmm/dev/pci.h"
#include "vmm/dev/pic.h"
#include "vmm/dev/pit.h"
#include "vmm/dev/rtc.h"

#define PM_PORT_BASE  0x600
#define SCI_IRQ       9
#define UART_IRQ      4
#define PIT_IRQ_PIN   2          /* ISA IRQ 0 arrives on pin 2 (MADT override) */
#define PCI_IRQ_BASE  16         /* PCI INTx pins: 16.. (above the ISA IRQs) */
#define PCI_IRQ_COUNT 8

struct vm;
struct vcpu;

struct platform {
	struct ioapic ioapic;
	struct pic pic;
	struct pit pit;
	struct rtc rtc;
	struct acpi_pm pm;
	struct pci_bus pci;
	u64 rsdp;
	u64 irqs_injected;
	u64 nmis_injected;       /* NMIs given to its vCPUs (platform_inject) */
	u64 nmis_dropped;        /* ... and dropped: the CPU lacks virtual NMIs */
	u64 nmi_blocks_cleared;  /* NMI blocking no NMI began (platform.c) */
};

/* Creates the devices of vm and builds its ACPI tables; 0 or -1. */
int platform_init(struct vm *vm, u64 tsc_hz, u64 boot_epoch, u64 boot_tsc);
/* Sets up vCPU v's local APIC (APIC id = v->id). */
void platform_init_vcpu(struct vcpu *v, u32 *apic_page);
/* Presses the VM's ACPI power button (the graceful half of stop). */
void platform_power_button(struct vm *vm);
/* Fires v's timers that are due; true if an interrupt is pending for v
   (touches no VMCS: works for a vCPU that is not loaded). */
bool platform_poll(struct vcpu *v);
/* An NMI is pending for v (an NMI IPI); touches no VMCS. */
bool platform_nmi_pending(const struct vcpu *v);
/* With v loaded: v is inside its NMI handler (an NMI cannot wake it
   from HLT, nor be injected, before its IRET). */
bool platform_nmi_blocked(struct vcpu *v);
/* With v loaded: injects a pending NMI, else the highest deliverable
   interrupt, or asks for an NMI- or interrupt-window exit if the guest
   cannot take it yet. */
void platform_inject(struct vcpu *v);
/* APIC virtualization's exits: an EOI of a level-triggered vector, a
   write the CPU put in the register page (arch_exit.apic.offset). */
void platform_virtual_eoi(struct vcpu *v, u8 vector);
void platform_apic_write(struct vcpu *v, u32 offset);
/* With v loaded, after a WRMSR of IA32_APIC_BASE changed its APIC's
   state: APIC virtualization follows it. */
void platform_apic_mode_changed(struct vcpu *v);
/* An interrupt message for the vCPU(s) dest names (an I/O APIC entry or
   an MSI): APIC id, or logical mask when logical is set. */
void platform_deliver(struct vm *vm, u8 vector, bool level, u32 dest,
		      bool logical);
/* The UART's interrupt line (ctx: the vm). */
void platform_uart_irq(void *ctx, bool level);
/* v's own TSC: the host's plus the offset its IA32_TSC_ADJUST and TSC
   writes set (msr.c). Its local APIC counts in it. */
u64 platform_vcpu_tsc(const struct vcpu *v);
/* TSC time of v's next timer event (its APIC, the VM's PIT), or ~0. */
u64 platform_next_deadline(const struct vcpu *v);

#endif
