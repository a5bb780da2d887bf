/*
 * CPUID, VMCALL and control-register exits.
 *
 * CPUID shows the guest the allowlist of cpuid_policy.c (what uhv really
 * virtualizes, docs/cpuid.md), plus the bits that mirror the asking
 * vCPU's own state (its APIC id, the VM's CPU count, CR4.OSXSAVE, whether
 * its APIC is on), and uhv's own leaves at 0x40000000 whose signature is
 * "uhv".
 */
#include "vmm/exit_handlers.h"
#include "vmm/cpuid_policy.h"
#include "vmm/dev/lapic.h"
#include "arch/x86/cpu.h"
#include "vmm/exit.h"
#include "vmm/vcpu_regs.h"
#include "lib/version.h"

#define CPUID_HV_BASE       0x40000000U
#define CPUID_HV_TIMING     0x40000010U   /* TSC and APIC timer kHz */
#define CPUID_HV_LAST       CPUID_HV_TIMING  /* highest hypervisor leaf */
#define CPUID_HV_RANGE_END  0x400000ffU
#define UHV_SIGNATURE       0x00766875U   /* "uhv\0" little endian */
#define VMCALL_VERSION      0             /* RAX in: function; out: result */
#define VMCALL_PUTCHAR      1
#define VMCALL_UNKNOWN      (~0ULL)

/* The host's CPUID, for cpuid_policy. */
static void host_cpuid(void *ctx, u32 leaf, u32 sub, struct cpuid_leaf *out)
{
	struct cpuid_regs r;

	(void)ctx;
	cpuid(leaf, sub, &r);
	*out = (struct cpuid_leaf){ r.eax, r.ebx, r.ecx, r.edx };
}

/* One policy for every VM, probed at the first VM's creation. */
static struct cpuid_policy policy;
static bool policy_ready;

const struct cpuid_policy *cpuid_guest_policy(void)
{
	if (policy_ready)
		return &policy;
	cpuid_policy_init(&policy, host_cpuid, NULL, arch_rdtscp_enabled(),
			  ARCH_FPU_AREA_SIZE, arch_host_arch_capabilities());
	policy_ready = true;
	return &policy;
}

/* Leaves 0x40000000-0x400000ff: uhv's own. 0x40000010 gives the TSC and
   APIC timer rates in kHz, as other hypervisors do there. */
static void hypervisor_leaf(struct vcpu *v, u64 *g, u32 leaf)
{
	bool base = leaf == CPUID_HV_BASE;

	g[GPR_RAX] = base ? CPUID_HV_LAST : 0;
	g[GPR_RBX] = g[GPR_RCX] = g[GPR_RDX] = base ? UHV_SIGNATURE : 0;
	if (leaf == CPUID_HV_TIMING)
		g[GPR_RAX] = g[GPR_RBX] = (u32)(v->vm->tsc_hz / 1000);
}

/* Whether v's local APIC is on: IA32_APIC_BASE.EN (bit 11), which
   CPUID.1:EDX.APIC reports (SDM Vol. 3A §11.4.3). The LAPIC model's
   state as lapic_mode() returns it, read from struct lapic (lapic.h)
   without the call: a call here costs every leaf-1 CPUID exit 8
   instructions (make bench, cpuid1_exit_cost). */
static inline bool apic_enabled(const struct vcpu *v)
{
	return v->lapic.mode != LAPIC_DISABLED;
}

/*
 * Leaf 1 for the vCPU asking: the cached answer with its APIC id, the
 * VM's CPU count, OSXSAVE and APIC patched in (cpuid_vcpu_leaf1).
 * CR4.OSXSAVE is the guest's own bit, outside the CR4 guest/host mask
 * (arch/x86/vmx.c), so a MOV to CR4 that sets or clears it does not exit
 * and lands in the VMCS's guest CR4, while the read shadow keeps whatever
 * the last CR4 exit wrote there (SDM Vol. 3C §25.6.6 and MOV to CR4 in
 * §26.3): the shadow answered 0 to a guest that had set it.
 */
static void per_vcpu_leaf1(struct vcpu *v, u64 *g)
{
	/* the VMREAD first: nothing else need live across the call, so
	   exit_cpuid's frame (every CPUID exit's prologue) stays small */
	bool osxsave = arch_vcpu_get(&v->arch, AREG_CR4) & CR4_OSXSAVE;
	struct cpuid_vcpu s = {
		.apic_id = (u32)v->id,
		.nr_cpus = (u32)v->vm->nr_vcpus,
		.osxsave = osxsave,
		.apic_on = apic_enabled(v),
	};
	struct cpuid_leaf r = { (u32)g[GPR_RAX], (u32)g[GPR_RBX],
				(u32)g[GPR_RCX], (u32)g[GPR_RDX] };

	cpuid_vcpu_leaf1(&s, &r);
	g[GPR_RBX] = r.ebx;
	g[GPR_RCX] = r.ecx;
	g[GPR_RDX] = r.edx;
}

/* A leaf the cache does not hold: the policy's answer, and for the
   topology leaves the asking vCPU's x2APIC id. Out of line, so that
   exit_cpuid's common (cached) path keeps a small frame: inlined, its
   prologue costs every CPUID exit 10 instructions more (make bench). */
static __attribute__((noinline)) void uncached_leaf(struct vcpu *v, u32 leaf, u32 sub, u64 *g)
{
	struct cpuid_leaf r;

	cpuid_policy_leaf(cpuid_guest_policy(), leaf, sub, v->vm->tsc_hz, &r);
	if (cpuid_leaf_is_topology(leaf))
		cpuid_vcpu_topology((u32)v->id, &r);
	g[GPR_RAX] = r.eax;
	g[GPR_RBX] = r.ebx;
	g[GPR_RCX] = r.ecx;
	g[GPR_RDX] = r.edx;
}

/*
 * Basic leaves whose answer does not depend on the subleaf (ECX) are
 * computed once per VM and then served from vm->cpuid_cache: every
 * CPUID the guest runs gets the same answer, and the common exit costs a
 * table lookup. Leaf 1's per-vCPU bits are added on the way out.
 */
#define SUBLEAF_LEAVES ((1U << 4) | (1U << 7) | (1U << 0xb) | (1U << 0xd) | \
			(1U << 0xf) | (1U << 0x10) | (1U << 0x12) | (1U << 0x14))
#define CACHED_LOW (((1U << CPUID_CACHE_LEAVES) - 1) & ~SUBLEAF_LEAVES)

/* The cached leaves answered by the copy alone: all but leaf 1. */
#define COPIED_LOW (CACHED_LOW & ~(1U << 1))

/* Whether leaf is one of the cache's leaves whose bit mask holds. */
static bool low_leaf_in(u32 leaf, u32 mask)
{
	return leaf < CPUID_CACHE_LEAVES && ((mask >> leaf) & 1);
}

static bool cached(u32 leaf)
{
	return low_leaf_in(leaf, CACHED_LOW);
}

static bool copied(u32 leaf)
{
	return low_leaf_in(leaf, COPIED_LOW);
}

void cpuid_cache_init(struct vcpu *v)
{
	const struct cpuid_policy *p = cpuid_guest_policy();
	struct cpuid_leaf r;

	for (u32 leaf = 0; leaf < CPUID_CACHE_LEAVES; leaf++) {
		if (!cached(leaf))
			continue;
		cpuid_policy_leaf(p, leaf, 0, v->vm->tsc_hz, &r);
		v->vm->cpuid_cache[leaf][0] = r.eax;
		v->vm->cpuid_cache[leaf][1] = r.ebx;
		v->vm->cpuid_cache[leaf][2] = r.ecx;
		v->vm->cpuid_cache[leaf][3] = r.edx;
	}
}

/* A cached leaf's answer into the guest's registers. */
static inline void cached_leaf(struct vcpu *v, u32 leaf, u64 *g)
{
	const u32 *c = v->vm->cpuid_cache[leaf];

	g[GPR_RAX] = c[0];
	g[GPR_RBX] = c[1];
	g[GPR_RCX] = c[2];
	g[GPR_RDX] = c[3];
}

/* The leaves that take more than a copy: leaf 1's per-vCPU bits, the
   hypervisor's leaves and those the cache does not hold. */
static __attribute__((noinline)) enum exit_action
cpuid_computed(struct vcpu *v, const struct arch_exit *e, u32 leaf)
{
	u64 *g = v->arch.regs;

	if (cached(leaf)) {
		cached_leaf(v, leaf, g);
		per_vcpu_leaf1(v, g);
	} else if (leaf - CPUID_HV_BASE <= CPUID_HV_RANGE_END - CPUID_HV_BASE) {
		hypervisor_leaf(v, g, leaf);
	} else {
		uncached_leaf(v, leaf, (u32)g[GPR_RCX], g);
	}
	return arch_vcpu_skip(&v->arch, e);   /* EXIT_RESUME */
}

/* The common case, a cached leaf other than 1, is a copy and a jump to
   arch_vcpu_skip: no frame, no call (make bench's CPUID round trip). */
enum exit_action exit_cpuid(struct vcpu *v, const struct arch_exit *e)
{
	u32 leaf = (u32)v->arch.regs[GPR_RAX];

	if (!copied(leaf))
		return cpuid_computed(v, e, leaf);
	cached_leaf(v, leaf, v->arch.regs);
	return arch_vcpu_skip(&v->arch, e);   /* EXIT_RESUME */
}

/*
 * VMCALL, uhv's hypercall: RAX = function. 0 returns uhv's version,
 * (major << 16) | minor (lib/version.h), 1 prints the byte in RBX on the
 * VM's console. Others return ~0.
 */
enum exit_action exit_vmcall(struct vcpu *v, const struct arch_exit *e)
{
	u64 *g = v->arch.regs;

	switch (g[GPR_RAX]) {
	case VMCALL_VERSION:
		g[GPR_RAX] = UHV_VERSION_NUMBER;
		break;
	case VMCALL_PUTCHAR:
		uart_write(&v->vm->uart, 0, 1, g[GPR_RBX]);
		g[GPR_RAX] = 0;
		break;
	default:
		g[GPR_RAX] = VMCALL_UNKNOWN;
	}
	return arch_vcpu_skip(&v->arch, e);   /* EXIT_RESUME */
}

#define CR0_LMSW_BITS (CR0_PE | CR0_MP | CR0_EM | CR0_TS)

/*
 * CR0/CR4 writes exit only when they touch a bit uhv owns (the guest/host
 * masks); uhv checks the value, keeps the VMX-required bits set in the
 * real register and gives the guest its own view through the shadow.
 */
enum exit_action exit_cr_access(struct vcpu *v, const struct arch_exit *e)
{
	u64 cr0 = arch_vcpu_get(&v->arch, AREG_CR0_SHADOW), val;
	int cr = e->cr.cr;

	switch (e->cr.type) {
	case CR_ACCESS_MOV_TO:
		val = vcpu_gpr(v, e->cr.gpr);
		break;
	case CR_ACCESS_CLTS:
		val = cr0 & ~CR0_TS;
		cr = 0;
		break;
	case CR_ACCESS_LMSW:  /* LMSW sets PE but never clears it */
		val = (cr0 & ~(CR0_LMSW_BITS & ~CR0_PE)) |
		      (e->cr.lmsw & CR0_LMSW_BITS);
		cr = 0;
		break;
	default:
		vm_stop(v->vm, VM_ERROR, "unexpected read of CR%d", cr);
		return EXIT_YIELD;
	}
	if (!arch_vcpu_write_cr(&v->arch, cr, val)) {
		arch_vcpu_inject_exception(&v->arch, X86_EXC_GP, true, 0);
		return EXIT_RESUME;
	}
	return arch_vcpu_skip(&v->arch, e);   /* EXIT_RESUME */
}
