/*
 * The guest's CPUID (vmm/cpuid_policy.c) fed the CPUID of real CPUs
 * (cpuid_dumps.c: Skylake to Sapphire Rapids, and two AMD parts): every
 * bit a guest sees must be one uhv virtualizes, with its instruction,
 * control and MSR working, and nothing it does not (AMX, LA57, WAITPKG,
 * XSAVES...) may show. Expectations come from the SDM's definitions,
 * not from the code.
 */
#include "unit.h"
#include "cpuid_dumps.h"
#include "vmm/cpuid_policy.h"

#define AREA 4096U

/* Bits as the SDM (Vol. 2A, CPUID) numbers them. */
#define L1C_MONITOR   BIT(3)
#define L1C_VMX       BIT(5)
#define L1C_SMX       BIT(6)
#define L1C_PDCM      BIT(15)
#define L1C_X2APIC    BIT(21)
#define L1C_DEADLINE  BIT(24)
#define L1C_XSAVE     BIT(26)
#define L1C_OSXSAVE   BIT(27)
#define L1C_AVX       BIT(28)
#define L1C_HV        BIT(31)
#define L1D_APIC      BIT(9)
#define L1D_MCA       BIT(14)
#define L7B_TSC_ADJUST BIT(1)
#define L7B_AVX2      BIT(5)
#define L7B_INVPCID   BIT(10)
#define L7B_RTM       BIT(11)
#define L7B_AVX512F   BIT(16)
#define L7C_PKU       BIT(3)
#define L7C_OSPKE     BIT(4)
#define L1D_HTT       BIT(28)
#define L7C_WAITPKG   BIT(5)
#define L7C_LA57      BIT(16)
#define L7C_RDPID     BIT(22)
#define L7D_HYBRID    BIT(15)
#define L7D_AMX       (BIT(22) | BIT(24) | BIT(25))
#define L7D_IBRS      BIT(26)
#define L7D_STIBP     BIT(27)
#define L7D_L1D_FLUSH BIT(28)
#define L7D_ARCH_CAP  BIT(29)
#define L7D_CORE_CAP  BIT(30)
#define L7D_SSBD      BIT(31)
#define LD1_XSAVES    BIT(3)
#define LD1_XFD       BIT(4)
#define L81D_RDTSCP   BIT(27)

static const struct cpuid_dump *cur;

static void dump_read(void *ctx, u32 leaf, u32 sub, struct cpuid_leaf *out)
{
	const struct cpuid_dump *d = ctx;

	*out = (struct cpuid_leaf){ 0, 0, 0, 0 };
	for (size_t i = 0; i < d->nr_leaves; i++) {
		const struct cpuid_dump_leaf *l = &d->leaves[i];

		if (l->leaf == leaf && l->sub == sub) {
			*out = (struct cpuid_leaf){ l->eax, l->ebx, l->ecx, l->edx };
			return;
		}
	}
}

static struct cpuid_leaf hostl(const struct cpuid_dump *d, u32 leaf, u32 sub)
{
	struct cpuid_leaf r;

	dump_read((void *)d, leaf, sub, &r);
	return r;
}

static struct cpuid_leaf guest(const struct cpuid_policy *p, u32 leaf, u32 sub)
{
	struct cpuid_leaf r;

	cpuid_policy_leaf(p, leaf, sub, 10000000, &r);
	return r;
}

static const struct cpuid_dump *find_dump(const char *prefix)
{
	for (size_t i = 0; i < nr_cpuid_dumps; i++)
		if (!strncmp(cpuid_dumps[i].name, prefix, strlen(prefix)))
			return &cpuid_dumps[i];
	ck_abort_msg("no dump named %s", prefix);
	return NULL;
}

static void policy_for(struct cpuid_policy *p, const struct cpuid_dump *d,
		       bool rdtscp, u32 area, u64 arch_caps)
{
	cur = d;
	cpuid_policy_init(p, dump_read, (void *)d, rdtscp, area, arch_caps);
}

/* Nothing the guest sees in the feature leaves was invented: each bit
   is the host's, or one uhv emulates itself (x2APIC, TSC deadline,
   hypervisor, the local APIC, TSC_ADJUST). */
static void check_subset(const struct cpuid_policy *p, const struct cpuid_dump *d)
{
	struct cpuid_leaf g = guest(p, 1, 0), h = hostl(d, 1, 0);

	ck_assert_uint_eq(g.ecx & ~h.ecx & ~(L1C_X2APIC | L1C_DEADLINE | L1C_HV), 0);
	ck_assert_uint_eq(g.edx & ~h.edx & ~L1D_APIC, 0);
	g = guest(p, 7, 0);
	h = hostl(d, 7, 0);
	ck_assert_uint_eq(g.ebx & ~h.ebx & ~L7B_TSC_ADJUST, 0);
	ck_assert_uint_eq(g.ecx & ~h.ecx, 0);
	ck_assert_uint_eq(g.edx & ~h.edx, 0);
	g = guest(p, 0x80000001, 0);
	h = hostl(d, 0x80000001, 0);
	ck_assert_uint_eq(g.ecx & ~h.ecx, 0);
	ck_assert_uint_eq(g.edx & ~h.edx, 0);
}

/* What uhv does not virtualize never shows, on any CPU. */
static void check_hidden(const struct cpuid_policy *p, const char *name)
{
	struct cpuid_leaf l1 = guest(p, 1, 0), l7 = guest(p, 7, 0);
	struct cpuid_leaf d0 = guest(p, 0xd, 0), d1 = guest(p, 0xd, 1);

	ck_assert_msg(!(l1.ecx & (L1C_VMX | L1C_SMX | L1C_MONITOR | L1C_PDCM |
				  L1C_OSXSAVE)), "%s: leaf 1 ECX 0x%x", name, l1.ecx);
	ck_assert_msg(l1.ecx & L1C_HV, "%s: no hypervisor bit", name);
	ck_assert_msg(!(l1.edx & L1D_MCA), "%s: MCA without banks", name);
	ck_assert_msg(!(l7.ebx & (L7B_INVPCID | L7B_RTM)),
		      "%s: leaf 7 EBX 0x%x", name, l7.ebx);
	/* ... and what uhv emulates whatever the host has always does */
	ck_assert_msg(guest(p, 0, 0).eax < 7 || (l7.ebx & L7B_TSC_ADJUST),
		      "%s: leaf 7 EBX 0x%x has no TSC_ADJUST (uhv's own, msr.c)",
		      name, l7.ebx);
	ck_assert_msg(!(l7.ecx & (L7C_PKU | L7C_OSPKE | L7C_WAITPKG | L7C_LA57)),
		      "%s: leaf 7 ECX 0x%x", name, l7.ecx);
	ck_assert_msg(!(l7.edx & (L7D_AMX | L7D_HYBRID | L7D_L1D_FLUSH | L7D_CORE_CAP)),
		      "%s: leaf 7 EDX 0x%x", name, l7.edx);
	ck_assert_msg(!(d0.eax & (XCR0_AMX | XCR0_MPX | XCR0_PKRU)) && !d0.edx,
		      "%s: XCR0 mask 0x%x", name, d0.eax);
	ck_assert_msg(!(d1.eax & (LD1_XSAVES | LD1_XFD)) && !d1.ecx && !d1.edx,
		      "%s: leaf 0xD.1 0x%x", name, d1.eax);
	/* leaves of hidden features read as zeros: SGX, PT, AMX tiles */
	for (u32 leaf = 0x12; leaf <= 0x1e; leaf++) {
		struct cpuid_leaf z = guest(p, leaf, 0);

		if (leaf == 0x15 || leaf == 0x16)
			continue;
		ck_assert_msg(!z.eax && !z.ebx && !z.ecx && !z.edx,
			      "%s: leaf 0x%x not zero", name, leaf);
	}
}

/* Leaf 0xD describes exactly the components of its XCR0 mask, and its
   size (ECX) is where the furthest of them ends, within uhv's page. */
static void check_xsave(const struct cpuid_policy *p, const char *name)
{
	struct cpuid_leaf d0 = guest(p, 0xd, 0);
	u32 end = XSAVE_LEGACY_AND_HEADER;

	for (u32 i = 2; i < 32; i++) {
		struct cpuid_leaf c = guest(p, 0xd, i);
		bool on = d0.eax & BIT(i);

		ck_assert_msg(on == (c.eax != 0), "%s: component %u", name, i);
		if (on)
			end = end > c.ebx + c.eax ? end : c.ebx + c.eax;
	}
	ck_assert_msg(d0.ecx == end, "%s: size %u, components end at %u", name,
		      d0.ecx, end);
	ck_assert_uint_le(d0.ecx, AREA);
	ck_assert_uint_eq(d0.eax, (u32)p->xcr0);
	/* the vector extensions show only with the state XCR0 can hold */
	if (guest(p, 1, 0).ecx & L1C_AVX)
		ck_assert(d0.eax & XCR0_AVX);
	if (guest(p, 7, 0).ebx & L7B_AVX2)
		ck_assert(d0.eax & XCR0_AVX);
	if (guest(p, 7, 0).ebx & L7B_AVX512F)
		ck_assert((d0.eax & XCR0_AVX512) == XCR0_AVX512);
}

/* Each MSR-bearing feature shown has its MSR, each hidden one has not. */
static void check_msrs(const struct cpuid_policy *p, const char *name)
{
	struct cpuid_leaf l7 = guest(p, 7, 0), e1 = guest(p, 0x80000001, 0);
	bool tsc_aux = (l7.ecx & L7C_RDPID) || (e1.edx & L81D_RDTSCP);

	ck_assert_msg(cpuid_has_msr(p, CPUID_MSR_TSC_AUX) == tsc_aux, "%s", name);
	ck_assert_msg(cpuid_has_msr(p, CPUID_MSR_ARCH_CAPABILITIES) ==
		      !!(l7.edx & L7D_ARCH_CAP), "%s", name);
	ck_assert_msg(cpuid_has_msr(p, CPUID_MSR_PRED_CMD) == !!(l7.edx & L7D_IBRS),
		      "%s", name);
	ck_assert_msg(cpuid_has_msr(p, CPUID_MSR_SPEC_CTRL) ==
		      !!(l7.edx & (L7D_IBRS | L7D_STIBP | L7D_SSBD)), "%s", name);
	ck_assert_uint_eq(cpuid_spec_ctrl_bits(p),
			  (l7.edx & L7D_IBRS ? SPEC_CTRL_IBRS : 0) |
			  (l7.edx & L7D_STIBP ? SPEC_CTRL_STIBP : 0) |
			  (l7.edx & L7D_SSBD ? SPEC_CTRL_SSBD : 0));
	ck_assert(!cpuid_has_msr(p, 0x10b));     /* FLUSH_CMD: not emulated */
}

START_TEST(every_dump_every_rule)
{
	for (size_t i = 0; i < nr_cpuid_dumps; i++) {
		for (int rdtscp = 0; rdtscp <= 1; rdtscp++) {
			const struct cpuid_dump *d = &cpuid_dumps[i];
			struct cpuid_policy p;

			policy_for(&p, d, rdtscp, AREA, ~0ULL);
			check_subset(&p, d);
			check_hidden(&p, d->name);
			check_xsave(&p, d->name);
			check_msrs(&p, d->name);
			/* RDTSCP and RDPID only with "enable RDTSCP" */
			if (!rdtscp) {
				ck_assert(!(guest(&p, 7, 0).ecx & L7C_RDPID));
				ck_assert(!(guest(&p, 0x80000001, 0).edx & L81D_RDTSCP));
			}
		}
	}
}
END_TEST

/* Sapphire Rapids: AMX is the host's, never the guest's; AVX-512 fits
   the page (its standard-format image ends at 2688 bytes). */
START_TEST(sapphire_rapids_no_amx)
{
	const struct cpuid_dump *d = find_dump("Sapphire Rapids");
	struct cpuid_policy p;

	ck_assert(hostl(d, 0xd, 0).eax & XCR0_AMX);
	ck_assert(hostl(d, 0xd, 0).ecx > AREA);     /* all of it: ~11 KiB */
	policy_for(&p, d, true, AREA, 0);
	ck_assert_uint_eq(p.xcr0, XCR0_X87 | XCR0_SSE | XCR0_AVX | XCR0_AVX512);
	ck_assert_uint_eq(guest(&p, 0xd, 0).ecx, 2688);
	ck_assert(guest(&p, 7, 0).ebx & L7B_AVX512F);
}
END_TEST

/* A smaller area drops AVX-512, then AVX, with their CPUID bits. */
START_TEST(small_area_drops_vector_state)
{
	const struct cpuid_dump *d = find_dump("Sapphire Rapids");
	struct cpuid_policy p;

	policy_for(&p, d, true, 1024, 0);
	ck_assert_uint_eq(p.xcr0, XCR0_X87 | XCR0_SSE | XCR0_AVX);
	ck_assert_uint_eq(guest(&p, 0xd, 0).ecx, 832);   /* AVX: 576 + 256 */
	ck_assert(!(guest(&p, 7, 0).ebx & L7B_AVX512F));
	ck_assert(guest(&p, 7, 0).ebx & L7B_AVX2);
	policy_for(&p, d, true, 600, 0);
	ck_assert_uint_eq(p.xcr0, XCR0_X87 | XCR0_SSE);
	ck_assert(!(guest(&p, 1, 0).ecx & L1C_AVX));
	ck_assert(!(guest(&p, 7, 0).ebx & L7B_AVX2));
	ck_assert(guest(&p, 1, 0).ecx & L1C_XSAVE);
}
END_TEST

/* Alder Lake: WAITPKG (TPAUSE) never; RDPID only with "enable RDTSCP". */
START_TEST(alder_lake_waitpkg_rdpid)
{
	const struct cpuid_dump *d = find_dump("Alder Lake");
	struct cpuid_policy p;

	ck_assert(hostl(d, 7, 0).ecx & L7C_WAITPKG);
	ck_assert(hostl(d, 7, 0).ecx & L7C_RDPID);
	policy_for(&p, d, false, AREA, 0);
	ck_assert(!(guest(&p, 7, 0).ecx & (L7C_WAITPKG | L7C_RDPID)));
	ck_assert(!cpuid_has_msr(&p, CPUID_MSR_TSC_AUX));
	policy_for(&p, d, true, AREA, 0);
	ck_assert(guest(&p, 7, 0).ecx & L7C_RDPID);
	ck_assert(!(guest(&p, 7, 0).ecx & L7C_WAITPKG));
	ck_assert(cpuid_has_msr(&p, CPUID_MSR_TSC_AUX));
}
END_TEST

/* Ice Lake announces ARCH_CAPABILITIES and the speculation controls:
   the guest sees them with their MSRs; the pre-Spectre Skylake-SP
   microcode has none, so neither has its guest. */
START_TEST(speculation_msrs_follow_cpuid)
{
	struct cpuid_policy p;

	policy_for(&p, find_dump("Ice Lake-U"), true, AREA, 0);
	ck_assert(cpuid_has_msr(&p, CPUID_MSR_ARCH_CAPABILITIES));
	ck_assert(cpuid_has_msr(&p, CPUID_MSR_SPEC_CTRL));
	ck_assert(cpuid_has_msr(&p, CPUID_MSR_PRED_CMD));
	ck_assert_uint_eq(cpuid_spec_ctrl_bits(&p),
			  SPEC_CTRL_IBRS | SPEC_CTRL_STIBP | SPEC_CTRL_SSBD);
	policy_for(&p, find_dump("Skylake-SP"), true, AREA, 0);
	ck_assert(!cpuid_has_msr(&p, CPUID_MSR_ARCH_CAPABILITIES));
	ck_assert(!cpuid_has_msr(&p, CPUID_MSR_SPEC_CTRL));
	ck_assert(!cpuid_has_msr(&p, CPUID_MSR_PRED_CMD));
	ck_assert_uint_eq(cpuid_spec_ctrl_bits(&p), 0);
}
END_TEST

/* ARCH_CAPABILITIES passes only the "not affected" and behaviour bits
   (SDM Vol. 4 Table 2-2), never one that names an MSR uhv lacks. */
START_TEST(arch_capabilities_filtered)
{
	struct cpuid_policy p;
	u64 tsx_ctrl = BIT(7), fb_clear_ctrl = BIT(18), gds_ctrl = BIT(25);
	u64 rdcl_no = BIT(0), mds_no = BIT(5), taa_no = BIT(8), ibrs_all = BIT(1);

	policy_for(&p, find_dump("Ice Lake-U"), true, AREA, ~0ULL);
	ck_assert_uint_eq(p.arch_capabilities & (tsx_ctrl | fb_clear_ctrl | gds_ctrl), 0);
	ck_assert_uint_eq(p.arch_capabilities & (rdcl_no | mds_no | taa_no | ibrs_all),
			  rdcl_no | mds_no | taa_no | ibrs_all);
	ck_assert_uint_eq(p.arch_capabilities >> 32, 0);
	policy_for(&p, find_dump("Skylake-SP"), true, AREA, ~0ULL);
	ck_assert_uint_eq(p.arch_capabilities, 0);   /* not announced */
}
END_TEST

/* IA32_MISC_ENABLE (SDM Vol. 4 Table 2-2) agrees with every guest's
   CPUID: fast strings on; no EIST, MONITOR or xTPR behind bits 16, 18
   and 23, no DS (BTS and PEBS unavailable, bits 11 and 12), no
   architectural PMU (bit 7). Only bit 0 may change: setting anything
   else, or clearing BTS/PEBS unavailable, is #GP. */
#define L1C_EIST      BIT(7)
#define L1C_XTPR      BIT(14)
#define L1D_DS        BIT(21)
#define MISC_PERFMON  BIT(7)
#define MISC_EIST     BIT(16)
#define MISC_MONITOR  BIT(18)
#define MISC_LIMIT_CPUID BIT(22)
#define MISC_XTPR_OFF BIT(23)
#define MISC_XD_OFF   (1ULL << 34)
START_TEST(misc_enable_agrees_with_cpuid)
{
	const u64 r = CPUID_MISC_ENABLE_RESET;
	static const u64 refused[] = { MISC_PERFMON, MISC_EIST, MISC_MONITOR,
				       MISC_LIMIT_CPUID, MISC_XTPR_OFF, MISC_XD_OFF,
				       BIT(3), 1ULL << 63 };

	for (size_t i = 0; i < nr_cpuid_dumps; i++) {
		struct cpuid_policy p;

		policy_for(&p, &cpuid_dumps[i], true, AREA, 0);
		ck_assert(!(guest(&p, 1, 0).ecx & (L1C_EIST | L1C_MONITOR | L1C_XTPR)));
		ck_assert(!(guest(&p, 1, 0).edx & L1D_DS));
		ck_assert_uint_eq(guest(&p, 0xa, 0).eax & 0xff, 0);   /* PMU version */
	}
	ck_assert_uint_eq(r, MISC_ENABLE_FAST_STRINGS | BIT(11) | BIT(12));
	ck_assert(cpuid_misc_enable_valid(r));
	ck_assert(cpuid_misc_enable_valid(r & ~MISC_ENABLE_FAST_STRINGS));
	ck_assert(!cpuid_misc_enable_valid(r & ~BIT(11)));
	ck_assert(!cpuid_misc_enable_valid(0));
	for (size_t i = 0; i < ARRAY_SIZE(refused); i++)
		ck_assert_msg(!cpuid_misc_enable_valid(r | refused[i]), "0x%llx",
			      (unsigned long long)refused[i]);
}
END_TEST

/* XSETBV's rules (SDM Vol. 1 §13.3): of every value of bits 0-9 and
   the AMX pair, exactly four are valid on Sapphire Rapids' guest:
   x87; x87+SSE; x87+SSE+AVX; x87+SSE+AVX+all three AVX-512 parts. */
START_TEST(xcr0_rules)
{
	struct cpuid_policy p;
	unsigned valid = 0;

	policy_for(&p, find_dump("Sapphire Rapids"), true, AREA, 0);
	for (u64 low = 0; low < 1024; low++) {
		for (u64 amx = 0; amx < 4; amx++) {
			u64 v = low | (amx << 17);

			if (cpuid_xcr0_valid(&p, v))
				valid++;
		}
	}
	ck_assert_uint_eq(valid, 4);
	ck_assert(cpuid_xcr0_valid(&p, XCR0_X87 | XCR0_SSE | XCR0_AVX | XCR0_AVX512));
	ck_assert(!cpuid_xcr0_valid(&p, XCR0_X87 | XCR0_SSE | XCR0_AVX512));
	ck_assert(!cpuid_xcr0_valid(&p, XCR0_X87 | XCR0_SSE | XCR0_AVX | XCR0_OPMASK));
	ck_assert(!cpuid_xcr0_valid(&p, XCR0_SSE | XCR0_AVX));
	ck_assert(!cpuid_xcr0_valid(&p, XCR0_X87 | XCR0_SSE | XCR0_AVX | XCR0_AMX));
	ck_assert(!cpuid_xcr0_valid(&p, XCR0_X87 | BIT(63)));
}
END_TEST

/* Time leaves and the limits of the leaf ranges. */
START_TEST(time_and_ranges)
{
	struct cpuid_policy p;
	struct cpuid_leaf r;

	policy_for(&p, find_dump("Skylake-S"), true, AREA, 0);
	r = guest(&p, 0x15, 0);
	ck_assert(r.eax == 1 && r.ebx == 1 && r.ecx == 10000000);
	r = guest(&p, 0x16, 0);
	ck_assert(r.eax == 10 && r.ebx == 10 && r.ecx == 10);
	ck_assert_uint_ge(guest(&p, 0, 0).eax, 0x16);
	ck_assert_uint_le(guest(&p, 0x80000000, 0).eax, 0x80000008);
	r = guest(&p, 0x80000009, 0);
	ck_assert(!r.eax && !r.ebx && !r.ecx && !r.edx);
	r = guest(&p, 0x80000007, 0);
	ck_assert(r.edx == BIT(8) && !r.eax);     /* invariant TSC only */
	r = guest(&p, 0x20, 0);                   /* beyond the last leaf */
	ck_assert(!r.eax && !r.ebx && !r.ecx && !r.edx);
}
END_TEST

/* A host whose OS set CR4.OSXSAVE and CR4.PKE: its CPUID says so in
   leaf 1 ECX[27] and leaf 7 ECX[4] (every dump has OSXSAVE; none has
   OSPKE, so it is added here). */
static void dump_read_os_bits(void *ctx, u32 leaf, u32 sub, struct cpuid_leaf *out)
{
	dump_read(ctx, leaf, sub, out);
	if (leaf == 1)
		out->ecx |= L1C_OSXSAVE;
	if (leaf == 7 && sub == 0)
		out->ecx |= L7C_OSPKE | L7C_PKU;
}

/* The host's OS bits never reach a guest: OSXSAVE is the vCPU's own
   (cpuid_vcpu_leaf1 adds it), and OSPKE stays 0 because PKU is hidden
   and CR4.PKE is uhv's (SDM Vol. 2A: OSPKE mirrors CR4.PKE). */
START_TEST(host_os_bits_hidden)
{
	for (size_t i = 0; i < nr_cpuid_dumps; i++) {
		struct cpuid_policy p;

		cur = &cpuid_dumps[i];
		cpuid_policy_init(&p, dump_read_os_bits, (void *)cur, true, AREA, 0);
		ck_assert_msg(!(guest(&p, 1, 0).ecx & L1C_OSXSAVE), "%s", cur->name);
		ck_assert_msg(!(guest(&p, 7, 0).ecx & (L7C_OSPKE | L7C_PKU)), "%s",
			      cur->name);
		ck_assert_msg(guest(&p, 1, 0).edx & L1D_APIC, "%s", cur->name);
	}
}
END_TEST

/* Leaf 1 for one vCPU (SDM Vol. 2A, CPUID leaf 01H): EBX[31:24] its
   APIC id, EBX[23:16] the VM's CPU count with EDX.HTT when above one,
   ECX.OSXSAVE its CR4.OSXSAVE both ways, EDX.APIC its IA32_APIC_BASE.EN;
   nothing else changes. */
START_TEST(vcpu_leaf1_follows_state)
{
	static const struct cpuid_vcpu states[] = {
		{ 0, 1, false, true }, { 0, 1, true, true }, { 1, 2, false, true },
		{ 3, 4, true, true }, { 2, 4, true, false }, { 0, 2, false, false },
	};
	struct cpuid_policy p;

	policy_for(&p, find_dump("Ice Lake-SP"), true, AREA, 0);
	const struct cpuid_leaf base = guest(&p, 1, 0);

	for (size_t i = 0; i < sizeof(states) / sizeof(states[0]); i++) {
		const struct cpuid_vcpu *s = &states[i];
		struct cpuid_leaf r = base;

		cpuid_vcpu_leaf1(s, &r);
		ck_assert_uint_eq(r.eax, base.eax);
		ck_assert_uint_eq(r.ebx >> 24, s->apic_id);
		ck_assert_uint_eq((r.ebx >> 16) & 0xff, s->nr_cpus);
		ck_assert_uint_eq(r.ebx & 0xffff, base.ebx & 0xffff);
		ck_assert_uint_eq(!!(r.ecx & L1C_OSXSAVE), s->osxsave);
		ck_assert_uint_eq(r.ecx & ~L1C_OSXSAVE, base.ecx);
		ck_assert_uint_eq(!!(r.edx & L1D_HTT), s->nr_cpus > 1);
		ck_assert_uint_eq(!!(r.edx & L1D_APIC), s->apic_on);
		ck_assert_uint_eq(r.edx & ~(L1D_HTT | L1D_APIC),
				  base.edx & ~(L1D_HTT | L1D_APIC));
	}
}
END_TEST

/* Leaves 0BH and 1FH give each vCPU its own x2APIC id in EDX, every
   subleaf; no other leaf is patched so. */
START_TEST(vcpu_topology_x2apic_id)
{
	struct cpuid_policy p;

	policy_for(&p, find_dump("Alder Lake"), true, AREA, 0);
	for (u32 leaf = 0; leaf <= 0x20; leaf++)
		ck_assert_uint_eq(cpuid_leaf_is_topology(leaf),
				  leaf == 0xb || leaf == 0x1f);
	for (u32 sub = 0; sub < 3; sub++) {
		for (u32 id = 0; id < 4; id++) {
			struct cpuid_leaf base = guest(&p, 0xb, sub), r = base;

			cpuid_vcpu_topology(id, &r);
			ck_assert_uint_eq(r.edx, id);
			ck_assert(r.eax == base.eax && r.ebx == base.ebx &&
				  r.ecx == base.ecx);
		}
	}
}
END_TEST

Suite *cpuid_suite(void)
{
	Suite *s = suite_create("cpuid");
	TCase *t = tcase_create("policy");

	tcase_add_test(t, every_dump_every_rule);
	tcase_add_test(t, sapphire_rapids_no_amx);
	tcase_add_test(t, small_area_drops_vector_state);
	tcase_add_test(t, alder_lake_waitpkg_rdpid);
	tcase_add_test(t, speculation_msrs_follow_cpuid);
	tcase_add_test(t, arch_capabilities_filtered);
	tcase_add_test(t, misc_enable_agrees_with_cpuid);
	tcase_add_test(t, xcr0_rules);
	tcase_add_test(t, time_and_ranges);
	tcase_add_test(t, host_os_bits_hidden);
	tcase_add_test(t, vcpu_leaf1_follows_state);
	tcase_add_test(t, vcpu_topology_x2apic_id);
	suite_add_tcase(s, t);
	return s;
}
