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

/* The VM manager behind the control protocol (manager.c). */
extern const struct ctl_ops vm_manager_ops;

/* What an exit handler tells the run loop. */
enum exit_action {
	EXIT_RESUME,             /* re-enter the same vCPU */
	EXIT_YIELD,              /* its slice is over, or it halted or stopped */
};

/* Builds VM id from its slot and makes it runnable (vm.c); a VM that
   cannot start is left stopped with its reason. */
void vm_build(struct uhv *h, int id);
/* Frees what vm_build made: vCPUs, EPT, bridge ports (vm.c). */
void vm_teardown(struct uhv *h, struct vm *vm);
/* Recomputes the scheduler's vCPU list after VMs come or go (sched.c). */
void sched_rebuild(struct uhv *h);
/* Puts a virtio device on the VM's PCI bus at slot (vm_virtio.c). */
int vm_virtio_add(struct vm *vm, struct vm_virtio *d, unsigned slot,
		  const struct virtio_device_ops *ops, void *dev,
		  const char *label);
/* Runs the queues whose notifications the VM's virtio devices deferred
   (struct virtio_device_ops.deferred_queues); exit_dispatch calls it at
   each exit of the VM while any wait (vm_virtio.c). */
void vm_virtio_run_deferred(struct vm *vm);
/* uhv's own address on a network, from the config (vm_nics.c). */
int host_if_init(struct uhv *h, const struct uhv_config *c);
/* Puts the VM's NICs on its PCI bus and their networks (vm_nics.c). */
int vm_add_nics(struct uhv *h, struct vm *vm);
/* Prints the VM's NICs' features and counters, drops by cause, for the
   summary (vm_nics.c). */
void vm_nics_summary(const struct vm *vm);
/* Puts the VM's agent channel on its PCI bus if its config asks
   (vm_agent.c); its counters for the summary. */
int vm_add_agent(struct uhv *h, struct vm *vm);
void vm_agent_summary(const struct vm *vm);
/* Takes the VM's NICs off the bridge (vm_nics.c). */
void vm_remove_nics(struct uhv *h, struct vm *vm);
/* Puts the VM's disks on its PCI bus (vm_disks.c); -1 if one is bad. */
int vm_add_disks(struct uhv *h, struct vm *vm, const struct boot_vm *b);
/* Handles one exit of the struct vcpu ctx (exit.c): an arch_exit_fn. */
int exit_dispatch(void *vcpu, const struct arch_exit *e);
const char *exit_reason_name(u32 reason);
/* Interrupt work with v loaded (sched.c): fire due timers, inject, re-arm
   the preemption timer. Handlers that may change interrupt state call
   vcpu_resume() instead of returning EXIT_RESUME. */
void vcpu_service(struct vcpu *v);
static inline enum exit_action vcpu_resume(struct vcpu *v)
{
	if (v->irq_dirty)
		vcpu_service(v);
	return EXIT_RESUME;
}
/* The guest agent channel of a VM (vm_agent.c): is an agent connected;
   queue a request to it (CTL_E_STATE with msg if none is connected);
   heartbeat timeouts, called from the run loop for every running VM. */
bool vm_agent_connected(const struct vm *vm);
enum ctl_code vm_agent_request(struct vm *vm, u64 id, const char *data,
			       size_t len, char *msg);
void vm_agent_tick(struct vm *vm, u64 now);
/* Stop deadlines and agent heartbeats (manager.c), from the run loop. */
void vmm_tick(struct uhv *h, u64 now);
/* Runs every VM until all have stopped (sched.c). */
void vmm_run(struct uhv *h);
/* Console input (focus.c): polls uhv's console and feeds the focused VM;
   true if any byte arrived. */
bool focus_poll(struct uhv *h);
void focus_deliver(struct uhv *h, u8 byte);
/* Gives the focus to the first running VM (focus.c): not to one whose
   image failed to load. Called once the VMs are built. */
void focus_init(struct uhv *h);
/* The focused VM's name, or "none" if it does not run. */
const char *focus_name(const struct uhv *h);
/* Prints each VM's exits per second by reason since the last call. */
void vmm_stats(struct uhv *h, bool all);
/* Prints each VM's status and exits by reason, then "uhv: result" lines. */
void vmm_summary(const struct uhv *h);

#endif
