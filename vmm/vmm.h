/*
 * The hypervisor as a whole (struct uhv, one instance, in main.c) and
 * what a VM slot keeps across restarts. Each member of struct uhv is the
 * state of one part, declared and documented in that part's header; this
 * header declares no functions.
 */
#ifndef UHV_VMM_VMM_H
#define UHV_VMM_VMM_H

#include "vmm/palloc.h"
#include "vmm/rampool.h"
#include "vmm/vm.h"
#include "vmm/net/bridge.h"
#include "vmm/net/netif.h"
#include "vmm/net/dhcp_server.h"
#include "vmm/bootinfo.h"
#include "vmm/sched.h"
#include "vmm/focus.h"
#include "vmm/stats.h"
#include "vmm/vm_disks.h"

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
	u16 last_vpid;           /* VPIDs handed out (0 is the host's) */
	struct sched sched;      /* the run loop's state (sched.h) */
	struct host_disks disks; /* uhv's own disks, if used (vm_disks.h) */
	struct bridge bridge;    /* the VMs' networks (host-only) */
	struct netif host_if;    /* uhv's own address, if the config gives one */
	struct dhcp_server dhcp; /* its DHCP server, if the config asks */
	struct focus focus;      /* who gets console input (focus.h) */
	struct stats_clock stats;   /* when stats lines are due (stats.h) */
	struct vm_apicv apicv;   /* APIC virtualization (vm.h) */
	u64 tsc_hz;              /* measured by the loader */
	u64 boot_epoch, boot_tsc;  /* wall clock (s since 1970) at boot_tsc */
};

#endif
