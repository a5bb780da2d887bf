/*
 * VM-exit dispatch: a const table indexed by the basic exit reason
 * (SDM Vol. 3D Appendix C), bounds-checked, with a name for every reason
 * so the per-VM counters print readably (as ACRN's vmexit.c and
 * Jailhouse's vmx.c do). Handlers for devices and MSRs live in their own
 * files; this file holds the dispatcher and the small handlers.
 */
#include "vmm/vm.h"
#include "vmm/exit_handlers.h"
#include "vmm/cpuid_policy.h"
#include "vmm/host_events.h"
#include "arch/x86/cpu.h"
#include "drivers/console.h"
#include "vmm/sched.h"
#include "vmm/exit.h"
#include "vmm/vm_virtio.h"
#include "vmm/vm_trace.h"
#include "vmm/vm_gdb.h"
#include "arch/x86/apic.h"




struct exit_entry {
	const char *name;
	enum exit_action (*handle)(struct vcpu *v, const struct arch_exit *e);
};

static enum exit_action exit_unhandled(struct vcpu *v, const struct arch_exit *e);

static enum exit_action refuse_ud(struct vcpu *v, const struct arch_exit *e)
{
	(void)e;
	arch_vcpu_inject_exception(&v->arch, X86_EXC_UD, false, 0);
	return EXIT_RESUME;
}

/* INVD and WBINVD: caches are the host's business; skip them. */
static enum exit_action ignore_insn(struct vcpu *v, const struct arch_exit *e)
{
	return arch_vcpu_skip(&v->arch, e);   /* EXIT_RESUME */
}

static enum exit_action triple_fault(struct vcpu *v, const struct arch_exit *e)
{
	(void)e;
	vm_stop(v->vm, VM_TRIPLE_FAULT, "triple fault (shutdown) at rip 0x%llx",
		(unsigned long long)arch_vcpu_get(&v->arch, AREG_RIP));
	return EXIT_YIELD;
}

/*
 * HLT: with an interrupt already pending (and IF set), or an NMI the
 * guest is not blocking (inside its NMI handler it is), the CPU would
 * not stop at all (SDM Vol. 2A, HLT: an NMI resumes it, whatever IF);
 * otherwise the vCPU sleeps until one is, and the scheduler runs someone
 * else (a halted guest never stalls the others).
 */
static enum exit_action hlt(struct vcpu *v, const struct arch_exit *e)
{
	bool if_set = arch_vcpu_get(&v->arch, AREG_RFLAGS) & RFLAGS_IF;

	arch_vcpu_skip(&v->arch, e);
	v->halt_nmi = !platform_nmi_blocked(v);
	if ((if_set && platform_poll(v)) ||
	    (v->halt_nmi && platform_nmi_pending(v))) {
		sched_service(v);
		return EXIT_RESUME;
	}
	v->halt_if = if_set;
	v->state = VCPU_HALTED;
	return EXIT_YIELD;
}

/* The guest can take interrupts again: deliver what waited. */
static enum exit_action interrupt_window(struct vcpu *v, const struct arch_exit *e)
{
	(void)e;
	sched_service(v);
	return EXIT_RESUME;
}

/* The guest can take an NMI again (its IRET ended the NMI blocking,
   SDM Vol. 3C §26.7.6): stop asking, and deliver the one that waited;
   sched_service asks again if it still cannot. */
static enum exit_action nmi_window(struct vcpu *v, const struct arch_exit *e)
{
	(void)e;
	arch_vcpu_nmi_window(&v->arch, false);
	sched_service(v);
	return EXIT_RESUME;
}

/* APIC virtualization's trap-like exits: the guest's instruction is
   done, and uhv finishes what the CPU left it (SDM Vol. 3C §30.4.3.3,
   §30.1.4): act on a register write, tell the I/O APIC of an EOI. */
static enum exit_action apic_write(struct vcpu *v, const struct arch_exit *e)
{
	platform_apic_write(v, e->apic.offset);
	return sched_resume(v);
}

static enum exit_action virtualized_eoi(struct vcpu *v, const struct arch_exit *e)
{
	platform_virtual_eoi(v, e->eoi.vector);
	return sched_resume(v);
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

/* The slice is over, or one of the VM's timers is due. */
static enum exit_action preemption_timer(struct vcpu *v,
					 const struct arch_exit *e)
{
	(void)e;
	if (rdtsc() >= v->slice_end)
		return EXIT_YIELD;
	sched_service(v);
	return EXIT_RESUME;
}

static enum exit_action ept_misconfig(struct vcpu *v, const struct arch_exit *e)
{
	vm_stop(v->vm, VM_ERROR, "EPT misconfiguration at guest-physical 0x%llx "
		"(a uhv bug)", (unsigned long long)e->ept.gpa);
	return EXIT_YIELD;
}

static enum exit_action exit_xsetbv(struct vcpu *v, const struct arch_exit *e)
{
	u64 *r = v->arch.regs;
	u64 val = (r[GPR_RDX] << 32) | (u32)r[GPR_RAX];

	/* XCR0 only (ECX = 0), and only a value valid for the CPU the
	   guest's CPUID describes (SDM Vol. 2D, XSETBV) */
	if ((u32)r[GPR_RCX] != 0 ||
	    !cpuid_xcr0_valid(cpuid_guest_policy(), val) ||
	    !arch_vcpu_xsetbv(&v->arch, (u32)r[GPR_RCX], val)) {
		arch_vcpu_inject_exception(&v->arch, X86_EXC_GP, true, 0);
		return EXIT_RESUME;
	}
	return arch_vcpu_skip(&v->arch, e);   /* EXIT_RESUME */
}

#define EXIT(reason, fn) [EXIT_REASON_##reason] = { #reason, fn }
#define UNHANDLED exit_unhandled

static const struct exit_entry exit_table[EXIT_REASON_MAX] = {
	EXIT(EXCEPTION_NMI, exit_exception_nmi),
	EXIT(EXTERNAL_INTERRUPT, external_interrupt),
	EXIT(TRIPLE_FAULT, triple_fault),
	EXIT(INIT_SIGNAL, init_signal),
	EXIT(SIPI, sipi),
	EXIT(IO_SMI, UNHANDLED), EXIT(OTHER_SMI, UNHANDLED),
	EXIT(INTERRUPT_WINDOW, interrupt_window), EXIT(NMI_WINDOW, nmi_window),
	EXIT(TASK_SWITCH, UNHANDLED),
	EXIT(CPUID, exit_cpuid),
	EXIT(GETSEC, refuse_ud),
	EXIT(HLT, hlt),
	EXIT(INVD, ignore_insn),
	EXIT(INVLPG, UNHANDLED), EXIT(RDPMC, UNHANDLED), EXIT(RDTSC, UNHANDLED), EXIT(RSM, UNHANDLED),
	EXIT(VMCALL, exit_vmcall),
	EXIT(VMCLEAR, refuse_ud), EXIT(VMLAUNCH, refuse_ud),
	EXIT(VMPTRLD, refuse_ud), EXIT(VMPTRST, refuse_ud),
	EXIT(VMREAD, refuse_ud), EXIT(VMRESUME, refuse_ud),
	EXIT(VMWRITE, refuse_ud), EXIT(VMXOFF, refuse_ud), EXIT(VMXON, refuse_ud),
	EXIT(CR_ACCESS, exit_cr_access),
	EXIT(DR_ACCESS, UNHANDLED),
	EXIT(IO_INSTRUCTION, exit_io),
	EXIT(RDMSR, exit_rdmsr),
	EXIT(WRMSR, exit_wrmsr),
	EXIT(ENTRY_FAIL_GUEST, UNHANDLED), EXIT(ENTRY_FAIL_MSR, UNHANDLED),
	[35] = { "RESERVED_35", UNHANDLED },
	EXIT(MWAIT, refuse_ud),
	EXIT(MONITOR_TRAP_FLAG, vm_gdb_step_exit),
	[38] = { "RESERVED_38", UNHANDLED },
	EXIT(MONITOR, refuse_ud),
	EXIT(PAUSE, ignore_insn),
	EXIT(ENTRY_FAIL_MCE, exit_entry_fail_mce),
	[42] = { "RESERVED_42", UNHANDLED },
	EXIT(TPR_BELOW_THRESHOLD, UNHANDLED), EXIT(APIC_ACCESS, exit_apic_access),
	EXIT(VIRTUALIZED_EOI, virtualized_eoi), EXIT(GDTR_IDTR, UNHANDLED), EXIT(LDTR_TR, UNHANDLED),
	EXIT(EPT_VIOLATION, exit_ept_violation),
	EXIT(EPT_MISCONFIG, ept_misconfig),
	EXIT(INVEPT, refuse_ud),
	EXIT(RDTSCP, UNHANDLED),
	EXIT(PREEMPTION_TIMER, preemption_timer),
	EXIT(INVVPID, refuse_ud),
	EXIT(WBINVD, ignore_insn),
	EXIT(XSETBV, exit_xsetbv),
	EXIT(APIC_WRITE, apic_write), EXIT(RDRAND, UNHANDLED), EXIT(INVPCID, UNHANDLED),
	EXIT(VMFUNC, refuse_ud), EXIT(ENCLS, refuse_ud), EXIT(RDSEED, UNHANDLED),
	EXIT(PML_FULL, UNHANDLED), EXIT(XSAVES, UNHANDLED), EXIT(XRSTORS, UNHANDLED),
};

const char *exit_reason_name(u32 reason)
{
	if (reason < EXIT_REASON_MAX)
		return exit_table[reason].name;
	return "UNKNOWN";
}

/*
 * Every reason uhv does not emulate, and failed VM entries (reasons 33
 * and 34 always come with bit 31 set; 41 has its own handler): the VM stops with the reason
 * named. Kept out of line, off the hot path.
 */
static __attribute__((noinline, cold)) enum exit_action
exit_unhandled(struct vcpu *v, const struct arch_exit *e)
{
	if (e->entry_failed)
		vm_stop(v->vm, VM_ERROR, "VM entry failed: %s (reason %u)",
			exit_reason_name(e->reason), e->reason);
	else
		vm_stop(v->vm, VM_ERROR, "unhandled VM exit %s (reason %u) at "
			"rip 0x%llx", exit_reason_name(e->reason), e->reason,
			(unsigned long long)arch_vcpu_get(&v->arch, AREG_RIP));
	return EXIT_YIELD;
}

/* Bounds-check the reason, count it, call its handler. The table has a
   handler for every reason below EXIT_REASON_MAX. */
static inline int dispatch(struct vcpu *v, const struct arch_exit *e)
{
	u32 r = e->reason;

	if (r >= EXIT_REASON_MAX)
		return exit_unhandled(v, e);
	v->vm->exits[r]++;
	return exit_table[r].handle(v, e);
}

/* Out of line, so that the common path below needs no stack frame and
   stays a tail call into the handler (a frame costs every exit ~13
   instructions: make bench's CPUID round trip). */
static __attribute__((noinline)) int dispatch_deferred(struct vcpu *v,
						      const struct arch_exit *e)
{
	vm_virtio_run_deferred(v->vm);
	return dispatch(v, e);
}

/*
 * The dispatcher: first the device work the VM's last exits deferred (a
 * NIC's transmitted frames, batched since its notification), then the
 * exit's own handler.
 */
int exit_dispatch(void *ctx, const struct arch_exit *e)
{
	struct vcpu *v = ctx;

	if (v->vm->nr_deferred)
		return dispatch_deferred(v, e);
	return dispatch(v, e);
}

/* The dispatcher of a VM that traces its exits: the record first (the
   exit as the guest left it: RIP, ECX, EAX before the handler runs). */
static int exit_dispatch_traced(void *ctx, const struct arch_exit *e)
{
	vm_trace_exit(ctx, e);
	return exit_dispatch(ctx, e);
}

arch_exit_fn exit_handler(const struct vm *vm)
{
	if (vm->cfg->trace != CFG_TRACE_OFF)
		return exit_dispatch_traced;
	return exit_dispatch;
}
