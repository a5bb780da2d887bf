/*
 * The hypervisor core's entry point (uhv_entry, the ELF entry of linker.ld)
 * and its main function.
 * Order matters: descriptor tables first (the firmware's live in memory
 * uhv is about to reuse), then the console, the page allocator, VMX, the
 * VMs, and finally the run loop.
 */
#include "vmm/vmm.h"
#include "vmm/ctl/ctl_chan.h"
#include "vmm/net/capture.h"
#include "vmm/host_events.h"
#include "arch/x86/cpu.h"
#include "arch/x86/apic.h"
#include "arch/x86/desc.h"
#include "arch/x86/power.h"
#include "drivers/console.h"
#include "drivers/serial.h"
#include "drivers/blkdev.h"
#include "drivers/netdev.h"
#include "lib/string.h"
#include "vmm/sched.h"
#include "vmm/vm_nics.h"
#include "vmm/focus.h"
#include "vmm/stats.h"
#include "vmm/capture_port.h"
#include "vmm/uplink.h"
#include "vmm/main.h"

u64 core_entry_tsc;
static struct uhv uhv;

/* The core's own stack; the loader's lies in memory uhv gives to VMs. */
#define CORE_STACK_SIZE (64 * 1024)
static u8 core_stack[CORE_STACK_SIZE] __attribute__((aligned(16)));

static void uhv_main(const void *arg);

static u64 alloc_page(void)
{
	return palloc_page(&uhv.pages);
}

/* Does a VM get one of uhv's own disks ("host:NAME")? Only then probe. */
static bool uses_host_disks(const struct uhv_config *c)
{
	for (int i = 0; i < c->nr_vms; i++)
		for (int d = 0; d < c->vms[i].nr_disks; d++)
			if (!strncmp(c->vms[i].disks[d].image, "host:", 5))
				return true;
	return false;
}

/* Finds the disks uhv drives itself and lists them, one line each, so a
   user sees which names "host:NAME" can take (ATA, AHCI, NVMe). */
static void probe_host_disks(struct uhv *h)
{
	h->disks.nr = blkdev_probe(h->disks.dev, BLKDEV_MAX, alloc_page);
	printk("uhv: %d disk(s) of uhv's own\n", h->disks.nr);
	for (int i = 0; i < h->disks.nr; i++)
		printk("uhv:   %s '%s', %llu sectors\n", h->disks.dev[i].name,
		       h->disks.dev[i].model,
		       (unsigned long long)h->disks.dev[i].sectors);
}

static const struct bridge_ops bridge_ops = { capture_port_frame };

static u8 *identity(u64 phys)
{
	return (u8 *)(uintptr_t)phys;
}

static void init_memory(struct uhv *h, const struct boot_info *bi)
{
	palloc_init(&h->pages, identity);
	for (u32 i = 0; i < bi->nr_regions; i++)
		palloc_add(&h->pages, bi->free[i].base, bi->free[i].size);
	palloc_page_ops(&h->page_ops, &h->pages);
	printk("uhv: %llu MiB free for uhv's own use in %u regions\n",
	       (unsigned long long)(h->pages.free_bytes >> 20), bi->nr_regions);
}

/*
 * The configured VMs take the first slots, with the RAM and files the
 * loader prepared; the reserve (config key) seeds the pool that VMs
 * created at run time draw from.
 */
static void init_slots(struct uhv *h, const struct boot_info *bi)
{
	h->bi = bi;
	rampool_init(&h->ram);
	if (bi->reserve_size &&
	    rampool_free(&h->ram, bi->reserve_phys, bi->reserve_size))
		printk("uhv: reserve at 0x%llx is not 2 MiB aligned; unused\n",
		       (unsigned long long)bi->reserve_phys);
	h->nr_vms = bi->config.nr_vms;
	for (int i = 0; i < h->nr_vms; i++) {
		struct vm_slot *s = &h->slots[i];

		s->used = true;
		s->cfg = bi->config.vms[i];
		/* mitigations = off: every VM is trusted */
		s->cfg.trusted |= bi->config.mitigations_off;
		s->files = bi->vms[i];
		s->ram_phys = bi->vms[i].ram_phys;
		/* the loader over-allocated by 2 MiB to align: whole 2 MiB
		   pieces of the VM's memory are certainly its own */
		s->ram_size = ALIGN_DOWN(s->cfg.memory, RAMPOOL_ALIGN);
		s->ram_clean = true;          /* the loader zeroed it */
	}
}

/* APIC virtualization (SDM Vol. 3C ch. 30) where the CPU has it and the
   config does not turn it off: guests' APIC accesses, EOIs and interrupt
   delivery then mostly need no exit. */
static void apicv_init(struct uhv *h, const struct uhv_config *c)
{
	const char *why = c->apicv_off ? "off in uhv.cfg" :
			  !arch_apicv_supported() ? "the CPU lacks it" : NULL;

	if (!why && (h->apicv.access_phys = palloc_page(&h->pages)))
		h->apicv.on = true;
	printk("uhv: APIC virtualization: %s\n", why ? why : h->apicv.on ? "on" :
	       "no memory for its page");
}

/*
 * Where uhv's console goes: the config's console key, else the port the
 * firmware's ACPI SPCR table names (a BMC's serial-over-LAN is often
 * COM2), else COM1. Said on COM1 first, so a user watching COM1 learns
 * where the rest went; a port where no UART answers is said and left.
 */
static void console_select(const struct uhv_config *c, u64 acpi_rsdp)
{
	u16 port = c->console_port;
	u32 baud = c->console_baud;
	const char *from = "uhv.cfg";

	if (!port) {
		if (!arch_host_spcr(acpi_rsdp, &port, &baud))
			return;              /* COM1 at 115200, as the loader left */
		from = "ACPI SPCR";
	}
	if (port == SERIAL_COM1 && baud == SERIAL_BAUD_DEFAULT)
		return;
	printk("uhv: console: moving to port 0x%x at %u baud (%s)\n", port, baud,
	       from);
	if (!serial_console_select(port, baud))
		printk("uhv: console: no UART answers at port 0x%x; the console "
		       "stays on COM1\n", port);
	else
		printk("uhv: console: on port 0x%x at %u baud (%s)\n", port, baud,
		       from);
}

/*
 * The loader jumps here (boot/loader.c) with interrupts off, on uhv's page
 * tables, RDI = struct boot_info * (identity mapped), still on the loader's
 * stack (identity mapped too; the core is built without SSE, so its
 * alignment does not matter). Note the TSC for the boot-cost figure of
 * make bench, then move to the core's own stack.
 */
__attribute__((section(".text.entry"), noreturn))
void uhv_entry(const struct boot_info *bi)
{
	core_entry_tsc = rdtsc();
	arch_call_on_stack(core_stack + CORE_STACK_SIZE, uhv_main, bi);
}

/* Brings uhv up, then runs the VMs until the end; never returns. */
static void uhv_main(const void *arg)
{
	const struct boot_info *bi = arg;
	u64 vmxon_page;

	desc_init();
	serial_init();
	power_init(bi->efi_runtime);
	printk("\nuhv: hypervisor core running (entry tsc %llu, loader tsc %llu)\n",
	       (unsigned long long)core_entry_tsc,
	       (unsigned long long)bi->loader_tsc);
	if (bi->magic != BOOTINFO_MAGIC)
		power_off("bad boot information from the loader");
	console_select(&bi->config, bi->acpi_rsdp);
	arch_host_irq_init(bi->acpi_rsdp);
	init_memory(&uhv, bi);
	if (bi->config.selftest == SELFTEST_STORAGE ||
	    bi->config.selftest == SELFTEST_STORAGE_VERIFY) {
		int r = storage_selftest(bi->config.selftest == SELFTEST_STORAGE_VERIFY,
					 alloc_page);

		power_off(r ? "storage selftest FAILED" : "storage selftest passed");
	}
	if (bi->config.selftest == SELFTEST_NET)
		power_off(net_selftest(alloc_page, bi->tsc_hz) ?
			  "net selftest FAILED" : "net selftest passed");
	vmxon_page = palloc_page(&uhv.pages);
	if (!vmxon_page || arch_vmx_enable(vmxon_page))
		power_off("VMXON failed");
	printk("uhv: VMX on; %u CPU(s) found, uhv uses the first\n", bi->nr_cpus);
	if (bi->config.selftest == SELFTEST_EXCEPTION) {
		printk("uhv: selftest: executing UD2 in the hypervisor\n");
		__asm__ volatile("ud2");
	}
	if (bi->config.selftest == SELFTEST_NMI)
		nmi_selftest_start();
	if (uses_host_disks(&bi->config))
		probe_host_disks(&uhv);
	bridge_init(&uhv.bridge, &bridge_ops, &uhv, bi->tsc_hz);
	uhv.tsc_hz = bi->tsc_hz;
	if (host_if_init(&uhv, &bi->config))
		printk("uhv: could not put uhv's address on network %s\n",
		       bi->config.host_net);
	uhv.sched.timeslice = bi->config.timeslice;
	apicv_init(&uhv, &bi->config);
	uhv.tsc_hz = bi->tsc_hz;
	uhv.boot_epoch = bi->boot_epoch;
	uhv.boot_tsc = bi->boot_tsc;
	uhv.stats.every = bi->config.stats_seconds * bi->tsc_hz;
	uhv.stats.last = rdtsc();
	uhv.stats.next = uhv.stats.last + uhv.stats.every;
	init_slots(&uhv, bi);
	if (bi->config.control && !ctl_chan_init(&uhv))
		printk("uhv: control: no UART at COM2; no control channel\n");
	else if (bi->config.control)
		printk("uhv: control channel on COM2 (docs/protocol.md); %llu "
		       "MiB reserved for VMs created at run time, %u image(s)\n",
		       (unsigned long long)(bi->reserve_size >> 20), bi->nr_files);
	for (int i = 0; i < uhv.nr_vms; i++)
		vm_build(&uhv, i);
	uplink_init(&uhv, &bi->config);
	capture_port_init(&uhv, &bi->config);
	focus_init(&uhv);
	printk("uhv: running %d VM(s), time slice %llu TSC ticks; console keys: "
	       "Ctrl-A n / 1-8 (focus), Ctrl-A s (stats); focus: %s\n",
	       uhv.nr_vms, (unsigned long long)uhv.sched.timeslice, focus_name(&uhv));
	sched_run(&uhv);
	stats_summary(&uhv);
	host_if_summary(&uhv, &bi->config);
	uplink_summary();
	nmi_summary();
	capture_port_flush();
	ctl_chan_flush();
	power_off(uhv.sched.shutdown ? "shut down by the control channel" :
		  "all VMs stopped");
}
