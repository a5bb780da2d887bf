/*
 * uhv's own block devices: disks it drives itself (direct-attached storage)
 * through its ATA (PIIX IDE, what Bochs emulates), AHCI (QEMU q35 and
 * real machines) and NVMe drivers. One small interface for all, polled (uhv takes
 * no interrupts), 512-byte sectors, buffers in uhv's identity-mapped RAM
 * (physical = virtual, below 4 GiB for the ATA/AHCI DMA-free paths).
 */
#ifndef UHV_DRIVERS_BLKDEV_H
#define UHV_DRIVERS_BLKDEV_H

#include "lib/types.h"

#define BLKDEV_SECTOR 512
#define BLKDEV_MAX    8

struct blkdev {
	char name[16];               /* "ata0.1", "ahci.p2" */
	u64 sectors;
	char model[41];              /* IDENTIFY model string, trimmed */
	/* 0 on success, -1 on a device error or timeout */
	int (*read)(struct blkdev *d, u64 lba, u32 count, void *buf);
	int (*write)(struct blkdev *d, u64 lba, u32 count, const void *buf);
	int (*flush)(struct blkdev *d);    /* data is on the medium after it */
	void *priv;
};

/* Finds the disks behind the machine's IDE and AHCI controllers; returns
   how many were put in devs (at most max). alloc_page gives zeroed,
   identity-mapped pages (AHCI command lists and buffers). */
int blkdev_probe(struct blkdev *devs, int max, u64 (*alloc_page)(void));

/* The legacy IDE channels' LBA48 ATA disks ("ata0.0".."ata1.1"), polled
   PIO (ata.c); returns how many were put in devs (at most max). */
int ata_probe(struct blkdev *devs, int max);

/* The SATA disks behind every AHCI controller (PCI class 01/06/01), named
   "ahci.pN" ("ahciK.pN" for controllers after the first), polled DMA
   (ahci.c). Each disk takes two zeroed pages from alloc_page. Returns how
   many were put in devs (at most max). */
int ahci_probe(struct blkdev *devs, int max, u64 (*alloc_page)(void));

/* The 512-byte-block namespaces of every NVMe controller (PCI class
   01/08/02), named "nvmeKnN" (controller K, namespace N), polled (nvme.c).
   Each controller takes six pages from alloc_page. Returns how many were
   put in devs (at most max). */
int nvme_probe(struct blkdev *devs, int max, u64 (*alloc_page)(void));

/* Room for blkdev_names' line: every name (15 characters at most) and
   its separator, and the NUL. */
#define BLKDEV_NAMES_MAX (BLKDEV_MAX * (sizeof(((struct blkdev *)0)->name) + 1) + 1)

/* The names of devs[0..n) as "ata0.0, ahci.p1" ("none" if n is 0) in
   buf (size bytes, BLKDEV_NAMES_MAX holds any n <= BLKDEV_MAX; a
   smaller buffer cuts the line, NUL-terminated) (blkdev_names.c). */
void blkdev_names(const struct blkdev *devs, int n, char *buf, size_t size);

/* The storage self-test (storage_test.c): 0 if every test disk passed. */
int storage_selftest(bool verify, u64 (*alloc_page)(void));

#endif
