/*
 * The device side of a split virtqueue (virtio 1.2 §2.7), read and written
 * through struct gmem only, so a hostile driver can at worst make a queue
 * fail: every ring, descriptor and buffer is bounds-checked against guest
 * RAM, chains are bounded by the queue size and loops are caught. A
 * failure returns a negative VIRTQ_ERR_* code and leaves a sentence in
 * vq->why saying what was wrong; the transport turns it into
 * DEVICE_NEEDS_RESET (§2.1.2) and logs the sentence.
 *
 * A device pops a chain into a struct virtq_chain (the scatter list:
 * device-readable segments first, then device-writable ones, §2.7.4),
 * reads the readable part and writes the writable part as two byte
 * streams, pushes the chain back with the number of bytes written, and
 * asks virtq_should_signal whether the driver wants an interrupt.
 *
 * Everything virtio puts in memory is little-endian (§1.4); the le*
 * helpers below are the one place that knows.
 */
#ifndef UHV_VMM_VIRTQUEUE_H
#define UHV_VMM_VIRTQUEUE_H

#include "vmm/gmem.h"
#include "lib/types.h"
#include "lib/bytes.h"            /* le16_get ... le_put (virtio 1.2 §1.4) */

/* The largest queue uhv offers (§2.7 allows 32768): it bounds a chain,
   and with it the scatter list, which must hold any legal chain. */
#define VIRTQ_MAX_SIZE 256

/* struct virtq_desc (§2.7.5): le64 addr, le32 len, le16 flags, le16 next. */
#define VIRTQ_DESC_SIZE        16
#define VIRTQ_DESC_ADDR        0
#define VIRTQ_DESC_LEN         8
#define VIRTQ_DESC_FLAGS       12
#define VIRTQ_DESC_NEXT        14
#define VIRTQ_DESC_F_NEXT      1     /* the chain goes on at `next` */
#define VIRTQ_DESC_F_WRITE     2     /* device-writable */
#define VIRTQ_DESC_F_INDIRECT  4     /* the buffer is a table (§2.7.5.3) */

/* struct virtq_avail (§2.7.6): le16 flags, le16 idx, le16 ring[size],
   le16 used_event. */
#define VIRTQ_AVAIL_FLAGS      0
#define VIRTQ_AVAIL_IDX        2
#define VIRTQ_AVAIL_RING       4
#define VIRTQ_AVAIL_ENTRY      2
#define VIRTQ_AVAIL_F_NO_INTERRUPT 1

/* struct virtq_used (§2.7.8): le16 flags, le16 idx, { le32 id, le32 len }
   ring[size], le16 avail_event. */
#define VIRTQ_USED_FLAGS       0
#define VIRTQ_USED_IDX         2
#define VIRTQ_USED_RING        4
#define VIRTQ_USED_ENTRY       8
#define VIRTQ_USED_F_NO_NOTIFY 1

/* Alignment of the three areas (§2.7, table at the top). */
#define VIRTQ_DESC_ALIGN       16
#define VIRTQ_AVAIL_ALIGN      2
#define VIRTQ_USED_ALIGN       4

/* Sizes of the areas, event fields included (§2.7). */
#define VIRTQ_DESC_BYTES(n)    ((u64)VIRTQ_DESC_SIZE * (n))
#define VIRTQ_AVAIL_BYTES(n)   (VIRTQ_AVAIL_RING + (u64)VIRTQ_AVAIL_ENTRY * (n) + 2)
#define VIRTQ_USED_BYTES(n)    (VIRTQ_USED_RING + (u64)VIRTQ_USED_ENTRY * (n) + 2)

/* Transport feature bits the queue code honours (§6). */
#define VIRTIO_F_RING_INDIRECT_DESC 28
#define VIRTIO_F_RING_EVENT_IDX     29

enum virtq_err {
	VIRTQ_ERR_SETUP = -1,     /* size or ring addresses unusable */
	VIRTQ_ERR_AVAIL = -2,     /* avail idx ran ahead by more than the size */
	VIRTQ_ERR_INDEX = -3,     /* a head or next index outside its table */
	VIRTQ_ERR_RANGE = -4,     /* memory outside guest RAM, or it wraps */
	VIRTQ_ERR_LOOP = -5,      /* a descriptor visited twice */
	VIRTQ_ERR_LONG = -6,      /* > size descriptors, or > 4 GiB in total */
	VIRTQ_ERR_ORDER = -7,     /* a readable descriptor after a writable one */
	VIRTQ_ERR_INDIRECT = -8,  /* an indirect descriptor breaking §2.7.5.3.1 */
	VIRTQ_ERR_ACCESS = -9,    /* device access past a readable/writable part */
	VIRTQ_ERR_REQUEST = -10,  /* the device could not parse the request */
};

#define VIRTQ_WHY_MAX 112

/* One guest buffer of a chain, already checked to lie in guest RAM. */
struct virtq_seg {
	u64 addr;
	u32 len;
};

/* A popped chain: seg[0, nr_read) are device-readable, then nr_write
   device-writable segments; read_len/write_len are their byte totals. */
struct virtq_chain {
	u16 head;
	u16 nr_read, nr_write;
	u32 read_len, write_len;
	struct virtq_seg seg[VIRTQ_MAX_SIZE];
};

struct virtq {
	const struct gmem *mem;
	u64 desc, avail, used;       /* guest-physical areas (§2.7) */
	u16 size;                    /* entries; 0 while not set up */
	bool event_idx, indirect;    /* negotiated VIRTIO_F_RING_* */
	u16 last_avail;              /* next avail ring slot to consume */
	u16 used_idx;                /* the device's copy of used->idx */
	u16 signalled_used;          /* used_idx when we last decided on an
				        interrupt (§2.7.7.2, EVENT_IDX) */
	char why[VIRTQ_WHY_MAX];     /* what the last failure was */
};

/* ---- set-up ---- */

/* Takes vq out of service (size 0); later calls fail with VIRTQ_ERR_SETUP. */
void virtq_reset(struct virtq *vq);

/*
 * Sets vq up on a queue the driver configured: size a power of two in
 * 1..VIRTQ_MAX_SIZE, the three areas aligned and inside guest RAM, and
 * features the negotiated feature bits (RING_EVENT_IDX and
 * RING_INDIRECT_DESC are taken from it). Indexes start at 0, as after a
 * reset (§2.7.6). Returns 0, or VIRTQ_ERR_SETUP (vq out of service, why
 * set). mem must outlive vq.
 */
int virtq_setup(struct virtq *vq, const struct gmem *mem, u16 size, u64 desc,
		u64 avail, u64 used, u64 features);

/* ---- consuming requests ---- */

/*
 * Pops the next available chain into *c, following NEXT links and at
 * most one indirect table (§2.7.5.3). Returns 1 with *c filled, 0 if the
 * driver has made nothing new available, or a negative VIRTQ_ERR_* with
 * why set. A chain is refused if any descriptor is outside guest RAM,
 * points outside its table, repeats, breaks the readable-then-writable
 * order, the chain has more descriptors than the queue size or more than
 * 4 GiB of buffers, or an indirect descriptor breaks §2.7.5.3.1.
 */
int virtq_pop(struct virtq *vq, struct virtq_chain *c);

/* 1 if the driver has made chains available that were not popped yet,
   0 if not, or a negative VIRTQ_ERR_* (why set). */
int virtq_pending(struct virtq *vq);

/*
 * Copies len bytes at offset off of the chain's device-readable part into
 * dst. VIRTQ_ERR_ACCESS (why set) if [off, off+len) is not all readable:
 * the device never reads a device-writable buffer.
 */
int virtq_read(struct virtq *vq, const struct virtq_chain *c, u64 off,
	       void *dst, u64 len);

/*
 * Copies len bytes from src to offset off of the chain's device-writable
 * part. VIRTQ_ERR_ACCESS (why set) if [off, off+len) is not all
 * writable: the device never writes a device-readable buffer (§2.7.5.1).
 */
int virtq_write(struct virtq *vq, const struct virtq_chain *c, u64 off,
		const void *src, u64 len);

/*
 * For moving data without a bounce buffer: a host pointer to offset off
 * of the readable (writable false) or writable part, with *len cut down
 * to the bytes that are contiguous there (at most the segment's rest).
 * NULL if off is at or past the end of that part. The bytes are guest
 * RAM: use them for the request at hand, not later.
 */
void *virtq_span(const struct virtq *vq, const struct virtq_chain *c,
		 bool writable, u64 off, u64 *len);

/* ---- completing requests ---- */

/*
 * Returns chain c to the driver with len bytes written (len <= the
 * writable length): the used element is stored before used->idx moves
 * (§2.7.8.2). Returns 0 or a negative VIRTQ_ERR_* (why set).
 */
int virtq_push(struct virtq *vq, const struct virtq_chain *c, u32 len);

/*
 * For a device that returns several chains as one unit (virtio-net's
 * mergeable receive buffers, §5.1.6.4): virtq_fill stores chain c as
 * the k-th used element after the ones published, invisible to the
 * driver until virtq_flush publishes n of them with one used->idx store
 * (§2.7.8.2: elements before idx). Both return 0 or a negative
 * VIRTQ_ERR_* (why set).
 */
int virtq_fill(struct virtq *vq, const struct virtq_chain *c, u32 len,
	       u16 k);
int virtq_flush(struct virtq *vq, u16 n);

/* Gives back the last n chains popped and not yet filled: the next
   virtq_pop returns them again (a device that found too little room,
   §5.1.6.4, leaves the buffers to a later frame). */
void virtq_unpop(struct virtq *vq, u16 n);

/*
 * After one or more pushes: whether the driver asked for a used buffer
 * notification for them (§2.7.7.2): NO_INTERRUPT in avail->flags
 * without EVENT_IDX, used_event with it. False if nothing was pushed
 * since the last call.
 */
bool virtq_should_signal(struct virtq *vq);

/*
 * Tells the driver whether to notify the device of new buffers
 * (§2.7.10.2): avail_event = last_avail when on with EVENT_IDX, else the
 * NO_NOTIFY flag. After turning notifications back on, a device must
 * check virtq_pending once more, or it could miss a buffer made
 * available in between. Returns 0 or a negative VIRTQ_ERR_*.
 */
int virtq_set_notify(struct virtq *vq, bool on);

/*
 * Takes every chain the driver has made available into chain and hands
 * each to handle(ctx, vq), with notifications off meanwhile and back on
 * at the end plus one more look, so a buffer made available in between
 * is not missed (§2.7.10). Returns 0, or the first negative error of the
 * queue or of handle. With the guest stopped while it runs, avail->idx
 * cannot move, so the loop ends.
 */
int virtq_drain(struct virtq *vq, struct virtq_chain *chain,
		int (*handle)(void *ctx, struct virtq *vq), void *ctx);

/* Records why the queue failed, for the transport's message, and returns
   err; devices use it for request-level failures (VIRTQ_ERR_REQUEST). */
int virtq_fail(struct virtq *vq, int err, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

#endif
