/*
 * A VM: its RAM (behind struct gmem), its EPT, one vCPU, its devices on a
 * port bus and an MMIO bus, and what it has done (exits by reason).
 */
#ifndef UHV_VMM_VM_H
#define UHV_VMM_VM_H

#include "vmm/dev/bus.h"
#include "vmm/config.h"
#include "vmm/dev/fwcfg.h"
#include "vmm/gmem.h"
#include "vmm/platform.h"
#include "vmm/virtio/virtio.h"
#include "vmm/virtio/virtio_blk.h"
#include "vmm/virtio/virtio_net.h"
#include "vmm/virtio/virtio_console.h"
#include "vmm/ctl/agent.h"
#include "vmm/net/netif.h"
#include "vmm/trace/exit_trace.h"
#include "vmm/blk_host.h"
#include "vmm/dev/uart.h"
#include "arch/x86/pgtable.h"
#include "arch/x86/vcpu.h"

#define DEBUG_EXIT_PORT 0xf4
#define DEBUG_EXIT_LEN  4
#define MARK_PORT       0x520     /* uhv's timestamp port (see vm.c) */
#define CPUID_CACHE_LEAVES 0x17   /* basic leaves 0..0x16 */

/*
 * A loader's message (linux.c, multiboot.c) with its NUL: the longest,
 * with the largest numbers a header can hold, is about 130 characters
 * (tests/unit/test_vm_load.c checks each). vm_build stops a VM that
 * cannot load with VM_BAD_IMAGE_FMT (its image name, up to 63
 * characters, and the message), which VM_WHY_MAX holds whole.
 */
#define VM_LOAD_ERR_MAX  160
#define VM_BAD_IMAGE_FMT "bad image '%s': %s"
#define VM_WHY_MAX       256


enum vcpu_state { VCPU_RUNNABLE, VCPU_HALTED, VCPU_WAIT_SIPI, VCPU_STOPPED };

/* How a VM ended, as the summary's "uhv: result" line reports it. */
enum vm_result { VM_RUNNING, VM_EXITED, VM_TRIPLE_FAULT, VM_HALTED, VM_ERROR,
		 VM_POWEROFF, VM_KILLED };

struct vm;

#define VM_MAX_VCPUS 4
/* virtio devices a VM can have: disks, NICs, the agent's console */
#define VM_MAX_VIRTIO (CFG_MAX_DISKS + CFG_MAX_NICS + 1)

struct vcpu {
	struct arch_vcpu arch;
	struct vm *vm;
	int id;                  /* also its APIC id */
	struct lapic lapic;
	u64 apic_phys;           /* the lapic's registers: a page of its own */
	int pending_sipi;        /* vector of a SIPI to start from, or -1 */
	u64 misc_enable;         /* its IA32_MISC_ENABLE (msr.c) */
	u64 tsc_offset;          /* its TSC less the host's: its IA32_TSC_ADJUST */
	enum vcpu_state state;
	bool irq_dirty;          /* interrupt state may have changed */
	bool halt_if;            /* RFLAGS.IF when it halted: can it wake? */
	bool halt_nmi;           /* ... and not in its NMI handler: an NMI wakes it */
	bool nmi_handler;        /* an NMI was injected, its IRET not yet seen */
	u64 slice_end;           /* TSC when its time slice ends */
	u64 slices;              /* time slices it was given */
	bool dbg_stepping;       /* gdb: runs one instruction (vm_gdb.c) */
	bool dbg_dirty;          /* gdb: apply its intercepts before entry */
};

/* A virtio device of a VM: its transport and the VM's side of it (vm_virtio.c). */
struct vm_virtio {
	struct vm *vm;
	const char *label;           /* for messages */
	struct virtio_pci vp;
	struct bus_device *mmio;     /* its BAR on the VM's MMIO bus */
	unsigned irq;                /* INTx pin, if MSI-X is off */
	u64 logged;
	u64 device_ticks;            /* TSC ticks spent in the device model */
	bool deferred;               /* in its VM's deferred list */
};

/* A virtio-blk disk of a VM (vm_disks.c). */
struct vm_disk {
	struct vm *vm;
	const struct disk_config *cfg;
	struct blk_mem store;        /* the image, in memory, or */
	struct blk_host host;        /* a disk uhv drives itself */
	struct virtio_blk blk;
	struct vm_virtio dev;
};

/* A virtio-net NIC of a VM on a bridge network (vm_nics.c). */
struct vm_nic {
	struct vm *vm;
	const struct net_config *cfg;
	u8 mac[ETH_ALEN];
	struct bridge *bridge;
	int port;                    /* its bridge port */
	struct netif *host;          /* uhv's own address, answers to flush */
	u32 drops_logged;            /* bridge drop causes logged (a bit each) */
	struct virtio_net net;
	struct vm_virtio dev;
};

/* The guest agent channel of a VM (vm_agent.c): a virtio-console port
   carrying the agent line protocol. */
struct vm_agent {
	bool on;                     /* config: agent = on */
	struct agent agent;
	struct virtio_console con;
	struct vm_virtio dev;
};

struct vm {
	int id;
	bool built;              /* vm_build ran: it is running or stopped */
	bool paused;             /* control channel: no time slices */
	bool dbg_stopped;        /* gdb stopped it: no slices but a step's */
	struct vm_gdb *gdb;      /* its debugger session, or NULL */
	bool stopping;           /* control channel: asked to power off ... */
	u64 stop_deadline;       /* ... and stopped outright at this TSC */
	u64 cpu_ticks;           /* TSC ticks its vCPUs ran (slices) */
	const struct vm_config *cfg;
	const char *name;
	struct gmem mem;
	struct pt_root ept;
	struct vcpu vcpus[VM_MAX_VCPUS];
	int nr_vcpus;
	struct vcpu *current;    /* the vCPU running now (xAPIC MMIO goes to it) */
	struct bus pio, mmio;
	struct uart uart;
	struct fwcfg fwcfg;
	struct platform plat;
	struct vm_disk disks[CFG_MAX_DISKS];
	struct vm_nic nics[CFG_MAX_NICS];
	struct vm_agent agent;
	/* virtio devices with a queue notification deferred, run at the
	   VM's next exit (vm_virtio_run_deferred); each at most once */
	struct vm_virtio *deferred[VM_MAX_VIRTIO];
	int nr_deferred;
	u64 tsc_hz;              /* the TSC rate the guest is told */
	u64 marks;
	u64 guest_errors;        /* bad device programming, logged a few times */
	enum vm_result result;
	u32 exit_status;         /* debug-exit status, (v << 1) | 1 */
	u32 cpuid_cache[CPUID_CACHE_LEAVES][4];   /* see cpu_exits.c */
	u64 exits[EXIT_REASON_MAX];
	u64 exits_seen[EXIT_REASON_MAX];   /* at the last stats line */
	u64 msr_refused;         /* RDMSR/WRMSR answered with #GP */
	struct trace trace;      /* its recent exits, while cfg->trace is on
				    (vm_trace.c); emptied at each start */
	char why[VM_WHY_MAX];    /* the stop reason, for the summary */
};

/* Stops vm with result r; prints "uhv: vm NAME stopped: <why>". */
void vm_stop(struct vm *vm, enum vm_result r, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
const char *vm_result_name(enum vm_result r);

/*
 * APIC virtualization, in struct uhv: on unless the CPU lacks it or the
 * config says apicv = off. Every VM's EPT maps the access page at the
 * xAPIC address; the CPU turns accesses there into virtual-APIC page
 * accesses, so it is never read (SDM Vol. 3C §30.4).
 */
struct vm_apicv {
	bool on;
	u64 access_phys;
};

struct uhv;
/* Builds VM id from its slot and makes it runnable; a VM that cannot
   start is left stopped with its reason. */
void vm_build(struct uhv *h, int id);
/* Frees what vm_build made: vCPUs, EPT, bridge ports. */
void vm_teardown(struct uhv *h, struct vm *vm);

#endif
