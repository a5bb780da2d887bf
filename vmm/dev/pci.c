/*
 * Configuration mechanism #1. The address register at 0xCF8:
 *
 *   31   30:24  23:16  15:11  10:8    7:2    1:0
 *  +---+-------+------+------+-----+--------+----+
 *  |en | resvd | bus  | dev  | fn  |register| 00 |
 *  +---+-------+------+------+-----+--------+----+
 *
 * Reads of a slot with no device return all ones, which is how an OS
 * learns the slot is empty (vendor ID 0xFFFF).
 */
#include "vmm/dev/pci.h"
#include "lib/string.h"
#include "lib/bytes.h"

#define ADDR_ENABLE    (1U << 31)
#define ADDR_BUS_SHIFT 16
#define ADDR_DEV_SHIFT 11
#define ADDR_FN_SHIFT  8
#define ADDR_REG_MASK  0xfcU
#define ADDR_WRITABLE  0x80fffffcU
#define HOST_VENDOR    0x8086        /* an i440FX-style host bridge */
#define HOST_DEVICE    0x1237
#define CLASS_BRIDGE   0x06
#define SUBCLASS_HOST  0x00

void pci_init(struct pci_bus *b)
{
	struct pci_dev *h = &b->host_bridge;

	memset(b, 0, sizeof(*b));
	h->name = "host bridge";
	le_put(h->cfg + PCI_VENDOR_ID, HOST_VENDOR, sizeof(u16));
	le_put(h->cfg + PCI_DEVICE_ID, HOST_DEVICE, sizeof(u16));
	h->cfg[PCI_CLASS_BASE] = CLASS_BRIDGE;
	h->cfg[PCI_CLASS_SUB] = SUBCLASS_HOST;
	b->devs[0] = h;
}

int pci_add(struct pci_bus *b, unsigned slot, struct pci_dev *d)
{
	if (slot >= PCI_MAX_DEVICES || b->devs[slot])
		return -1;
	b->devs[slot] = d;
	return 0;
}

static struct pci_dev *find(struct pci_bus *b, unsigned slot, unsigned fn)
{
	return slot < PCI_MAX_DEVICES && fn == 0 ? b->devs[slot] : NULL;
}

u32 pci_cfg_read(struct pci_bus *b, unsigned slot, unsigned fn, unsigned off,
		 unsigned size)
{
	struct pci_dev *d = find(b, slot, fn);

	if (!d || off + size > PCI_CFG_SIZE)
		return (u32)size_mask(size);
	if (d->cfg_read)
		d->cfg_read(d, off, size);
	return (u32)le_get(d->cfg + off, size);
}

void pci_cfg_write(struct pci_bus *b, unsigned slot, unsigned fn, unsigned off,
		   unsigned size, u32 val)
{
	struct pci_dev *d = find(b, slot, fn);

	if (!d || off + size > PCI_CFG_SIZE) {
		b->bad_accesses++;
		return;
	}
	for (unsigned i = 0; i < size; i++) {
		u8 m = d->wmask[off + i];

		d->cfg[off + i] = (u8)((d->cfg[off + i] & ~m) | ((val >> (8 * i)) & m));
	}
	if (d->cfg_write)
		d->cfg_write(d, off, size, val);
}

u64 pci_addr_read(void *dev, u64 off, unsigned size)
{
	struct pci_bus *b = dev;

	return off == 0 && size == 4 ? b->addr : ~0ULL;
}

void pci_addr_write(void *dev, u64 off, unsigned size, u64 val)
{
	struct pci_bus *b = dev;

	if (off == 0 && size == 4)    /* byte writes to 0xCF8 are not mechanism #1 */
		b->addr = (u32)val & ADDR_WRITABLE;
}

/* Decodes 0xCF8 for an access at byte `off` of the data window. */
static bool target(const struct pci_bus *b, u64 off, unsigned *slot,
		   unsigned *fn, unsigned *reg)
{
	if (!(b->addr & ADDR_ENABLE) || (b->addr >> ADDR_BUS_SHIFT & 0xff))
		return false;        /* only bus 0 exists */
	*slot = b->addr >> ADDR_DEV_SHIFT & 0x1f;
	*fn = b->addr >> ADDR_FN_SHIFT & 7;
	*reg = (b->addr & ADDR_REG_MASK) + (unsigned)off;
	return true;
}

u64 pci_data_read(void *dev, u64 off, unsigned size)
{
	unsigned slot, fn, reg;

	if (!target(dev, off, &slot, &fn, &reg))
		return ~0ULL;
	return pci_cfg_read(dev, slot, fn, reg, size);
}

void pci_data_write(void *dev, u64 off, unsigned size, u64 val)
{
	unsigned slot, fn, reg;

	if (target(dev, off, &slot, &fn, &reg))
		pci_cfg_write(dev, slot, fn, reg, size, (u32)val);
}
