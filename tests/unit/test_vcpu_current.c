/*
 * arch/x86/vcpu_current.c: the record of which vCPU's VMCS is current
 * and which vCPU is loaded (vcpu.h's rule), and its checks. The
 * VMPTRLD/VMCLEAR beside each change cannot run here; which calls are
 * allowed, what each leaves recorded, and that every broken rule panics
 * naming the function can. The panic hook longjmps back to the test.
 */
#include <setjmp.h>
#include <string.h>
#include "unit.h"
#include "arch/x86/vcpu_current.h"

static jmp_buf panic_env;
static const char *panic_fn, *panic_rule;
static const struct arch_vcpu *panic_v;

void vcpu_current_panic(const char *fn, const struct arch_vcpu *v,
			const char *rule)
{
	panic_fn = fn;
	panic_v = v;
	panic_rule = rule;
	longjmp(panic_env, 1);
}

/* stmt must panic, in the function named fn, about vCPU v. */
#define ck_assert_panics(stmt, fn, v)                                      \
	do {                                                               \
		panic_fn = NULL;                                           \
		if (!setjmp(panic_env)) {                                  \
			stmt;                                              \
			ck_abort_msg("%s did not panic", #stmt);           \
		}                                                          \
		ck_assert_str_eq(panic_fn, fn);                            \
		ck_assert_ptr_eq(panic_v, v);                              \
	} while (0)

static struct arch_vcpu a, b;

/* Stand-ins for arch/x86's accessors: the check is their first line. */
static void vmcs_accessor(struct arch_vcpu *v)
{
	VCPU_CHECK_VMCS(v);
}

static void loaded_accessor(struct arch_vcpu *v)
{
	VCPU_CHECK_LOADED(v);
}

static void reset(void)
{
	memset(&vcpu_current, 0, sizeof(vcpu_current));
}

static void ck_record(const struct arch_vcpu *vmcs, const struct arch_vcpu *loaded)
{
	ck_assert_ptr_eq(vcpu_current.vmcs, vmcs);
	ck_assert_ptr_eq(vcpu_current.loaded, loaded);
	ck_assert_ptr_eq(arch_vcpu_loaded(), loaded);
}

START_TEST(nothing_current_at_start)
{
	ck_record(NULL, NULL);
	ck_assert_panics(vmcs_accessor(&a), "vmcs_accessor", &a);
	ck_assert_panics(loaded_accessor(&a), "loaded_accessor", &a);
	ck_assert_panics(vcpu_current_put(&a), "arch_vcpu_put", &a);
}
END_TEST

START_TEST(load_then_put)
{
	vcpu_current_load(&a);
	ck_record(&a, &a);
	vmcs_accessor(&a);
	loaded_accessor(&a);
	ck_assert_panics(vmcs_accessor(&b), "vmcs_accessor", &b);
	ck_assert_panics(loaded_accessor(&b), "loaded_accessor", &b);
	ck_assert_panics(vmcs_accessor(NULL), "vmcs_accessor", NULL);
	vcpu_current_put(&a);
	ck_record(NULL, NULL);
	/* put leaves nothing current: a's VMCS is out of reach again */
	ck_assert_panics(vmcs_accessor(&a), "vmcs_accessor", &a);
	vcpu_current_load(&b);
	ck_record(&b, &b);
	ck_assert_panics(vmcs_accessor(&a), "vmcs_accessor", &a);
}
END_TEST

/* One loaded vCPU at a time: the VMM puts it before anything else. */
START_TEST(loaded_is_put_first)
{
	vcpu_current_load(&a);
	ck_assert_panics(vcpu_current_load(&b), "arch_vcpu_load", &b);
	ck_assert_str_eq(panic_rule, "another vCPU is loaded: put it first");
	ck_assert_panics(vcpu_current_load(&a), "arch_vcpu_load", &a);
	ck_assert_str_eq(panic_rule, "it is loaded already");
	ck_assert_panics(vcpu_current_select(&b, "arch_vcpu_select"),
			 "arch_vcpu_select", &b);
	ck_assert_panics(vcpu_current_select(&b, "arch_vcpu_init"),
			 "arch_vcpu_init", &b);
	ck_assert_panics(vcpu_current_put(&b), "arch_vcpu_put", &b);
	ck_assert_panics(vcpu_current_put(NULL), "arch_vcpu_put", NULL);
	ck_assert_panics(vcpu_current_clear(&a, "arch_vcpu_destroy"),
			 "arch_vcpu_destroy", &a);
	ck_record(&a, &a);          /* none of them changed the record */
	vcpu_current_clear(&b, "arch_vcpu_destroy");   /* b is not loaded */
	ck_record(&a, &a);
}
END_TEST

/* init and select make a VMCS current to set it up: the VMCS accessors
   work, running and the MSRs (loaded state) do not. */
START_TEST(select_for_set_up)
{
	vcpu_current_select(&a, "arch_vcpu_init");
	ck_record(&a, NULL);
	vmcs_accessor(&a);
	ck_assert_panics(loaded_accessor(&a), "loaded_accessor", &a);
	ck_assert_panics(vcpu_current_put(&a), "arch_vcpu_put", &a);
	vcpu_current_select(&b, "arch_vcpu_init");
	ck_record(&b, NULL);
	ck_assert_panics(vmcs_accessor(&a), "vmcs_accessor", &a);
	vcpu_current_select(&a, "arch_vcpu_select");
	vmcs_accessor(&a);
	/* the run loop then loads whichever vCPU it picks */
	vcpu_current_load(&b);
	ck_record(&b, &b);
}
END_TEST

/* VMCLEAR of the current VMCS leaves none current (SDM Vol. 3C, VMCLEAR);
   of another, the current one stays. */
START_TEST(clear_forgets_current)
{
	vcpu_current_select(&a, "arch_vcpu_init");
	vcpu_current_clear(&b, "arch_vcpu_destroy");
	ck_record(&a, NULL);
	vcpu_current_clear(&a, "arch_vcpu_destroy");
	ck_record(NULL, NULL);
	ck_assert_panics(vmcs_accessor(&a), "vmcs_accessor", &a);
	vcpu_current_load(&a);
	vcpu_current_put(&a);
	vcpu_current_clear(&a, "arch_vcpu_destroy");
	ck_record(NULL, NULL);
}
END_TEST

Suite *vcpu_current_suite(void)
{
	Suite *s = suite_create("vcpu_current");
	TCase *tc = tcase_create("core");

	tcase_add_checked_fixture(tc, reset, NULL);
	tcase_add_test(tc, nothing_current_at_start);
	tcase_add_test(tc, load_then_put);
	tcase_add_test(tc, loaded_is_put_first);
	tcase_add_test(tc, select_for_set_up);
	tcase_add_test(tc, clear_forgets_current);
	suite_add_tcase(s, tc);
	return s;
}
