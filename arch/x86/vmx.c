/*
 * VMX operation and VMCS set-up, by area (SDM Vol. 3C ch. 25):
 * execution controls, exit/entry controls, host state, guest state.
 * Every control passes through vmx_ctl(), which applies the capability
 * MSRs and logs what it had to change.
 */
#include "arch/x86/vcpu.h"
#include "arch/x86/cpu.h"
#include "arch/x86/desc.h"
#include "arch/x86/msr.h"
#include "arch/x86/vmx_caps.h"
#include "arch/x86/vmx_ops.h"
#include "arch/x86/vcpu_current.h"
#include "arch/x86/power.h"
#include "arch/x86/spec.h"
#include "arch/x86/nmi.h"
#include "drivers/console.h"
#include "lib/fmt.h"
#include "lib/string.h"

static struct vmx_caps caps;
/* vmx_entry.asm finds the spec flags right after the guest registers */
_Static_assert(__builtin_offsetof(struct arch_vcpu, spec) == NR_GPRS * 8,
	       "vmx_entry.asm's SPEC_OFF");
static void probe_optional_msrs(void);
static void probe_nmi_controls(void);
static u32 pin_nmi;         /* NMI exiting, virtual NMIs: what the CPU has */

/* Exceptions that exit (§25.6.3): only #MC, which uhv reports and never
   hands to a guest (guests see MCG_CAP = 0). */
#define EXC_BITMAP_MC (1U << 18)
/* and, while a debugger holds the vCPU (arch_vcpu_debug_intercepts),
   #DB and #BP */
#define EXC_BITMAP_DB (1U << 1)
#define EXC_BITMAP_BP (1U << 3)

/* XCR0 bits (SDM Vol. 1 §13.3): x87 must stay on, AVX needs SSE. */
#define XCR0_X87 (1ULL << 0)
#define XCR0_SSE (1ULL << 1)
#define XCR0_AVX (1ULL << 2)
/* FXSAVE/XSAVE legacy area (SDM Vol. 1 §10.5.1): control word, MXCSR. */
#define FXSAVE_FCW   0
#define FXSAVE_MXCSR 24
/* The XSAVE header's XSTATE_BV (SDM Vol. 1 §13.4.2). */
#define XSAVE_XSTATE_BV 512
/* CPUID bits that say which optional MSRs exist (SDM Vol. 4 §2.1). */
#define CPUID_7_ECX_RDPID       (1U << 22)
#define CPUID_7_EDX_IBRS_IBPB   (1U << 26)
#define CPUID_7_EDX_STIBP       (1U << 27)
#define CPUID_7_EDX_SSBD        (1U << 31)
#define CPUID_81_EDX_RDTSCP     (1U << 27)
#define FCW_RESET    0x037f
#define DR6_RESET    0xffff0ff0ULL   /* SDM Vol. 3B §18.2.3 */
#define MXCSR_RESET  0x1f80

/* The host RIP of every VM exit (vmx_entry.asm). */
extern const char vmx_exit_entry[];

/*
 * Returns want adjusted to what ctl allows: allowed-0 bits forced on,
 * bits outside allowed-1 dropped (SDM Vol. 3D Appendix A.3). Dropping is
 * logged; uhv only asks for optional bits beyond what vmx_check_features
 * already guaranteed.
 */
static u32 vmx_ctl(const char *name, u64 ctl, u32 want)
{
	u32 allowed0 = (u32)ctl, allowed1 = (u32)(ctl >> 32);
	u32 v = (want | allowed0) & allowed1;

	if (want & ~allowed1)
		printk("uhv: vmx: %s: CPU lacks bits 0x%x, left off\n", name,
		       want & ~allowed1);
	return v;
}

/* CR0/CR4 values the CPU demands in VMX operation (Appendix A.7/A.8). */
static u64 fix_cr(u64 v, u64 fixed0, u64 fixed1)
{
	return (v | fixed0) & fixed1;
}

/* CR4.OSXSAVE where the CPU has XSAVE: guests can then enable AVX and
   friends with XSETBV, and uhv switches their state with XSAVE/XRSTOR. */
static u64 host_osxsave(void)
{
	struct cpuid_regs r;

	cpuid(1, 0, &r);
	return (r.ecx & CPUID_1_ECX_XSAVE) ? CR4_OSXSAVE : 0;
}

int arch_vmx_enable(u64 vmxon_phys)
{
	u64 fc = rdmsr(MSR_IA32_FEATURE_CONTROL);

	if (vmx_check_features(&caps, &cpu_probe_hw))
		return -1;
	probe_optional_msrs();
	arch_spec_probe();
	probe_nmi_controls();
	/* The loader's check allowed this: unlocked, or locked with VMX on. */
	if (!(fc & FEATURE_CONTROL_LOCK))
		wrmsr(MSR_IA32_FEATURE_CONTROL, fc | FEATURE_CONTROL_LOCK |
		      FEATURE_CONTROL_VMX_OUTSIDE_SMX);
	write_cr0(fix_cr(read_cr0(), caps.cr0_fixed0, caps.cr0_fixed1));
	write_cr4(fix_cr(read_cr4() | CR4_VMXE | host_osxsave(), caps.cr4_fixed0,
			 caps.cr4_fixed1));
	/* The VMXON region starts with the VMCS revision id (§25.11.5). */
	*(u32 *)(uintptr_t)vmxon_phys = (u32)(caps.basic & VMX_BASIC_REVISION_MASK);
	return vmxon(vmxon_phys) ? 0 : -1;
}

static void setup_exec_controls(u64 eptp, u16 vpid)
{
	/* Physical interrupts and time slices come back to uhv. */
	vmwrite(VMCS_PIN_BASED_CONTROLS, vmx_ctl("pin-based", caps.pin,
		PIN_EXTERNAL_INTERRUPT_EXITING | PIN_ACTIVATE_PREEMPTION_TIMER |
		pin_nmi));
	/* HLT yields the CPU; all port I/O and MSR accesses are emulated
	   (no I/O or MSR bitmaps); MONITOR/MWAIT are refused. CR3 and CR8
	   accesses stay in the guest: with EPT they need no help. RDTSC
	   and RDTSCP read the host's TSC plus the vCPU's offset (§26.3,
	   0 until the guest moves its TSC: arch_vcpu_set_tsc_offset). */
	vmwrite(VMCS_PROC_BASED_CONTROLS, vmx_ctl("processor-based", caps.proc,
		PROC_HLT_EXITING | PROC_UNCONDITIONAL_IO_EXITING |
		PROC_MWAIT_EXITING | PROC_MONITOR_EXITING |
		PROC_USE_TSC_OFFSETTING | PROC_ACTIVATE_SECONDARY_CONTROLS));
	vmwrite(VMCS_TSC_OFFSET, 0);
	vmwrite(VMCS_PROC_BASED_CONTROLS2, vmx_ctl("secondary", caps.proc2,
		PROC2_ENABLE_EPT | PROC2_ENABLE_VPID | PROC2_UNRESTRICTED_GUEST |
		/* WBINVD writes back every cache of the machine: with it
		   exiting (and ignored) no VM can stall the others */
		(vmx_ctl_allows(caps.proc2, PROC2_WBINVD_EXITING) ?
		 PROC2_WBINVD_EXITING : 0) |
		(arch_rdtscp_enabled() ? PROC2_ENABLE_RDTSCP : 0)));
	vmwrite(VMCS_EPT_POINTER, eptp);
	vmwrite(VMCS_VPID, vpid);
	vmwrite(VMCS_EXCEPTION_BITMAP, EXC_BITMAP_MC);
	vmwrite(VMCS_CR3_TARGET_COUNT, 0);
	vmwrite(VMCS_LINK_POINTER, ~0ULL);   /* no shadow VMCS (§25.4.2) */
	/* uhv owns the CR0/CR4 bits VMX fixes (except PE/PG, which
	   unrestricted guest frees) and VMXE; the guest sees shadows. */
	vmwrite(VMCS_CR0_GUEST_HOST_MASK,
		(caps.cr0_fixed0 | ~caps.cr0_fixed1) & ~(CR0_PE | CR0_PG));
	vmwrite(VMCS_CR4_GUEST_HOST_MASK, caps.cr4_fixed0 | ~caps.cr4_fixed1 |
		CR4_HIDDEN);
}

static void setup_exit_entry_controls(void)
{
	vmwrite(VMCS_EXIT_CONTROLS, vmx_ctl("exit", caps.exit,
		EXIT_HOST_ADDRESS_SPACE_SIZE | EXIT_ACK_INTERRUPT_ON_EXIT |
		EXIT_SAVE_IA32_PAT | EXIT_LOAD_IA32_PAT |
		EXIT_SAVE_IA32_EFER | EXIT_LOAD_IA32_EFER |
		EXIT_SAVE_PREEMPTION_TIMER | EXIT_SAVE_DEBUG_CONTROLS));
	/* DR7 and IA32_DEBUGCTL are each vCPU's own, saved on exit and
	   loaded on entry (§27.3.1, §28.3.1); DR0-3 and DR6 are switched
	   by load/put, so no VM sees another's breakpoints */
	vmwrite(VMCS_ENTRY_CONTROLS, vmx_ctl("entry", caps.entry,
		ENTRY_LOAD_IA32_PAT | ENTRY_LOAD_IA32_EFER |
		ENTRY_LOAD_DEBUG_CONTROLS));
	vmwrite(VMCS_EXIT_MSR_STORE_COUNT, 0);
	vmwrite(VMCS_EXIT_MSR_LOAD_COUNT, 0);
	vmwrite(VMCS_ENTRY_MSR_LOAD_COUNT, 0);
	vmwrite(VMCS_ENTRY_INTR_INFO, 0);
}

/* The state every exit returns to: uhv's own (§25.5, §28.5). */
static void setup_host_state(void)
{
	vmwrite(VMCS_HOST_CR0, read_cr0());
	vmwrite(VMCS_HOST_CR3, read_cr3());
	vmwrite(VMCS_HOST_CR4, read_cr4());
	vmwrite(VMCS_HOST_CS_SELECTOR, SEL_CODE64);
	vmwrite(VMCS_HOST_SS_SELECTOR, SEL_DATA);
	vmwrite(VMCS_HOST_DS_SELECTOR, SEL_DATA);
	vmwrite(VMCS_HOST_ES_SELECTOR, SEL_DATA);
	vmwrite(VMCS_HOST_FS_SELECTOR, SEL_DATA);
	vmwrite(VMCS_HOST_GS_SELECTOR, SEL_DATA);
	vmwrite(VMCS_HOST_TR_SELECTOR, SEL_TSS);
	vmwrite(VMCS_HOST_FS_BASE, 0);
	vmwrite(VMCS_HOST_GS_BASE, 0);
	vmwrite(VMCS_HOST_TR_BASE, desc_tss_base());
	vmwrite(VMCS_HOST_GDTR_BASE, desc_gdt_base());
	vmwrite(VMCS_HOST_IDTR_BASE, desc_idt_base());
	vmwrite(VMCS_HOST_IA32_SYSENTER_CS, 0);
	vmwrite(VMCS_HOST_SYSENTER_ESP, 0);
	vmwrite(VMCS_HOST_SYSENTER_EIP, 0);
	vmwrite(VMCS_HOST_IA32_EFER, rdmsr(MSR_IA32_EFER));
	vmwrite(VMCS_HOST_IA32_PAT, rdmsr(MSR_IA32_PAT));
	vmwrite(VMCS_HOST_RIP, (u64)vmx_exit_entry);
}

/* One guest segment register: selector, base, limit, access rights. */
static void set_segment(int i, u16 sel, u64 base, u32 limit, u32 ar)
{
	static const enum vmcs_field f[][4] = {
		{ VMCS_GUEST_ES_SELECTOR, VMCS_GUEST_ES_BASE, VMCS_GUEST_ES_LIMIT, VMCS_GUEST_ES_AR },
		{ VMCS_GUEST_CS_SELECTOR, VMCS_GUEST_CS_BASE, VMCS_GUEST_CS_LIMIT, VMCS_GUEST_CS_AR },
		{ VMCS_GUEST_SS_SELECTOR, VMCS_GUEST_SS_BASE, VMCS_GUEST_SS_LIMIT, VMCS_GUEST_SS_AR },
		{ VMCS_GUEST_DS_SELECTOR, VMCS_GUEST_DS_BASE, VMCS_GUEST_DS_LIMIT, VMCS_GUEST_DS_AR },
		{ VMCS_GUEST_FS_SELECTOR, VMCS_GUEST_FS_BASE, VMCS_GUEST_FS_LIMIT, VMCS_GUEST_FS_AR },
		{ VMCS_GUEST_GS_SELECTOR, VMCS_GUEST_GS_BASE, VMCS_GUEST_GS_LIMIT, VMCS_GUEST_GS_AR },
		{ VMCS_GUEST_LDTR_SELECTOR, VMCS_GUEST_LDTR_BASE, VMCS_GUEST_LDTR_LIMIT, VMCS_GUEST_LDTR_AR },
		{ VMCS_GUEST_TR_SELECTOR, VMCS_GUEST_TR_BASE, VMCS_GUEST_TR_LIMIT, VMCS_GUEST_TR_AR },
	};

	vmwrite(f[i][0], sel);
	vmwrite(f[i][1], base);
	vmwrite(f[i][2], limit);
	vmwrite(f[i][3], ar);
}

enum { SEG_ES, SEG_CS, SEG_SS, SEG_DS, SEG_FS, SEG_GS, SEG_LDTR, SEG_TR };

/* State shared by every reset: descriptor tables, TR, LDTR, MSRs. */
static void reset_common(struct arch_vcpu *v, u64 cr0)
{
	(void)v;   /* its callers checked that v's VMCS is current */
	set_segment(SEG_LDTR, 0, 0, 0, SEG_AR_UNUSABLE);
	/* TR must look like a busy TSS even if the guest never uses one. */
	set_segment(SEG_TR, 0, 0, 0xffff, SEG_AR_TYPE_TSS_BUSY | SEG_AR_P);
	vmwrite(VMCS_GUEST_GDTR_BASE, 0);
	vmwrite(VMCS_GUEST_GDTR_LIMIT, 0xffff);
	vmwrite(VMCS_GUEST_IDTR_BASE, 0);
	vmwrite(VMCS_GUEST_IDTR_LIMIT, 0xffff);
	/* The guest reads cr0 as given; the CPU gets the VMX-fixed bits. */
	vmwrite(VMCS_CR0_READ_SHADOW, cr0);
	vmwrite(VMCS_GUEST_CR0, fix_cr(cr0, caps.cr0_fixed0 & ~(CR0_PE | CR0_PG),
				       caps.cr0_fixed1));
	vmwrite(VMCS_CR4_READ_SHADOW, 0);
	vmwrite(VMCS_GUEST_CR4, fix_cr(0, caps.cr4_fixed0, caps.cr4_fixed1));
	vmwrite(VMCS_GUEST_CR3, 0);
	vmwrite(VMCS_GUEST_DR7, 0x400);     /* the architectural reset value */
	vmwrite(VMCS_GUEST_RSP, 0);
	vmwrite(VMCS_GUEST_RFLAGS, RFLAGS_FIXED);
	vmwrite(VMCS_GUEST_IA32_EFER, 0);
	vmwrite(VMCS_GUEST_IA32_PAT, 0x0007040600070406ULL); /* reset value */
	vmwrite(VMCS_GUEST_IA32_DEBUGCTL, 0);
	vmwrite(VMCS_GUEST_SYSENTER_CS, 0);
	vmwrite(VMCS_GUEST_SYSENTER_ESP, 0);
	vmwrite(VMCS_GUEST_SYSENTER_EIP, 0);
	vmwrite(VMCS_GUEST_INTERRUPTIBILITY, 0);
	vmwrite(VMCS_GUEST_ACTIVITY_STATE, ACTIVITY_ACTIVE);
	vmwrite(VMCS_GUEST_PENDING_DBG_EXCEPTIONS, 0);
	vmwrite(VMCS_ENTRY_CONTROLS, vmread(VMCS_ENTRY_CONTROLS) &
		~(u64)ENTRY_IA32E_MODE_GUEST);
}

void arch_vcpu_reset_protected32(struct arch_vcpu *v, u32 eip)
{
	const u32 code = SEG_AR_TYPE_CODE_RX_ACC | SEG_AR_S | SEG_AR_P |
			 SEG_AR_DB | SEG_AR_G;
	const u32 data = SEG_AR_TYPE_DATA_RW_ACC | SEG_AR_S | SEG_AR_P |
			 SEG_AR_DB | SEG_AR_G;

	VCPU_CHECK_VMCS(v);
	/* Multiboot: flat 4 GiB segments, CR0.PE, paging off (spec §3.2). */
	set_segment(SEG_CS, 0x10, 0, 0xffffffff, code);
	for (int s = SEG_ES; s <= SEG_GS; s++)
		if (s != SEG_CS)
			set_segment(s, 0x18, 0, 0xffffffff, data);
	reset_common(v, CR0_PE | CR0_ET);
	vmwrite(VMCS_GUEST_RIP, eip);
}

void arch_vcpu_reset_long64(struct arch_vcpu *v, const struct arch_long64 *s)
{
	const u32 code = SEG_AR_TYPE_CODE_RX_ACC | SEG_AR_S | SEG_AR_P |
			 SEG_AR_L | SEG_AR_G;
	const u32 data = SEG_AR_TYPE_DATA_RW_ACC | SEG_AR_S | SEG_AR_P |
			 SEG_AR_DB | SEG_AR_G;
	const u64 cr0 = CR0_PE | CR0_ET | CR0_NE | CR0_PG;

	/* The 64-bit Linux boot protocol's entry state (boot.rst): long
	   mode, paging on an identity map, flat segments, interrupts off. */
	VCPU_CHECK_VMCS(v);
	set_segment(SEG_CS, s->cs_sel, 0, 0xffffffff, code);
	for (int i = SEG_ES; i <= SEG_GS; i++)
		if (i != SEG_CS)
			set_segment(i, s->ds_sel, 0, 0xffffffff, data);
	reset_common(v, cr0);
	vmwrite(VMCS_GUEST_GDTR_BASE, s->gdt_base);
	vmwrite(VMCS_GUEST_GDTR_LIMIT, s->gdt_limit);
	vmwrite(VMCS_CR4_READ_SHADOW, CR4_PAE);
	vmwrite(VMCS_GUEST_CR4, fix_cr(CR4_PAE, caps.cr4_fixed0, caps.cr4_fixed1));
	vmwrite(VMCS_GUEST_CR3, s->cr3);
	vmwrite(VMCS_GUEST_IA32_EFER, EFER_LME | EFER_LMA);
	vmwrite(VMCS_ENTRY_CONTROLS, vmread(VMCS_ENTRY_CONTROLS) |
		ENTRY_IA32E_MODE_GUEST);
	vmwrite(VMCS_GUEST_RIP, s->rip);
}

void arch_vcpu_reset_sipi(struct arch_vcpu *v, u8 vector)
{
	const u32 code = SEG_AR_TYPE_CODE_RX_ACC | SEG_AR_S | SEG_AR_P;
	const u32 data = SEG_AR_TYPE_DATA_RW_ACC | SEG_AR_S | SEG_AR_P;

	VCPU_CHECK_VMCS(v);
	/* Real mode, CS = vector << 8, IP = 0 (SDM Vol. 3A §9.4.4). */
	set_segment(SEG_CS, (u16)(vector << 8), (u64)vector << 12, 0xffff, code);
	for (int s = SEG_ES; s <= SEG_GS; s++)
		if (s != SEG_CS)
			set_segment(s, 0, 0, 0xffff, data);
	reset_common(v, CR0_ET);
	vmwrite(VMCS_GUEST_RIP, 0);
	for (int r = 0; r < NR_GPRS; r++)
		v->regs[r] = 0;
}

int arch_vcpu_init(struct arch_vcpu *v, u64 vmcs_phys, u64 fpu_phys,
		   u64 eptp, u16 vpid)
{
	memset(v, 0, sizeof(*v));
	v->vmcs_phys = vmcs_phys;
	v->fpu_phys = fpu_phys;
	v->vpid = vpid;
	v->xcr0 = XCR0_X87;     /* the reset value */
	v->dr6 = DR6_RESET;
	/* A fresh FPU state: the power-on control words, and an XSAVE
	   header of zeros (all components in their initial state), so no
	   VM ever sees another's registers. */
	*(u16 *)(uintptr_t)(fpu_phys + FXSAVE_FCW) = FCW_RESET;
	*(u32 *)(uintptr_t)(fpu_phys + FXSAVE_MXCSR) = MXCSR_RESET;
	*(u32 *)(uintptr_t)vmcs_phys = (u32)(caps.basic & VMX_BASIC_REVISION_MASK);
	vcpu_current_select(v, __func__);
	if (!vmclear(vmcs_phys) || !vmptrld(vmcs_phys)) {
		vcpu_current_clear(v, __func__);
		return -1;
	}
	setup_exec_controls(eptp, vpid);
	setup_exit_entry_controls();
	setup_host_state();
	arch_vcpu_reset_protected32(v, 0);
	return 0;
}

/*
 * APIC virtualization needs, besides the external-interrupt exiting uhv
 * sets anyway (§26.2.1.1): the TPR shadow, which gives the VMCS a
 * virtual-APIC page; virtualized APIC accesses, which send the guest's
 * xAPIC page there; APIC-register virtualization, so reads and most
 * writes need no exit; and virtual-interrupt delivery, so the CPU itself
 * delivers from the virtual IRR and retires EOIs (SDM Vol. 3C §30.1-30.2).
 */
#define APICV_PROC2 (PROC2_VIRTUALIZE_APIC_ACCESSES | PROC2_APIC_REGISTER_VIRT | \
		     PROC2_VIRTUAL_INTR_DELIVERY)
/* What arch_vcpu_apicv_pause turns off. */
#define APICV_PAUSED_PROC2 (PROC2_APIC_REGISTER_VIRT | PROC2_VIRTUAL_INTR_DELIVERY)

bool arch_apicv_supported(void)
{
	return vmx_ctl_allows(caps.proc, PROC_USE_TPR_SHADOW) &&
	       vmx_ctl_allows(caps.proc2, APICV_PROC2);
}

bool arch_vcpu_enable_apicv(struct arch_vcpu *v, u64 vapic_phys,
			    u64 access_phys)
{
	VCPU_CHECK_VMCS(v);
	if (!arch_apicv_supported())
		return false;
	vmwrite(VMCS_PROC_BASED_CONTROLS, vmx_ctl("processor-based", caps.proc,
		(u32)vmread(VMCS_PROC_BASED_CONTROLS) | PROC_USE_TPR_SHADOW));
	vmwrite(VMCS_PROC_BASED_CONTROLS2, vmx_ctl("secondary", caps.proc2,
		(u32)vmread(VMCS_PROC_BASED_CONTROLS2) | APICV_PROC2));
	vmwrite(VMCS_VIRTUAL_APIC_PAGE_ADDR, vapic_phys);
	vmwrite(VMCS_APIC_ACCESS_ADDR, access_phys);
	vmwrite(VMCS_TPR_THRESHOLD, 0);       /* unused with virtual delivery */
	vmwrite(VMCS_GUEST_INTR_STATUS, 0);
	for (int i = 0; i < NR_EOI_EXIT_BITMAPS; i++) {
		vmwrite((enum vmcs_field)(VMCS_EOI_EXIT_BITMAP0 + i * EOI_EXIT_BITMAP_STRIDE), 0);
		v->eoi_exit[i] = 0;
	}
	v->apicv = true;
	return true;
}

/*
 * While the guest's local APIC is globally disabled its xAPIC page must
 * not answer, and nothing may be delivered from the virtual-APIC page.
 * Without APIC-register virtualization and virtual-interrupt delivery,
 * the TPR shadow kept, the CPU virtualizes only TPR accesses (offset 080H
 * and CR8, so CR8 never reaches the real TPR); every other access to the
 * page is an APIC-access VM exit (SDM Vol. 3C §30.4.2, §30.4.3), which
 * the VMM answers, and the VMM injects interrupts itself.
 */
void arch_vcpu_apicv_pause(struct arch_vcpu *v, bool pause)
{
	u32 proc2;

	VCPU_CHECK_VMCS(v);
	if (!v->apicv || v->apicv_paused == pause)
		return;
	proc2 = (u32)vmread(VMCS_PROC_BASED_CONTROLS2);
	proc2 = pause ? proc2 & ~APICV_PAUSED_PROC2 : proc2 | APICV_PAUSED_PROC2;
	vmwrite(VMCS_PROC_BASED_CONTROLS2, vmx_ctl("secondary", caps.proc2, proc2));
	v->apicv_paused = pause;
}

/* The EOI-exit bitmaps are written only when they change: at most when
   a vector's trigger mode does. */
void arch_vcpu_apicv_sync(struct arch_vcpu *v, u8 rvi, u8 svi,
			  const u32 eoi_exit[8])
{
	VCPU_CHECK_VMCS(v);
	vmwrite(VMCS_GUEST_INTR_STATUS, (u64)svi << INTR_STATUS_SVI_SHIFT | rvi);
	for (int i = 0; i < NR_EOI_EXIT_BITMAPS; i++) {
		u64 b = eoi_exit[2 * i] | (u64)eoi_exit[2 * i + 1] << 32;

		if (b == v->eoi_exit[i])
			continue;
		vmwrite((enum vmcs_field)(VMCS_EOI_EXIT_BITMAP0 + i * EOI_EXIT_BITMAP_STRIDE), b);
		v->eoi_exit[i] = b;
	}
}

/*
 * Retires a vCPU's VMCS (VMCLEAR writes its state back and makes it
 * inactive, SDM Vol. 3C §25.11.3), so its page can be freed.
 */
void arch_vcpu_destroy(struct arch_vcpu *v)
{
	vcpu_current_clear(v, __func__);
	vmclear(v->vmcs_phys);
}

/*
 * Drops the translations cached for an EPT (INVEPT single-context,
 * §29.4.3.1), combined mappings included: the next VM may get the same
 * EPT root page with other memory behind it.
 */
void arch_ept_invalidate(u64 eptp)
{
	/* all-context where the CPU lacks single-context (EPT_VPID_CAP
	   bit 25; vmx_check_features made sure one of the two exists) */
	if (caps.ept_vpid & EPT_CAP_INVEPT_SINGLE)
		invept(INVEPT_SINGLE_CONTEXT, eptp);
	else
		invept(INVEPT_ALL_CONTEXT, eptp);
}

/*
 * A CR0 write that uhv emulates may turn paging on or off. With
 * EFER.LME set that enters or leaves IA-32e mode, which the CPU would
 * have recorded in EFER.LMA; here uhv must, and keep the "IA-32e mode
 * guest" entry control equal to it (SDM Vol. 3C §26.3.1.1).
 */
static void update_long_mode(u64 new_cr0)
{
	u64 efer = vmread(VMCS_GUEST_IA32_EFER);
	u64 entry = vmread(VMCS_ENTRY_CONTROLS);

	if (!(efer & EFER_LME))
		return;
	if (new_cr0 & CR0_PG) {
		efer |= EFER_LMA;
		entry |= ENTRY_IA32E_MODE_GUEST;
	} else {
		efer &= ~EFER_LMA;
		entry &= ~(u64)ENTRY_IA32E_MODE_GUEST;
	}
	vmwrite(VMCS_GUEST_IA32_EFER, efer);
	vmwrite(VMCS_ENTRY_CONTROLS, entry);
}

bool arch_vcpu_write_cr(struct arch_vcpu *v, int cr, u64 val)
{
	VCPU_CHECK_VMCS(v);
	if (cr == 0) {
		/* PG without PE, or NW without CD, is #GP (SDM Vol. 3A §2.5) */
		if (((val & CR0_PG) && !(val & CR0_PE)) ||
		    ((val & CR0_NW) && !(val & CR0_CD)) || (val >> 32))
			return false;
		update_long_mode(val);
		vmwrite(VMCS_CR0_READ_SHADOW, val);
		vmwrite(VMCS_GUEST_CR0, fix_cr(val, caps.cr0_fixed0 &
					       ~(CR0_PE | CR0_PG), caps.cr0_fixed1));
		return true;
	}
	if (cr == 4) {
		if ((val & CR4_VMXE) ||  /* uhv offers no nested VMX */
		    (val & (CR4_HIDDEN | ~caps.cr4_fixed1)))
			return false;
		vmwrite(VMCS_CR4_READ_SHADOW, val);
		vmwrite(VMCS_GUEST_CR4, fix_cr(val, caps.cr4_fixed0, caps.cr4_fixed1));
		return true;
	}
	return false;
}

void arch_vcpu_set_timer(struct arch_vcpu *v, u64 ticks)
{
	/* IA32_VMX_MISC[4:0]: the timer counts TSC >> this (Bochs: 0). */
	u64 t = ticks >> (caps.misc & VMX_MISC_PREEMPT_RATE_MASK);

	VCPU_CHECK_VMCS(v);
	vmwrite(VMCS_PREEMPTION_TIMER_VALUE, MIN(MAX(t, 1), 0xffffffffULL));
}


/*
 * The XCR0 uhv saves and restores a vCPU's state under: the guest's,
 * plus x87 and SSE. XSAVE and XRSTOR touch only the components set in
 * XCR0 (SDM Vol. 1 §13.6: RFBM = XCR0 AND EDX:EAX), but the guest's XCR0
 * does not bound the state it uses: x87 and SSE instructions run with
 * CR4.OSFXSR whatever XCR0 says (XCR0 only gates XSAVE and AVX, §13.3),
 * and a guest without CR4.OSXSAVE keeps the reset value, x87 only. Under
 * its own XCR0 such a guest's XMM registers and MXCSR were left to the
 * next vCPU: Linux turns OSXSAVE off again when it dislikes CPUID leaf
 * 0xD (Bochs 2.7 reports the standard size as the compacted one) and its
 * processes then saw the other vCPU's XMM registers. XCR0[1] can be set
 * on every processor with XSAVE (§13.3).
 */
static u64 switched_xcr0(u64 guest_xcr0)
{
	return guest_xcr0 | XCR0_X87 | XCR0_SSE;
}

bool arch_vcpu_xsetbv(struct arch_vcpu *v, u32 xcr, u64 val)
{
	struct cpuid_regs r;
	u64 supported;

	VCPU_CHECK_LOADED(v);   /* XCR0 on the CPU is v's */
	if (!(read_cr4() & CR4_OSXSAVE))
		return false;
	cpuid(0xd, 0, &r);
	supported = ((u64)r.edx << 32) | r.eax;
	if (xcr != 0 || !(val & XCR0_X87) || (val & ~supported) ||
	    ((val & XCR0_AVX) && !(val & XCR0_SSE)))
		return false;
	v->xcr0 = val;
	xsetbv(0, val);
	/* XSAVE writes XSTATE_BV only for the components it saves: bits of
	   components the guest just turned off would stay set in the area
	   and make the next XRSTOR fault in VMX root (SDM Vol. 1 §13.8) */
	*(u64 *)(uintptr_t)(v->fpu_phys + XSAVE_XSTATE_BV) &= switched_xcr0(val);
	return true;
}

/*
 * uhv is built with -mgeneral-regs-only and never touches x87/SSE/AVX
 * state, so a vCPU's FPU state only needs saving when another vCPU is
 * about to run (put), and restoring when it runs again (load). CR2 is
 * the same: the VMCS guest-state area holds CR0, CR3 and CR4 but not CR2
 * (SDM Vol. 3C §25.4.1), so VM entries and exits leave it alone, and uhv
 * never page-faults; but a guest preempted between a #PF and its
 * handler's read of CR2 must find its own fault address there, not the
 * last one of another VM (else Linux sends SIGSEGV to an innocent process).
 */
static bool use_xsave(void)
{
	return read_cr4() & CR4_OSXSAVE;
}

static const u32 amsr_index[NR_AMSRS] = {
	[AMSR_STAR] = MSR_IA32_STAR, [AMSR_LSTAR] = MSR_IA32_LSTAR,
	[AMSR_CSTAR] = MSR_IA32_CSTAR, [AMSR_FMASK] = MSR_IA32_FMASK,
	[AMSR_KERNEL_GS_BASE] = MSR_IA32_KERNEL_GS_BASE,
	[AMSR_TSC_AUX] = MSR_IA32_TSC_AUX, [AMSR_SPEC_CTRL] = MSR_IA32_SPEC_CTRL,
};

/* Which of them the CPU has (probe_optional_msrs); the others always. */
static bool amsr_present[NR_AMSRS] = {
	[AMSR_STAR] = true, [AMSR_LSTAR] = true, [AMSR_CSTAR] = true,
	[AMSR_FMASK] = true, [AMSR_KERNEL_GS_BASE] = true,
};
static bool rdtscp_enabled, has_ibpb;

/*
 * Probes, once, the MSRs guests may have beside the SYSCALL ones:
 * TSC_AUX where RDTSCP or RDPID exist (used with "enable RDTSCP", which
 * the CPU offers only then: SDM Vol. 3C §25.6.2), SPEC_CTRL where any of
 * IBRS, STIBP or SSBD exist, PRED_CMD where IBPB does (Vol. 4 §2.1).
 */
static void probe_optional_msrs(void)
{
	struct cpuid_regs r, l7 = { 0, 0, 0, 0 }, e = { 0, 0, 0, 0 };

	cpuid(0, 0, &r);
	if (r.eax >= 7)
		cpuid(7, 0, &l7);
	cpuid(0x80000000U, 0, &r);
	if (r.eax >= 0x80000001U)
		cpuid(0x80000001U, 0, &e);
	rdtscp_enabled = ((caps.proc2 >> 32) & PROC2_ENABLE_RDTSCP) &&
			 ((e.edx & CPUID_81_EDX_RDTSCP) || (l7.ecx & CPUID_7_ECX_RDPID));
	amsr_present[AMSR_TSC_AUX] = rdtscp_enabled;
	amsr_present[AMSR_SPEC_CTRL] = l7.edx & (CPUID_7_EDX_IBRS_IBPB |
						 CPUID_7_EDX_STIBP | CPUID_7_EDX_SSBD);
	has_ibpb = l7.edx & CPUID_7_EDX_IBRS_IBPB;
}

/*
 * NMI exiting and virtual NMIs (§25.6.1; virtual NMIs need NMI exiting):
 * every NMI is uhv's, and the CPU tracks guests' own NMI blocking. Probed
 * once, and said once where the CPU lacks them: then a host NMI during a
 * guest goes to the guest's IDT.
 */
static void probe_nmi_controls(void)
{
	pin_nmi = 0;
	if (vmx_ctl_allows(caps.pin, PIN_NMI_EXITING))
		pin_nmi = PIN_NMI_EXITING;
	if (pin_nmi && vmx_ctl_allows(caps.pin, PIN_VIRTUAL_NMIS))
		pin_nmi |= PIN_VIRTUAL_NMIS;
	arch_nmi_set_exiting(pin_nmi & PIN_NMI_EXITING);
	if (!(pin_nmi & PIN_NMI_EXITING))
		printk("uhv: vmx: the CPU lacks NMI exiting: host NMIs during a "
		       "guest go to the guest\n");
	else if (!arch_vcpu_nmis_supported())
		printk("uhv: vmx: the CPU lacks virtual NMIs or NMI-window exiting: "
		       "guests' NMIs are dropped, counted per VM\n");
}

/* Guests get NMIs only with virtual NMIs and NMI-window exiting (§25.6.1,
   §25.6.2): the CPU tracks their blocking, and uhv learns when it ends. */
bool arch_vcpu_nmis_supported(void)
{
	return (pin_nmi & PIN_VIRTUAL_NMIS) &&
	       vmx_ctl_allows(caps.proc, PROC_NMI_WINDOW_EXITING);
}

/*
 * A debugger's intercepts: the exception bitmap (§25.6.3) with #BP and
 * #DB beside #MC, and the monitor trap flag (§26.5.2; primary control
 * bit 27, Table 25-6), which not every CPU has: asked of the capability
 * MSR each time, so a CPU without it refuses the step rather than fail
 * the VM entry.
 */
bool arch_vcpu_debug_intercepts(struct arch_vcpu *v, bool bp, bool db,
				bool step)
{
	u64 proc;

	VCPU_CHECK_VMCS(v);
	if (step && !vmx_ctl_allows(caps.proc, PROC_MONITOR_TRAP_FLAG))
		return false;
	vmwrite(VMCS_EXCEPTION_BITMAP, EXC_BITMAP_MC |
		(bp ? EXC_BITMAP_BP : 0) | (db ? EXC_BITMAP_DB : 0));
	proc = vmread(VMCS_PROC_BASED_CONTROLS) & ~(u64)PROC_MONITOR_TRAP_FLAG;
	vmwrite(VMCS_PROC_BASED_CONTROLS,
		proc | (step ? PROC_MONITOR_TRAP_FLAG : 0));
	return true;
}

bool arch_rdtscp_enabled(void)
{
	return rdtscp_enabled;
}

void arch_ibpb(void)
{
	if (has_ibpb)
		wrmsr(MSR_IA32_PRED_CMD, 1);   /* IA32_PRED_CMD.IBPB */
}

u64 arch_vcpu_msr_get(struct arch_vcpu *v, enum arch_msr m)
{
	/* v is loaded: the hardware has its value (SWAPGS changes
	   KERNEL_GS_BASE without an exit, so the copy may be stale) */
	VCPU_CHECK_LOADED(v);
	return rdmsr(amsr_index[m]);
}

void arch_vcpu_msr_set(struct arch_vcpu *v, enum arch_msr m, u64 val)
{
	VCPU_CHECK_LOADED(v);
	v->msrs[m] = val;
	wrmsr(amsr_index[m], val);
}

/* vcpu_current.h's report of a broken current-VMCS rule: a vCPU is
   named by its VMCS's address, or "none". */
static const char *vmcs_name(char *buf, size_t n, const struct arch_vcpu *v)
{
	if (!v)
		return "none";
	fmt_sn(buf, n, "0x%llx", (unsigned long long)v->vmcs_phys);
	return buf;
}

void vcpu_current_panic(const char *fn, const struct arch_vcpu *v,
			const char *rule)
{
	char given[24], cur[24], loaded[24];

	printk("\nuhv: PANIC: %s, vCPU of VMCS %s: %s (current VMCS %s, "
	       "loaded vCPU's %s); a uhv bug\n", fn,
	       vmcs_name(given, sizeof(given), v), rule,
	       vmcs_name(cur, sizeof(cur), vcpu_current.vmcs),
	       vmcs_name(loaded, sizeof(loaded), vcpu_current.loaded));
	power_off("uhv stopped: a vCPU was used against the current-VMCS rule "
		  "(arch/x86/vcpu.h)");
}

void arch_vcpu_select(struct arch_vcpu *v)
{
	vcpu_current_select(v, __func__);
	vmptrld(v->vmcs_phys);
}

void arch_vcpu_load(struct arch_vcpu *v)
{
	void *area = (void *)(uintptr_t)v->fpu_phys;

	vcpu_current_load(v);
	vmptrld(v->vmcs_phys);
	for (int m = 0; m < NR_AMSRS; m++)
		if (amsr_present[m])
			wrmsr(amsr_index[m], v->msrs[m]);
	write_cr2(v->cr2);
	write_dr0(v->dr[0]);
	write_dr1(v->dr[1]);
	write_dr2(v->dr[2]);
	write_dr3(v->dr[3]);
	write_dr6(v->dr6);
	if (use_xsave()) {
		u64 xcr0 = switched_xcr0(v->xcr0);

		xsetbv(0, xcr0);
		__asm__ volatile("xrstor64 %0" ::"m"(*(u8 *)area), "a"(~0U),
				 "d"(~0U) : "memory");
		/* the guest runs with the host's XCR0: its own */
		if (xcr0 != v->xcr0)
			xsetbv(0, v->xcr0);
	} else {
		__asm__ volatile("fxrstor64 %0" ::"m"(*(u8 *)area) : "memory");
	}
}

void arch_vcpu_put(struct arch_vcpu *v)
{
	void *area = (void *)(uintptr_t)v->fpu_phys;

	vcpu_current_put(v);
	/* SWAPGS exchanged it behind uhv's back: keep the live value */
	v->msrs[AMSR_KERNEL_GS_BASE] = rdmsr(MSR_IA32_KERNEL_GS_BASE);
	v->cr2 = read_cr2();
	v->dr[0] = read_dr0();
	v->dr[1] = read_dr1();
	v->dr[2] = read_dr2();
	v->dr[3] = read_dr3();
	v->dr6 = read_dr6();

	if (use_xsave()) {
		/* XCR0 is the guest's (arch_vcpu_load or its XSETBV set it) */
		if (switched_xcr0(v->xcr0) != v->xcr0)
			xsetbv(0, switched_xcr0(v->xcr0));
		__asm__ volatile("xsave64 %0" : "=m"(*(u8 *)area) : "a"(~0U),
				 "d"(~0U) : "memory");
	} else
		__asm__ volatile("fxsave64 %0" : "=m"(*(u8 *)area)::"memory");
}
