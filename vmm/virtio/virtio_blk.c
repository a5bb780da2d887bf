/*
 * The virtio block device (virtio 1.2 §5.2). A request is one chain:
 *
 *   device-readable:  le32 type, le32 reserved, le64 sector   (16 bytes)
 *                     data, for OUT
 *   device-writable:  data, for IN and GET_ID
 *                     u8 status                                (last byte)
 *
 * The chain may split these anywhere (§2.7.4.1): the header is read as a
 * byte stream, data moves segment by segment straight between guest RAM
 * and the backend, and the status is the last writable byte. Every
 * completion writes the whole writable part (data or zeros, then the
 * status) and reports that length as used, which keeps §2.7.8.2's "at
 * least len bytes written" true on error paths too.
 */
#include "vmm/virtio/virtio_blk.h"

/* PCI class: mass storage controller (0x01), other (0x80). */
#define BLK_PCI_CLASS   0x018000
#define BLK_FEATURES    (BIT(VIRTIO_BLK_F_SEG_MAX) | BIT(VIRTIO_BLK_F_BLK_SIZE) | \
			 BIT(VIRTIO_BLK_F_FLUSH) | VIRTIO_TRANSPORT_FEATURES)
#define STATUS_BYTES    1

/* The bytes of struct virtio_blk_config, little-endian (§5.2.4); the
   transport keeps off + size within VIRTIO_BLK_CFG_SIZE. */
static u64 config_read(void *dev, u32 off, unsigned size)
{
	const struct virtio_blk *b = dev;

	return virtio_config_bytes(b->config, off, size);
}

/* A transfer of len bytes at sector: whole sectors, all on the disk
   (§5.2.6.1). *pos is its byte offset. */
static bool in_range(const struct virtio_blk *b, u64 sector, u64 len, u64 *pos)
{
	if (len % VIRTIO_BLK_SECTOR || sector > b->capacity ||
	    len / VIRTIO_BLK_SECTOR > b->capacity - sector)
		return false;
	*pos = sector * VIRTIO_BLK_SECTOR;   /* sector <= capacity: no overflow */
	return true;
}

/*
 * Moves [from, to) of the chain's readable (OUT) or writable (IN) part
 * to or from the disk at byte pos, one contiguous piece at a time.
 * Returns a status, or a negative VIRTQ_ERR_*; *done counts the bytes
 * written into the chain.
 */
static int transfer(struct virtio_blk *b, struct virtq *vq, bool in, u64 from,
		    u64 to, u64 pos, u64 *done)
{
	for (u64 at = from; at < to; ) {
		u64 n = to - at;
		void *p = virtq_span(vq, &b->chain, in, at, &n);
		int r;

		if (!p)
			return virtq_fail(vq, VIRTQ_ERR_RANGE, "data left guest RAM");
		r = in ? b->be->read(b->be_ctx, pos + at - from, p, n) :
			 b->be->write(b->be_ctx, pos + at - from, p, n);
		if (r)
			return VIRTIO_BLK_S_IOERR;
		at += n;
		if (in)
			*done = at;
	}
	return VIRTIO_BLK_S_OK;
}

/* VIRTIO_BLK_T_IN: data is everything writable but the status byte. */
static int read_sectors(struct virtio_blk *b, struct virtq *vq, u64 sector,
			u64 *done)
{
	u64 len = b->chain.write_len - STATUS_BYTES, pos;

	if (b->chain.read_len > VIRTIO_BLK_HDR_SIZE)   /* data the device */
		return VIRTIO_BLK_S_IOERR;             /* would have to write */
	if (!in_range(b, sector, len, &pos))
		return VIRTIO_BLK_S_IOERR;
	b->reads++;
	b->read_bytes += len;
	return transfer(b, vq, true, 0, len, pos, done);
}

/* VIRTIO_BLK_T_OUT: data is everything readable after the header. */
static int write_sectors(struct virtio_blk *b, struct virtq *vq, u64 sector)
{
	u64 end = b->chain.read_len, pos, none = 0;

	if (b->chain.write_len > STATUS_BYTES)     /* data in device-writable */
		return VIRTIO_BLK_S_IOERR;         /* buffers: not to be read */
	if (b->read_only)                          /* and no data written */
		return VIRTIO_BLK_S_IOERR;         /* (§5.2.6.2) */
	if (!in_range(b, sector, end - VIRTIO_BLK_HDR_SIZE, &pos))
		return VIRTIO_BLK_S_IOERR;
	b->writes++;
	b->write_bytes += end - VIRTIO_BLK_HDR_SIZE;
	return transfer(b, vq, false, VIRTIO_BLK_HDR_SIZE, end, pos, &none);
}

/* VIRTIO_BLK_T_GET_ID: the 20-byte NUL-padded serial (§5.2.6). */
static int get_id(struct virtio_blk *b, struct virtq *vq, u64 *done)
{
	int r;

	if (b->chain.write_len - STATUS_BYTES < VIRTIO_BLK_ID_BYTES)
		return VIRTIO_BLK_S_IOERR;         /* §5.2.6.1: 20 bytes */
	r = virtq_write(vq, &b->chain, 0, b->id, VIRTIO_BLK_ID_BYTES);
	if (r)
		return r;
	*done = VIRTIO_BLK_ID_BYTES;
	return VIRTIO_BLK_S_OK;
}

static int execute(struct virtio_blk *b, struct virtq *vq, u32 type,
		   u64 sector, u64 *done)
{
	switch (type) {
	case VIRTIO_BLK_T_IN:
		return read_sectors(b, vq, sector, done);
	case VIRTIO_BLK_T_OUT:
		return write_sectors(b, vq, sector);
	case VIRTIO_BLK_T_FLUSH:           /* the sector is ignored */
		b->flushes++;
		return !b->be->flush || !b->be->flush(b->be_ctx) ?
		       VIRTIO_BLK_S_OK : VIRTIO_BLK_S_IOERR;
	case VIRTIO_BLK_T_GET_ID:
		return get_id(b, vq, done);
	default:                           /* discard, write zeroes, ... */
		return VIRTIO_BLK_S_UNSUPP;
	}
}

/* Zeroes [from, to) of the writable part: what the request did not fill. */
static int zero_fill(struct virtio_blk *b, struct virtq *vq, u64 from, u64 to)
{
	for (u64 at = from; at < to; ) {
		u64 n = to - at;
		void *p = virtq_span(vq, &b->chain, true, at, &n);

		if (!p)
			return virtq_fail(vq, VIRTQ_ERR_RANGE, "data left guest RAM");
		memset(p, 0, n);
		at += n;
	}
	return 0;
}

/* Carries out the popped request and returns it to the driver. */
static int handle(void *ctx, struct virtq *vq)
{
	struct virtio_blk *b = ctx;
	struct virtq_chain *c = &b->chain;
	u8 hdr[VIRTIO_BLK_HDR_SIZE], status;
	u64 done = 0, status_at;
	int r;

	if (c->read_len < VIRTIO_BLK_HDR_SIZE || c->write_len < STATUS_BYTES)
		return virtq_fail(vq, VIRTQ_ERR_REQUEST,
				  "request at head %u has %u readable and %u writable "
				  "bytes: no room for header and status",
				  c->head, c->read_len, c->write_len);
	r = virtq_read(vq, c, 0, hdr, sizeof(hdr));
	if (!r)
		r = execute(b, vq, le32_get(hdr + VIRTIO_BLK_HDR_TYPE),
			    le64_get(hdr + VIRTIO_BLK_HDR_SECTOR), &done);
	if (r < 0)
		return r;
	status = (u8)r;
	if (status != VIRTIO_BLK_S_OK)
		b->errors++;
	status_at = c->write_len - STATUS_BYTES;
	r = zero_fill(b, vq, done, status_at);
	if (!r)
		r = virtq_write(vq, c, status_at, &status, STATUS_BYTES);
	return r ? r : virtq_push(vq, c, c->write_len);
}

/* Takes every request the driver has made available (virtq_drain). */
static int queue_notify(void *dev, unsigned index, struct virtq *vq)
{
	struct virtio_blk *b = dev;

	(void)index;                       /* one queue: requestq1 (§5.2.2) */
	return virtq_drain(vq, &b->chain, handle, b);
}

int virtio_blk_init(struct virtio_blk *b, const struct blk_backend_ops *be,
		    void *be_ctx, const char *serial)
{
	if (!be || !be->read || !be->write || !be->size || !be->read_only)
		return -1;
	memset(b, 0, sizeof(*b));
	b->be = be;
	b->be_ctx = be_ctx;
	b->capacity = be->size(be_ctx) / VIRTIO_BLK_SECTOR;
	b->read_only = be->read_only(be_ctx);
	for (unsigned i = 0; serial && i < VIRTIO_BLK_ID_BYTES && serial[i]; i++)
		b->id[i] = (u8)serial[i];
	le_put(b->config + VIRTIO_BLK_CFG_CAPACITY, b->capacity, sizeof(u64));
	le_put(b->config + VIRTIO_BLK_CFG_SEG_MAX, VIRTIO_BLK_SEG_MAX, sizeof(u32));
	le_put(b->config + VIRTIO_BLK_CFG_BLK_SIZE, VIRTIO_BLK_SECTOR, sizeof(u32));
	b->ops = (struct virtio_device_ops){
		.name = "virtio-blk",
		.device_id = VIRTIO_ID_BLOCK,
		.pci_class = BLK_PCI_CLASS,
		.features = BLK_FEATURES |
			    (b->read_only ? BIT(VIRTIO_BLK_F_RO) : 0),
		.num_queues = 1,
		.queue_max = VIRTIO_BLK_QUEUE_SIZE,
		.config_size = VIRTIO_BLK_CFG_SIZE,
		.config_read = config_read,
		.queue_notify = queue_notify,
	};
	return 0;
}
