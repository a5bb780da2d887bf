/*
 * A VM's virtio-blk disks: each is an in-memory image (loaded from the ESP
 * by the loader, so volatile) or one of uhv's own disks ("host:NAME"),
 * behind the virtio-blk device model, behind the modern virtio-pci
 * transport (vm_virtio.c), as PCI function 1+N.0 on bus 0.
 */
#include "vmm/dev/acpi.h"
#include "vmm/vmm.h"
#include "vmm/blk_host.h"
#include "drivers/console.h"
#include "lib/fmt.h"
#include "lib/string.h"
#include "arch/x86/cpu.h"
#include "vmm/vm_virtio.h"
#include "vmm/vm_disks.h"

#define DISK_FIRST_SLOT  1
#define SECTOR_SIZE      512

#define HOST_PREFIX "host:"
#define HOST_PREFIX_LEN 5

/* "host:NAME" names one of uhv's own disks (ata0.1, ahci.p1...). */
static struct blkdev *host_disk(struct uhv *h, const char *image)
{
	if (strncmp(image, HOST_PREFIX, HOST_PREFIX_LEN))
		return NULL;
	for (int i = 0; i < h->disks.nr; i++)
		if (!strcmp(h->disks.dev[i].name, image + HOST_PREFIX_LEN))
			return &h->disks.dev[i];
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
			char names[BLKDEV_NAMES_MAX];

			/* say which there are: the name is easily mistyped,
			   and README's example names one (ata0.1) */
			blkdev_names(h->disks.dev, h->disks.nr, names,
				     sizeof(names));
			vm_stop(d->vm, VM_ERROR, "disk '%s': no such disk on this "
				"machine (its disks: %s)", d->cfg->image, names);
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
	u64 size, base = ACPI_PCI_MMIO_BASE + slot * VIRTIO_PCI_BAR_SIZE;

	d->vm = vm;
	d->cfg = &vm->cfg->disks[i];
	if (attach_backend(h, d, b, i, &size) ||
	    vm_virtio_add(vm, &d->dev, slot, &d->blk.ops, &d->blk, "virtio-blk"))
		return -1;
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
