/*
 * The memory BARs of PCI devices that lie above the identity map the
 * loader builds (which covers RAM and the 4 GiB hole): firmware places
 * 64-bit BARs there (OVMF puts QEMU's NVMe registers at 0xe000000000),
 * and uhv's own drivers must reach them after boot services are gone.
 */
#ifndef UHV_BOOT_PCI_MAP_H
#define UHV_BOOT_PCI_MAP_H

#include "arch/x86/pgtable.h"

/* Identity-maps, uncached, every memory BAR range at or above top that
   the firmware's PCI I/O protocol reports; *mapped counts them. NULL, or
   why it could not (out of memory for page tables). */
const char *pci_map_bars(struct pt_root *root, u64 top, int *mapped);

#endif
