/*
 * PCI configuration space for uhv's own drivers, through configuration
 * mechanism #1 (PCI Local Bus 3.0 §3.2.2.3.2: ports 0xcf8/0xcfc), which
 * every PC chipset and emulator has. The drivers find their controllers
 * by class code and take their memory BARs; uhv takes no interrupts, so
 * INTx is switched off for them.
 */
#ifndef UHV_DRIVERS_PCI_H
#define UHV_DRIVERS_PCI_H

#include "lib/types.h"

/* Configuration header offsets (PCI Local Bus 3.0 §6.1). */
#define PCI_VENDOR_ID      0x00       /* 0xffff: no function */
#define PCI_COMMAND        0x04
#define PCI_CLASS_REV      0x08       /* class:subclass:prog-if:revision */
#define PCI_HEADER_DWORD   0x0c       /* header type in bits 23:16 */
#define PCI_BAR0           0x10
#define PCI_BAR_COUNT      6
#define PCI_CAP_PTR        0x34       /* first capability (§6.7) */
#define PCI_CAP_VENDOR     0x09       /* vendor-specific capability ID */

/* A function: where it sits on the buses. */
struct pci_fn {
	u32 bus, dev, fn;
};

u32 pci_read32(const struct pci_fn *f, u32 off);
void pci_write32(const struct pci_fn *f, u32 off, u32 v);

/* Byte off of f's configuration space. */
u8 pci_read8(const struct pci_fn *f, u32 off);

/* The offset of the first capability with ID id after the one at after
   (0: from the start of the list, §6.7), or 0 if there is none. The walk
   is bounded, so a looping list ends it. */
u32 pci_next_cap(const struct pci_fn *f, u32 after, u8 id);

/* Calls found(f, ctx) for every function whose class code (class,
   subclass, programming interface: 24 bits) is class, bus by bus, while
   it returns true; returns how many it was called for. */
int pci_find_class(u32 class, bool (*found)(const struct pci_fn *f, void *ctx),
		   void *ctx);

/* The address of memory BAR index (0..5), 64-bit BARs with their upper
   half from the next one; 0 if it is an I/O BAR or unassigned. */
u64 pci_bar_mem(const struct pci_fn *f, u32 index);

/* Lets the function decode its memory BARs and master DMA, and masks
   its INTx interrupt (uhv polls). */
void pci_enable_dma(const struct pci_fn *f);

#endif
