/*
 * A virtio network device (virtio 1.2 §5.1): one receiveq/transmitq pair,
 * a MAC address and a link that is always up, over a backend that takes
 * the frames the guest sends (uhv: bridge_send for this NIC's port).
 * The device is a struct virtio_device_ops for the virtio-pci transport
 * (virtio.h).
 *
 * Transmit is synchronous: when the driver notifies transmitq, every
 * chain it made available is stripped of its struct virtio_net_hdr and
 * the frame handed to the backend. Receive is pushed by the backend
 * (uhv: the bridge's deliver callback) through virtio_net_receive, which
 * fills one posted receive buffer or drops the frame; it never waits.
 *
 * Not offered: checksum and segmentation offloads, control queue,
 * multiqueue, and VIRTIO_NET_F_MRG_RXBUF, so every receive buffer must
 * hold a whole frame and its header (§5.1.6.3.1: 1526 bytes, 1530 for
 * 802.1Q-tagged frames).
 */
#ifndef UHV_VMM_VIRTIO_NET_H
#define UHV_VMM_VIRTIO_NET_H

#include "virtio.h"
#include "bridge.h"

#define VIRTIO_ID_NET             1            /* §5.1.1 */
#define VIRTIO_NET_QUEUE_SIZE     VIRTQ_MAX_SIZE
#define VIRTIO_NET_RXQ            0            /* receiveq1 (§5.1.2) */
#define VIRTIO_NET_TXQ            1            /* transmitq1 */
#define VIRTIO_NET_NUM_QUEUES     2
#define VIRTIO_NET_MTU            1500

/* Feature bits (§5.1.3). */
#define VIRTIO_NET_F_MTU          3
#define VIRTIO_NET_F_MAC          5
#define VIRTIO_NET_F_MRG_RXBUF    15
#define VIRTIO_NET_F_STATUS       16

/* struct virtio_net_config (§5.1.4): the fields offered. */
#define VIRTIO_NET_CFG_MAC        0            /* u8 mac[6] */
#define VIRTIO_NET_CFG_STATUS     6            /* le16 */
#define VIRTIO_NET_CFG_MAX_PAIRS  8            /* le16 max_virtqueue_pairs */
#define VIRTIO_NET_CFG_MTU        10           /* le16 */
#define VIRTIO_NET_CFG_SIZE       12           /* through mtu */
#define VIRTIO_NET_S_LINK_UP      1

/* struct virtio_net_hdr (§5.1.6) with VIRTIO_F_VERSION_1: u8 flags,
   u8 gso_type, le16 hdr_len, gso_size, csum_start, csum_offset,
   num_buffers. */
#define VIRTIO_NET_HDR_NUM_BUFFERS 10
#define VIRTIO_NET_HDR_SIZE       12

/* Where the frames the guest sends go. */
struct net_backend_ops {
	/* Takes a whole Ethernet frame (no FCS, len in ETH_HLEN ..
	   BRIDGE_FRAME_MAX). frame is valid for the call only. Returns a
	   count of receivers (>= 0) or -1 if the frame was dropped. Must
	   not block; may call virtio_net_receive of another NIC. */
	int (*send)(void *ctx, const u8 *frame, u32 len);
};

/* Why a frame was dropped, counted per NIC. */
enum virtio_net_drop {
	VIRTIO_NET_DROP_RUNT,          /* shorter than an Ethernet header */
	VIRTIO_NET_DROP_OVERSIZE,      /* longer than 1514 (1518 if tagged) */
	VIRTIO_NET_DROP_NO_BUFFER,     /* rx: no buffer posted, or too small */
	VIRTIO_NET_DROP_BAD_DESC,      /* a chain the device cannot use */
	VIRTIO_NET_DROP_MAX
};

struct virtio_net_stats {
	u64 tx_frames, tx_bytes;       /* handed to the backend */
	u64 rx_frames, rx_bytes;       /* written into the guest's buffers */
	u64 tx_backend_dropped;        /* the backend's send returned < 0 */
	u64 drops[VIRTIO_NET_DROP_MAX];
};

struct virtio_net {
	struct virtio_device_ops ops;      /* for virtio_pci_init */
	const struct net_backend_ops *be;
	void *be_ctx;
	struct virtio_pci *vp;             /* set by virtio_net_attach */
	u8 mac[ETH_ALEN];
	u8 config[VIRTIO_NET_CFG_SIZE];    /* little-endian, as the driver sees it */
	struct virtq_chain tx_chain, rx_chain;
	u8 tx_buf[BRIDGE_FRAME_MAX];       /* a frame split across buffers */
	struct virtio_net_stats stats;
};

/*
 * Makes n a network device with address mac (ETH_ALEN bytes, offered
 * as VIRTIO_NET_F_MAC) sending through be (with its context). Returns
 * 0, or -1 if be lacks send or mac is NULL. Then:
 *   virtio_pci_init(&vp, &n->ops, n, &vm_ops, vm, &vm_mem);
 *   virtio_net_attach(n, &vp);
 */
int virtio_net_init(struct virtio_net *n, const u8 *mac,
		    const struct net_backend_ops *be, void *be_ctx);

/* Tells n the transport it sits on, for the receive path, which is not
   started by the driver and so must find receiveq itself. */
void virtio_net_attach(struct virtio_net *n, struct virtio_pci *vp);

/*
 * A frame for the guest (len bytes, no FCS): fills the next posted
 * receive buffer with a virtio_net_hdr (num_buffers 1) and the frame,
 * copied once, and notifies the driver if it asked (§2.7.7.2). False if
 * the frame was dropped: bad length, the driver not ready, no buffer
 * posted, or the buffer too small (then it is returned empty). A
 * malformed receive chain also makes the device need a reset.
 * Has the shape of struct bridge_port_ops' deliver (ctx: n).
 */
bool virtio_net_receive(void *n, const u8 *frame, u32 len);

#endif
