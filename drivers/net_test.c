/*
 * The network self-test (config: selftest = net). It exercises uhv's own
 * NIC drivers before anything needs VMX, so it runs under QEMU TCG as
 * well as Bochs, against a peer outside the emulator (tests/net/
 * echo-peer.py, which checks what uhv sent and answers each frame):
 *
 *   uhv -> peer: broadcast, EtherType TEST_ETHERTYPE, "UHVT", seq (4
 *                bytes, big-endian), then payload byte i = seq * 7 + i;
 *   peer -> uhv: to uhv's MAC, "UHVR", the same seq, the payload with
 *                every byte inverted (proof that the peer read it).
 *
 * First SINGLE frames one at a time (the round trip is measured), then
 * BURST frames back to back before any reply is read (the rings fill
 * and drain). Lengths walk 60..1514. Each reply must come within
 * REPLY_MS and match exactly; anything else fails the NIC.
 */
#include "drivers/netdev.h"
#include "drivers/console.h"
#include "drivers/mmio.h"
#include "lib/string.h"

#define TEST_ETHERTYPE 0x88b5      /* IEEE 802 local experimental 1 */
#define SINGLE         24
#define BURST          16          /* below the drivers' ring sizes */
#define REPLY_MS       2000
#define LEN_MIN        60          /* the shortest frame on the wire */
#define LEN_STEP       181         /* walks the lengths unevenly */
#define OFF_TYPE       12
#define OFF_MAGIC      14
#define OFF_SEQ        18
#define OFF_PAYLOAD    22
#define SEQ_MUL        7
static const u8 broadcast[NETDEV_ALEN] = { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff };
static const char magic_out[4] = { 'U', 'H', 'V', 'T' };
static const char magic_back[4] = { 'U', 'H', 'V', 'R' };

static u8 out[NETDEV_FRAME_MAX], in[NETDEV_FRAME_MAX];

static u32 frame_len(u32 seq)
{
	return LEN_MIN + seq * LEN_STEP % (NETDEV_FRAME_MAX - LEN_MIN + 1);
}

/* Frame seq from d as the peer expects it, in out. */
static u32 build(const struct netdev *d, u32 seq)
{
	u32 len = frame_len(seq);

	memcpy(out, broadcast, NETDEV_ALEN);
	memcpy(out + NETDEV_ALEN, d->mac, NETDEV_ALEN);
	out[OFF_TYPE] = TEST_ETHERTYPE >> 8;
	out[OFF_TYPE + 1] = (u8)TEST_ETHERTYPE;
	memcpy(out + OFF_MAGIC, magic_out, sizeof(magic_out));
	for (int i = 0; i < 4; i++)
		out[OFF_SEQ + i] = (u8)(seq >> (24 - 8 * i));
	for (u32 i = OFF_PAYLOAD; i < len; i++)
		out[i] = (u8)(seq * SEQ_MUL + i - OFF_PAYLOAD);
	return len;
}

/* Whether in (len bytes) is the peer's exact answer to frame seq. */
static bool is_reply(const struct netdev *d, u32 seq, u32 len)
{
	if (len != frame_len(seq) || memcmp(in, d->mac, NETDEV_ALEN) ||
	    in[OFF_TYPE] != TEST_ETHERTYPE >> 8 ||
	    in[OFF_TYPE + 1] != (u8)TEST_ETHERTYPE ||
	    memcmp(in + OFF_MAGIC, magic_back, sizeof(magic_back)))
		return false;
	for (int i = 0; i < 4; i++)
		if (in[OFF_SEQ + i] != (u8)(seq >> (24 - 8 * i)))
			return false;
	for (u32 i = OFF_PAYLOAD; i < len; i++)
		if (in[i] != (u8)~(seq * SEQ_MUL + i - OFF_PAYLOAD))
			return false;
	return true;
}

/* Waits up to REPLY_MS for the reply to seq; its TSC ticks, or 0 if it
   did not come or was wrong. Frames of other kinds are skipped. */
static u64 await_reply(struct netdev *d, u32 seq, u64 sent)
{
	u64 limit = mmio_deadline(REPLY_MS);
	u32 len;

	while (!mmio_expired(limit)) {
		if (!(len = d->recv(d, in, sizeof(in))))
			continue;
		if (in[OFF_TYPE] != TEST_ETHERTYPE >> 8 ||
		    in[OFF_TYPE + 1] != (u8)TEST_ETHERTYPE)
			continue;          /* the emulator's own traffic */
		return is_reply(d, seq, len) ? MAX(rdtsc() - sent, 1ULL) : 0;
	}
	return 0;
}

/* One frame at a time: *worst gets the slowest round trip, *total
   their sum. */
static const char *run_single(struct netdev *d, u32 *seq, u64 *worst,
			      u64 *total)
{
	for (u32 i = 0; i < SINGLE; i++, (*seq)++) {
		u64 t, sent = rdtsc();

		if (!d->send(d, out, build(d, *seq)))
			return "the transmit ring refused a frame";
		if (!(t = await_reply(d, *seq, sent)))
			return "a reply was missing or wrong";
		*worst = MAX(*worst, t);
		*total += t;
	}
	return NULL;
}

/* BURST frames sent before the first reply is read. */
static const char *run_burst(struct netdev *d, u32 *seq)
{
	u32 first = *seq;

	for (u32 i = 0; i < BURST; i++)
		if (!d->send(d, out, build(d, first + i)))
			return "the transmit ring refused a frame of the burst";
	for (u32 i = 0; i < BURST; i++)
		if (!await_reply(d, first + i, rdtsc()))
			return "a reply to the burst was missing or wrong";
	*seq = first + BURST;
	return NULL;
}

static u64 usec(u64 ticks, u64 tsc_hz)
{
	return tsc_hz ? ticks * 1000000 / tsc_hz : 0;
}

static void print_mac(const char *name, const u8 *m, bool link)
{
	printk("uhv: net: %s MAC %02x:%02x:%02x:%02x:%02x:%02x, link %s\n",
	       name, m[0], m[1], m[2], m[3], m[4], m[5], link ? "up" : "down");
}

/* Every NIC: link, SINGLE round trips, a burst; the figures printed. */
int net_selftest(u64 (*alloc_page)(void), u64 tsc_hz)
{
	static struct netdev devs[NETDEV_MAX];
	int n = netdev_probe(devs, NETDEV_MAX, alloc_page), failed = 0;

	printk("uhv: net selftest: %d NIC(s) found\n", n);
	for (int i = 0; i < n; i++) {
		struct netdev *d = &devs[i];
		bool link = d->link_up(d);
		const char *why = link ? NULL : "no link";
		u64 worst = 0, total = 0;
		u32 seq = 0;

		print_mac(d->name, d->mac, link);
		if (!why)
			why = run_single(d, &seq, &worst, &total);
		if (!why)
			why = run_burst(d, &seq);
		failed += why != NULL;
		printk("uhv: net selftest %s (%s): %u frames sent, %llu received, "
		       "round trip mean %llu us, slowest %llu us: %s%s\n",
		       d->name, d->model, seq,
		       (unsigned long long)d->stats.rx_frames,
		       (unsigned long long)usec(total / SINGLE, tsc_hz),
		       (unsigned long long)usec(worst, tsc_hz),
		       why ? "FAIL: " : "PASS", why ? why : "");
	}
	printk("uhv: net selftest: %d NIC(s) tested, %d failed\n", n, failed);
	return failed || !n ? -1 : 0;
}
