/* A VM's virtio devices on its PCI bus (vm_virtio.c). */
#ifndef UHV_VMM_VM_VIRTIO_H
#define UHV_VMM_VM_VIRTIO_H

#include "vmm/vm.h"

/* Puts a virtio device on the VM's PCI bus at slot. */
int vm_virtio_add(struct vm *vm, struct vm_virtio *d, unsigned slot,
		  const struct virtio_device_ops *ops, void *dev,
		  const char *label);
/* Runs the queues whose notifications the VM's virtio devices deferred
   (struct virtio_device_ops.deferred_queues); exit_dispatch calls it at
   each exit of the VM while any wait. */
void vm_virtio_run_deferred(struct vm *vm);

#endif
