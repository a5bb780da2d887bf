/*
 * The test driver (virtio_driver.h): what Linux's virtio_pci_modern and
 * virtio_ring do, reduced to what the tests need, written against the
 * virtio 1.2 text rather than any driver's code.
 */
#include <string.h>
#include "virtio_driver.h"
#include "vmm/virtio/virtio_blk.h"

#define MAX_CAPS 48                     /* a capability walk gives up after */

u32 vd_cfg_read(struct vdrv *d, unsigned off, unsigned size)
{
	return pci_cfg_read(&d->bus, VD_SLOT, 0, off, size);
}

void vd_cfg_write(struct vdrv *d, unsigned off, unsigned size, u32 val)
{
	pci_cfg_write(&d->bus, VD_SLOT, 0, off, size, val);
}

u64 vd_rd(struct vdrv *d, u64 off, unsigned size)
{
	return virtio_pci_mmio_read(d->vp, off, size);
}

void vd_wr(struct vdrv *d, u64 off, unsigned size, u64 val)
{
	virtio_pci_mmio_write(d->vp, off, size, val);
}

static unsigned field_width(unsigned field)
{
	if (field >= VIRTIO_PCI_COMMON_Q_DESC)
		return 8;
	if (field < VIRTIO_PCI_COMMON_MSIX)
		return 4;
	return field == VIRTIO_PCI_COMMON_STATUS ||
	       field == VIRTIO_PCI_COMMON_CFGGEN ? 1 : 2;
}

/* 64-bit fields go as two 32-bit halves, as §4.1.3.1 allows drivers. */
u64 vd_common_rd(struct vdrv *d, unsigned field)
{
	unsigned w = field_width(field);

	if (w == 8)
		return vd_rd(d, d->common + field, 4) |
		       vd_rd(d, d->common + field + 4, 4) << 32;
	return vd_rd(d, d->common + field, w);
}

void vd_common_wr(struct vdrv *d, unsigned field, u64 val)
{
	unsigned w = field_width(field);

	if (w == 8) {
		vd_wr(d, d->common + field, 4, (u32)val);
		vd_wr(d, d->common + field + 4, 4, val >> 32);
		return;
	}
	vd_wr(d, d->common + field, w, val);
}

/* Records the first capability of each type (§4.1.4.1: use the first). */
static void note_cap(struct vdrv *d, unsigned p)
{
	u8 type = (u8)vd_cfg_read(d, p + VIRTIO_PCI_CAP_TYPE_OFF, 1);
	u32 off = vd_cfg_read(d, p + VIRTIO_PCI_CAP_OFFSET_OFF, 4);
	u32 len = vd_cfg_read(d, p + VIRTIO_PCI_CAP_LENGTH_OFF, 4);

	if (vd_cfg_read(d, p + VIRTIO_PCI_CAP_BAR_OFF, 1) != VIRTIO_PCI_BAR)
		return;
	if (type == VIRTIO_PCI_CAP_COMMON_CFG && d->common == ~0U)
		d->common = off;
	else if (type == VIRTIO_PCI_CAP_NOTIFY_CFG && d->notify == ~0U) {
		d->notify = off;
		d->notify_mult = vd_cfg_read(d, p + VIRTIO_PCI_CAP_MULT_OFF, 4);
	} else if (type == VIRTIO_PCI_CAP_ISR_CFG && d->isr == ~0U)
		d->isr = off;
	else if (type == VIRTIO_PCI_CAP_DEVICE_CFG && d->device == ~0U) {
		d->device = off;
		d->device_len = len;
	}
}

static int walk_caps(struct vdrv *d, const char **why)
{
	unsigned p = vd_cfg_read(d, PCI_CAP_PTR, 1), n = 0;

	if (!(vd_cfg_read(d, PCI_STATUS, 2) & PCI_STATUS_CAP_LIST))
		return *why = "no capability list", -1;
	d->common = d->notify = d->isr = d->device = ~0U;
	for (; p && n < MAX_CAPS; n++, p = vd_cfg_read(d, p + PCI_CAP_NEXT, 1)) {
		if (p < 0x40 || p % 4)
			return *why = "capability pointer in the header or unaligned", -1;
		if (vd_cfg_read(d, p, 1) == PCI_CAP_ID_MSIX)
			d->msix_cap = (u8)p;
		else if (vd_cfg_read(d, p, 1) == PCI_CAP_ID_VNDR)
			note_cap(d, p);
	}
	if (p)
		return *why = "capability list loops", -1;
	if (d->common == ~0U || d->notify == ~0U || d->isr == ~0U)
		return *why = "common, notify or ISR capability missing", -1;
	return 0;
}

/* Sizes the 64-bit BAR by writing all ones (PCI 3.0 §6.2.5.1), then
   places it and turns memory decoding on. */
static int place_bar(struct vdrv *d, const char **why)
{
	unsigned lo = PCI_BAR0 + 4 * VIRTIO_PCI_BAR, hi = lo + 4;
	u64 bar;

	if ((vd_cfg_read(d, lo, 4) & PCI_BAR_FLAGS) != PCI_BAR_MEM_64)
		return *why = "BAR is not 64-bit memory", -1;
	vd_cfg_write(d, lo, 4, ~0U);
	vd_cfg_write(d, hi, 4, ~0U);
	bar = vd_cfg_read(d, lo, 4) | (u64)vd_cfg_read(d, hi, 4) << 32;
	d->bar_size = ~(bar & ~PCI_BAR_FLAGS) + 1;
	vd_cfg_write(d, lo, 4, (u32)VD_BAR_BASE);
	vd_cfg_write(d, hi, 4, (u32)(VD_BAR_BASE >> 32));
	vd_cfg_write(d, PCI_COMMAND, 2, PCI_COMMAND_MEMORY | PCI_COMMAND_MASTER);
	return 0;
}

int vd_probe(struct vdrv *d, struct virtio_pci *vp, struct gmem mem,
	     const char **why)
{
	memset(d, 0, sizeof(*d));
	pci_init(&d->bus);
	d->vp = vp;
	d->mem = mem;
	if (pci_add(&d->bus, VD_SLOT, &vp->pci))
		return *why = "slot taken", -1;
	if (vd_cfg_read(d, PCI_VENDOR_ID, 2) != VIRTIO_PCI_VENDOR ||
	    vd_cfg_read(d, PCI_DEVICE_ID, 2) < VIRTIO_PCI_DEVICE_BASE ||
	    vd_cfg_read(d, PCI_DEVICE_ID, 2) > VIRTIO_PCI_DEVICE_LAST)
		return *why = "not a modern virtio device", -1;
	return walk_caps(d, why) ? -1 : place_bar(d, why);
}

static void set_status(struct vdrv *d, u8 bits)
{
	u8 s = (u8)vd_common_rd(d, VIRTIO_PCI_COMMON_STATUS);

	vd_common_wr(d, VIRTIO_PCI_COMMON_STATUS, s | bits);
}

u8 vd_negotiate(struct vdrv *d, u64 want, u64 *offered)
{
	u64 dev;

	vd_common_wr(d, VIRTIO_PCI_COMMON_STATUS, 0);
	if (vd_common_rd(d, VIRTIO_PCI_COMMON_STATUS))
		return 0xff;                  /* the reset did not complete */
	set_status(d, VIRTIO_STATUS_ACKNOWLEDGE);
	set_status(d, VIRTIO_STATUS_DRIVER);
	vd_common_wr(d, VIRTIO_PCI_COMMON_DFSELECT, 0);
	dev = vd_common_rd(d, VIRTIO_PCI_COMMON_DF);
	vd_common_wr(d, VIRTIO_PCI_COMMON_DFSELECT, 1);
	dev |= vd_common_rd(d, VIRTIO_PCI_COMMON_DF) << 32;
	if (offered)
		*offered = dev;
	vd_common_wr(d, VIRTIO_PCI_COMMON_GFSELECT, 0);
	vd_common_wr(d, VIRTIO_PCI_COMMON_GF, (u32)(want & dev));
	vd_common_wr(d, VIRTIO_PCI_COMMON_GFSELECT, 1);
	vd_common_wr(d, VIRTIO_PCI_COMMON_GF, (want & dev) >> 32);
	set_status(d, VIRTIO_STATUS_FEATURES_OK);
	return (u8)vd_common_rd(d, VIRTIO_PCI_COMMON_STATUS);
}

void vd_setup_queue(struct vdrv *d, u16 q, u16 size)
{
	vd_common_wr(d, VIRTIO_PCI_COMMON_Q_SELECT, q);
	if (size)
		vd_common_wr(d, VIRTIO_PCI_COMMON_Q_SIZE, size);
	d->qsize = (u16)vd_common_rd(d, VIRTIO_PCI_COMMON_Q_SIZE);
	memset(d->mem.base + VD_DESC, 0, VD_INDIRECT - VD_DESC);
	d->avail_idx = d->used_seen = 0;
	vd_common_wr(d, VIRTIO_PCI_COMMON_Q_DESC, VD_DESC);
	vd_common_wr(d, VIRTIO_PCI_COMMON_Q_DRIVER, VD_AVAIL);
	vd_common_wr(d, VIRTIO_PCI_COMMON_Q_DEVICE, VD_USED);
	vd_common_wr(d, VIRTIO_PCI_COMMON_Q_ENABLE, 1);
}

void vd_setup_queue_at(struct vdrv *d, u16 q, u16 size, u64 desc, u64 avail,
		       u64 used)
{
	vd_common_wr(d, VIRTIO_PCI_COMMON_Q_SELECT, q);
	vd_common_wr(d, VIRTIO_PCI_COMMON_Q_SIZE, size);
	memset(d->mem.base + desc, 0, used + VD_QUEUE_AREA_SLACK - desc);
	vd_common_wr(d, VIRTIO_PCI_COMMON_Q_DESC, desc);
	vd_common_wr(d, VIRTIO_PCI_COMMON_Q_DRIVER, avail);
	vd_common_wr(d, VIRTIO_PCI_COMMON_Q_DEVICE, used);
	vd_common_wr(d, VIRTIO_PCI_COMMON_Q_ENABLE, 1);
}

u8 vd_init(struct vdrv *d, u64 want, u16 size)
{
	u8 s = vd_negotiate(d, want, NULL);

	if (!(s & VIRTIO_STATUS_FEATURES_OK))
		return s;
	vd_setup_queue(d, 0, size);
	set_status(d, VIRTIO_STATUS_DRIVER_OK);
	return (u8)vd_common_rd(d, VIRTIO_PCI_COMMON_STATUS);
}

void vd_put16(struct vdrv *d, u64 gpa, u16 v)
{
	le_put(d->mem.base + gpa, v, sizeof(v));
}

u16 vd_get16(struct vdrv *d, u64 gpa)
{
	return le16_get(d->mem.base + gpa);
}

void vd_desc(struct vdrv *d, u64 table, u16 i, u64 addr, u32 len, u16 flags,
	     u16 next)
{
	u8 *p = d->mem.base + table + (u64)i * VIRTQ_DESC_SIZE;

	le_put(p + VIRTQ_DESC_ADDR, addr, sizeof(addr));
	le_put(p + VIRTQ_DESC_LEN, len, sizeof(len));
	le_put(p + VIRTQ_DESC_FLAGS, flags, sizeof(flags));
	le_put(p + VIRTQ_DESC_NEXT, next, sizeof(next));
}

void vd_avail(struct vdrv *d, u16 head)
{
	u16 slot = d->avail_idx & (d->qsize - 1);

	vd_put16(d, VD_AVAIL + VIRTQ_AVAIL_RING + VIRTQ_AVAIL_ENTRY * slot, head);
	vd_put16(d, VD_AVAIL + VIRTQ_AVAIL_IDX, ++d->avail_idx);
}

void vd_kick(struct vdrv *d, u16 q)
{
	vd_common_wr(d, VIRTIO_PCI_COMMON_Q_SELECT, q);
	vd_wr(d, d->notify + vd_common_rd(d, VIRTIO_PCI_COMMON_Q_NOFF) *
	      d->notify_mult, 2, q);
}

u16 vd_used_idx(struct vdrv *d)
{
	return vd_get16(d, VD_USED + VIRTQ_USED_IDX);
}

void vd_used_elem(struct vdrv *d, u16 i, u32 *id, u32 *len)
{
	const u8 *e = d->mem.base + VD_USED + VIRTQ_USED_RING +
		      VIRTQ_USED_ENTRY * (i & (d->qsize - 1));

	*id = le32_get(e);
	*len = le32_get(e + sizeof(u32));
}

u16 vd_blk_request(struct vdrv *d, u16 first, u32 type, u64 sector,
		   u64 data, u32 len, bool data_writable)
{
	u8 *hdr = d->mem.base + VD_HDR + VIRTIO_BLK_HDR_SIZE * first;
	u16 n = first;

	memset(hdr, 0, VIRTIO_BLK_HDR_SIZE);
	le_put(hdr + VIRTIO_BLK_HDR_TYPE, type, sizeof(type));
	le_put(hdr + VIRTIO_BLK_HDR_SECTOR, sector, sizeof(sector));
	d->mem.base[VD_STATUS + first] = 0xff;
	vd_desc(d, VD_DESC, n, VD_HDR + VIRTIO_BLK_HDR_SIZE * first,
		VIRTIO_BLK_HDR_SIZE, VIRTQ_DESC_F_NEXT, (u16)(n + 1));
	n++;
	if (len) {
		vd_desc(d, VD_DESC, n, data, len, VIRTQ_DESC_F_NEXT |
			(data_writable ? VIRTQ_DESC_F_WRITE : 0), (u16)(n + 1));
		n++;
	}
	vd_desc(d, VD_DESC, n, VD_STATUS + first, 1, VIRTQ_DESC_F_WRITE, 0);
	vd_avail(d, first);
	return first;
}

u8 vd_blk_status(struct vdrv *d, u16 first)
{
	return d->mem.base[VD_STATUS + first];
}
