/*
 * CPUID, VMCALL and control-register exits.
 *
 * CPUID shows the guest the host CPU minus what uhv does not virtualize
 * (VMX itself, SMX, MONITOR/MWAIT, x2APIC, TSC deadline, PDCM, RDTSCP,
 * INVPCID, XSAVES, performance monitoring), plus the hypervisor bit and a
 * hypervisor leaf at 0x40000000 whose signature is "uhv".
 */
#include "exit_handlers.h"
#include "../arch/x86/cpu.h"

#define CPUID_HV_BASE       0x40000000U
#define CPUID_HV_TIMING     0x40000010U   /* TSC and APIC timer kHz */
#define CPUID_HV_LAST       CPUID_HV_TIMING  /* highest hypervisor leaf */
#define CPUID_LEAF_TSC      0x15U         /* TSC/crystal ratio, crystal Hz */
#define CPUID_LEAF_FREQ     0x16U         /* base/max/bus MHz */
#define CPUID_LEAF_THERMAL  0x6U
#define CPUID_6_EAX_ARAT    (1U << 2)     /* APIC timer always running */
#define CPUID_87_EDX_INVARIANT_TSC (1U << 8)
#define CPUID_1_EDX_ACPI    (1U << 22)    /* thermal MSRs */
#define CPUID_1_EDX_HTT     (1U << 28)    /* EBX[23:16] counts CPUs */
#define CPUID_1_EBX_COUNT_SHIFT 16
#define CPUID_LEAF_TOPOLOGY 0xbU
#define CPUID_LEAF_TOPOLOGY2 0x1fU
#define CPUID_1_EDX_TM      (1U << 29)    /* thermal monitor */
#define CPUID_1_ECX_TM2     (1U << 8)
#define CPUID_HV_RANGE_END  0x400000ffU
#define UHV_SIGNATURE       0x00766875U   /* "uhv\0" little endian */
#define CPUID_7_EBX_INVPCID (1U << 10)
#define CPUID_D1_EAX_XSAVES (1U << 3)
#define CPUID_81_EDX_RDTSCP (1U << 27)
#define CPUID_1_EBX_APIC_ID_SHIFT 24
#define CPUID_LEAF_MONITOR  0x5U
#define CPUID_LEAF_PERFMON  0xaU
#define VMCALL_VERSION      0             /* RAX in: function; out: result */
#define VMCALL_PUTCHAR      1
#define VMCALL_UNKNOWN      (~0ULL)
#define UHV_VERSION         1

/*
 * The exit path writes CPUID's results straight into the guest's saved
 * registers (32-bit results, zero-extended, as the instruction does).
 */
static inline void cpuid_into(u64 *g, u32 leaf, u32 sub)
{
	__asm__ volatile("cpuid"
			 : "=a"(g[GPR_RAX]), "=b"(g[GPR_RBX]), "=c"(g[GPR_RCX]),
			   "=d"(g[GPR_RDX])
			 : "a"(leaf), "c"(sub));
}

/* Hides what uhv does not virtualize; only the leaves in FILTERED. */
#define FILTERED_LOW ((1U << 0) | (1U << 1) | (1U << CPUID_LEAF_MONITOR) | \
		      (1U << CPUID_LEAF_TOPOLOGY) | (1U << CPUID_LEAF_TOPOLOGY2) | \
		      (1U << CPUID_LEAF_THERMAL) | (1U << 7) | \
		      (1U << CPUID_LEAF_PERFMON) | (1U << 0xd) | (0xffU << 0xe) | \
		      (1U << CPUID_LEAF_FREQ))

static bool needs_filter(u32 leaf)
{
	return leaf < 32 ? (FILTERED_LOW >> leaf) & 1 :
	       leaf == 0x80000001 || leaf == 0x80000007;
}

/*
 * Time: the guest's TSC is the host's, at vm->tsc_hz. Leaf 0x15 gives it
 * as the crystal clock (ratio 1:1), which Linux also takes as the APIC
 * timer's rate, and leaf 0x16 in MHz; leaves uhv raises the maximum to
 * but the CPU lacks read as zeros.
 */
static void time_leaf(struct vcpu *v, u32 leaf, u64 *g)
{
	u64 hz = v->vm->tsc_hz;

	g[GPR_RAX] = g[GPR_RBX] = g[GPR_RCX] = g[GPR_RDX] = 0;
	if (leaf == CPUID_LEAF_TSC) {
		g[GPR_RAX] = g[GPR_RBX] = 1;
		g[GPR_RCX] = (u32)hz;
	} else if (leaf == CPUID_LEAF_FREQ) {
		g[GPR_RAX] = g[GPR_RBX] = g[GPR_RCX] = (u32)(hz / 1000000);
	}
}

static __attribute__((noinline)) void filter_cpuid(struct vcpu *v, u32 leaf,
						    u32 sub, u64 *g)
{
	if (leaf >= 0xe && leaf <= CPUID_LEAF_FREQ) {
		time_leaf(v, leaf, g);
		return;
	}
	switch (leaf) {
	case 0:
		g[GPR_RAX] = MAX(g[GPR_RAX], CPUID_LEAF_FREQ);
		break;
	case 1:
		g[GPR_RCX] &= ~(u64)(CPUID_1_ECX_VMX | CPUID_1_ECX_SMX |
				     CPUID_1_ECX_MONITOR | CPUID_1_ECX_PDCM |
				     CPUID_1_ECX_OSXSAVE | CPUID_1_ECX_TM2);
		/* no thermal monitoring or its MSRs in a VM */
		g[GPR_RDX] &= ~(u64)(CPUID_1_EDX_ACPI | CPUID_1_EDX_TM);
		/* uhv's virtual APIC has x2APIC mode and the TSC-deadline timer */
		g[GPR_RCX] |= CPUID_1_ECX_HYPERVISOR | CPUID_1_ECX_X2APIC |
			      CPUID_1_ECX_TSC_DEADLINE;
		/* OSXSAVE mirrors the guest's CR4, not uhv's */
		if (arch_vcpu_get(&v->arch, AREG_CR4_SHADOW) & CR4_OSXSAVE)
			g[GPR_RCX] |= CPUID_1_ECX_OSXSAVE;
		g[GPR_RBX] &= 0xffffU;     /* APIC id and count: per_vcpu_leaf1 */
		g[GPR_RDX] &= ~(u64)CPUID_1_EDX_HTT;
		break;
	case CPUID_LEAF_TOPOLOGY:  /* x2APIC id of the asking vCPU */
	case CPUID_LEAF_TOPOLOGY2:
		g[GPR_RDX] = (u64)v->id;
		break;
	case 7:
		if (sub == 0)
			g[GPR_RBX] &= ~(u64)CPUID_7_EBX_INVPCID;
		break;
	case 0xd:
		if (sub == 1)
			g[GPR_RAX] &= ~(u64)CPUID_D1_EAX_XSAVES;
		break;
	case CPUID_LEAF_MONITOR:
	case CPUID_LEAF_PERFMON:
		g[GPR_RAX] = g[GPR_RBX] = g[GPR_RCX] = g[GPR_RDX] = 0;
		break;
	case CPUID_LEAF_THERMAL:
		g[GPR_RAX] = CPUID_6_EAX_ARAT;   /* no thermal or power interfaces */
		g[GPR_RBX] = g[GPR_RCX] = g[GPR_RDX] = 0;
		break;
	case 0x80000001:
		g[GPR_RDX] &= ~(u64)CPUID_81_EDX_RDTSCP;
		break;
	case 0x80000007:   /* the TSC runs at a constant rate, whatever the host */
		g[GPR_RDX] = CPUID_87_EDX_INVARIANT_TSC;
		break;
	}
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

/*
 * What leaf 1 says about the vCPU asking: its APIC id and the VM's CPU
 * count in EBX (SDM Vol. 2A, CPUID leaf 1), OSXSAVE from its own CR4.
 */
static void per_vcpu_leaf1(struct vcpu *v, u64 *g)
{
	g[GPR_RBX] = (g[GPR_RBX] & 0xffffU) | ((u64)v->id << CPUID_1_EBX_APIC_ID_SHIFT) |
		     ((u64)v->vm->nr_vcpus << CPUID_1_EBX_COUNT_SHIFT);
	if (v->vm->nr_vcpus > 1)
		g[GPR_RDX] |= CPUID_1_EDX_HTT;
	if (arch_vcpu_get(&v->arch, AREG_CR4_SHADOW) & CR4_OSXSAVE)
		g[GPR_RCX] |= CPUID_1_ECX_OSXSAVE;
}

/*
 * Basic leaves whose answer does not depend on the subleaf (ECX) are
 * computed once per VM, filtered, and then served from vm->cpuid_cache:
 * every CPUID the guest runs gets the same answer, and the common exit
 * costs a table lookup. Leaf 1's OSXSAVE bit follows the guest's CR4.
 */
#define SUBLEAF_LEAVES ((1U << 4) | (1U << 7) | (1U << 0xb) | (1U << 0xd) | \
			(1U << 0xf) | (1U << 0x10) | (1U << 0x12) | (1U << 0x14))
#define CACHED_LOW (((1U << CPUID_CACHE_LEAVES) - 1) & ~SUBLEAF_LEAVES)

static bool cached(u32 leaf)
{
	return leaf < CPUID_CACHE_LEAVES && ((CACHED_LOW >> leaf) & 1);
}

void cpuid_cache_init(struct vcpu *v)
{
	u64 g[NR_GPRS];

	for (u32 leaf = 0; leaf < CPUID_CACHE_LEAVES; leaf++) {
		if (!cached(leaf))
			continue;
		cpuid_into(g, leaf, 0);
		if (needs_filter(leaf))
			filter_cpuid(v, leaf, 0, g);
		g[GPR_RCX] &= leaf == 1 ? ~(u64)CPUID_1_ECX_OSXSAVE : ~0ULL;
		v->vm->cpuid_cache[leaf][0] = (u32)g[GPR_RAX];
		v->vm->cpuid_cache[leaf][1] = (u32)g[GPR_RBX];
		v->vm->cpuid_cache[leaf][2] = (u32)g[GPR_RCX];
		v->vm->cpuid_cache[leaf][3] = (u32)g[GPR_RDX];
	}
}

enum exit_action exit_cpuid(struct vcpu *v, const struct arch_exit *e)
{
	u64 *g = v->arch.regs;
	u32 leaf = (u32)g[GPR_RAX], sub = (u32)g[GPR_RCX];

	if (cached(leaf)) {
		const u32 *c = v->vm->cpuid_cache[leaf];

		g[GPR_RAX] = c[0];
		g[GPR_RBX] = c[1];
		g[GPR_RCX] = c[2];
		g[GPR_RDX] = c[3];
		if (leaf == 1)
			per_vcpu_leaf1(v, g);
	} else if (leaf - CPUID_HV_BASE <= CPUID_HV_RANGE_END - CPUID_HV_BASE) {
		hypervisor_leaf(v, g, leaf);
	} else {
		cpuid_into(g, leaf, sub);
		if (needs_filter(leaf))
			filter_cpuid(v, leaf, sub, g);
	}
	arch_vcpu_skip(&v->arch, e);
	return EXIT_RESUME;
}

/*
 * VMCALL, uhv's hypercall: RAX = function. 0 returns uhv's version,
 * 1 prints the byte in RBX on the VM's console. Others return ~0.
 */
enum exit_action exit_vmcall(struct vcpu *v, const struct arch_exit *e)
{
	u64 *g = v->arch.regs;

	switch (g[GPR_RAX]) {
	case VMCALL_VERSION:
		g[GPR_RAX] = UHV_VERSION;
		break;
	case VMCALL_PUTCHAR:
		uart_write(&v->vm->uart, 0, 1, g[GPR_RBX]);
		g[GPR_RAX] = 0;
		break;
	default:
		g[GPR_RAX] = VMCALL_UNKNOWN;
	}
	arch_vcpu_skip(&v->arch, e);
	return EXIT_RESUME;
}

u64 vcpu_gpr(struct vcpu *v, unsigned n)
{
	return n == GPR_RSP_UNUSED ? arch_vcpu_get(&v->arch, AREG_RSP)
				   : v->arch.regs[n];
}

void vcpu_set_gpr(struct vcpu *v, unsigned n, u64 val)
{
	if (n == GPR_RSP_UNUSED)
		arch_vcpu_set(&v->arch, AREG_RSP, val);
	else
		v->arch.regs[n] = val;
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
	arch_vcpu_skip(&v->arch, e);
	return EXIT_RESUME;
}
