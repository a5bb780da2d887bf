#ifndef UHV_VMM_BLK_HOST_H
#define UHV_VMM_BLK_HOST_H

#include "drivers/blkdev.h"
#include "vmm/virtio/virtio_blk.h"

/* A virtio-blk backend on a disk uhv drives itself. */
struct blk_host {
	struct blkdev *dev;
	bool read_only;
};

extern const struct blk_backend_ops blk_host_ops;

#endif
