/* Probing every NIC uhv has a driver for. */
#include "drivers/netdev.h"

int netdev_probe(struct netdev *devs, int max, u64 (*alloc_page)(void))
{
	int n = e1000_probe(devs, max, alloc_page);

	return n + virtio_nic_probe(devs + n, max - n, alloc_page);
}
