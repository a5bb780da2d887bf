/*
 * The current-VMCS record (vcpu_current.h): pure C, no instructions.
 */
#include "arch/x86/vcpu_current.h"

struct vcpu_current vcpu_current;

void vcpu_current_select(struct arch_vcpu *v, const char *fn)
{
	/* VMPTRLD would leave the loaded vCPU's FPU and MSRs on the CPU
	   under another's VMCS */
	if (vcpu_current.loaded)
		vcpu_current_panic(fn, v, "another vCPU is loaded: put it first");
	vcpu_current.vmcs = v;
}

void vcpu_current_load(struct arch_vcpu *v)
{
	if (vcpu_current.loaded)
		vcpu_current_panic("arch_vcpu_load", v, vcpu_current.loaded == v ?
				   "it is loaded already" :
				   "another vCPU is loaded: put it first");
	vcpu_current.vmcs = vcpu_current.loaded = v;
}

void vcpu_current_put(struct arch_vcpu *v)
{
	vcpu_check_loaded(v, "arch_vcpu_put");
	vcpu_current.vmcs = vcpu_current.loaded = NULL;
}

void vcpu_current_clear(struct arch_vcpu *v, const char *fn)
{
	if (v == vcpu_current.loaded)
		vcpu_current_panic(fn, v, "it is loaded: put it first");
	if (v == vcpu_current.vmcs)
		vcpu_current.vmcs = NULL;
}

struct arch_vcpu *arch_vcpu_loaded(void)
{
	return vcpu_current.loaded;
}
