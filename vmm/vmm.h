/*
 * The hypervisor as a whole: its page allocator, its VMs, the scheduler
 * that shares the CPU between them, and the exit dispatcher.
 */
#ifndef UHV_VMM_VMM_H
#define UHV_VMM_VMM_H

#include "vmm/palloc.h"
#include "vmm/rampool.h"
#include "vmm/vm.h"
#include "vmm/net/bridge.h"
#include "vmm/net/netif.h"
#include "vmm/ctl/ctl.h"
#include "vmm/bootinfo.h"
#include "drivers/blkdev.h"

/*
 * A VM slot: what a VM is (its configuration, its files in memory, its
 * RAM), kept across restarts; struct vm is what it is doing, rebuilt from
 * zero each time it starts.
 */
struct vm_slot {
	bool used;
	struct vm_config cfg;
	struct boot_vm files;    /* image, initrd, disk images: loaded at boot */
	u64 ram_phys;            /* cfg.memory bytes, 2 MiB aligned */
	u64 ram_size;            /* what goes back to the pool on destroy */
	bool ram_clean;          /* still zero: nothing has run in it */
};

struct uhv {
	struct palloc pages;
	struct page_ops page_ops;
	struct vm vms[CFG_MAX_VMS];
	struct vm_slot slots[CFG_MAX_VMS];   /* vms[i] runs slots[i] */
	int nr_vms;              /* slots up to the last used one */
	const struct boot_info *bi;   /* the loader's files, for create */
	struct rampool ram;      /* guest RAM for VMs created at run time */
	struct vcpu *loaded;     /* the vCPU whose VMCS is current, or NULL */
	bool sched_changed;      /* a VM was started or resumed: leave idle */
	bool shutdown;           /* the control channel asked uhv to stop */
	struct vcpu *vcpus[CFG_MAX_VMS * VM_MAX_VCPUS];   /* all, for the scheduler */
	int nr_vcpus;
	u16 last_vpid;           /* VPIDs handed out (0 is the host's) */
	struct blkdev host_disks[BLKDEV_MAX];   /* uhv's own disks, if used */
	struct bridge bridge;    /* the VMs' networks (host-only) */
	u64 next_bridge_tick;
	struct netif host_if;    /* uhv's own address, if the config gives one */
	int nr_host_disks;
	u64 timeslice;           /* TSC ticks per slice */
	u64 tsc_hz;              /* measured by the loader */
	int focus;               /* the VM that gets console input */
	bool escape;             /* Ctrl-A seen: the next key is for uhv */
	u64 stats_every;         /* TSC ticks between stats lines, 0: off */
	u64 next_stats;
	u64 stats_tsc;           /* when the last stats were taken */
	u64 boot_epoch, boot_tsc;  /* wall clock (s since 1970) at boot_tsc */
	u64 next_poll;           /* TSC: when the polled ports want service */
	/* APIC virtualization: on unless the CPU lacks it or apicv = off;
	   every VM's EPT maps this page at the xAPIC address (the CPU turns
	   accesses there into virtual-APIC page accesses; it is never read) */
	bool apicv;
	u64 apic_access_phys;
};

#define UHV_VERSION_STRING "0.2"

#endif
