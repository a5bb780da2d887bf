/*
 * The pcap stream and its ring (capture.h): pure C, no hardware, so the
 * host unit tests read back what it writes. Records are complete in the
 * ring before the sender may take any byte of them: capture_ring_add
 * either queues a whole record or nothing.
 */
#include "vmm/net/capture.h"
#include "lib/string.h"
#include "lib/bytes.h"

#define RING_MASK (CAPTURE_RING_BYTES - 1)

_Static_assert((CAPTURE_RING_BYTES & RING_MASK) == 0,
	       "CAPTURE_RING_BYTES must be a power of 2");

/* pcap's fields are written little-endian (le_put): the magic then tells
   readers the byte order (draft-ietf-opsawg-pcap §4), whatever their own. */

u32 capture_ring_used(const struct capture_ring *r)
{
	return bytering_used(&r->q);
}

/*
 * The clock is uhv's: the wall clock the loader read at boot plus the
 * TSC ticks since. The remainder is scaled to microseconds before the
 * division, exact for any rate up to 1.8e13 Hz (remainder < hz).
 */
void capture_timestamp(const struct capture_clock *c, u64 now, u32 *sec,
		       u32 *usec)
{
	u64 ticks = now > c->base ? now - c->base : 0;

	if (!c->hz) {
		*sec = (u32)c->epoch;
		*usec = 0;
		return;
	}
	*sec = (u32)(c->epoch + ticks / c->hz);
	*usec = (u32)(ticks % c->hz * PCAP_USEC_PER_SEC / c->hz);
}

/* The file header (§4): it goes first, before any record. */
int capture_ring_init(struct capture_ring *r, u32 snaplen,
		      const struct capture_clock *clock)
{
	u8 h[PCAP_FILE_HDR_LEN] = { 0 };

	if (snaplen < CAPTURE_SNAPLEN_MIN || snaplen > CAPTURE_SNAPLEN_MAX)
		return -1;
	bytering_init(&r->q, r->buf, CAPTURE_RING_BYTES);
	r->snaplen = snaplen;
	r->clock = *clock;
	r->frames = r->bytes = r->dropped = 0;
	le_put(h, PCAP_MAGIC_USEC, sizeof(u32));
	le_put(h + 4, PCAP_VERSION_MAJOR, sizeof(u16));
	le_put(h + 6, PCAP_VERSION_MINOR, sizeof(u16));
	/* 8, 12: thiszone and sigfigs, both 0 (§4: "SHOULD be 0") */
	le_put(h + 16, snaplen, sizeof(u32));
	le_put(h + 20, PCAP_LINKTYPE_ETHERNET, sizeof(u32));
	bytering_put(&r->q, h, sizeof(h));          /* the ring is empty */
	return 0;
}

/* A packet record (§5): its header, then at most snaplen bytes. */
bool capture_ring_add(struct capture_ring *r, const u8 *frame, u32 len,
		      u64 now)
{
	u8 h[PCAP_REC_HDR_LEN];
	u32 incl = MIN(len, r->snaplen), sec, usec;

	if (bytering_room(&r->q) < PCAP_REC_HDR_LEN + incl) {
		r->dropped++;
		return false;
	}
	capture_timestamp(&r->clock, now, &sec, &usec);
	le_put(h, sec, sizeof(u32));
	le_put(h + 4, usec, sizeof(u32));
	le_put(h + 8, incl, sizeof(u32));
	le_put(h + 12, len, sizeof(u32));
	bytering_put(&r->q, h, sizeof(h));          /* room checked above */
	bytering_put(&r->q, frame, incl);
	r->frames++;
	r->bytes += len;
	return true;
}

u32 capture_ring_peek(const struct capture_ring *r, const u8 **p)
{
	return bytering_peek(&r->q, p);
}

void capture_ring_consume(struct capture_ring *r, u32 n)
{
	bytering_consume(&r->q, n);
}
