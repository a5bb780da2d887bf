/*
 * The interface between the VMM (vmm/) and VT-x (arch/x86/).
 *
 * vmm/ owns the run loop and the exit handlers; arch/x86/ owns the VMCS.
 * vmm/ calls arch_vcpu_run() with its exit handler. arch/x86/ enters the
 * guest, decodes each VM exit into a struct arch_exit (data, no VMCS
 * encodings) and hands it to that handler, which uses the accessors below.
 * The handler's answer decides whether the guest is resumed straight from
 * the exit path (the short round trip) or arch_vcpu_run() returns to the
 * run loop (end of a time slice, a halt, a stopped VM). arch/x86/ knows
 * no vmm/ symbol: the handler is passed in, as KVM's in-kernel exit
 * handlers sit behind KVM_RUN.
 *
 * The current VMCS. VMREAD, VMWRITE, VMLAUNCH and VMRESUME name no VMCS:
 * they act on the CPU's current one, the VMCS the last VMPTRLD named,
 * until a VMCLEAR of it (SDM Vol. 3C §24.1, "current VMCS"; §25.11).
 * So a vCPU's guest state is within reach only while its VMCS is
 * current, and its MSRs, FPU, CR2 and debug registers only while they
 * are on the CPU. The rule, for every function below that takes a vCPU:
 *
 *   arch_vcpu_load(v) ... arch_vcpu_put(v)     v is loaded: everything
 *   arch_vcpu_init(v) or arch_vcpu_select(v)   v's VMCS is current, to be
 *                                              set up: the VMCS accessors
 *                                              (get, set, reset_*, ...)
 *                                              but not run or the MSRs
 *
 * until put, the next init/select/load, or arch_vcpu_destroy. Only one
 * vCPU is loaded at a time: it is put before another is loaded or
 * selected, and before it is destroyed. arch/x86/ records which vCPU is
 * current (vcpu_current.h) and every function checks that the vCPU it is
 * given is that one; a mismatch is a uhv bug, and stops uhv with a panic
 * naming the function. arch_vcpu_loaded() is the record the VMM asks.
 */
#ifndef UHV_ARCH_VCPU_H
#define UHV_ARCH_VCPU_H

#include "lib/types.h"
#include "arch/x86/vmx_exit.h"

/* The EOI-exit bitmaps of the VMCS: 4 of 64 vectors each (SDM Vol. 3C
   §25.6.8). */
#define NR_EOI_EXIT_BITMAPS 4

/* Guest general-purpose registers (RSP lives in the VMCS). The order is
   the x86 register number, so an instruction's register field indexes it;
   regs[4] (RSP's slot) is unused. vmx_entry.asm depends on this layout. */
enum arch_gpr {
	GPR_RAX, GPR_RCX, GPR_RDX, GPR_RBX, GPR_RSP_UNUSED, GPR_RBP, GPR_RSI,
	GPR_RDI, GPR_R8, GPR_R9, GPR_R10, GPR_R11, GPR_R12, GPR_R13, GPR_R14,
	GPR_R15, NR_GPRS
};

/* Guest state the VMM may read or write, by name rather than encoding. */
enum arch_reg {
	AREG_RIP, AREG_RSP, AREG_RFLAGS, AREG_CR0, AREG_CR3, AREG_CR4,
	AREG_EFER, AREG_PAT, AREG_CR0_SHADOW, AREG_CR4_SHADOW, AREG_CS_BASE,
	AREG_ES_BASE, AREG_SS_BASE, AREG_DS_BASE, AREG_FS_BASE, AREG_GS_BASE,
	AREG_SYSENTER_CS, AREG_SYSENTER_ESP, AREG_SYSENTER_EIP,
	AREG_INTERRUPTIBILITY, AREG_CS_SEL, AREG_SS_SEL, AREG_DS_SEL,
	AREG_ES_SEL, AREG_FS_SEL, AREG_GS_SEL, NR_AREGS
};

/* MSRs the VMCS does not switch but guests need: the SYSCALL MSRs,
   SWAPGS's base, RDTSCP's TSC_AUX and the speculation controls. uhv
   never uses them itself, so the hardware holds the running vCPU's
   values; arch_vcpu_load puts them back on a switch. TSC_AUX and
   SPEC_CTRL are switched only where the CPU has them (vmx.c's
   amsr_present). */
enum arch_msr {
	AMSR_STAR, AMSR_LSTAR, AMSR_CSTAR, AMSR_FMASK, AMSR_KERNEL_GS_BASE,
	AMSR_TSC_AUX, AMSR_SPEC_CTRL,
	NR_AMSRS
};

/* The XSAVE/FXSAVE area of a vCPU: one page. The VMM limits the guest's
   XCR0 to components whose XSAVE image fits it. */
#define ARCH_FPU_AREA_SIZE 4096U

/* A VM exit, decoded (SDM Vol. 3C §28.2). */
struct arch_exit {
	u32 reason;            /* basic exit reason, enum vmx_exit_reason */
	bool entry_failed;     /* bit 31: VM entry failed on guest state */
	u32 instr_len;
	u64 qual;              /* raw exit qualification */
	union {
		struct { u16 port; u8 size; bool in, string, rep; } io;
		struct { u8 cr, type, gpr; u16 lmsw; } cr;
		struct { u64 gpa, gla; bool read, write, fetch, gla_valid; } ept;
		/* EXTERNAL_INTERRUPT and EXCEPTION_NMI; nmi: the exit was
		   caused by a host NMI (interruption type NMI, §28.2.2) */
		struct { u8 vector; u8 type; bool valid, nmi; } intr;
		/* qual, for a #DB (vector 1): the DR6 bits it would have set
		   (B0-B3, BD, BS: SDM Vol. 3C §28.2.1, Table 28-1) */
		struct { u8 vector; } sipi;
		/* APIC_ACCESS and APIC_WRITE: the offset in the xAPIC page;
		   data: APIC_ACCESS by a data read or write (not a fetch,
		   nor event delivery: those uhv does not emulate) */
		struct { u16 offset; bool data; } apic;
		struct { u8 vector; } eoi;           /* VIRTUALIZED_EOI */
	};
};

/* CR-access types (exit qualification bits 5:4). */
enum { CR_ACCESS_MOV_TO, CR_ACCESS_MOV_FROM, CR_ACCESS_CLTS, CR_ACCESS_LMSW };

/* An exit handler: returns 0 to resume the guest, else to leave the run. */
typedef int (*arch_exit_fn)(void *ctx, const struct arch_exit *e);

/*
 * Speculation hygiene at this vCPU's VM exits and entries (arch/x86/
 * spec.c decides which the CPU needs; the VMM clears them for a trusted
 * VM): vmx_entry.asm reads them at struct arch_vcpu's second member.
 */
#define SPEC_EXIT_RSB_FILL   (1ULL << 0)   /* overwrite the return stack */
#define SPEC_ENTRY_VERW      (1ULL << 1)   /* clear CPU buffers (MDS) */
#define SPEC_ENTRY_L1D_FLUSH (1ULL << 2)   /* flush the L1D (L1TF) */
#define SPEC_SWITCH_IBPB     (1ULL << 3)   /* IBPB when another VM runs next */

struct arch_vcpu {
	u64 regs[NR_GPRS];     /* first member: vmx_entry.asm indexes it */
	u64 spec;              /* SPEC_*; vmx_entry.asm reads it here */
	u64 rsb_fills;         /* and counts its RSB fills here */
	struct arch_exit exit; /* the exit being handled */
	arch_exit_fn on_exit;
	void *ctx;
	u64 vmcs_phys;
	u64 fpu_phys;          /* XSAVE/FXSAVE area, one page */
	u64 xcr0;              /* the guest's XCR0 */
	u64 cr2;               /* the guest's CR2 while another vCPU runs */
	u64 dr[4], dr6;        /* its DR0-DR3 and DR6, likewise (DR7 and
				  DEBUGCTL are in the VMCS) */
	u64 msrs[NR_AMSRS];    /* enum arch_msr */
	bool launched;
	bool apicv;            /* arch_vcpu_enable_apicv was called */
	bool apicv_paused;     /* arch_vcpu_apicv_pause: only the TPR virtualized */
	u64 eoi_exit[NR_EOI_EXIT_BITMAPS];   /* as last written */
	u16 vpid;
	u32 vm_instr_error;    /* after a failed VMLAUNCH/VMRESUME */
};

/* Enables VMX on this CPU (VMXON with the given page). 0 or -1. */
int arch_vmx_enable(u64 vmxon_phys);

/*
 * Prepares a VMCS for a vCPU of a VM whose EPT pointer is eptp. The
 * vmcs and fpu pages come zeroed from the caller. The guest starts in
 * 32-bit protected mode, paging off, flat segments, at eip with EAX and
 * EBX as given (the Multiboot entry state).
 */
int arch_vcpu_init(struct arch_vcpu *v, u64 vmcs_phys, u64 fpu_phys,
		   u64 eptp, u16 vpid);
/* Before v's VMCS and fpu pages are freed: VMCLEAR. */
void arch_vcpu_destroy(struct arch_vcpu *v);
/* Before an EPT's pages are freed: INVEPT of its pointer eptp. */
void arch_ept_invalidate(u64 eptp);
void arch_vcpu_reset_protected32(struct arch_vcpu *v, u32 eip);
/* 64-bit mode on the guest's own GDT and page tables (Linux's entry). */
struct arch_long64 {
	u64 rip, cr3, gdt_base;
	u16 gdt_limit, cs_sel, ds_sel;
};
void arch_vcpu_reset_long64(struct arch_vcpu *v, const struct arch_long64 *s);
/* Real mode at vector << 12 (the state a SIPI starts a CPU in). */
void arch_vcpu_reset_sipi(struct arch_vcpu *v, u8 vector);

/* Makes v's VMCS the current one (VMPTRLD), to set it up; no vCPU may
   be loaded. */
void arch_vcpu_select(struct arch_vcpu *v);
/* Makes v current on this CPU (VMPTRLD, MSRs, FPU and XCR0), with no
   vCPU loaded; put saves what load restored and leaves none current. */
void arch_vcpu_load(struct arch_vcpu *v);
void arch_vcpu_put(struct arch_vcpu *v);
/* The loaded vCPU (load, not yet put), or NULL. */
struct arch_vcpu *arch_vcpu_loaded(void);

/* Runs the guest, calling on_exit(ctx, exit) for each VM exit, until a
   handler returns nonzero (then 0), or until VM entry fails (then -1,
   and v->vm_instr_error says why). */
int arch_vcpu_run(struct arch_vcpu *v, arch_exit_fn on_exit, void *ctx);

u64 arch_vcpu_get(struct arch_vcpu *v, enum arch_reg r);
void arch_vcpu_set(struct arch_vcpu *v, enum arch_reg r, u64 val);
/* The guest's code size, 16, 32 or 64 bits, as its CS descriptor sets it. */
unsigned arch_vcpu_code_bits(struct arch_vcpu *v);
/* Moves RIP past the exiting instruction and ends it as the CPU would
   have: STI/MOV-SS blocking and RFLAGS.RF cleared, and with RFLAGS.TF
   its single-step #DB (DR6.BS) delivered after the next VM entry.
   Returns 0, an arch_exit_fn's "resume the guest", so that a handler can
   end in `return arch_vcpu_skip(...)`: a jump, not a call and a frame
   (make bench's CPUID round trip). */
int arch_vcpu_skip(struct arch_vcpu *v, const struct arch_exit *e);
/* The value RDTSC and RDTSCP add to the host's TSC for this vCPU (SDM
   Vol. 3C §26.3; two's complement: it may move the TSC back). */
void arch_vcpu_set_tsc_offset(struct arch_vcpu *v, u64 offset);
/* Delivers a hardware exception on the next entry, with the RF its
   class pushes (1 for a fault) and STI/MOV-SS blocking ended. */
void arch_vcpu_inject_exception(struct arch_vcpu *v, u8 vector,
				bool has_code, u32 code);
/* The guest accessed len bytes at linear address lin, write or read,
   in an instruction uhv carried out for it (emulated MMIO): where that
   matches an enabled data breakpoint of its DR7 and DR0-DR3, the CPU's
   #DB follows the instruction (DR6.Bn set; SDM Vol. 3B §18.2.5), after
   the next VM entry. v must be loaded. */
void arch_vcpu_data_breakpoint_hit(struct arch_vcpu *v, u64 lin,
				   unsigned len, bool write);
/* True when an external interrupt can be delivered on the next entry:
   RFLAGS.IF set, no interrupt shadow, nothing else queued. */
/*
 * A debugger's hold on a vCPU (vmm/vm_gdb.c): bp and db make #BP and #DB
 * exit (EXCEPTION_NMI) instead of reaching the guest; step makes the CPU
 * exit (MONITOR_TRAP_FLAG) after the next instruction. false, and
 * nothing changed, if step is asked of a CPU without the monitor trap
 * flag.
 */
bool arch_vcpu_debug_intercepts(struct arch_vcpu *v, bool bp, bool db,
				bool step);
/* The exception of EXCEPTION_NMI exit e goes to the guest after all, as
   the CPU was delivering it (#DB: with its DR6 bits); v loaded. */
void arch_vcpu_reflect_exception(struct arch_vcpu *v, const struct arch_exit *e);
/* DR0-DR3 and DR7 of v (its VMCS current, loaded or not). */
void arch_vcpu_get_dr(struct arch_vcpu *v, u64 dr[4], u64 *dr7);
void arch_vcpu_set_dr(struct arch_vcpu *v, const u64 dr[4], u64 dr7);
bool arch_vcpu_can_inject(struct arch_vcpu *v);
/* Queues external interrupt vector for the next entry. */
void arch_vcpu_inject_irq(struct arch_vcpu *v, u8 vector);
/* Asks for an exit (INTERRUPT_WINDOW) as soon as the guest can take an
   interrupt, or stops asking. */
void arch_vcpu_irq_window(struct arch_vcpu *v, bool on);
/*
 * NMIs for the guest (SDM Vol. 3C §25.6.1 virtual NMIs, §27.6 event
 * injection, §26.7.6 NMI-window exiting). Only where the CPU has virtual
 * NMIs and NMI-window exiting (arch_vcpu_nmis_supported, probed by
 * arch_vmx_enable): the CPU then tracks the guest's NMI blocking from the
 * injection to the guest's IRET. can_inject_nmi: no NMI blocking, no
 * STI/MOV-SS blocking, nothing else queued for the entry, no #DB
 * pending. inject_nmi queues the NMI (vector 2) for the next entry;
 * nmi_window asks for an exit (NMI_WINDOW) as soon as the guest can take
 * one, or stops asking. nmi_blocked: the guest is inside its NMI
 * handler (a pending NMI cannot wake it from HLT).
 */
bool arch_vcpu_nmis_supported(void);
bool arch_vcpu_can_inject_nmi(struct arch_vcpu *v);
void arch_vcpu_inject_nmi(struct arch_vcpu *v);
void arch_vcpu_nmi_window(struct arch_vcpu *v, bool on);
bool arch_vcpu_nmi_blocked(struct arch_vcpu *v);
/* Ends virtual-NMI blocking that no injected NMI began (the VMM knows:
   see platform.c's nmi_blocked). */
void arch_vcpu_nmi_unblock(struct arch_vcpu *v);
/* Guest instructions (TSC ticks) until the next preemption-timer exit. */
void arch_vcpu_set_timer(struct arch_vcpu *v, u64 ticks);
/* Emulates a guest write to CR0/CR4 (keeps VMX-fixed bits, updates the
   read shadow). Returns false for a value that would #GP. */
bool arch_vcpu_write_cr(struct arch_vcpu *v, int cr, u64 val);
/* Guest values of the MSRs in enum arch_msr (set writes the hardware). */
u64 arch_vcpu_msr_get(struct arch_vcpu *v, enum arch_msr m);
void arch_vcpu_msr_set(struct arch_vcpu *v, enum arch_msr m, u64 val);
/*
 * APIC virtualization (SDM Vol. 3C ch. 30): the guest's xAPIC page reads
 * from and writes to the virtual-APIC page vapic_phys (the VMM's register
 * file for this vCPU's local APIC), TPR and EOI writes and interrupt
 * delivery happen without exits, and other writes exit after they land
 * (APIC_WRITE). access_phys is the page the VM's EPT maps at the xAPIC
 * address. True if the CPU can; else nothing changes.
 */
bool arch_apicv_supported(void);
bool arch_vcpu_enable_apicv(struct arch_vcpu *v, u64 vapic_phys,
			    u64 access_phys);
/*
 * Tells the CPU what the VMM changed in the virtual-APIC page: the
 * highest requesting (rvi) and in-service (svi) vectors, 0 for none,
 * and which vectors exit on EOI (eoi_exit: 256 bits, the level-triggered
 * ones, so the VMM can tell the I/O APIC).
 */
void arch_vcpu_apicv_sync(struct arch_vcpu *v, u8 rvi, u8 svi,
			  const u32 eoi_exit[8]);
/*
 * Pauses APIC virtualization (pause) or resumes it: while paused only
 * the TPR (xAPIC offset 0x80 and CR8) stays virtualized, every other
 * access to the xAPIC page exits as APIC_ACCESS, and the CPU delivers
 * nothing from the virtual-APIC page, so the VMM injects as without APIC
 * virtualization. For a guest whose local APIC is disabled. Does nothing
 * without arch_vcpu_enable_apicv.
 */
void arch_vcpu_apicv_pause(struct arch_vcpu *v, bool pause);
/* Applies XSETBV of XCR0 (the VMM has checked val against what its
   CPUID shows). false: the CPU would refuse it; the guest gets #GP. */
bool arch_vcpu_xsetbv(struct arch_vcpu *v, u32 xcr, u64 val);
/* Whether guests run with "enable RDTSCP" (RDTSCP and RDPID work and
   read the vCPU's TSC_AUX). Probed by arch_vmx_enable. */
bool arch_rdtscp_enabled(void);
/* IBPB: flushes indirect branch predictions (IA32_PRED_CMD), where the
   CPU has it; a guest's write of PRED_CMD comes here, and the VMM's
   switch from one VM to another where SPEC_SWITCH_IBPB says so. */
void arch_ibpb(void);
/* The SPEC_* mitigations this CPU needs (probed and printed once, by
   arch_vmx_enable); a vCPU gets them unless its VM is trusted. */
u64 arch_spec_needed(void);
/* The host's IA32_ARCH_CAPABILITIES, read once by the same probe (0
   where CPUID announces no such MSR). */
u64 arch_host_arch_capabilities(void);

#endif
