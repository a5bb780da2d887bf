/*
 * What the CPU's VMX implementation offers, read once from the capability
 * MSRs (SDM Vol. 3D Appendix A), and the check that it offers everything
 * uhv needs. The loader runs the check before boot services end, so an
 * unsupported machine gets a message and uhv returns to the firmware.
 */
#ifndef UHV_ARCH_VMX_CAPS_H
#define UHV_ARCH_VMX_CAPS_H

#include "lib/types.h"

struct vmx_caps {
	u64 basic;
	/* allowed settings: low 32 bits allowed-0 (must be 1), high 32
	   bits allowed-1 (may be 1); TRUE_* MSRs where the CPU has them */
	u64 pin, proc, proc2, exit, entry;
	u64 misc;
	u64 ept_vpid;
	u64 cr0_fixed0, cr0_fixed1, cr4_fixed0, cr4_fixed1;
};

/* How the check reads the CPU: the real instructions in uhv, a table of
   values in the host unit tests. */
struct cpu_probe {
	void (*cpuid)(u32 leaf, u32 sub, u32 out[4]);
	u64 (*rdmsr)(u32 msr);
};

/* The real CPU (CPUID and RDMSR instructions). */
extern const struct cpu_probe cpu_probe_hw;

/*
 * Probes CPUID and the VMX MSRs. Returns NULL when uhv can run, else a
 * sentence saying what is missing. Safe to call on any x86-64 CPU: no VMX
 * MSR is read before CPUID says VMX exists.
 */
const char *vmx_check_features(struct vmx_caps *caps, const struct cpu_probe *p);

/* True if every bit of want may be 1 in a control whose caps are ctl. */
static inline bool vmx_ctl_allows(u64 ctl, u32 want)
{
	return ((u32)(ctl >> 32) & want) == want;
}

#endif
