/*
 * Host NMIs and machine checks in the VMM (host_events.c): their exit
 * handlers (in exit.c's table), the counts printed at the end of a run,
 * and the NMI self-test (`selftest = nmi`).
 */
#ifndef UHV_VMM_HOST_EVENTS_H
#define UHV_VMM_HOST_EVENTS_H

#include "vmm/vm.h"
#include "vmm/exit.h"

/* EXCEPTION_NMI (0): a host NMI during the guest, or a machine check. */
enum exit_action exit_exception_nmi(struct vcpu *v, const struct arch_exit *e);
/* ENTRY_FAIL_MCE (41): VM entry failed due to a machine-check event. */
enum exit_action exit_entry_fail_mce(struct vcpu *v, const struct arch_exit *e);
/* The self-test's NMIs in VMX root (after VMXON, before the VMs)... */
void nmi_selftest_start(void);
/* ... and before each time slice, its NMIs that arrive during guests. */
void nmi_selftest_slice(void);
/* After the run: "uhv: host NMIs: N in VMX root, M during guests", and
   the self-test's verdict if it ran. */
void nmi_summary(void);

#endif
