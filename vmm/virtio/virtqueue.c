/*
 * Split virtqueues, device side (virtio 1.2 §2.7). The driver owns the
 * descriptor table and the available ring, the device the used ring; the
 * driver may write anything into its parts, so every value read from
 * them is checked before use, and each descriptor is read once into a
 * local copy (a driver changing it afterwards changes nothing here).
 *
 * Indexes are free-running 16-bit counters (§2.7.6, §2.7.8): a ring slot
 * is index mod size, which is a mask because size is a power of two.
 */
#include "vmm/virtio/virtqueue.h"
#include "lib/fmt.h"

#define BITS_PER_BYTE 8
/* §2.7.5.2: a chain is less than 2^32 bytes long in total. */
#define CHAIN_BYTES_MAX 0xffffffffULL

typedef unsigned long long ull;   /* for %llx: u64 is unsigned long here */

/* A descriptor as read from a table (§2.7.5). */
struct desc {
	u64 addr;
	u32 len;
	u16 flags, next;
};

/* The state of one chain walk, across the direct and indirect tables. */
struct walk {
	struct virtq_chain *c;
	unsigned count;        /* buffers so far, to hold the queue-size limit */
};

/*
 * Orders this side's ring accesses against the driver's on another CPU:
 * ring entries after avail->idx, used->idx after the used element, and
 * the driver's suppression fields after our used->idx (§2.7.7, §2.7.13).
 * A full fence: negligible next to the VM exit that brought us here.
 */
static inline void ring_fence(void)
{
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
}

int virtq_fail(struct virtq *vq, int err, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	fmt_vsn(vq->why, sizeof(vq->why), fmt, ap);
	va_end(ap);
	return err;
}

void virtq_reset(struct virtq *vq)
{
	memset(vq, 0, sizeof(*vq));
}

static bool is_pow2(u64 x)
{
	return x && !(x & (x - 1));
}

/* Checks one area of the queue: aligned and inside guest RAM (§2.7). */
static int check_area(struct virtq *vq, const char *what, u64 gpa, u64 len,
		      u64 align)
{
	if (!IS_ALIGNED(gpa, align))
		return virtq_fail(vq, VIRTQ_ERR_SETUP,
				  "%s area at 0x%llx is not %u-byte aligned",
				  what, (ull)gpa, (unsigned)align);
	if (!gmem_ok(vq->mem, gpa, len))
		return virtq_fail(vq, VIRTQ_ERR_SETUP,
				  "%s area [0x%llx, +0x%llx) is outside guest RAM",
				  what, (ull)gpa, (ull)len);
	return 0;
}

int virtq_setup(struct virtq *vq, const struct gmem *mem, u16 size, u64 desc,
		u64 avail, u64 used, u64 features)
{
	virtq_reset(vq);
	vq->mem = mem;
	if (!is_pow2(size) || size > VIRTQ_MAX_SIZE)
		return virtq_fail(vq, VIRTQ_ERR_SETUP,
				  "queue size %u is not a power of two up to %u",
				  size, VIRTQ_MAX_SIZE);
	if (check_area(vq, "descriptor", desc, VIRTQ_DESC_BYTES(size),
		       VIRTQ_DESC_ALIGN) ||
	    check_area(vq, "driver", avail, VIRTQ_AVAIL_BYTES(size),
		       VIRTQ_AVAIL_ALIGN) ||
	    check_area(vq, "device", used, VIRTQ_USED_BYTES(size),
		       VIRTQ_USED_ALIGN))
		return VIRTQ_ERR_SETUP;
	vq->desc = desc;
	vq->avail = avail;
	vq->used = used;
	vq->event_idx = features & BIT(VIRTIO_F_RING_EVENT_IDX);
	vq->indirect = features & BIT(VIRTIO_F_RING_INDIRECT_DESC);
	vq->size = size;               /* last: size != 0 means usable */
	return 0;
}

/* ---- ring fields ---- */

static int ring_get16(struct virtq *vq, u64 gpa, u16 *v)
{
	u8 b[sizeof(u16)];

	if (!gmem_read(vq->mem, gpa, b, sizeof(b)))
		return virtq_fail(vq, VIRTQ_ERR_RANGE,
				  "ring read at 0x%llx outside guest RAM", (ull)gpa);
	*v = le16_get(b);
	return 0;
}

static int ring_put(struct virtq *vq, u64 gpa, u64 v, unsigned bytes)
{
	u8 b[sizeof(u64)];

	le_put(b, v, bytes);
	if (!gmem_write(vq->mem, gpa, b, bytes))
		return virtq_fail(vq, VIRTQ_ERR_RANGE,
				  "ring write at 0x%llx outside guest RAM", (ull)gpa);
	return 0;
}

/* The address of used_event (after the avail ring) and avail_event
   (after the used ring), §2.7.6 and §2.7.8. */
static u64 used_event_at(const struct virtq *vq)
{
	return vq->avail + VIRTQ_AVAIL_RING + (u64)VIRTQ_AVAIL_ENTRY * vq->size;
}

static u64 avail_event_at(const struct virtq *vq)
{
	return vq->used + VIRTQ_USED_RING + (u64)VIRTQ_USED_ENTRY * vq->size;
}

/* How many chains the driver has made available past last_avail. More
   than the queue size is impossible for a correct driver (§2.7.6.1). */
static int avail_count(struct virtq *vq, u16 *n)
{
	u16 idx = 0;
	int r;

	if (!vq->size)
		return virtq_fail(vq, VIRTQ_ERR_SETUP, "queue is not set up");
	r = ring_get16(vq, vq->avail + VIRTQ_AVAIL_IDX, &idx);
	if (r)
		return r;
	*n = (u16)(idx - vq->last_avail);
	if (*n > vq->size)
		return virtq_fail(vq, VIRTQ_ERR_AVAIL,
				  "available idx %u is %u ahead of %u, more than the queue size %u",
				  idx, *n, vq->last_avail, vq->size);
	ring_fence();                  /* ring entries only after idx */
	return 0;
}

int virtq_pending(struct virtq *vq)
{
	u16 n = 0;
	int r = avail_count(vq, &n);

	return r ? r : n != 0;
}

/* ---- chain walking ---- */

static int load_desc(struct virtq *vq, u64 table, u16 i, struct desc *d)
{
	u8 b[VIRTQ_DESC_SIZE];
	u64 gpa = table + (u64)i * VIRTQ_DESC_SIZE;

	if (!gmem_read(vq->mem, gpa, b, sizeof(b)))
		return virtq_fail(vq, VIRTQ_ERR_RANGE,
				  "descriptor %u at 0x%llx is outside guest RAM",
				  i, (ull)gpa);
	d->addr = le64_get(b + VIRTQ_DESC_ADDR);
	d->len = le32_get(b + VIRTQ_DESC_LEN);
	d->flags = le16_get(b + VIRTQ_DESC_FLAGS);
	d->next = le16_get(b + VIRTQ_DESC_NEXT);
	return 0;
}

/* Appends one buffer to the scatter list, after checking it. */
static int add_seg(struct virtq *vq, struct walk *w, const struct desc *d)
{
	struct virtq_chain *c = w->c;
	bool writable = d->flags & VIRTQ_DESC_F_WRITE;

	if (++w->count > vq->size)
		return virtq_fail(vq, VIRTQ_ERR_LONG,
				  "chain at head %u has more than %u buffers (the queue size)",
				  c->head, vq->size);
	if (!gmem_ok(vq->mem, d->addr, d->len))
		return virtq_fail(vq, VIRTQ_ERR_RANGE,
				  "buffer [0x%llx, +0x%x) is outside guest RAM",
				  (ull)d->addr, d->len);
	if (!writable && c->nr_write)      /* §2.7.4.2 */
		return virtq_fail(vq, VIRTQ_ERR_ORDER,
				  "chain at head %u has a device-readable buffer after a device-writable one",
				  c->head);
	if ((u64)c->read_len + c->write_len + d->len > CHAIN_BYTES_MAX)
		return virtq_fail(vq, VIRTQ_ERR_LONG,
				  "chain at head %u is 4 GiB or longer", c->head);
	c->seg[c->nr_read + c->nr_write] = (struct virtq_seg){ d->addr, d->len };
	if (writable) {
		c->nr_write++;
		c->write_len += d->len;
	} else {
		c->nr_read++;
		c->read_len += d->len;
	}
	return 0;
}

static int walk_table(struct virtq *vq, struct walk *w, u64 table,
		      unsigned entries, u16 i, bool nested);

/* A descriptor pointing at an indirect table (§2.7.5.3): it ends the
   direct chain, and the table holds the rest. */
static int walk_indirect(struct virtq *vq, struct walk *w,
			 const struct desc *d, bool nested)
{
	unsigned entries = d->len / VIRTQ_DESC_SIZE;

	if (!vq->indirect)
		return virtq_fail(vq, VIRTQ_ERR_INDIRECT,
				  "indirect descriptor, but RING_INDIRECT_DESC was not negotiated");
	if (nested)
		return virtq_fail(vq, VIRTQ_ERR_INDIRECT,
				  "indirect descriptor inside an indirect table");
	if (d->flags & VIRTQ_DESC_F_NEXT)
		return virtq_fail(vq, VIRTQ_ERR_INDIRECT,
				  "descriptor has both INDIRECT and NEXT");
	if (!d->len || d->len % VIRTQ_DESC_SIZE)
		return virtq_fail(vq, VIRTQ_ERR_INDIRECT,
				  "indirect table of %u bytes is not a whole number of descriptors",
				  d->len);
	if (entries > vq->size)
		return virtq_fail(vq, VIRTQ_ERR_LONG,
				  "indirect table of %u descriptors is longer than the queue (%u)",
				  entries, vq->size);
	if (!gmem_ok(vq->mem, d->addr, d->len))
		return virtq_fail(vq, VIRTQ_ERR_RANGE,
				  "indirect table [0x%llx, +0x%x) is outside guest RAM",
				  (ull)d->addr, d->len);
	/* the table's own WRITE flag means nothing (§2.7.5.3.2) */
	return walk_table(vq, w, d->addr, entries, 0, true);
}

/*
 * Follows a chain through one table from index i. A bitmap of visited
 * entries (entries <= VIRTQ_MAX_SIZE) catches loops, so the walk ends
 * within `entries` steps whatever the driver wrote.
 */
static int walk_table(struct virtq *vq, struct walk *w, u64 table,
		      unsigned entries, u16 i, bool nested)
{
	u8 seen[VIRTQ_MAX_SIZE / BITS_PER_BYTE] = { 0 };
	struct desc d = { 0 };
	int r;

	for (;;) {
		if (i >= entries)
			return virtq_fail(vq, VIRTQ_ERR_INDEX,
					  "%s descriptor index %u is outside the %u-entry table",
					  nested ? "indirect" : "next", i, entries);
		if (seen[i / BITS_PER_BYTE] & BIT(i % BITS_PER_BYTE))
			return virtq_fail(vq, VIRTQ_ERR_LOOP,
					  "chain at head %u loops back to %sdescriptor %u",
					  w->c->head, nested ? "indirect " : "", i);
		seen[i / BITS_PER_BYTE] |= (u8)BIT(i % BITS_PER_BYTE);
		r = load_desc(vq, table, i, &d);
		if (r)
			return r;
		if (d.flags & VIRTQ_DESC_F_INDIRECT)
			return walk_indirect(vq, w, &d, nested);
		r = add_seg(vq, w, &d);
		if (r || !(d.flags & VIRTQ_DESC_F_NEXT))
			return r;
		i = d.next;
	}
}

int virtq_pop(struct virtq *vq, struct virtq_chain *c)
{
	struct walk w = { .c = c };
	u64 slot;
	u16 n = 0, head = 0;
	int r = avail_count(vq, &n);

	if (r || !n)
		return r;
	slot = vq->avail + VIRTQ_AVAIL_RING +
	       (u64)VIRTQ_AVAIL_ENTRY * (vq->last_avail & (vq->size - 1));
	r = ring_get16(vq, slot, &head);
	if (r)
		return r;
	if (head >= vq->size)
		return virtq_fail(vq, VIRTQ_ERR_INDEX,
				  "available ring holds head %u, outside the %u-entry table",
				  head, vq->size);
	c->head = head;
	c->nr_read = c->nr_write = 0;
	c->read_len = c->write_len = 0;
	r = walk_table(vq, &w, vq->desc, vq->size, head, false);
	if (r)
		return r;
	vq->last_avail++;
	return 1;
}

/* ---- the two byte streams of a chain ---- */

void *virtq_span(const struct virtq *vq, const struct virtq_chain *c,
		 bool writable, u64 off, u64 *len)
{
	unsigned first = writable ? c->nr_read : 0;
	unsigned end = first + (writable ? c->nr_write : c->nr_read);

	for (unsigned i = first; i < end; i++) {
		const struct virtq_seg *s = &c->seg[i];

		if (off < s->len) {
			*len = MIN(*len, s->len - off);
			return gmem_ptr(vq->mem, s->addr + off, *len);
		}
		off -= s->len;
	}
	return NULL;
}

/* Copies between buf and one part of the chain (to_guest: buf -> chain). */
static int copy(struct virtq *vq, const struct virtq_chain *c, bool writable,
		u64 off, u8 *buf, u64 len)
{
	u64 part = writable ? c->write_len : c->read_len;

	if (off > part || len > part - off)
		return virtq_fail(vq, VIRTQ_ERR_ACCESS,
				  "device %s of %llu bytes at %llu is past the %llu device-%s bytes",
				  writable ? "write" : "read", (ull)len, (ull)off,
				  (ull)part, writable ? "writable" : "readable");
	while (len) {
		u64 n = len;
		u8 *p = virtq_span(vq, c, writable, off, &n);

		if (!p)                    /* the segments were checked: */
			return virtq_fail(vq, VIRTQ_ERR_RANGE,  /* RAM shrank */
					  "buffer left guest RAM");
		if (writable)
			memcpy(p, buf, n);
		else
			memcpy(buf, p, n);
		buf += n;
		off += n;
		len -= n;
	}
	return 0;
}

int virtq_read(struct virtq *vq, const struct virtq_chain *c, u64 off,
	       void *dst, u64 len)
{
	return copy(vq, c, false, off, dst, len);
}

int virtq_write(struct virtq *vq, const struct virtq_chain *c, u64 off,
		const void *src, u64 len)
{
	return copy(vq, c, true, off, (u8 *)src, len);
}

/* ---- completion and notification suppression ---- */

int virtq_fill(struct virtq *vq, const struct virtq_chain *c, u32 len,
	       u16 k)
{
	u64 slot;
	int r;

	if (!vq->size)
		return virtq_fail(vq, VIRTQ_ERR_SETUP, "queue is not set up");
	if (c->head >= vq->size || len > c->write_len || k >= vq->size)
		return virtq_fail(vq, VIRTQ_ERR_ACCESS,
				  "used element head %u length %u does not fit the chain",
				  c->head, len);
	slot = vq->used + VIRTQ_USED_RING + (u64)VIRTQ_USED_ENTRY *
	       ((u16)(vq->used_idx + k) & (vq->size - 1));
	r = ring_put(vq, slot, c->head, sizeof(u32));
	return r ? r : ring_put(vq, slot + sizeof(u32), len, sizeof(u32));
}

int virtq_flush(struct virtq *vq, u16 n)
{
	if (!vq->size)
		return virtq_fail(vq, VIRTQ_ERR_SETUP, "queue is not set up");
	ring_fence();                  /* the elements before idx (§2.7.8.2) */
	vq->used_idx = (u16)(vq->used_idx + n);
	return ring_put(vq, vq->used + VIRTQ_USED_IDX, vq->used_idx, sizeof(u16));
}

int virtq_push(struct virtq *vq, const struct virtq_chain *c, u32 len)
{
	int r = virtq_fill(vq, c, len, 0);

	return r ? r : virtq_flush(vq, 1);
}

void virtq_unpop(struct virtq *vq, u16 n)
{
	vq->last_avail = (u16)(vq->last_avail - n);
}

bool virtq_should_signal(struct virtq *vq)
{
	u16 old = vq->signalled_used, now = vq->used_idx, v = 0;

	if (!vq->size || old == now)
		return false;
	vq->signalled_used = now;
	ring_fence();                  /* read the driver's wish after used->idx */
	if (!vq->event_idx) {
		if (ring_get16(vq, vq->avail + VIRTQ_AVAIL_FLAGS, &v))
			return true;       /* unreadable: err towards an interrupt */
		return !(v & VIRTQ_AVAIL_F_NO_INTERRUPT);
	}
	if (ring_get16(vq, used_event_at(vq), &v))
		return true;
	/* The elements just pushed went to used idx old .. now-1; the driver
	   wants an interrupt if one of them is at used_event (mod 2^16). */
	return (u16)(v - old) < (u16)(now - old);
}

int virtq_set_notify(struct virtq *vq, bool on)
{
	int r;

	if (!vq->size)
		return virtq_fail(vq, VIRTQ_ERR_SETUP, "queue is not set up");
	if (vq->event_idx)             /* flags stay 0 with EVENT_IDX */
		r = on ? ring_put(vq, avail_event_at(vq), vq->last_avail,
				  sizeof(u16)) : 0;
	else
		r = ring_put(vq, vq->used + VIRTQ_USED_FLAGS,
			     on ? 0 : VIRTQ_USED_F_NO_NOTIFY, sizeof(u16));
	ring_fence();                  /* the store before any re-check of idx */
	return r;
}

int virtq_drain(struct virtq *vq, struct virtq_chain *chain,
		int (*handle)(void *ctx, struct virtq *vq), void *ctx)
{
	int r;

	for (;;) {
		r = virtq_set_notify(vq, false);
		while (!r && (r = virtq_pop(vq, chain)) > 0)
			r = handle(ctx, vq);
		if (r < 0)
			return r;
		r = virtq_set_notify(vq, true);
		if (!r)
			r = virtq_pending(vq);
		if (r <= 0)
			return r;
	}
}
