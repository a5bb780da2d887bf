/*
 * vmx_check_features() against fake CPUs: each requirement uhv checks
 * before taking the machine gets its own message, and a CPU with what
 * Bochs's corei7_haswell_4770 reports (../shared/notes/emulation.md §2)
 * passes. The probe interface lets the test be the CPU.
 */
#include "unit.h"
#include "arch/x86/msr.h"
#include "arch/x86/vmx.h"
#include "arch/x86/vmx_caps.h"
#include <string.h>

#define CPUID_VMX (1U << 5)

static u32 fake_ecx, fake_eax;
static u64 msrs[0x500];
static u64 fc;

static void fake_cpuid(u32 leaf, u32 sub, u32 out[4])
{
	(void)sub;
	out[1] = out[3] = 0;
	out[0] = leaf == 1 ? fake_eax : 0;
	out[2] = leaf == 1 ? fake_ecx : 0;
}

static u64 fake_rdmsr(u32 msr)
{
	if (msr == MSR_IA32_FEATURE_CONTROL)
		return fc;
	ck_assert_msg(msr < 0x500, "unexpected MSR 0x%x", msr);
	return msrs[msr];
}

static const struct cpu_probe fake = { fake_cpuid, fake_rdmsr };

/* Bochs corei7_haswell_4770's VMX MSRs, as measured. */
static void haswell(void)
{
	fake_ecx = CPUID_VMX;
	fake_eax = 0x000306c3;      /* Haswell-S, family 6 model 0x3c */
	fc = 0;
	memset(msrs, 0, sizeof(msrs));
	msrs[MSR_IA32_VMX_BASIC] = 0x00d810000000002bULL;
	msrs[MSR_IA32_VMX_TRUE_PINBASED_CTLS] = 0x0000007f00000016ULL;
	msrs[MSR_IA32_VMX_PINBASED_CTLS] = 0x0000007f00000016ULL;
	msrs[MSR_IA32_VMX_PROCBASED_CTLS] = 0xf7f9fffe0401e172ULL;
	msrs[MSR_IA32_VMX_TRUE_PROCBASED_CTLS] = 0xf7f9fffe0401e172ULL;
	msrs[MSR_IA32_VMX_PROCBASED_CTLS2] = 0x00047fff00000000ULL;
	msrs[MSR_IA32_VMX_EPT_VPID_CAP] = 0x00000f0106334141ULL;
	msrs[MSR_IA32_VMX_EXIT_CTLS] = 0x007fffff00036dffULL;
	msrs[MSR_IA32_VMX_TRUE_EXIT_CTLS] = 0x007fffff00036dfbULL;
	msrs[MSR_IA32_VMX_ENTRY_CTLS] = 0x0000ffff000011ffULL;
	msrs[MSR_IA32_VMX_TRUE_ENTRY_CTLS] = 0x0000ffff000011fbULL;
}

static const char *check(void)
{
	struct vmx_caps caps;

	return vmx_check_features(&caps, &fake);
}

static void expect(const char *fragment)
{
	const char *why = check();

	ck_assert_msg(why != NULL, "expected a refusal mentioning '%s'", fragment);
	ck_assert_msg(strstr(why, fragment), "'%s' lacks '%s'", why, fragment);
}

START_TEST(bochs_haswell_passes)
{
	haswell();
	ck_assert_ptr_null(check());
	fc = FEATURE_CONTROL_LOCK | FEATURE_CONTROL_VMX_OUTSIDE_SMX;
	ck_assert_ptr_null(check());        /* locked with VMX on is fine */
}
END_TEST

START_TEST(each_requirement_named)
{
	haswell();
	fake_ecx = 0;
	expect("no VMX");
	haswell();
	fc = FEATURE_CONTROL_LOCK;          /* locked, VMX off */
	expect("disabled and locked");
	haswell();
	msrs[MSR_IA32_VMX_TRUE_PROCBASED_CTLS] &= ~((u64)PROC_ACTIVATE_SECONDARY_CONTROLS << 32);
	expect("secondary");
	haswell();
	msrs[MSR_IA32_VMX_PROCBASED_CTLS2] &= ~((u64)PROC2_ENABLE_EPT << 32);
	expect("EPT");
	haswell();
	msrs[MSR_IA32_VMX_EPT_VPID_CAP] &= ~EPT_CAP_PDE_2MB;
	expect("2 MiB");
	haswell();
	msrs[MSR_IA32_VMX_PROCBASED_CTLS2] &= ~((u64)PROC2_UNRESTRICTED_GUEST << 32);
	expect("unrestricted guest");
	haswell();
	msrs[MSR_IA32_VMX_PROCBASED_CTLS2] &= ~((u64)PROC2_ENABLE_VPID << 32);
	expect("VPID");
	haswell();
	msrs[MSR_IA32_VMX_TRUE_PINBASED_CTLS] &= ~((u64)PIN_ACTIVATE_PREEMPTION_TIMER << 32);
	expect("preemption timer");
	haswell();
	msrs[MSR_IA32_VMX_TRUE_ENTRY_CTLS] &= ~((u64)ENTRY_LOAD_IA32_EFER << 32);
	expect("EFER");
}
END_TEST

/* Without the TRUE_* MSRs (IA32_VMX_BASIC bit 55 clear) the plain ones count. */
START_TEST(plain_ctls_without_true_ctls)
{
	haswell();
	msrs[MSR_IA32_VMX_BASIC] &= ~VMX_BASIC_TRUE_CTLS;
	msrs[MSR_IA32_VMX_TRUE_PINBASED_CTLS] = 0;  /* would fail if read */
	ck_assert_ptr_null(check());
	msrs[MSR_IA32_VMX_PINBASED_CTLS] &= ~((u64)PIN_ACTIVATE_PREEMPTION_TIMER << 32);
	expect("preemption timer");
}
END_TEST

/* The preemption timer of CPUs with a rate erratum is refused (Xeon
   5500's signature 0x106A5, Sandy Bridge-EP's 0x206D6 is not listed),
   whatever their reserved bits; so is an EPT without INVEPT. */
START_TEST(timer_errata_and_invept)
{
	haswell();
	fake_eax = 0x000106a5;
	expect("erratum");
	fake_eax = 0xf00106a5;      /* reserved bits 31:28 do not matter */
	expect("erratum");
	fake_eax = 0x000206d6;
	ck_assert_ptr_null(check());
	haswell();
	msrs[MSR_IA32_VMX_EPT_VPID_CAP] &= ~EPT_CAP_INVEPT;
	expect("INVEPT");
	haswell();
	msrs[MSR_IA32_VMX_EPT_VPID_CAP] &= ~(EPT_CAP_INVEPT_SINGLE | EPT_CAP_INVEPT_ALL);
	expect("INVEPT");
	haswell();
	msrs[MSR_IA32_VMX_EPT_VPID_CAP] &= ~EPT_CAP_INVEPT_SINGLE;
	ck_assert_ptr_null(check());   /* all-context will do */
}
END_TEST

Suite *vmx_caps_suite(void)
{
	Suite *s = suite_create("vmx_caps");
	TCase *t = tcase_create("core");

	tcase_add_test(t, bochs_haswell_passes);
	tcase_add_test(t, each_requirement_named);
	tcase_add_test(t, plain_ctls_without_true_ctls);
	tcase_add_test(t, timer_errata_and_invept);
	suite_add_tcase(s, t);
	return s;
}
