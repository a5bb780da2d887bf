/*
 * The scheduler and run loop (sched.c): round-robin over every runnable
 * vCPU, one time slice each (the VMX preemption timer ends a slice), with
 * the polled devices (control channel, capture, console input, bridge
 * ageing) served between slices.
 */
#ifndef UHV_VMM_SCHED_H
#define UHV_VMM_SCHED_H

#include "vmm/exit.h"
#include "vmm/vm.h"

struct uhv;

/* Runs every VM until all have stopped (or, with the control channel
   open, until it asks uhv to shut down). */
void sched_run(struct uhv *h);
/* Recomputes the scheduler's vCPU list after VMs come or go. */
void sched_rebuild(struct uhv *h);
/* Interrupt work with v loaded: fire due timers, inject, re-arm the
   preemption timer. Handlers that may change interrupt state call
   sched_resume() instead of returning EXIT_RESUME. */
void sched_service(struct vcpu *v);
static inline enum exit_action sched_resume(struct vcpu *v)
{
	if (v->irq_dirty)
		sched_service(v);
	return EXIT_RESUME;
}

#endif
