/* A VM's disks on its PCI bus (vm_disks.c). */
#ifndef UHV_VMM_VM_DISKS_H
#define UHV_VMM_VM_DISKS_H

#include "vmm/vm.h"
#include "vmm/bootinfo.h"
#include "drivers/blkdev.h"

struct uhv;

/* uhv's own disks (drivers/), probed at boot if a VM names one. */
struct host_disks {
	struct blkdev dev[BLKDEV_MAX];
	int nr;
};

/* Puts the VM's disks on its PCI bus; -1 if one is bad. */
int vm_add_disks(struct uhv *h, struct vm *vm, const struct boot_vm *b);

#endif
