/*
 * Building and wiring one VM's platform (see platform.h). The device
 * models are pure; this file gives them a clock (the TSC), connects their
 * interrupt outputs and registers them on the VM's buses.
 */
#include "platform.h"
#include "acpi.h"
#include "vm.h"
#include "../arch/x86/cpu.h"
#include "../drivers/console.h"

#define GUEST_ERROR_LOG_LIMIT 8

static u64 tsc_now(void *ctx)
{
	(void)ctx;
	return rdtsc();
}

/* Bad guest programming is logged (a few times per VM), never fatal. */
static void guest_error(void *ctx, const char *what, u32 value)
{
	struct vm *vm = ctx;

	if (vm->guest_errors++ < GUEST_ERROR_LOG_LIMIT)
		printk("uhv: vm %s: %s (0x%x); ignored as hardware would\n",
		       vm->name, what, value);
}

static void lapic_eoi_level(void *ctx, u8 vector)
{
	struct vm *vm = ctx;

	ioapic_eoi(&vm->plat.ioapic, vector);
}

static void lapic_ipi(void *ctx, u32 icr_lo, u32 dest)
{
	(void)icr_lo;
	/* one vCPU per VM: an IPI for anyone else has no receiver */
	guest_error(ctx, "IPI to a vCPU this VM does not have, APIC id", dest);
}

static const struct lapic_ops lapic_ops = {
	tsc_now, lapic_eoi_level, lapic_ipi, guest_error,
};

static void ioapic_deliver(void *ctx, u8 vector, bool level, u8 dest)
{
	struct vm *vm = ctx;

	(void)dest;         /* every destination is the one vCPU */
	lapic_accept(&vm->plat.lapic, vector, level);
	vm->vcpu.irq_dirty = true;
}

static const struct ioapic_ops ioapic_ops = { ioapic_deliver, guest_error };

static void pit_irq0(void *ctx)
{
	struct vm *vm = ctx;

	/* ISA interrupts are edges: a pulse on the pin */
	ioapic_set_irq(&vm->plat.ioapic, PIT_IRQ_PIN, true);
	ioapic_set_irq(&vm->plat.ioapic, PIT_IRQ_PIN, false);
}

static const struct pit_ops pit_ops = { tsc_now, pit_irq0 };

static void pm_poweroff(void *ctx)
{
	vm_stop(ctx, VM_POWEROFF, "powered off through ACPI (S5)");
}

static void pm_sleep_unsupported(void *ctx, unsigned typ)
{
	guest_error(ctx, "ACPI sleep state not supported, SLP_TYP", typ);
}

static const struct acpi_pm_ops pm_ops = {
	tsc_now, pm_poweroff, pm_sleep_unsupported,
};

void platform_uart_irq(void *ctx, bool level)
{
	struct vm *vm = ctx;

	ioapic_set_irq(&vm->plat.ioapic, UART_IRQ, level);
}

/* Port devices: name, base, length, handlers, state. */
static int add_ports(struct vm *vm)
{
	struct platform *p = &vm->plat;
	const struct bus_device devs[] = {
		{ "pic-master", PIC_MASTER_PORT, PIC_PORT_LEN, pic_read, pic_write, &p->pic.chip[0], 0 },
		{ "pic-slave", PIC_SLAVE_PORT, PIC_PORT_LEN, pic_read, pic_write, &p->pic.chip[1], 0 },
		{ "pic-elcr", PIC_ELCR_PORT, PIC_ELCR_LEN, pic_elcr_read, pic_elcr_write, &p->pic, 0 },
		{ "pit", PIT_PORT_BASE, PIT_PORT_LEN, pit_read, pit_write, &p->pit, 0 },
		{ "pit-gate", PIT_GATE_PORT, 1, pit_gate_read, pit_gate_write, &p->pit, 0 },
		{ "rtc", RTC_PORT_BASE, RTC_PORT_LEN, rtc_read, rtc_write, &p->rtc, 0 },
		{ "acpi-pm", PM_PORT_BASE, ACPI_PM_PORT_LEN, acpi_pm_read, acpi_pm_write, &p->pm, 0 },
		{ "pci-addr", PCI_ADDR_PORT, 4, pci_addr_read, pci_addr_write, &p->pci, 0 },
		{ "pci-data", PCI_DATA_PORT, 4, pci_data_read, pci_data_write, &p->pci, 0 },
	};
	int r = 0;

	for (size_t i = 0; i < ARRAY_SIZE(devs); i++)
		r |= bus_register(&vm->pio, &devs[i]);
	return r;
}

static int add_mmio(struct vm *vm)
{
	struct platform *p = &vm->plat;
	struct bus_device lapic = { "lapic", LAPIC_MMIO_BASE, LAPIC_MMIO_SIZE,
				    lapic_mmio_read, lapic_mmio_write, &p->lapic, 0 };
	struct bus_device ioapic = { "ioapic", IOAPIC_MMIO_BASE, IOAPIC_MMIO_SIZE,
				     ioapic_mmio_read, ioapic_mmio_write, &p->ioapic, 0 };

	return bus_register(&vm->mmio, &lapic) | bus_register(&vm->mmio, &ioapic);
}

int platform_init(struct vm *vm, u64 tsc_hz, u64 boot_epoch, u64 boot_tsc)
{
	struct platform *p = &vm->plat;
	struct acpi_config acpi = {
		.nr_cpus = 1, .ram_size = vm->mem.size, .pm_base = PM_PORT_BASE,
		.sci_irq = SCI_IRQ, .ioapic_base = IOAPIC_MMIO_BASE,
		.ioapic_gsi_base = 0, .lapic_base = LAPIC_MMIO_BASE,
	};

	lapic_init(&p->lapic, 0, &lapic_ops, vm);
	ioapic_init(&p->ioapic, &ioapic_ops, vm);
	pic_init(&p->pic);
	pit_init(&p->pit, tsc_hz, &pit_ops, vm);
	rtc_init(&p->rtc, boot_epoch, boot_tsc, tsc_hz, tsc_now, vm);
	pci_init(&p->pci);
	if (acpi_pm_init(&p->pm, &pm_ops, vm, tsc_hz) ||
	    acpi_build(&vm->mem, ACPI_TABLES_GPA, &acpi, &p->rsdp))
		return -1;
	return add_ports(vm) | add_mmio(vm);
}

bool platform_poll(struct vm *vm)
{
	lapic_tick(&vm->plat.lapic);
	pit_tick(&vm->plat.pit);
	return lapic_pending(&vm->plat.lapic) >= 0;
}

void platform_inject(struct vm *vm)
{
	struct arch_vcpu *a = &vm->vcpu.arch;
	int vec = lapic_pending(&vm->plat.lapic);

	if (vec < 0) {
		arch_vcpu_irq_window(a, false);
		return;
	}
	if (!arch_vcpu_can_inject(a)) {
		arch_vcpu_irq_window(a, true);   /* exit when IF opens */
		return;
	}
	lapic_ack(&vm->plat.lapic, (u8)vec);
	arch_vcpu_inject_irq(a, (u8)vec);
	arch_vcpu_irq_window(a, false);
	vm->plat.irqs_injected++;
}

u64 platform_next_deadline(const struct vm *vm)
{
	u64 a = lapic_next_deadline(&vm->plat.lapic);
	u64 b = pit_next_deadline(&vm->plat.pit);

	return a < b ? a : b;
}
