/*
 * Exit handlers that live outside exit.c, grouped by what they emulate.
 */
#ifndef UHV_VMM_EXIT_HANDLERS_H
#define UHV_VMM_EXIT_HANDLERS_H

#include "vmm/exit.h"
#include "vmm/vm.h"
#include "vmm/vcpu_regs.h"

/* cpu_exits.c: CPUID, VMCALL, control registers */
enum exit_action exit_cpuid(struct vcpu *v, const struct arch_exit *e);
enum exit_action exit_vmcall(struct vcpu *v, const struct arch_exit *e);
enum exit_action exit_cr_access(struct vcpu *v, const struct arch_exit *e);
/* Fills the VM's table of filtered CPUID leaves (v's VMCS loaded). */
void cpuid_cache_init(struct vcpu *v);
/* What guests' CPUID shows (vmm/cpuid_policy.h), probed at first use. */
struct cpuid_policy;
const struct cpuid_policy *cpuid_guest_policy(void);
/* msr.c */
enum exit_action exit_rdmsr(struct vcpu *v, const struct arch_exit *e);
enum exit_action exit_wrmsr(struct vcpu *v, const struct arch_exit *e);
/* io_exits.c: port I/O and MMIO through the VM's buses */
enum exit_action exit_io(struct vcpu *v, const struct arch_exit *e);
enum exit_action exit_ept_violation(struct vcpu *v, const struct arch_exit *e);
enum exit_action exit_apic_access(struct vcpu *v, const struct arch_exit *e);

#define X86_EXC_UD 6
#define X86_EXC_GP 13

#endif
