/* PCI configuration mechanism #1 and the bus scan (drivers/pci.h). */
#include "drivers/pci.h"
#include "arch/x86/cpu.h"

#define PCI_CONFIG_ADDRESS 0xcf8
#define PCI_CONFIG_DATA    0xcfc
/* CONFIG_ADDRESS (§3.2.2.3.2): enable, bus 23:16, device 15:11,
   function 10:8, dword-aligned register 7:2. */
#define PCI_CFG_ENABLE     0x80000000u
#define PCI_CFG_BUS_SHIFT  16
#define PCI_CFG_DEV_SHIFT  11
#define PCI_CFG_FN_SHIFT   8
#define PCI_CFG_REG_MASK   0xfcu

#define PCI_BUSES          256
#define PCI_DEVICES        32
#define PCI_FUNCTIONS      8
#define PCI_NO_VENDOR      0xffffu
#define PCI_VENDOR_MASK    0xffffu    /* the device ID is above */
#define PCI_CLASS_SHIFT    8          /* above the revision ID */

#define PCI_CMD_MEMORY     (1u << 1)
#define PCI_CMD_MASTER     (1u << 2)
#define PCI_CMD_INTX_OFF   (1u << 10)
#define PCI_CMD_MASK       0xffffu    /* the status register is above */
#define PCI_HDR_MULTIFN    (1u << 23)
#define PCI_STATUS_CAP_LIST (1u << 20) /* in the command dword: a list */
#define PCI_CAP_NEXT       1          /* a capability: ID, next, ... */
#define PCI_CAP_PTR_MASK   0xfcu      /* pointers are dword aligned */
#define PCI_CAPS_MAX       48         /* 192 bytes of 4 at the least */
#define BYTE_BITS          8
#define BYTE_MASK          0xffu

/* Memory BAR bits (§6.2.5.1). */
#define PCI_BAR_IO         (1u << 0)
#define PCI_BAR_TYPE_MASK  (3u << 1)
#define PCI_BAR_TYPE_64    (2u << 1)
#define PCI_BAR_MEM_MASK   (~0xfu)

static u32 cfg_address(const struct pci_fn *f, u32 off)
{
	return PCI_CFG_ENABLE | f->bus << PCI_CFG_BUS_SHIFT |
	       f->dev << PCI_CFG_DEV_SHIFT | f->fn << PCI_CFG_FN_SHIFT |
	       (off & PCI_CFG_REG_MASK);
}

u32 pci_read32(const struct pci_fn *f, u32 off)
{
	outl(PCI_CONFIG_ADDRESS, cfg_address(f, off));
	return inl(PCI_CONFIG_DATA);
}

void pci_write32(const struct pci_fn *f, u32 off, u32 v)
{
	outl(PCI_CONFIG_ADDRESS, cfg_address(f, off));
	outl(PCI_CONFIG_DATA, v);
}

u8 pci_read8(const struct pci_fn *f, u32 off)
{
	return (u8)(pci_read32(f, off) >> (off % 4 * BYTE_BITS) & BYTE_MASK);
}

u32 pci_next_cap(const struct pci_fn *f, u32 after, u8 id)
{
	u32 at;

	if (!(pci_read32(f, PCI_COMMAND) & PCI_STATUS_CAP_LIST))
		return 0;
	at = after ? pci_read8(f, after + PCI_CAP_NEXT) : pci_read8(f, PCI_CAP_PTR);
	for (int i = 0; i < PCI_CAPS_MAX && (at & PCI_CAP_PTR_MASK); i++) {
		at &= PCI_CAP_PTR_MASK;
		if (pci_read8(f, at) == id)
			return at;
		at = pci_read8(f, at + PCI_CAP_NEXT);
	}
	return 0;
}

/* Whether function 0 of f's device says it has functions 1..7. */
static bool multifunction(const struct pci_fn *f)
{
	return pci_read32(f, PCI_HEADER_DWORD) & PCI_HDR_MULTIFN;
}

int pci_find_class(u32 class, bool (*found)(const struct pci_fn *f, void *ctx),
		   void *ctx)
{
	struct pci_fn f;
	int n = 0;

	for (f.bus = 0; f.bus < PCI_BUSES; f.bus++)
		for (f.dev = 0; f.dev < PCI_DEVICES; f.dev++)
			for (f.fn = 0; f.fn < PCI_FUNCTIONS; f.fn++) {
				if ((pci_read32(&f, PCI_VENDOR_ID) & PCI_VENDOR_MASK) ==
				    PCI_NO_VENDOR) {
					if (f.fn == 0)
						break;
					continue;
				}
				if (pci_read32(&f, PCI_CLASS_REV) >> PCI_CLASS_SHIFT == class) {
					n++;
					if (!found(&f, ctx))
						return n;
				}
				if (f.fn == 0 && !multifunction(&f))
					break;
			}
	return n;
}

u64 pci_bar_mem(const struct pci_fn *f, u32 index)
{
	u32 off = PCI_BAR0 + index * 4, lo;
	u64 a;

	if (index >= PCI_BAR_COUNT)
		return 0;
	lo = pci_read32(f, off);
	if (lo & PCI_BAR_IO)
		return 0;
	a = lo & PCI_BAR_MEM_MASK;
	if ((lo & PCI_BAR_TYPE_MASK) == PCI_BAR_TYPE_64 && index + 1 < PCI_BAR_COUNT)
		a |= (u64)pci_read32(f, off + 4) << 32;
	return a;
}

void pci_enable_dma(const struct pci_fn *f)
{
	u32 cmd = pci_read32(f, PCI_COMMAND) & PCI_CMD_MASK;

	pci_write32(f, PCI_COMMAND,
		    cmd | PCI_CMD_MEMORY | PCI_CMD_MASTER | PCI_CMD_INTX_OFF);
}
