/*
 * Which vCPU's state this CPU holds: the bookkeeping behind vcpu.h's
 * current-VMCS rule, kept pure so its rules are unit-tested
 * (tests/unit/test_vcpu_current.c). vmx.c issues the VMPTRLD and VMCLEAR
 * that go with each change, and says how a broken rule is reported.
 *
 *   vmcs    the vCPU whose VMCS is current (arch_vcpu_init, _select or
 *           _load made it so with VMPTRLD), the one VMREAD and VMWRITE
 *           reach; NULL after arch_vcpu_put or a VMCLEAR of that VMCS
 *   loaded  the vCPU arch_vcpu_load also gave the CPU's FPU, MSRs, CR2
 *           and debug registers; NULL after arch_vcpu_put
 *
 * loaded is NULL or equal to vmcs. uhv runs its guests on one CPU, so
 * there is one record.
 */
#ifndef UHV_ARCH_VCPU_CURRENT_H
#define UHV_ARCH_VCPU_CURRENT_H

#include "arch/x86/vcpu.h"

struct vcpu_current {
	struct arch_vcpu *vmcs;
	struct arch_vcpu *loaded;
};
extern struct vcpu_current vcpu_current;

/* A broken rule is a uhv bug: prints the function (fn), the vCPU it was
   given and the rule, and stops the machine (vmx.c; the unit tests have
   their own). */
__attribute__((noreturn, cold))
void vcpu_current_panic(const char *fn, const struct arch_vcpu *v,
			const char *rule);

/* The checks, one compare each: v's VMCS is current; v is loaded. */
static inline void vcpu_check_vmcs(const struct arch_vcpu *v, const char *fn)
{
	if (__builtin_expect(v != vcpu_current.vmcs, 0))
		vcpu_current_panic(fn, v, "its VMCS is not the current one");
}

static inline void vcpu_check_loaded(const struct arch_vcpu *v, const char *fn)
{
	if (__builtin_expect(v != vcpu_current.loaded, 0))
		vcpu_current_panic(fn, v, "it is not the loaded vCPU");
}

#define VCPU_CHECK_VMCS(v)   vcpu_check_vmcs(v, __func__)
#define VCPU_CHECK_LOADED(v) vcpu_check_loaded(v, __func__)

/* The changes, each called before the instruction that makes it:
   select (VMPTRLD to set a VMCS up) and load need no vCPU loaded; put
   needs v loaded; clear (VMCLEAR) needs v not loaded. */
void vcpu_current_select(struct arch_vcpu *v, const char *fn);
void vcpu_current_load(struct arch_vcpu *v);
void vcpu_current_put(struct arch_vcpu *v);
void vcpu_current_clear(struct arch_vcpu *v, const char *fn);

#endif
