/*
 * VM-exit dispatch: a const table indexed by the basic exit reason
 * (SDM Vol. 3D Appendix C), bounds-checked, with a name for every reason
 * so the per-VM counters print readably (as ACRN's vmexit.c and
 * Jailhouse's vmx.c do). Handlers for devices and MSRs live in their own
 * files; this file holds the dispatcher and the small handlers.
 */
#include "vmm.h"
#include "exit_handlers.h"
#include "../drivers/console.h"




struct exit_entry {
	const char *name;
	enum exit_action (*handle)(struct vcpu *v, const struct arch_exit *e);
};

static enum exit_action refuse_ud(struct vcpu *v, const struct arch_exit *e)
{
	(void)e;
	arch_vcpu_inject_exception(&v->arch, X86_EXC_UD, false, 0);
	return EXIT_RESUME;
}

/* INVD and WBINVD: caches are the host's business; skip them. */
static enum exit_action ignore_insn(struct vcpu *v, const struct arch_exit *e)
{
	arch_vcpu_skip(&v->arch, e);
	return EXIT_RESUME;
}

static enum exit_action triple_fault(struct vcpu *v, const struct arch_exit *e)
{
	(void)e;
	vm_stop(v->vm, VM_TRIPLE_FAULT, "triple fault (shutdown) at rip 0x%llx",
		(unsigned long long)arch_vcpu_get(&v->arch, AREG_RIP));
	return EXIT_YIELD;
}

/* HLT: there is no virtual interrupt source yet, so a halted vCPU can
   only wake by INIT/SIPI; the scheduler stops VMs that cannot wake. */
static enum exit_action hlt(struct vcpu *v, const struct arch_exit *e)
{
	arch_vcpu_skip(&v->arch, e);
	v->state = VCPU_HALTED;
	return EXIT_YIELD;
}

/* INIT: the vCPU waits for a SIPI (SDM Vol. 3A §9.4). */
static enum exit_action init_signal(struct vcpu *v, const struct arch_exit *e)
{
	(void)e;
	v->state = VCPU_WAIT_SIPI;
	return EXIT_YIELD;
}

static enum exit_action sipi(struct vcpu *v, const struct arch_exit *e)
{
	if (v->state == VCPU_WAIT_SIPI) {
		arch_vcpu_reset_sipi(&v->arch, e->sipi.vector);
		v->state = VCPU_RUNNABLE;
	}
	return EXIT_RESUME;
}

/* A physical interrupt arrived while the guest ran: uhv itself takes
   none (PIC masked, timers off), so acknowledge it and go on. */
static enum exit_action external_interrupt(struct vcpu *v,
					   const struct arch_exit *e)
{
	(void)v;
	(void)e;
	arch_lapic_eoi();
	return EXIT_RESUME;
}

static enum exit_action preemption_timer(struct vcpu *v,
					 const struct arch_exit *e)
{
	(void)v;
	(void)e;
	return EXIT_YIELD;
}

static enum exit_action ept_misconfig(struct vcpu *v, const struct arch_exit *e)
{
	vm_stop(v->vm, VM_ERROR, "EPT misconfiguration at guest-physical 0x%llx "
		"(a uhv bug)", (unsigned long long)e->ept.gpa);
	return EXIT_YIELD;
}

static enum exit_action xsetbv(struct vcpu *v, const struct arch_exit *e)
{
	u64 *r = v->arch.regs;
	u64 val = (r[GPR_RDX] << 32) | (u32)r[GPR_RAX];

	if (!arch_vcpu_xsetbv(&v->arch, (u32)r[GPR_RCX], val)) {
		arch_vcpu_inject_exception(&v->arch, X86_EXC_GP, true, 0);
		return EXIT_RESUME;
	}
	arch_vcpu_skip(&v->arch, e);
	return EXIT_RESUME;
}

#define EXIT(reason, fn) [EXIT_REASON_##reason] = { #reason, fn }

static const struct exit_entry exit_table[EXIT_REASON_MAX] = {
	EXIT(EXCEPTION_NMI, NULL),
	EXIT(EXTERNAL_INTERRUPT, external_interrupt),
	EXIT(TRIPLE_FAULT, triple_fault),
	EXIT(INIT_SIGNAL, init_signal),
	EXIT(SIPI, sipi),
	EXIT(IO_SMI, NULL), EXIT(OTHER_SMI, NULL),
	EXIT(INTERRUPT_WINDOW, NULL), EXIT(NMI_WINDOW, NULL),
	EXIT(TASK_SWITCH, NULL),
	EXIT(CPUID, exit_cpuid),
	EXIT(GETSEC, refuse_ud),
	EXIT(HLT, hlt),
	EXIT(INVD, ignore_insn),
	EXIT(INVLPG, NULL), EXIT(RDPMC, NULL), EXIT(RDTSC, NULL), EXIT(RSM, NULL),
	EXIT(VMCALL, exit_vmcall),
	EXIT(VMCLEAR, refuse_ud), EXIT(VMLAUNCH, refuse_ud),
	EXIT(VMPTRLD, refuse_ud), EXIT(VMPTRST, refuse_ud),
	EXIT(VMREAD, refuse_ud), EXIT(VMRESUME, refuse_ud),
	EXIT(VMWRITE, refuse_ud), EXIT(VMXOFF, refuse_ud), EXIT(VMXON, refuse_ud),
	EXIT(CR_ACCESS, exit_cr_access),
	EXIT(DR_ACCESS, NULL),
	EXIT(IO_INSTRUCTION, exit_io),
	EXIT(RDMSR, exit_rdmsr),
	EXIT(WRMSR, exit_wrmsr),
	EXIT(ENTRY_FAIL_GUEST, NULL), EXIT(ENTRY_FAIL_MSR, NULL),
	EXIT(MWAIT, refuse_ud),
	EXIT(MONITOR_TRAP_FLAG, NULL),
	EXIT(MONITOR, refuse_ud),
	EXIT(PAUSE, ignore_insn),
	EXIT(ENTRY_FAIL_MCE, NULL),
	EXIT(TPR_BELOW_THRESHOLD, NULL), EXIT(APIC_ACCESS, NULL),
	EXIT(VIRTUALIZED_EOI, NULL), EXIT(GDTR_IDTR, NULL), EXIT(LDTR_TR, NULL),
	EXIT(EPT_VIOLATION, exit_ept_violation),
	EXIT(EPT_MISCONFIG, ept_misconfig),
	EXIT(INVEPT, refuse_ud),
	EXIT(RDTSCP, NULL),
	EXIT(PREEMPTION_TIMER, preemption_timer),
	EXIT(INVVPID, refuse_ud),
	EXIT(WBINVD, ignore_insn),
	EXIT(XSETBV, xsetbv),
	EXIT(APIC_WRITE, NULL), EXIT(RDRAND, NULL), EXIT(INVPCID, NULL),
	EXIT(VMFUNC, refuse_ud), EXIT(ENCLS, refuse_ud), EXIT(RDSEED, NULL),
	EXIT(PML_FULL, NULL), EXIT(XSAVES, NULL), EXIT(XRSTORS, NULL),
};

const char *exit_reason_name(u32 reason)
{
	if (reason < EXIT_REASON_MAX && exit_table[reason].name)
		return exit_table[reason].name;
	return "UNKNOWN";
}

enum exit_action exit_dispatch(struct vcpu *v, const struct arch_exit *e)
{
	struct vm *vm = v->vm;
	const struct exit_entry *x;

	if (e->reason < EXIT_REASON_MAX)
		vm->exits[e->reason]++;
	vm->exits_total++;
	if (e->entry_failed) {
		vm_stop(vm, VM_ERROR, "VM entry failed: %s (reason %u)",
			exit_reason_name(e->reason), e->reason);
		return EXIT_YIELD;
	}
	if (e->reason >= EXIT_REASON_MAX || !exit_table[e->reason].handle) {
		vm_stop(vm, VM_ERROR, "unhandled VM exit %s (reason %u) at rip 0x%llx",
			exit_reason_name(e->reason), e->reason,
			(unsigned long long)arch_vcpu_get(&v->arch, AREG_RIP));
		return EXIT_YIELD;
	}
	x = &exit_table[e->reason];
	return x->handle(v, e);
}
