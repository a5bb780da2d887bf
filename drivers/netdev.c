/* Probing every NIC uhv has a driver for. */
#include "drivers/netdev.h"

int netdev_probe(struct netdev *devs, int max, u64 (*alloc_page)(void))
{
	return e1000_probe(devs, max, alloc_page);
}
