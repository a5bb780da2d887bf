/*
 * The virtio console device (virtio 1.2 §5.3), one port, no features.
 * Both queues carry raw bytes, no header:
 *
 *   transmitq chain   device-readable only:  the guest's bytes
 *   receiveq chain    device-writable only:  room for uhv's bytes
 *
 * uhv's bytes wait in a ring (lib/bytering.h) until a receive buffer
 * is posted:
 *
 *   out_buf  ....tail=========head....    (indexes free-running, mod size)
 *                    ^ next byte for the guest
 *
 * A receive buffer takes as many bytes as it holds (§5.3.6.1: the
 * device may fill it partially; the used length says how many).
 */
#include "vmm/virtio/virtio_console.h"
#include "lib/fmt.h"

/* PCI class: simple communication controller (0x07), other (0x80). */
#define CONSOLE_PCI_CLASS   0x078000
#define CONSOLE_FEATURES    VIRTIO_TRANSPORT_FEATURES
#define CONSOLE_LOG_MAX     160

_Static_assert((VIRTIO_CONSOLE_OUT_MAX & (VIRTIO_CONSOLE_OUT_MAX - 1)) == 0,
	       "the output ring's size is a power of two (free-running indexes)");

/* The bytes of struct virtio_console_config: all zero (§5.3.4). */
static u64 config_read(void *dev, u32 off, unsigned size)
{
	const struct virtio_console *c = dev;

	return virtio_config_bytes(c->config, off, size);
}

u32 virtio_console_pending(const struct virtio_console *c)
{
	return bytering_used(&c->out);
}

/* A device reset (§2.4) forgets the bytes not yet delivered: the driver
   that asked for it posts fresh buffers for a fresh stream. */
static void reset(void *dev)
{
	struct virtio_console *c = dev;

	bytering_init(&c->out, c->out_buf, VIRTIO_CONSOLE_OUT_MAX);
}

/* A chain the device cannot use: counted, and vq failed with why. */
static int bad_chain(struct virtio_console *c, struct virtq *vq,
		     const char *what, const struct virtq_chain *ch)
{
	c->stats.bad_chains++;
	return virtq_fail(vq, VIRTQ_ERR_REQUEST,
			  "%s chain at head %u has %u readable and %u "
			  "writable bytes", what, ch->head, ch->read_len,
			  ch->write_len);
}

/*
 * Hands the popped transmit chain's bytes to the backend straight from
 * guest RAM, one contiguous piece at a time (§5.3.6.2), and returns the
 * chain with nothing written. Returns 0 or a negative VIRTQ_ERR_*.
 */
static int transmit(void *ctx, struct virtq *vq)
{
	struct virtio_console *c = ctx;
	struct virtq_chain *ch = &c->tx_chain;

	if (ch->nr_write)
		return bad_chain(c, vq, "transmit", ch);
	for (u64 at = 0; at < ch->read_len; ) {
		u64 n = ch->read_len - at;
		const u8 *p = virtq_span(vq, ch, false, at, &n);

		if (!p)
			return virtq_fail(vq, VIRTQ_ERR_RANGE, "data left guest RAM");
		c->be->receive(c->be_ctx, p, (u32)n);
		c->stats.tx_bytes += n;
		at += n;
	}
	return virtq_push(vq, ch, 0);
}

/* Copies up to the popped receive chain's length of queued bytes into
   it, the ring's wrap taken in two pieces, and pushes it. */
static int fill(struct virtio_console *c, struct virtq *vq)
{
	struct virtq_chain *ch = &c->rx_chain;
	u32 n = MIN(virtio_console_pending(c), ch->write_len), done = 0;
	int r = 0;

	if (ch->nr_read)
		return bad_chain(c, vq, "receive", ch);
	while (done < n && !r) {
		const u8 *p;
		u32 run = MIN(n - done, bytering_peek_at(&c->out, done, &p));

		r = virtq_write(vq, ch, done, p, run);
		done += run;
	}
	if (r)
		return r;
	bytering_consume(&c->out, n);
	c->stats.rx_bytes += n;
	return virtq_push(vq, ch, n);
}

/* Moves queued bytes into posted receive buffers until either runs out.
   Returns 0 or a negative VIRTQ_ERR_*. */
static int flush(struct virtio_console *c, struct virtq *vq)
{
	int r;

	while (virtio_console_pending(c)) {
		r = virtq_pop(vq, &c->rx_chain);
		if (r <= 0)
			return r;
		if ((r = fill(c, vq)))
			return r;
	}
	return 0;
}

/* transmitq: the guest wrote (virtq_drain: notifications off meanwhile,
   one more look at the end, §2.7.10). receiveq: new buffers, for bytes
   that were waiting for them. */
static int queue_notify(void *dev, unsigned index, struct virtq *vq)
{
	struct virtio_console *c = dev;

	if (index == VIRTIO_CONSOLE_TXQ)
		return virtq_drain(vq, &c->tx_chain, transmit, c);
	return flush(c, vq);
}

/*
 * receiveq failed outside a driver notification, where the transport's
 * path for it is not running: do what it does (virtio_pci.c), as
 * virtio-net's receive path does: log why, set DEVICE_NEEDS_RESET
 * (§2.1.2), send a configuration change notification (§4.1.5.3).
 */
static void rx_failed(struct virtio_console *c, struct virtq *vq)
{
	struct virtio_pci *vp = c->vp;
	char msg[CONSOLE_LOG_MAX];

	if (vp->ops->log && vp->logged < VIRTIO_PCI_LOG_LIMIT) {
		vp->logged++;
		fmt_sn(msg, sizeof(msg), "%s: queue %u: %s; device needs reset",
		       c->ops.name, VIRTIO_CONSOLE_RXQ, vq->why);
		vp->ops->log(vp->ctx, msg);
	}
	if (vp->status & VIRTIO_STATUS_NEEDS_RESET)
		return;
	vp->status |= VIRTIO_STATUS_NEEDS_RESET;
	virtio_pci_raise(vp, vp->config_vector, VIRTIO_ISR_CONFIG);
}

/* receiveq is in service: DRIVER_OK, no error pending, enabled (§2.1.2). */
static bool rx_live(const struct virtio_pci *vp)
{
	return vp && vp->q[VIRTIO_CONSOLE_RXQ].enabled &&
	       (vp->status & (VIRTIO_STATUS_DRIVER_OK |
			      VIRTIO_STATUS_NEEDS_RESET)) ==
	       VIRTIO_STATUS_DRIVER_OK;
}

int virtio_console_write(struct virtio_console *c, const u8 *data, u32 len)
{
	struct virtq *vq;
	int r;

	if (!bytering_put(&c->out, data, len)) {
		c->stats.write_refused++;
		return -1;
	}
	if (!rx_live(c->vp))
		return 0;                  /* delivered once the driver is ready */
	vq = &c->vp->q[VIRTIO_CONSOLE_RXQ].vq;
	r = flush(c, vq);
	if (virtq_should_signal(vq))
		virtio_pci_raise(c->vp, c->vp->q[VIRTIO_CONSOLE_RXQ].msix_vector,
				 VIRTIO_ISR_QUEUE);
	if (r < 0)
		rx_failed(c, vq);
	return 0;
}

void virtio_console_attach(struct virtio_console *c, struct virtio_pci *vp)
{
	c->vp = vp;
}

int virtio_console_init(struct virtio_console *c,
			const struct console_backend_ops *be, void *be_ctx)
{
	if (!be || !be->receive)
		return -1;
	memset(c, 0, sizeof(*c));
	bytering_init(&c->out, c->out_buf, VIRTIO_CONSOLE_OUT_MAX);
	c->be = be;
	c->be_ctx = be_ctx;
	c->ops = (struct virtio_device_ops){
		.name = "virtio-console",
		.device_id = VIRTIO_ID_CONSOLE,
		.pci_class = CONSOLE_PCI_CLASS,
		.features = CONSOLE_FEATURES,
		.num_queues = VIRTIO_CONSOLE_NUM_QUEUES,
		.queue_max = VIRTIO_CONSOLE_QUEUE_SIZE,
		.config_size = VIRTIO_CONSOLE_CFG_SIZE,
		.config_read = config_read,
		.reset = reset,
		.queue_notify = queue_notify,
	};
	return 0;
}
