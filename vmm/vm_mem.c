/*
 * Host memory per VM (vm_mem.h): counted from what vm_build allocated and
 * from the sizes of the static state each VM slot has.
 */
#include "vmm/vm_mem.h"
#include "vmm/vmm.h"
#include "vmm/trace/exit_trace.h"
#include "drivers/console.h"

/* Pages each vCPU has besides its struct vcpu (vm.c's create_vcpu). */
static u64 vcpu_pages(const struct vcpu *v)
{
	return (v->arch.vmcs_phys ? PAGE_SIZE : 0) +
	       (v->arch.fpu_phys ? PAGE_SIZE : 0) +
	       (v->apic_phys ? PAGE_SIZE : 0);
}

/* The image, initrd and disk images the loader keeps for the slot. */
static u64 slot_files(const struct vm_slot *s)
{
	u64 n = s->files.image_size + s->files.initrd_size;

	for (int d = 0; d < CFG_MAX_DISKS; d++)
		n += s->files.disk_size[d];
	return n;
}

void vm_mem_use(const struct uhv *h, int id, struct vm_mem_use *u)
{
	const struct vm *vm = &h->vms[id];

	*u = (struct vm_mem_use){
		.guest = vm->mem.size,
		.ept_tables = vm->ept.tables,
		.ept = (u64)vm->ept.tables * PAGE_SIZE,
		.vm = sizeof(*vm),
		.vm_nics = sizeof(vm->nics),
		.vm_agent = sizeof(vm->agent),
		.vm_disks = sizeof(vm->disks),
		.slot = sizeof(h->slots[id]),
		/* vm_trace.c's ring of the slot */
		.trace = TRACE_RECORDS * sizeof(struct trace_rec),
		.files = slot_files(&h->slots[id]),
	};
	for (int i = 0; i < vm->nr_vcpus; i++) {
		u64 p = vcpu_pages(&vm->vcpus[i]);

		u->vcpu_pages += p;
		u->vcpus += p != 0;
	}
	u->uhv = u->vm + u->slot + u->vcpu_pages + u->trace;
}

/* bytes in KiB, rounded up: no part shows as 0 KiB */
static unsigned long long kib(u64 bytes)
{
	return (unsigned long long)((bytes + KiB(1) - 1) / KiB(1));
}

void vm_mem_print(const struct uhv *h, int id)
{
	struct vm_mem_use u;

	vm_mem_use(h, id, &u);
	printk("uhv: vm %s: memory: guest %llu MiB, EPT %llu KiB (%llu tables), "
	       "uhv %llu KiB (struct vm %llu KiB: NICs %llu, agent %llu, "
	       "disks %llu; slot %llu KiB; vCPU pages %llu KiB (%d vCPU(s)); "
	       "exit trace %llu KiB); files %llu KiB\n", h->vms[id].name,
	       (unsigned long long)(u.guest / MiB(1)), kib(u.ept),
	       (unsigned long long)u.ept_tables, kib(u.uhv), kib(u.vm),
	       kib(u.vm_nics), kib(u.vm_agent), kib(u.vm_disks), kib(u.slot),
	       kib(u.vcpu_pages), u.vcpus, kib(u.trace), kib(u.files));
}
