/*
 * An in-memory disk for the virtio block device: a buffer and its size.
 * It serves the unit tests and fuzzers, and "volatile" disks whose image
 * uhv loads from the ESP into its own memory: writes last until the VM
 * stops. Every access is bounds-checked here as well as by the device,
 * so a backend bug cannot turn into a write outside the buffer.
 */
#include "vmm/virtio/virtio_blk.h"

static bool fits(const struct blk_mem *m, u64 off, u64 len)
{
	return off <= m->size && len <= m->size - off;
}

/* memmove, not memcpy: the only case where it matters (an image placed in
   the guest's own RAM) is a set-up mistake, but it must not be UB. */
static int mem_read(void *ctx, u64 off, void *buf, u64 len)
{
	struct blk_mem *m = ctx;

	if (!fits(m, off, len))
		return -1;
	memmove(buf, m->data + off, len);
	return 0;
}

static int mem_write(void *ctx, u64 off, const void *buf, u64 len)
{
	struct blk_mem *m = ctx;

	if (m->read_only || !fits(m, off, len))
		return -1;
	memmove(m->data + off, buf, len);
	return 0;
}

/* RAM is as stable as this disk gets: nothing to do. */
static int mem_flush(void *ctx)
{
	(void)ctx;
	return 0;
}

static u64 mem_size(void *ctx)
{
	return ((struct blk_mem *)ctx)->size;
}

static bool mem_read_only(void *ctx)
{
	return ((struct blk_mem *)ctx)->read_only;
}

const struct blk_backend_ops blk_mem_ops = {
	.read = mem_read,
	.write = mem_write,
	.flush = mem_flush,
	.size = mem_size,
	.read_only = mem_read_only,
};

void blk_mem_init(struct blk_mem *m, void *data, u64 size, bool read_only)
{
	*m = (struct blk_mem){ .data = data, .size = size, .read_only = read_only };
}
