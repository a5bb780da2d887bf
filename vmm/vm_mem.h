/*
 * What a VM costs in host memory (vm_mem.c): its guest RAM, its EPT's
 * tables, and uhv's own memory for it beyond both, which issue 20's
 * target bounds (256 KiB or less; Firecracker's VMM: 5 MiB or less):
 *   - struct vm, sized for the most a VM may have (VM_MAX_VCPUS vCPUs,
 *     CFG_MAX_DISKS disks, CFG_MAX_NICS NICs, the agent's channel),
 *     whether its config uses them or not;
 *   - its slot (struct vm_slot: the config, where its files are);
 *   - per vCPU, three pages: the VMCS, the FPU/XSAVE area and the local
 *     APIC's register page (also the virtual-APIC page);
 *   - its exit trace ring (vm_trace.c), one per slot.
 * Its files kept in memory whole for restarts (image, initrd, disk
 * images) are reported beside it, not in it: they are the VM's data.
 * Printed once per start, after vm_build built it (the EPT maps all of
 * its RAM then, and it does not grow while the VM runs):
 *   uhv: vm NAME: memory: guest 16 MiB, EPT 24 KiB (6 tables), uhv 107 KiB
 *   (struct vm 83 KiB: NICs 47, agent 16, disks 14; slot 1 KiB; vCPU
 *   pages 12 KiB (1 vCPU(s)); exit trace 8 KiB); files 12 KiB
 * (one line; tools/bench.sh reads it).
 */
#ifndef UHV_VMM_VM_MEM_H
#define UHV_VMM_VM_MEM_H

#include "vmm/vm.h"

struct uhv;

/* Host memory one VM uses, in bytes (see above). uhv is the sum of vm,
   slot, vcpu_pages and trace. */
struct vm_mem_use {
	u64 guest;           /* guest RAM */
	u64 ept;             /* EPT table pages */
	u64 ept_tables;      /* ... how many */
	u64 vm;              /* struct vm ... */
	u64 vm_nics;         /* ... of which its NICs, */
	u64 vm_agent;        /* its agent channel */
	u64 vm_disks;        /* and its disks */
	u64 slot;            /* struct vm_slot */
	u64 vcpu_pages;      /* VMCS, FPU area, APIC page of each vCPU */
	int vcpus;           /* vCPUs with those pages */
	u64 trace;           /* its exit trace ring */
	u64 uhv;             /* uhv's own: vm + slot + vcpu_pages + trace */
	u64 files;           /* image, initrd and disk images in memory */
};

/* What VM id of h uses now. */
void vm_mem_use(const struct uhv *h, int id, struct vm_mem_use *u);
/* Prints VM id's memory line (above). */
void vm_mem_print(const struct uhv *h, int id);

#endif
