/*
 * Speculation hygiene between VMs: which of the known mitigations this
 * CPU needs, decided once from CPUID and IA32_ARCH_CAPABILITIES (SDM
 * Vol. 4 Table 2-2; Intel's "Speculative Execution Side Channel
 * Mitigations" and "Deep Dive" papers). vmx_entry.asm applies them at
 * every exit and entry of a vCPU whose spec flags ask (SPEC_* in
 * vcpu.h), the VMM at a switch between VMs (IBPB).
 *
 *   RSB filling after exits: a guest can leave return addresses of its
 *     choosing in the return stack buffer, which a RET of uhv's past the
 *     exit's call depth would otherwise speculate to. The fill comes
 *     before the first such RET (vmx_entry.asm says where). Needed
 *     unless the CPU has enhanced IBRS and says its RSB is safe after
 *     exits (PBRSB_NO).
 *   VERW before entry: clears the store, fill and load buffers where the
 *     CPU is affected by MDS (MD_CLEAR without MDS_NO), so a guest
 *     cannot sample what uhv left there.
 *   L1D flush before entry: where the CPU is affected by L1TF (no
 *     RDCL_NO) and a hypervisor must flush (no SKIP_L1DFL_VMENTRY), so a
 *     guest cannot read another VM's data still in L1D.
 *   IBPB when the CPU switches from one VM to another: the next VM
 *     cannot steer the previous one's indirect branches, nor the reverse.
 */
#include "arch/x86/vcpu.h"
#include "arch/x86/cpu.h"
#include "arch/x86/msr.h"
#include "drivers/console.h"

#define CPUID_7_EDX_MD_CLEAR      (1U << 10)
#define CPUID_7_EDX_IBRS_IBPB     (1U << 26)
#define CPUID_7_EDX_L1D_FLUSH     (1U << 28)
#define CPUID_7_EDX_ARCH_CAPS     (1U << 29)
#define ARCH_CAP_RDCL_NO          (1ULL << 0)
#define ARCH_CAP_IBRS_ALL         (1ULL << 1)
#define ARCH_CAP_SKIP_L1DFL_VMENTRY (1ULL << 3)
#define ARCH_CAP_MDS_NO           (1ULL << 5)
#define ARCH_CAP_PBRSB_NO         (1ULL << 24)

static u64 needed, arch_caps;

/* CPUID.(7,0):EDX, 0 where leaf 7 does not exist. */
static u32 leaf7_edx(void)
{
	struct cpuid_regs r;

	cpuid(0, 0, &r);
	if (r.eax < 7)
		return 0;
	cpuid(7, 0, &r);
	return r.edx;
}

/* Decides, from what the CPU says about itself, what it needs. */
static u64 decide(u32 edx, u64 caps)
{
	u64 s = 0;

	if (!(caps & ARCH_CAP_IBRS_ALL) || !(caps & ARCH_CAP_PBRSB_NO))
		s |= SPEC_EXIT_RSB_FILL;
	if ((edx & CPUID_7_EDX_MD_CLEAR) && !(caps & ARCH_CAP_MDS_NO))
		s |= SPEC_ENTRY_VERW;
	if ((edx & CPUID_7_EDX_L1D_FLUSH) && !(caps & ARCH_CAP_RDCL_NO) &&
	    !(caps & ARCH_CAP_SKIP_L1DFL_VMENTRY))
		s |= SPEC_ENTRY_L1D_FLUSH;
	if (edx & CPUID_7_EDX_IBRS_IBPB)
		s |= SPEC_SWITCH_IBPB;
	return s;
}

/* Probes once and says what uhv will do, and why not the rest. */
void arch_spec_probe(void)
{
	u32 edx = leaf7_edx();
	u64 caps = (edx & CPUID_7_EDX_ARCH_CAPS) ?
		   rdmsr(MSR_IA32_ARCH_CAPABILITIES) : 0;

	arch_caps = caps;
	needed = decide(edx, caps);
	printk("uhv: speculation hygiene: RSB fill after exits %s, VERW %s, "
	       "L1D flush %s, IBPB between VMs %s (ARCH_CAPABILITIES 0x%llx)\n",
	       needed & SPEC_EXIT_RSB_FILL ? "on" : "not needed",
	       needed & SPEC_ENTRY_VERW ? "on" : "not needed",
	       needed & SPEC_ENTRY_L1D_FLUSH ? "on" : "not needed",
	       needed & SPEC_SWITCH_IBPB ? "on" : "not available",
	       (unsigned long long)caps);
}

u64 arch_spec_needed(void)
{
	return needed;
}

u64 arch_host_arch_capabilities(void)
{
	return arch_caps;
}
