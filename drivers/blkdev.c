/* Probing every storage controller uhv has a driver for. */
#include "drivers/blkdev.h"

int blkdev_probe(struct blkdev *devs, int max, u64 (*alloc_page)(void))
{
	int n = ata_probe(devs, max);

	n += ahci_probe(devs + n, max - n, alloc_page);
	return n + nvme_probe(devs + n, max - n, alloc_page);
}
