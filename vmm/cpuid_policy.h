/*
 * What a guest's CPUID says: an allowlist of the features uhv really
 * virtualizes, built from the host's leaves (docs/cpuid.md lists each
 * feature and why it is shown or hidden).
 *
 * Pure C over a "read the host's CPUID" callback, so host unit tests feed
 * it dumps of real CPUs. The policy is the same for every vCPU; the bits
 * that mirror one vCPU's own state are patched into each answer by
 * cpuid_vcpu_leaf1 and cpuid_vcpu_topology below (cpu_exits.c hands them
 * that state). uhv's own leaves at 0x40000000 are cpu_exits.c's.
 */
#ifndef UHV_VMM_CPUID_POLICY_H
#define UHV_VMM_CPUID_POLICY_H

#include "lib/types.h"

struct cpuid_leaf {
	u32 eax, ebx, ecx, edx;
};

/* Reads the host's CPUID (leaf, subleaf) into out. */
typedef void (*cpuid_read_fn)(void *ctx, u32 leaf, u32 sub,
			      struct cpuid_leaf *out);

/* MSRs whose presence CPUID announces (SDM Vol. 4 §2.1). */
#define CPUID_MSR_SPEC_CTRL   0x048U
#define CPUID_MSR_PRED_CMD    0x049U
#define CPUID_MSR_ARCH_CAPABILITIES 0x10aU
#define CPUID_MSR_TSC_AUX     0xc0000103U

/* IA32_SPEC_CTRL bits (SDM Vol. 4 Table 2-2). */
#define SPEC_CTRL_IBRS        (1ULL << 0)
#define SPEC_CTRL_STIBP       (1ULL << 1)
#define SPEC_CTRL_SSBD        (1ULL << 2)
/* IA32_PRED_CMD: writing IBPB flushes indirect branch predictions. */
#define PRED_CMD_IBPB         (1ULL << 0)

/* XCR0 components (SDM Vol. 1 §13.1). */
#define XCR0_X87              (1ULL << 0)
#define XCR0_SSE              (1ULL << 1)
#define XCR0_AVX              (1ULL << 2)
#define XCR0_BNDREGS          (1ULL << 3)
#define XCR0_BNDCSR           (1ULL << 4)
#define XCR0_OPMASK           (1ULL << 5)
#define XCR0_ZMM_HI256        (1ULL << 6)
#define XCR0_HI16_ZMM         (1ULL << 7)
#define XCR0_PKRU             (1ULL << 9)
#define XCR0_TILECFG          (1ULL << 17)
#define XCR0_TILEDATA         (1ULL << 18)
#define XCR0_AVX512 (XCR0_OPMASK | XCR0_ZMM_HI256 | XCR0_HI16_ZMM)
#define XCR0_MPX    (XCR0_BNDREGS | XCR0_BNDCSR)
#define XCR0_AMX    (XCR0_TILECFG | XCR0_TILEDATA)
/* The legacy region and the XSAVE header (SDM Vol. 1 §13.4). */
#define XSAVE_LEGACY_AND_HEADER 576U

struct cpuid_policy {
	cpuid_read_fn read;      /* the host's CPUID */
	void *ctx;
	bool rdtscp;             /* "enable RDTSCP" is on: RDTSCP, RDPID, TSC_AUX */
	u64 xcr0;                /* XCR0 bits a guest may set */
	u32 xsave_size;          /* bytes an XSAVE of all of xcr0 writes */
	u32 max_basic, max_ext;  /* the guest's highest leaves */
	u32 leaf7_ebx, leaf7_ecx, leaf7_edx;   /* leaf 7.0 as the guest sees it */
	u64 arch_capabilities;   /* what the guest reads from 0x10A */
};

/*
 * Probes the host through read once: which features it has, what XCR0
 * components fit an XSAVE area of area_size bytes (AVX-512, then AVX,
 * are left out when they do not), and the ARCH_CAPABILITIES value to show
 * (host_arch_caps is the host's MSR, or 0 where it has none).
 */
void cpuid_policy_init(struct cpuid_policy *p, cpuid_read_fn read, void *ctx,
		       bool rdtscp, u32 area_size, u64 host_arch_caps);

/*
 * The guest's view of leaf (sub) without its per-vCPU parts; tsc_hz
 * answers the time leaves 0x15 and 0x16. Leaves outside the allowlist
 * read as zeros.
 */
void cpuid_policy_leaf(const struct cpuid_policy *p, u32 leaf, u32 sub,
		       u64 tsc_hz, struct cpuid_leaf *out);

/*
 * The bits of CPUID that follow a vCPU's own state (SDM Vol. 2A, CPUID,
 * leaf 01H and leaf 0BH/1FH): leaf 1 EBX[31:24] the initial APIC id and
 * EBX[23:16] the logical processors of the package (valid with EDX.HTT),
 * ECX bit 27 OSXSAVE = CR4.OSXSAVE, EDX bit 9 APIC = the APIC is on
 * (IA32_APIC_BASE[11]: with it clear the CPU "is functionally equivalent
 * to an IA-32 processor without an on-chip APIC" and the CPUID flag reads
 * 0, SDM Vol. 3A §11.4.3); leaf 0BH and 1FH EDX the x2APIC id.
 *
 * Not here: leaf 7 ECX bit 4 OSPKE (= CR4.PKE). uhv hides PKU and owns
 * CR4.PKE (a guest's write of it gets #GP, arch/x86/cpu.h CR4_HIDDEN), so
 * CR4.PKE is 0 in every vCPU and the policy's 0 is exact.
 */
struct cpuid_vcpu {
	u32 apic_id;            /* the vCPU's APIC id, xAPIC and x2APIC */
	u32 nr_cpus;            /* the VM's vCPUs */
	bool osxsave;           /* CR4.OSXSAVE as the guest set it */
	bool apic_on;           /* IA32_APIC_BASE.EN */
};

#define CPUID_1_EBX_STATIC      0x0000ffffU   /* brand index, CLFLUSH size */
#define CPUID_1_EBX_COUNT_SHIFT 16
#define CPUID_1_EBX_APIC_ID_SHIFT 24
#define CPUID_1_ECX_OSXSAVE_BIT (1U << 27)
#define CPUID_1_EDX_APIC_BIT    (1U << 9)
#define CPUID_1_EDX_HTT_BIT     (1U << 28)
#define CPUID_LEAF_X2APIC_TOPO  0x0bU
#define CPUID_LEAF_V2_TOPO      0x1fU

/* Leaf 1 as the policy gives it (cpuid_policy_leaf: OSXSAVE clear,
   APIC set), made the answer of the vCPU s describes. */
static inline void cpuid_vcpu_leaf1(const struct cpuid_vcpu *s,
				    struct cpuid_leaf *r)
{
	r->ebx = (r->ebx & CPUID_1_EBX_STATIC) |
		 s->apic_id << CPUID_1_EBX_APIC_ID_SHIFT |
		 s->nr_cpus << CPUID_1_EBX_COUNT_SHIFT;
	r->ecx |= s->osxsave ? CPUID_1_ECX_OSXSAVE_BIT : 0;
	r->edx |= s->nr_cpus > 1 ? CPUID_1_EDX_HTT_BIT : 0;
	r->edx &= s->apic_on ? ~0U : ~CPUID_1_EDX_APIC_BIT;
}

/* Whether leaf's EDX is the asking vCPU's x2APIC id (leaves 0BH, 1FH). */
static inline bool cpuid_leaf_is_topology(u32 leaf)
{
	return leaf == CPUID_LEAF_X2APIC_TOPO || leaf == CPUID_LEAF_V2_TOPO;
}

/* Leaf 0BH or 1FH, any subleaf, for the vCPU whose x2APIC id is id. */
static inline void cpuid_vcpu_topology(u32 id, struct cpuid_leaf *r)
{
	r->edx = id;
}

/* Whether val is an XCR0 a CPU with the policy's CPUID would accept
   (SDM Vol. 1 §13.3, XSETBV in Vol. 2D); false: the guest gets #GP. */
bool cpuid_xcr0_valid(const struct cpuid_policy *p, u64 val);

/* Whether the guest's CPUID announces msr, one of CPUID_MSR_*. */
bool cpuid_has_msr(const struct cpuid_policy *p, u32 msr);

/* The IA32_SPEC_CTRL bits the guest may set (0: none). */
u64 cpuid_spec_ctrl_bits(const struct cpuid_policy *p);

/*
 * IA32_MISC_ENABLE (SDM Vol. 4 Table 2-2) of the CPU the policy shows:
 * each bit that enables or reports a feature agrees with its CPUID.
 * Fast strings (bit 0) is on at reset and the one bit a guest may
 * change: uhv keeps it per vCPU, and the CPU's fast strings stay on (a
 * speed-up, with no effect a program can see but time). Performance
 * monitoring available (7) reads 0, BTS and PEBS unavailable (11, 12)
 * read 1: no PMU, no DS. Automatic thermal control (3), Enhanced
 * SpeedStep (16), MONITOR FSM (18), xTPR message disable (23) and the
 * reserved bits read 0: the features behind them are hidden. Limit
 * CPUID maxval (22) and XD bit disable (34) read 0 and may not be set:
 * uhv would have to shrink CPUID leaf 0 and take NX away.
 */
#define MISC_ENABLE_FAST_STRINGS     (1ULL << 0)
#define MISC_ENABLE_BTS_UNAVAILABLE  (1ULL << 11)
#define MISC_ENABLE_PEBS_UNAVAILABLE (1ULL << 12)
#define CPUID_MISC_ENABLE_RESET (MISC_ENABLE_FAST_STRINGS | \
	MISC_ENABLE_BTS_UNAVAILABLE | MISC_ENABLE_PEBS_UNAVAILABLE)
#define CPUID_MISC_ENABLE_WRITABLE MISC_ENABLE_FAST_STRINGS

/* Whether that CPU takes a WRMSR of val to IA32_MISC_ENABLE: only the
   writable bits may differ from the reset value; false: #GP. */
static inline bool cpuid_misc_enable_valid(u64 val)
{
	return (val & ~CPUID_MISC_ENABLE_WRITABLE) ==
	       (CPUID_MISC_ENABLE_RESET & ~CPUID_MISC_ENABLE_WRITABLE);
}

#endif
