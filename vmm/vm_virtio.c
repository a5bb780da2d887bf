/*
 * What every virtio device of a VM needs from the VM, whatever device it
 * is (disk, NIC): a PCI slot on bus 0, a BAR that uhv assigns inside the
 * DSDT's PCI window as firmware would, the BAR's MMIO routed to the
 * transport while decoding is on (and timed, for the statistics), and
 * interrupts: MSI-X messages become local APIC interrupts (PCI 3.0 §6.8,
 * SDM Vol. 3A §11.11), INTx drives an I/O APIC pin.
 */
#include "vmm/dev/acpi.h"
#include "vmm/vm.h"
#include "arch/x86/cpu.h"
#include "drivers/console.h"
#include "vmm/exit.h"
#include "vmm/vm_virtio.h"

#define DEV_LOG_LIMIT       16
#define MSI_ADDR_DEST_SHIFT 12      /* MSI address (SDM Vol. 3A §11.11.1) */
#define MSI_ADDR_DEST_MASK  0xffU
#define MSI_ADDR_LOGICAL    (1U << 2)
#define MSI_DATA_VECTOR_MASK 0xffU
#define MSI_DATA_LEVEL      (1U << 15)

static void dev_msix(void *ctx, u64 address, u32 data)
{
	struct vm_virtio *d = ctx;

	platform_deliver(d->vm, (u8)(data & MSI_DATA_VECTOR_MASK),
			 data & MSI_DATA_LEVEL,
			 (u32)(address >> MSI_ADDR_DEST_SHIFT) & MSI_ADDR_DEST_MASK,
			 address & MSI_ADDR_LOGICAL);
}

static void dev_intx(void *ctx, bool level)
{
	struct vm_virtio *d = ctx;

	ioapic_set_irq(&d->vm->plat.ioapic, d->irq, level);
}

/* The guest moved the BAR or switched decoding: move the MMIO window. */
static void dev_bar_changed(void *ctx)
{
	struct vm_virtio *d = ctx;
	u64 base;

	d->mmio->len = virtio_pci_bar(&d->vp, &base) ? VIRTIO_PCI_BAR_SIZE : 0;
	d->mmio->base = base;
}

static void dev_log(void *ctx, const char *msg)
{
	struct vm_virtio *d = ctx;

	if (d->logged++ < DEV_LOG_LIMIT)
		printk("uhv: vm %s: %s: %s\n", d->vm->name, d->label, msg);
}

/* A queue notification waits for the VM's next exit (exit_dispatch),
   so a burst of transmitted frames costs the guest one exit. */
static void dev_defer(void *ctx)
{
	struct vm_virtio *d = ctx;
	struct vm *vm = d->vm;

	if (d->deferred || vm->nr_deferred >= VM_MAX_VIRTIO)
		return;
	d->deferred = true;
	vm->deferred[vm->nr_deferred++] = d;
}

static const struct virtio_pci_ops dev_ops = {
	dev_msix, dev_intx, dev_bar_changed, dev_log, dev_defer,
};

void vm_virtio_run_deferred(struct vm *vm)
{
	while (vm->nr_deferred) {
		struct vm_virtio *d = vm->deferred[--vm->nr_deferred];
		u64 t = rdtsc();

		d->deferred = false;
		virtio_pci_run_deferred(&d->vp);
		d->device_ticks += rdtsc() - t;
	}
}

/* BAR accesses, timed: the TSC ticks (instructions, under Bochs) uhv
   spends in the device model, requests included. */
static u64 dev_mmio_read(void *ctx, u64 off, unsigned size)
{
	struct vm_virtio *d = ctx;
	u64 t = rdtsc(), v = virtio_pci_mmio_read(&d->vp, off, size);

	d->device_ticks += rdtsc() - t;
	return v;
}

static void dev_mmio_write(void *ctx, u64 off, unsigned size, u64 val)
{
	struct vm_virtio *d = ctx;
	u64 t = rdtsc();

	virtio_pci_mmio_write(&d->vp, off, size, val);
	d->device_ticks += rdtsc() - t;
}

int vm_virtio_add(struct vm *vm, struct vm_virtio *d, unsigned slot,
		  const struct virtio_device_ops *ops, void *dev,
		  const char *label)
{
	u64 base = ACPI_PCI_MMIO_BASE + slot * VIRTIO_PCI_BAR_SIZE;
	struct bus_device bd = { label, base, VIRTIO_PCI_BAR_SIZE,
				 dev_mmio_read, dev_mmio_write, d, 0 };

	d->vm = vm;
	d->label = label;
	d->irq = PCI_IRQ_BASE + slot % PCI_IRQ_COUNT;
	if (virtio_pci_init(&d->vp, ops, dev, &dev_ops, d, &vm->mem) ||
	    pci_add(&vm->plat.pci, slot, &d->vp.pci) || bus_register(&vm->mmio, &bd))
		return -1;
	d->mmio = bus_find(&vm->mmio, base, 1);
	d->vp.pci.cfg[PCI_INT_LINE] = (u8)d->irq;
	virtio_pci_set_bar(&d->vp, base, false);    /* assigned, decoding off */
	return 0;
}
