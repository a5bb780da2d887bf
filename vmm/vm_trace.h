/*
 * A VM's exit trace (vm_trace.c): its ring of recent VM exits
 * (vmm/trace/exit_trace.h), filled from the exit path while the VM's
 * config says trace = on or console (uhv.cfg, or the protocol's trace
 * command), and with console also printed on uhv's console, paced.
 */
#ifndef UHV_VMM_VM_TRACE_H
#define UHV_VMM_VM_TRACE_H

#include "vmm/vm.h"

/* Exits printed on the console per second, at most, with trace = console:
   a console line takes about 7 ms at 115200 baud, so 25 a second keep
   the printing under a fifth of the VM's time. */
#define VM_TRACE_CONSOLE_PER_S 25

/* At vm's start (vm_build): an empty ring of its own, recording at once if
   its config says so (a warning on the console for trace = console). */
void vm_trace_start(struct vm *vm);
/* Its trace was turned on after being off: the next record's delta is 0,
   not the time it was off. */
void vm_trace_resumed(struct vm *vm);
/* Records exit e of v, whose VM traces; prints it too with trace =
   console, unless the second's console lines are used up. */
void vm_trace_exit(struct vcpu *v, const struct arch_exit *e);

#endif
