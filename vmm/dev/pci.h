/*
 * PCI configuration space through configuration mechanism #1 (PCI Local
 * Bus Specification 3.0 §3.2.2.3.2): an address register at 0xCF8 and a
 * data window at 0xCFC-0xCFF. Bus 0 holds a host bridge at 00:00.0; later
 * devices (virtio) register their 256-byte configuration space here.
 */
#ifndef UHV_VMM_PCI_H
#define UHV_VMM_PCI_H

#include "lib/types.h"

#define PCI_ADDR_PORT   0xcf8
#define PCI_DATA_PORT   0xcfc
#define PCI_CFG_SIZE    256
#define PCI_MAX_DEVICES 32

/* Standard configuration header offsets (PCI 3.0 §6.1). */
#define PCI_VENDOR_ID   0x00
#define PCI_DEVICE_ID   0x02
#define PCI_COMMAND     0x04
#define PCI_STATUS      0x06
#define PCI_REVISION    0x08
#define PCI_CLASS_PROG  0x09
#define PCI_CLASS_SUB   0x0a
#define PCI_CLASS_BASE  0x0b
#define PCI_HEADER_TYPE 0x0e
#define PCI_SUBSYS_VENDOR 0x2c
#define PCI_SUBSYS_ID   0x2e
#define PCI_BAR0        0x10     /* BAR n is the dword at PCI_BAR0 + 4n */
#define PCI_CAP_PTR     0x34
#define PCI_INT_LINE    0x3c
#define PCI_INT_PIN     0x3d

/* COMMAND and STATUS bits (PCI 3.0 §6.2.2, §6.2.3). */
#define PCI_COMMAND_MEMORY       BIT(1)
#define PCI_COMMAND_MASTER       BIT(2)
#define PCI_COMMAND_INTX_DISABLE BIT(10)
#define PCI_STATUS_INTX          BIT(3)   /* an INTx is pending */
#define PCI_STATUS_CAP_LIST      BIT(4)

/* Memory BAR type bits (PCI 3.0 §6.2.5.1). */
#define PCI_BAR_MEM_64    0x4
#define PCI_BAR_FLAGS     0xfULL

/* Capabilities: each starts with an ID byte and a next pointer (§6.7). */
#define PCI_CAP_ID_VNDR   0x09
#define PCI_CAP_ID_MSIX   0x11
#define PCI_CAP_NEXT      1

/* The MSI-X capability and table (PCI 3.0 §6.8.2). */
#define PCI_MSIX_CTRL          2    /* Message Control, 16 bits */
#define PCI_MSIX_TABLE         4    /* Table Offset | BIR */
#define PCI_MSIX_PBA           8    /* PBA Offset | BIR */
#define PCI_MSIX_CAP_LEN       12
#define PCI_MSIX_CTRL_SIZE     0x7ffU   /* Table Size - 1 */
#define PCI_MSIX_CTRL_MASKALL  BIT(14)
#define PCI_MSIX_CTRL_ENABLE   BIT(15)
#define PCI_MSIX_ENTRY_SIZE    16
#define PCI_MSIX_ENTRY_ADDR    0    /* 64-bit message address */
#define PCI_MSIX_ENTRY_DATA    8
#define PCI_MSIX_ENTRY_CTRL    12
#define PCI_MSIX_ENTRY_MASKED  BIT(0)

struct pci_dev {
	const char *name;
	u8 cfg[PCI_CFG_SIZE];
	u8 wmask[PCI_CFG_SIZE];      /* bits the guest may change */
	/* Optional hooks, for registers with side effects (NULL for plain
	   ones, as on the host bridge): cfg_read runs before a read is
	   answered from cfg[], so it may refresh those bytes; cfg_write runs
	   after a write was merged into cfg[] through wmask. Both get the
	   access as the guest made it (off + size <= PCI_CFG_SIZE). */
	void (*cfg_read)(struct pci_dev *d, unsigned off, unsigned size);
	void (*cfg_write)(struct pci_dev *d, unsigned off, unsigned size,
			  u32 val);
};

struct pci_bus {
	u32 addr;                    /* the 0xCF8 register */
	struct pci_dev *devs[PCI_MAX_DEVICES];   /* by slot, function 0 only */
	struct pci_dev host_bridge;
	u64 bad_accesses;
};

void pci_init(struct pci_bus *b);
int pci_add(struct pci_bus *b, unsigned slot, struct pci_dev *d);
u32 pci_cfg_read(struct pci_bus *b, unsigned slot, unsigned fn, unsigned off,
		 unsigned size);
void pci_cfg_write(struct pci_bus *b, unsigned slot, unsigned fn, unsigned off,
		   unsigned size, u32 val);
/* Port handlers: one bus_device for 0xCF8 (4 bytes), one for 0xCFC (4). */
u64 pci_addr_read(void *dev, u64 off, unsigned size);
void pci_addr_write(void *dev, u64 off, unsigned size, u64 val);
u64 pci_data_read(void *dev, u64 off, unsigned size);
void pci_data_write(void *dev, u64 off, unsigned size, u64 val);

#endif
