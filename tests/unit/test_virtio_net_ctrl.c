/*
 * vmm/virtio/virtio_net.c and virtio_net_ctrl.c, the negotiated extras:
 * mergeable receive buffers (§5.1.6.3-4), the control queue and the
 * receive filter it programs (§5.1.6.5), and checksum offload both ways
 * (§5.1.6.2, §5.1.6.4.1) with the arithmetic of vmm/net/inet_csum.c checked
 * against packets whose checksums were worked out independently.
 * Uses the fixture of test_virtio_net.c (net_fixture.h).
 */
#include <string.h>
#include "unit.h"
#include "net_fixture.h"
#include "vmm/net/inet_csum.h"

Suite *virtio_net_ctrl_suite(void);

#define MRG        (PLAIN | BIT(VIRTIO_NET_F_MRG_RXBUF))
#define SMALL_BUF  600
#define UDP_FRAME  52               /* 14 + 20 (IPv4) + 8 (UDP) + 10 */
#define UDP_START  34               /* csum_start: the UDP header */
#define UDP_OFFSET 6                /* csum_offset: its checksum field */

static const u8 other[ETH_ALEN] = { 0x02, 0, 0, 0, 0, 0x99 };
static const u8 bcast[ETH_ALEN] = { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff };
static const u8 mcast1[ETH_ALEN] = { 0x01, 0x00, 0x5e, 0x00, 0x00, 0x01 };
static const u8 mcast2[ETH_ALEN] = { 0x01, 0x00, 0x5e, 0x00, 0x00, 0x02 };

/* The buffer of receive descriptor i. */
static u8 *rx_buf(u16 i)
{
	return ram + RX_DATA + (u64)i * SLOT_BYTES;
}

static u8 rx_mode(u8 mode, u8 on)
{
	return net_ctrl(VIRTIO_NET_CTRL_RX, mode, &on, 1);
}

/* A 60-byte frame to dst; what virtio_net_rx made of it. */
static enum bridge_rx rx_to(const u8 *dst)
{
	u8 f[60];

	make_frame(f, sizeof(f), 1);
	memcpy(f, dst, ETH_ALEN);
	return virtio_net_rx(&net, f, sizeof(f), NULL);
}

START_TEST(mergeable_buffers_take_a_frame_in_pieces)
{
	static u8 f[1400];
	u32 id, len;

	start(MRG);
	make_frame(f, sizeof(f), 2);
	for (u16 i = 0; i < 3; i++)
		rx_post(i, SMALL_BUF);
	ck_assert(virtio_net_receive(&net, f, sizeof(f)));
	ck_assert_uint_eq(vd_used_idx(&d), 3);
	for (u16 i = 0; i < 3; i++) {
		vd_used_elem(&d, i, &id, &len);
		ck_assert_uint_eq(id, i);
		ck_assert_uint_eq(len, i < 2 ? SMALL_BUF :
				  VIRTIO_NET_HDR_SIZE + sizeof(f) - 2 * SMALL_BUF);
	}
	ck_assert_uint_eq(le16_get(rx_buf(0) + VIRTIO_NET_HDR_NUM_BUFFERS), 3);
	ck_assert(!memcmp(rx_buf(0) + VIRTIO_NET_HDR_SIZE, f,
			  SMALL_BUF - VIRTIO_NET_HDR_SIZE));
	ck_assert(!memcmp(rx_buf(1), f + SMALL_BUF - VIRTIO_NET_HDR_SIZE, SMALL_BUF));
	ck_assert(!memcmp(rx_buf(2), f + 2 * SMALL_BUF - VIRTIO_NET_HDR_SIZE,
			  sizeof(f) + VIRTIO_NET_HDR_SIZE - 2 * SMALL_BUF));
	ck_assert_uint_eq(net.stats.rx_merged, 1);
	ck_assert_uint_eq(vp.interrupts, 1);     /* one for all three */
	/* two buffers are too few: both stay posted, the frame is dropped */
	rx_post(3, SMALL_BUF);
	rx_post(4, SMALL_BUF);
	ck_assert(!virtio_net_receive(&net, f, sizeof(f)));
	ck_assert_uint_eq(vd_used_idx(&d), 3);
	ck_assert_uint_eq(net.stats.drops[VIRTIO_NET_DROP_NO_BUFFER], 1);
	rx_post(5, SMALL_BUF);                   /* now three: it fits */
	ck_assert(virtio_net_receive(&net, f, sizeof(f)));
	ck_assert_uint_eq(vd_used_idx(&d), 6);
	vd_used_elem(&d, 3, &id, &len);
	ck_assert_uint_eq(id, 3);
	/* a small frame takes one buffer: num_buffers 1 */
	rx_post(6, SMALL_BUF);
	ck_assert(virtio_net_receive(&net, f, 100));
	ck_assert_uint_eq(le16_get(rx_buf(6) + VIRTIO_NET_HDR_NUM_BUFFERS), 1);
	ck_assert_uint_eq(net.stats.rx_frames, 3);
}
END_TEST

START_TEST(receive_filter_follows_control_commands)
{
	static const u8 new_mac[ETH_ALEN] = { 0x02, 0x11, 0x22, 0x33, 0x44, 0x55 };
	u8 table[2 * VIRTIO_NET_CTRL_MAC_ENTRIES + 2 * ETH_ALEN] = { 1 };

	for (u16 i = 0; i < QSIZE; i++)
		rx_post(i, RX_BUF);
	ck_assert_int_eq(rx_to(mac), BRIDGE_RX_OK);
	ck_assert_int_eq(rx_to(other), BRIDGE_RX_FILTERED);
	ck_assert_int_eq(rx_to(bcast), BRIDGE_RX_OK);
	ck_assert_int_eq(rx_to(mcast1), BRIDGE_RX_OK);   /* allmulti at first */
	ck_assert_uint_eq(net.stats.drops[VIRTIO_NET_DROP_FILTERED], 1);
	ck_assert_uint_eq(rx_mode(VIRTIO_NET_CTRL_RX_PROMISC, 1), VIRTIO_NET_OK);
	ck_assert_int_eq(rx_to(other), BRIDGE_RX_OK);
	ck_assert_uint_eq(rx_mode(VIRTIO_NET_CTRL_RX_PROMISC, 0), VIRTIO_NET_OK);
	ck_assert_uint_eq(rx_mode(VIRTIO_NET_CTRL_RX_ALLMULTI, 0), VIRTIO_NET_OK);
	ck_assert_int_eq(rx_to(mcast1), BRIDGE_RX_FILTERED);
	/* one unicast and one multicast address in the table */
	memcpy(table + VIRTIO_NET_CTRL_MAC_ENTRIES, other, ETH_ALEN);
	table[VIRTIO_NET_CTRL_MAC_ENTRIES + ETH_ALEN] = 1;
	memcpy(table + 2 * VIRTIO_NET_CTRL_MAC_ENTRIES + ETH_ALEN, mcast1, ETH_ALEN);
	ck_assert_uint_eq(net_ctrl(VIRTIO_NET_CTRL_MAC, VIRTIO_NET_CTRL_MAC_TABLE_SET,
			       table, sizeof(table)), VIRTIO_NET_OK);
	ck_assert_int_eq(rx_to(other), BRIDGE_RX_OK);
	ck_assert_int_eq(rx_to(mcast1), BRIDGE_RX_OK);
	ck_assert_int_eq(rx_to(mcast2), BRIDGE_RX_FILTERED);
	ck_assert_uint_eq(rx_mode(VIRTIO_NET_CTRL_RX_NOBCAST, 1), VIRTIO_NET_OK);
	ck_assert_int_eq(rx_to(bcast), BRIDGE_RX_FILTERED);
	ck_assert_uint_eq(rx_mode(VIRTIO_NET_CTRL_RX_NOUNI, 1), VIRTIO_NET_OK);
	ck_assert_int_eq(rx_to(mac), BRIDGE_RX_FILTERED);
	ck_assert_uint_eq(rx_mode(VIRTIO_NET_CTRL_RX_NOUNI, 0), VIRTIO_NET_OK);
	/* a new address: the old one is filtered */
	ck_assert_uint_eq(net_ctrl(VIRTIO_NET_CTRL_MAC, VIRTIO_NET_CTRL_MAC_ADDR_SET,
			       new_mac, ETH_ALEN), VIRTIO_NET_OK);
	ck_assert_int_eq(rx_to(new_mac), BRIDGE_RX_OK);
	ck_assert_int_eq(rx_to(mac), BRIDGE_RX_FILTERED);
	ck_assert_uint_eq(net.stats.drops[VIRTIO_NET_DROP_FILTERED], 6);
	ck_assert_uint_eq(net.stats.ctrl_ok, 8);
	ck_assert_uint_eq(net.stats.ctrl_err, 0);
	/* a reset brings back the configured address and filter */
	ck_assert(drive(PLAIN) & VIRTIO_STATUS_DRIVER_OK);
	for (u16 i = 0; i < 4; i++)
		rx_post(i, RX_BUF);
	ck_assert_int_eq(rx_to(mac), BRIDGE_RX_OK);
	ck_assert_int_eq(rx_to(other), BRIDGE_RX_FILTERED);
	ck_assert_int_eq(rx_to(mcast2), BRIDGE_RX_OK);
}
END_TEST

START_TEST(bad_control_commands_answer_err)
{
	u8 two[2] = { 1, 1 }, table[12] = { 5 };

	ck_assert_uint_eq(net_ctrl(7, 0, NULL, 0), VIRTIO_NET_ERR);
	ck_assert_msg(strstr(logged, "class 7 command 0") &&
		      strstr(logged, "VIRTIO_NET_ERR"), "%s", logged);
	ck_assert_uint_eq(net_ctrl(VIRTIO_NET_CTRL_RX, VIRTIO_NET_CTRL_RX_PROMISC,
			       two, 2), VIRTIO_NET_ERR);
	ck_assert_uint_eq(net_ctrl(VIRTIO_NET_CTRL_RX, VIRTIO_NET_CTRL_RX_MODES,
			       two, 1), VIRTIO_NET_ERR);
	/* 5 unicast addresses announced, none there */
	ck_assert_uint_eq(net_ctrl(VIRTIO_NET_CTRL_MAC, VIRTIO_NET_CTRL_MAC_TABLE_SET,
			       table, sizeof(table)), VIRTIO_NET_ERR);
	ck_assert(strstr(logged, "tables do not fill"));
	ck_assert_uint_eq(net_ctrl(VIRTIO_NET_CTRL_MAC, VIRTIO_NET_CTRL_MAC_ADDR_SET,
			       mcast1, ETH_ALEN), VIRTIO_NET_ERR);
	ck_assert_uint_eq(net_ctrl(VIRTIO_NET_CTRL_MAC, 9, NULL, 0), VIRTIO_NET_ERR);
	ck_assert_uint_eq(net.stats.ctrl_err, 6);
	ck_assert_int_eq(rx_to(other), BRIDGE_RX_FILTERED);   /* unchanged */
	/* the commands need their features */
	ck_assert(drive(PLAIN & ~BIT(VIRTIO_NET_F_CTRL_RX) &
			~BIT(VIRTIO_NET_F_CTRL_RX_EXTRA)) & VIRTIO_STATUS_DRIVER_OK);
	ck_assert_uint_eq(rx_mode(VIRTIO_NET_CTRL_RX_PROMISC, 1), VIRTIO_NET_ERR);
	ck_assert(strstr(logged, "not negotiated"));
	ck_assert(!(dev_status() & VIRTIO_STATUS_NEEDS_RESET));
	/* a command with nowhere to put the answer is malformed */
	vd_desc(&d, CTRL_DESC, 0, CTRL_DATA, 3, 0, 0);
	vd_put16(&d, CTRL_AVAIL + VIRTQ_AVAIL_RING, 0);
	vd_put16(&d, CTRL_AVAIL + VIRTQ_AVAIL_IDX, ++ctrl_avail_idx);
	vd_kick(&d, VIRTIO_NET_CTRLQ);
	ck_assert(dev_status() & VIRTIO_STATUS_NEEDS_RESET);
	ck_assert(strstr(logged, "control chain"));
}
END_TEST

/* An Ethernet/IPv4/UDP frame, 10.0.0.1:1234 -> 10.0.0.2:5678, "hello
   uhv!", its UDP checksum field holding the pseudo-header sum 0x1426 as
   a driver leaves it; the finished checksum is 0xa14b (worked out by
   hand from RFC 768 and RFC 1071, not by the code under test). */
static void udp_frame(u8 *f)
{
	static const u8 ip_udp[] = {
		0x45, 0, 0, 38, 0, 0, 0x40, 0, 64, 17, 0, 0,
		10, 0, 0, 1, 10, 0, 0, 2,
		0x04, 0xd2, 0x16, 0x2e, 0, 18, 0x14, 0x26,
		'h', 'e', 'l', 'l', 'o', ' ', 'u', 'h', 'v', '!',
	};

	make_frame(f, ETH_HLEN, 3);
	memcpy(f + ETH_HLEN, ip_udp, sizeof(ip_udp));
}

START_TEST(checksum_arithmetic_on_known_packets)
{
	/* RFC 1071 §3's example: sum 0xddf2, checksum its complement */
	static const u8 rfc[] = { 0x00, 0x01, 0xf2, 0x03, 0xf4, 0xf5, 0xf6, 0xf7 };
	/* an IPv4 header whose checksum is 0xb861 */
	u8 ip[20] = { 0x45, 0, 0, 0x73, 0, 0, 0x40, 0, 0x40, 0x11, 0, 0,
		      0xc0, 0xa8, 0, 1, 0xc0, 0xa8, 0, 0xc7 };
	u8 f[UDP_FRAME];

	ck_assert_uint_eq(inet_fold(inet_sum(rfc, sizeof(rfc), 0)), 0x220d);
	ck_assert_uint_eq(inet_fold(inet_sum(rfc, 3, 0)), (u16)~0xf201);
	ck_assert(inet_csum_finish(ip, sizeof(ip), 0, 10));
	ck_assert_uint_eq(ip[10] << 8 | ip[11], 0xb861);
	ck_assert_uint_eq(inet_fold(inet_sum(ip, sizeof(ip), 0)), 0);
	udp_frame(f);
	ck_assert(inet_csum_finish(f, UDP_FRAME, UDP_START, UDP_OFFSET));
	ck_assert_uint_eq(f[UDP_START + UDP_OFFSET] << 8 |
			  f[UDP_START + UDP_OFFSET + 1], 0xa14b);
	/* the field must lie inside [start, len) */
	ck_assert(inet_csum_fits(20, 18, 0));
	ck_assert(!inet_csum_fits(20, 18, 1));
	ck_assert(!inet_csum_fits(20, 20, 0));
	ck_assert(!inet_csum_fits(20, 0, 0xffffffffU));
	ck_assert(!inet_csum_finish(f, UDP_FRAME, UDP_FRAME - 1, 0));
}
END_TEST

/* Queues frame f for transmit with a header asking for a checksum. */
static void tx_csum(const u8 *f, u32 len, u8 flags, u8 gso, u16 start,
		    u16 offset)
{
	u8 *h = ram + TX_DATA;

	tx_post(0, f, len, false);
	h[VIRTIO_NET_HDR_FLAGS] = flags;
	h[VIRTIO_NET_HDR_GSO_TYPE] = gso;
	le_put(h + VIRTIO_NET_HDR_CSUM_START, start, sizeof(u16));
	le_put(h + VIRTIO_NET_HDR_CSUM_OFFSET, offset, sizeof(u16));
	vd_kick(&d, VIRTIO_NET_TXQ);
}

START_TEST(transmit_passes_checksum_requests_on)
{
	u8 f[UDP_FRAME];

	udp_frame(f);
	tx_csum(f, UDP_FRAME, VIRTIO_NET_HDR_F_NEEDS_CSUM, 0, UDP_START,
		UDP_OFFSET);
	ck_assert_uint_eq(sent.n, 1);
	ck_assert(sent.has_csum[0]);
	ck_assert_uint_eq(sent.csum[0].start, UDP_START);
	ck_assert_uint_eq(sent.csum[0].offset, UDP_OFFSET);
	ck_assert(!memcmp(sent.frame[0], f, UDP_FRAME));    /* untouched */
	ck_assert_uint_eq(net.stats.tx_csum_partial, 1);
	tx_csum(f, UDP_FRAME, 0, 0, 0, 0);
	ck_assert_uint_eq(sent.n, 2);
	ck_assert(!sent.has_csum[1]);
	/* a field past the end, and GSO (not offered): dropped, logged */
	tx_csum(f, UDP_FRAME, VIRTIO_NET_HDR_F_NEEDS_CSUM, 0, UDP_START, 17);
	ck_assert_uint_eq(net.stats.drops[VIRTIO_NET_DROP_BAD_CSUM], 1);
	ck_assert_msg(strstr(logged, "bad_csum") && strstr(logged, "34+17"),
		      "%s", logged);
	tx_csum(f, UDP_FRAME, 0, 1, 0, 0);
	ck_assert_uint_eq(net.stats.drops[VIRTIO_NET_DROP_BAD_HDR], 1);
	ck_assert_uint_eq(sent.n, 2);
	ck_assert(!(dev_status() & VIRTIO_STATUS_NEEDS_RESET));
	/* NEEDS_CSUM without VIRTIO_NET_F_CSUM is a bad header */
	ck_assert(drive(PLAIN & ~BIT(VIRTIO_NET_F_CSUM)) & VIRTIO_STATUS_DRIVER_OK);
	tx_csum(f, UDP_FRAME, VIRTIO_NET_HDR_F_NEEDS_CSUM, 0, UDP_START,
		UDP_OFFSET);
	ck_assert_uint_eq(net.stats.drops[VIRTIO_NET_DROP_BAD_HDR], 2);
	ck_assert_uint_eq(sent.n, 2);
}
END_TEST

START_TEST(receive_hands_on_or_finishes_checksums)
{
	const struct bridge_csum c = { UDP_START, UDP_OFFSET };
	const struct bridge_csum bad = { UDP_FRAME, 0 };
	u8 f[UDP_FRAME];
	u8 *b = rx_buf(0);

	udp_frame(f);
	rx_post(0, RX_BUF);
	rx_post(1, RX_BUF);
	ck_assert_int_eq(virtio_net_rx(&net, f, UDP_FRAME, &c), BRIDGE_RX_OK);
	ck_assert_uint_eq(b[VIRTIO_NET_HDR_FLAGS], VIRTIO_NET_HDR_F_NEEDS_CSUM);
	ck_assert_uint_eq(le16_get(b + VIRTIO_NET_HDR_CSUM_START), UDP_START);
	ck_assert_uint_eq(le16_get(b + VIRTIO_NET_HDR_CSUM_OFFSET), UDP_OFFSET);
	ck_assert(!memcmp(b + VIRTIO_NET_HDR_SIZE, f, UDP_FRAME));
	ck_assert_uint_eq(net.stats.rx_csum_partial, 1);
	ck_assert_int_eq(virtio_net_rx(&net, f, UDP_FRAME, &bad),
			 BRIDGE_RX_NO_BUFFER);
	ck_assert_uint_eq(net.stats.drops[VIRTIO_NET_DROP_BAD_CSUM], 1);
	/* a driver without GUEST_CSUM gets the checksum finished */
	ck_assert(drive(PLAIN & ~BIT(VIRTIO_NET_F_GUEST_CSUM)) &
		  VIRTIO_STATUS_DRIVER_OK);
	rx_post(0, RX_BUF);
	ck_assert_int_eq(virtio_net_rx(&net, f, UDP_FRAME, &c), BRIDGE_RX_OK);
	ck_assert_uint_eq(b[VIRTIO_NET_HDR_FLAGS], 0);
	ck_assert_uint_eq(b[VIRTIO_NET_HDR_SIZE + UDP_START + UDP_OFFSET], 0xa1);
	ck_assert_uint_eq(b[VIRTIO_NET_HDR_SIZE + UDP_START + UDP_OFFSET + 1], 0x4b);
	ck_assert_uint_eq(f[UDP_START + UDP_OFFSET + 1], 0x26);  /* sender's */
	ck_assert_uint_eq(net.stats.rx_csum_finished, 1);
}
END_TEST

Suite *virtio_net_ctrl_suite(void)
{
	Suite *s = suite_create("virtio_net_ctrl");
	TCase *tc = tcase_create("extras");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, mergeable_buffers_take_a_frame_in_pieces);
	tcase_add_test(tc, receive_filter_follows_control_commands);
	tcase_add_test(tc, bad_control_commands_answer_err);
	tcase_add_test(tc, checksum_arithmetic_on_known_packets);
	tcase_add_test(tc, transmit_passes_checksum_requests_on);
	tcase_add_test(tc, receive_hands_on_or_finishes_checksums);
	suite_add_tcase(s, tc);
	return s;
}
