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
#include "vmm.h"
#include "../arch/x86/cpu.h"
#include "../drivers/console.h"

/* Wakes v if it is halted and an interrupt it would take is pending. */
static void try_wake(struct vcpu *v)
{
	if (v->state == VCPU_HALTED && v->halt_if && platform_poll(v)) {
		v->state = VCPU_RUNNABLE;
		v->irq_dirty = true;
	}
}

/* The next runnable vCPU after index *cur, round robin; NULL if none. */
static struct vcpu *pick_next(struct uhv *h, int *cur)
{
	for (int i = 1; i <= h->nr_vcpus; i++) {
		int k = (*cur + i) % h->nr_vcpus;

		try_wake(h->vcpus[k]);
		if (h->vcpus[k]->state == VCPU_RUNNABLE) {
			*cur = k;
			return h->vcpus[k];
		}
	}
	return NULL;
}

/*
 * Interrupt work after an exit or before an entry, with v loaded: fire
 * due timers, inject, and re-arm the preemption timer for the earlier of
 * the slice's end and the VM's next timer event.
 */
void vcpu_service(struct vcpu *v)
{
	u64 now, deadline;

	v->irq_dirty = false;
	platform_poll(v);
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

	for (int i = 0; i < h->nr_vcpus; i++) {
		const struct vcpu *o = h->vcpus[i];

		if (o != v && o->state == VCPU_HALTED && o->halt_if)
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
	wake = next_wake(h, v);
	len = wake > now ? MIN(h->timeslice, wake - now) : 0;
	v->slice_end = now + MAX(len, MIN_SLICE);
	v->slices++;
	vcpu_service(v);
	if (arch_vcpu_run(&v->arch, exit_dispatch, v))
		vm_stop(v->vm, VM_ERROR, "VM entry failed: VM-instruction error %u",
			v->arch.vm_instr_error);
}

/*
 * Nothing can run. If a sleeper has a timer armed, wait for the earliest
 * and return true; otherwise stop every sleeper and return false.
 */
static bool idle(struct uhv *h)
{
	u64 wake = ~0ULL;

	for (int i = 0; i < h->nr_vcpus; i++) {
		struct vcpu *v = h->vcpus[i];

		if (v->state == VCPU_HALTED && v->halt_if)
			wake = MIN(wake, platform_next_deadline(v));
	}
	if (wake != ~0ULL) {
		/* wait for the timer, or for a key for the focused VM */
		while (rdtsc() < wake && !focus_poll(h))
			__asm__ volatile("pause");
		return true;
	}
	for (int i = 0; i < h->nr_vms; i++) {
		struct vm *vm = &h->vms[i];
		struct vcpu *v = &vm->vcpus[0];

		if (vm->result != VM_RUNNING)
			continue;
		vm_stop(vm, VM_HALTED, v->state == VCPU_HALTED && v->halt_if ?
			"halted with no timer or device that could wake it" :
			"halted with interrupts off: nothing can wake it");
	}
	return false;
}

void vmm_run(struct uhv *h)
{
	struct vcpu *loaded = NULL, *v;
	int cur = h->nr_vcpus - 1;

	for (;;) {
		focus_poll(h);
		if (rdtsc() >= h->next_bridge_tick) {  /* MAC table ageing, 1/s */
			bridge_tick(&h->bridge, rdtsc());
			h->next_bridge_tick = rdtsc() + h->tsc_hz;
		}
		if (h->stats_every && rdtsc() >= h->next_stats) {
			vmm_stats(h, false);
			h->next_stats = rdtsc() + h->stats_every;
		}
		v = pick_next(h, &cur);
		if (!v) {
			if (idle(h))
				continue;
			break;
		}
		if (v != loaded) {
			if (loaded)
				arch_vcpu_put(&loaded->arch);
			arch_vcpu_load(&v->arch);
			loaded = v;
		}
		run_slice(h, v);
	}
	if (loaded)
		arch_vcpu_put(&loaded->arch);
}
