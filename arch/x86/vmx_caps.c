/*
 * The one place that decides whether this CPU can run uhv. Each
 * requirement is one check with its own message (as Jailhouse's
 * vmx_check_features does), so a user learns exactly what is missing.
 */
#include "arch/x86/vmx_caps.h"
#include "arch/x86/cpu.h"
#include "arch/x86/msr.h"
#include "arch/x86/vmx.h"

static void hw_cpuid(u32 leaf, u32 sub, u32 out[4])
{
	struct cpuid_regs r;

	cpuid(leaf, sub, &r);
	out[0] = r.eax;
	out[1] = r.ebx;
	out[2] = r.ecx;
	out[3] = r.edx;
}

static u64 hw_rdmsr(u32 msr)
{
	return rdmsr(msr);
}

const struct cpu_probe cpu_probe_hw = { hw_cpuid, hw_rdmsr };

/* Reads the TRUE_* MSR where IA32_VMX_BASIC[55] says it exists. */
static u64 read_ctl(const struct cpu_probe *p, u64 basic, u32 msr, u32 true_msr)
{
	return p->rdmsr((basic & VMX_BASIC_TRUE_CTLS) ? true_msr : msr);
}

static void read_caps(struct vmx_caps *c, const struct cpu_probe *p)
{
	c->basic = p->rdmsr(MSR_IA32_VMX_BASIC);
	c->pin = read_ctl(p, c->basic, MSR_IA32_VMX_PINBASED_CTLS,
			  MSR_IA32_VMX_TRUE_PINBASED_CTLS);
	c->proc = read_ctl(p, c->basic, MSR_IA32_VMX_PROCBASED_CTLS,
			   MSR_IA32_VMX_TRUE_PROCBASED_CTLS);
	c->exit = read_ctl(p, c->basic, MSR_IA32_VMX_EXIT_CTLS,
			   MSR_IA32_VMX_TRUE_EXIT_CTLS);
	c->entry = read_ctl(p, c->basic, MSR_IA32_VMX_ENTRY_CTLS,
			    MSR_IA32_VMX_TRUE_ENTRY_CTLS);
	c->misc = p->rdmsr(MSR_IA32_VMX_MISC);
	c->cr0_fixed0 = p->rdmsr(MSR_IA32_VMX_CR0_FIXED0);
	c->cr0_fixed1 = p->rdmsr(MSR_IA32_VMX_CR0_FIXED1);
	c->cr4_fixed0 = p->rdmsr(MSR_IA32_VMX_CR4_FIXED0);
	c->cr4_fixed1 = p->rdmsr(MSR_IA32_VMX_CR4_FIXED1);
	c->proc2 = 0;
	c->ept_vpid = 0;
	if (vmx_ctl_allows(c->proc, PROC_ACTIVATE_SECONDARY_CONTROLS)) {
		c->proc2 = p->rdmsr(MSR_IA32_VMX_PROCBASED_CTLS2);
		if (vmx_ctl_allows(c->proc2, PROC2_ENABLE_EPT) ||
		    vmx_ctl_allows(c->proc2, PROC2_ENABLE_VPID))
			c->ept_vpid = p->rdmsr(MSR_IA32_VMX_EPT_VPID_CAP);
	}
}

/*
 * CPUs whose VMX preemption timer does not count at the rate
 * IA32_VMX_MISC states (Intel's specification updates: Xeon 5500/3400
 * and Core i7-900 erratum AAJ134 and kin, Xeon 5600 BC86, Xeon 7500
 * BA97, Core i7/i5 Sandy Bridge-E/EN/EP, Core 2nd-gen Mobile...). The
 * same signatures (CPUID.1:EAX, family 6, stepping included) are those
 * other hypervisors refuse the timer on. uhv's time slices depend on it.
 */
static const u32 preemption_timer_errata[] = {
	0x000206E6, 0x00020652, 0x00020655, 0x000106E5, 0x000106A0,
	0x000106A1, 0x000106A4, 0x000106A5, 0x000306A8,
};

static bool preemption_timer_broken(u32 signature)
{
	for (size_t i = 0; i < ARRAY_SIZE(preemption_timer_errata); i++)
		if ((signature & CPUID_1_EAX_SIGNATURE_MASK) == preemption_timer_errata[i])
			return true;
	return false;
}

/* The rest of the requirements, once the capability MSRs are read. */
static const char *check_timers_and_invept(const struct vmx_caps *c, u32 signature)
{
	/* The preemption timer ends time slices: VMs share a CPU. */
	if (!vmx_ctl_allows(c->pin, PIN_ACTIVATE_PREEMPTION_TIMER) ||
	    !vmx_ctl_allows(c->exit, EXIT_SAVE_PREEMPTION_TIMER))
		return "VMX lacks the preemption timer (or saving it on exit)";
	if (preemption_timer_broken(signature))
		return "this CPU's VMX preemption timer has an erratum (it does "
		       "not count at the stated rate); uhv cannot share it";
	/* A guest's IA32_TSC_ADJUST and TSC writes move its TSC: an
	   offset the CPU adds to RDTSC (§26.6.5, "TSC offsetting"). */
	if (!vmx_ctl_allows(c->proc, PROC_USE_TSC_OFFSETTING))
		return "VMX lacks TSC offsetting";
	/* A VM's destruction drops its cached translations (§29.4.3). */
	if (!(c->ept_vpid & EPT_CAP_INVEPT) ||
	    !(c->ept_vpid & (EPT_CAP_INVEPT_SINGLE | EPT_CAP_INVEPT_ALL)))
		return "EPT lacks INVEPT (single- or all-context)";
	return NULL;
}

const char *vmx_check_features(struct vmx_caps *c, const struct cpu_probe *p)
{
	const char *why;
	u32 r[4], signature;
	u64 fc;

	/* VT-x itself: CPUID.1:ECX.VMX (SDM Vol. 3C §24.6). */
	p->cpuid(1, 0, r);
	signature = r[0];
	if (!(r[2] & CPUID_1_ECX_VMX))
		return "the CPU has no VMX (Intel VT-x); under QEMU use KVM "
		       "with nested VMX, or Bochs";
	/* Firmware may lock VMX off (§24.7); if unlocked uhv enables it. */
	fc = p->rdmsr(MSR_IA32_FEATURE_CONTROL);
	if ((fc & FEATURE_CONTROL_LOCK) &&
	    !(fc & FEATURE_CONTROL_VMX_OUTSIDE_SMX))
		return "VMX is disabled and locked in IA32_FEATURE_CONTROL: "
		       "enable Intel VT-x in the firmware setup";
	read_caps(c, p);
	/* Secondary controls carry EPT, VPID and unrestricted guest. */
	if (!vmx_ctl_allows(c->proc, PROC_ACTIVATE_SECONDARY_CONTROLS))
		return "VMX lacks secondary processor-based controls";
	/* EPT gives each VM its own guest-physical address space. */
	if (!vmx_ctl_allows(c->proc2, PROC2_ENABLE_EPT))
		return "VMX lacks EPT (extended page tables)";
	/* uhv's EPT tables are 4 levels, write-back, with 2 MiB pages. */
	if (!(c->ept_vpid & EPT_CAP_WALK_4) ||
	    !(c->ept_vpid & EPT_CAP_MEMTYPE_WB) ||
	    !(c->ept_vpid & EPT_CAP_PDE_2MB))
		return "EPT lacks 4-level walks, write-back or 2 MiB pages";
	/* Guests start in real or unpaged protected mode. */
	if (!vmx_ctl_allows(c->proc2, PROC2_UNRESTRICTED_GUEST))
		return "VMX lacks unrestricted guest";
	/* VPIDs keep each VM's TLB entries apart without flushes. */
	if (!vmx_ctl_allows(c->proc2, PROC2_ENABLE_VPID))
		return "VMX lacks VPID";
	if ((why = check_timers_and_invept(c, signature)))
		return why;
	/* Guest and host EFER differ (a guest may run in 32-bit mode). */
	if (!vmx_ctl_allows(c->exit, EXIT_LOAD_IA32_EFER | EXIT_SAVE_IA32_EFER) ||
	    !vmx_ctl_allows(c->entry, ENTRY_LOAD_IA32_EFER))
		return "VMX cannot load/save IA32_EFER on entry and exit";
	/* uhv itself runs in 64-bit mode. */
	if (!vmx_ctl_allows(c->exit, EXIT_HOST_ADDRESS_SPACE_SIZE))
		return "VMX cannot return to a 64-bit host";
	return NULL;
}
