/*
 * The run loop. VMs share the CPU in round-robin time slices: before a
 * vCPU runs, the VMX preemption timer is armed with the slice length, and
 * its expiry (exit reason 52) hands the CPU to the next VM. A vCPU that
 * halts gives up the rest of its slice. When only halted vCPUs remain and
 * nothing could ever wake them (uhv has no virtual interrupt sources yet),
 * those VMs are stopped as "halted".
 */
#include "vmm.h"
#include "../drivers/console.h"

/* The next runnable vCPU after index *cur, round robin; NULL if none. */
static struct vcpu *pick_next(struct uhv *h, int *cur)
{
	for (int i = 1; i <= h->nr_vms; i++) {
		int k = (*cur + i) % h->nr_vms;

		if (h->vms[k].vcpu.state == VCPU_RUNNABLE) {
			*cur = k;
			return &h->vms[k].vcpu;
		}
	}
	return NULL;
}

/* Runs v until its slice ends, it halts or its VM stops. */
static void run_slice(struct uhv *h, struct vcpu *v)
{
	arch_vcpu_set_timer(&v->arch, h->timeslice);
	v->slices++;
	if (arch_vcpu_run(&v->arch, exit_dispatch, v))
		vm_stop(v->vm, VM_ERROR, "VM entry failed: VM-instruction error %u",
			v->arch.vm_instr_error);
}

/* Stops every VM whose vCPU waits for an event that cannot come. */
static void stop_sleepers(struct uhv *h)
{
	for (int i = 0; i < h->nr_vms; i++) {
		struct vcpu *v = &h->vms[i].vcpu;

		if (v->state == VCPU_HALTED)
			vm_stop(v->vm, VM_HALTED, "halted with no interrupt source "
				"that could wake it");
		else if (v->state == VCPU_WAIT_SIPI)
			vm_stop(v->vm, VM_HALTED, "waiting for a SIPI that no one "
				"can send");
	}
}

void vmm_run(struct uhv *h)
{
	struct vcpu *loaded = NULL, *v;
	int cur = h->nr_vms - 1;

	for (;;) {
		v = pick_next(h, &cur);
		if (!v) {
			stop_sleepers(h);
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

void vmm_summary(const struct uhv *h)
{
	printk("uhv: summary of %d VM(s)\n", h->nr_vms);
	for (int i = 0; i < h->nr_vms; i++) {
		const struct vm *vm = &h->vms[i];
		u64 total = 0;

		for (u32 r = 0; r < EXIT_REASON_MAX; r++)
			total += vm->exits[r];
		printk("uhv: vm %s: %s; %llu exits in %llu time slices\n", vm->name,
		       vm->why, (unsigned long long)total,
		       (unsigned long long)vm->vcpu.slices);
		for (u32 r = 0; r < EXIT_REASON_MAX; r++)
			if (vm->exits[r])
				printk("uhv:   %-20s %llu\n", exit_reason_name(r),
				       (unsigned long long)vm->exits[r]);
		printk("uhv:   unclaimed port reads/writes %llu/%llu, mmio %llu/%llu\n",
		       (unsigned long long)vm->pio.unclaimed_reads,
		       (unsigned long long)vm->pio.unclaimed_writes,
		       (unsigned long long)vm->mmio.unclaimed_reads,
		       (unsigned long long)vm->mmio.unclaimed_writes);
	}
	for (int i = 0; i < h->nr_vms; i++) {
		const struct vm *vm = &h->vms[i];

		printk("uhv: result %s %s %u\n", vm->name, vm_result_name(vm->result),
		       vm->result == VM_EXITED ? vm->exit_status : 0);
	}
}
