/*
 * A virtio block device (virtio 1.2 §5.2): one request queue, read,
 * write, flush and get-ID requests, over a backend that stores the bytes.
 * The device is a struct virtio_device_ops for the virtio-pci transport
 * (virtio.h); the backend is a struct blk_backend_ops, so the same device
 * serves an in-memory image (blk_mem, below) or, later, a host disk.
 *
 * Requests are taken synchronously when the driver notifies the queue.
 * A request the device can parse but not carry out completes with an
 * error status for the driver (IOERR, UNSUPP); one it cannot even parse
 * (no header, no status byte) makes the device need a reset, as a broken
 * queue does.
 */
#ifndef UHV_VMM_VIRTIO_BLK_H
#define UHV_VMM_VIRTIO_BLK_H

#include "vmm/virtio/virtio.h"

#define VIRTIO_ID_BLOCK          2            /* §5.2.1 */
#define VIRTIO_BLK_SECTOR        512          /* the protocol's unit (§5.2.4) */
#define VIRTIO_BLK_ID_BYTES      20           /* GET_ID string (§5.2.6) */
#define VIRTIO_BLK_QUEUE_SIZE    VIRTQ_MAX_SIZE
/* Data segments per request (seg_max): a chain, header and status
   included, stays within the queue size (§2.7.5.3.1). */
#define VIRTIO_BLK_SEG_MAX       (VIRTIO_BLK_QUEUE_SIZE - 2)

/* Feature bits (§5.2.3). */
#define VIRTIO_BLK_F_SEG_MAX     2
#define VIRTIO_BLK_F_RO          5
#define VIRTIO_BLK_F_BLK_SIZE    6
#define VIRTIO_BLK_F_FLUSH       9

/* struct virtio_blk_config (§5.2.4): the fields offered. */
#define VIRTIO_BLK_CFG_CAPACITY  0            /* le64, 512-byte sectors */
#define VIRTIO_BLK_CFG_SEG_MAX   12           /* le32 */
#define VIRTIO_BLK_CFG_BLK_SIZE  20           /* le32 */
#define VIRTIO_BLK_CFG_SIZE      60           /* through unused1[] */

/* struct virtio_blk_req (§5.2.6): le32 type, le32 reserved, le64 sector,
   data, then one status byte. */
#define VIRTIO_BLK_HDR_TYPE      0
#define VIRTIO_BLK_HDR_SECTOR    8
#define VIRTIO_BLK_HDR_SIZE      16
#define VIRTIO_BLK_T_IN          0
#define VIRTIO_BLK_T_OUT         1
#define VIRTIO_BLK_T_FLUSH       4
#define VIRTIO_BLK_T_GET_ID      8
#define VIRTIO_BLK_S_OK          0
#define VIRTIO_BLK_S_IOERR       1
#define VIRTIO_BLK_S_UNSUPP      2

/* Where the bytes of a disk live. Offsets and lengths are in bytes;
   buf is guest RAM, so a backend copies into or out of it directly. */
struct blk_backend_ops {
	/* Copy len bytes at off into buf; 0, or -1 on an I/O error. */
	int (*read)(void *ctx, u64 off, void *buf, u64 len);
	/* Copy len bytes from buf to off; 0, or -1 on an I/O error. */
	int (*write)(void *ctx, u64 off, const void *buf, u64 len);
	/* Make completed writes stable (§5.2.6.2); 0 or -1. May be NULL. */
	int (*flush)(void *ctx);
	/* The disk's size in bytes (read once, at init). */
	u64 (*size)(void *ctx);
	/* True if the disk must not be written (read once, at init). */
	bool (*read_only)(void *ctx);
};

struct virtio_blk {
	struct virtio_device_ops ops;      /* for virtio_pci_init */
	const struct blk_backend_ops *be;
	void *be_ctx;
	u64 capacity;                      /* in VIRTIO_BLK_SECTOR units */
	bool read_only;
	u8 id[VIRTIO_BLK_ID_BYTES];        /* NUL-padded serial */
	u8 config[VIRTIO_BLK_CFG_SIZE];    /* little-endian, as the driver sees it */
	struct virtq_chain chain;          /* the request at hand */
	u64 reads, writes, flushes, errors;
	u64 read_bytes, write_bytes;       /* data of the requests accepted */
};

/*
 * Makes b a block device on backend be (with its context): capacity is
 * the backend's size in whole sectors, read-only as the backend says
 * (offered as VIRTIO_BLK_F_RO), serial the GET_ID string (at most 20
 * bytes are used; NULL for none). Returns 0, or -1 if be lacks read,
 * write, size or read_only. Then:
 *   virtio_pci_init(&vp, &b->ops, b, &vm_ops, vm, &vm_mem);
 */
int virtio_blk_init(struct virtio_blk *b, const struct blk_backend_ops *be,
		    void *be_ctx, const char *serial);

/* An in-memory disk: a buffer the device reads and writes (tests, and
   volatile images loaded from the ESP). */
struct blk_mem {
	u8 *data;
	u64 size;
	bool read_only;
};

extern const struct blk_backend_ops blk_mem_ops;

/* Sets m up on [data, data + size); its ops are blk_mem_ops. */
void blk_mem_init(struct blk_mem *m, void *data, u64 size, bool read_only);

#endif
