/*
 * A VM's virtio-blk disks: each is an in-memory image (loaded from the ESP
 * by the loader, so volatile) behind the virtio-blk device model, behind
 * the modern virtio-pci transport, as PCI function 1+N.0 on bus 0. uhv
 * assigns the BAR inside the DSDT's PCI window as firmware would, routes
 * the BAR's MMIO to the transport while decoding is on, and turns MSI-X
 * messages into local APIC interrupts (PCI 3.0 §6.8, SDM Vol. 3A §11.11).
 */
#include "acpi.h"
#include "vmm.h"
#include "../drivers/blk_host.h"
#include "../drivers/console.h"
#include "../lib/fmt.h"
#include "../lib/string.h"
#include "../arch/x86/cpu.h"

#define DISK_FIRST_SLOT  1
#define DISK_LOG_LIMIT   16
#define SECTOR_SIZE      512
#define MSI_ADDR_DEST_SHIFT 12      /* MSI address (SDM Vol. 3A §11.11.1) */
#define MSI_ADDR_DEST_MASK  0xffU
#define MSI_ADDR_LOGICAL    (1U << 2)
#define MSI_DATA_VECTOR_MASK 0xffU
#define MSI_DATA_LEVEL      (1U << 15)

static struct vm_disk *disk_of(void *ctx)
{
	return ctx;
}

static void disk_msix(void *ctx, u64 address, u32 data)
{
	struct vm_disk *d = disk_of(ctx);

	platform_deliver(d->vm, (u8)(data & MSI_DATA_VECTOR_MASK),
			 data & MSI_DATA_LEVEL,
			 (u32)(address >> MSI_ADDR_DEST_SHIFT) & MSI_ADDR_DEST_MASK,
			 address & MSI_ADDR_LOGICAL);
}

static void disk_intx(void *ctx, bool level)
{
	struct vm_disk *d = disk_of(ctx);

	ioapic_set_irq(&d->vm->plat.ioapic, d->irq, level);
}

/* The guest moved the BAR or switched decoding: move the MMIO window. */
static void disk_bar_changed(void *ctx)
{
	struct vm_disk *d = disk_of(ctx);
	u64 base;

	d->mmio->len = virtio_pci_bar(&d->vp, &base) ? VIRTIO_PCI_BAR_SIZE : 0;
	d->mmio->base = base;
}

static void disk_log(void *ctx, const char *msg)
{
	struct vm_disk *d = disk_of(ctx);

	if (d->logged++ < DISK_LOG_LIMIT)
		printk("uhv: vm %s: disk %s: %s\n", d->vm->name, d->cfg->image, msg);
}

/* BAR accesses, timed: the TSC ticks (instructions, under Bochs) uhv
   spends in the device model, requests included, for the statistics. */
static u64 disk_mmio_read(void *dev, u64 off, unsigned size)
{
	struct vm_disk *d = dev;
	u64 t = rdtsc(), v = virtio_pci_mmio_read(&d->vp, off, size);

	d->device_ticks += rdtsc() - t;
	return v;
}

static void disk_mmio_write(void *dev, u64 off, unsigned size, u64 val)
{
	struct vm_disk *d = dev;
	u64 t = rdtsc();

	virtio_pci_mmio_write(&d->vp, off, size, val);
	d->device_ticks += rdtsc() - t;
}

static const struct virtio_pci_ops disk_ops = {
	disk_msix, disk_intx, disk_bar_changed, disk_log,
};

#define HOST_PREFIX "host:"
#define HOST_PREFIX_LEN 5

/* "host:NAME" names one of uhv's own disks (ata0.1, ahci.p1...). */
static struct blkdev *host_disk(struct uhv *h, const char *image)
{
	if (strncmp(image, HOST_PREFIX, HOST_PREFIX_LEN))
		return NULL;
	for (int i = 0; i < h->nr_host_disks; i++)
		if (!strcmp(h->host_disks[i].name, image + HOST_PREFIX_LEN))
			return &h->host_disks[i];
	return NULL;
}

/* The disk's backend: an image in memory, or a disk uhv drives. */
static int attach_backend(struct uhv *h, struct vm_disk *d,
			  const struct boot_vm *b, int i, u64 *size)
{
	if (!strncmp(d->cfg->image, HOST_PREFIX, HOST_PREFIX_LEN)) {
		d->host.dev = host_disk(h, d->cfg->image);
		d->host.read_only = d->cfg->read_only;
		if (!d->host.dev) {
			vm_stop(d->vm, VM_ERROR, "disk '%s': no such disk on this "
				"machine", d->cfg->image);
			return -1;
		}
		*size = d->host.dev->sectors * BLKDEV_SECTOR;
		return virtio_blk_init(&d->blk, &blk_host_ops, &d->host, d->cfg->serial);
	}
	*size = b->disk_size[i];
	if (*size % SECTOR_SIZE) {
		vm_stop(d->vm, VM_ERROR, "disk '%s': %llu bytes is not whole "
			"512-byte sectors", d->cfg->image, (unsigned long long)*size);
		return -1;
	}
	blk_mem_init(&d->store, (void *)(uintptr_t)b->disk_phys[i], *size,
		     d->cfg->read_only);
	return virtio_blk_init(&d->blk, &blk_mem_ops, &d->store, d->cfg->serial);
}

static int add_disk(struct uhv *h, struct vm *vm, int i, const struct boot_vm *b)
{
	struct vm_disk *d = &vm->disks[i];
	unsigned slot = DISK_FIRST_SLOT + (unsigned)i;
	u64 base = ACPI_PCI_MMIO_BASE + slot * VIRTIO_PCI_BAR_SIZE;
	struct bus_device dev = { "virtio-blk", base, VIRTIO_PCI_BAR_SIZE,
				  disk_mmio_read, disk_mmio_write, d, 0 };
	u64 size;

	d->vm = vm;
	d->cfg = &vm->cfg->disks[i];
	d->irq = PCI_IRQ_BASE + slot % PCI_IRQ_COUNT;
	if (attach_backend(h, d, b, i, &size) ||
	    virtio_pci_init(&d->vp, &d->blk.ops, &d->blk, &disk_ops, d, &vm->mem) ||
	    pci_add(&vm->plat.pci, slot, &d->vp.pci) || bus_register(&vm->mmio, &dev))
		return -1;
	d->mmio = bus_find(&vm->mmio, base, 1);
	d->vp.pci.cfg[PCI_INT_LINE] = (u8)d->irq;
	virtio_pci_set_bar(&d->vp, base, false);    /* assigned, decoding off */
	printk("uhv: vm %s: disk %s: %llu KiB%s, virtio-blk at 00:%02x.0, BAR 0x%llx\n",
	       vm->name, d->cfg->image, (unsigned long long)(size >> 10),
	       d->cfg->read_only ? " read-only" : "", slot,
	       (unsigned long long)base);
	return 0;
}

int vm_add_disks(struct uhv *h, struct vm *vm, const struct boot_vm *b)
{
	for (int i = 0; i < vm->cfg->nr_disks; i++)
		if (add_disk(h, vm, i, b))
			return -1;
	return 0;
}
