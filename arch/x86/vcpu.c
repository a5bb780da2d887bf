/*
 * Running a vCPU: enter, decode the exit into data, and the small set of
 * state accessors the VMM needs. The VMM never sees a VMCS encoding; the
 * table areg_field[] is where its names meet the SDM's.
 */
#include "arch/x86/vcpu.h"
#include "arch/x86/cpu.h"
#include "arch/x86/vmx_ops.h"
#include "arch/x86/vcpu_current.h"
#include "arch/x86/dbgreg.h"

/* vmx_entry.asm: 0 once on_exit returned nonzero; else VMRESUME (1) or
   VMLAUNCH (2) failed. */
#define VMX_RUN_RESUME_FAILED 1
#define VMX_RUN_LAUNCH_FAILED 2
int vmx_run(u64 *regs, int launched, int (*on_exit)(void *), void *ctx);

static const enum vmcs_field areg_field[NR_AREGS] = {
	[AREG_RIP] = VMCS_GUEST_RIP,
	[AREG_RSP] = VMCS_GUEST_RSP,
	[AREG_RFLAGS] = VMCS_GUEST_RFLAGS,
	[AREG_CR0] = VMCS_GUEST_CR0,
	[AREG_CR3] = VMCS_GUEST_CR3,
	[AREG_CR4] = VMCS_GUEST_CR4,
	[AREG_EFER] = VMCS_GUEST_IA32_EFER,
	[AREG_PAT] = VMCS_GUEST_IA32_PAT,
	[AREG_CR0_SHADOW] = VMCS_CR0_READ_SHADOW,
	[AREG_CR4_SHADOW] = VMCS_CR4_READ_SHADOW,
	[AREG_ES_BASE] = VMCS_GUEST_ES_BASE,
	[AREG_CS_BASE] = VMCS_GUEST_CS_BASE,
	[AREG_SS_BASE] = VMCS_GUEST_SS_BASE,
	[AREG_DS_BASE] = VMCS_GUEST_DS_BASE,
	[AREG_FS_BASE] = VMCS_GUEST_FS_BASE,
	[AREG_GS_BASE] = VMCS_GUEST_GS_BASE,
	[AREG_SYSENTER_CS] = VMCS_GUEST_SYSENTER_CS,
	[AREG_SYSENTER_ESP] = VMCS_GUEST_SYSENTER_ESP,
	[AREG_SYSENTER_EIP] = VMCS_GUEST_SYSENTER_EIP,
	[AREG_INTERRUPTIBILITY] = VMCS_GUEST_INTERRUPTIBILITY,
	[AREG_CS_SEL] = VMCS_GUEST_CS_SELECTOR,
	[AREG_SS_SEL] = VMCS_GUEST_SS_SELECTOR,
	[AREG_DS_SEL] = VMCS_GUEST_DS_SELECTOR,
	[AREG_ES_SEL] = VMCS_GUEST_ES_SELECTOR,
	[AREG_FS_SEL] = VMCS_GUEST_FS_SELECTOR,
	[AREG_GS_SEL] = VMCS_GUEST_GS_SELECTOR,
};

u64 arch_vcpu_get(struct arch_vcpu *v, enum arch_reg r)
{
	VCPU_CHECK_VMCS(v);
	return vmread(areg_field[r]);
}

void arch_vcpu_set(struct arch_vcpu *v, enum arch_reg r, u64 val)
{
	VCPU_CHECK_VMCS(v);
	vmwrite(areg_field[r], val);
}

/* CS.L and CS.D give the default operand size (SDM Vol. 3A §3.4.5); the
   VMCS keeps them in its access-rights format (SDM Vol. 3C §25.4.1). */
unsigned arch_vcpu_code_bits(struct arch_vcpu *v)
{
	u64 ar;

	VCPU_CHECK_VMCS(v);
	ar = vmread(VMCS_GUEST_CS_AR);
	if (ar & SEG_AR_L)
		return 64;
	return (ar & SEG_AR_DB) ? 32 : 16;
}

/*
 * An exit in the middle of delivering an event (IDT-vectoring information
 * valid, SDM Vol. 3C §28.2.4) must not lose that event: deliver it again
 * on the next entry (§29.2.4, "reflecting exceptions"), unless the VMM
 * has already queued another.
 */
static void reinject_vectoring(void)
{
	u32 info = (u32)vmread(VMCS_IDT_VECTORING_INFO);

	if (!(info & INTR_INFO_VALID))
		return;
	vmwrite(VMCS_ENTRY_INTR_INFO, info & ~INTR_INFO_NMI_UNBLOCK);
	if (info & INTR_INFO_DELIVER_CODE)
		vmwrite(VMCS_ENTRY_EXCEPTION_ERROR_CODE,
			vmread(VMCS_IDT_VECTORING_ERROR_CODE));
	vmwrite(VMCS_ENTRY_INSTRUCTION_LEN, vmread(VMCS_EXIT_INSTRUCTION_LEN));
}

/* The exits that need no more than the reason and the instruction's
   length: an instruction's own exit (§26.1.2-26.1.3) other than I/O and
   CR accesses, which decode_exit decodes. Reasons below 64. */
#define R(x) (1ULL << EXIT_REASON_##x)
#define PLAIN_INSTRUCTION_EXITS						\
	(R(CPUID) | R(GETSEC) | R(HLT) | R(INVD) | R(INVLPG) | R(RDPMC) |	\
	 R(RDTSC) | R(RSM) | R(VMCALL) | R(VMCLEAR) | R(VMLAUNCH) |	\
	 R(VMPTRLD) | R(VMPTRST) | R(VMREAD) | R(VMRESUME) | R(VMWRITE) |	\
	 R(VMXOFF) | R(VMXON) | R(DR_ACCESS) | R(RDMSR) | R(WRMSR) |	\
	 R(MWAIT) | R(MONITOR) | R(PAUSE) | R(GDTR_IDTR) | R(LDTR_TR) |	\
	 R(INVEPT) | R(RDTSCP) | R(INVVPID) | R(WBINVD) | R(XSETBV) |	\
	 R(RDRAND) | R(INVPCID) | R(VMFUNC) | R(ENCLS) | R(RDSEED) |	\
	 R(XSAVES))

static bool plain_instruction_exit(u32 reason)
{
	return reason < 64 && (PLAIN_INSTRUCTION_EXITS >> reason & 1);
}

/* Fills the reason-specific part of e from the exit qualification. */
static void decode_qual(struct arch_exit *e)
{
	u64 q;

	switch (e->reason) {
	case EXIT_REASON_IO_INSTRUCTION:
		q = e->qual = vmread(VMCS_EXIT_QUALIFICATION);
		e->io.port = (u16)(q >> IO_QUAL_PORT_SHIFT & IO_QUAL_PORT_MASK);
		e->io.size = (u8)((q & IO_QUAL_SIZE_MASK) + 1);
		e->io.in = q & IO_QUAL_IN;
		e->io.string = q & IO_QUAL_STRING;
		e->io.rep = q & IO_QUAL_REP;
		break;
	case EXIT_REASON_CR_ACCESS:
		q = e->qual = vmread(VMCS_EXIT_QUALIFICATION);
		e->cr.cr = (u8)(q & CR_QUAL_CR_MASK);
		e->cr.type = (u8)(q >> CR_QUAL_TYPE_SHIFT & CR_QUAL_TYPE_MASK);
		e->cr.gpr = (u8)(q >> CR_QUAL_GPR_SHIFT & CR_QUAL_GPR_MASK);
		e->cr.lmsw = (u16)(q >> CR_QUAL_LMSW_SHIFT & CR_QUAL_LMSW_MASK);
		break;
	case EXIT_REASON_EPT_VIOLATION:
	case EXIT_REASON_EPT_MISCONFIG:
		q = e->qual = vmread(VMCS_EXIT_QUALIFICATION);
		e->ept.gpa = vmread(VMCS_GUEST_PHYSICAL_ADDRESS);
		e->ept.gla_valid = q & EPT_QUAL_GLA_VALID;
		e->ept.gla = e->ept.gla_valid ? vmread(VMCS_GUEST_LINEAR_ADDRESS) : 0;
		e->ept.read = q & EPT_QUAL_READ;
		e->ept.write = q & EPT_QUAL_WRITE;
		e->ept.fetch = q & EPT_QUAL_FETCH;
		break;
	case EXIT_REASON_EXTERNAL_INTERRUPT:
	case EXIT_REASON_EXCEPTION_NMI: {
		u32 info = (u32)vmread(VMCS_EXIT_INTR_INFO);

		e->intr.valid = info & INTR_INFO_VALID;
		e->intr.vector = (u8)(info & INTR_INFO_VECTOR_MASK);
		e->intr.type = (u8)(info >> INTR_INFO_TYPE_SHIFT & 7);
		e->intr.nmi = e->intr.valid && e->intr.type == INTR_TYPE_NMI;
		if (e->intr.vector == EXC_VECTOR_DB && !e->intr.nmi)
			e->qual = vmread(VMCS_EXIT_QUALIFICATION);
		break;
	}
	case EXIT_REASON_APIC_ACCESS:
	case EXIT_REASON_APIC_WRITE:
		q = e->qual = vmread(VMCS_EXIT_QUALIFICATION);
		e->apic.offset = (u16)(q & APIC_QUAL_OFFSET_MASK);
		e->apic.data = (q >> APIC_QUAL_TYPE_SHIFT & APIC_QUAL_TYPE_MASK) <=
			       APIC_ACCESS_LINEAR_WRITE;
		break;
	case EXIT_REASON_VIRTUALIZED_EOI:
		e->qual = vmread(VMCS_EXIT_QUALIFICATION);
		e->eoi.vector = (u8)(e->qual & EOI_QUAL_VECTOR_MASK);
		break;
	case EXIT_REASON_SIPI:
		e->qual = vmread(VMCS_EXIT_QUALIFICATION);
		e->sipi.vector = (u8)e->qual;
		break;
	case EXIT_REASON_ENTRY_FAIL_GUEST:  /* these three, and only these, */
	case EXIT_REASON_ENTRY_FAIL_MSR:    /* come with bit 31 (§28.2.1); */
	case EXIT_REASON_ENTRY_FAIL_MCE:    /* arch_vcpu_run clears it */
		e->entry_failed = true;
		break;
	default:
		break;
	}
}

/*
 * Fills the reason-specific part of e. An instruction's own exit happens
 * when the guest executes it, never while the CPU delivers an event, so
 * its IDT-vectoring information is never valid (§28.2.4): those exits,
 * CPUID first among them, skip the VMREAD that checks it (make bench).
 */
static void decode_exit(struct arch_exit *e)
{
	if (plain_instruction_exit(e->reason))
		return;
	if (e->reason != EXIT_REASON_IO_INSTRUCTION &&
	    e->reason != EXIT_REASON_CR_ACCESS)
		reinject_vectoring();
	decode_qual(e);
}

/* Called by vmx_entry.asm on every exit: decode, then ask the VMM. */
static int on_vm_exit(void *p)
{
	struct arch_vcpu *v = p;
	struct arch_exit *e = &v->exit;

	e->reason = (u32)vmread(VMCS_EXIT_REASON) & EXIT_REASON_BASIC_MASK;
	e->instr_len = (u32)vmread(VMCS_EXIT_INSTRUCTION_LEN);
	decode_exit(e);
	return v->on_exit(v->ctx, e);
}

/*
 * The launch state and entry_failed are kept here rather than on every
 * exit (two instructions of make bench's CPUID round trip): once vmx_run
 * returns, the VMCS is launched unless its VMLAUNCH failed (§25.11.3).
 */
int arch_vcpu_run(struct arch_vcpu *v, arch_exit_fn on_exit, void *ctx)
{
	int r;

	/* the exits' handlers then get v, its VMCS current, from here */
	VCPU_CHECK_LOADED(v);
	v->on_exit = on_exit;
	v->ctx = ctx;
	v->exit.entry_failed = false;
	r = vmx_run(v->regs, v->launched, on_vm_exit, v);
	if (r != VMX_RUN_LAUNCH_FAILED)
		v->launched = true;
	if (r) {
		v->vm_instr_error = (u32)vmread(VMCS_VM_INSTRUCTION_ERROR);
		return -1;
	}
	return 0;
}

/* STI and MOV-SS blocking (§25.4.2, Table 25-3): each lasts until the
   instruction after STI or MOV SS ends, or an event is delivered. */
#define BLOCKING_STI_MOV_SS (INTERRUPTIBILITY_STI | INTERRUPTIBILITY_MOV_SS)

/*
 * The end of an instruction uhv carried out for the guest (SDM Vol. 3C
 * and 3B; off the common path, which has none of it):
 *  - STI/MOV-SS blocking ends with it (§25.4.2).
 *  - RF clears once an instruction completes (Vol. 3B §18.3.1.1); the
 *    exit of an EPT violation or APIC access saved it as 1 (§28.3.3).
 *  - TF: the CPU's single-step trap after the instruction (Vol. 3B
 *    §18.3.1.4) never happened, the CPU having run none of it. BS in the
 *    pending debug exceptions has VM entry deliver it: a #DB with DR6.BS
 *    set and the saved RIP after the instruction (§27.7.3). Not with
 *    IA32_DEBUGCTL.BTF, where TF steps on branches only. Bits already
 *    pending (a MOV SS's deferred traps) stay, as the CPU delivers them
 *    together in one #DB after the next instruction.
 */
static __attribute__((noinline, cold)) void skip_debug_state(void)
{
	u64 intr = vmread(VMCS_GUEST_INTERRUPTIBILITY);
	u64 rflags = vmread(VMCS_GUEST_RFLAGS);

	if (intr & BLOCKING_STI_MOV_SS)
		vmwrite(VMCS_GUEST_INTERRUPTIBILITY,
			intr & ~(u64)BLOCKING_STI_MOV_SS);
	if (rflags & RFLAGS_RF)
		vmwrite(VMCS_GUEST_RFLAGS, rflags & ~RFLAGS_RF);
	if ((rflags & RFLAGS_TF) &&
	    !(vmread(VMCS_GUEST_IA32_DEBUGCTL) & DEBUGCTL_BTF))
		vmwrite(VMCS_GUEST_PENDING_DBG_EXCEPTIONS,
			vmread(VMCS_GUEST_PENDING_DBG_EXCEPTIONS) |
			PENDING_DBG_BS);
}

/* The common path: RIP, then one test of the blocking, TF and RF (the
   slow path reads them again; the fast one keeps no copies). Blocking
   bits are below bit 8, TF and RF above, so one OR holds all three. */
int arch_vcpu_skip(struct arch_vcpu *v, const struct arch_exit *e)
{
	u64 state;

	VCPU_CHECK_VMCS(v);
	vmwrite(VMCS_GUEST_RIP, vmread(VMCS_GUEST_RIP) + e->instr_len);
	state = vmread(VMCS_GUEST_INTERRUPTIBILITY) |
		(vmread(VMCS_GUEST_RFLAGS) & (RFLAGS_TF | RFLAGS_RF));
	if (state & (BLOCKING_STI_MOV_SS | RFLAGS_TF | RFLAGS_RF))
		skip_debug_state();
	return 0;
}

void arch_vcpu_set_tsc_offset(struct arch_vcpu *v, u64 offset)
{
	VCPU_CHECK_VMCS(v);
	vmwrite(VMCS_TSC_OFFSET, offset);
}

/*
 * The fault-class exceptions (SDM Vol. 3A §6.15, Table 6-1): #DE, #BR,
 * #UD, #NM, #TS, #NP, #SS, #GP, #PF, #MF, #AC, #XM, #VE, #CP. (#DB is a
 * fault only for instruction breakpoints, which uhv never injects.)
 */
#define EXC_FAULT_CLASS ((1U << 0) | (1U << 5) | (1U << 6) | (1U << 7) | \
			 (1U << 10) | (1U << 11) | (1U << 12) | (1U << 13) | \
			 (1U << 14) | (1U << 16) | (1U << 17) | (1U << 19) | \
			 (1U << 20) | (1U << 21))
#define EXC_VECTORS 32

/*
 * What delivering an exception does that injecting it leaves to uhv.
 * The CPU pushes RF = 1 for every fault-class exception (Vol. 3B
 * §18.3.1.1), so that IRET back to the faulting instruction does not
 * stop again on its instruction breakpoint; event injection pushes RF as
 * the guest-state area holds it, "not modified based on the type of
 * event" (Vol. 3C §27.6.1.1): uhv sets it there. Delivery also ends
 * STI/MOV-SS blocking; left set with RFLAGS.TF = 1 and no BS pending,
 * VM entry would fail its checks (§27.3.1.5).
 */
static void exception_state(u8 vector)
{
	u64 intr = vmread(VMCS_GUEST_INTERRUPTIBILITY);

	if (intr & BLOCKING_STI_MOV_SS)
		vmwrite(VMCS_GUEST_INTERRUPTIBILITY,
			intr & ~(u64)BLOCKING_STI_MOV_SS);
	if (vector < EXC_VECTORS && (EXC_FAULT_CLASS >> vector & 1))
		vmwrite(VMCS_GUEST_RFLAGS,
			vmread(VMCS_GUEST_RFLAGS) | RFLAGS_RF);
}

void arch_vcpu_inject_exception(struct arch_vcpu *v, u8 vector, bool has_code,
				u32 code)
{
	u32 info = vector | (INTR_TYPE_HW_EXCEPTION << INTR_INFO_TYPE_SHIFT) |
		   INTR_INFO_VALID | (has_code ? INTR_INFO_DELIVER_CODE : 0);

	VCPU_CHECK_VMCS(v);
	exception_state(vector);
	vmwrite(VMCS_ENTRY_INTR_INFO, info);
	if (has_code)
		vmwrite(VMCS_ENTRY_EXCEPTION_ERROR_CODE, code);
}

/*
 * A data breakpoint is a trap: the #DB follows the instruction, DR6.Bn
 * set for each breakpoint matched (Vol. 3B §18.2.5). The CPU never saw
 * this access, so uhv sets Bn and "enabled breakpoint" in the pending
 * debug exceptions, which VM entry delivers (Vol. 3C §25.4.2, §27.7.3)
 * once the instruction is skipped. DR0-DR3 are the guest's while it is
 * loaded; DR7 is in the VMCS.
 */
void arch_vcpu_data_breakpoint_hit(struct arch_vcpu *v, u64 lin,
				   unsigned len, bool write)
{
	u64 dr7, dr[DR_COUNT];
	unsigned hit;

	VCPU_CHECK_LOADED(v);
	dr7 = vmread(VMCS_GUEST_DR7);
	if (!(dr7 & DR7_ENABLE_MASK))
		return;
	dr[0] = read_dr0();
	dr[1] = read_dr1();
	dr[2] = read_dr2();
	dr[3] = read_dr3();
	hit = dr_data_match(dr7, dr, lin, len, write);
	if (hit)
		vmwrite(VMCS_GUEST_PENDING_DBG_EXCEPTIONS,
			vmread(VMCS_GUEST_PENDING_DBG_EXCEPTIONS) |
			hit * PENDING_DBG_B0 | PENDING_DBG_ENABLED_BP);
}

bool arch_vcpu_can_inject(struct arch_vcpu *v)
{
	VCPU_CHECK_VMCS(v);
	/* IF set, no STI/MOV-SS shadow, no event already queued (§26.3.1.5),
	   and no #DB pending: an injected interrupt would lose it (§27.7.3),
	   where the CPU delivers it first (a trap on the previous
	   instruction, Vol. 3A §6.9); the interrupt window follows it */
	return (vmread(VMCS_GUEST_RFLAGS) & RFLAGS_IF) &&
	       !(vmread(VMCS_GUEST_INTERRUPTIBILITY) & BLOCKING_STI_MOV_SS) &&
	       !(vmread(VMCS_ENTRY_INTR_INFO) & INTR_INFO_VALID) &&
	       !(vmread(VMCS_GUEST_PENDING_DBG_EXCEPTIONS) &
		 (PENDING_DBG_BS | PENDING_DBG_ENABLED_BP));
}

void arch_vcpu_inject_irq(struct arch_vcpu *v, u8 vector)
{
	VCPU_CHECK_VMCS(v);
	vmwrite(VMCS_ENTRY_INTR_INFO, vector | INTR_INFO_VALID |
		(INTR_TYPE_EXT_INTR << INTR_INFO_TYPE_SHIFT));
}

/* Sets or clears bit in the current VMCS's primary processor-based
   controls, writing only on a change (the window exits below). */
static void proc_control(u64 bit, bool on)
{
	u64 ctl = vmread(VMCS_PROC_BASED_CONTROLS);
	u64 want = on ? ctl | bit : ctl & ~bit;

	if (want != ctl)
		vmwrite(VMCS_PROC_BASED_CONTROLS, want);
}

void arch_vcpu_irq_window(struct arch_vcpu *v, bool on)
{
	VCPU_CHECK_VMCS(v);
	proc_control(PROC_INTERRUPT_WINDOW_EXITING, on);
}

/*
 * An intercepted exception goes to the guest after all (SDM Vol. 3C
 * §27.6, event injection): with the type the exit reported (§28.2.2), so
 * an INT3 stays a software exception and needs its instruction length.
 * A #DB that exits has not written DR6 (§28.2.1): its bits come from the
 * exit qualification. B0-B3 are the breakpoints of this #DB only; the
 * CPU leaves DR6's other bits as they were (Vol. 3B §18.2.3).
 */
void arch_vcpu_reflect_exception(struct arch_vcpu *v, const struct arch_exit *e)
{
	u32 info = e->intr.vector | INTR_INFO_VALID |
		   (u32)e->intr.type << INTR_INFO_TYPE_SHIFT;

	VCPU_CHECK_LOADED(v);
	if (e->intr.vector == EXC_VECTOR_DB)
		write_dr6((read_dr6() & ~DR6_B0_B3) | (e->qual & DBG_QUAL_DR6));
	exception_state(e->intr.vector);
	vmwrite(VMCS_ENTRY_INTR_INFO, info);
	vmwrite(VMCS_ENTRY_INSTRUCTION_LEN, e->instr_len);
}

/* DR0-DR3 are on the CPU while v is loaded, else in v (vmx.c's load and
   put); DR7 is in its VMCS (§25.4.1). */
void arch_vcpu_get_dr(struct arch_vcpu *v, u64 dr[DR_COUNT], u64 *dr7)
{
	VCPU_CHECK_VMCS(v);
	if (arch_vcpu_loaded() == v) {
		dr[0] = read_dr0();
		dr[1] = read_dr1();
		dr[2] = read_dr2();
		dr[3] = read_dr3();
	} else {
		for (int i = 0; i < DR_COUNT; i++)
			dr[i] = v->dr[i];
	}
	*dr7 = vmread(VMCS_GUEST_DR7);
}

void arch_vcpu_set_dr(struct arch_vcpu *v, const u64 dr[DR_COUNT], u64 dr7)
{
	VCPU_CHECK_VMCS(v);
	if (arch_vcpu_loaded() == v) {
		write_dr0(dr[0]);
		write_dr1(dr[1]);
		write_dr2(dr[2]);
		write_dr3(dr[3]);
	} else {
		for (int i = 0; i < DR_COUNT; i++)
			v->dr[i] = dr[i];
	}
	vmwrite(VMCS_GUEST_DR7, dr7);
}

/* Virtual-NMI blocking (§25.4.2, Table 25-3: bit 3 with virtual NMIs):
   set by the NMI's delivery, cleared by the guest's IRET (§25.6.1). */
bool arch_vcpu_nmi_blocked(struct arch_vcpu *v)
{
	VCPU_CHECK_VMCS(v);
	return vmread(VMCS_GUEST_INTERRUPTIBILITY) & INTERRUPTIBILITY_NMI;
}

void arch_vcpu_nmi_unblock(struct arch_vcpu *v)
{
	u64 intr;

	VCPU_CHECK_VMCS(v);
	intr = vmread(VMCS_GUEST_INTERRUPTIBILITY);
	vmwrite(VMCS_GUEST_INTERRUPTIBILITY, intr & ~(u64)INTERRUPTIBILITY_NMI);
}

/*
 * An NMI can be injected (§26.3.1.5): with virtual NMIs, not while
 * virtual-NMI blocking holds, nor with MOV-SS blocking; STI blocking is
 * allowed by the checks but some CPUs hold NMIs behind it (§25.4.2), so
 * uhv waits it out too, as the NMI window does (§26.7.6). Nothing else
 * queued, and no #DB pending (an injected event would lose it, §27.7.3).
 */
bool arch_vcpu_can_inject_nmi(struct arch_vcpu *v)
{
	VCPU_CHECK_VMCS(v);
	return !(vmread(VMCS_GUEST_INTERRUPTIBILITY) &
		 (BLOCKING_STI_MOV_SS | INTERRUPTIBILITY_NMI)) &&
	       !(vmread(VMCS_ENTRY_INTR_INFO) & INTR_INFO_VALID) &&
	       !(vmread(VMCS_GUEST_PENDING_DBG_EXCEPTIONS) &
		 (PENDING_DBG_BS | PENDING_DBG_ENABLED_BP));
}

/* Interruption type NMI, vector 2 (§25.8.3, §27.6.1): delivered through
   the guest's IDT entry 2, setting virtual-NMI blocking (§27.6.1.2). */
void arch_vcpu_inject_nmi(struct arch_vcpu *v)
{
	VCPU_CHECK_VMCS(v);
	vmwrite(VMCS_ENTRY_INTR_INFO, INTR_VECTOR_NMI | INTR_INFO_VALID |
		(INTR_TYPE_NMI << INTR_INFO_TYPE_SHIFT));
}

/* NMI-window exiting, primary processor-based control bit 22 (§25.6.2);
   the CPU allows it only with virtual NMIs (§26.2.1.1). */
void arch_vcpu_nmi_window(struct arch_vcpu *v, bool on)
{
	VCPU_CHECK_VMCS(v);
	proc_control(PROC_NMI_WINDOW_EXITING, on);
}
