/*
 * libFuzzer harness for the guest agent channel as uhv runs it: the
 * virtio-console device behind the virtio-pci transport, its backend the
 * agent line protocol (vmm/ctl/agent.c), whose requests go back out through
 * the device. Each input is a program for a hostile guest: a flags byte
 * (set the device up as a driver would first, features, MSI-X), then
 * operations: BAR reads and writes, bytes poked into guest RAM, raw
 * descriptors and available entries on either queue, transmit chains
 * carrying fuzzed lines (heartbeats, answers, junk), receive buffers,
 * notifications, requests from uhv and the clock moving on.
 *
 * Guest RAM is an exactly-sized global, so AddressSanitizer catches any
 * access outside it; the harness aborts if the device or the agent breaks
 * a promise (check_invariants, f_message).
 *
 *   make fuzz-console      (tests/fuzz/fuzz.mk) builds and runs it
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "tests/fuzz/fuzz_input.h"
#include "vmm/ctl/agent.h"
#include "vmm/virtio/virtio_console.h"

#define RAM_SIZE     KiB(512)
#define LOG_MAX      160
#define HZ           1000ULL
#define TX_DESC      0x8000ULL      /* transmitq's rings (queue 1) */
#define TX_AVAIL     0x9000ULL
#define TX_USED      0xa000ULL
#define TX_DATA      0x40000ULL
#define TX_DATA_MAX  0x8000ULL
#define TX_QSIZE     16
#define IDS_MAX      64

#define FL_INIT      0x01           /* negotiate, set both queues up */
#define FL_EVENT_IDX 0x02
#define FL_INDIRECT  0x04
#define FL_MSIX      0x08

enum op {
	OP_MMIO_WRITE, OP_MMIO_READ, OP_POKE, OP_KICK, OP_DESC, OP_AVAIL,
	OP_TX_LINE, OP_RX_POST, OP_REQUEST, OP_TICK, OP_INIT, NR_OPS
};

static u8 ram[RAM_SIZE];
static struct virtio_console con;
static struct virtio_pci vp;
static struct vdrv d;
static struct agent ag;
static u64 now, backend_bytes;
static u16 tx_avail_idx;
static u64 requested[IDS_MAX];      /* ids uhv sent and may hear about */
static unsigned nr_requested;


static void f_log(void *ctx, const char *msg)
{
	(void)ctx;
	if (!memchr(msg, 0, LOG_MAX))
		abort();
}

static const struct virtio_pci_ops vm_ops = { .log = f_log };

/* The device's backend: the agent. */
static void f_receive(void *ctx, const u8 *data, u32 len)
{
	(void)ctx;
	if (!len)
		abort();
	backend_bytes += len;
	agent_input(&ag, data, len, now);
}

static const struct console_backend_ops be_ops = { f_receive };

static int f_send(void *ctx, const char *data, size_t len)
{
	(void)ctx;
	return virtio_console_write(&con, (const u8 *)data, (u32)len);
}

/* An answer must answer a request uhv made, and fit the line bound. */
static void f_message(void *ctx, u64 id, const char *data, size_t len)
{
	unsigned i;

	(void)ctx;
	(void)data;
	for (i = 0; i < nr_requested && requested[i] != id; i++)
		;
	if (i == nr_requested || len >= AGENT_LINE_MAX)
		abort();
}

static void f_lost(void *ctx)
{
	(void)ctx;
	if (agent_connected(&ag))
		abort();
}

static const struct agent_ops agent_ops = { f_send, f_message, f_lost, f_log };

static void check_invariants(void)
{
	if (virtio_console_pending(&con) > VIRTIO_CONSOLE_OUT_MAX ||
	    ag.len > AGENT_LINE_MAX || backend_bytes != con.stats.tx_bytes)
		abort();
	if ((vp.status & VIRTIO_STATUS_DRIVER_OK) &&
	    !(vp.status & VIRTIO_STATUS_FEATURES_OK))
		abort();
	for (unsigned i = 0; i < VIRTIO_PCI_MAX_QUEUES; i++)
		if (vp.q[i].enabled && i >= con.ops.num_queues)
			abort();
}

/* A kick must not use anything while the device needs a reset. */
static void kick(struct input *in)
{
	bool stopped = vp.status & VIRTIO_STATUS_NEEDS_RESET;
	u16 rx = vd_used_idx(&d), tx = vd_get16(&d, TX_USED + VIRTQ_USED_IDX);

	vd_kick(&d, (u16)(take(in, 1) % 3));
	if (stopped && (vd_used_idx(&d) != rx ||
			vd_get16(&d, TX_USED + VIRTQ_USED_IDX) != tx))
		abort();
}

/* One raw descriptor in either queue's table. */
static void desc(struct input *in)
{
	u8 how = (u8)take(in, 1);
	u64 table = how & 1 ? TX_DESC : VD_DESC;
	u16 i = (u16)(take(in, 1) % TX_QSIZE);
	u64 addr = how & 0x80 ? take(in, 8) : TX_DATA + take(in, 2);
	u32 len = (u32)take(in, 2);
	u16 flags = (u16)take(in, 1), next = (u16)take(in, 1);

	vd_desc(&d, table, i, addr, len, flags, next);
}

static void tx_avail(u16 head)
{
	vd_put16(&d, TX_AVAIL + VIRTQ_AVAIL_RING +
		 VIRTQ_AVAIL_ENTRY * (tx_avail_idx & (TX_QSIZE - 1)), head);
	vd_put16(&d, TX_AVAIL + VIRTQ_AVAIL_IDX, ++tx_avail_idx);
}

/* A transmit chain of 1-3 pieces carrying input bytes, or a heartbeat,
   or an answer to a request made, with fuzzed text after the id. */
static void tx_line(struct input *in)
{
	u8 how = (u8)take(in, 1);
	u16 head = (u16)(take(in, 1) % (TX_QSIZE - 3)), pieces = how % 3 + 1;
	char *buf = (char *)ram + TX_DATA;
	size_t len = 0, n = (size_t)take(in, 2) % TX_DATA_MAX;

	if (how & 0x10)
		len = (size_t)sprintf(buf, "hb\n");
	else if (how & 0x20 && nr_requested)
		len = (size_t)sprintf(buf, "%llu ", (unsigned long long)
				      requested[take(in, 1) % nr_requested]);
	n = MIN(n, in->n);          /* after the takes; MIN evaluates twice */
	memcpy(buf + len, in->p, n);
	in->p += n;
	in->n -= n;
	len += n;
	for (u16 k = 0; k < pieces; k++) {
		u32 from = (u32)(len * k / pieces), to = (u32)(len * (k + 1) / pieces);

		vd_desc(&d, TX_DESC, (u16)(head + k), TX_DATA + from, to - from,
			k + 1 < pieces ? VIRTQ_DESC_F_NEXT : 0, (u16)(head + k + 1));
	}
	tx_avail(head);
}

/* A receive buffer on receiveq, mostly well formed. */
static void rx_post(struct input *in)
{
	u16 i = (u16)(take(in, 1) % TX_QSIZE);
	u16 flags = take(in, 1) & 0x80 ? (u16)take(in, 1) : VIRTQ_DESC_F_WRITE;

	if (!d.qsize)
		d.qsize = TX_QSIZE;
	vd_desc(&d, VD_DESC, i, VD_DATA + (u64)i * KiB(4),
		(u32)take(in, 2) % KiB(4), flags, 0);
	vd_avail(&d, i);
}

/* uhv sends a request: ids mostly reused, data fuzzed. */
static void request(struct input *in)
{
	char data[CTL_AGENT_MAX + 2], msg[CTL_MSG_MAX];
	u64 id = take(in, 1) & 0x80 ? take(in, 8) : take(in, 1) % 32;
	size_t len = (size_t)take(in, 2) % sizeof(data);

	len = MIN(len, in->n);
	memcpy(data, in->p, len);
	in->p += len;
	in->n -= len;
	if (agent_request(&ag, id, data, len, now, msg) == CTL_OK &&
	    nr_requested < IDS_MAX)
		requested[nr_requested++] = id;
}

/* Sets transmitq up at TX_*, as vd_setup_queue does queue 0. */
static void setup_tx(void)
{
	vd_setup_queue_at(&d, VIRTIO_CONSOLE_TXQ, TX_QSIZE, TX_DESC, TX_AVAIL,
			  TX_USED);
	tx_avail_idx = 0;
}

static void init(u64 want)
{
	u8 s = vd_negotiate(&d, want, NULL);

	if (!(s & VIRTIO_STATUS_FEATURES_OK))
		return;
	vd_setup_queue(&d, VIRTIO_CONSOLE_RXQ, TX_QSIZE);
	setup_tx();
	vd_common_wr(&d, VIRTIO_PCI_COMMON_STATUS,
		     vd_common_rd(&d, VIRTIO_PCI_COMMON_STATUS) |
		     VIRTIO_STATUS_DRIVER_OK);
}

static void step(struct input *in)
{
	switch (take(in, 1) % NR_OPS) {
	case OP_MMIO_WRITE: fuzz_mmio(in, &d, true); break;
	case OP_MMIO_READ:  fuzz_mmio(in, &d, false); break;
	case OP_POKE:       fuzz_poke(in, ram, RAM_SIZE); break;
	case OP_KICK:       kick(in); break;
	case OP_DESC:       desc(in); break;
	case OP_AVAIL:
		if (take(in, 1) & 1)
			tx_avail((u16)take(in, 2));
		else if (d.qsize)
			vd_avail(&d, (u16)take(in, 2));
		break;
	case OP_TX_LINE:    tx_line(in); break;
	case OP_RX_POST:    rx_post(in); break;
	case OP_REQUEST:    request(in); break;
	case OP_TICK:
		now += take(in, 2);
		agent_tick(&ag, now);
		break;
	default:
		init(take(in, 8));
		break;
	}
	check_invariants();
}

static void start(u8 flags)
{
	const char *why;
	u64 want = BIT(VIRTIO_F_VERSION_1) |
		   (flags & FL_EVENT_IDX ? BIT(VIRTIO_F_RING_EVENT_IDX) : 0) |
		   (flags & FL_INDIRECT ? BIT(VIRTIO_F_RING_INDIRECT_DESC) : 0);

	memset(ram, 0, sizeof(ram));
	now = HZ;
	backend_bytes = 0;
	nr_requested = 0;
	agent_init(&ag, &agent_ops, NULL, HZ, now);
	if (virtio_console_init(&con, &be_ops, NULL) ||
	    virtio_pci_init(&vp, &con.ops, &con, &vm_ops, NULL, &d.mem) ||
	    vd_probe(&d, &vp, (struct gmem){ ram, RAM_SIZE }, &why))
		abort();
	virtio_console_attach(&con, &vp);
	if (flags & FL_MSIX)
		vd_cfg_write(&d, d.msix_cap + PCI_MSIX_CTRL, 2, PCI_MSIX_CTRL_ENABLE);
	if (flags & FL_INIT)
		init(want);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct input in = { data, size };

	start((u8)take(&in, 1));
	while (in.n)
		step(&in);
	return 0;
}
