/*
 * vmm/virtio/virtio_pci.c and virtio_pci_cfg.c: the virtio-pci transport (virtio
 * 1.2 §4.1) seen from a driver, with a dummy device behind it: PCI
 * enumeration, status and feature negotiation, queue set-up, interrupts
 * through INTx and MSI-X, the PCI_CFG window, and the driver mistakes
 * that must end in DEVICE_NEEDS_RESET (or be ignored) rather than harm.
 */
#include <stdlib.h>
#include <string.h>
#include "unit.h"
#include "virtio_driver.h"

Suite *virtio_pci_suite(void);

#define DUMMY_ID      4                    /* entropy source: any ID will do */
#define DUMMY_QUEUES  2
#define DUMMY_QMAX    64
#define DUMMY_CFG     8
#define DUMMY_FEATS   (VIRTIO_TRANSPORT_FEATURES | BIT(0) | BIT(3))
#define ALL           (~0ULL)
#define PLAIN         (ALL & ~BIT(VIRTIO_F_RING_EVENT_IDX))  /* one irq per batch */
#define MSI_ADDR      0xfee00000ULL
#define LOG_KEEP      128

static struct dummy {
	u8 config[DUMMY_CFG];
	unsigned resets, notified[DUMMY_QUEUES], cfg_writes;
	bool fail;                             /* queue_notify reports an error */
	struct virtq_chain chain;
} dev;

static struct vm_side {
	unsigned msix, intx_changes, bar_changes, logs;
	u64 msi_addr;
	u32 msi_data;
	bool intx;
	char log[LOG_KEEP];
} vm;

static u8 *ram;
static struct virtio_pci vp;
static struct vdrv d;

static u64 dummy_cfg_read(void *p, u32 off, unsigned size)
{
	struct dummy *t = p;
	u64 v = 0;

	ck_assert_uint_le(off + size, DUMMY_CFG);
	memcpy(&v, t->config + off, size);
	return v;
}

static void dummy_cfg_write(void *p, u32 off, unsigned size, u64 val)
{
	struct dummy *t = p;

	ck_assert_uint_le(off + size, DUMMY_CFG);
	memcpy(t->config + off, &val, size);
	t->cfg_writes++;
}

static void dummy_reset(void *p)
{
	((struct dummy *)p)->resets++;
}

/* Uses every chain with length 0; fails afterwards if told to. */
static int dummy_notify(void *p, unsigned index, struct virtq *vq)
{
	struct dummy *t = p;
	int r;

	t->notified[index]++;
	while ((r = virtq_pop(vq, &t->chain)) > 0)
		ck_assert_int_eq(virtq_push(vq, &t->chain, 0), 0);
	if (r < 0)
		return r;
	return t->fail ? virtq_fail(vq, VIRTQ_ERR_REQUEST, "dummy failure") : 0;
}

static const struct virtio_device_ops dummy_ops = {
	.name = "virtio-test", .device_id = DUMMY_ID, .pci_class = 0xff0000,
	.features = DUMMY_FEATS, .num_queues = DUMMY_QUEUES,
	.queue_max = DUMMY_QMAX, .config_size = DUMMY_CFG,
	.config_read = dummy_cfg_read, .config_write = dummy_cfg_write,
	.reset = dummy_reset, .queue_notify = dummy_notify,
};

static void vm_msix(void *ctx, u64 addr, u32 data)
{
	struct vm_side *v = ctx;

	v->msix++;
	v->msi_addr = addr;
	v->msi_data = data;
}

static void vm_intx(void *ctx, bool level)
{
	struct vm_side *v = ctx;

	ck_assert_int_ne(v->intx, level);      /* only changes are reported */
	v->intx = level;
	v->intx_changes++;
}

static void vm_bar_changed(void *ctx)
{
	((struct vm_side *)ctx)->bar_changes++;
}

static void vm_log(void *ctx, const char *msg)
{
	struct vm_side *v = ctx;

	v->logs++;
	strncpy(v->log, msg, LOG_KEEP - 1);
}

static const struct virtio_pci_ops vm_ops = {
	.msix = vm_msix, .intx = vm_intx, .bar_changed = vm_bar_changed,
	.log = vm_log,
};

static void setup(void)
{
	const char *why = "";

	ram = calloc(1, VD_RAM_SIZE);
	ck_assert_ptr_nonnull(ram);
	memset(&dev, 0, sizeof(dev));
	memset(&vm, 0, sizeof(vm));
	memcpy(dev.config, "\x11\x22\x33\x44\x55\x66\x77\x88", DUMMY_CFG);
	ck_assert_int_eq(virtio_pci_init(&vp, &dummy_ops, &dev, &vm_ops, &vm,
					 &d.mem), 0);
	ck_assert_msg(!vd_probe(&d, &vp, (struct gmem){ ram, VD_RAM_SIZE }, &why),
		      "%s", why);
}

static void teardown(void)
{
	free(ram);
}

static u8 status(void)
{
	return (u8)vd_common_rd(&d, VIRTIO_PCI_COMMON_STATUS);
}

#define ASSERT_LOG(sub) ck_assert_msg(strstr(vm.log, sub), "log: %s", vm.log)

START_TEST(enumerates_as_a_modern_virtio_device)
{
	ck_assert_uint_eq(vd_cfg_read(&d, PCI_DEVICE_ID, 2), 0x1040 + DUMMY_ID);
	ck_assert_uint_eq(vd_cfg_read(&d, PCI_REVISION, 1), 1);
	ck_assert_uint_eq(vd_cfg_read(&d, PCI_REVISION, 4) >> 8, 0xff0000);
	ck_assert_uint_eq(vd_cfg_read(&d, PCI_SUBSYS_VENDOR, 2), 0x1af4);
	ck_assert_uint_ge(vd_cfg_read(&d, PCI_SUBSYS_ID, 2), 0x40);
	ck_assert_uint_eq(vd_cfg_read(&d, PCI_HEADER_TYPE, 1), 0);
	ck_assert_uint_eq(vd_cfg_read(&d, PCI_INT_PIN, 1), 1);
	ck_assert_uint_eq(d.bar_size, VIRTIO_PCI_BAR_SIZE);
	ck_assert_uint_eq(d.notify_mult, VIRTIO_PCI_NOTIFY_MULT);
	ck_assert_uint_eq(d.device_len, DUMMY_CFG);
	ck_assert_uint_ne(d.msix_cap, 0);
	/* table size: one vector per queue plus one for config changes */
	ck_assert_uint_eq((vd_cfg_read(&d, d.msix_cap + PCI_MSIX_CTRL, 2) &
			   PCI_MSIX_CTRL_SIZE) + 1, DUMMY_QUEUES + 1);
	ck_assert_uint_eq(vd_cfg_read(&d, d.msix_cap + PCI_MSIX_TABLE, 4),
			  VIRTIO_PCI_MSIX_TABLE_OFF | VIRTIO_PCI_BAR);
	/* the device's config and feature words as offered */
	ck_assert_uint_eq(vd_rd(&d, d.device + 4, 4), 0x88776655);
	ck_assert_uint_eq(vd_common_rd(&d, VIRTIO_PCI_COMMON_NUMQ), DUMMY_QUEUES);
	vd_common_wr(&d, VIRTIO_PCI_COMMON_DFSELECT, 1);
	ck_assert_uint_eq(vd_common_rd(&d, VIRTIO_PCI_COMMON_DF), 1);  /* VERSION_1 */
	vd_common_wr(&d, VIRTIO_PCI_COMMON_DFSELECT, 2);
	ck_assert_uint_eq(vd_common_rd(&d, VIRTIO_PCI_COMMON_DF), 0);
}
END_TEST

START_TEST(bar_follows_the_guest)
{
	u64 base;

	ck_assert(virtio_pci_bar(&vp, &base));
	ck_assert_uint_eq(base, VD_BAR_BASE);
	ck_assert_uint_ge(vm.bar_changes, 1);
	/* sizing reads back the size mask and keeps the type bits */
	vd_cfg_write(&d, PCI_BAR0 + 16, 4, ~0U);
	ck_assert_uint_eq(vd_cfg_read(&d, PCI_BAR0 + 16, 4), 0xffffc004);
	vd_cfg_write(&d, PCI_BAR0 + 16, 4, 0x12345678);
	vd_cfg_write(&d, PCI_BAR0 + 20, 4, 0x9);
	ck_assert(virtio_pci_bar(&vp, &base));
	ck_assert_uint_eq(base, 0x912344000ULL);
	/* decoding off: the BAR answers nothing */
	vd_cfg_write(&d, PCI_COMMAND, 2, 0);
	ck_assert(!virtio_pci_bar(&vp, &base));
	ck_assert_uint_eq(vd_rd(&d, d.common + VIRTIO_PCI_COMMON_NUMQ, 2), 0xffff);
	vd_wr(&d, d.common + VIRTIO_PCI_COMMON_STATUS, 1, 1);
	virtio_pci_set_bar(&vp, 0xc0003000, true);          /* firmware's way */
	ck_assert(virtio_pci_bar(&vp, &base));
	ck_assert_uint_eq(base, 0xc0000000);
	ck_assert_uint_eq(status(), 0);
}
END_TEST

START_TEST(negotiation_and_reset)
{
	u64 offered;

	ck_assert_uint_eq(vd_negotiate(&d, ALL, &offered),
			  VIRTIO_STATUS_ACKNOWLEDGE | VIRTIO_STATUS_DRIVER |
			  VIRTIO_STATUS_FEATURES_OK);
	ck_assert_uint_eq(offered, DUMMY_FEATS);
	vd_common_wr(&d, VIRTIO_PCI_COMMON_GFSELECT, 0);
	ck_assert_uint_eq(vd_common_rd(&d, VIRTIO_PCI_COMMON_GF), (u32)DUMMY_FEATS);
	vd_common_wr(&d, VIRTIO_PCI_COMMON_GF, 0);      /* too late: ignored */
	ck_assert_uint_eq(vd_common_rd(&d, VIRTIO_PCI_COMMON_GF), (u32)DUMMY_FEATS);
	vd_setup_queue(&d, 1, 16);
	vd_common_wr(&d, VIRTIO_PCI_COMMON_Q_MSIX, 1);
	vd_common_wr(&d, VIRTIO_PCI_COMMON_STATUS, 1);  /* clearing: ignored */
	ck_assert_uint_eq(status() & VIRTIO_STATUS_FEATURES_OK, VIRTIO_STATUS_FEATURES_OK);
	ck_assert_uint_eq(dev.resets, 2);               /* init, negotiation */
	vd_common_wr(&d, VIRTIO_PCI_COMMON_STATUS, 0);
	ck_assert_uint_eq(status(), 0);
	ck_assert_uint_eq(dev.resets, 3);
	vd_common_wr(&d, VIRTIO_PCI_COMMON_Q_SELECT, 1);
	ck_assert_uint_eq(vd_common_rd(&d, VIRTIO_PCI_COMMON_Q_ENABLE), 0);
	ck_assert_uint_eq(vd_common_rd(&d, VIRTIO_PCI_COMMON_Q_SIZE), DUMMY_QMAX);
	ck_assert_uint_eq(vd_common_rd(&d, VIRTIO_PCI_COMMON_Q_MSIX), VIRTIO_MSI_NO_VECTOR);
	ck_assert_uint_eq(vd_common_rd(&d, VIRTIO_PCI_COMMON_Q_DESC), 0);
	ck_assert_uint_eq(vd_common_rd(&d, VIRTIO_PCI_COMMON_MSIX), VIRTIO_MSI_NO_VECTOR);
	vd_common_wr(&d, VIRTIO_PCI_COMMON_GFSELECT, 0);
	ck_assert_uint_eq(vd_common_rd(&d, VIRTIO_PCI_COMMON_GF), 0);
}
END_TEST

START_TEST(features_ok_needs_a_valid_subset)
{
	/* no VERSION_1: a legacy driver */
	ck_assert_uint_eq(vd_negotiate(&d, BIT(0), NULL) & VIRTIO_STATUS_FEATURES_OK, 0);
	ASSERT_LOG("VERSION_1");
	/* a feature that was not offered */
	vd_negotiate(&d, 0, NULL);
	vd_common_wr(&d, VIRTIO_PCI_COMMON_GFSELECT, 0);
	vd_common_wr(&d, VIRTIO_PCI_COMMON_GF, BIT(1));
	vd_common_wr(&d, VIRTIO_PCI_COMMON_GFSELECT, 1);
	vd_common_wr(&d, VIRTIO_PCI_COMMON_GF, 1);
	vd_common_wr(&d, VIRTIO_PCI_COMMON_STATUS, 0x0b);
	ck_assert_uint_eq(status(), 0x03);
	ASSERT_LOG("not offered");
	/* DRIVER_OK without FEATURES_OK is refused too */
	vd_common_wr(&d, VIRTIO_PCI_COMMON_STATUS, 0x07);
	ck_assert_uint_eq(status(), 0x03);
	ASSERT_LOG("DRIVER_OK without FEATURES_OK");
	/* NEEDS_RESET is the device's to set */
	vd_common_wr(&d, VIRTIO_PCI_COMMON_STATUS, 0x43);
	ck_assert_uint_eq(status(), 0x03);
}
END_TEST

START_TEST(queue_fields_and_selection)
{
	vd_negotiate(&d, ALL, NULL);
	vd_common_wr(&d, VIRTIO_PCI_COMMON_Q_SELECT, DUMMY_QUEUES);  /* none */
	ck_assert_uint_eq(vd_common_rd(&d, VIRTIO_PCI_COMMON_Q_SIZE), 0);
	vd_common_wr(&d, VIRTIO_PCI_COMMON_Q_DESC, VD_DESC);
	ck_assert_uint_eq(vd_common_rd(&d, VIRTIO_PCI_COMMON_Q_DESC), 0);
	vd_common_wr(&d, VIRTIO_PCI_COMMON_Q_ENABLE, 1);
	ck_assert_uint_eq(status() & VIRTIO_STATUS_NEEDS_RESET, 0);
	vd_common_wr(&d, VIRTIO_PCI_COMMON_Q_SELECT, 1);
	ck_assert_uint_eq(vd_common_rd(&d, VIRTIO_PCI_COMMON_Q_NOFF), 1);
	/* a 64-bit field in one access, or in halves */
	vd_wr(&d, d.common + VIRTIO_PCI_COMMON_Q_DRIVER, 8, 0x1122334455667788ULL);
	ck_assert_uint_eq(vd_rd(&d, d.common + VIRTIO_PCI_COMMON_Q_DRIVER + 4, 4), 0x11223344);
	vd_wr(&d, d.common + VIRTIO_PCI_COMMON_Q_DRIVER + 4, 4, 0);
	ck_assert_uint_eq(vd_common_rd(&d, VIRTIO_PCI_COMMON_Q_DRIVER), 0x55667788);
	/* wrong widths and read-only fields change nothing */
	vd_wr(&d, d.common + VIRTIO_PCI_COMMON_Q_SELECT, 4, 0);
	vd_wr(&d, d.common + VIRTIO_PCI_COMMON_Q_SIZE + 1, 1, 0);
	vd_wr(&d, d.common + VIRTIO_PCI_COMMON_NUMQ, 2, 7);
	vd_wr(&d, d.common + VIRTIO_PCI_COMMON_Q_NOFF, 2, 7);
	ck_assert_uint_eq(vd_common_rd(&d, VIRTIO_PCI_COMMON_Q_SELECT), 1);
	ck_assert_uint_eq(vd_common_rd(&d, VIRTIO_PCI_COMMON_Q_SIZE), DUMMY_QMAX);
	ck_assert_uint_eq(vd_common_rd(&d, VIRTIO_PCI_COMMON_NUMQ), DUMMY_QUEUES);
	ck_assert_uint_eq(vd_common_rd(&d, VIRTIO_PCI_COMMON_Q_NOFF), 1);
	ck_assert_uint_ge(vp.bad_accesses, 2);
	/* vectors beyond the MSI-X table read back as NO_VECTOR */
	vd_common_wr(&d, VIRTIO_PCI_COMMON_Q_MSIX, DUMMY_QUEUES + 1);
	ck_assert_uint_eq(vd_common_rd(&d, VIRTIO_PCI_COMMON_Q_MSIX), VIRTIO_MSI_NO_VECTOR);
	vd_common_wr(&d, VIRTIO_PCI_COMMON_Q_MSIX, DUMMY_QUEUES);
	ck_assert_uint_eq(vd_common_rd(&d, VIRTIO_PCI_COMMON_Q_MSIX), DUMMY_QUEUES);
	/* once enabled, the queue's layout is fixed */
	vd_setup_queue(&d, 1, 8);
	vd_common_wr(&d, VIRTIO_PCI_COMMON_Q_SIZE, 4);
	vd_common_wr(&d, VIRTIO_PCI_COMMON_Q_DESC, 0);
	ck_assert_uint_eq(vd_common_rd(&d, VIRTIO_PCI_COMMON_Q_SIZE), 8);
	ck_assert_uint_eq(vd_common_rd(&d, VIRTIO_PCI_COMMON_Q_DESC), VD_DESC);
	vd_common_wr(&d, VIRTIO_PCI_COMMON_Q_ENABLE, 0);
	ck_assert_uint_eq(vd_common_rd(&d, VIRTIO_PCI_COMMON_Q_ENABLE), 1);
	ASSERT_LOG("queue_enable written with 0");
}
END_TEST

START_TEST(queue_size_must_be_a_power_of_two)
{
	static const u16 bad[] = { 0, 3, 48, DUMMY_QMAX * 2 };

	for (unsigned i = 0; i < ARRAY_SIZE(bad); i++) {
		vd_negotiate(&d, ALL, NULL);
		vd_common_wr(&d, VIRTIO_PCI_COMMON_Q_SELECT, 0);
		vd_common_wr(&d, VIRTIO_PCI_COMMON_Q_SIZE, bad[i]);
		ck_assert_uint_eq(vd_common_rd(&d, VIRTIO_PCI_COMMON_Q_SIZE), DUMMY_QMAX);
		ck_assert(status() & VIRTIO_STATUS_NEEDS_RESET);
		ASSERT_LOG("is not a power of two up to 64; device needs reset");
	}
}
END_TEST

START_TEST(bad_queue_setup_needs_reset)
{
	vd_common_wr(&d, VIRTIO_PCI_COMMON_Q_ENABLE, 1);    /* before FEATURES_OK */
	ck_assert(status() & VIRTIO_STATUS_NEEDS_RESET);
	ASSERT_LOG("queue 0 enabled before FEATURES_OK");
	vd_negotiate(&d, ALL, NULL);
	ck_assert_uint_eq(status() & VIRTIO_STATUS_NEEDS_RESET, 0);
	vd_common_wr(&d, VIRTIO_PCI_COMMON_Q_SELECT, 0);
	vd_common_wr(&d, VIRTIO_PCI_COMMON_Q_DEVICE, VD_RAM_SIZE - 8);
	vd_common_wr(&d, VIRTIO_PCI_COMMON_Q_ENABLE, 1);
	ck_assert(status() & VIRTIO_STATUS_NEEDS_RESET);
	ck_assert_uint_eq(vd_common_rd(&d, VIRTIO_PCI_COMMON_Q_ENABLE), 0);
	ASSERT_LOG("virtio-test: queue 0: device area");
}
END_TEST

START_TEST(notifications_reach_the_device_only_when_live)
{
	vd_negotiate(&d, ALL, NULL);
	vd_setup_queue(&d, 0, 8);
	vd_desc(&d, VD_DESC, 0, VD_DATA, 8, VIRTQ_DESC_F_WRITE, 0);
	vd_avail(&d, 0);
	vd_kick(&d, 0);                                     /* before DRIVER_OK */
	ck_assert_uint_eq(dev.notified[0], 0);
	vd_common_wr(&d, VIRTIO_PCI_COMMON_STATUS, status() | VIRTIO_STATUS_DRIVER_OK);
	ck_assert_uint_eq(dev.notified[0], 1);             /* taken at DRIVER_OK */
	ck_assert_uint_eq(vd_used_idx(&d), 1);
	vd_kick(&d, 1);                                     /* not enabled */
	ck_assert_uint_eq(dev.notified[1], 0);
	vd_wr(&d, d.notify, 2, 7);                          /* no such queue */
	ck_assert_uint_eq(dev.notified[0], 1);
	ASSERT_LOG("notify of queue 7, which does not exist");
	ck_assert_uint_eq(status() & VIRTIO_STATUS_NEEDS_RESET, 0);
	ck_assert_uint_eq(vd_rd(&d, d.notify, 2), 0);       /* write-only */
	ck_assert_uint_eq(vp.notifies, 3);
}
END_TEST

START_TEST(intx_follows_the_isr)
{
	ck_assert_uint_eq(vd_init(&d, PLAIN, 8) & VIRTIO_STATUS_DRIVER_OK,
			  VIRTIO_STATUS_DRIVER_OK);
	vd_desc(&d, VD_DESC, 0, VD_DATA, 8, VIRTQ_DESC_F_WRITE, 0);
	vd_avail(&d, 0);
	vd_kick(&d, 0);
	ck_assert(vm.intx);
	ck_assert(vd_cfg_read(&d, PCI_STATUS, 2) & PCI_STATUS_INTX);
	ck_assert_uint_eq(vd_rd(&d, d.isr, 1), VIRTIO_ISR_QUEUE);  /* read clears */
	ck_assert(!vm.intx);
	ck_assert_uint_eq(vd_rd(&d, d.isr, 1), 0);
	ck_assert_uint_eq(vd_cfg_read(&d, PCI_STATUS, 2) & PCI_STATUS_INTX, 0);
	/* COMMAND.INTX_DISABLE holds the line low; the ISR still shows */
	vd_cfg_write(&d, PCI_COMMAND, 2, PCI_COMMAND_MEMORY | PCI_COMMAND_INTX_DISABLE);
	vd_avail(&d, 0);
	vd_kick(&d, 0);
	ck_assert(!vm.intx);
	ck_assert(vd_cfg_read(&d, PCI_STATUS, 2) & PCI_STATUS_INTX);
	vd_cfg_write(&d, PCI_COMMAND, 2, PCI_COMMAND_MEMORY);
	ck_assert(vm.intx);
	vd_wr(&d, d.isr, 1, 0);                             /* read-only */
	ck_assert_uint_eq(vd_rd(&d, d.isr, 1), VIRTIO_ISR_QUEUE);
	ck_assert_uint_eq(vm.intx_changes, 4);
	ck_assert_uint_eq(vm.msix, 0);
}
END_TEST

/* Programs MSI-X table entry v and unmasks it (or not). */
static void msix_entry(u16 v, u32 data, bool masked)
{
	u64 e = VIRTIO_PCI_MSIX_TABLE_OFF + (u64)v * PCI_MSIX_ENTRY_SIZE;

	vd_wr(&d, e + PCI_MSIX_ENTRY_ADDR, 8, MSI_ADDR);
	vd_wr(&d, e + PCI_MSIX_ENTRY_DATA, 4, data);
	vd_wr(&d, e + PCI_MSIX_ENTRY_CTRL, 4, masked ? ALL : 0);
}

START_TEST(msix_vectors_masks_and_pending_bits)
{
	unsigned ctrl = d.msix_cap + PCI_MSIX_CTRL;

	ck_assert_uint_eq(vd_rd(&d, VIRTIO_PCI_MSIX_TABLE_OFF + PCI_MSIX_ENTRY_CTRL, 4), 1);
	vd_cfg_write(&d, ctrl, 2, PCI_MSIX_CTRL_ENABLE);
	msix_entry(1, 0x41, false);
	msix_entry(0, 0x40, true);
	ck_assert_uint_eq(vd_rd(&d, VIRTIO_PCI_MSIX_TABLE_OFF + 16 + PCI_MSIX_ENTRY_CTRL, 4), 0);
	vd_negotiate(&d, PLAIN, NULL);
	vd_common_wr(&d, VIRTIO_PCI_COMMON_MSIX, 0);
	vd_setup_queue(&d, 0, 8);
	vd_common_wr(&d, VIRTIO_PCI_COMMON_Q_MSIX, 1);
	vd_common_wr(&d, VIRTIO_PCI_COMMON_STATUS, status() | VIRTIO_STATUS_DRIVER_OK);
	vd_desc(&d, VD_DESC, 0, VD_DATA, 8, VIRTQ_DESC_F_WRITE, 0);
	vd_avail(&d, 0);
	vd_kick(&d, 0);
	ck_assert_uint_eq(vm.msix, 1);
	ck_assert_uint_eq(vm.msi_addr, MSI_ADDR);
	ck_assert_uint_eq(vm.msi_data, 0x41);
	ck_assert_uint_eq(vd_rd(&d, d.isr, 1), 0);          /* no ISR with MSI-X */
	ck_assert(!vm.intx);
	/* a config change on masked vector 0 waits in the PBA */
	virtio_pci_config_changed(&vp);
	ck_assert_uint_eq(vm.msix, 1);
	ck_assert_uint_eq(vd_rd(&d, VIRTIO_PCI_MSIX_PBA_OFF, 8), 1);
	vd_wr(&d, VIRTIO_PCI_MSIX_PBA_OFF, 8, 0);           /* read-only */
	ck_assert_uint_eq(vd_rd(&d, VIRTIO_PCI_MSIX_PBA_OFF, 8), 1);
	vd_wr(&d, VIRTIO_PCI_MSIX_TABLE_OFF + PCI_MSIX_ENTRY_CTRL, 4, 0);
	ck_assert_uint_eq(vm.msix, 2);
	ck_assert_uint_eq(vm.msi_data, 0x40);
	ck_assert_uint_eq(vd_rd(&d, VIRTIO_PCI_MSIX_PBA_OFF, 8), 0);
	/* the function mask holds everything back until cleared */
	vd_cfg_write(&d, ctrl, 2, PCI_MSIX_CTRL_ENABLE | PCI_MSIX_CTRL_MASKALL);
	vd_avail(&d, 0);
	vd_kick(&d, 0);
	ck_assert_uint_eq(vm.msix, 2);
	vd_cfg_write(&d, ctrl, 2, PCI_MSIX_CTRL_ENABLE);
	ck_assert_uint_eq(vm.msix, 3);
	ck_assert_uint_eq(vm.msi_data, 0x41);
	/* NO_VECTOR: no interrupt at all (§4.1.5.3.1) */
	vd_common_wr(&d, VIRTIO_PCI_COMMON_Q_MSIX, VIRTIO_MSI_NO_VECTOR);
	vd_avail(&d, 0);
	vd_kick(&d, 0);
	ck_assert_uint_eq(vm.msix, 3);
	ck_assert_uint_eq(vd_used_idx(&d), 3);
}
END_TEST

START_TEST(device_errors_need_reset_and_say_so)
{
	vd_init(&d, PLAIN, 8);
	dev.fail = true;
	vd_desc(&d, VD_DESC, 0, VD_DATA, 8, VIRTQ_DESC_F_WRITE, 0);
	vd_avail(&d, 0);
	vd_kick(&d, 0);
	ck_assert(status() & VIRTIO_STATUS_NEEDS_RESET);
	ASSERT_LOG("virtio-test: queue 0: dummy failure; device needs reset");
	/* the used buffer and the config change both come through the ISR */
	ck_assert_uint_eq(vd_rd(&d, d.isr, 1), VIRTIO_ISR_QUEUE | VIRTIO_ISR_CONFIG);
	vd_avail(&d, 0);
	vd_kick(&d, 0);                                     /* ignored now */
	ck_assert_uint_eq(dev.notified[0], 2);             /* DRIVER_OK, kick */
	dev.fail = false;
	ck_assert_uint_eq(vd_init(&d, PLAIN, 8), VIRTIO_STATUS_ACKNOWLEDGE |
			  VIRTIO_STATUS_DRIVER | VIRTIO_STATUS_FEATURES_OK |
			  VIRTIO_STATUS_DRIVER_OK);
	ck_assert_uint_eq(dev.notified[0], 3);             /* a look at DRIVER_OK */
	vd_avail(&d, 0);
	vd_kick(&d, 0);
	ck_assert_uint_eq(dev.notified[0], 4);
	ck_assert_uint_eq(vd_used_idx(&d), 1);
}
END_TEST

START_TEST(malformed_queues_need_reset)
{
	vd_init(&d, ALL, 8);
	vd_desc(&d, VD_DESC, 0, VD_DATA, 8, VIRTQ_DESC_F_NEXT, 0);
	vd_avail(&d, 0);
	vd_kick(&d, 0);
	ck_assert(status() & VIRTIO_STATUS_NEEDS_RESET);
	ASSERT_LOG("queue 0: chain at head 0 loops");
	ck_assert_uint_eq(vd_used_idx(&d), 0);
}
END_TEST

START_TEST(device_config_and_generation)
{
	u8 gen = (u8)vd_common_rd(&d, VIRTIO_PCI_COMMON_CFGGEN);

	ck_assert_uint_eq(vd_rd(&d, d.device, 1), 0x11);
	ck_assert_uint_eq(vd_rd(&d, d.device + 2, 2), 0x4433);
	ck_assert_uint_eq(vd_rd(&d, d.device + 6, 4), 0);   /* past the end */
	vd_wr(&d, d.device + 1, 2, 0xbeef);
	ck_assert_uint_eq(dev.cfg_writes, 1);
	ck_assert_uint_eq(vd_rd(&d, d.device, 4), 0x44beef11);
	vd_wr(&d, d.device + 7, 2, 0);                      /* past the end */
	ck_assert_uint_eq(dev.cfg_writes, 1);
	virtio_pci_config_changed(&vp);
	ck_assert_uint_eq(vd_common_rd(&d, VIRTIO_PCI_COMMON_CFGGEN), gen);
	vd_rd(&d, d.device, 1);                             /* first read after */
	ck_assert_uint_eq(vd_common_rd(&d, VIRTIO_PCI_COMMON_CFGGEN), (u8)(gen + 1));
	vd_rd(&d, d.device, 1);
	ck_assert_uint_eq(vd_common_rd(&d, VIRTIO_PCI_COMMON_CFGGEN), (u8)(gen + 1));
	ck_assert(!vm.intx);                                /* not DRIVER_OK yet */
}
END_TEST

/* Sets the PCI_CFG window to length bytes at BAR offset off. */
static unsigned window(unsigned cap, u8 bar, u32 off, u32 length)
{
	vd_cfg_write(&d, cap + VIRTIO_PCI_CAP_BAR_OFF, 1, bar);
	vd_cfg_write(&d, cap + VIRTIO_PCI_CAP_OFFSET_OFF, 4, off);
	vd_cfg_write(&d, cap + VIRTIO_PCI_CAP_LENGTH_OFF, 4, length);
	return cap + VIRTIO_PCI_CAP_DATA_OFF;
}

START_TEST(pci_cfg_window_reaches_the_bar)
{
	unsigned cap = 0, data;

	for (unsigned p = vd_cfg_read(&d, PCI_CAP_PTR, 1); p;
	     p = vd_cfg_read(&d, p + 1, 1))
		if (vd_cfg_read(&d, p, 1) == PCI_CAP_ID_VNDR &&
		    vd_cfg_read(&d, p + VIRTIO_PCI_CAP_TYPE_OFF, 1) == VIRTIO_PCI_CAP_PCI_CFG)
			cap = p;
	ck_assert_uint_ne(cap, 0);
	vd_cfg_write(&d, PCI_COMMAND, 2, 0);                /* works without decoding */
	data = window(cap, VIRTIO_PCI_BAR, d.common + VIRTIO_PCI_COMMON_NUMQ, 2);
	ck_assert_uint_eq(vd_cfg_read(&d, data, 4) & 0xffff, DUMMY_QUEUES);
	data = window(cap, VIRTIO_PCI_BAR, d.common + VIRTIO_PCI_COMMON_STATUS, 1);
	vd_cfg_write(&d, data, 4, VIRTIO_STATUS_ACKNOWLEDGE);
	ck_assert_uint_eq(vd_cfg_read(&d, data, 1), VIRTIO_STATUS_ACKNOWLEDGE);
	/* a misaligned offset, another BAR, a length of 3: nothing happens */
	data = window(cap, VIRTIO_PCI_BAR, d.common + VIRTIO_PCI_COMMON_STATUS, 2);
	vd_cfg_write(&d, data, 4, 0);
	data = window(cap, 0, d.common + VIRTIO_PCI_COMMON_STATUS, 1);
	vd_cfg_write(&d, data, 4, 0);
	data = window(cap, VIRTIO_PCI_BAR, d.common + VIRTIO_PCI_COMMON_STATUS, 3);
	vd_cfg_write(&d, data, 4, 0);
	data = window(cap, VIRTIO_PCI_BAR, ~0U, 4);
	vd_cfg_write(&d, data, 4, 0);
	data = window(cap, VIRTIO_PCI_BAR, d.common + VIRTIO_PCI_COMMON_STATUS, 1);
	ck_assert_uint_eq(vd_cfg_read(&d, data, 1), VIRTIO_STATUS_ACKNOWLEDGE);
	/* the rest of the capability stays read-only */
	vd_cfg_write(&d, cap + VIRTIO_PCI_CAP_TYPE_OFF, 1, 1);
	ck_assert_uint_eq(vd_cfg_read(&d, cap + VIRTIO_PCI_CAP_TYPE_OFF, 1),
			  VIRTIO_PCI_CAP_PCI_CFG);
}
END_TEST

START_TEST(init_rejects_unusable_devices)
{
	struct virtio_device_ops o;
	struct {
		u64 features;
		u16 queues, qmax;
		u32 cfg;
	} bad[] = {
		{ BIT(0), 1, 64, 8 },                          /* no VERSION_1 */
		{ DUMMY_FEATS | BIT(34), 1, 64, 8 },           /* RING_PACKED */
		{ DUMMY_FEATS, 0, 64, 8 },
		{ DUMMY_FEATS, VIRTIO_PCI_MAX_QUEUES + 1, 64, 8 },
		{ DUMMY_FEATS, 1, 48, 8 },
		{ DUMMY_FEATS, 1, 512, 8 },
		{ DUMMY_FEATS, 1, 64, VIRTIO_PCI_DEVICE_LEN + 1 },
	};

	for (unsigned i = 0; i < ARRAY_SIZE(bad); i++) {
		o = dummy_ops;
		o.features = bad[i].features;
		o.num_queues = bad[i].queues;
		o.queue_max = bad[i].qmax;
		o.config_size = bad[i].cfg;
		ck_assert_int_eq(virtio_pci_init(&vp, &o, &dev, &vm_ops, &vm, &d.mem), -1);
	}
	o = dummy_ops;
	o.config_read = NULL;
	ck_assert_int_eq(virtio_pci_init(&vp, &o, &dev, &vm_ops, &vm, &d.mem), -1);
	o.config_size = 0;                                 /* no config: fine */
	ck_assert_int_eq(virtio_pci_init(&vp, &o, &dev, &vm_ops, &vm, &d.mem), 0);
}
END_TEST

START_TEST(a_guest_cannot_flood_the_log)
{
	for (int i = 0; i < 1000; i++)
		vd_wr(&d, d.notify, 2, 100);
	ck_assert_uint_eq(vm.logs, VIRTIO_PCI_LOG_LIMIT + 1);
	ASSERT_LOG("further messages suppressed");
}
END_TEST

Suite *virtio_pci_suite(void)
{
	Suite *s = suite_create("virtio_pci");
	TCase *tc = tcase_create("virtio_pci");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, enumerates_as_a_modern_virtio_device);
	tcase_add_test(tc, bar_follows_the_guest);
	tcase_add_test(tc, negotiation_and_reset);
	tcase_add_test(tc, features_ok_needs_a_valid_subset);
	tcase_add_test(tc, queue_fields_and_selection);
	tcase_add_test(tc, queue_size_must_be_a_power_of_two);
	tcase_add_test(tc, bad_queue_setup_needs_reset);
	tcase_add_test(tc, notifications_reach_the_device_only_when_live);
	tcase_add_test(tc, intx_follows_the_isr);
	tcase_add_test(tc, msix_vectors_masks_and_pending_bits);
	tcase_add_test(tc, device_errors_need_reset_and_say_so);
	tcase_add_test(tc, malformed_queues_need_reset);
	tcase_add_test(tc, device_config_and_generation);
	tcase_add_test(tc, pci_cfg_window_reaches_the_bar);
	tcase_add_test(tc, init_rejects_unusable_devices);
	tcase_add_test(tc, a_guest_cannot_flood_the_log);
	suite_add_tcase(s, tc);
	return s;
}
