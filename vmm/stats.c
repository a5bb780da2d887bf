/*
 * What uhv tells its user about the VMs: periodic statistics (config key
 * "stats", or Ctrl-A s on the console), exits per second by reason, and
 * the summary when every VM has stopped.
 */
#include "vmm/vmm.h"
#include "vmm/net/capture.h"
#include "arch/x86/cpu.h"
#include "drivers/console.h"
#include "vmm/exit.h"
#include "vmm/vm_nics.h"
#include "vmm/vm_agent.h"
#include "vmm/stats.h"
#include "vmm/capture_port.h"

/* One VM's exits per second by reason since its last stats line. */
static void vm_stats(struct vm *vm, u64 dt, u64 tsc_hz, u64 t_ms)
{
	u64 total = 0;

	for (u32 r = 0; r < EXIT_REASON_MAX; r++)
		total += vm->exits[r] - vm->exits_seen[r];
	printk("uhv: stats t=%llu.%03llus vm %s %s: %llu exits/s",
	       (unsigned long long)(t_ms / 1000), (unsigned long long)(t_ms % 1000),
	       vm->name, vm_result_name(vm->result),
	       (unsigned long long)(total * tsc_hz / dt));
	for (u32 r = 0; r < EXIT_REASON_MAX; r++) {
		u64 d = vm->exits[r] - vm->exits_seen[r];

		if (d)
			printk(", %s %llu/s", exit_reason_name(r),
			       (unsigned long long)(d * tsc_hz / dt));
		vm->exits_seen[r] = vm->exits[r];
	}
	printk("\n");
}

void stats_print(struct uhv *h, bool all)
{
	u64 now = rdtsc(), dt = now - h->stats.last;
	u64 t_ms = h->tsc_hz ? (now - h->boot_tsc) / (h->tsc_hz / 1000) : 0;

	if (!dt || !h->tsc_hz)
		return;
	for (int i = 0; i < h->nr_vms; i++)
		if (h->vms[i].built &&
		    (all || h->vms[i].result == VM_RUNNING))
			vm_stats(&h->vms[i], dt, h->tsc_hz, t_ms);
	h->stats.last = now;
}

/* The capture's counters: what went into the pcap stream and what the
   full ring had to drop (capture.h). */
static void capture_summary(void)
{
	const char *net;
	const struct capture_ring *r = capture_port_stats(&net);

	if (r)
		printk("uhv: capture %s: %llu frames (%llu bytes) in the pcap stream on COM3, "
		       "%llu dropped (ring full)\n", net,
		       (unsigned long long)r->frames, (unsigned long long)r->bytes,
		       (unsigned long long)r->dropped);
}

/* Accesses per device of one bus (each an I/O or EPT-violation exit),
   so a user sees which device the exits of that reason went to. */
static void bus_summary(const struct bus *b)
{
	const char *sep = ": ";

	printk("uhv:   %s accesses", b->name);
	for (int i = 0; i < b->nr; i++)
		if (b->devs[i].accesses) {
			printk("%s%s %llu", sep, b->devs[i].name,
			       (unsigned long long)b->devs[i].accesses);
			sep = ", ";
		}
	printk("%s\n", *sep == ':' ? ": none" : "");
}

/* A VM's first summary line: why it ended, its exits and slices, and,
   where it has any, its return stack fills (each time an exit went back
   to the run loop, never on the fast path: arch/x86/vmx_entry.asm). */
static void summary_headline(const struct vm *vm)
{
	u64 total = 0, slices = 0, fills = 0;

	for (u32 r = 0; r < EXIT_REASON_MAX; r++)
		total += vm->exits[r];
	for (int c = 0; c < vm->nr_vcpus; c++) {
		slices += vm->vcpus[c].slices;
		fills += vm->vcpus[c].arch.rsb_fills;
	}
	if (fills)
		printk("uhv: vm %s: %s; %llu exits in %llu time slices, return "
		       "stack filled %llu times\n", vm->name, vm->why,
		       (unsigned long long)total, (unsigned long long)slices,
		       (unsigned long long)fills);
	else
		printk("uhv: vm %s: %s; %llu exits in %llu time slices\n",
		       vm->name, vm->why, (unsigned long long)total,
		       (unsigned long long)slices);
}

void stats_summary(const struct uhv *h)
{
	int n = 0;

	for (int i = 0; i < h->nr_vms; i++)
		n += h->vms[i].built;
	printk("uhv: summary of %d VM(s)\n", n);
	for (int i = 0; i < h->nr_vms; i++) {
		const struct vm *vm = &h->vms[i];

		if (!vm->built)
			continue;
		summary_headline(vm);
		for (u32 r = 0; r < EXIT_REASON_MAX; r++)
			if (vm->exits[r])
				printk("uhv:   %-20s %llu\n", exit_reason_name(r),
				       (unsigned long long)vm->exits[r]);
		if (vm->plat.nmis_injected || vm->plat.nmis_dropped)
			printk("uhv:   NMIs injected %llu, dropped %llu\n",
			       (unsigned long long)vm->plat.nmis_injected,
			       (unsigned long long)vm->plat.nmis_dropped);
		if (vm->plat.nmi_blocks_cleared)
			printk("uhv:   NMI blockings cleared %llu (the CPU's, "
			       "not the guest's: platform.c)\n",
			       (unsigned long long)vm->plat.nmi_blocks_cleared);
		for (int d = 0; d < vm->cfg->nr_disks && vm->disks[d].vm; d++) {
			const struct vm_disk *k = &vm->disks[d];

			printk("uhv:   disk %s: %llu reads, %llu writes, %llu flushes, "
			       "%llu errors; %llu ticks in the device model\n",
			       k->cfg->image, (unsigned long long)k->blk.reads,
			       (unsigned long long)k->blk.writes,
			       (unsigned long long)k->blk.flushes,
			       (unsigned long long)k->blk.errors,
			       (unsigned long long)k->dev.device_ticks);
		}
		vm_nics_summary(vm);
		vm_agent_summary(vm);
		bus_summary(&vm->pio);
		bus_summary(&vm->mmio);
		printk("uhv:   unclaimed port reads/writes %llu/%llu, mmio %llu/%llu\n",
		       (unsigned long long)vm->pio.unclaimed_reads,
		       (unsigned long long)vm->pio.unclaimed_writes,
		       (unsigned long long)vm->mmio.unclaimed_reads,
		       (unsigned long long)vm->mmio.unclaimed_writes);
	}
	capture_summary();
	for (int i = 0; i < h->nr_vms; i++) {
		const struct vm *vm = &h->vms[i];

		if (!vm->built)
			continue;
		printk("uhv: result %s %s %u\n", vm->name, vm_result_name(vm->result),
		       vm->result == VM_EXITED ? vm->exit_status : 0);
	}
}
