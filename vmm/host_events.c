/*
 * The host's NMIs and machine checks as the VMM sees them: the exits
 * they cause while a guest runs (EXCEPTION_NMI, reason 0; VM-entry
 * failure due to a machine-check event, reason 41), the counts printed
 * at the end, and `selftest = nmi`, which sends uhv NMIs through its own
 * local APIC in VMX root and while guests run. Neither kind of event is
 * ever given to a guest: host NMIs are uhv's, and guests see no MCA.
 */
#include "vmm/vm.h"
#include "vmm/exit_handlers.h"
#include "vmm/host_events.h"
#include "arch/x86/mce.h"
#include "arch/x86/nmi.h"
#include "arch/x86/power.h"
#include "drivers/console.h"
#include "lib/fmt.h"
#include "vmm/exit.h"
#include "vmm/vm_gdb.h"

#define X86_EXC_MC          18
#define NMI_SELFTEST_ROOT   4     /* self-IPIs in VMX root, before the VMs */
#define NMI_SELFTEST_GUEST  4     /* timed NMIs that arrive during guests, */
#define NMI_SELFTEST_EVERY  3     /* one armed every 3rd time slice, */
#define NMI_SELFTEST_TRIES  16    /* at most this many */
#define MCE_WHERE_MAX       64

static struct {
	bool requested, routed;
	u32 root_arrived, armed, slices;
} selftest;

/*
 * A machine check that stopped the guest (SDM Vol. 3B §16.3: the banks;
 * Vol. 3C §28.2.2, §27.9: how it reached uhv). The banks are reported
 * and cleared; with PCC ("processor context corrupt") uhv cannot go on
 * and powers off, else only this VM stops: its context is lost, and it
 * has no #MC handler uhv could give the event to (its MCG_CAP is 0).
 */
static enum exit_action machine_check(struct vcpu *v, const char *how)
{
	struct arch_mce m;
	char where[MCE_WHERE_MAX];

	fmt_sn(where, sizeof(where), "vm %s: machine check", v->vm->name);
	arch_mce_read(&m);
	arch_mce_report(&m, where);
	if (mce_verdict(&m) == MCE_STOP_MACHINE)
		power_off("machine check with processor context corrupt");
	arch_mce_clear(&m);
	if (m.nr_valid)
		vm_stop(v->vm, VM_ERROR, "%s; bank %u status 0x%llx", how,
			m.banks[0].index, (unsigned long long)m.banks[0].status);
	else
		vm_stop(v->vm, VM_ERROR, "%s; no bank holds a valid error", how);
	return EXIT_YIELD;
}

/*
 * Reason 0 (§28.2.2): a host NMI (NMI exiting) or an exception the
 * bitmap intercepts: #MC, and #BP and #DB while gdb holds the VM. The NMI is counted and
 * its blocking ended by arch_nmi_exit; the guest resumes where it was.
 */
enum exit_action exit_exception_nmi(struct vcpu *v, const struct arch_exit *e)
{
	if (e->intr.nmi) {
		arch_nmi_exit();
		return EXIT_RESUME;
	}
	if (e->intr.valid && e->intr.vector == X86_EXC_MC)
		return machine_check(v, "machine check during the guest");
	if (e->intr.valid && v->vm->gdb)      /* #BP, #DB: gdb's intercepts */
		return vm_gdb_exception(v, e);
	vm_stop(v->vm, VM_ERROR, "unexpected exception %u exit (a uhv bug)",
		e->intr.vector);
	return EXIT_YIELD;
}

/* Reason 41 (§27.9): a machine check during VM entry; the guest never
   ran, and its state may be half loaded. */
enum exit_action exit_entry_fail_mce(struct vcpu *v, const struct arch_exit *e)
{
	(void)e;
	return machine_check(v, "VM entry failed: machine check during VM entry "
			     "(exit reason 41)");
}

/* `selftest = nmi`, first half: self-IPIs in VMX root, before any VM
   runs; then the route for the timed NMIs of the second half. */
void nmi_selftest_start(void)
{
	selftest.requested = true;
	for (int i = 0; i < NMI_SELFTEST_ROOT; i++)
		selftest.root_arrived += arch_nmi_send_root();
	selftest.routed = arch_nmi_exiting() && arch_nmi_timer_route(true);
	printk("uhv: selftest nmi: %u NMIs sent in VMX root, %u arrived; %s\n",
	       NMI_SELFTEST_ROOT, selftest.root_arrived, selftest.routed ?
	       "timed NMIs (PIT, I/O APIC) will arrive during guests" :
	       "no NMI exiting or no I/O APIC: none during guests");
}

/* Before a time slice's VM entry: every NMI_SELFTEST_EVERY-th slice, a
   timed NMI that arrives while the guest runs (arch_nmi_timer_arm),
   until NMI_SELFTEST_GUEST have, or NMI_SELFTEST_TRIES were sent. */
void nmi_selftest_slice(void)
{
	struct arch_nmi_counts c;

	if (!selftest.routed || ++selftest.slices % NMI_SELFTEST_EVERY)
		return;
	arch_nmi_counts(&c);
	if (c.guest >= NMI_SELFTEST_GUEST ||
	    selftest.armed >= NMI_SELFTEST_TRIES) {
		arch_nmi_timer_route(false);
		selftest.routed = false;
		return;
	}
	selftest.armed++;
	arch_nmi_timer_arm();
}

/* The counts, at the end of the run; and the self-test's verdict: each
   self-IPI arrived in root, NMI_SELFTEST_GUEST timed ones during guests,
   and every other timed one in root (it ran out between two slices). */
void nmi_summary(void)
{
	struct arch_nmi_counts c;
	u64 early;
	bool ok;

	arch_nmi_counts(&c);
	printk("uhv: host NMIs: %llu in VMX root, %llu during guests (uhv's "
	       "own, none given to a guest)\n", (unsigned long long)c.root,
	       (unsigned long long)c.guest);
	if (!selftest.requested)
		return;
	if (selftest.routed)
		arch_nmi_timer_route(false);
	early = c.root - selftest.root_arrived;
	ok = selftest.root_arrived == NMI_SELFTEST_ROOT &&
	     c.guest == NMI_SELFTEST_GUEST && c.guest + early == selftest.armed;
	printk("uhv: selftest nmi: %s: %u of %u self-IPIs in VMX root, %llu of "
	       "%u timed NMIs during guests (%u sent, %llu arrived in VMX root)\n",
	       ok ? "passed" : "FAILED", selftest.root_arrived, NMI_SELFTEST_ROOT,
	       (unsigned long long)c.guest, NMI_SELFTEST_GUEST, selftest.armed,
	       (unsigned long long)early);
}
