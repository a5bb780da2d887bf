/*
 * Traffic capture: every frame accepted on one bridge network (config:
 * capture = NETWORK[,snaplen=N]) streamed as a pcap file over COM3, a
 * serial port no guest can reach. The other end (tools/uhv-run
 * --capture FILE, or a cable) saves the bytes, and tshark or Wireshark
 * opens them as they are.
 *
 * Two halves. The pure one (capture.c, unit-tested) writes the libpcap
 * classic format into a fixed ring: the file header when capture
 * starts, then one whole record per frame. A frame that does not fit is
 * dropped whole and counted, so the stream never holds part of a record
 * and a reader never loses its place. The uhv half (capture_port.c) is
 * the bridge's capture hook and a poller that the run loop calls: it
 * drains the ring into the UART's FIFO without ever waiting for it. The
 * port runs at 115200 baud, about 11 KiB/s, so the snap length keeps
 * records short (default CAPTURE_SNAPLEN_DEFAULT bytes of each frame).
 *
 * pcap (draft-ietf-opsawg-pcap §4, §5), every field little endian here;
 * the magic tells a reader the byte order:
 *
 *   file header, 24 bytes                  record header, 16 bytes
 *   0  magic 0xa1b2c3d4 (microseconds)     0  ts_sec   seconds since 1970
 *   4  major 2 | 6 minor 4                 4  ts_usec  microseconds
 *   8  reserved (thiszone) 0               8  incl_len bytes that follow
 *  12  reserved (sigfigs) 0               12  orig_len the frame's length
 *  16  snaplen
 *  20  linktype 1 (LINKTYPE_ETHERNET)      then incl_len bytes of frame
 */
#ifndef UHV_VMM_CAPTURE_H
#define UHV_VMM_CAPTURE_H

#include "lib/types.h"
#include "lib/bytering.h"

#define PCAP_MAGIC_USEC       0xa1b2c3d4u
#define PCAP_VERSION_MAJOR    2
#define PCAP_VERSION_MINOR    4
#define PCAP_LINKTYPE_ETHERNET 1
#define PCAP_FILE_HDR_LEN     24
#define PCAP_REC_HDR_LEN      16
#define PCAP_USEC_PER_SEC     1000000ULL

#define CAPTURE_RING_BYTES    (256 * 1024)   /* a power of 2 */
#define CAPTURE_SNAPLEN_DEFAULT 256
#define CAPTURE_SNAPLEN_MIN   14     /* an Ethernet header */
#define CAPTURE_SNAPLEN_MAX   65535  /* what readers take without a fuss */

/* uhv's wall clock: epoch (s since 1970) when the TSC read base; hz: its
   rate. A frame sent at TSC now happened at epoch + (now - base) / hz. */
struct capture_clock {
	u64 epoch, base, hz;
};

/* The pcap stream waiting to be sent, in a byte FIFO over buf. */
struct capture_ring {
	u8 buf[CAPTURE_RING_BYTES];
	struct bytering q;
	u32 snaplen;
	struct capture_clock clock;
	u64 frames, bytes;       /* records queued; their frames' full lengths */
	u64 dropped;             /* frames that found the ring full */
};

/* Empties r and queues the file header; -1 if snaplen is outside
   CAPTURE_SNAPLEN_MIN..MAX (then r is untouched). */
int capture_ring_init(struct capture_ring *r, u32 snaplen,
		      const struct capture_clock *clock);
/* Queues a record of the first snaplen bytes of frame (len bytes, sent
   at TSC now). False if it does not fit whole: dropped and counted. */
bool capture_ring_add(struct capture_ring *r, const u8 *frame, u32 len,
		      u64 now);
/* The pcap time of TSC now: seconds since 1970 and microseconds. */
void capture_timestamp(const struct capture_clock *c, u64 now, u32 *sec,
		       u32 *usec);
/* Bytes queued and not yet sent. */
u32 capture_ring_used(const struct capture_ring *r);
/* The oldest unsent bytes that lie in one piece: sets *p, returns how
   many (0 if none). */
u32 capture_ring_peek(const struct capture_ring *r, const u8 **p);
/* Marks n bytes (at most what capture_ring_peek said) as sent. */
void capture_ring_consume(struct capture_ring *r, u32 n);

#endif
