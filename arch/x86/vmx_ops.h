/*
 * The VMX instructions as inline functions (SDM Vol. 3C ch. 31). Each
 * returns false on VMfailInvalid (CF=1) or VMfailValid (ZF=1).
 */
#ifndef UHV_ARCH_VMX_OPS_H
#define UHV_ARCH_VMX_OPS_H

#include "lib/types.h"
#include "arch/x86/vmx.h"

static inline bool vmxon(u64 phys)
{
	bool ok;

	__asm__ volatile("vmxon %1; seta %0" : "=qm"(ok) : "m"(phys) : "cc", "memory");
	return ok;
}

static inline bool vmclear(u64 phys)
{
	bool ok;

	__asm__ volatile("vmclear %1; seta %0" : "=qm"(ok) : "m"(phys) : "cc", "memory");
	return ok;
}

static inline bool vmptrld(u64 phys)
{
	bool ok;

	__asm__ volatile("vmptrld %1; seta %0" : "=qm"(ok) : "m"(phys) : "cc", "memory");
	return ok;
}

/*
 * INVEPT (SDM Vol. 3C §31.3, "INVEPT"): drops cached translations
 * derived from EPT. The descriptor is 128 bits: the EPTP, then zero.
 */
static inline bool invept(u64 type, u64 eptp)
{
	struct { u64 eptp, zero; } desc = { eptp, 0 };
	bool ok;

	__asm__ volatile("invept %1, %2; seta %0" : "=qm"(ok)
			 : "m"(desc), "r"(type) : "cc", "memory");
	return ok;
}

static inline u64 vmread(enum vmcs_field f)
{
	u64 v;

	__asm__ volatile("vmread %1, %0" : "=r"(v) : "r"((u64)f) : "cc");
	return v;
}

static inline void vmwrite(enum vmcs_field f, u64 v)
{
	__asm__ volatile("vmwrite %1, %0" ::"r"((u64)f), "r"(v) : "cc");
}

#endif
