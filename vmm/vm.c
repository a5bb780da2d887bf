/*
 * Creating VMs from the configuration, and stopping them. Anything wrong
 * with one VM (its image, its memory) stops that VM alone, with a message
 * naming it; the others are unaffected.
 */
#include <stdarg.h>

#include "vmm/vmm.h"
#include "vmm/exit_handlers.h"
#include "vmm/linux.h"
#include "vmm/multiboot.h"
#include "vmm/ctl/ctl_chan.h"
#include "vmm/vm_console.h"
#include "vmm/cpuid_policy.h"
#include "lib/string.h"
#include "arch/x86/ept.h"
#include "drivers/console.h"
#include "lib/fmt.h"
#include "arch/x86/cpu.h"
#include "vmm/sched.h"
#include "vmm/exit.h"
#include "vmm/vm_nics.h"
#include "vmm/vm_agent.h"
#include "vmm/vm_disks.h"
#include "vmm/main.h"
#include "vmm/vm_trace.h"
#include "vmm/vm_mem.h"
#include "vmm/vm_gdb.h"

static const char *const result_names[] = {
	[VM_RUNNING] = "running", [VM_EXITED] = "exit",
	[VM_TRIPLE_FAULT] = "triple-fault", [VM_HALTED] = "halted",
	[VM_ERROR] = "error", [VM_POWEROFF] = "poweroff", [VM_KILLED] = "killed",
};

const char *vm_result_name(enum vm_result r)
{
	return result_names[r];
}

void vm_stop(struct vm *vm, enum vm_result r, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	fmt_vsn(vm->why, sizeof(vm->why), fmt, ap);
	va_end(ap);
	uart_flush(&vm->uart);
	vm->result = r;
	vm->stopping = false;
	vm->paused = false;
	for (int i = 0; i < VM_MAX_VCPUS; i++)
		vm->vcpus[i].state = VCPU_STOPPED;
	printk("uhv: vm %s stopped: %s\n", vm->name, vm->why);
	if (r == VM_TRIPLE_FAULT)
		ctl_chan_guest_panicked(vm, vm->why);
	vm_gdb_vm_stopped(vm);   /* gdb's W packet before vm_stopped ends uhvctl's relay */
	ctl_chan_vm_stopped(vm);
}

/* Guest console output: "[NAME] text" on uhv's console (vm_console.c). */
static void uart_emit(void *ctx, const char *line, unsigned len)
{
	struct vm *vm = ctx;

	vm_console_line(&vm->uart, vm->name, line, len);
}

static void uart_partial(void *ctx, const char *line, unsigned len)
{
	struct vm *vm = ctx;

	vm_console_partial(&vm->uart, vm->name, line, len);
}

/* The isa-debug-exit device: a write of v stops the VM, status 2v+1. */
static void debug_exit_write(void *dev, u64 off, unsigned size, u64 val)
{
	struct vm *vm = dev;

	(void)off;
	(void)size;
	vm->exit_status = (u32)(val << 1) | 1;
	vm_stop(vm, VM_EXITED, "debug exit, status %u", vm->exit_status);
}

/*
 * The mark port: a guest writes a byte to have uhv print the time (TSC,
 * and instructions since uhv's entry under Bochs) and its exit counts,
 * so benchmarks can time stretches of guest work from inside the guest
 * (even from a shell: dd to /dev/port).
 */
#define MARK_LOG_LIMIT 64

static void mark_write(void *dev, u64 off, unsigned size, u64 val)
{
	struct vm *vm = dev;
	u64 total = 0;

	(void)off;
	(void)size;
	if (vm->marks++ >= MARK_LOG_LIMIT)
		return;
	for (u32 r = 0; r < EXIT_REASON_MAX; r++)
		total += vm->exits[r];
	printk("uhv: vm %s mark %llu: tsc %llu, %llu since uhv's entry, %llu exits",
	       vm->name, (unsigned long long)val, (unsigned long long)rdtsc(),
	       (unsigned long long)(rdtsc() - core_entry_tsc),
	       (unsigned long long)total);
	for (u32 r = 0; r < EXIT_REASON_MAX; r++)
		if (vm->exits[r])
			printk(", %s %llu", exit_reason_name(r),
			       (unsigned long long)vm->exits[r]);
	printk("\n");
}

static int add_devices(struct vm *vm, u32 nr_cpus)
{
	struct bus_device uart = { "uart", UART_PORT_BASE, UART_PORT_LEN,
				   uart_read, uart_write, &vm->uart, 0 };
	struct bus_device dbg = { "debug-exit", DEBUG_EXIT_PORT, DEBUG_EXIT_LEN,
				  NULL, debug_exit_write, vm, 0 };
	struct bus_device fw = { "fw_cfg", FWCFG_PORT_BASE, FWCFG_PORT_LEN,
				 fwcfg_read, fwcfg_write, &vm->fwcfg, 0 };
	struct bus_device mark = { "mark", MARK_PORT, 1, NULL, mark_write, vm, 0 };

	vm->pio.name = "port";
	vm->mmio.name = "mmio";
	uart_init(&vm->uart, uart_emit, platform_uart_irq, vm);
	vm->uart.partial = uart_partial;
	vm->fwcfg.ram_size = vm->mem.size;
	vm->fwcfg.nr_cpus = (u16)nr_cpus;
	return bus_register(&vm->pio, &uart) | bus_register(&vm->pio, &dbg) |
	       bus_register(&vm->pio, &fw) | bus_register(&vm->pio, &mark);
}

/*
 * A VPID for a new vCPU: never 0, which is the host's (SDM Vol. 3C
 * §26.2.1.1). After 65,535 vCPUs they are reused; a torn-down VM's
 * cached translations are gone by then (vm_teardown's INVEPT drops the
 * mappings of its EPT, combined ones included, §29.4.3.1).
 */
static u16 next_vpid(struct uhv *h)
{
	if (++h->last_vpid == 0)
		h->last_vpid = 1;
	return h->last_vpid;
}

/*
 * One vCPU: its VMCS, FPU area and local APIC, whose register page is
 * the virtual-APIC page when the CPU virtualizes the APIC. APs wait for
 * a SIPI.
 */
static int create_vcpu(struct uhv *h, struct vm *vm, int id)
{
	struct vcpu *v = &vm->vcpus[id];
	u64 vmcs = palloc_page(&h->pages), fpu = palloc_page(&h->pages);
	u64 apic = palloc_page(&h->pages);

	v->vm = vm;
	v->id = id;
	v->pending_sipi = -1;
	v->misc_enable = CPUID_MISC_ENABLE_RESET;
	v->apic_phys = apic;
	if (!vmcs || !fpu || !apic) {
		vm_stop(vm, VM_ERROR, "out of memory for the VMCS of vCPU %d", id);
		return -1;
	}
	if (arch_vcpu_init(&v->arch, vmcs, fpu, ept_pointer(&vm->ept),
			   next_vpid(h))) {
		vm_stop(vm, VM_ERROR, "VMCS set-up failed (VMCLEAR/VMPTRLD)");
		return -1;
	}
	if (h->apicv.on)
		arch_vcpu_enable_apicv(&v->arch, apic, h->apicv.access_phys);
	/* speculation hygiene as the CPU needs it, unless trusted */
	v->arch.spec = vm->cfg->trusted ? 0 : arch_spec_needed();
	platform_init_vcpu(v, (u32 *)(uintptr_t)apic);
	v->state = id == 0 ? VCPU_RUNNABLE : VCPU_WAIT_SIPI;
	return 0;
}

/* The VM's EPT (its RAM, and the APIC-access page with APIC
   virtualization) and its vCPUs. */
static int create_vcpus(struct uhv *h, struct vm *vm, u64 ram_phys)
{
	if (pt_init(&vm->ept, &h->page_ops) ||
	    ept_map_ram(&vm->ept, 0, ram_phys, vm->mem.size) ||
	    (h->apicv.on && ept_map_ram(&vm->ept, LAPIC_MMIO_BASE,
				     h->apicv.access_phys, LAPIC_MMIO_SIZE))) {
		vm_stop(vm, VM_ERROR, "out of memory for its EPT");
		return -1;
	}
	for (int i = 0; i < vm->nr_vcpus; i++)
		if (create_vcpu(h, vm, i))
			return -1;
	arch_vcpu_select(&vm->vcpus[0].arch);   /* the BSP's VMCS, to set up */
	return 0;
}

/* A Multiboot kernel: 32-bit protected mode at its entry point. */
static int load_multiboot(struct vm *vm, const struct boot_vm *b, char *err,
			  size_t n)
{
	struct mb_entry entry;

	if (multiboot_load(&vm->mem, (const u8 *)(uintptr_t)b->image_phys,
			   b->image_size, vm->cfg->cmdline, &entry, err, n))
		return -1;
	arch_vcpu_reset_protected32(&vm->vcpus[0].arch, entry.eip);
	vm->vcpus[0].arch.regs[GPR_RAX] = entry.eax;
	vm->vcpus[0].arch.regs[GPR_RBX] = entry.ebx;
	printk("uhv: vm %s: Multiboot kernel, %lluM RAM, entry 0x%x, info 0x%x, "
	       "cmdline '%s'\n", vm->name, (unsigned long long)(vm->mem.size >> 20),
	       entry.eip, entry.ebx, vm->cfg->cmdline);
	return 0;
}

/* A Linux bzImage: the 64-bit boot protocol, as boot.rst describes it. */
static int load_linux(struct vm *vm, const struct boot_vm *b, char *err,
		      size_t n)
{
	struct linux_params p = {
		.kernel = (const u8 *)(uintptr_t)b->image_phys,
		.kernel_size = b->image_size,
		.initrd = (const u8 *)(uintptr_t)b->initrd_phys,
		.initrd_size = b->initrd_size,
		.cmdline = vm->cfg->cmdline,
		.acpi_rsdp = vm->plat.rsdp,
	};
	struct linux_entry e;
	struct arch_long64 s;

	if (linux_load(&vm->mem, &p, &e, err, n))
		return -1;
	s = (struct arch_long64){ e.rip, e.cr3, e.gdt_base, e.gdt_limit,
				  e.cs_sel, e.ds_sel };
	arch_vcpu_reset_long64(&vm->vcpus[0].arch, &s);
	vm->vcpus[0].arch.regs[GPR_RSI] = e.rsi;
	printk("uhv: vm %s: Linux kernel, %lluM RAM, initrd %llu bytes, entry "
	       "0x%llx, cmdline '%s'\n", vm->name,
	       (unsigned long long)(vm->mem.size >> 20),
	       (unsigned long long)b->initrd_size, (unsigned long long)e.rip,
	       vm->cfg->cmdline);
	return 0;
}

/* The whole stop reason of a VM that cannot load fits vm->why: the
   format's text, the longest image name, the longest loader message. */
_Static_assert(sizeof(VM_BAD_IMAGE_FMT) - sizeof("%s%s") + (CFG_PATH_MAX - 1) +
	       VM_LOAD_ERR_MAX <= VM_WHY_MAX, "VM_WHY_MAX is too small");

/* Its devices, then its vCPUs, then its image: 0, or -1 (stopped). */
static int build(struct uhv *h, struct vm *vm, const struct vm_slot *slot)
{
	const struct boot_vm *b = &slot->files;
	const struct vm_config *cfg = vm->cfg;
	bool linux = linux_is_bzimage((const u8 *)(uintptr_t)b->image_phys,
				      b->image_size);
	char err[VM_LOAD_ERR_MAX];

	if (add_devices(vm, (u32)cfg->cpus) ||
	    platform_init(vm, h->tsc_hz, h->boot_epoch, h->boot_tsc)) {
		vm_stop(vm, VM_ERROR, "device set-up failed");
		return -1;
	}
	if (vm_add_disks(h, vm, b) || vm_add_nics(h, vm) || vm_add_agent(h, vm)) {
		if (vm->result == VM_RUNNING)
			vm_stop(vm, VM_ERROR, "disk, NIC or agent set-up failed");
		return -1;
	}
	if (cfg->initrd[0] && !linux) {
		vm_stop(vm, VM_ERROR, "initrd '%s' given, but image '%s' is not "
			"a Linux bzImage", cfg->initrd, cfg->image);
		return -1;
	}
	if (create_vcpus(h, vm, slot->ram_phys))
		return -1;
	cpuid_cache_init(&vm->vcpus[0]);
	if ((linux ? load_linux : load_multiboot)(vm, b, err, sizeof(err))) {
		vm_stop(vm, VM_ERROR, VM_BAD_IMAGE_FMT, cfg->image, err);
		return -1;
	}
	return 0;
}

/*
 * Starts VM id afresh from its slot: a zeroed struct vm and zeroed RAM
 * (a restarted VM must not see its previous run), then build().
 */
void vm_build(struct uhv *h, int id)
{
	struct vm *vm = &h->vms[id];
	struct vm_slot *slot = &h->slots[id];

	/* building loads the new VMCSs (VMPTRLD): the vCPU the run loop
	   last loaded must be put first, or it would resume on another's */
	if (arch_vcpu_loaded())
		arch_vcpu_put(arch_vcpu_loaded());
	memset(vm, 0, sizeof(*vm));
	if (!slot->ram_clean)
		memset((void *)(uintptr_t)slot->ram_phys, 0, slot->cfg.memory);
	slot->ram_clean = false;
	vm->id = id;
	vm->cfg = &slot->cfg;
	vm->name = slot->cfg.name;
	vm->mem.base = (u8 *)(uintptr_t)slot->ram_phys;
	vm->mem.size = slot->cfg.memory;
	vm->result = VM_RUNNING;
	vm->tsc_hz = h->tsc_hz;
	vm->nr_vcpus = slot->cfg.cpus;
	vm->current = &vm->vcpus[0];
	vm->built = true;
	vm_trace_start(vm);
	if (!build(h, vm, slot)) {
		vm_mem_print(h, id);
		ctl_chan_vm_started(vm);
	}
	sched_rebuild(h);
	h->sched.changed = true;
}

/*
 * Undoes vm_build for a VM that is not running (created or stopped): the
 * VMCSs (cleared, so the pages can be reused), the EPT and its cached
 * translations, the bridge ports. RAM and the slot stay: the caller
 * restarts the VM or frees them (destroy).
 */
void vm_teardown(struct uhv *h, struct vm *vm)
{
	if (!vm->built)
		return;
	for (int i = 0; i < vm->nr_vcpus; i++) {
		struct vcpu *v = &vm->vcpus[i];

		if (arch_vcpu_loaded() == &v->arch)
			arch_vcpu_put(&v->arch);
		if (!v->arch.vmcs_phys)
			continue;
		arch_vcpu_destroy(&v->arch);
		palloc_free_page(&h->pages, v->arch.vmcs_phys);
		palloc_free_page(&h->pages, v->arch.fpu_phys);
		if (v->apic_phys)
			palloc_free_page(&h->pages, v->apic_phys);
		v->apic_phys = 0;
	}
	arch_ept_invalidate(ept_pointer(&vm->ept));
	pt_destroy(&vm->ept);
	vm_remove_nics(h, vm);
	vm->built = false;
	vm_gdb_reset(vm);
	sched_rebuild(h);
}
