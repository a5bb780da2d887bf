/*
 * The run loop. VMs share the CPU in round-robin time slices: the VMX
 * preemption timer is armed for whichever comes first, the end of the
 * slice or the VM's next timer event (APIC timer, PIT), so uhv regains
 * control in time to deliver that interrupt. A vCPU that halts gives up
 * the rest of its slice and sleeps until an interrupt is pending for it.
 * When no vCPU can run, uhv waits for the earliest timer event; when
 * nothing could ever wake the sleepers (halted with interrupts off, or no
 * timer armed), those VMs are stopped as "halted".
 */
#include "vmm/vmm.h"
#include "arch/x86/cpu.h"
#include "vmm/ctl/ctl_chan.h"
#include "vmm/net/capture.h"
#include "vmm/host_events.h"
#include "drivers/console.h"
#include "vmm/sched.h"
#include "vmm/exit.h"
#include "vmm/focus.h"
#include "vmm/stats.h"
#include "vmm/ctl/ctl_vms.h"
#include "vmm/capture_port.h"
#include "vmm/uplink.h"
#include "vmm/vm_gdb.h"

/*
 * uhv's polled ports that need service while guests run (the control
 * channel, the capture port, the uplink NIC): each poller does its work and says when it
 * next wants to run; no slice lasts beyond the earliest of those.
 */
static u64 poll_ports(struct uhv *h, u64 now)
{
	u64 next = MIN(MIN(ctl_chan_poll(now), capture_port_poll(now)),
		       uplink_poll(now));

	h->sched.next_poll = next;
	return next;
}

/* Wakes v if it is halted and an interrupt it would take is pending, or
   an NMI (IF or not) outside its NMI handler. */
static void try_wake(struct vcpu *v)
{
	if (v->state == VCPU_HALTED &&
	    ((v->halt_if && platform_poll(v)) ||
	     (v->halt_nmi && platform_nmi_pending(v)))) {
		v->state = VCPU_RUNNABLE;
		v->irq_dirty = true;
	}
}

void sched_rebuild(struct uhv *h)
{
	h->sched.nr_vcpus = 0;
	for (int i = 0; i < h->nr_vms; i++) {
		struct vm *vm = &h->vms[i];

		if (!vm->built)
			continue;
		for (int c = 0; c < vm->nr_vcpus; c++)
			h->sched.vcpus[h->sched.nr_vcpus++] = &vm->vcpus[c];
	}
}

/* A vCPU that may get time: its VM is not paused (control channel), and
   not stopped by gdb unless this vCPU is to take a step. */
static bool schedulable(const struct vcpu *v)
{
	return !v->vm->paused && (!v->vm->dbg_stopped || v->dbg_stepping);
}

/* The next runnable vCPU after index *cur, round robin; NULL if none. */
static struct vcpu *pick_next(struct uhv *h, int *cur)
{
	for (int i = 1; i <= h->sched.nr_vcpus; i++) {
		int k = (*cur + i) % h->sched.nr_vcpus;

		if (!schedulable(h->sched.vcpus[k]))
			continue;
		try_wake(h->sched.vcpus[k]);
		if (h->sched.vcpus[k]->state == VCPU_RUNNABLE) {
			*cur = k;
			return h->sched.vcpus[k];
		}
	}
	return NULL;
}

/*
 * Interrupt work after an exit or before an entry, with v loaded: fire
 * due timers, inject, and re-arm the preemption timer for the earlier of
 * the slice's end and the VM's next timer event. A vCPU taking a step
 * for gdb gets no interrupt: the step is the instruction gdb shows, not
 * the first of an interrupt handler; what is pending waits for the next
 * entry after it.
 */
void sched_service(struct vcpu *v)
{
	u64 now, deadline;

	v->irq_dirty = false;
	platform_poll(v);
	if (!v->dbg_stepping)
		platform_inject(v);
	now = rdtsc();
	deadline = MIN(v->slice_end, platform_next_deadline(v));
	arch_vcpu_set_timer(&v->arch, deadline > now ? deadline - now : 1);
}

#define MIN_SLICE 20000ULL   /* TSC ticks: every slice makes some progress */

/*
 * When the earliest sleeping vCPU (other than v) is due to wake for a
 * timer: v's slice ends then, so a busy VM never delays another VM's timer
 * interrupt by more than that (the scheduler wakes the sleeper next).
 */
static u64 next_wake(const struct uhv *h, const struct vcpu *v)
{
	u64 wake = ~0ULL;

	for (int i = 0; i < h->sched.nr_vcpus; i++) {
		const struct vcpu *o = h->sched.vcpus[i];

		if (o != v && o->state == VCPU_HALTED && o->halt_if &&
		    schedulable(o))
			wake = MIN(wake, platform_next_deadline(o));
	}
	return wake;
}

/* Runs v until its slice ends, it halts or its VM stops. */
static void run_slice(struct uhv *h, struct vcpu *v)
{
	u64 now, wake, len;

	if (v->pending_sipi >= 0) {      /* started by a SIPI: real mode */
		arch_vcpu_reset_sipi(&v->arch, (u8)v->pending_sipi);
		v->pending_sipi = -1;
	}
	v->vm->current = v;
	now = rdtsc();
	wake = MIN(next_wake(h, v), h->sched.next_poll);
	len = wake > now ? MIN(h->sched.timeslice, wake - now) : 0;
	v->slice_end = now + MAX(len, MIN_SLICE);
	v->slices++;
	if (v->dbg_dirty)
		vm_gdb_apply(v);
	sched_service(v);
	nmi_selftest_slice();
	if (arch_vcpu_run(&v->arch, exit_handler(v->vm), v))
		vm_stop(v->vm, VM_ERROR, "VM entry failed: VM-instruction error %u",
			v->arch.vm_instr_error);
	v->vm->cpu_ticks += rdtsc() - now;
	if (v->vm->gdb)
		vm_gdb_slice_end(v);
}

/*
 * Stops the running, unpaused VMs that can never wake: with a control
 * channel only those halted with interrupts off (the power button or
 * the agent may still wake the others), else all of them.
 */
static void stop_sleepers(struct uhv *h)
{
	for (int i = 0; i < h->nr_vms; i++) {
		struct vm *vm = &h->vms[i];
		struct vcpu *v = &vm->vcpus[0];

		if (!vm->built || vm->result != VM_RUNNING || vm->paused ||
		    vm->dbg_stopped)
			continue;
		if (ctl_chan_enabled() && v->state == VCPU_HALTED && v->halt_if)
			continue;
		vm_stop(vm, VM_HALTED, v->state == VCPU_HALTED && v->halt_if ?
			"halted with no timer or device that could wake it" :
			"halted with interrupts off: nothing can wake it");
	}
}

/*
 * Nothing can run. If a sleeper has a timer armed, wait for the earliest
 * and return true. Otherwise stop every sleeper; then, with a control
 * channel, wait for it to change something (true), else return false:
 * uhv is done.
 */
static bool idle(struct uhv *h)
{
	u64 wake = ~0ULL;

	for (int i = 0; i < h->sched.nr_vcpus; i++) {
		struct vcpu *v = h->sched.vcpus[i];

		if (v->state == VCPU_HALTED && v->halt_if && schedulable(v))
			wake = MIN(wake, platform_next_deadline(v));
	}
	if (wake == ~0ULL) {
		stop_sleepers(h);
		if (!ctl_chan_enabled())
			return false;
	}
	/* the timer, a key for the focused VM, or a control request */
	h->sched.changed = false;
	while (rdtsc() < wake && !focus_poll(h) && !h->sched.changed &&
	       !h->sched.shutdown)
		if (rdtsc() >= h->sched.next_poll) {
			poll_ports(h, rdtsc());
			ctl_vms_tick(h, rdtsc());
		}
	return true;
}

/* The vCPU whose arch state a is (struct vcpu's member arch). */
static struct vcpu *vcpu_of(struct arch_vcpu *a)
{
	return (struct vcpu *)((char *)a - offsetof(struct vcpu, arch));
}

/*
 * IBPB when the CPU passes from one VM to another (not between vCPUs of
 * one VM) and either of them asks for it: neither can then steer the
 * other's indirect branches (arch/x86/spec.c).
 */
static void switch_barrier(const struct vcpu *prev, const struct vcpu *next)
{
	if (prev && prev->vm != next->vm &&
	    ((prev->arch.spec | next->arch.spec) & SPEC_SWITCH_IBPB))
		arch_ibpb();
}

void sched_run(struct uhv *h)
{
	struct arch_vcpu *prev;
	struct vcpu *v;
	int cur = 0;

	while (!h->sched.shutdown) {
		focus_poll(h);
		poll_ports(h, rdtsc());
		if (rdtsc() >= h->sched.next_bridge_tick) {  /* MAC table ageing, 1/s */
			bridge_tick(&h->bridge, rdtsc());
			h->sched.next_bridge_tick = rdtsc() + h->tsc_hz;
		}
		if (h->stats.every && rdtsc() >= h->stats.next) {
			stats_print(h, false);
			h->stats.next = rdtsc() + h->stats.every;
		}
		ctl_vms_tick(h, rdtsc());
		v = pick_next(h, &cur);
		if (!v) {
			if (idle(h))
				continue;
			break;
		}
		prev = arch_vcpu_loaded();   /* arch/x86/ keeps the record */
		if (prev != &v->arch) {
			if (prev)
				arch_vcpu_put(prev);
			switch_barrier(prev ? vcpu_of(prev) : NULL, v);
			arch_vcpu_load(&v->arch);
		}
		run_slice(h, v);
	}
	prev = arch_vcpu_loaded();
	if (prev)
		arch_vcpu_put(prev);
}
