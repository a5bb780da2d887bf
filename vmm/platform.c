/*
 * Building and wiring one VM's platform (see platform.h). The device
 * models are pure; this file gives them a clock (the TSC), connects their
 * interrupt outputs and registers them on the VM's buses.
 */
#include "vmm/platform.h"
#include "vmm/dev/acpi.h"
#include "vmm/vm.h"
#include "arch/x86/cpu.h"
#include "drivers/console.h"

/* The config's RAM limit keeps guest RAM out of the PCI memory window
   that the ACPI tables give the guest's PCI host bridge. */
_Static_assert(ACPI_PCI_MMIO_BASE >= CFG_MEM_MAX,
	       "no guest RAM in the PCI memory window");

#define GUEST_ERROR_LOG_LIMIT 8

static u64 tsc_now(void *ctx)
{
	(void)ctx;
	return rdtsc();
}

u64 platform_vcpu_tsc(const struct vcpu *v)
{
	return rdtsc() + v->tsc_offset;
}

/* The local APIC's clock (ctx: its vCPU). */
static u64 vcpu_tsc_now(void *ctx)
{
	return platform_vcpu_tsc(ctx);
}

/* Bad guest programming is logged (a few times per VM), never fatal. */
static void guest_error(void *ctx, const char *what, u32 value)
{
	struct vm *vm = ctx;

	if (vm->guest_errors++ < GUEST_ERROR_LOG_LIMIT)
		printk("uhv: vm %s: %s (0x%x); ignored as hardware would\n",
		       vm->name, what, value);
}

static void vcpu_error(void *ctx, const char *what, u32 value)
{
	struct vcpu *v = ctx;

	guest_error(v->vm, what, value);
}

static void lapic_eoi_level(void *ctx, u8 vector)
{
	struct vcpu *v = ctx;

	ioapic_eoi(&v->vm->plat.ioapic, vector);
}

/* A globally disabled APIC is not on the bus (SDM Vol. 3A §11.4.3): no
   interrupt message, IPI or INIT reaches its vCPU. */
static bool apic_listens(const struct vcpu *v)
{
	return lapic_mode(&v->lapic) != LAPIC_DISABLED;
}

/*
 * Is dest addressed to v's APIC (SDM Vol. 3A §11.6.2)? Physical: its
 * APIC id (0xff broadcasts). Logical, flat model: a bit of LDR[31:24];
 * x2APIC cluster model: same cluster, a common bit.
 */
static bool apic_matches(const struct vcpu *v, u32 dest, bool logical)
{
	u32 ldr = lapic_read((struct lapic *)&v->lapic, LAPIC_LDR);

	if (!apic_listens(v))
		return false;
	if (!logical)
		return dest == (u32)v->id || dest == 0xff || dest == 0xffffffffU;
	if (lapic_mode(&v->lapic) == LAPIC_X2APIC) {
		ldr = ((u32)v->id >> 4 << 16) | (1U << (v->id & 0xf));
		return (dest >> 16) == (ldr >> 16) && (dest & ldr & 0xffff);
	}
	return (dest & (ldr >> 24)) != 0;
}

/* One IPI arriving at t (§11.6.1 delivery modes). */
static void ipi_deliver(struct vcpu *t, u32 mode, u8 vector, u32 icr_lo)
{
	switch (mode) {
	case ICR_MODE_FIXED:
		lapic_accept(&t->lapic, vector, false);
		t->irq_dirty = true;
		break;
	case ICR_MODE_NMI:       /* pending until injected (platform_inject) */
		lapic_nmi(&t->lapic);
		t->irq_dirty = true;
		break;
	case ICR_MODE_INIT:      /* assert: the CPU waits for a SIPI (§9.4) */
		if ((icr_lo & ICR_LEVEL_ASSERT) && t->state != VCPU_STOPPED) {
			t->state = VCPU_WAIT_SIPI;
			t->pending_sipi = -1;
			lapic_take_nmi(&t->lapic);   /* INIT drops a pending NMI */
		}
		break;
	case ICR_MODE_STARTUP:   /* ignored unless waiting for one */
		if (t->state == VCPU_WAIT_SIPI) {
			t->pending_sipi = vector;
			t->state = VCPU_RUNNABLE;
		}
		break;
	default:
		guest_error(t->vm, "unsupported IPI delivery mode", mode);
	}
}

/* An IPI from src's APIC to others of its VM (its self part is done). */
static void lapic_ipi(void *ctx, u32 icr_lo, u32 dest)
{
	struct vcpu *src = ctx;
	struct vm *vm = src->vm;
	u32 sh = icr_lo >> ICR_SHORT_SHIFT & ICR_SHORT_MASK;
	u32 mode = icr_lo >> ICR_MODE_SHIFT & ICR_MODE_MASK;
	bool logical = icr_lo & ICR_DEST_LOGICAL, hit = false;

	for (int i = 0; i < vm->nr_vcpus; i++) {
		struct vcpu *t = &vm->vcpus[i];
		bool match = sh != ICR_SHORT_NONE ? apic_listens(t) :
			     apic_matches(t, dest, logical);

		/* the sender's own APIC took a shorthand or physical self-IPI */
		if (!match || (t == src && (sh != ICR_SHORT_NONE || !logical)))
			continue;
		hit = true;
		ipi_deliver(t, mode, (u8)(icr_lo & ICR_VECTOR_MASK), icr_lo);
	}
	if (!hit && sh == ICR_SHORT_NONE)
		guest_error(vm, "IPI to a vCPU this VM does not have, APIC id", dest);
}

static const struct lapic_ops lapic_ops = {
	vcpu_tsc_now, lapic_eoi_level, lapic_ipi, vcpu_error,
};

/* To the first vCPU dest names (lowest-priority delivery simplified), or
   to vCPU 0 if it names none. */
void platform_deliver(struct vm *vm, u8 vector, bool level, u32 dest,
		      bool logical)
{
	struct vcpu *t = &vm->vcpus[0];

	for (int i = 0; i < vm->nr_vcpus; i++)
		if (apic_matches(&vm->vcpus[i], dest, logical)) {
			t = &vm->vcpus[i];
			break;
		}
	lapic_accept(&t->lapic, vector, level);
	t->irq_dirty = true;
}

static void ioapic_deliver(void *ctx, u8 vector, bool level, u8 dest,
			   bool logical)
{
	platform_deliver(ctx, vector, level, dest, logical);
}

static const struct ioapic_ops ioapic_ops = { ioapic_deliver, guest_error };

/* The xAPIC page is per CPU: an access goes to the running vCPU's APIC. */
static u64 xapic_read(void *dev, u64 off, unsigned size)
{
	struct vm *vm = dev;

	return lapic_mmio_read(&vm->current->lapic, off, size);
}

static void xapic_write(void *dev, u64 off, unsigned size, u64 val)
{
	struct vm *vm = dev;

	lapic_mmio_write(&vm->current->lapic, off, size, val);
	vm->current->irq_dirty = true;
}

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

/* The SCI: an ISA interrupt, level-triggered active-high as the MADT's
   override says (acpi.c). */
static void pm_sci(void *ctx, bool level)
{
	struct vm *vm = ctx;

	ioapic_set_irq(&vm->plat.ioapic, SCI_IRQ, level);
}

static const struct acpi_pm_ops pm_ops = {
	tsc_now, pm_poweroff, pm_sleep_unsupported, pm_sci,
};

void platform_power_button(struct vm *vm)
{
	acpi_pm_power_button(&vm->plat.pm);
}

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
				    xapic_read, xapic_write, vm, 0 };
	struct bus_device ioapic = { "ioapic", IOAPIC_MMIO_BASE, IOAPIC_MMIO_SIZE,
				     ioapic_mmio_read, ioapic_mmio_write, &p->ioapic, 0 };

	return bus_register(&vm->mmio, &lapic) | bus_register(&vm->mmio, &ioapic);
}

int platform_init(struct vm *vm, u64 tsc_hz, u64 boot_epoch, u64 boot_tsc)
{
	struct platform *p = &vm->plat;
	struct acpi_config acpi = {
		.nr_cpus = (u32)vm->nr_vcpus, .ram_size = vm->mem.size, .pm_base = PM_PORT_BASE,
		.sci_irq = SCI_IRQ, .ioapic_base = IOAPIC_MMIO_BASE,
		.ioapic_gsi_base = 0, .lapic_base = LAPIC_MMIO_BASE,
	};

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

void platform_init_vcpu(struct vcpu *v, u32 *apic_page)
{
	lapic_init(&v->lapic, (u32)v->id, &lapic_ops, v, apic_page);
}

bool platform_nmi_pending(const struct vcpu *v)
{
	return lapic_nmi_pending(&v->lapic);
}

bool platform_poll(struct vcpu *v)
{
	lapic_tick(&v->lapic);
	pit_tick(&v->vm->plat.pit);
	return lapic_pending(&v->lapic) >= 0;
}

/*
 * With APIC virtualization the CPU delivers from the register page
 * itself (SDM Vol. 3C §30.2): uhv only tells it the highest requesting
 * and in-service vectors it may have changed (an interrupt accepted, an
 * x2APIC EOI emulated), and which vectors are level-triggered, whose EOI
 * must reach the I/O APIC.
 */
static void apicv_sync(struct vcpu *v)
{
	int irr = lapic_highest(&v->lapic, LAPIC_IRR);
	int isr = lapic_highest(&v->lapic, LAPIC_ISR);
	u32 tmr[8];

	lapic_tmr(&v->lapic, tmr);
	lapic_store_ppr(&v->lapic);
	arch_vcpu_apicv_sync(&v->arch, irr < 0 ? 0 : (u8)irr,
			     isr < 0 ? 0 : (u8)isr, tmr);
}

void platform_virtual_eoi(struct vcpu *v, u8 vector)
{
	lapic_virtual_eoi(&v->lapic, vector);
	v->irq_dirty = true;
}

void platform_apic_write(struct vcpu *v, u32 offset)
{
	lapic_apic_write(&v->lapic, offset);
	v->irq_dirty = true;
}

/*
 * IA32_APIC_BASE moved v's APIC to another state (lapic.h). APIC
 * virtualization pauses while the APIC is disabled, so that its page
 * exits and reads as nothing, and resumes when it comes back; the VMCS
 * learns what the reset left in the page at the next injection. In
 * x2APIC mode it stays on: uhv does not use "virtualize x2APIC mode", so
 * the MSRs exit anyway, and the CPU still delivers interrupts. (The xAPIC
 * page then reads as the registers through the CPU, not as nothing.)
 */
void platform_apic_mode_changed(struct vcpu *v)
{
	arch_vcpu_apicv_pause(&v->arch, lapic_mode(&v->lapic) == LAPIC_DISABLED);
	v->irq_dirty = true;
}

/*
 * Whether v is inside its NMI handler (virtual-NMI blocking). With virtual NMIs only an NMI injected by VM entry begins the
 * blocking, and the guest's IRET ends it (SDM Vol. 3C §25.6.1, §27.6.1.2),
 * so blocking that uhv did not begin is the CPU's error: Bochs 2.7 does
 * not clear its internal NMI mask on a VM entry whose guest state has no
 * blocking, and carries a guest's blocking into the next VMCS it enters
 * (another VM's vCPU, which then reports blocking it never had and would
 * wait for NMIs forever). uhv clears such blocking, counts it and says
 * so once per VM. Costs nothing on real CPUs: the check runs only when an
 * NMI is pending or the vCPU halts.
 */
bool platform_nmi_blocked(struct vcpu *v)
{
	struct platform *p = &v->vm->plat;

	if (!arch_vcpu_nmi_blocked(&v->arch)) {
		v->nmi_handler = false;   /* its IRET came */
		return false;
	}
	if (v->nmi_handler)
		return true;
	arch_vcpu_nmi_unblock(&v->arch);
	if (p->nmi_blocks_cleared++ == 0)
		printk("uhv: vm %s: vCPU %d reported NMI blocking that no NMI "
		       "began (the CPU carried it over from another VMCS): "
		       "cleared (counted, not said again)\n", v->vm->name, v->id);
	return false;
}

/*
 * A pending NMI before any interrupt (SDM Vol. 3A §6.9: NMIs outrank
 * maskable interrupts), with APIC virtualization or without: injected
 * when the guest can take it, else the NMI window is asked for (the
 * guest's IRET ends its NMI blocking, §25.6.1). Where the CPU lacks
 * virtual NMIs it is dropped, counted, and said once per VM.
 */
static void inject_nmi(struct vcpu *v)
{
	struct arch_vcpu *a = &v->arch;
	struct platform *p = &v->vm->plat;

	if (!lapic_nmi_pending(&v->lapic))
		return;
	if (!arch_vcpu_nmis_supported()) {
		lapic_take_nmi(&v->lapic);
		if (p->nmis_dropped++ == 0)
			printk("uhv: vm %s: an NMI dropped: the CPU lacks virtual "
			       "NMIs (counted, not said again)\n", v->vm->name);
		return;
	}
	if (platform_nmi_blocked(v) || !arch_vcpu_can_inject_nmi(a)) {
		arch_vcpu_nmi_window(a, true);   /* exit when the guest can */
		return;
	}
	lapic_take_nmi(&v->lapic);
	arch_vcpu_inject_nmi(a);
	v->nmi_handler = true;
	arch_vcpu_nmi_window(a, false);
	p->nmis_injected++;
}

void platform_inject(struct vcpu *v)
{
	struct arch_vcpu *a = &v->arch;
	int vec;

	inject_nmi(v);
	vec = lapic_pending(&v->lapic);
	if (a->apicv && !a->apicv_paused) {
		apicv_sync(v);
		return;
	}
	if (vec < 0) {
		arch_vcpu_irq_window(a, false);
		return;
	}
	if (!arch_vcpu_can_inject(a)) {
		arch_vcpu_irq_window(a, true);   /* exit when IF opens */
		return;
	}
	lapic_ack(&v->lapic, (u8)vec);
	arch_vcpu_inject_irq(a, (u8)vec);
	arch_vcpu_irq_window(a, false);
	v->vm->plat.irqs_injected++;
}

u64 platform_next_deadline(const struct vcpu *v)
{
	u64 a = lapic_next_deadline(&v->lapic);
	u64 b = pit_next_deadline(&v->vm->plat.pit);

	if (a != LAPIC_NO_DEADLINE) {   /* the guest's TSC to the host's */
		u64 now = rdtsc(), guest_now = now + v->tsc_offset;

		a = a <= guest_now ? now : now + (a - guest_now);
	}
	return a < b ? a : b;
}
