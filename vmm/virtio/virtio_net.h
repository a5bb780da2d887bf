/*
 * A virtio network device (virtio 1.2 §5.1): one receiveq/transmitq pair
 * and a control queue, a MAC address and a link that is always up, over
 * a backend that takes the frames the guest sends (uhv: bridge_send_csum
 * for this NIC's port). The device is a struct virtio_device_ops for the
 * virtio-pci transport (virtio.h).
 *
 * Transmit is synchronous: when the driver notifies transmitq, every
 * chain it made available is stripped of its struct virtio_net_hdr and
 * the frame handed to the backend, with the checksum the driver left
 * unfinished (VIRTIO_NET_F_CSUM). Receive is pushed by the backend (uhv:
 * the bridge's receive callback) through virtio_net_rx, which passes the
 * frame through the receive filter (§5.1.6.5.1-2) and fills one posted
 * buffer, or several with VIRTIO_NET_F_MRG_RXBUF (§5.1.6.4), or drops
 * it; it never waits. An unfinished checksum is passed on to a driver
 * that took VIRTIO_NET_F_GUEST_CSUM and finished here for one that did
 * not.
 *
 * Offered: CSUM, GUEST_CSUM, MTU, MAC, MRG_RXBUF, STATUS, CTRL_VQ,
 * CTRL_RX, CTRL_RX_EXTRA, CTRL_MAC_ADDR. Not offered: segmentation
 * offloads, VLAN filtering, multiqueue, announce.
 */
#ifndef UHV_VMM_VIRTIO_NET_H
#define UHV_VMM_VIRTIO_NET_H

#include "vmm/virtio/virtio.h"
#include "vmm/net/bridge.h"

#define VIRTIO_ID_NET             1            /* §5.1.1 */
#define VIRTIO_NET_QUEUE_SIZE     VIRTQ_MAX_SIZE
#define VIRTIO_NET_RXQ            0            /* receiveq1 (§5.1.2) */
#define VIRTIO_NET_TXQ            1            /* transmitq1 */
#define VIRTIO_NET_CTRLQ          2            /* controlq: 2 * max pairs */
#define VIRTIO_NET_NUM_QUEUES     3
#define VIRTIO_NET_MTU            1500

/* Feature bits (§5.1.3). */
#define VIRTIO_NET_F_CSUM         0            /* takes partial checksums */
#define VIRTIO_NET_F_GUEST_CSUM   1            /* driver takes them */
#define VIRTIO_NET_F_MTU          3
#define VIRTIO_NET_F_MAC          5
#define VIRTIO_NET_F_MRG_RXBUF    15
#define VIRTIO_NET_F_STATUS       16
#define VIRTIO_NET_F_CTRL_VQ      17
#define VIRTIO_NET_F_CTRL_RX      18
#define VIRTIO_NET_F_CTRL_RX_EXTRA 20
#define VIRTIO_NET_F_CTRL_MAC_ADDR 23
#define VIRTIO_NET_FEATURE_BITS   64

/* struct virtio_net_config (§5.1.4): the fields offered. */
#define VIRTIO_NET_CFG_MAC        0            /* u8 mac[6] */
#define VIRTIO_NET_CFG_STATUS     6            /* le16 */
#define VIRTIO_NET_CFG_MAX_PAIRS  8            /* le16 max_virtqueue_pairs */
#define VIRTIO_NET_CFG_MTU        10           /* le16 */
#define VIRTIO_NET_CFG_SIZE       12           /* through mtu */
#define VIRTIO_NET_S_LINK_UP      1

/* struct virtio_net_hdr (§5.1.6) with VIRTIO_F_VERSION_1:
 *
 *   0       1          2        4         6          8           10          12
 *   | flags | gso_type | hdr_len | gso_size | csum_start | csum_offset | num_buffers |
 *     u8      u8         le16      le16       le16         le16          le16
 */
#define VIRTIO_NET_HDR_FLAGS      0
#define VIRTIO_NET_HDR_GSO_TYPE   1
#define VIRTIO_NET_HDR_CSUM_START 6
#define VIRTIO_NET_HDR_CSUM_OFFSET 8
#define VIRTIO_NET_HDR_NUM_BUFFERS 10
#define VIRTIO_NET_HDR_SIZE       12
#define VIRTIO_NET_HDR_F_NEEDS_CSUM 1          /* csum_start/offset valid */
#define VIRTIO_NET_HDR_F_DATA_VALID 2          /* rx: checksum checked */
#define VIRTIO_NET_HDR_GSO_NONE   0

/* The control queue (§5.1.6.5): class, command, data (device-readable),
   then one device-writable ack byte. */
#define VIRTIO_NET_CTRL_HDR_SIZE  2            /* u8 class, u8 command */
#define VIRTIO_NET_OK             0
#define VIRTIO_NET_ERR            1
#define VIRTIO_NET_CTRL_RX        0            /* class: receive modes */
#define VIRTIO_NET_CTRL_RX_PROMISC  0          /* u8 on */
#define VIRTIO_NET_CTRL_RX_ALLMULTI 1
#define VIRTIO_NET_CTRL_RX_ALLUNI   2          /* these four: RX_EXTRA */
#define VIRTIO_NET_CTRL_RX_NOMULTI  3
#define VIRTIO_NET_CTRL_RX_NOUNI    4
#define VIRTIO_NET_CTRL_RX_NOBCAST  5
#define VIRTIO_NET_CTRL_RX_MODES    6
#define VIRTIO_NET_CTRL_MAC       1            /* class: addresses */
#define VIRTIO_NET_CTRL_MAC_TABLE_SET 0        /* two struct ..._ctrl_mac */
#define VIRTIO_NET_CTRL_MAC_ADDR_SET  1        /* u8 mac[6] */
#define VIRTIO_NET_CTRL_MAC_ENTRIES 4          /* le32 entries, then macs */
#define VIRTIO_NET_MAC_TABLE_MAX  64           /* addresses uhv filters on */
/* The longest command data taken: two full tables (longer: ERR). */
#define VIRTIO_NET_CTRL_DATA_MAX  (2 * (VIRTIO_NET_CTRL_MAC_ENTRIES + \
				   VIRTIO_NET_MAC_TABLE_MAX * ETH_ALEN))

/* Where the frames the guest sends go. */
struct net_backend_ops {
	/* Takes a whole Ethernet frame (no FCS, len in ETH_HLEN ..
	   BRIDGE_FRAME_MAX) whose checksum is unfinished (csum, checked to
	   fit the frame) or complete (csum NULL). frame is valid for the
	   call only. Returns a count of receivers (>= 0) or -1 if the
	   frame was dropped. Must not block; may call virtio_net_rx of
	   another NIC. */
	int (*send)(void *ctx, const u8 *frame, u32 len,
		    const struct bridge_csum *csum);
};

/* Why a frame was dropped, counted per NIC. */
enum virtio_net_drop {
	VIRTIO_NET_DROP_RUNT,          /* shorter than an Ethernet header */
	VIRTIO_NET_DROP_OVERSIZE,      /* longer than 1514 (1518 if tagged) */
	VIRTIO_NET_DROP_NO_BUFFER,     /* rx: no buffer posted, or too small */
	VIRTIO_NET_DROP_BAD_DESC,      /* a chain the device cannot use */
	VIRTIO_NET_DROP_BAD_CSUM,      /* tx: csum_start/offset outside it */
	VIRTIO_NET_DROP_BAD_HDR,       /* tx: GSO or a flag not negotiated */
	VIRTIO_NET_DROP_FILTERED,      /* rx: not for the receive filter */
	VIRTIO_NET_DROP_MAX
};

struct virtio_net_stats {
	u64 tx_frames, tx_bytes;       /* handed to the backend */
	u64 rx_frames, rx_bytes;       /* written into the guest's buffers */
	u64 tx_backend_dropped;        /* the backend's send returned < 0 */
	u64 tx_csum_partial;           /* sent with NEEDS_CSUM */
	u64 rx_csum_partial;           /* received with NEEDS_CSUM */
	u64 rx_csum_finished;          /* finished here: no GUEST_CSUM */
	u64 rx_merged;                 /* frames over more than one buffer */
	u64 ctrl_ok, ctrl_err;         /* control commands by answer */
	u64 drops[VIRTIO_NET_DROP_MAX];
};

/* The receive filter (§5.1.6.5.1-2), as the control queue sets it. */
struct virtio_net_filter {
	bool modes[VIRTIO_NET_CTRL_RX_MODES];  /* by VIRTIO_NET_CTRL_RX_* */
	u32 nr_uni, nr_multi;                  /* addresses in the table */
	bool uni_overflow, multi_overflow;     /* more than the table holds */
	u8 uni[VIRTIO_NET_MAC_TABLE_MAX][ETH_ALEN];
	u8 multi[VIRTIO_NET_MAC_TABLE_MAX][ETH_ALEN];
};

struct virtio_net {
	struct virtio_device_ops ops;      /* for virtio_pci_init */
	const struct net_backend_ops *be;
	void *be_ctx;
	struct virtio_pci *vp;             /* set by virtio_net_attach */
	u8 mac[ETH_ALEN];                  /* now: CTRL_MAC_ADDR may change it */
	u8 config[VIRTIO_NET_CFG_SIZE];    /* little-endian, as the driver sees it */
	struct virtq_chain tx_chain, rx_chain, rx_more, ctrl_chain;
	u8 tx_buf[BRIDGE_FRAME_MAX];       /* a frame split across buffers */
	u8 rx_buf[BRIDGE_FRAME_MAX];       /* a frame whose checksum we finish */
	u8 ctrl_data[VIRTIO_NET_CTRL_DATA_MAX];   /* a control command's data */
	struct virtio_net_filter filter;
	u32 logged_drops;                  /* bit per cause: logged once */
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
 * A frame for the guest (len bytes, no FCS; csum: a checksum left
 * unfinished, or NULL): if the receive filter takes it, fills the next
 * posted receive buffer (or several, with MRG_RXBUF) with a
 * virtio_net_hdr and the frame, copied once, and notifies the driver if
 * it asked (§2.7.7.2). BRIDGE_RX_FILTERED if the filter refused it,
 * BRIDGE_RX_NO_BUFFER if it was dropped otherwise: bad length, the
 * driver not ready, no buffer posted, or too little room (then a lone
 * buffer is returned empty; merged ones are left for later). A malformed
 * receive chain also makes the device need a reset. Has the shape of
 * struct bridge_port_ops' receive (ctx: n).
 */
enum bridge_rx virtio_net_rx(void *n, const u8 *frame, u32 len,
			     const struct bridge_csum *csum);

/* virtio_net_rx of a frame with a complete checksum: true if delivered.
   The shape of struct bridge_port_ops' deliver. */
bool virtio_net_receive(void *n, const u8 *frame, u32 len);

/* Whether feature bit f was negotiated (FEATURES_OK accepted it). */
bool virtio_net_has(const struct virtio_net *n, unsigned f);

/* The names of the features last negotiated ("csum guest_csum mrg_rxbuf
   ...", offered bits only; a reset, e.g. at power-off, keeps them) into
   buf, for uhv's summary. */
void virtio_net_features(const struct virtio_net *n, char *buf, u32 size);

/* A drop cause's name ("runt"), for logs and summaries. */
const char *virtio_net_drop_name(enum virtio_net_drop d);

/* ---- for virtio_net_ctrl.c ---- */

/* Logs one line through the transport (uhv: with the VM's name). */
void virtio_net_log(struct virtio_net *n, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
/* Serves every chain on controlq (§5.1.6.5); 0 or a VIRTQ_ERR_*. */
int virtio_net_ctrl_notify(struct virtio_net *n, struct virtq *vq);
/* The receive filter's verdict on destination dst (§5.1.6.5.1-2). */
bool virtio_net_filter_accepts(const struct virtio_net *n, const u8 *dst);
/* The filter as after a reset: own address, broadcast, all multicast. */
void virtio_net_filter_reset(struct virtio_net *n);

#endif
