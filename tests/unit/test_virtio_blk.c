/*
 * vmm/virtio/virtio_blk.c and vmm/virtio/blk_mem.c: the virtio block device (virtio 1.2
 * §5.2) on an in-memory disk, driven end to end by the test driver
 * through the PCI transport: requests of every type, the error statuses,
 * odd but legal chain layouts, notification suppression, and requests
 * too broken to answer.
 */
#include <stdlib.h>
#include <string.h>
#include "unit.h"
#include "virtio_driver.h"
#include "vmm/virtio/virtio_blk.h"

Suite *virtio_blk_suite(void);

#define SECTORS    64
#define DISK       (SECTORS * VIRTIO_BLK_SECTOR)
#define SERIAL     "uhv-disk-0"
#define ALL        (~0ULL)
#define PLAIN      (ALL & ~BIT(VIRTIO_F_RING_EVENT_IDX))
#define QSIZE      16
#define LOG_KEEP   160

static u8 *ram, *disk, *orig;
static struct blk_mem mem_disk;
static struct virtio_blk blk;
static struct virtio_pci vp;
static struct vdrv d;

static struct {
	bool intx, flaky;                    /* flaky: the backend fails */
	unsigned irqs;
	char log[LOG_KEEP];
} vm;

static void vm_intx(void *ctx, bool level)
{
	(void)ctx;
	vm.intx = level;
	vm.irqs += level;
}

static void vm_log(void *ctx, const char *msg)
{
	(void)ctx;
	strncpy(vm.log, msg, LOG_KEEP - 1);
}

static const struct virtio_pci_ops vm_ops = {
	.intx = vm_intx, .log = vm_log,
};

/* blk_mem with an off switch, to see I/O errors reach the driver. */
static unsigned backend_reads;

static int flaky_read(void *c, u64 off, void *buf, u64 len)
{
	backend_reads++;
	return vm.flaky ? -1 : blk_mem_ops.read(c, off, buf, len);
}

static int flaky_flush(void *c)
{
	return vm.flaky ? -1 : blk_mem_ops.flush(c);
}

/* A backend write that ignores read_only: the device must not call it. */
static unsigned raw_writes;

static int raw_write(void *c, u64 off, const void *buf, u64 len)
{
	(void)c;
	raw_writes++;
	memcpy(disk + off, buf, len);
	return 0;
}

static struct blk_backend_ops flaky_ops;

/* A disk (read-only or not, with a serial), its transport, a live driver. */
static void start(bool read_only, const char *serial, u64 want)
{
	const char *why = "";

	blk_mem_init(&mem_disk, disk, DISK, read_only);
	ck_assert_int_eq(virtio_blk_init(&blk, &flaky_ops, &mem_disk, serial), 0);
	ck_assert_int_eq(virtio_pci_init(&vp, &blk.ops, &blk, &vm_ops, NULL,
					 &d.mem), 0);
	ck_assert_msg(!vd_probe(&d, &vp, (struct gmem){ ram, VD_RAM_SIZE }, &why),
		      "%s", why);
	ck_assert_uint_eq(vd_init(&d, want, QSIZE) & VIRTIO_STATUS_DRIVER_OK,
			  VIRTIO_STATUS_DRIVER_OK);
}

static void setup(void)
{
	ram = calloc(1, VD_RAM_SIZE);
	disk = malloc(DISK);
	orig = malloc(DISK);
	ck_assert(ram && disk && orig);
	for (unsigned i = 0; i < DISK; i++)
		disk[i] = (u8)(i / VIRTIO_BLK_SECTOR * 13 + i % 251);
	memcpy(orig, disk, DISK);
	memset(&vm, 0, sizeof(vm));
	flaky_ops = blk_mem_ops;
	flaky_ops.read = flaky_read;
	flaky_ops.flush = flaky_flush;
	start(false, SERIAL, PLAIN);
}

static void teardown(void)
{
	free(ram);
	free(disk);
	free(orig);
}

static u8 dev_status(void)
{
	return (u8)vd_common_rd(&d, VIRTIO_PCI_COMMON_STATUS);
}

/* Submits a 3-descriptor request at descriptor 0 and runs it; returns
   the status byte and checks the used element it came back in. */
static u8 request(u32 type, u64 sector, u32 len, bool data_writable,
		  u32 used_len)
{
	u16 before = vd_used_idx(&d);
	u32 id, got;

	vd_blk_request(&d, 0, type, sector, VD_DATA, len, data_writable);
	vd_kick(&d, 0);
	ck_assert_uint_eq(vd_used_idx(&d), (u16)(before + 1));
	vd_used_elem(&d, before, &id, &got);
	ck_assert_uint_eq(id, 0);
	ck_assert_uint_eq(got, used_len);
	return vd_blk_status(&d, 0);
}

#define IN_(sector, len)  request(VIRTIO_BLK_T_IN, sector, len, true, (len) + 1)
#define OUT_(sector, len) request(VIRTIO_BLK_T_OUT, sector, len, false, 1)

START_TEST(identity_features_and_config)
{
	u64 offered, cap;

	ck_assert_uint_eq(vd_cfg_read(&d, PCI_DEVICE_ID, 2), 0x1042);
	ck_assert_uint_eq(vd_cfg_read(&d, PCI_REVISION, 4) >> 8, 0x018000);
	vd_negotiate(&d, 0, &offered);
	ck_assert_uint_eq(offered, BIT(VIRTIO_BLK_F_SEG_MAX) |
			  BIT(VIRTIO_BLK_F_BLK_SIZE) | BIT(VIRTIO_BLK_F_FLUSH) |
			  BIT(VIRTIO_F_VERSION_1) | BIT(VIRTIO_F_RING_EVENT_IDX) |
			  BIT(VIRTIO_F_RING_INDIRECT_DESC));
	cap = vd_rd(&d, d.device + VIRTIO_BLK_CFG_CAPACITY, 4) |
	      vd_rd(&d, d.device + VIRTIO_BLK_CFG_CAPACITY + 4, 4) << 32;
	ck_assert_uint_eq(cap, SECTORS);
	ck_assert_uint_eq(vd_rd(&d, d.device + VIRTIO_BLK_CFG_SEG_MAX, 4),
			  VIRTQ_MAX_SIZE - 2);
	ck_assert_uint_eq(vd_rd(&d, d.device + VIRTIO_BLK_CFG_BLK_SIZE, 4), 512);
	ck_assert_uint_eq(d.device_len, VIRTIO_BLK_CFG_SIZE);
	ck_assert_uint_eq(vd_rd(&d, d.device + 32, 4), 0);      /* writeback... */
	vd_wr(&d, d.device, 4, 0);                              /* read-only */
	ck_assert_uint_eq(vd_rd(&d, d.device, 4), SECTORS);
	start(true, SERIAL, PLAIN);
	vd_negotiate(&d, 0, &offered);
	ck_assert(offered & BIT(VIRTIO_BLK_F_RO));
	ck_assert_int_eq(virtio_blk_init(&blk, &(struct blk_backend_ops){ 0 },
					 NULL, NULL), -1);
}
END_TEST

START_TEST(reads_sectors)
{
	memset(ram + VD_DATA, 0xee, 4096);
	ck_assert_uint_eq(IN_(3, 1024), VIRTIO_BLK_S_OK);
	ck_assert_int_eq(memcmp(ram + VD_DATA, disk + 3 * 512, 1024), 0);
	ck_assert_uint_eq(ram[VD_DATA + 1024], 0xee);            /* not beyond */
	ck_assert_uint_eq(IN_(SECTORS - 1, 512), VIRTIO_BLK_S_OK); /* last one */
	ck_assert_int_eq(memcmp(ram + VD_DATA, disk + DISK - 512, 512), 0);
	ck_assert_uint_eq(blk.reads, 2);
	ck_assert(vm.intx);
	ck_assert_uint_eq(vd_rd(&d, d.isr, 1), VIRTIO_ISR_QUEUE);
}
END_TEST

START_TEST(writes_sectors)
{
	for (unsigned i = 0; i < 1536; i++)
		ram[VD_DATA + i] = (u8)(i * 3);
	ck_assert_uint_eq(OUT_(10, 1536), VIRTIO_BLK_S_OK);
	ck_assert_int_eq(memcmp(disk + 10 * 512, ram + VD_DATA, 1536), 0);
	ck_assert_int_eq(memcmp(disk, orig, 10 * 512), 0);
	ck_assert_int_eq(memcmp(disk + 13 * 512, orig + 13 * 512, DISK - 13 * 512), 0);
	ck_assert_uint_eq(request(VIRTIO_BLK_T_FLUSH, 0, 0, false, 1), VIRTIO_BLK_S_OK);
	ck_assert_uint_eq(blk.writes, 1);
	ck_assert_uint_eq(blk.flushes, 1);
}
END_TEST

START_TEST(get_id_returns_the_serial)
{
	static const char long_serial[] = "0123456789abcdefghijKLMNOP";

	memset(ram + VD_DATA, 0xee, 64);
	ck_assert_uint_eq(request(VIRTIO_BLK_T_GET_ID, 0, 20, true, 21), VIRTIO_BLK_S_OK);
	ck_assert_int_eq(memcmp(ram + VD_DATA, SERIAL "\0\0\0\0\0\0\0\0\0\0", 20), 0);
	ck_assert_uint_eq(request(VIRTIO_BLK_T_GET_ID, 0, 10, true, 11), VIRTIO_BLK_S_IOERR);
	start(false, long_serial, PLAIN);                /* 20 bytes, no NUL */
	ck_assert_uint_eq(request(VIRTIO_BLK_T_GET_ID, 0, 32, true, 33), VIRTIO_BLK_S_OK);
	ck_assert_int_eq(memcmp(ram + VD_DATA, long_serial, 20), 0);
	ck_assert_uint_eq(ram[VD_DATA + 20], 0);           /* the rest: zeros */
	start(false, NULL, PLAIN);
	ck_assert_uint_eq(request(VIRTIO_BLK_T_GET_ID, 0, 20, true, 21), VIRTIO_BLK_S_OK);
	ck_assert_uint_eq(ram[VD_DATA], 0);
}
END_TEST

START_TEST(read_only_disks_refuse_writes)
{
	flaky_ops.write = raw_write;
	raw_writes = 0;
	start(true, SERIAL, PLAIN);
	memset(ram + VD_DATA, 0x77, 512);
	ck_assert_uint_eq(OUT_(0, 512), VIRTIO_BLK_S_IOERR);
	ck_assert_uint_eq(raw_writes, 0);              /* not even tried */
	ck_assert_int_eq(memcmp(disk, orig, DISK), 0);
	ck_assert_uint_eq(IN_(0, 512), VIRTIO_BLK_S_OK);
	ck_assert_uint_eq(blk.errors, 1);
}
END_TEST

START_TEST(out_of_range_and_partial_sectors)
{
	static const struct { u64 sector; u32 len; } bad[] = {
		{ SECTORS, 512 }, { SECTORS - 1, 1024 }, { 1ULL << 63, 512 },
		{ ~0ULL, 512 }, { 0, 100 }, { 0, 513 }, { (~0ULL >> 9) + 1, 512 },
	};

	flaky_ops.write = raw_write;             /* no bounds check of its own */
	raw_writes = backend_reads = 0;
	start(false, SERIAL, PLAIN);
	for (unsigned i = 0; i < ARRAY_SIZE(bad); i++) {
		memset(ram + VD_DATA, 0xee, 1024);
		ck_assert_uint_eq(IN_(bad[i].sector, bad[i].len), VIRTIO_BLK_S_IOERR);
		/* the writable part is written in full: zeros, then status */
		for (u32 j = 0; j < bad[i].len; j++)
			ck_assert_uint_eq(ram[VD_DATA + j], 0);
		ck_assert_uint_eq(OUT_(bad[i].sector, bad[i].len), VIRTIO_BLK_S_IOERR);
	}
	ck_assert_int_eq(memcmp(disk, orig, DISK), 0);
	ck_assert_uint_eq(raw_writes + backend_reads, 0);  /* refused up front */
	ck_assert_uint_eq(IN_(SECTORS, 0), VIRTIO_BLK_S_OK);     /* empty, at the end */
}
END_TEST

START_TEST(unknown_types_are_unsupported)
{
	static const u32 types[] = { 2, 3, 5, 10, 11, 13, 14, 0x80000000, ~0U };

	for (unsigned i = 0; i < ARRAY_SIZE(types); i++) {
		memset(ram + VD_DATA, 0xee, 16);
		ck_assert_uint_eq(request(types[i], 0, 16, true, 17), VIRTIO_BLK_S_UNSUPP);
		ck_assert_uint_eq(ram[VD_DATA + 15], 0);
	}
	ck_assert_uint_eq(request(13, 0, 16, false, 1), VIRTIO_BLK_S_UNSUPP);
	ck_assert_int_eq(memcmp(disk, orig, DISK), 0);
	ck_assert_uint_eq(dev_status() & VIRTIO_STATUS_NEEDS_RESET, 0);
}
END_TEST

START_TEST(data_in_the_wrong_direction)
{
	/* a read into a device-readable buffer: the device must not write it */
	memset(ram + VD_DATA, 0xee, 512);
	ck_assert_uint_eq(request(VIRTIO_BLK_T_IN, 0, 512, false, 1), VIRTIO_BLK_S_IOERR);
	ck_assert_uint_eq(ram[VD_DATA], 0xee);
	/* a write from a device-writable buffer: the device does not read it */
	ck_assert_uint_eq(request(VIRTIO_BLK_T_OUT, 0, 512, true, 513), VIRTIO_BLK_S_IOERR);
	ck_assert_int_eq(memcmp(disk, orig, DISK), 0);
	ck_assert_uint_eq(dev_status() & VIRTIO_STATUS_NEEDS_RESET, 0);
}
END_TEST

START_TEST(backend_errors_are_ioerr)
{
	vm.flaky = true;
	memset(ram + VD_DATA, 0xee, 512);
	ck_assert_uint_eq(IN_(0, 512), VIRTIO_BLK_S_IOERR);
	ck_assert_uint_eq(ram[VD_DATA + 511], 0);
	ck_assert_uint_eq(request(VIRTIO_BLK_T_FLUSH, 0, 0, false, 1), VIRTIO_BLK_S_IOERR);
	vm.flaky = false;
	ck_assert_uint_eq(IN_(0, 512), VIRTIO_BLK_S_OK);
}
END_TEST

/* A request whose header (hdr_len bytes) or status cannot be had. */
static void unanswerable(u32 hdr_len, u16 status_flags, const char *why)
{
	start(false, SERIAL, PLAIN);
	vd_desc(&d, VD_DESC, 0, VD_HDR, hdr_len, VIRTQ_DESC_F_NEXT, 1);
	vd_desc(&d, VD_DESC, 1, VD_STATUS, 1, status_flags, 0);
	vd_avail(&d, 0);
	vd_kick(&d, 0);
	ck_assert(dev_status() & VIRTIO_STATUS_NEEDS_RESET);
	ck_assert_msg(strstr(vm.log, why), "log: %s", vm.log);
	ck_assert_uint_eq(vd_used_idx(&d), 0);
}

START_TEST(unanswerable_requests_need_reset)
{
	unanswerable(8, VIRTQ_DESC_F_WRITE, "8 readable and 1 writable bytes");
	unanswerable(16, 0, "17 readable and 0 writable bytes");
	ck_assert_msg(strstr(vm.log, "virtio-blk: queue 0: request at head 0"),
		      "log: %s", vm.log);
	ck_assert(vm.intx);                      /* the config change interrupt */
	ck_assert_uint_eq(vd_rd(&d, d.isr, 1), VIRTIO_ISR_CONFIG);
}
END_TEST

START_TEST(headers_and_data_split_anywhere)
{
	u8 *hdr = ram + VD_HDR;

	memset(hdr, 0, 16);
	hdr[VIRTIO_BLK_HDR_SECTOR] = 5;          /* IN, sector 5 */
	/* header in 4 + 12 bytes; data and status share one descriptor */
	vd_desc(&d, VD_DESC, 0, VD_HDR, 4, VIRTQ_DESC_F_NEXT, 1);
	vd_desc(&d, VD_DESC, 1, VD_HDR + 4, 12, VIRTQ_DESC_F_NEXT, 2);
	vd_desc(&d, VD_DESC, 2, VD_DATA, 300, VIRTQ_DESC_F_NEXT | VIRTQ_DESC_F_WRITE, 3);
	vd_desc(&d, VD_DESC, 3, VD_DATA + 1000, 213, VIRTQ_DESC_F_WRITE, 0);
	vd_avail(&d, 0);
	vd_kick(&d, 0);
	ck_assert_uint_eq(vd_used_idx(&d), 1);
	ck_assert_int_eq(memcmp(ram + VD_DATA, disk + 5 * 512, 300), 0);
	ck_assert_int_eq(memcmp(ram + VD_DATA + 1000, disk + 5 * 512 + 300, 212), 0);
	ck_assert_uint_eq(ram[VD_DATA + 1212], VIRTIO_BLK_S_OK);
}
END_TEST

START_TEST(indirect_requests)
{
	u8 *hdr = ram + VD_HDR;

	start(false, SERIAL, ALL);
	memset(hdr, 0, 16);
	hdr[VIRTIO_BLK_HDR_TYPE] = VIRTIO_BLK_T_OUT;
	hdr[VIRTIO_BLK_HDR_SECTOR] = 7;
	memset(ram + VD_DATA, 0x5c, 1024);
	vd_desc(&d, VD_DESC, 9, VD_INDIRECT, 4 * VIRTQ_DESC_SIZE, VIRTQ_DESC_F_INDIRECT, 0);
	vd_desc(&d, VD_INDIRECT, 0, VD_HDR, 16, VIRTQ_DESC_F_NEXT, 1);
	vd_desc(&d, VD_INDIRECT, 1, VD_DATA, 512, VIRTQ_DESC_F_NEXT, 2);
	vd_desc(&d, VD_INDIRECT, 2, VD_DATA + 512, 512, VIRTQ_DESC_F_NEXT, 3);
	vd_desc(&d, VD_INDIRECT, 3, VD_STATUS, 1, VIRTQ_DESC_F_WRITE, 0);
	ram[VD_STATUS] = 0xff;
	vd_avail(&d, 9);
	vd_kick(&d, 0);
	ck_assert_uint_eq(ram[VD_STATUS], VIRTIO_BLK_S_OK);
	ck_assert_int_eq(memcmp(disk + 7 * 512, ram + VD_DATA, 1024), 0);
}
END_TEST

START_TEST(event_idx_suppresses_interrupts)
{
	u64 used_event = VD_AVAIL + VIRTQ_AVAIL_BYTES(QSIZE) - 2;
	u64 avail_event = VD_USED + VIRTQ_USED_BYTES(QSIZE) - 2;

	start(false, SERIAL, ALL);
	vd_put16(&d, used_event, 0);
	IN_(0, 512);                             /* used idx 0 -> 1: wanted */
	ck_assert_uint_eq(vm.irqs, 1);
	vd_rd(&d, d.isr, 1);
	IN_(0, 512);                             /* 1 -> 2: not wanted */
	ck_assert_uint_eq(vm.irqs, 1);
	ck_assert(!vm.intx);
	vd_put16(&d, used_event, 2);
	IN_(0, 512);                             /* 2 -> 3: wanted again */
	ck_assert_uint_eq(vm.irqs, 2);
	ck_assert_uint_eq(vd_get16(&d, avail_event), 3);   /* "notify me at 3" */
	ck_assert_uint_eq(vd_get16(&d, VD_USED + VIRTQ_USED_FLAGS), 0);
}
END_TEST

START_TEST(one_kick_many_requests_one_interrupt)
{
	for (u16 i = 0; i < 4; i++)
		vd_blk_request(&d, (u16)(3 * i), VIRTIO_BLK_T_IN, i,
			       VD_DATA + 512ULL * i, 512, true);
	vd_kick(&d, 0);
	ck_assert_uint_eq(vd_used_idx(&d), 4);
	for (u16 i = 0; i < 4; i++) {
		ck_assert_uint_eq(vd_blk_status(&d, (u16)(3 * i)), VIRTIO_BLK_S_OK);
		ck_assert_int_eq(memcmp(ram + VD_DATA + 512 * i, disk + 512 * i, 512), 0);
	}
	ck_assert_uint_eq(vm.irqs, 1);
	ck_assert_uint_eq(vd_get16(&d, VD_USED + VIRTQ_USED_FLAGS), 0);
}
END_TEST

START_TEST(broken_queues_stop_the_device_until_reset)
{
	vd_desc(&d, VD_DESC, 0, VD_HDR, 16, VIRTQ_DESC_F_NEXT, 1);
	vd_desc(&d, VD_DESC, 1, VD_RAM_SIZE - 100, 512,
		VIRTQ_DESC_F_NEXT | VIRTQ_DESC_F_WRITE, 2);
	vd_desc(&d, VD_DESC, 2, VD_STATUS, 1, VIRTQ_DESC_F_WRITE, 0);
	vd_avail(&d, 0);
	vd_kick(&d, 0);
	ck_assert(dev_status() & VIRTIO_STATUS_NEEDS_RESET);
	ck_assert_msg(strstr(vm.log, "outside guest RAM; device needs reset"),
		      "log: %s", vm.log);
	vd_blk_request(&d, 3, VIRTIO_BLK_T_IN, 0, VD_DATA, 512, true);
	vd_kick(&d, 0);
	ck_assert_uint_eq(vd_used_idx(&d), 0);
	vd_init(&d, PLAIN, QSIZE);               /* a reset brings it back */
	ck_assert_uint_eq(IN_(1, 512), VIRTIO_BLK_S_OK);
}
END_TEST

Suite *virtio_blk_suite(void)
{
	Suite *s = suite_create("virtio_blk");
	TCase *tc = tcase_create("virtio_blk");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, identity_features_and_config);
	tcase_add_test(tc, reads_sectors);
	tcase_add_test(tc, writes_sectors);
	tcase_add_test(tc, get_id_returns_the_serial);
	tcase_add_test(tc, read_only_disks_refuse_writes);
	tcase_add_test(tc, out_of_range_and_partial_sectors);
	tcase_add_test(tc, unknown_types_are_unsupported);
	tcase_add_test(tc, data_in_the_wrong_direction);
	tcase_add_test(tc, backend_errors_are_ioerr);
	tcase_add_test(tc, unanswerable_requests_need_reset);
	tcase_add_test(tc, headers_and_data_split_anywhere);
	tcase_add_test(tc, indirect_requests);
	tcase_add_test(tc, event_idx_suppresses_interrupts);
	tcase_add_test(tc, one_kick_many_requests_one_interrupt);
	tcase_add_test(tc, broken_queues_stop_the_device_until_reset);
	suite_add_tcase(s, tc);
	return s;
}
