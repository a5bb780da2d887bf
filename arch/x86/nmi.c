/*
 * Host NMIs: the handler behind IDT vector 2 (trap_stubs.asm, nmi_entry)
 * and the accounting of NMIs that arrive while guests run. An NMI can
 * interrupt any root code, so the handler only counts (no console, no
 * locks); the VMM prints the counts.
 */
#include "arch/x86/nmi.h"
#include "arch/x86/cpu.h"

/* How long arch_nmi_send_root waits for its NMI, in TSC ticks. */
#define NMI_WAIT_TICKS 10000000ULL

void nmi_handler(void);
void arch_nmi_unblock(void);      /* trap_stubs.asm */

static volatile u64 nr_root, nr_guest;
static bool exiting;

/* What vmx.c's probe found (SDM Vol. 3C §25.6.1, Appendix A.3.1). */
void arch_nmi_set_exiting(bool on)
{
	exiting = on;
}

bool arch_nmi_exiting(void)
{
	return exiting;
}

/* A snapshot; the handler only ever increments. */
void arch_nmi_counts(struct arch_nmi_counts *c)
{
	c->root = nr_root;
	c->guest = nr_guest;
}

/* Vector 2 in VMX root (SDM Vol. 3A §6.7.1): counted; nmi_entry's IRET
   ends the blocking. */
void nmi_handler(void)
{
	nr_root++;
}

/*
 * A VM exit caused by an NMI blocks NMIs in VMX root until an IRET (SDM
 * Vol. 3C §28.5, "VM exits caused directly by NMIs cause blocking by
 * NMI"): count it and IRET, so the next NMI is not held up until the
 * next VM entry (or, on a CPU that keeps the blocking across VM entry,
 * lost for good).
 */
void arch_nmi_exit(void)
{
	nr_guest++;
	arch_nmi_unblock();
}

/* The self-IPI, then a spin until the handler counted it, at most
   NMI_WAIT_TICKS. */
bool arch_nmi_send_root(void)
{
	u64 was = nr_root, end;

	arch_lapic_self_nmi();
	end = rdtsc() + NMI_WAIT_TICKS;
	while (nr_root == was)
		if (rdtsc() > end)
			return false;
	return true;
}
