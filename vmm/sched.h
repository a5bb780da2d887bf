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

/* The run loop's state, in struct uhv. */
struct sched {
	struct vcpu *vcpus[CFG_MAX_VMS * VM_MAX_VCPUS];   /* all, round robin */
	int nr_vcpus;
	bool changed;            /* a VM was started or resumed: leave idle */
	bool shutdown;           /* the control channel asked uhv to stop */
	u64 timeslice;           /* TSC ticks per slice */
	u64 next_poll;           /* TSC: when the polled ports want service */
	u64 next_bridge_tick;    /* TSC: when the bridge ages its MAC table */
};

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
