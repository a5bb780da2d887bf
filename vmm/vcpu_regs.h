/* A vCPU's general registers by x86 number, as exit handlers decode them. */
#ifndef UHV_VMM_VCPU_REGS_H
#define UHV_VMM_VCPU_REGS_H

#include "vmm/vm.h"

/* Reads the GPR with x86 number n (0 RAX ... 15 R15); RSP (4) lives in
   the VMCS, the others in the arch layer's register array. */
static inline u64 vcpu_gpr(struct vcpu *v, unsigned n)
{
	return n == GPR_RSP_UNUSED ? arch_vcpu_get(&v->arch, AREG_RSP)
				   : v->arch.regs[n];
}

/* Writes the GPR with x86 number n. */
static inline void vcpu_set_gpr(struct vcpu *v, unsigned n, u64 val)
{
	if (n == GPR_RSP_UNUSED)
		arch_vcpu_set(&v->arch, AREG_RSP, val);
	else
		v->arch.regs[n] = val;
}

#endif
