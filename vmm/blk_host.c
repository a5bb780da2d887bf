/*
 * A virtio-blk backend on one of uhv's own disks (direct-attached
 * storage): the device model's byte offsets become sector requests to the
 * ATA or AHCI driver, and a flush from the guest becomes FLUSH CACHE EXT
 * before the request completes. It is the adapter between a driver and a
 * device backend, so it lives on the VMM side: drivers know no VM.
 */
#include "vmm/blk_host.h"

#define MAX_PER_REQUEST 128u          /* sectors per driver call */

static int host_rw(struct blk_host *h, u64 off, void *buf, u64 len, bool write)
{
	struct blkdev *d = h->dev;
	u64 lba = off / BLKDEV_SECTOR, left = len / BLKDEV_SECTOR;
	u8 *p = buf;

	if (off % BLKDEV_SECTOR || len % BLKDEV_SECTOR)
		return -1;
	while (left) {
		u32 n = (u32)MIN(left, MAX_PER_REQUEST);

		if (write ? d->write(d, lba, n, p) : d->read(d, lba, n, p))
			return -1;
		lba += n;
		left -= n;
		p += (u64)n * BLKDEV_SECTOR;
	}
	return 0;
}

static int host_read(void *ctx, u64 off, void *buf, u64 len)
{
	return host_rw(ctx, off, buf, len, false);
}

static int host_write(void *ctx, u64 off, const void *buf, u64 len)
{
	return host_rw(ctx, off, (void *)buf, len, true);
}

static int host_flush(void *ctx)
{
	struct blk_host *h = ctx;

	return h->dev->flush(h->dev);
}

static u64 host_size(void *ctx)
{
	return ((struct blk_host *)ctx)->dev->sectors * BLKDEV_SECTOR;
}

static bool host_read_only(void *ctx)
{
	return ((struct blk_host *)ctx)->read_only;
}

const struct blk_backend_ops blk_host_ops = {
	host_read, host_write, host_flush, host_size, host_read_only,
};
