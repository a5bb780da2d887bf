/*
 * Deferred transmit notifications (virtio.h: deferred_queues and
 * virtio_pci_ops.defer; vm_virtio.c runs them at the VM's next exit).
 * A notification of transmitq only marks it and leaves notifications
 * off, so a driver queues its next frames without a VM exit of their
 * own (§2.7.10); virtio_pci_run_deferred() then sends them all, in
 * order, and turns notifications back on. controlq and receiveq are
 * never deferred: Linux spins on controlq for the device's answer.
 * Uses the fixture of test_virtio_net.c (net_fixture.h).
 */
#include <string.h>
#include "unit.h"
#include "net_fixture.h"

Suite *virtio_net_defer_suite(void);

#define FRAME 120

static unsigned deferrals;          /* calls of the VM's defer op */

static void vm_defer(void *ctx)
{
	(void)ctx;
	deferrals++;
}

static const struct virtio_pci_ops defer_ops = {
	.log = vm_log, .defer = vm_defer,
};

static void defer_setup(void)
{
	setup();
	deferrals = 0;
	start_ops(ALL, &defer_ops);
}

/* transmitq's avail_event (§2.7.10): after the used ring. */
static u16 tx_avail_event(void)
{
	return vd_get16(&d, TX_USED + VIRTQ_USED_RING + VIRTQ_USED_ENTRY * QSIZE);
}

/* Whether a driver that moved avail idx from old to new must notify,
   as Linux's vring_need_event decides it (§2.7.10.1). */
static bool needs_notify(u16 old, u16 now)
{
	u16 event = tx_avail_event();

	return (u16)(now - event - 1) < (u16)(now - old);
}

/* Queues frame number k (FRAME bytes, its own pattern) at slot k. */
static void post(u8 (*f)[FRAME], u16 k)
{
	make_frame(f[k], FRAME, (u8)(k * 31));
	tx_post((u16)(2 * (k % (QSIZE / 2))), f[k], FRAME, true);
}

START_TEST(a_burst_waits_for_the_next_exit_and_goes_in_order)
{
	static u8 f[4][FRAME];

	post(f, 0);
	ck_assert(needs_notify(0, 1));
	vd_kick(&d, VIRTIO_NET_TXQ);
	ck_assert_uint_eq(deferrals, 1);
	ck_assert_uint_eq(sent.n, 0);                /* nothing sent yet */
	ck_assert_uint_eq(tx_used_idx(), 0);
	/* the next frames need no notification: the device is not looking */
	post(f, 1);
	ck_assert(!needs_notify(1, 2));
	post(f, 2);
	ck_assert(!needs_notify(2, 3));
	vd_kick(&d, VIRTIO_NET_TXQ);                 /* one anyway: no harm */
	ck_assert_uint_eq(deferrals, 1);
	ck_assert_uint_eq(vp.notifies, 2);

	virtio_pci_run_deferred(&vp);                /* the VM's next exit */
	ck_assert_uint_eq(sent.n, 3);
	for (unsigned k = 0; k < 3; k++)
		ck_assert(!memcmp(sent.frame[k], f[k], FRAME));
	ck_assert_uint_eq(tx_used_idx(), 3);
	ck_assert_uint_eq(tx_avail_event(), 3);      /* looking again */
	ck_assert_uint_eq(vp.deferred_runs, 1);
	virtio_pci_run_deferred(&vp);                /* nothing waits now */
	ck_assert_uint_eq(sent.n, 3);
	ck_assert_uint_eq(vp.deferred_runs, 1);

	post(f, 3);                                  /* the next burst */
	ck_assert(needs_notify(3, 4));
	vd_kick(&d, VIRTIO_NET_TXQ);
	ck_assert_uint_eq(deferrals, 2);
	ck_assert_uint_eq(sent.n, 3);
	virtio_pci_run_deferred(&vp);
	ck_assert_uint_eq(sent.n, 4);
	ck_assert(!memcmp(sent.frame[3], f[3], FRAME));
	ck_assert(!(dev_status() & VIRTIO_STATUS_NEEDS_RESET));
}
END_TEST

START_TEST(without_event_idx_the_flag_says_do_not_notify)
{
	static u8 f[2][FRAME];

	ck_assert(drive(PLAIN) & VIRTIO_STATUS_DRIVER_OK);
	post(f, 0);
	vd_kick(&d, VIRTIO_NET_TXQ);
	ck_assert_uint_eq(vd_get16(&d, TX_USED + VIRTQ_USED_FLAGS),
			  VIRTQ_USED_F_NO_NOTIFY);
	post(f, 1);
	virtio_pci_run_deferred(&vp);
	ck_assert_uint_eq(sent.n, 2);
	ck_assert_uint_eq(vd_get16(&d, TX_USED + VIRTQ_USED_FLAGS), 0);
	ck_assert_uint_eq(vp.interrupts, 1);         /* one for the burst */
}
END_TEST

START_TEST(a_reset_drops_what_waits)
{
	static u8 f[2][FRAME];

	post(f, 0);
	vd_kick(&d, VIRTIO_NET_TXQ);
	ck_assert_uint_eq(deferrals, 1);
	vd_common_wr(&d, VIRTIO_PCI_COMMON_STATUS, 0);     /* reset */
	virtio_pci_run_deferred(&vp);
	ck_assert_uint_eq(sent.n, 0);
	ck_assert_uint_eq(vp.deferred_runs, 0);
	/* driven afresh, a notification is deferred again */
	ck_assert(drive(ALL) & VIRTIO_STATUS_DRIVER_OK);
	post(f, 1);
	vd_kick(&d, VIRTIO_NET_TXQ);
	ck_assert_uint_eq(deferrals, 2);
	virtio_pci_run_deferred(&vp);
	ck_assert_uint_eq(sent.n, 1);
	ck_assert(!memcmp(sent.frame[0], f[1], FRAME));
}
END_TEST

START_TEST(a_bad_chain_found_later_still_needs_reset)
{
	static u8 f[1][FRAME];

	post(f, 0);
	vd_desc(&d, TX_DESC, 1, VD_RAM_SIZE - 8, FRAME, 0, 0);  /* outside RAM */
	vd_kick(&d, VIRTIO_NET_TXQ);
	ck_assert(!(dev_status() & VIRTIO_STATUS_NEEDS_RESET));
	virtio_pci_run_deferred(&vp);
	ck_assert_uint_eq(sent.n, 0);
	ck_assert_uint_eq(net.stats.drops[VIRTIO_NET_DROP_BAD_DESC], 1);
	ck_assert(dev_status() & VIRTIO_STATUS_NEEDS_RESET);
	ck_assert_msg(strstr(logged, "virtio-net: queue 1") != NULL, "%s", logged);
}
END_TEST

START_TEST(controlq_and_receiveq_are_never_deferred)
{
	u8 on = 1;

	ck_assert_uint_eq(net_ctrl(VIRTIO_NET_CTRL_RX, VIRTIO_NET_CTRL_RX_PROMISC,
				   &on, 1), VIRTIO_NET_OK);
	vd_kick(&d, VIRTIO_NET_RXQ);
	ck_assert_uint_eq(deferrals, 0);
}
END_TEST

Suite *virtio_net_defer_suite(void)
{
	Suite *s = suite_create("virtio_net_defer");
	TCase *tc = tcase_create("deferred transmit");

	tcase_add_checked_fixture(tc, defer_setup, teardown);
	tcase_add_test(tc, a_burst_waits_for_the_next_exit_and_goes_in_order);
	tcase_add_test(tc, without_event_idx_the_flag_says_do_not_notify);
	tcase_add_test(tc, a_reset_drops_what_waits);
	tcase_add_test(tc, a_bad_chain_found_later_still_needs_reset);
	tcase_add_test(tc, controlq_and_receiveq_are_never_deferred);
	suite_add_tcase(s, tc);
	return s;
}
