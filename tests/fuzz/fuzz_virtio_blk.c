/*
 * libFuzzer harness for the virtio-blk device behind the virtio-pci
 * transport. Each input is a little program for a hostile guest: a flags
 * byte (whether to set the device up the way a driver would first, with
 * which features and queue size, read-only disk, MSI-X on), then a
 * sequence of operations: BAR and configuration space reads and writes,
 * bytes poked anywhere into guest RAM, block requests laid out by the
 * test driver, raw available ring entries, notifications, resets.
 *
 * Guest RAM and the disk are exactly-sized globals, so AddressSanitizer
 * catches any access outside them; the harness also aborts if the
 * device breaks one of its own promises (below, in check_invariants).
 *
 *   make fuzz              (tests/fuzz/fuzz.mk) builds and runs it
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "tests/fuzz/fuzz_input.h"
#include "vmm/virtio/virtio_blk.h"

#define RAM_SIZE     KiB(256)
#define DISK_SIZE    KiB(32)
#define LOG_MAX      160
#define CFG_BYTES    256

/* The flags byte. */
#define FL_INIT      0x01      /* negotiate and set queue 0 up first */
#define FL_EVENT_IDX 0x02
#define FL_INDIRECT  0x04
#define FL_READ_ONLY 0x08
#define FL_MSIX      0x10
#define FL_QSIZE_SHIFT 5       /* bits 5-7: queue size 2^(n+1) */

enum op {
	OP_MMIO_WRITE, OP_MMIO_READ, OP_CFG_WRITE, OP_CFG_READ, OP_POKE,
	OP_KICK, OP_REQUEST, OP_AVAIL, OP_INIT, OP_CONFIG_CHANGED, OP_DESC,
	OP_INDIRECT, OP_WINDOW, OP_MASK, NR_OPS
};

static u8 ram[RAM_SIZE];
static u8 disk[DISK_SIZE], disk_before[DISK_SIZE];
static struct blk_mem mem_disk;
static struct virtio_blk blk;
static struct virtio_pci vp;
static struct vdrv d;
static bool intx;

/* The rest of the input, consumed little-endian; zeros once it runs out. */

/* INTA# is only ever reported when it changes. */
static void f_intx(void *ctx, bool level)
{
	(void)ctx;
	if (level == intx)
		abort();
	intx = level;
}

static void f_msix(void *ctx, u64 addr, u32 data)
{
	(void)ctx;
	(void)addr;
	(void)data;
}

static void f_log(void *ctx, const char *msg)
{
	(void)ctx;
	if (!memchr(msg, 0, LOG_MAX))            /* unterminated or too long */
		abort();
}

static const struct virtio_pci_ops vm_ops = {
	.msix = f_msix, .intx = f_intx, .log = f_log,
};

static void check_invariants(void)
{
	const u8 known = VIRTIO_STATUS_ACKNOWLEDGE | VIRTIO_STATUS_DRIVER |
			 VIRTIO_STATUS_DRIVER_OK | VIRTIO_STATUS_FEATURES_OK |
			 VIRTIO_STATUS_NEEDS_RESET | VIRTIO_STATUS_FAILED;

	if (vp.status & ~known)
		abort();
	if ((vp.status & VIRTIO_STATUS_DRIVER_OK) &&
	    !(vp.status & VIRTIO_STATUS_FEATURES_OK))
		abort();
	if ((vp.driver_features & ~blk.ops.features) &&
	    (vp.status & VIRTIO_STATUS_FEATURES_OK))
		abort();
	if (vp.msix_pending >> vp.nr_vectors || intx != vp.intx_level)
		abort();
	for (unsigned i = 0; i < VIRTIO_PCI_MAX_QUEUES; i++)
		if (vp.q[i].enabled && (i >= blk.ops.num_queues ||
					vp.q[i].vq.size > VIRTQ_MAX_SIZE))
			abort();
}

/* A kick must not use anything while the device needs a reset. */
static void kick(struct input *in)
{
	bool stopped = vp.status & VIRTIO_STATUS_NEEDS_RESET;
	u16 used = vd_used_idx(&d);
	u32 where = (u32)take(in, 1) % 4 * VIRTIO_PCI_NOTIFY_MULT;

	vd_wr(&d, d.notify + where, 2, take(in, 1) % 3);
	if (stopped && vd_used_idx(&d) != used)
		abort();
}

/* An address for a buffer: mostly in the data area, sometimes anything. */
static u64 buffer_addr(struct input *in)
{
	u8 how = (u8)take(in, 1);

	return how & 0x80 ? take(in, 8) : VD_DATA + take(in, 2) * (how & 0xf);
}

/* One raw descriptor in the queue's table or in an indirect table. */
static void desc(struct input *in)
{
	u64 table = take(in, 1) & 1 ? VD_INDIRECT : VD_DESC;
	u16 i = (u16)(take(in, 1) % VIRTQ_MAX_SIZE);
	u64 addr = buffer_addr(in);
	u32 len = (u32)take(in, 2);
	u16 flags = (u16)take(in, 1), next = (u16)take(in, 1);

	if (table == VD_DESC && i >= (VD_AVAIL - VD_DESC) / VIRTQ_DESC_SIZE)
		return;
	vd_desc(&d, table, i, addr, len, flags, next);
}

/* A request whose header, data and status sit in an indirect table of
   fuzzed length, made available through one descriptor. */
static void indirect(struct input *in)
{
	u16 head = (u16)(take(in, 1) % MAX(d.qsize, 1));
	u32 entries = (u32)take(in, 1) % 5, table_len = (u32)take(in, 1);
	u8 *hdr = ram + VD_HDR;

	memset(hdr, 0, VIRTIO_BLK_HDR_SIZE);
	hdr[VIRTIO_BLK_HDR_TYPE] = (u8)(take(in, 1) % 9);
	hdr[VIRTIO_BLK_HDR_SECTOR] = (u8)take(in, 1);
	vd_desc(&d, VD_INDIRECT, 0, VD_HDR, VIRTIO_BLK_HDR_SIZE, VIRTQ_DESC_F_NEXT, 1);
	vd_desc(&d, VD_INDIRECT, 1, VD_DATA, (u32)take(in, 2),
		VIRTQ_DESC_F_NEXT | (take(in, 1) & VIRTQ_DESC_F_WRITE), 2);
	vd_desc(&d, VD_INDIRECT, 2, VD_STATUS, 1, VIRTQ_DESC_F_WRITE, 0);
	table_len = entries ? entries * VIRTQ_DESC_SIZE : table_len;
	vd_desc(&d, VD_DESC, head, VD_INDIRECT, table_len,
		VIRTQ_DESC_F_INDIRECT | (u16)(take(in, 1) & VIRTQ_DESC_F_WRITE), 0);
	if (!d.qsize)
		d.qsize = 1;
	vd_avail(&d, head);
}

/* A BAR access through the VIRTIO_PCI_CAP_PCI_CFG window (§4.1.4.9). */
static void window(struct input *in)
{
	unsigned cap = vp.pcicfg_cap;
	u8 len = (u8)(1U << (take(in, 1) % 3));

	vd_cfg_write(&d, cap + VIRTIO_PCI_CAP_BAR_OFF, 1,
		     take(in, 1) & 1 ? 0 : VIRTIO_PCI_BAR);
	vd_cfg_write(&d, cap + VIRTIO_PCI_CAP_OFFSET_OFF, 4, (u32)take(in, 2));
	vd_cfg_write(&d, cap + VIRTIO_PCI_CAP_LENGTH_OFF, 4, len);
	if (take(in, 1) & 1)
		vd_cfg_write(&d, cap + VIRTIO_PCI_CAP_DATA_OFF, 4, (u32)take(in, 4));
	else
		vd_cfg_read(&d, cap + VIRTIO_PCI_CAP_DATA_OFF, 4);
}

/* Masks or unmasks one MSI-X vector, or the whole function. */
static void mask(struct input *in)
{
	u8 what = (u8)take(in, 1);
	u64 ctrl = VIRTIO_PCI_MSIX_TABLE_OFF +
		   (u64)(what % vp.nr_vectors) * PCI_MSIX_ENTRY_SIZE + PCI_MSIX_ENTRY_CTRL;

	if (what & 0x80)
		vd_cfg_write(&d, d.msix_cap + PCI_MSIX_CTRL, 2, PCI_MSIX_CTRL_ENABLE |
			     (what & 0x40 ? PCI_MSIX_CTRL_MASKALL : 0));
	else
		vd_wr(&d, ctrl, 4, (what >> 6) & 1);
	vd_rd(&d, VIRTIO_PCI_MSIX_PBA_OFF, 1U << (what & 3));
}

/* A block request the way the test driver builds one, fields fuzzed. */
static void request(struct input *in)
{
	u16 first = (u16)(take(in, 1) % MAX(d.qsize, 1));
	u8 t = (u8)take(in, 1), how = (u8)take(in, 1);
	u32 type = t < 0x80 ? t % (VIRTIO_BLK_T_GET_ID + 1) :   /* mostly known */
		   t < 0xc0 ? t : (u32)take(in, 4);
	u64 sector = how & 0x80 ? take(in, 8) : take(in, 1) % 72;
	u64 data = VD_DATA + take(in, 2) * (how & 0x7);
	u32 len = how & 0x40 ? (u32)take(in, 2) :
		  (u32)(take(in, 1) % 9) * VIRTIO_BLK_SECTOR;
	bool writable = how & 0x20 ? take(in, 1) & 1 :
			type == VIRTIO_BLK_T_IN || type == VIRTIO_BLK_T_GET_ID;

	if (!d.qsize)
		d.qsize = 1;
	vd_blk_request(&d, first, type, sector, data, len, writable);
}

static void step(struct input *in)
{
	switch (take(in, 1) % NR_OPS) {
	case OP_MMIO_WRITE: fuzz_mmio(in, &d, true); break;
	case OP_MMIO_READ:  fuzz_mmio(in, &d, false); break;
	case OP_CFG_WRITE:  fuzz_cfg(in, &d, CFG_BYTES, true); break;
	case OP_CFG_READ:   fuzz_cfg(in, &d, CFG_BYTES, false); break;
	case OP_POKE:       fuzz_poke(in, ram, RAM_SIZE); break;
	case OP_KICK:       kick(in); break;
	case OP_REQUEST:    request(in); break;
	case OP_AVAIL:
		if (!d.qsize)
			d.qsize = 1;
		vd_avail(&d, (u16)take(in, 2));
		break;
	case OP_INIT:
		vd_init(&d, take(in, 8), (u16)take(in, 2));
		break;
	case OP_DESC:       desc(in); break;
	case OP_INDIRECT:   indirect(in); break;
	case OP_WINDOW:     window(in); break;
	case OP_MASK:       mask(in); break;
	default:
		virtio_pci_config_changed(&vp);
		break;
	}
	check_invariants();
}

/* Enables MSI-X with every vector unmasked. */
static void msix_on(void)
{
	for (u16 v = 0; v < vp.nr_vectors; v++) {
		u64 e = VIRTIO_PCI_MSIX_TABLE_OFF + (u64)v * PCI_MSIX_ENTRY_SIZE;

		vd_wr(&d, e + PCI_MSIX_ENTRY_ADDR, 8, 0xfee00000ULL);
		vd_wr(&d, e + PCI_MSIX_ENTRY_DATA, 4, 0x40 + v);
		vd_wr(&d, e + PCI_MSIX_ENTRY_CTRL, 4, 0);
	}
	vd_cfg_write(&d, d.msix_cap + PCI_MSIX_CTRL, 2, PCI_MSIX_CTRL_ENABLE);
}

static void start(u8 flags)
{
	const char *why;
	u64 want = BIT(VIRTIO_F_VERSION_1) | BIT(VIRTIO_BLK_F_FLUSH) |
		   (flags & FL_EVENT_IDX ? BIT(VIRTIO_F_RING_EVENT_IDX) : 0) |
		   (flags & FL_INDIRECT ? BIT(VIRTIO_F_RING_INDIRECT_DESC) : 0);

	memset(ram, 0, sizeof(ram));
	for (unsigned i = 0; i < DISK_SIZE; i++)
		disk[i] = (u8)(i * 7 + i / VIRTIO_BLK_SECTOR);
	memcpy(disk_before, disk, DISK_SIZE);
	intx = false;
	blk_mem_init(&mem_disk, disk, DISK_SIZE, flags & FL_READ_ONLY);
	if (virtio_blk_init(&blk, &blk_mem_ops, &mem_disk, "fuzz") ||
	    virtio_pci_init(&vp, &blk.ops, &blk, &vm_ops, NULL, &d.mem) ||
	    vd_probe(&d, &vp, (struct gmem){ ram, RAM_SIZE }, &why))
		abort();
	if (flags & FL_MSIX)
		msix_on();
	if (!(flags & FL_INIT))
		return;
	vd_init(&d, want, (u16)(2U << (flags >> FL_QSIZE_SHIFT)));
	vd_common_wr(&d, VIRTIO_PCI_COMMON_MSIX, 0);     /* config: vector 0 */
	vd_common_wr(&d, VIRTIO_PCI_COMMON_Q_MSIX, 1);   /* queue 0: vector 1 */
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct input in = { data, size };

	start((u8)take(&in, 1));
	check_invariants();
	while (in.n)
		step(&in);
	if (mem_disk.read_only && memcmp(disk, disk_before, DISK_SIZE))
		abort();             /* a read-only disk was written */
	return 0;
}
