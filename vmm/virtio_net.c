/*
 * The virtio network device (virtio 1.2 §5.1). Every buffer, either
 * way, starts with a 12-byte struct virtio_net_hdr (§5.1.6, VERSION_1):
 *
 *   transmitq chain   device-readable:  header, then the frame
 *   receiveq chain    device-writable:  header, then room for a frame
 *
 * The chain may split these anywhere (§2.7.4.1). No offloads are
 * offered, so the driver's transmit header carries nothing the device
 * needs (§5.1.6.2: flags 0, gso_type NONE) and is skipped, and the
 * receive header is all zeros but num_buffers = 1 (§5.1.6.4).
 *
 * A chain in the wrong direction, or a transmit chain too short for its
 * header, is malformed: the device needs a reset (§2.1.2), as virtio-blk
 * does for requests it cannot parse. A frame of bad length, or one that
 * finds no room, is dropped and counted; the chain still goes back to
 * the driver.
 */
#include "virtio_net.h"
#include "../lib/fmt.h"

/* PCI class: network controller (0x02), Ethernet (0x00). */
#define NET_PCI_CLASS   0x020000
#define NET_FEATURES    (BIT(VIRTIO_NET_F_MAC) | BIT(VIRTIO_NET_F_STATUS) | \
			 BIT(VIRTIO_NET_F_MTU) | VIRTIO_TRANSPORT_FEATURES)
#define NET_MAX_PAIRS   1
#define ETH_TYPE_OFF    12          /* EtherType after the two addresses */
#define ETH_P_8021Q     0x8100      /* 802.1Q-2018 Table 9-1: C-VLAN tag */
#define NET_LOG_MAX     160

/* The bytes of struct virtio_net_config, little-endian (§5.1.4); the
   transport keeps off + size within VIRTIO_NET_CFG_SIZE. */
static u64 config_read(void *dev, u32 off, unsigned size)
{
	const struct virtio_net *n = dev;

	return virtio_config_bytes(n->config, off, size);
}

/* The longest frame allowed: 1514 bytes, 1518 with an 802.1Q tag, as
   the bridge (bridge.h) checks. head is the frame's first ETH_HLEN
   bytes. */
static u32 frame_max(const u8 *head)
{
	return (u32)(head[ETH_TYPE_OFF] << 8 | head[ETH_TYPE_OFF + 1]) ==
	       ETH_P_8021Q ? BRIDGE_FRAME_MAX : ETH_FRAME_MAX;
}

/* Counts a dropped frame; returns false for the receive path. */
static bool drop(struct virtio_net *n, enum virtio_net_drop why)
{
	n->stats.drops[why]++;
	return false;
}

/* A chain the device cannot use: counted, and vq failed with why. */
static int bad_chain(struct virtio_net *n, struct virtq *vq, const char *what,
		     const struct virtq_chain *c)
{
	drop(n, VIRTIO_NET_DROP_BAD_DESC);
	return virtq_fail(vq, VIRTQ_ERR_REQUEST,
			  "%s chain at head %u has %u readable and %u "
			  "writable bytes", what, c->head, c->read_len,
			  c->write_len);
}

/*
 * Sends the popped transmit chain's frame (§5.1.6.2) and returns the
 * chain with nothing written. The frame goes to the backend straight
 * from guest RAM if it is contiguous there, else from one copy in
 * tx_buf. Returns 0 or a negative VIRTQ_ERR_*.
 */
static int transmit(void *ctx, struct virtq *vq)
{
	struct virtio_net *n = ctx;
	struct virtq_chain *c = &n->tx_chain;
	u8 head[ETH_HLEN];
	u64 len, span;
	const u8 *frame;
	int r;

	if (c->read_len < VIRTIO_NET_HDR_SIZE || c->nr_write)
		return bad_chain(n, vq, "transmit", c);
	len = c->read_len - VIRTIO_NET_HDR_SIZE;
	if (len < ETH_HLEN) {
		drop(n, VIRTIO_NET_DROP_RUNT);
		return virtq_push(vq, c, 0);
	}
	r = virtq_read(vq, c, VIRTIO_NET_HDR_SIZE, head, sizeof(head));
	if (r)
		return r;
	if (len > frame_max(head)) {
		drop(n, VIRTIO_NET_DROP_OVERSIZE);
		return virtq_push(vq, c, 0);
	}
	span = len;
	frame = virtq_span(vq, c, false, VIRTIO_NET_HDR_SIZE, &span);
	if (!frame || span < len) {
		r = virtq_read(vq, c, VIRTIO_NET_HDR_SIZE, n->tx_buf, len);
		if (r)
			return r;
		frame = n->tx_buf;
	}
	n->stats.tx_frames++;
	n->stats.tx_bytes += len;
	if (n->be->send(n->be_ctx, frame, (u32)len) < 0)
		n->stats.tx_backend_dropped++;
	return virtq_push(vq, c, 0);
}

/*
 * Sends every frame the driver has made available on transmitq, through
 * virtq_drain (notifications off meanwhile, back on at the end with one
 * more look, §2.7.10). Notifies of receiveq need nothing: its
 * buffers are taken when a frame arrives.
 */
static int queue_notify(void *dev, unsigned index, struct virtq *vq)
{
	struct virtio_net *n = dev;

	if (index != VIRTIO_NET_TXQ)
		return 0;
	return virtq_drain(vq, &n->tx_chain, transmit, n);
}

/*
 * receiveq failed outside a driver notification, so the transport's
 * path for it is not running: do what it does (virtio_pci.c) — log why,
 * set DEVICE_NEEDS_RESET (§2.1.2) and send a configuration change
 * notification (§4.1.5.3).
 */
static void rx_failed(struct virtio_net *n, struct virtq *vq)
{
	struct virtio_pci *vp = n->vp;
	char msg[NET_LOG_MAX];

	if (vp->ops->log && vp->logged < VIRTIO_PCI_LOG_LIMIT) {
		vp->logged++;
		fmt_sn(msg, sizeof(msg), "%s: queue %u: %s; device needs reset",
		       n->ops.name, VIRTIO_NET_RXQ, vq->why);
		vp->ops->log(vp->ctx, msg);
	}
	if (vp->status & VIRTIO_STATUS_NEEDS_RESET)
		return;
	vp->status |= VIRTIO_STATUS_NEEDS_RESET;
	virtio_pci_raise(vp, vp->config_vector, VIRTIO_ISR_CONFIG);
}

/* Writes header and frame into the popped receive chain and pushes it
   with their length; a chain too small is pushed empty. Returns 1 if
   the frame went in, 0 if not, or a negative VIRTQ_ERR_*. */
static int fill(struct virtio_net *n, struct virtq *vq, const u8 *frame,
		u32 len)
{
	struct virtq_chain *c = &n->rx_chain;
	u8 hdr[VIRTIO_NET_HDR_SIZE] = { 0 };
	u64 total = (u64)VIRTIO_NET_HDR_SIZE + len;
	int r;

	if (c->nr_read)
		return bad_chain(n, vq, "receive", c);
	if (c->write_len < total) {
		drop(n, VIRTIO_NET_DROP_NO_BUFFER);
		r = virtq_push(vq, c, 0);
		return r ? r : 0;
	}
	le_put(hdr + VIRTIO_NET_HDR_NUM_BUFFERS, 1, sizeof(u16));
	r = virtq_write(vq, c, 0, hdr, sizeof(hdr));
	if (!r)
		r = virtq_write(vq, c, VIRTIO_NET_HDR_SIZE, frame, len);
	if (!r)
		r = virtq_push(vq, c, (u32)total);
	return r ? r : 1;
}

bool virtio_net_receive(void *dev, const u8 *frame, u32 len)
{
	struct virtio_net *n = dev;
	struct virtio_pci *vp = n->vp;
	struct virtq *vq;
	int r;

	if (len < ETH_HLEN)
		return drop(n, VIRTIO_NET_DROP_RUNT);
	if (len > frame_max(frame))
		return drop(n, VIRTIO_NET_DROP_OVERSIZE);
	/* only a live queue (§2.1.2), as the transport's notify path */
	if (!vp || !vp->q[VIRTIO_NET_RXQ].enabled ||
	    (vp->status & (VIRTIO_STATUS_DRIVER_OK | VIRTIO_STATUS_NEEDS_RESET)) !=
	    VIRTIO_STATUS_DRIVER_OK)
		return drop(n, VIRTIO_NET_DROP_NO_BUFFER);
	vq = &vp->q[VIRTIO_NET_RXQ].vq;
	r = virtq_pop(vq, &n->rx_chain);
	if (r == 0)
		return drop(n, VIRTIO_NET_DROP_NO_BUFFER);
	if (r > 0)
		r = fill(n, vq, frame, len);
	if (virtq_should_signal(vq))
		virtio_pci_raise(vp, vp->q[VIRTIO_NET_RXQ].msix_vector,
				 VIRTIO_ISR_QUEUE);
	if (r < 0) {
		if (r != VIRTQ_ERR_REQUEST)        /* bad_chain counted it */
			drop(n, VIRTIO_NET_DROP_BAD_DESC);
		rx_failed(n, vq);
		return false;
	}
	if (r == 0)
		return false;
	n->stats.rx_frames++;
	n->stats.rx_bytes += len;
	return true;
}

void virtio_net_attach(struct virtio_net *n, struct virtio_pci *vp)
{
	n->vp = vp;
}

int virtio_net_init(struct virtio_net *n, const u8 *mac,
		    const struct net_backend_ops *be, void *be_ctx)
{
	if (!be || !be->send || !mac)
		return -1;
	memset(n, 0, sizeof(*n));
	n->be = be;
	n->be_ctx = be_ctx;
	memcpy(n->mac, mac, ETH_ALEN);
	memcpy(n->config + VIRTIO_NET_CFG_MAC, mac, ETH_ALEN);
	le_put(n->config + VIRTIO_NET_CFG_STATUS, VIRTIO_NET_S_LINK_UP,
	       sizeof(u16));
	le_put(n->config + VIRTIO_NET_CFG_MAX_PAIRS, NET_MAX_PAIRS, sizeof(u16));
	le_put(n->config + VIRTIO_NET_CFG_MTU, VIRTIO_NET_MTU, sizeof(u16));
	n->ops = (struct virtio_device_ops){
		.name = "virtio-net",
		.device_id = VIRTIO_ID_NET,
		.pci_class = NET_PCI_CLASS,
		.features = NET_FEATURES,
		.num_queues = VIRTIO_NET_NUM_QUEUES,
		.queue_max = VIRTIO_NET_QUEUE_SIZE,
		.config_size = VIRTIO_NET_CFG_SIZE,
		.config_read = config_read,
		.queue_notify = queue_notify,
	};
	return 0;
}
