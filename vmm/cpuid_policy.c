/*
 * The guest's CPUID as an allowlist (SDM Vol. 2A, CPUID; docs/cpuid.md).
 *
 * A bit reaches the guest only if it is listed here as something uhv
 * virtualizes: an instruction that runs natively in VMX non-root
 * operation with the controls uhv sets, a register uhv switches, or an
 * MSR uhv emulates. Everything else, including every bit a future CPU
 * defines, reads as 0. Hidden on purpose (each would need work uhv has
 * not done): VMX/SMX, MONITOR/MWAIT, PCID's INVPCID, TSX, MPX, PKU,
 * WAITPKG (needs "enable user wait and pause"), LA57 (uhv walks 4-level
 * guest page tables), CET, AMX and XFD, SGX, PT, thermal and performance
 * monitoring, hybrid topology, and the speculation controls uhv does
 * not emulate (L1D_FLUSH, CORE_CAPABILITIES, TSX and SRBDS controls).
 */
#include "vmm/cpuid_policy.h"

/* Leaf 1 ECX. */
#define L1C_SSE3       BIT(0)
#define L1C_PCLMULQDQ  BIT(1)
#define L1C_SSSE3      BIT(9)
#define L1C_FMA        BIT(12)
#define L1C_CX16       BIT(13)
#define L1C_PCID       BIT(17)
#define L1C_SSE41      BIT(19)
#define L1C_SSE42      BIT(20)
#define L1C_X2APIC     BIT(21)   /* uhv's LAPIC model has x2APIC mode */
#define L1C_MOVBE      BIT(22)
#define L1C_POPCNT     BIT(23)
#define L1C_TSC_DEADLINE BIT(24) /* uhv's LAPIC timer has the mode */
#define L1C_AES        BIT(25)
#define L1C_XSAVE      BIT(26)
#define L1C_AVX        BIT(28)
#define L1C_F16C       BIT(29)
#define L1C_RDRAND     BIT(30)
#define L1C_HYPERVISOR BIT(31)
#define L1C_ALLOWED (L1C_SSE3 | L1C_PCLMULQDQ | L1C_SSSE3 | L1C_FMA | L1C_CX16 | \
		     L1C_PCID | L1C_SSE41 | L1C_SSE42 | L1C_MOVBE | L1C_POPCNT | \
		     L1C_AES | L1C_XSAVE | L1C_AVX | L1C_F16C | L1C_RDRAND)
#define L1C_EMULATED (L1C_X2APIC | L1C_TSC_DEADLINE | L1C_HYPERVISOR)
#define L1C_NEEDS_AVX (L1C_FMA | L1C_AVX | L1C_F16C)

/* Leaf 1 EDX: FPU VME DE PSE TSC MSR PAE MCE CX8 APIC (0-9), SEP MTRR
   PGE (11-13), CMOV PAT PSE36 (15-17), CLFSH (19), MMX FXSR SSE SSE2 SS
   (23-27). Hidden: MCA (uhv has no banks), PSN, DS, ACPI, TM, PBE; HTT
   is per VM (cpu_exits.c). */
#define L1D_ALLOWED 0x0f8bbbffU
#define L1D_MCE     BIT(7)
#define L1D_APIC    BIT(9)

/* Leaf 7.0 EBX: FSGSBASE(0) BMI1(3) AVX2(5) FDP_EXCPTN_ONLY(6) SMEP(7)
   BMI2(8) ERMS(9) FCS/FDS deprecation(13) AVX512F(16) AVX512DQ(17)
   RDSEED(18) ADX(19) SMAP(20) AVX512_IFMA(21) CLFLUSHOPT(23) CLWB(24)
   AVX512PF(26) AVX512ER(27) AVX512CD(28) SHA(29) AVX512BW(30) VL(31). */
#define L7B_ALLOWED   0xfdbf23e9U
#define L7B_TSC_ADJUST BIT(1)
#define L7B_AVX2      BIT(5)
#define L7B_AVX512    (BIT(16) | BIT(17) | BIT(21) | BIT(26) | BIT(27) | \
		       BIT(28) | BIT(30) | BIT(31))
/* Leaf 7.0 ECX: PREFETCHWT1(0) AVX512_VBMI(1) UMIP(2) AVX512_VBMI2(6)
   GFNI(8) VAES(9) VPCLMULQDQ(10) AVX512_VNNI(11) AVX512_BITALG(12)
   AVX512_VPOPCNTDQ(14) RDPID(22) CLDEMOTE(25) MOVDIRI(27) MOVDIR64B(28). */
#define L7C_ALLOWED   0x1a405f47U
#define L7C_RDPID     BIT(22)
#define L7C_AVX512    (BIT(1) | BIT(6) | BIT(11) | BIT(12) | BIT(14))
#define L7C_NEEDS_AVX (BIT(9) | BIT(10))
/* Leaf 7.0 EDX: AVX512_4VNNIW(2) AVX512_4FMAPS(3) FSRM(4)
   AVX512_VP2INTERSECT(8) MD_CLEAR(10) SERIALIZE(14) AVX512_FP16(23). */
#define L7D_ALLOWED   0x0080451cU
#define L7D_AVX512    (BIT(2) | BIT(3) | BIT(8) | BIT(23))
#define L7D_IBRS_IBPB BIT(26)    /* SPEC_CTRL.IBRS and PRED_CMD */
#define L7D_STIBP     BIT(27)
#define L7D_ARCH_CAPABILITIES BIT(29)
#define L7D_SSBD      BIT(31)
/* Leaf 7.1 EAX: AVX-VNNI(4) AVX512_BF16(5) fast zero-length MOVSB(10),
   fast short STOSB(11), fast short CMPSB/SCASB(12). */
#define L71A_ALLOWED  0x00001c30U
#define L71A_AVX512   BIT(5)
#define L71A_NEEDS_AVX BIT(4)

/* Leaf 0xD.1 EAX: XSAVEOPT, XSAVEC, XGETBV with ECX=1. Not XSAVES (uhv
   does not set "enable XSAVES/XRSTORS") nor XFD. */
#define LD1A_ALLOWED  0x7U
/* XCR0 components a guest may enable: its user state uhv switches. */
#define XCR0_ALLOWED  (XCR0_X87 | XCR0_SSE | XCR0_AVX | XCR0_AVX512)

/* Leaf 0x80000001 ECX: LAHF/SAHF(0), LZCNT(5), PREFETCHW(8). */
#define L81C_ALLOWED  0x121U
/* EDX: SYSCALL(11), NX(20), 1-GiB pages(26), LM(29); RDTSCP(27) with
   "enable RDTSCP". */
#define L81D_ALLOWED  0x24100800U
#define L81D_RDTSCP   BIT(27)
#define L87D_INVARIANT_TSC BIT(8)

/*
 * IA32_ARCH_CAPABILITIES bits that only say the CPU is NOT affected by
 * something, or how a mitigation behaves (SDM Vol. 4 Table 2-2): true of
 * the host, so true in its VMs. Control bits (TSX_CTRL, FB_CLEAR_CTRL,
 * the package and overclocking MSRs...) name MSRs uhv does not emulate.
 * RDCL_NO(0) IBRS_ALL(1) RSBA(2) SKIP_L1DFL_VMENTRY(3) SSB_NO(4)
 * MDS_NO(5) PSCHANGE_MC_NO(6) TAA_NO(8) SBDR_SSDP_NO(13) FBSDP_NO(14)
 * PSDP_NO(15) FB_CLEAR(17) RRSBA(19) BHI_NO(20) PBRSB_NO(24) GDS_NO(26)
 * RFDS_NO(27).
 */
#define ARCH_CAP_IBRS_ALL BIT(1)
#define ARCH_CAP_ALLOWED 0x0d1ae17fULL

#define LEAF_MAX_BASIC   0x1fU
#define LEAF_TSC         0x15U
#define LEAF_FREQ        0x16U
#define LEAF_EXT_BASE    0x80000000U
#define LEAF_EXT_MAX     0x80000008U
#define LEAF_XSAVE       0xdU
#define XSAVE_MAX_COMPONENT 18U

static struct cpuid_leaf host(const struct cpuid_policy *p, u32 leaf, u32 sub)
{
	struct cpuid_leaf r = { 0, 0, 0, 0 };

	p->read(p->ctx, leaf, sub, &r);
	return r;
}

/* Bytes an XSAVE of the components in mask writes (standard format):
   the end of the furthest component, leaf 0xD.i (SDM Vol. 1 §13.4.3). */
static u32 xsave_size(const struct cpuid_policy *p, u64 mask)
{
	u32 size = XSAVE_LEGACY_AND_HEADER;

	for (u32 i = 2; i <= XSAVE_MAX_COMPONENT; i++) {
		if (!(mask & BIT(i)))
			continue;
		struct cpuid_leaf c = host(p, LEAF_XSAVE, i);

		size = MAX(size, c.ebx + c.eax);
	}
	return size;
}

/* XCR0 for the guest: the host's components in the allowlist, dropping
   AVX-512 and then AVX when an XSAVE of them would not fit area_size. */
static void choose_xcr0(struct cpuid_policy *p, u32 area_size)
{
	struct cpuid_leaf one = host(p, 1, 0), d = host(p, LEAF_XSAVE, 0);
	u64 mask = ((u64)d.edx << 32 | d.eax) & XCR0_ALLOWED;

	p->xcr0 = 0;
	if (!(one.ecx & L1C_XSAVE) || p->max_basic < LEAF_XSAVE)
		return;
	if ((mask & XCR0_AVX512) != XCR0_AVX512 || !(mask & XCR0_AVX))
		mask &= ~XCR0_AVX512;
	if (xsave_size(p, mask) > area_size)
		mask &= ~XCR0_AVX512;
	if (xsave_size(p, mask) > area_size)
		mask &= ~XCR0_AVX;
	p->xcr0 = mask;
	p->xsave_size = xsave_size(p, mask);
}

/* Leaf 7.0 as the guest sees it, the vector bits following XCR0. */
static void choose_leaf7(struct cpuid_policy *p)
{
	struct cpuid_leaf l = p->max_basic >= 7 ? host(p, 7, 0)
						: (struct cpuid_leaf){ 0, 0, 0, 0 };

	p->leaf7_ebx = l.ebx & L7B_ALLOWED;
	p->leaf7_ecx = l.ecx & L7C_ALLOWED;
	p->leaf7_edx = l.edx & L7D_ALLOWED;
	if (!(p->xcr0 & XCR0_AVX)) {
		p->leaf7_ebx &= ~(u32)L7B_AVX2;
		p->leaf7_ecx &= ~(u32)L7C_NEEDS_AVX;
	}
	if (!(p->xcr0 & XCR0_AVX512)) {
		p->leaf7_ebx &= ~(u32)L7B_AVX512;
		p->leaf7_ecx &= ~(u32)L7C_AVX512;
		p->leaf7_edx &= ~(u32)L7D_AVX512;
	}
	if (!p->rdtscp)
		p->leaf7_ecx &= ~(u32)L7C_RDPID;
	/* IA32_TSC_ADJUST is uhv's own, by TSC offsetting (msr.c), whatever
	   the host has: Linux trusts a constant TSC with it and runs no
	   clocksource watchdog, which lost timer ticks of a VM that shares
	   its CPU would otherwise trip (jiffies lag its TSC) */
	if (p->max_basic >= 7)
		p->leaf7_ebx |= L7B_TSC_ADJUST;
	/* uhv emulates SPEC_CTRL (switched per vCPU) and PRED_CMD, and
	   shows a filtered ARCH_CAPABILITIES, where the host has them */
	p->leaf7_edx |= l.edx & (L7D_IBRS_IBPB | L7D_ARCH_CAPABILITIES);
	if (l.edx & L7D_IBRS_IBPB)
		p->leaf7_edx |= l.edx & (L7D_STIBP | L7D_SSBD);
}

void cpuid_policy_init(struct cpuid_policy *p, cpuid_read_fn read, void *ctx,
		       bool rdtscp, u32 area_size, u64 host_arch_caps)
{
	*p = (struct cpuid_policy){ .read = read, .ctx = ctx };
	p->max_basic = MIN(host(p, 0, 0).eax, LEAF_MAX_BASIC);
	p->max_ext = MIN(host(p, LEAF_EXT_BASE, 0).eax, LEAF_EXT_MAX);
	/* the control exists only where the CPU has RDTSCP (SDM Vol. 3C
	   §25.6.2); RDPID needs it too */
	p->rdtscp = rdtscp && p->max_ext >= LEAF_EXT_BASE + 1 &&
		    (host(p, LEAF_EXT_BASE + 1, 0).edx & L81D_RDTSCP);
	choose_xcr0(p, area_size);
	choose_leaf7(p);
	p->arch_capabilities = 0;
	if (p->leaf7_edx & L7D_ARCH_CAPABILITIES)
		p->arch_capabilities = host_arch_caps & ARCH_CAP_ALLOWED;
	/* enhanced IBRS is SPEC_CTRL.IBRS left on: only with SPEC_CTRL */
	if (!(p->leaf7_edx & L7D_IBRS_IBPB))
		p->arch_capabilities &= ~ARCH_CAP_IBRS_ALL;
}

/* Leaf 1 without its per-vCPU parts (APIC id, count, HTT, OSXSAVE). */
static void leaf1(const struct cpuid_policy *p, struct cpuid_leaf *r)
{
	r->ebx &= 0xffffU;     /* brand index, CLFLUSH line size */
	r->ecx = (r->ecx & L1C_ALLOWED) | L1C_EMULATED;
	if (!p->xcr0)
		r->ecx &= ~(u32)L1C_XSAVE;
	if (!(p->xcr0 & XCR0_AVX))
		r->ecx &= ~(u32)L1C_NEEDS_AVX;
	/* uhv's platform always has a local APIC */
	r->edx = (r->edx & L1D_ALLOWED) | L1D_APIC;
}

/* Leaf 0xD: only the components in the policy's XCR0, and the size of
   an area that holds all of them (SDM Vol. 2A, CPUID leaf 0DH). EBX of
   subleaf 0 and 1 is the CPU's own answer for the XCR0 now loaded,
   which is the guest's. */
static void leaf_xsave(const struct cpuid_policy *p, u32 sub, struct cpuid_leaf *r)
{
	if (sub == 0) {
		r->eax = (u32)p->xcr0;
		r->edx = (u32)(p->xcr0 >> 32);
		r->ecx = p->xsave_size;
	} else if (sub == 1) {
		r->eax &= LD1A_ALLOWED;
		r->ecx = r->edx = 0;     /* no supervisor components (XSS) */
	} else if (sub >= 64 || !(p->xcr0 & BIT(sub))) {
		*r = (struct cpuid_leaf){ 0, 0, 0, 0 };
	}
}

/* Leaf 7: subleaf 0 from the policy, subleaf 1's allowed bits. */
static void leaf7(const struct cpuid_policy *p, u32 sub, struct cpuid_leaf *r)
{
	if (sub == 0) {
		r->eax = MIN(r->eax, 1U);    /* highest subleaf */
		r->ebx = p->leaf7_ebx;
		r->ecx = p->leaf7_ecx;
		r->edx = p->leaf7_edx;
		return;
	}
	u32 eax = sub == 1 ? r->eax & L71A_ALLOWED : 0;

	if (!(p->xcr0 & XCR0_AVX))
		eax &= ~(u32)L71A_NEEDS_AVX;
	if (!(p->xcr0 & XCR0_AVX512))
		eax &= ~(u32)L71A_AVX512;
	*r = (struct cpuid_leaf){ eax, 0, 0, 0 };
}

/* Time: the guest's TSC runs at tsc_hz; leaf 0x15 says so as a 1:1
   ratio to a crystal of that rate (Linux also takes it as the APIC
   timer's), leaf 0x16 in MHz. Leaves between read as zeros. */
static void leaf_time(u32 leaf, u64 tsc_hz, struct cpuid_leaf *r)
{
	*r = (struct cpuid_leaf){ 0, 0, 0, 0 };
	if (leaf == LEAF_TSC)
		*r = (struct cpuid_leaf){ 1, 1, (u32)tsc_hz, 0 };
	else if (leaf == LEAF_FREQ)
		r->eax = r->ebx = r->ecx = (u32)(tsc_hz / 1000000);
}

/* Extended leaves: brand string and cache and address sizes pass. */
static void leaf_ext(const struct cpuid_policy *p, u32 leaf, struct cpuid_leaf *r)
{
	switch (leaf) {
	case LEAF_EXT_BASE:
		r->eax = p->max_ext;
		break;
	case LEAF_EXT_BASE + 1:
		r->eax = r->ebx = 0;
		r->ecx &= L81C_ALLOWED;
		r->edx &= L81D_ALLOWED | (p->rdtscp ? L81D_RDTSCP : 0);
		break;
	case LEAF_EXT_BASE + 7:  /* the TSC rate is constant, whatever the host */
		*r = (struct cpuid_leaf){ 0, 0, 0, L87D_INVARIANT_TSC };
		break;
	case LEAF_EXT_BASE + 8:  /* address sizes; no AMD feature bits */
		r->ebx = r->edx = 0;
		r->ecx = 0;
		break;
	}
}

/* Basic leaves with their host values kept: 0 (max raised to the time
   leaves, vendor), 2 and 4 (caches), 0xB and 0x1F (topology). */
static bool basic_passes(u32 leaf)
{
	return leaf == 2 || leaf == 4 || leaf == 0xb || leaf == LEAF_MAX_BASIC;
}

void cpuid_policy_leaf(const struct cpuid_policy *p, u32 leaf, u32 sub,
		       u64 tsc_hz, struct cpuid_leaf *out)
{
	u32 max_basic = MAX(p->max_basic, LEAF_FREQ);
	bool ext = leaf >= LEAF_EXT_BASE;

	*out = (struct cpuid_leaf){ 0, 0, 0, 0 };
	if (ext ? leaf > p->max_ext : leaf > max_basic)
		return;
	if (leaf >= 0xe && leaf <= LEAF_FREQ)
		return leaf_time(leaf, tsc_hz, out);
	if (!ext && leaf > p->max_basic)
		return;
	p->read(p->ctx, leaf, sub, out);
	if (ext)
		return leaf_ext(p, leaf, out);
	switch (leaf) {
	case 0:
		out->eax = max_basic;
		return;
	case 1:
		return leaf1(p, out);
	case 6:         /* no thermal or power interfaces; the APIC timer
			   always runs (ARAT) */
		*out = (struct cpuid_leaf){ BIT(2), 0, 0, 0 };
		return;
	case 7:
		return leaf7(p, sub, out);
	case LEAF_XSAVE:
		return leaf_xsave(p, sub, out);
	}
	if (!basic_passes(leaf))
		*out = (struct cpuid_leaf){ 0, 0, 0, 0 };
}

bool cpuid_xcr0_valid(const struct cpuid_policy *p, u64 val)
{
	if (!(val & XCR0_X87) || (val & ~p->xcr0))
		return false;
	if ((val & XCR0_AVX) && !(val & XCR0_SSE))
		return false;
	/* the AVX-512 state is all or nothing, and needs AVX */
	if ((val & XCR0_AVX512) &&
	    ((val & XCR0_AVX512) != XCR0_AVX512 || !(val & XCR0_AVX)))
		return false;
	/* MPX's pair and AMX's pair go together (never allowed here yet) */
	if ((val & XCR0_MPX) && (val & XCR0_MPX) != XCR0_MPX)
		return false;
	return !(val & XCR0_AMX) || (val & XCR0_AMX) == XCR0_AMX;
}

bool cpuid_has_msr(const struct cpuid_policy *p, u32 msr)
{
	switch (msr) {
	case CPUID_MSR_SPEC_CTRL:
		return p->leaf7_edx & (L7D_IBRS_IBPB | L7D_STIBP | L7D_SSBD);
	case CPUID_MSR_PRED_CMD:
		return p->leaf7_edx & L7D_IBRS_IBPB;
	case CPUID_MSR_ARCH_CAPABILITIES:
		return p->leaf7_edx & L7D_ARCH_CAPABILITIES;
	case CPUID_MSR_TSC_AUX:
		return p->rdtscp;
	}
	return false;
}

u64 cpuid_spec_ctrl_bits(const struct cpuid_policy *p)
{
	return (p->leaf7_edx & L7D_IBRS_IBPB ? SPEC_CTRL_IBRS : 0) |
	       (p->leaf7_edx & L7D_STIBP ? SPEC_CTRL_STIBP : 0) |
	       (p->leaf7_edx & L7D_SSBD ? SPEC_CTRL_SSBD : 0);
}
