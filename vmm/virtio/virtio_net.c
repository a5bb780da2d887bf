/*
 * The virtio network device (virtio 1.2 §5.1). Every buffer, either
 * way, starts with a 12-byte struct virtio_net_hdr (§5.1.6, VERSION_1):
 *
 *   transmitq chain   device-readable:  header, then the frame
 *   receiveq chain    device-writable:  header, then room for a frame
 *   receiveq, MRG_RXBUF: chains 1..num_buffers, one stream split over
 *                     them: | header | frame ......... | ... frame end |
 *
 * The chain may split these anywhere (§2.7.4.1). On transmit the header
 * may ask for a checksum (VIRTIO_NET_F_CSUM, §5.1.6.2): its csum_start
 * and csum_offset travel with the frame to the receivers. No GSO is
 * offered, so gso_type must be NONE.
 *
 * A chain in the wrong direction, or a transmit chain too short for its
 * header, is malformed: the device needs a reset (§2.1.2), as virtio-blk
 * does for requests it cannot parse. A frame of bad length, a header
 * asking for what was not negotiated, or one that finds no room, is
 * dropped and counted (and the first of each cause on transmit logged);
 * the chain still goes back to the driver.
 */
#include "vmm/virtio/virtio_net.h"
#include "vmm/net/inet_csum.h"
#include "lib/fmt.h"

/* PCI class: network controller (0x02), Ethernet (0x00). */
#define NET_PCI_CLASS   0x020000
#define NET_FEATURES    (BIT(VIRTIO_NET_F_CSUM) | BIT(VIRTIO_NET_F_GUEST_CSUM) | \
			 BIT(VIRTIO_NET_F_MAC) | BIT(VIRTIO_NET_F_STATUS) | \
			 BIT(VIRTIO_NET_F_MTU) | BIT(VIRTIO_NET_F_MRG_RXBUF) | \
			 BIT(VIRTIO_NET_F_CTRL_VQ) | BIT(VIRTIO_NET_F_CTRL_RX) | \
			 BIT(VIRTIO_NET_F_CTRL_RX_EXTRA) | \
			 BIT(VIRTIO_NET_F_CTRL_MAC_ADDR) | VIRTIO_TRANSPORT_FEATURES)
#define NET_MAX_PAIRS   1
#define ETH_TYPE_OFF    12          /* EtherType after the two addresses */
#define ETH_P_8021Q     0x8100      /* 802.1Q-2018 Table 9-1: C-VLAN tag */
#define NET_LOG_MAX     160

static const char *const drop_names[VIRTIO_NET_DROP_MAX] = {
	[VIRTIO_NET_DROP_RUNT] = "runt",
	[VIRTIO_NET_DROP_OVERSIZE] = "oversize",
	[VIRTIO_NET_DROP_NO_BUFFER] = "no_buffer",
	[VIRTIO_NET_DROP_BAD_DESC] = "bad_desc",
	[VIRTIO_NET_DROP_BAD_CSUM] = "bad_csum",
	[VIRTIO_NET_DROP_BAD_HDR] = "bad_header",
	[VIRTIO_NET_DROP_FILTERED] = "filtered",
};

/* The feature bits offered and their names for virtio_net_features. */
static const char *const feature_names[VIRTIO_NET_FEATURE_BITS] = {
	[VIRTIO_NET_F_CSUM] = "csum",
	[VIRTIO_NET_F_GUEST_CSUM] = "guest_csum",
	[VIRTIO_NET_F_MTU] = "mtu",
	[VIRTIO_NET_F_MAC] = "mac",
	[VIRTIO_NET_F_MRG_RXBUF] = "mrg_rxbuf",
	[VIRTIO_NET_F_STATUS] = "status",
	[VIRTIO_NET_F_CTRL_VQ] = "ctrl_vq",
	[VIRTIO_NET_F_CTRL_RX] = "ctrl_rx",
	[VIRTIO_NET_F_CTRL_RX_EXTRA] = "ctrl_rx_extra",
	[VIRTIO_NET_F_CTRL_MAC_ADDR] = "ctrl_mac_addr",
	[VIRTIO_F_RING_INDIRECT_DESC] = "indirect_desc",
	[VIRTIO_F_RING_EVENT_IDX] = "event_idx",
	[VIRTIO_F_VERSION_1] = "version_1",
};

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

bool virtio_net_has(const struct virtio_net *n, unsigned f)
{
	return n->vp && (n->vp->status & VIRTIO_STATUS_FEATURES_OK) &&
	       (n->vp->driver_features & BIT(f));
}

const char *virtio_net_drop_name(enum virtio_net_drop d)
{
	return (unsigned)d < VIRTIO_NET_DROP_MAX ? drop_names[d] : "?";
}

void virtio_net_features(const struct virtio_net *n, char *buf, u32 size)
{
	u32 len = 0;

	buf[0] = 0;
	for (unsigned f = 0; f < VIRTIO_NET_FEATURE_BITS && len < size; f++)
		if (feature_names[f] && n->vp && (n->vp->last_features & BIT(f)))
			len += (u32)fmt_sn(buf + len, size - len, "%s%s",
					   len ? " " : "", feature_names[f]);
}

void virtio_net_log(struct virtio_net *n, const char *fmt, ...)
{
	struct virtio_pci *vp = n->vp;
	char msg[NET_LOG_MAX];
	va_list ap;

	if (!vp || !vp->ops->log || vp->logged >= VIRTIO_PCI_LOG_LIMIT)
		return;
	vp->logged++;
	va_start(ap, fmt);
	fmt_vsn(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	vp->ops->log(vp->ctx, msg);
}

/* Counts a dropped frame; returns false for the receive path. */
static bool drop(struct virtio_net *n, enum virtio_net_drop why)
{
	n->stats.drops[why]++;
	return false;
}

/* A transmit drop the guest caused: counted, and the first of its cause
   logged (a hostile guest then costs one line a cause, not a flood). */
static int tx_drop(struct virtio_net *n, struct virtq *vq, enum virtio_net_drop why,
		   u64 len, const u8 *hdr)
{
	drop(n, why);
	if (!(n->logged_drops & BIT(why))) {
		n->logged_drops |= (u32)BIT(why);
		virtio_net_log(n, "transmit: dropped a %s frame of %llu bytes "
			       "(flags 0x%x, gso %u, csum %u+%u); the next ones "
			       "are only counted", drop_names[why],
			       (unsigned long long)len, hdr[VIRTIO_NET_HDR_FLAGS],
			       hdr[VIRTIO_NET_HDR_GSO_TYPE],
			       le16_get(hdr + VIRTIO_NET_HDR_CSUM_START),
			       le16_get(hdr + VIRTIO_NET_HDR_CSUM_OFFSET));
	}
	return virtq_push(vq, &n->tx_chain, 0);
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
 * What the transmit header asks for (§5.1.6.2): nothing, or a checksum
 * at csum_start + csum_offset (NEEDS_CSUM, only with VIRTIO_NET_F_CSUM).
 * Returns the drop cause, or VIRTIO_NET_DROP_MAX if the header is good.
 */
static enum virtio_net_drop tx_header(struct virtio_net *n, const u8 *hdr,
				      u64 len, struct bridge_csum *csum)
{
	u8 flags = hdr[VIRTIO_NET_HDR_FLAGS];

	if (hdr[VIRTIO_NET_HDR_GSO_TYPE] != VIRTIO_NET_HDR_GSO_NONE)
		return VIRTIO_NET_DROP_BAD_HDR;
	if (!(flags & VIRTIO_NET_HDR_F_NEEDS_CSUM))
		return VIRTIO_NET_DROP_MAX;
	if (!virtio_net_has(n, VIRTIO_NET_F_CSUM))
		return VIRTIO_NET_DROP_BAD_HDR;
	csum->start = le16_get(hdr + VIRTIO_NET_HDR_CSUM_START);
	csum->offset = le16_get(hdr + VIRTIO_NET_HDR_CSUM_OFFSET);
	return inet_csum_fits((u32)len, csum->start, csum->offset) ?
	       VIRTIO_NET_DROP_MAX : VIRTIO_NET_DROP_BAD_CSUM;
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
	u8 hdr[VIRTIO_NET_HDR_SIZE + ETH_HLEN];
	struct bridge_csum csum = { 0 };
	enum virtio_net_drop why;
	u64 len, span;
	const u8 *frame;
	int r;

	if (c->read_len < VIRTIO_NET_HDR_SIZE || c->nr_write)
		return bad_chain(n, vq, "transmit", c);
	len = c->read_len - VIRTIO_NET_HDR_SIZE;
	r = virtq_read(vq, c, 0, hdr, VIRTIO_NET_HDR_SIZE + MIN(len, ETH_HLEN));
	if (r)
		return r;
	if (len < ETH_HLEN)
		return tx_drop(n, vq, VIRTIO_NET_DROP_RUNT, len, hdr);
	if (len > frame_max(hdr + VIRTIO_NET_HDR_SIZE))
		return tx_drop(n, vq, VIRTIO_NET_DROP_OVERSIZE, len, hdr);
	why = tx_header(n, hdr, len, &csum);
	if (why != VIRTIO_NET_DROP_MAX)
		return tx_drop(n, vq, why, len, hdr);
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
	if (hdr[VIRTIO_NET_HDR_FLAGS] & VIRTIO_NET_HDR_F_NEEDS_CSUM)
		n->stats.tx_csum_partial++;
	if (n->be->send(n->be_ctx, frame, (u32)len,
			(hdr[VIRTIO_NET_HDR_FLAGS] & VIRTIO_NET_HDR_F_NEEDS_CSUM) ?
			&csum : NULL) < 0)
		n->stats.tx_backend_dropped++;
	return virtq_push(vq, c, 0);
}

/*
 * Sends every frame the driver has made available on transmitq, and
 * serves controlq, through virtq_drain (notifications off meanwhile,
 * back on at the end with one more look, §2.7.10). transmitq's
 * notifications may be deferred (deferred_queues): the frames then go
 * at the VM's next exit, with every frame queued since. A transmit
 * chain the queue refuses (outside guest RAM, a loop...) counts as bad_desc;
 * the transport logs it and makes the device need a reset. Notifies of
 * receiveq need nothing: its buffers are taken when a frame arrives.
 */
static int queue_notify(void *dev, unsigned index, struct virtq *vq)
{
	struct virtio_net *n = dev;
	int r;

	if (index == VIRTIO_NET_CTRLQ)
		return virtio_net_ctrl_notify(n, vq);
	if (index != VIRTIO_NET_TXQ)
		return 0;
	r = virtq_drain(vq, &n->tx_chain, transmit, n);
	if (r < 0 && r != VIRTQ_ERR_REQUEST)      /* bad_chain counted it */
		drop(n, VIRTIO_NET_DROP_BAD_DESC);
	return r;
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

	virtio_net_log(n, "%s: queue %u: %s; device needs reset",
		       n->ops.name, VIRTIO_NET_RXQ, vq->why);
	if (vp->status & VIRTIO_STATUS_NEEDS_RESET)
		return;
	vp->status |= VIRTIO_STATUS_NEEDS_RESET;
	virtio_pci_raise(vp, vp->config_vector, VIRTIO_ISR_CONFIG);
}

/* Writes bytes [at, at + len) of the stream header-then-frame at the
   start of chain c's writable part. */
static int put_stream(struct virtq *vq, const struct virtq_chain *c,
		      const u8 *hdr, const u8 *frame, u32 at, u32 len)
{
	u32 h = at < VIRTIO_NET_HDR_SIZE ? MIN(VIRTIO_NET_HDR_SIZE - at, len) : 0;
	int r = h ? virtq_write(vq, c, 0, hdr + at, h) : 0;

	if (!r && len > h)
		r = virtq_write(vq, c, h, frame + (at + h - VIRTIO_NET_HDR_SIZE),
				len - h);
	return r;
}

/* Not enough posted room for the frame: the k chains popped go back to
   the available ring, untouched as far as the driver can tell. */
static int no_room(struct virtio_net *n, struct virtq *vq, u16 k)
{
	virtq_unpop(vq, k);
	drop(n, VIRTIO_NET_DROP_NO_BUFFER);
	return 0;
}

/*
 * Writes header and frame into receive chains and returns them with
 * their lengths: one chain that must hold it all, or with MRG_RXBUF as
 * many as it takes, up to the queue size (§5.1.6.4), num_buffers telling
 * the driver how many. The used elements are published together, after
 * num_buffers is written. A lone chain too small is pushed empty.
 * Returns 1 if the frame went in, 0 if not, or a negative VIRTQ_ERR_*.
 */
static int fill(struct virtio_net *n, struct virtq *vq, u8 *hdr,
		const u8 *frame, u32 len)
{
	bool mrg = virtio_net_has(n, VIRTIO_NET_F_MRG_RXBUF);
	u32 total = VIRTIO_NET_HDR_SIZE + len, done = 0, put;
	u16 k, max = mrg ? vq->size : 1;
	struct virtq_chain *c;
	int r;

	for (k = 0; done < total; k++) {
		c = k ? &n->rx_more : &n->rx_chain;
		if (k == max || (r = virtq_pop(vq, c)) == 0)
			return no_room(n, vq, k);
		if (r < 0)
			return r;
		if (c->nr_read)
			return bad_chain(n, vq, "receive", c);
		if (!k && c->write_len < (mrg ? VIRTIO_NET_HDR_SIZE : total)) {
			drop(n, VIRTIO_NET_DROP_NO_BUFFER);
			r = virtq_push(vq, c, 0);
			return r ? r : 0;
		}
		put = MIN(c->write_len, total - done);
		r = put_stream(vq, c, hdr, frame, done, put);
		if (!r)
			r = virtq_fill(vq, c, put, k);
		if (r)
			return r;
		done += put;
	}
	le_put(hdr + VIRTIO_NET_HDR_NUM_BUFFERS, k, sizeof(u16));
	r = virtq_write(vq, &n->rx_chain, VIRTIO_NET_HDR_NUM_BUFFERS,
			hdr + VIRTIO_NET_HDR_NUM_BUFFERS, sizeof(u16));
	if (!r)
		r = virtq_flush(vq, k);
	if (k > 1)
		n->stats.rx_merged++;
	return r ? r : 1;
}

/*
 * The receive header (§5.1.6.4) for a frame, and the frame to write: an
 * unfinished checksum goes to a GUEST_CSUM driver as NEEDS_CSUM with its
 * start and offset (§5.1.6.4.1); for any other driver it is finished
 * here, in a copy, since the driver would take the frame as it is.
 */
static const u8 *rx_header(struct virtio_net *n, u8 *hdr, const u8 *frame,
			   u32 len, const struct bridge_csum *csum)
{
	if (!csum)
		return frame;
	if (virtio_net_has(n, VIRTIO_NET_F_GUEST_CSUM)) {
		hdr[VIRTIO_NET_HDR_FLAGS] = VIRTIO_NET_HDR_F_NEEDS_CSUM;
		le_put(hdr + VIRTIO_NET_HDR_CSUM_START, csum->start, sizeof(u16));
		le_put(hdr + VIRTIO_NET_HDR_CSUM_OFFSET, csum->offset, sizeof(u16));
		n->stats.rx_csum_partial++;
		return frame;
	}
	memcpy(n->rx_buf, frame, len);
	inet_csum_finish(n->rx_buf, len, csum->start, csum->offset);
	n->stats.rx_csum_finished++;
	return n->rx_buf;
}

/* Whether receiveq is live (§2.1.2), as the transport's notify path
   requires before it touches a queue. */
static bool rx_ready(const struct virtio_net *n)
{
	const struct virtio_pci *vp = n->vp;

	return vp && vp->q[VIRTIO_NET_RXQ].enabled &&
	       (vp->status & (VIRTIO_STATUS_DRIVER_OK | VIRTIO_STATUS_NEEDS_RESET)) ==
	       VIRTIO_STATUS_DRIVER_OK;
}

/* Checks a frame before it reaches the filter and the buffers. */
static bool rx_frame_ok(struct virtio_net *n, const u8 *frame, u32 len,
			const struct bridge_csum *csum)
{
	if (len < ETH_HLEN)
		return drop(n, VIRTIO_NET_DROP_RUNT);
	if (len > frame_max(frame))
		return drop(n, VIRTIO_NET_DROP_OVERSIZE);
	if (csum && !inet_csum_fits(len, csum->start, csum->offset))
		return drop(n, VIRTIO_NET_DROP_BAD_CSUM);
	if (!rx_ready(n))
		return drop(n, VIRTIO_NET_DROP_NO_BUFFER);
	return true;
}

enum bridge_rx virtio_net_rx(void *dev, const u8 *frame, u32 len,
			     const struct bridge_csum *csum)
{
	struct virtio_net *n = dev;
	struct virtio_pci *vp = n->vp;
	u8 hdr[VIRTIO_NET_HDR_SIZE] = { 0 };
	struct virtq *vq;
	int r;

	if (!rx_frame_ok(n, frame, len, csum))
		return BRIDGE_RX_NO_BUFFER;
	if (!virtio_net_filter_accepts(n, frame)) {
		drop(n, VIRTIO_NET_DROP_FILTERED);
		return BRIDGE_RX_FILTERED;
	}
	vq = &vp->q[VIRTIO_NET_RXQ].vq;
	r = fill(n, vq, hdr, rx_header(n, hdr, frame, len, csum), len);
	if (virtq_should_signal(vq))
		virtio_pci_raise(vp, vp->q[VIRTIO_NET_RXQ].msix_vector,
				 VIRTIO_ISR_QUEUE);
	if (r < 0) {
		if (r != VIRTQ_ERR_REQUEST)        /* bad_chain counted it */
			drop(n, VIRTIO_NET_DROP_BAD_DESC);
		rx_failed(n, vq);
		return BRIDGE_RX_NO_BUFFER;
	}
	if (r == 0)
		return BRIDGE_RX_NO_BUFFER;
	n->stats.rx_frames++;
	n->stats.rx_bytes += len;
	return BRIDGE_RX_OK;
}

bool virtio_net_receive(void *dev, const u8 *frame, u32 len)
{
	return virtio_net_rx(dev, frame, len, NULL) == BRIDGE_RX_OK;
}

/* The device was reset (§2.4): the filter and address as configured. */
static void net_reset(void *dev)
{
	struct virtio_net *n = dev;

	memcpy(n->mac, n->config + VIRTIO_NET_CFG_MAC, ETH_ALEN);
	virtio_net_filter_reset(n);
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
	virtio_net_filter_reset(n);
	n->ops = (struct virtio_device_ops){
		.name = "virtio-net",
		.device_id = VIRTIO_ID_NET,
		.pci_class = NET_PCI_CLASS,
		.features = NET_FEATURES,
		.num_queues = VIRTIO_NET_NUM_QUEUES,
		.queue_max = VIRTIO_NET_QUEUE_SIZE,
		.config_size = VIRTIO_NET_CFG_SIZE,
		.config_read = config_read,
		.reset = net_reset,
		.queue_notify = queue_notify,
		/* a burst of frames, one exit: transmitq runs at the next */
		.deferred_queues = (u32)BIT(VIRTIO_NET_TXQ),
	};
	return 0;
}
