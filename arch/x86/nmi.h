/*
 * Host NMIs. uhv runs guests with "NMI exiting" and "virtual NMIs" (SDM
 * Vol. 3C §25.6.1): every NMI is uhv's. One that arrives in VMX root is
 * taken through IDT vector 2 on its own IST stack and counted; one that
 * arrives while a guest runs causes a VM exit (reason EXCEPTION_NMI,
 * interruption type NMI: §28.2.2), which the VMM hands to arch_nmi_exit.
 * Neither is given to a guest: guests get NMIs only when the VMM injects
 * them, and virtual NMIs track the guest's own blocking.
 */
#ifndef UHV_ARCH_NMI_H
#define UHV_ARCH_NMI_H

#include "lib/types.h"

struct arch_nmi_counts {
	u64 root;      /* taken through the IDT in VMX root */
	u64 guest;     /* VM exits caused by an NMI */
};

/* Whether the CPU has NMI exiting and virtual NMIs (probed by
   arch_vmx_enable; said once at boot when it does not). */
bool arch_nmi_exiting(void);
void arch_nmi_counts(struct arch_nmi_counts *c);
/* After a VM exit caused by an NMI: counts it and ends the NMI blocking
   that such an exit leaves in VMX root (an IRET). */
void arch_nmi_exit(void);
/* Self-test: sends this CPU an NMI through its local APIC (ICR, delivery
   mode NMI, its own APIC id: SDM Vol. 3A §11.6.1) and waits until VMX
   root has taken it. false if none arrived. */
bool arch_nmi_send_root(void);
/*
 * Self-test: NMIs timed to arrive while a guest runs. A self-IPI cannot
 * be: it is taken at once, in VMX root. (Sending it while NMIs are
 * blocked in root, so that it waits for VM entry, where virtual NMIs
 * unblock NMIs (§27.7.1), is what the SDM allows; Bochs 2.7 keeps the
 * blocking across VM entry, its bug #1456, fixed in 2.8.) So the PIT's
 * one-shot count ends while the guest runs, its IRQ 0 reaches the I/O
 * APIC's input 2 (the ISA override every PC's MADT has), and that entry
 * delivers it to this local APIC as an NMI (82093AA §3.2.4, delivery
 * mode NMI). route(true) programs that entry; false masks it again;
 * false if there is no I/O APIC. arm() starts the count.
 */
bool arch_nmi_timer_route(bool on);
void arch_nmi_timer_arm(void);

/* apic.c: an NMI to this CPU's own local APIC. */
void arch_lapic_self_nmi(void);
/* nmi.c, for vmx.c: record the probe. */
void arch_nmi_set_exiting(bool on);

#endif
