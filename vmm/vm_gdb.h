/*
 * A debugger for a VM (vm_gdb.c): the VMM's side of the GDB stub
 * (vmm/gdb/gdb_stub.h). It stops and starts the VM for gdb (all-stop:
 * the scheduler gives a stopped VM no slices, and a stepping vCPU one
 * instruction), reads and writes its vCPUs' registers and memory, and
 * turns the stub's breakpoints into VT-x intercepts: #BP exits for
 * software breakpoints, the guest's debug registers and #DB exits for
 * hardware breakpoints and watchpoints, the monitor trap flag for a step
 * (SDM Vol. 3C §25.6.3, §26.5.2). Bytes for gdb leave as the control
 * protocol's gdb reply, or its gdb event when the VM stopped by itself.
 */
#ifndef UHV_VMM_VM_GDB_H
#define UHV_VMM_VM_GDB_H

#include "vmm/vm.h"
#include "vmm/exit.h"
#include "vmm/ctl/ctl.h"

struct uhv;

/* The control protocol's gdb command (ctl_ops.gdb) for vm: passes in to
   its stub (a session starts at the first request: the VM stops) and
   moves up to out_max bytes of its answers into out; *more if some are
   left. */
enum ctl_code vm_gdb_request(struct uhv *h, struct vm *vm, const u8 *in,
			     size_t len, u8 *out, size_t out_max,
			     size_t *out_len, bool *more, char *msg);

/* Before v's entry (v loaded), when v->dbg_dirty: the intercepts and
   debug registers the session wants, or the guest's own once it ended. */
void vm_gdb_apply(struct vcpu *v);
/* An intercepted #BP or #DB (EXCEPTION_NMI): a stop for gdb if one of
   its breakpoints caused it, else the guest's own, delivered to it. */
enum exit_action vm_gdb_exception(struct vcpu *v, const struct arch_exit *e);
/* MONITOR_TRAP_FLAG: v's step is done. */
enum exit_action vm_gdb_step_exit(struct vcpu *v, const struct arch_exit *e);
/* After a time slice of a VM that gdb holds: a step that halted is done. */
void vm_gdb_slice_end(struct vcpu *v);
/* vm stopped for good (vm_stop): gdb hears that it exited. */
void vm_gdb_vm_stopped(struct vm *vm);
/* vm starts afresh or goes (vm_teardown): its session ends, unheard. */
void vm_gdb_reset(struct vm *vm);

#endif
