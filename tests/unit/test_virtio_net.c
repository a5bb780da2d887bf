/*
 * vmm/virtio/virtio_net.c: the virtio network device (virtio 1.2 §5.1), driven
 * end to end by the test driver through the PCI transport: identity,
 * features and configuration space (§5.1.3-4), transmit of frames of
 * every legal size whole or split (§5.1.6.2), receive into posted
 * buffers with the header (§5.1.6.3-4), drops by cause, and chains too
 * broken to use.
 *
 * receiveq (0) uses the test driver's rings; transmitq (1) has its own,
 * at TX_*, driven by the helpers below.
 */
#include <stdlib.h>
#include <string.h>
#include "unit.h"
#include "virtio_driver.h"
#include "net_fixture.h"

Suite *virtio_net_suite(void);

const u8 mac[ETH_ALEN] = { 0x52, 0x54, 0x00, 0x12, 0x34, 0x56 };

u8 *ram;
struct virtio_net net;
struct virtio_pci vp;
struct vdrv d;
u16 tx_avail_idx, ctrl_avail_idx;

struct net_sent sent;

char logged[LOG_KEEP];

static int be_send(void *ctx, const u8 *frame, u32 len,
		   const struct bridge_csum *csum)
{
	(void)ctx;
	ck_assert_uint_le(len, BRIDGE_FRAME_MAX);
	if (sent.n < MAX_SENT) {
		sent.len[sent.n] = len;
		memcpy(sent.frame[sent.n], frame, len);
		sent.has_csum[sent.n] = csum != NULL;
		if (csum)
			sent.csum[sent.n] = *csum;
	}
	sent.n++;
	return sent.ret;
}

static const struct net_backend_ops be_ops = { .send = be_send };

void vm_log(void *ctx, const char *msg)
{
	(void)ctx;
	strncpy(logged, msg, LOG_KEEP - 1);
}

static const struct virtio_pci_ops vm_ops = { .log = vm_log };

u8 dev_status(void)
{
	return (u8)vd_common_rd(&d, VIRTIO_PCI_COMMON_STATUS);
}

/* Negotiates want, sets up both queues, DRIVER_OK; returns the status. */
u8 drive(u64 want)
{
	u8 s = vd_negotiate(&d, want, NULL);

	if (!(s & VIRTIO_STATUS_FEATURES_OK))
		return s;
	vd_setup_queue(&d, VIRTIO_NET_RXQ, QSIZE);
	vd_setup_queue_at(&d, VIRTIO_NET_TXQ, QSIZE, TX_DESC, TX_AVAIL, TX_USED);
	tx_avail_idx = 0;
	vd_setup_queue_at(&d, VIRTIO_NET_CTRLQ, QSIZE, CTRL_DESC, CTRL_AVAIL, CTRL_USED);
	ctrl_avail_idx = 0;
	vd_common_wr(&d, VIRTIO_PCI_COMMON_STATUS,
		     dev_status() | VIRTIO_STATUS_DRIVER_OK);
	return dev_status();
}

void start_ops(u64 want, const struct virtio_pci_ops *ops)
{
	const char *why = "";

	ck_assert_int_eq(virtio_net_init(&net, mac, &be_ops, NULL), 0);
	ck_assert_int_eq(virtio_pci_init(&vp, &net.ops, &net, ops, NULL,
					 &d.mem), 0);
	virtio_net_attach(&net, &vp);
	ck_assert_msg(!vd_probe(&d, &vp, (struct gmem){ ram, VD_RAM_SIZE }, &why),
		      "%s", why);
	ck_assert_uint_eq(drive(want) & VIRTIO_STATUS_DRIVER_OK,
			  VIRTIO_STATUS_DRIVER_OK);
}

void start(u64 want)
{
	start_ops(want, &vm_ops);
}

void setup(void)
{
	ram = calloc(1, VD_RAM_SIZE);
	ck_assert(ram);
	memset(&sent, 0, sizeof(sent));
	memset(logged, 0, sizeof(logged));
	start(PLAIN);
}

void teardown(void)
{
	free(ram);
}

/* A frame of len bytes to the guest's own MAC, its bytes a pattern. */
void make_frame(u8 *f, u32 len, u8 seed)
{
	for (u32 i = 0; i < len; i++)
		f[i] = (u8)(seed + i * 7);
	memcpy(f, mac, ETH_ALEN);
	f[ETH_ALEN] = 0x02;                        /* a unicast source */
	f[12] = 0x08;                              /* IPv4 */
	f[13] = 0x00;
}

/* Queues frame f of len bytes for transmit at descriptor first: a
   header descriptor then the frame, or one descriptor for both. */
void tx_post(u16 first, const u8 *f, u32 len, bool split)
{
	u64 buf = TX_DATA + (u64)first * SLOT_BYTES;
	u16 slot = tx_avail_idx & (QSIZE - 1);

	memset(ram + buf, 0, VIRTIO_NET_HDR_SIZE);
	memcpy(ram + buf + VIRTIO_NET_HDR_SIZE, f, len);
	if (split) {
		vd_desc(&d, TX_DESC, first, buf, VIRTIO_NET_HDR_SIZE,
			VIRTQ_DESC_F_NEXT, (u16)(first + 1));
		vd_desc(&d, TX_DESC, (u16)(first + 1), buf + VIRTIO_NET_HDR_SIZE,
			len, 0, 0);
	} else {
		vd_desc(&d, TX_DESC, first, buf, VIRTIO_NET_HDR_SIZE + len, 0, 0);
	}
	vd_put16(&d, TX_AVAIL + VIRTQ_AVAIL_RING + VIRTQ_AVAIL_ENTRY * slot,
		 first);
	vd_put16(&d, TX_AVAIL + VIRTQ_AVAIL_IDX, ++tx_avail_idx);
}

u16 tx_used_idx(void)
{
	return vd_get16(&d, TX_USED + VIRTQ_USED_IDX);
}

void tx_used_elem(u16 i, u32 *id, u32 *len)
{
	const u8 *e = ram + TX_USED + VIRTQ_USED_RING +
		      VIRTQ_USED_ENTRY * (i & (QSIZE - 1));

	*id = le32_get(e);
	*len = le32_get(e + sizeof(u32));
}

/* Posts a receive buffer of len bytes at descriptor i (one segment). */
void rx_post(u16 i, u32 len)
{
	vd_desc(&d, VD_DESC, i, RX_DATA + (u64)i * SLOT_BYTES, len,
		VIRTQ_DESC_F_WRITE, 0);
	vd_avail(&d, i);
}

/* Sends one control command (class, command, data) as a two-descriptor
   chain and returns the ack byte the device wrote (NO_ACK: none). */
u8 net_ctrl(u8 cls, u8 op, const void *data, u32 len)
{
	u8 *cmd = ram + CTRL_DATA;
	u16 slot = ctrl_avail_idx & (QSIZE - 1);

	cmd[0] = cls;
	cmd[1] = op;
	if (len)
		memcpy(cmd + VIRTIO_NET_CTRL_HDR_SIZE, data, len);
	cmd[ACK_AT] = NO_ACK;
	vd_desc(&d, CTRL_DESC, 0, CTRL_DATA, VIRTIO_NET_CTRL_HDR_SIZE + len,
		VIRTQ_DESC_F_NEXT, 1);
	vd_desc(&d, CTRL_DESC, 1, CTRL_DATA + ACK_AT, 1, VIRTQ_DESC_F_WRITE, 0);
	vd_put16(&d, CTRL_AVAIL + VIRTQ_AVAIL_RING + VIRTQ_AVAIL_ENTRY * slot, 0);
	vd_put16(&d, CTRL_AVAIL + VIRTQ_AVAIL_IDX, ++ctrl_avail_idx);
	vd_kick(&d, VIRTIO_NET_CTRLQ);
	return cmd[ACK_AT];
}

u64 cfg(u32 off, unsigned size)
{
	return vd_rd(&d, d.device + off, size);
}

START_TEST(identity_features_and_config)
{
	u64 offered = 0;

	ck_assert_uint_eq(vd_cfg_read(&d, PCI_DEVICE_ID, 2),
			  VIRTIO_PCI_DEVICE_BASE + VIRTIO_ID_NET);
	ck_assert_uint_eq(vd_cfg_read(&d, PCI_CLASS_PROG, 1) |
			  vd_cfg_read(&d, PCI_CLASS_SUB, 2) << 8, 0x020000);
	ck_assert_uint_eq(vd_common_rd(&d, VIRTIO_PCI_COMMON_NUMQ), 3);
	vd_negotiate(&d, 0, &offered);
	ck_assert_uint_eq(offered, BIT(VIRTIO_NET_F_MAC) | BIT(VIRTIO_NET_F_STATUS) |
			  BIT(VIRTIO_NET_F_MTU) | BIT(VIRTIO_F_VERSION_1) |
			  BIT(VIRTIO_F_RING_EVENT_IDX) |
			  BIT(VIRTIO_F_RING_INDIRECT_DESC) |
			  BIT(VIRTIO_NET_F_CSUM) | BIT(VIRTIO_NET_F_GUEST_CSUM) |
			  BIT(VIRTIO_NET_F_MRG_RXBUF) | BIT(VIRTIO_NET_F_CTRL_VQ) |
			  BIT(VIRTIO_NET_F_CTRL_RX) |
			  BIT(VIRTIO_NET_F_CTRL_RX_EXTRA) |
			  BIT(VIRTIO_NET_F_CTRL_MAC_ADDR));
	ck_assert(!(offered & (BIT(6) | BIT(7) | BIT(11))));   /* no GSO */
	ck_assert_uint_ge(d.device_len, VIRTIO_NET_CFG_SIZE);
	for (unsigned i = 0; i < ETH_ALEN; i++)
		ck_assert_uint_eq(cfg(VIRTIO_NET_CFG_MAC + i, 1), mac[i]);
	ck_assert_uint_eq(cfg(VIRTIO_NET_CFG_MAC, 4), 0x12005452);
	ck_assert_uint_eq(cfg(VIRTIO_NET_CFG_STATUS, 2), VIRTIO_NET_S_LINK_UP);
	ck_assert_uint_eq(cfg(VIRTIO_NET_CFG_MAX_PAIRS, 2), 1);
	ck_assert_uint_eq(cfg(VIRTIO_NET_CFG_MTU, 2), 1500);
	ck_assert_int_eq(virtio_net_init(&net, NULL, &be_ops, NULL), -1);
	ck_assert_int_eq(virtio_net_init(&net, mac, NULL, NULL), -1);
}
END_TEST

START_TEST(feature_negotiation)
{
	u64 want = BIT(VIRTIO_F_VERSION_1) | BIT(VIRTIO_NET_F_MAC) |
		   BIT(VIRTIO_NET_F_MRG_RXBUF) | BIT(11) /* HOST_TSO4 */;
	char names[200];

	ck_assert(vd_negotiate(&d, want, NULL) & VIRTIO_STATUS_FEATURES_OK);
	ck_assert_uint_eq(vp.driver_features,
			  BIT(VIRTIO_F_VERSION_1) | BIT(VIRTIO_NET_F_MAC) |
			  BIT(VIRTIO_NET_F_MRG_RXBUF));
	virtio_net_features(&net, names, sizeof(names));
	ck_assert_str_eq(names, "mac mrg_rxbuf version_1");
	vd_common_wr(&d, VIRTIO_PCI_COMMON_STATUS, 0);   /* reset: still named */
	virtio_net_features(&net, names, sizeof(names));
	ck_assert_str_eq(names, "mac mrg_rxbuf version_1");
	/* no legacy interface: without VERSION_1 FEATURES_OK does not stick */
	ck_assert(!(vd_negotiate(&d, BIT(VIRTIO_NET_F_MAC), NULL) &
		    VIRTIO_STATUS_FEATURES_OK));
	ck_assert(drive(ALL) & VIRTIO_STATUS_DRIVER_OK);
	ck_assert_uint_eq(vp.driver_features, net.ops.features);
}
END_TEST

START_TEST(transmits_frames_unchanged)
{
	static const u32 sizes[] = { ETH_HLEN, 60, 600, 1000, ETH_FRAME_MAX };
	static u8 f[BRIDGE_FRAME_MAX];
	u64 bytes = 0;
	u32 id, len;

	for (unsigned k = 0; k < 2 * ARRAY_SIZE(sizes); k++) {
		u32 size = sizes[k % ARRAY_SIZE(sizes)];
		bool split = k >= ARRAY_SIZE(sizes);
		u16 before = tx_used_idx();

		make_frame(f, size, (u8)k);
		sent.n = 0;
		tx_post(0, f, size, split);
		vd_kick(&d, VIRTIO_NET_TXQ);
		ck_assert_uint_eq(tx_used_idx(), (u16)(before + 1));
		tx_used_elem(before, &id, &len);
		ck_assert_uint_eq(id, 0);
		ck_assert_uint_eq(len, 0);
		ck_assert_uint_eq(sent.n, 1);
		ck_assert_uint_eq(sent.len[0], size);
		ck_assert(!memcmp(sent.frame[0], f, size));
		bytes += size;
	}
	ck_assert_uint_eq(net.stats.tx_frames, 2 * ARRAY_SIZE(sizes));
	ck_assert_uint_eq(net.stats.tx_bytes, bytes);
	ck_assert_uint_eq(vp.interrupts, 2 * ARRAY_SIZE(sizes));
	ck_assert(!(dev_status() & VIRTIO_STATUS_NEEDS_RESET));
}
END_TEST

START_TEST(frames_split_mid_frame_are_copied_whole)
{
	static u8 f[700];
	u64 buf = TX_DATA;

	make_frame(f, sizeof(f), 9);
	memset(ram + buf, 0, VIRTIO_NET_HDR_SIZE);
	memcpy(ram + buf + VIRTIO_NET_HDR_SIZE, f, sizeof(f));
	/* header and 3 bytes of the frame, 400 more, then the rest */
	vd_desc(&d, TX_DESC, 0, buf, VIRTIO_NET_HDR_SIZE + 3, VIRTQ_DESC_F_NEXT, 1);
	vd_desc(&d, TX_DESC, 1, buf + VIRTIO_NET_HDR_SIZE + 3, 400,
		VIRTQ_DESC_F_NEXT, 2);
	vd_desc(&d, TX_DESC, 2, buf + VIRTIO_NET_HDR_SIZE + 403,
		sizeof(f) - 403, 0, 0);
	vd_put16(&d, TX_AVAIL + VIRTQ_AVAIL_RING, 0);
	vd_put16(&d, TX_AVAIL + VIRTQ_AVAIL_IDX, ++tx_avail_idx);
	vd_kick(&d, VIRTIO_NET_TXQ);
	ck_assert_uint_eq(sent.n, 1);
	ck_assert_uint_eq(sent.len[0], sizeof(f));
	ck_assert(!memcmp(sent.frame[0], f, sizeof(f)));
	ck_assert_uint_eq(tx_used_idx(), 1);
}
END_TEST

START_TEST(one_kick_many_frames_and_backend_drops)
{
	static u8 f[3][200];

	sent.ret = -1;                           /* the bridge refuses them */
	for (u16 i = 0; i < 3; i++) {
		make_frame(f[i], 200, (u8)(i * 40));
		tx_post((u16)(2 * i), f[i], 200, true);
	}
	vd_kick(&d, VIRTIO_NET_TXQ);
	ck_assert_uint_eq(tx_used_idx(), 3);
	ck_assert_uint_eq(sent.n, 3);
	for (unsigned i = 0; i < 3; i++)
		ck_assert(!memcmp(sent.frame[i], f[i], 200));
	ck_assert_uint_eq(net.stats.tx_frames, 3);
	ck_assert_uint_eq(net.stats.tx_backend_dropped, 3);
	ck_assert_uint_eq(vp.interrupts, 1);
}
END_TEST

START_TEST(transmit_runts_and_oversize_are_dropped)
{
	static u8 f[BRIDGE_FRAME_MAX + 1];

	make_frame(f, sizeof(f), 1);
	tx_post(0, f, ETH_HLEN - 1, true);
	tx_post(2, f, ETH_FRAME_MAX + 1, true);
	tx_post(4, f, 0, false);                 /* a header and no frame */
	vd_kick(&d, VIRTIO_NET_TXQ);
	ck_assert_uint_eq(tx_used_idx(), 3);
	ck_assert_uint_eq(sent.n, 0);
	ck_assert_uint_eq(net.stats.drops[VIRTIO_NET_DROP_RUNT], 2);
	ck_assert_uint_eq(net.stats.drops[VIRTIO_NET_DROP_OVERSIZE], 1);
	ck_assert_uint_eq(net.stats.tx_frames, 0);
	/* an 802.1Q tag allows four more bytes, as on the bridge */
	f[12] = 0x81;
	f[13] = 0x00;
	tx_post(0, f, BRIDGE_FRAME_MAX, false);
	tx_post(2, f, BRIDGE_FRAME_MAX + 1, false);
	vd_kick(&d, VIRTIO_NET_TXQ);
	ck_assert_uint_eq(sent.n, 1);
	ck_assert_uint_eq(sent.len[0], BRIDGE_FRAME_MAX);
	ck_assert_uint_eq(net.stats.drops[VIRTIO_NET_DROP_OVERSIZE], 2);
	ck_assert(!(dev_status() & VIRTIO_STATUS_NEEDS_RESET));
}
END_TEST

/* Checks that receive buffer i holds the header and frame f. */
static void check_rx(u16 used, u16 i, const u8 *f, u32 len)
{
	const u8 *b = ram + RX_DATA + (u64)i * SLOT_BYTES;
	u32 id, got;

	vd_used_elem(&d, used, &id, &got);
	ck_assert_uint_eq(id, i);
	ck_assert_uint_eq(got, VIRTIO_NET_HDR_SIZE + len);
	for (unsigned k = 0; k < VIRTIO_NET_HDR_NUM_BUFFERS; k++)
		ck_assert_uint_eq(b[k], 0);
	ck_assert_uint_eq(le16_get(b + VIRTIO_NET_HDR_NUM_BUFFERS), 1);
	ck_assert(!memcmp(b + VIRTIO_NET_HDR_SIZE, f, len));
}

START_TEST(receives_into_posted_buffers)
{
	static u8 f[ETH_FRAME_MAX];
	u8 *b = ram + RX_DATA + 2 * SLOT_BYTES;

	memset(ram + RX_DATA, 0xee, 3 * SLOT_BYTES);
	rx_post(0, RX_BUF);
	rx_post(1, RX_BUF);
	vd_kick(&d, VIRTIO_NET_RXQ);             /* nothing to do yet */
	ck_assert_uint_eq(vd_used_idx(&d), 0);
	make_frame(f, 100, 3);
	ck_assert(virtio_net_receive(&net, f, 100));
	ck_assert_uint_eq(vd_used_idx(&d), 1);
	check_rx(0, 0, f, 100);
	ck_assert_uint_eq(vp.interrupts, 1);
	make_frame(f, ETH_FRAME_MAX, 4);
	ck_assert(virtio_net_receive(&net, f, ETH_FRAME_MAX));
	check_rx(1, 1, f, ETH_FRAME_MAX);
	ck_assert_uint_eq(net.stats.rx_frames, 2);
	ck_assert_uint_eq(net.stats.rx_bytes, 100 + ETH_FRAME_MAX);
	ck_assert_uint_eq(vp.interrupts, 2);
	/* a buffer split into header and frame parts (§2.7.4.1) */
	vd_desc(&d, VD_DESC, 2, RX_DATA + 2 * SLOT_BYTES, 5,
		VIRTQ_DESC_F_WRITE | VIRTQ_DESC_F_NEXT, 3);
	vd_desc(&d, VD_DESC, 3, RX_DATA + 2 * SLOT_BYTES + 5, 300,
		VIRTQ_DESC_F_WRITE, 0);
	vd_avail(&d, 2);
	make_frame(f, 60, 5);
	ck_assert(virtio_net_receive(&net, f, 60));
	check_rx(2, 2, f, 60);
	ck_assert_uint_eq(b[VIRTIO_NET_HDR_SIZE + 60], 0xee);   /* no more */
}
END_TEST

START_TEST(receive_without_buffers_drops)
{
	static u8 f[ETH_FRAME_MAX];
	u32 id, len;

	make_frame(f, 500, 6);
	ck_assert(!virtio_net_receive(&net, f, 500));
	ck_assert_uint_eq(net.stats.drops[VIRTIO_NET_DROP_NO_BUFFER], 1);
	rx_post(0, VIRTIO_NET_HDR_SIZE + 499);   /* one byte short */
	ck_assert(!virtio_net_receive(&net, f, 500));
	ck_assert_uint_eq(net.stats.drops[VIRTIO_NET_DROP_NO_BUFFER], 2);
	ck_assert_uint_eq(vd_used_idx(&d), 1);   /* returned, empty */
	vd_used_elem(&d, 0, &id, &len);
	ck_assert_uint_eq(len, 0);
	rx_post(1, RX_BUF);
	ck_assert(virtio_net_receive(&net, f, 500));
	check_rx(1, 1, f, 500);
	ck_assert_uint_eq(net.stats.rx_frames, 1);
	/* runts and oversize never reach a buffer */
	rx_post(2, RX_BUF);
	ck_assert(!virtio_net_receive(&net, f, ETH_HLEN - 1));
	ck_assert(!virtio_net_receive(&net, f, ETH_FRAME_MAX + 1));
	ck_assert_uint_eq(net.stats.drops[VIRTIO_NET_DROP_RUNT], 1);
	ck_assert_uint_eq(net.stats.drops[VIRTIO_NET_DROP_OVERSIZE], 1);
	ck_assert_uint_eq(vd_used_idx(&d), 2);
	/* nor before DRIVER_OK, as after a reset */
	vd_common_wr(&d, VIRTIO_PCI_COMMON_STATUS, 0);
	ck_assert(!virtio_net_receive(&net, f, 500));
	ck_assert_uint_eq(net.stats.drops[VIRTIO_NET_DROP_NO_BUFFER], 3);
	ck_assert(!(dev_status() & VIRTIO_STATUS_NEEDS_RESET));
}
END_TEST

START_TEST(event_idx_suppresses_rx_interrupts)
{
	static u8 f[100];

	ck_assert(drive(ALL) & VIRTIO_STATUS_DRIVER_OK);
	make_frame(f, sizeof(f), 7);
	/* used_event = 1: interrupt once the second buffer is used */
	vd_put16(&d, VD_AVAIL + VIRTQ_AVAIL_RING + VIRTQ_AVAIL_ENTRY * QSIZE, 1);
	rx_post(0, RX_BUF);
	rx_post(1, RX_BUF);
	ck_assert(virtio_net_receive(&net, f, sizeof(f)));
	ck_assert_uint_eq(vp.interrupts, 0);
	ck_assert(virtio_net_receive(&net, f, sizeof(f)));
	ck_assert_uint_eq(vp.interrupts, 1);
}
END_TEST

START_TEST(malformed_chains_need_reset)
{
	static u8 f[100];

	make_frame(f, sizeof(f), 8);
	/* a receive buffer the device may only read */
	vd_desc(&d, VD_DESC, 0, RX_DATA, RX_BUF, 0, 0);
	vd_avail(&d, 0);
	ck_assert(!virtio_net_receive(&net, f, sizeof(f)));
	ck_assert_uint_eq(net.stats.drops[VIRTIO_NET_DROP_BAD_DESC], 1);
	ck_assert(dev_status() & VIRTIO_STATUS_NEEDS_RESET);
	ck_assert_msg(strstr(logged, "virtio-net: queue 0") != NULL, "%s", logged);
	ck_assert(!virtio_net_receive(&net, f, sizeof(f)));

	/* a transmit chain with a writable part */
	ck_assert(drive(PLAIN) & VIRTIO_STATUS_DRIVER_OK);
	ck_assert(!(dev_status() & VIRTIO_STATUS_NEEDS_RESET));
	tx_post(0, f, sizeof(f), true);
	vd_desc(&d, TX_DESC, 1, TX_DATA + VIRTIO_NET_HDR_SIZE, sizeof(f),
		VIRTQ_DESC_F_WRITE, 0);
	vd_kick(&d, VIRTIO_NET_TXQ);
	ck_assert_uint_eq(sent.n, 0);
	ck_assert_uint_eq(net.stats.drops[VIRTIO_NET_DROP_BAD_DESC], 2);
	ck_assert(dev_status() & VIRTIO_STATUS_NEEDS_RESET);

	/* a transmit chain too short for its header */
	ck_assert(drive(PLAIN) & VIRTIO_STATUS_DRIVER_OK);
	vd_desc(&d, TX_DESC, 0, TX_DATA, VIRTIO_NET_HDR_SIZE - 1, 0, 0);
	vd_put16(&d, TX_AVAIL + VIRTQ_AVAIL_RING, 0);
	vd_put16(&d, TX_AVAIL + VIRTQ_AVAIL_IDX, ++tx_avail_idx);
	vd_kick(&d, VIRTIO_NET_TXQ);
	ck_assert_uint_eq(net.stats.drops[VIRTIO_NET_DROP_BAD_DESC], 3);
	ck_assert(dev_status() & VIRTIO_STATUS_NEEDS_RESET);

	/* a receive descriptor outside guest RAM */
	ck_assert(drive(PLAIN) & VIRTIO_STATUS_DRIVER_OK);
	vd_desc(&d, VD_DESC, 0, VD_RAM_SIZE - 8, RX_BUF, VIRTQ_DESC_F_WRITE, 0);
	vd_avail(&d, 0);
	ck_assert(!virtio_net_receive(&net, f, sizeof(f)));
	ck_assert_uint_eq(net.stats.drops[VIRTIO_NET_DROP_BAD_DESC], 4);
	ck_assert(dev_status() & VIRTIO_STATUS_NEEDS_RESET);
	ck_assert_uint_eq(net.stats.rx_frames, 0);

	/* a transmit chain whose frame lies outside guest RAM */
	ck_assert(drive(PLAIN) & VIRTIO_STATUS_DRIVER_OK);
	tx_post(0, f, sizeof(f), true);
	vd_desc(&d, TX_DESC, 1, VD_RAM_SIZE - 8, sizeof(f), 0, 0);
	vd_kick(&d, VIRTIO_NET_TXQ);
	ck_assert_uint_eq(net.stats.drops[VIRTIO_NET_DROP_BAD_DESC], 5);
	ck_assert(dev_status() & VIRTIO_STATUS_NEEDS_RESET);

	/* a transmit chain that loops */
	ck_assert(drive(PLAIN) & VIRTIO_STATUS_DRIVER_OK);
	tx_post(0, f, sizeof(f), true);
	vd_desc(&d, TX_DESC, 1, TX_DATA + VIRTIO_NET_HDR_SIZE, sizeof(f),
		VIRTQ_DESC_F_NEXT, 0);
	vd_kick(&d, VIRTIO_NET_TXQ);
	ck_assert_uint_eq(net.stats.drops[VIRTIO_NET_DROP_BAD_DESC], 6);
	ck_assert(dev_status() & VIRTIO_STATUS_NEEDS_RESET);
	ck_assert_msg(strstr(logged, "loops back") != NULL, "%s", logged);
	ck_assert_uint_eq(sent.n, 0);
}
END_TEST

Suite *virtio_net_suite(void)
{
	Suite *s = suite_create("virtio_net");
	TCase *tc = tcase_create("device");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, identity_features_and_config);
	tcase_add_test(tc, feature_negotiation);
	tcase_add_test(tc, transmits_frames_unchanged);
	tcase_add_test(tc, frames_split_mid_frame_are_copied_whole);
	tcase_add_test(tc, one_kick_many_frames_and_backend_drops);
	tcase_add_test(tc, transmit_runts_and_oversize_are_dropped);
	tcase_add_test(tc, receives_into_posted_buffers);
	tcase_add_test(tc, receive_without_buffers_drops);
	tcase_add_test(tc, event_idx_suppresses_rx_interrupts);
	tcase_add_test(tc, malformed_chains_need_reset);
	suite_add_tcase(s, tc);
	return s;
}
