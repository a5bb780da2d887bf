/* A VM's NICs on the bridge, and uhv's own address (vm_nics.c). */
#ifndef UHV_VMM_VM_NICS_H
#define UHV_VMM_VM_NICS_H

#include "vmm/vm.h"

struct uhv;

/* uhv's own address on a network, from the config. */
int host_if_init(struct uhv *h, const struct uhv_config *c);
/* uhv's address's counters and, with DHCP, its leases (the summary). */
void host_if_summary(const struct uhv *h, const struct uhv_config *c);
/* Puts the VM's NICs on its PCI bus and their networks. */
int vm_add_nics(struct uhv *h, struct vm *vm);
/* Takes the VM's NICs off the bridge. */
void vm_remove_nics(struct uhv *h, struct vm *vm);
/* Prints the VM's NICs' features and counters, drops by cause, for the
   summary. */
void vm_nics_summary(const struct vm *vm);

#endif
