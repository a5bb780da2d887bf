/*
 * Exit dispatch (exit.c): the arch layer hands each VM exit over as a
 * decoded struct arch_exit; a const table indexed by reason picks its
 * handler and counts it.
 */
#ifndef UHV_VMM_EXIT_H
#define UHV_VMM_EXIT_H

#include "arch/x86/vcpu.h"

/* What an exit handler tells the run loop. */
enum exit_action {
	EXIT_RESUME,             /* re-enter the same vCPU */
	EXIT_YIELD,              /* its slice is over, or it halted or stopped */
};
/* A handler may end in `return arch_vcpu_skip(...)`, which returns 0. */
_Static_assert(EXIT_RESUME == 0, "arch_vcpu_skip's 0 is EXIT_RESUME");

/* Handles one exit of the struct vcpu ctx: an arch_exit_fn. */
int exit_dispatch(void *vcpu, const struct arch_exit *e);
struct vm;
/* The exit handler for a slice of vm's: exit_dispatch, or, while its
   exit trace is on, one that records each exit first (vm_trace.c). Chosen
   per slice, so an untraced VM's exits pay nothing for the trace. */
arch_exit_fn exit_handler(const struct vm *vm);
/* The reason's name as the SDM spells it, for stats and the summary. */
const char *exit_reason_name(u32 reason);

#endif
