/*
 * vmm/virtio/virtio_console.c: the virtio console device (virtio 1.2 §5.3),
 * driven by the test driver through the PCI transport: identity, no
 * features and a zero configuration (§5.3.3-4), the guest's bytes in
 * order however the chain splits them (§5.3.6.2), uhv's bytes into
 * posted receive buffers, waiting for buffers, split across them and
 * across the ring's wrap (§5.3.6.1), the bounded FIFO, and chains too
 * broken to use.
 *
 * receiveq (0) uses the test driver's rings; transmitq (1) has its own,
 * at TX_*.
 */
#include <stdlib.h>
#include <string.h>
#include "unit.h"
#include "virtio_driver.h"
#include "vmm/virtio/virtio_console.h"

Suite *virtio_console_suite(void);

#define PLAIN      (~0ULL & ~BIT(VIRTIO_F_RING_EVENT_IDX))
#define QSIZE      16
#define TX_DESC    0x8000ULL
#define TX_AVAIL   0x9000ULL
#define TX_USED    0xa000ULL
#define TX_DATA    0x40000ULL
#define RX_DATA    VD_DATA          /* SLOT_BYTES per receive buffer */
#define SLOT_BYTES 4096
#define GOT_MAX    8192
#define LOG_KEEP   160

static u8 *ram;
static struct virtio_console con;
static struct virtio_pci vp;
static struct vdrv d;
static u16 tx_avail_idx;

/* The backend: every byte the guest sent, and in how many pieces. */
static struct {
	u8 bytes[GOT_MAX];
	u32 len, calls;
} got;

static char logged[LOG_KEEP];

static void be_receive(void *ctx, const u8 *data, u32 len)
{
	(void)ctx;
	ck_assert_uint_gt(len, 0);
	ck_assert_uint_le(got.len + len, GOT_MAX);
	memcpy(got.bytes + got.len, data, len);
	got.len += len;
	got.calls++;
}

static const struct console_backend_ops be_ops = { .receive = be_receive };

static void vm_log(void *ctx, const char *msg)
{
	(void)ctx;
	strncpy(logged, msg, LOG_KEEP - 1);
}

static const struct virtio_pci_ops vm_ops = { .log = vm_log };

static u8 dev_status(void)
{
	return (u8)vd_common_rd(&d, VIRTIO_PCI_COMMON_STATUS);
}

/* Negotiates want, sets up both queues, DRIVER_OK; returns the status. */
static u8 drive(u64 want)
{
	u8 s = vd_negotiate(&d, want, NULL);

	if (!(s & VIRTIO_STATUS_FEATURES_OK))
		return s;
	vd_setup_queue(&d, VIRTIO_CONSOLE_RXQ, QSIZE);
	vd_setup_queue_at(&d, VIRTIO_CONSOLE_TXQ, QSIZE, TX_DESC, TX_AVAIL, TX_USED);
	tx_avail_idx = 0;
	vd_common_wr(&d, VIRTIO_PCI_COMMON_STATUS,
		     dev_status() | VIRTIO_STATUS_DRIVER_OK);
	return dev_status();
}

static void setup(void)
{
	const char *why = "";

	ram = calloc(1, VD_RAM_SIZE);
	ck_assert(ram);
	memset(&got, 0, sizeof(got));
	memset(logged, 0, sizeof(logged));
	ck_assert_int_eq(virtio_console_init(&con, &be_ops, NULL), 0);
	ck_assert_int_eq(virtio_pci_init(&vp, &con.ops, &con, &vm_ops, NULL,
					 &d.mem), 0);
	virtio_console_attach(&con, &vp);
	ck_assert_msg(!vd_probe(&d, &vp, (struct gmem){ ram, VD_RAM_SIZE }, &why),
		      "%s", why);
	ck_assert_uint_eq(drive(PLAIN) & VIRTIO_STATUS_DRIVER_OK,
			  VIRTIO_STATUS_DRIVER_OK);
}

static void teardown(void)
{
	free(ram);
}

/* Makes the transmit chain at descriptor first available: text split
   into pieces of at most piece bytes, one descriptor each. */
static void tx_post(u16 first, const char *text, u32 piece)
{
	u32 len = (u32)strlen(text), n = (len + piece - 1) / piece;
	u64 buf = TX_DATA + (u64)first * SLOT_BYTES;

	memcpy(ram + buf, text, len);
	for (u32 i = 0; i < n; i++) {
		u32 k = MIN(piece, len - i * piece);

		vd_desc(&d, TX_DESC, (u16)(first + i), buf + i * piece, k,
			i + 1 < n ? VIRTQ_DESC_F_NEXT : 0, (u16)(first + i + 1));
	}
	vd_put16(&d, TX_AVAIL + VIRTQ_AVAIL_RING +
		 VIRTQ_AVAIL_ENTRY * (tx_avail_idx & (QSIZE - 1)), first);
	vd_put16(&d, TX_AVAIL + VIRTQ_AVAIL_IDX, ++tx_avail_idx);
}

static u16 tx_used_idx(void)
{
	return vd_get16(&d, TX_USED + VIRTQ_USED_IDX);
}

/* Posts a receive buffer of len bytes at descriptor i. */
static void rx_post(u16 i, u32 len)
{
	vd_desc(&d, VD_DESC, i, RX_DATA + (u64)i * SLOT_BYTES, len,
		VIRTQ_DESC_F_WRITE, 0);
	vd_avail(&d, i);
}

/* The used element `used` of receiveq: buffer i, holding want. */
static void check_rx(u16 used, u16 i, const u8 *want, u32 len)
{
	u32 id, n;

	vd_used_elem(&d, used, &id, &n);
	ck_assert_uint_eq(id, i);
	ck_assert_uint_eq(n, len);
	ck_assert(!memcmp(ram + RX_DATA + (u64)i * SLOT_BYTES, want, len));
}

START_TEST(identity_no_features_zero_config)
{
	u64 offered = 0;

	ck_assert_uint_eq(vd_cfg_read(&d, PCI_DEVICE_ID, 2),
			  VIRTIO_PCI_DEVICE_BASE + VIRTIO_ID_CONSOLE);
	ck_assert_uint_eq(vd_cfg_read(&d, PCI_CLASS_PROG, 1) |
			  vd_cfg_read(&d, PCI_CLASS_SUB, 2) << 8, 0x078000);
	ck_assert_uint_eq(vd_common_rd(&d, VIRTIO_PCI_COMMON_NUMQ), 2);
	vd_negotiate(&d, ~0ULL, &offered);
	ck_assert_uint_eq(offered, BIT(VIRTIO_F_VERSION_1) |
			  BIT(VIRTIO_F_RING_EVENT_IDX) |
			  BIT(VIRTIO_F_RING_INDIRECT_DESC));
	ck_assert(!(offered & BIT(VIRTIO_CONSOLE_F_MULTIPORT)));
	ck_assert_uint_ge(d.device_len, VIRTIO_CONSOLE_CFG_SIZE);
	for (u32 off = 0; off < VIRTIO_CONSOLE_CFG_SIZE; off += 4)
		ck_assert_uint_eq(vd_rd(&d, d.device + off, 4), 0);
	ck_assert_int_eq(virtio_console_init(&con, NULL, NULL), -1);
}
END_TEST

START_TEST(guest_bytes_reach_the_backend_in_order)
{
	static const char *texts[] = { "1 {\"pong\":true}\n", "hb\n",
				       "a longer line split into many pieces\n" };
	static const u32 pieces[] = { 100, 1, 5 };
	char all[256] = "";

	for (unsigned k = 0; k < ARRAY_SIZE(texts); k++) {
		tx_post(0, texts[k], pieces[k]);
		vd_kick(&d, VIRTIO_CONSOLE_TXQ);
		ck_assert_uint_eq(tx_used_idx(), k + 1);
		strcat(all, texts[k]);
	}
	ck_assert_uint_eq(got.len, strlen(all));
	ck_assert(!memcmp(got.bytes, all, got.len));
	ck_assert_uint_eq(got.calls, 1 + 3 + 8);      /* one per piece */
	ck_assert_uint_eq(con.stats.tx_bytes, strlen(all));
	ck_assert_uint_eq(vp.interrupts, 3);
	ck_assert(!(dev_status() & VIRTIO_STATUS_NEEDS_RESET));
}
END_TEST

START_TEST(bytes_wait_for_buffers_then_split_across_them)
{
	static const u8 msg[] = "7 ping\n12 info\n";
	u32 len = sizeof(msg) - 1;

	ck_assert_int_eq(virtio_console_write(&con, msg, len), 0);
	ck_assert_uint_eq(virtio_console_pending(&con), len);
	ck_assert_uint_eq(vd_used_idx(&d), 0);
	/* a buffer of 4 bytes, then one of plenty: the driver kicks receiveq */
	rx_post(0, 4);
	rx_post(1, SLOT_BYTES);
	vd_kick(&d, VIRTIO_CONSOLE_RXQ);
	ck_assert_uint_eq(vd_used_idx(&d), 2);
	check_rx(0, 0, msg, 4);
	check_rx(1, 1, msg + 4, len - 4);
	ck_assert_uint_eq(virtio_console_pending(&con), 0);
	ck_assert_uint_eq(con.stats.rx_bytes, len);
	ck_assert_uint_eq(vp.interrupts, 1);
	/* with a buffer posted, a write is delivered at once, interrupt too */
	rx_post(2, SLOT_BYTES);
	ck_assert_int_eq(virtio_console_write(&con, msg, 7), 0);
	ck_assert_uint_eq(vd_used_idx(&d), 3);
	check_rx(2, 2, msg, 7);
	ck_assert_uint_eq(vp.interrupts, 2);
	/* nothing queued: a kick of receiveq uses no buffer */
	rx_post(3, SLOT_BYTES);
	vd_kick(&d, VIRTIO_CONSOLE_RXQ);
	ck_assert_uint_eq(vd_used_idx(&d), 3);
}
END_TEST

START_TEST(fifo_is_bounded_and_wraps)
{
	static u8 a[3000], b[3000];
	u32 id, n;

	for (unsigned i = 0; i < sizeof(a); i++) {
		a[i] = (u8)(i * 7);
		b[i] = (u8)(i * 13 + 1);
	}
	ck_assert_int_eq(virtio_console_write(&con, a, sizeof(a)), 0);
	/* 1096 bytes free: 3000 more are refused whole, not cut */
	ck_assert_int_eq(virtio_console_write(&con, b, sizeof(b)), -1);
	ck_assert_uint_eq(con.stats.write_refused, 1);
	ck_assert_uint_eq(virtio_console_pending(&con), sizeof(a));
	ck_assert_int_eq(virtio_console_write(&con, b,
		VIRTIO_CONSOLE_OUT_MAX - sizeof(a)), 0);
	rx_post(0, SLOT_BYTES);
	vd_kick(&d, VIRTIO_CONSOLE_RXQ);
	vd_used_elem(&d, 0, &id, &n);
	ck_assert_uint_eq(n, VIRTIO_CONSOLE_OUT_MAX);
	ck_assert(!memcmp(ram + RX_DATA, a, sizeof(a)));
	ck_assert(!memcmp(ram + RX_DATA + sizeof(a), b,
			  VIRTIO_CONSOLE_OUT_MAX - sizeof(a)));
	/* the next 3000 bytes run across the end of the ring */
	ck_assert_int_eq(virtio_console_write(&con, b, sizeof(b)), 0);
	rx_post(1, SLOT_BYTES);
	vd_kick(&d, VIRTIO_CONSOLE_RXQ);
	check_rx(1, 1, b, sizeof(b));
}
END_TEST

START_TEST(reset_drops_undelivered_bytes)
{
	static const u8 msg[] = "3 ping\n";

	ck_assert_int_eq(virtio_console_write(&con, msg, 7), 0);
	vd_common_wr(&d, VIRTIO_PCI_COMMON_STATUS, 0);
	ck_assert_uint_eq(virtio_console_pending(&con), 0);
	/* before DRIVER_OK bytes wait, buffers or not; afterwards they go */
	ck_assert(vd_negotiate(&d, PLAIN, NULL) & VIRTIO_STATUS_FEATURES_OK);
	vd_setup_queue(&d, VIRTIO_CONSOLE_RXQ, QSIZE);
	rx_post(0, SLOT_BYTES);
	ck_assert_int_eq(virtio_console_write(&con, msg, 7), 0);
	ck_assert_uint_eq(vd_used_idx(&d), 0);
	ck_assert_uint_eq(virtio_console_pending(&con), 7);
	vd_common_wr(&d, VIRTIO_PCI_COMMON_STATUS,
		     dev_status() | VIRTIO_STATUS_DRIVER_OK);
	vd_kick(&d, VIRTIO_CONSOLE_RXQ);
	check_rx(0, 0, msg, 7);
}
END_TEST

START_TEST(malformed_chains_need_reset)
{
	static const u8 msg[] = "5 info\n";

	/* a transmit chain with a writable part */
	tx_post(0, "hb\n", 2);
	vd_desc(&d, TX_DESC, 1, TX_DATA + 2, 1, VIRTQ_DESC_F_WRITE, 0);
	vd_kick(&d, VIRTIO_CONSOLE_TXQ);
	ck_assert(dev_status() & VIRTIO_STATUS_NEEDS_RESET);
	ck_assert_msg(strstr(logged, "queue 1: transmit chain") != NULL, "%s",
		      logged);
	ck_assert_uint_eq(con.stats.bad_chains, 1);
	/* a needs-reset device takes nothing more, and delivers nothing */
	tx_post(2, "hb\n", 3);
	vd_kick(&d, VIRTIO_CONSOLE_TXQ);
	ck_assert_uint_eq(got.len, 0);
	rx_post(0, SLOT_BYTES);
	ck_assert_int_eq(virtio_console_write(&con, msg, 7), 0);
	ck_assert_uint_eq(vd_used_idx(&d), 0);

	/* a receive buffer the device may only read, found by a write */
	ck_assert(drive(PLAIN) & VIRTIO_STATUS_DRIVER_OK);
	ck_assert(!(dev_status() & VIRTIO_STATUS_NEEDS_RESET));
	vd_desc(&d, VD_DESC, 0, RX_DATA, SLOT_BYTES, 0, 0);
	vd_avail(&d, 0);
	ck_assert_int_eq(virtio_console_write(&con, msg, 7), 0);
	ck_assert(dev_status() & VIRTIO_STATUS_NEEDS_RESET);
	ck_assert_msg(strstr(logged, "virtio-console: queue 0: receive chain")
		      != NULL, "%s", logged);
	ck_assert_uint_eq(con.stats.bad_chains, 2);

	/* a transmit descriptor outside guest RAM */
	ck_assert(drive(PLAIN) & VIRTIO_STATUS_DRIVER_OK);
	vd_desc(&d, TX_DESC, 0, VD_RAM_SIZE - 2, 100, 0, 0);
	vd_put16(&d, TX_AVAIL + VIRTQ_AVAIL_RING, 0);
	vd_put16(&d, TX_AVAIL + VIRTQ_AVAIL_IDX, ++tx_avail_idx);
	vd_kick(&d, VIRTIO_CONSOLE_TXQ);
	ck_assert(dev_status() & VIRTIO_STATUS_NEEDS_RESET);
	ck_assert_uint_eq(got.len, 0);
	ck_assert_uint_eq(con.stats.rx_bytes, 0);
}
END_TEST

Suite *virtio_console_suite(void)
{
	Suite *s = suite_create("virtio_console");
	TCase *tc = tcase_create("device");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, identity_no_features_zero_config);
	tcase_add_test(tc, guest_bytes_reach_the_backend_in_order);
	tcase_add_test(tc, bytes_wait_for_buffers_then_split_across_them);
	tcase_add_test(tc, fifo_is_bounded_and_wraps);
	tcase_add_test(tc, reset_drops_undelivered_bytes);
	tcase_add_test(tc, malformed_chains_need_reset);
	suite_add_tcase(s, tc);
	return s;
}
