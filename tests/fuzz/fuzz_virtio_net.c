/*
 * libFuzzer harness for the virtio-net device (vmm/virtio/virtio_net.c,
 * virtio_net_ctrl.c) behind the virtio-pci transport, in the manner of
 * fuzz_virtio_blk.c. Each input is a little program for a hostile guest
 * and a hostile network: a flags byte (set the device up first, with
 * which features and queue size, MSI-X on), then operations: BAR and
 * configuration space accesses, bytes poked into guest RAM, raw
 * descriptors and available ring entries on any of the three queues,
 * notifications (transmitq's deferred to a later step if the flags
 * say so, as in uhv's VMs), and frames arriving from the bridge with
 * fuzzed lengths, destinations and checksum requests.
 *
 * Guest RAM is an exactly-sized global, so AddressSanitizer catches any
 * access outside it; the harness aborts if the device breaks one of its
 * promises: a frame it sends is 14..1518 bytes with a checksum request
 * inside it, its status stays sane, nothing is used while it needs a
 * reset, and a log line is terminated.
 *
 *   make fuzz-net          (tests/fuzz/fuzz.mk) builds and runs it
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "tests/fuzz/fuzz_input.h"
#include "vmm/virtio/virtio_net.h"
#include "vmm/net/inet_csum.h"

#define RAM_SIZE     KiB(256)
#define LOG_MAX      160
#define CFG_BYTES    256
#define QSIZE_MAX    16            /* the rings below leave room for this */
#define Q_BASE       0x5000ULL     /* queues 1 and 2: desc, avail, used */
#define Q_STRIDE     0x1000ULL
#define Q_AREAS      3
/* vd_setup_queue_at zeroes up to the used ring's end: one stride */
_Static_assert(Q_STRIDE == VD_QUEUE_AREA_SLACK, "queue areas are one slack apart");

/* The flags byte. */
#define FL_INIT      0x01
#define FL_EVENT_IDX 0x02
#define FL_INDIRECT  0x04
#define FL_MSIX      0x08
#define FL_QSIZE_SHIFT 4           /* bits 4-5: queue size 2^(n+1) */
#define FL_QSIZE_MASK  3
#define FL_DEFER     0x40          /* the VM defers transmitq's notifications */

enum op {
	OP_MMIO_WRITE, OP_MMIO_READ, OP_CFG_WRITE, OP_CFG_READ, OP_POKE,
	OP_KICK, OP_DESC, OP_AVAIL, OP_RX, OP_INIT, OP_CTRL, OP_RUN_DEFERRED,
	OP_TX, NR_OPS
};

static u8 ram[RAM_SIZE];
static u8 frame[BRIDGE_FRAME_MAX + 8];
static struct virtio_net net;
static struct virtio_pci vp;
static struct vdrv d;
static u16 qsize, avail_idx[VIRTIO_NET_NUM_QUEUES];


/* The device's promises about what it sends into the bridge. */
static int be_send(void *ctx, const u8 *f, u32 len,
		   const struct bridge_csum *csum)
{
	(void)ctx;
	if (len < ETH_HLEN || len > BRIDGE_FRAME_MAX)
		abort();
	if (csum && !inet_csum_fits(len, csum->start, csum->offset))
		abort();
	return f[len - 1] & 1 ? -1 : 1;     /* sometimes the bridge refuses */
}

static const struct net_backend_ops be_ops = { .send = be_send };

static void f_log(void *ctx, const char *msg)
{
	(void)ctx;
	if (!memchr(msg, 0, LOG_MAX))
		abort();
}

static void f_defer(void *ctx)
{
	(void)ctx;
}

static const struct virtio_pci_ops vm_ops = { .log = f_log };
/* As uhv's VMs: transmitq waits for virtio_pci_run_deferred. */
static const struct virtio_pci_ops vm_defer_ops = {
	.log = f_log, .defer = f_defer,
};

/* The guest-physical address of area a (0 desc, 1 avail, 2 used) of
   queue q: queue 0 on the test driver's rings, 1 and 2 at Q_BASE. */
static u64 area(unsigned q, unsigned a)
{
	static const u64 q0[Q_AREAS] = { VD_DESC, VD_AVAIL, VD_USED };

	return q ? Q_BASE + ((q - 1) * Q_AREAS + a) * Q_STRIDE : q0[a];
}

static void check_invariants(void)
{
	if ((vp.status & VIRTIO_STATUS_DRIVER_OK) &&
	    !(vp.status & VIRTIO_STATUS_FEATURES_OK))
		abort();
	if ((vp.status & VIRTIO_STATUS_FEATURES_OK) &&
	    (vp.driver_features & ~net.ops.features))
		abort();
	if (net.filter.nr_uni > VIRTIO_NET_MAC_TABLE_MAX ||
	    net.filter.nr_multi > VIRTIO_NET_MAC_TABLE_MAX)
		abort();
}

/* Sets up queue q like a driver; queue 0 through the test driver. */
static void setup_queue(unsigned q, u16 size)
{
	if (!q) {
		vd_setup_queue(&d, 0, size);
		return;
	}
	vd_setup_queue_at(&d, (u16)q, size, area(q, 0), area(q, 1), area(q, 2));
}

static void init(u64 want, u16 size)
{
	u8 s = vd_negotiate(&d, want, NULL);

	qsize = size;
	memset(avail_idx, 0, sizeof(avail_idx));
	if (!(s & VIRTIO_STATUS_FEATURES_OK))
		return;
	for (unsigned q = 0; q < VIRTIO_NET_NUM_QUEUES; q++)
		setup_queue(q, size);
	vd_common_wr(&d, VIRTIO_PCI_COMMON_STATUS,
		     vd_common_rd(&d, VIRTIO_PCI_COMMON_STATUS) |
		     VIRTIO_STATUS_DRIVER_OK);
}

/* Makes head available on queue q. */
static void avail(unsigned q, u16 head)
{
	u16 n = qsize ? qsize : 1;
	u64 ring = area(q, 1);

	vd_put16(&d, ring + VIRTQ_AVAIL_RING +
		 VIRTQ_AVAIL_ENTRY * (avail_idx[q] % n), head);
	vd_put16(&d, ring + VIRTQ_AVAIL_IDX, ++avail_idx[q]);
}

/* One raw descriptor in queue q's table. */
static void desc(struct input *in)
{
	unsigned q = (unsigned)take(in, 1) % VIRTIO_NET_NUM_QUEUES;
	u16 i = (u16)(take(in, 1) % QSIZE_MAX);
	u8 how = (u8)take(in, 1);
	u64 addr = how & 0x80 ? take(in, 8) : VD_DATA + take(in, 2) * (how & 7);
	u32 len = (u32)take(in, 2);
	u16 flags = (u16)take(in, 1), next = (u16)take(in, 1);

	vd_desc(&d, area(q, 0), i, addr, len, flags, next);
}

/* A whole command on controlq: class, command, data, ack. */
static void ctrl(struct input *in)
{
	u8 len = (u8)take(in, 1);
	u64 cmd = VD_DATA;

	ram[cmd] = (u8)(take(in, 1) % 3);
	ram[cmd + 1] = (u8)(take(in, 1) % 8);
	for (unsigned i = 0; i < len; i++)
		ram[cmd + VIRTIO_NET_CTRL_HDR_SIZE + i] = (u8)take(in, 1);
	vd_desc(&d, area(VIRTIO_NET_CTRLQ, 0), 0, cmd,
		VIRTIO_NET_CTRL_HDR_SIZE + len, VIRTQ_DESC_F_NEXT, 1);
	vd_desc(&d, area(VIRTIO_NET_CTRLQ, 0), 1, cmd + KiB(1), 1,
		VIRTQ_DESC_F_WRITE, 0);
	avail(VIRTIO_NET_CTRLQ, 0);
	vd_kick(&d, VIRTIO_NET_CTRLQ);
}

/* A frame on transmitq with a fuzzed header, in one descriptor. */
static void tx(struct input *in)
{
	u16 len = (u16)(take(in, 2) % (VIRTIO_NET_HDR_SIZE + BRIDGE_FRAME_MAX + 4));
	u64 buf = VD_DATA + KiB(4);

	for (unsigned i = 0; i < VIRTIO_NET_HDR_SIZE + ETH_HLEN; i++)
		ram[buf + i] = (u8)take(in, 1);
	vd_desc(&d, area(VIRTIO_NET_TXQ, 0), 0, buf, len, 0, 0);
	avail(VIRTIO_NET_TXQ, 0);
	vd_kick(&d, VIRTIO_NET_TXQ);
}

/* A frame from the network: length, destination, checksum request. */
static void rx(struct input *in)
{
	u32 len = (u32)take(in, 2) % sizeof(frame);
	u8 how = (u8)take(in, 1);
	struct bridge_csum c = { (u16)take(in, 2), (u16)take(in, 2) };
	bool stopped = vp.status & VIRTIO_STATUS_NEEDS_RESET;
	u16 used = vd_used_idx(&d);

	for (unsigned i = 0; i < ETH_HLEN; i++)
		frame[i] = (u8)take(in, 1);
	if (how & 1)
		memcpy(frame, net.mac, ETH_ALEN);
	virtio_net_rx(&net, frame, len, how & 2 ? &c : NULL);
	if (stopped && vd_used_idx(&d) != used)
		abort();
}

/* Queue q's used idx, as the driver reads it. */
static u16 used_idx(unsigned q)
{
	return vd_get16(&d, area(q, 2) + VIRTQ_USED_IDX);
}

static void kick(struct input *in)
{
	bool stopped = vp.status & VIRTIO_STATUS_NEEDS_RESET;
	unsigned q = (unsigned)take(in, 1) % (VIRTIO_NET_NUM_QUEUES + 1);
	u16 used = used_idx(q % VIRTIO_NET_NUM_QUEUES);

	vd_kick(&d, (u16)q);
	if (stopped && q < VIRTIO_NET_NUM_QUEUES && used_idx(q) != used)
		abort();
}

/* The VM's next exit: deferred queues run; not while a reset is due. */
static void run_deferred(void)
{
	bool stopped = vp.status & VIRTIO_STATUS_NEEDS_RESET;
	u16 used = used_idx(VIRTIO_NET_TXQ);

	virtio_pci_run_deferred(&vp);
	if (stopped && used_idx(VIRTIO_NET_TXQ) != used)
		abort();
}

static void step(struct input *in)
{
	u64 off;

	switch (take(in, 1) % NR_OPS) {
	case OP_MMIO_WRITE: fuzz_mmio(in, &d, true); break;
	case OP_MMIO_READ:  fuzz_mmio(in, &d, false); break;
	case OP_CFG_WRITE:  fuzz_cfg(in, &d, CFG_BYTES, true); break;
	case OP_CFG_READ:   fuzz_cfg(in, &d, CFG_BYTES, false); break;
	case OP_POKE:       fuzz_poke(in, ram, RAM_SIZE); break;
	case OP_KICK:       kick(in); break;
	case OP_DESC:       desc(in); break;
	case OP_AVAIL:
		off = take(in, 1) % VIRTIO_NET_NUM_QUEUES;
		avail((unsigned)off, (u16)take(in, 2));
		break;
	case OP_RX:         rx(in); break;
	case OP_INIT:
		init(take(in, 8), (u16)(2U << (take(in, 1) % 4)));
		break;
	case OP_CTRL:       ctrl(in); break;
	case OP_RUN_DEFERRED: run_deferred(); break;
	default:            tx(in); break;
	}
	check_invariants();
}

static void start(u8 flags)
{
	static const u8 mac[ETH_ALEN] = { 0x02, 0x75, 0x68, 0x76, 0, 1 };
	u64 want = ~(BIT(VIRTIO_F_RING_EVENT_IDX) | BIT(VIRTIO_F_RING_INDIRECT_DESC)) |
		   (flags & FL_EVENT_IDX ? BIT(VIRTIO_F_RING_EVENT_IDX) : 0) |
		   (flags & FL_INDIRECT ? BIT(VIRTIO_F_RING_INDIRECT_DESC) : 0);
	const char *why;

	memset(ram, 0, sizeof(ram));
	if (virtio_net_init(&net, mac, &be_ops, NULL) ||
	    virtio_pci_init(&vp, &net.ops, &net,
			    flags & FL_DEFER ? &vm_defer_ops : &vm_ops, NULL, &d.mem) ||
	    vd_probe(&d, &vp, (struct gmem){ ram, RAM_SIZE }, &why))
		abort();
	virtio_net_attach(&net, &vp);
	qsize = 0;
	if (flags & FL_MSIX)
		vd_cfg_write(&d, d.msix_cap + PCI_MSIX_CTRL, 2, PCI_MSIX_CTRL_ENABLE);
	if (flags & FL_INIT)
		init(want, (u16)(2U << ((flags >> FL_QSIZE_SHIFT) & FL_QSIZE_MASK)));
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct input in = { data, size };

	start((u8)take(&in, 1));
	check_invariants();
	while (in.n)
		step(&in);
	run_deferred();
	return 0;
}
