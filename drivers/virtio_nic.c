/*
 * uhv as a virtio driver: a polled driver for a virtio-net device over
 * virtio-pci's modern interface (virtio 1.2: §4.1.4 the PCI capabilities,
 * §3.1.1 device initialization, §2.7 split virtqueues, §5.1 the network
 * device), for when uhv itself runs under QEMU/KVM or in a cloud VM.
 * (vmm/virtio/ is the other side: the devices uhv gives its guests.)
 *
 * Two queues of RING_SIZE descriptors, receiveq1 and transmitq1, each
 * descriptor fixed to its own 2 KiB buffer: the 12-byte virtio_net_hdr
 * (§5.1.6, with VERSION_1) and then the frame. Every receive buffer is
 * offered at start and offered again as soon as its frame is copied out.
 * No interrupts: MSI-X vectors stay unassigned and the used rings are
 * polled; a notification goes to the device after each change.
 *
 * Memory per NIC, from the caller's page allocator (physical = virtual):
 * a page for each queue's rings and 16 pages of buffers for each.
 */
#include "drivers/mmio.h"
#include "drivers/netdev.h"
#include "drivers/pci.h"
#include "lib/string.h"

#define PCI_VENDOR_VIRTIO   0x1af4u
#define PCI_DEVICE_NET_TRANS 0x1000u    /* transitional virtio-net */
#define PCI_DEVICE_NET      0x1041u     /* 0x1040 + device ID 1 */
#define PCI_DEVICE_SHIFT    16
#define PCI_CLASS_ETHERNET  0x020000u
#define VNIC_MAX            NETDEV_MAX

/* virtio_pci_cap (§4.1.4): type, BAR, offset and length of a structure. */
#define CAP_CFG_TYPE        3
#define CAP_BAR             4
#define CAP_OFFSET          8
#define CAP_LENGTH          12
#define CAP_NOTIFY_MULT     16          /* notify_off_multiplier */
#define CFG_COMMON          1
#define CFG_NOTIFY          2
#define CFG_DEVICE          4

/* virtio_pci_common_cfg (§4.1.4.3): byte offsets. */
#define COMMON_DFSELECT     0x00
#define COMMON_DF           0x04
#define COMMON_GFSELECT     0x08
#define COMMON_GF           0x0c
#define COMMON_STATUS       0x14        /* 8 bits */
#define COMMON_Q_SELECT     0x16        /* 16 bits */
#define COMMON_Q_SIZE       0x18
#define COMMON_Q_ENABLE     0x1c
#define COMMON_Q_NOFF       0x1e
#define COMMON_Q_DESCLO     0x20
#define COMMON_Q_DESCHI     0x24
#define COMMON_Q_AVAILLO    0x28
#define COMMON_Q_AVAILHI    0x2c
#define COMMON_Q_USEDLO     0x30
#define COMMON_Q_USEDHI     0x34

/* Device status bits (§2.1). */
#define STATUS_ACKNOWLEDGE  1u
#define STATUS_DRIVER       2u
#define STATUS_DRIVER_OK    4u
#define STATUS_FEATURES_OK  8u
#define STATUS_FAILED       128u
#define STATUS_MASK         0xffu

/* Feature bits: the device's MAC and link status (§5.1.3), version 1. */
#define F_MAC               5
#define F_STATUS            16
#define F_VERSION_1         32
#define FEATURE_WORD_BITS   32
#define NET_CFG_MAC         0           /* §5.1.4: mac, then status */
#define NET_CFG_STATUS      6
#define NET_S_LINK_UP       1u
#define NET_HDR_SIZE        12          /* §5.1.6 with VERSION_1 */

/* Split virtqueue layout (§2.7): 16-byte descriptors, then the driver
   (avail) ring, then the device (used) ring, in one page. */
#define RECEIVEQ            0
#define TRANSMITQ           1
#define RING_SIZE           32
#define DESC_SIZE           16
#define DESC_ADDR           0
#define DESC_LEN            8
#define DESC_FLAGS          12
#define DESC_F_WRITE        2u          /* device-writable */
#define AVAIL_OFF           512         /* RING_SIZE * DESC_SIZE */
#define AVAIL_IDX           2
#define AVAIL_RING          4
#define USED_OFF            1024        /* 4-byte aligned, after avail */
#define USED_IDX            2
#define USED_RING           4
#define USED_ELEM           8           /* id (32 bits), len (32 bits) */
#define BUF_SIZE            2048
#define BUFS_PER_PAGE       (PAGE_SIZE / BUF_SIZE)
#define RESET_MS            100
_Static_assert(AVAIL_OFF >= RING_SIZE * DESC_SIZE &&
	       USED_OFF >= AVAIL_OFF + AVAIL_RING + 2 * RING_SIZE + 2 &&
	       USED_OFF + USED_RING + USED_ELEM * RING_SIZE + 2 <= PAGE_SIZE,
	       "a queue's rings fit one page");

struct vq {
	u8 *page;                        /* descriptors, avail, used */
	u8 *buf[RING_SIZE];
	u16 avail_idx, used_seen;        /* ours: next avail, used taken */
	u32 notify;                      /* offset in the notify structure */
};

struct vnic {
	volatile u8 *common, *notify, *device;
	u32 notify_mult;
	bool has_status;
	struct vq rx, tx;
};

static struct vnic vnics[VNIC_MAX];
static int vnic_count;

/* Little-endian fields of the rings and structures (x86: plain). */
static u16 get16(const volatile u8 *p)
{
	return *(const volatile u16 *)p;
}

static void put16(volatile u8 *p, u16 v)
{
	*(volatile u16 *)p = v;
}

static void put32(volatile u8 *p, u32 v)
{
	*(volatile u32 *)p = v;
}

static void put64(volatile u8 *p, u64 v)
{
	*(volatile u64 *)p = v;
}

static u8 *vq_desc(struct vq *q, u32 i)
{
	return q->page + i * DESC_SIZE;
}

/* Offers descriptor id to the device (§2.7.13): into the avail ring,
   then the index, then a notification (§4.1.4.4). */
static void vq_offer(struct vnic *v, struct vq *q, u16 id, u16 qindex)
{
	put16(q->page + AVAIL_OFF + AVAIL_RING + 2 * (q->avail_idx % RING_SIZE), id);
	__asm__ volatile("" ::: "memory");
	q->avail_idx++;
	put16(q->page + AVAIL_OFF + AVAIL_IDX, q->avail_idx);
	__asm__ volatile("" ::: "memory");
	*(volatile u16 *)(v->notify + q->notify) = qindex;
}

/* The next used element's descriptor id and length; false if none. */
static bool vq_used(struct vq *q, u32 *id, u32 *len)
{
	const u8 *e;

	if (get16(q->page + USED_OFF + USED_IDX) == q->used_seen)
		return false;
	__asm__ volatile("" ::: "memory");   /* the index before the entry */
	e = q->page + USED_OFF + USED_RING + USED_ELEM * (q->used_seen % RING_SIZE);
	*id = *(const volatile u32 *)e;
	*len = *(const volatile u32 *)(e + 4);
	q->used_seen++;
	return *id < RING_SIZE;
}

/* The receive filter is set through the control queue (§5.1.6.5.1,
   VIRTIO_NET_F_CTRL_RX), which uhv does not take: the device keeps its
   reset state, promiscuous in QEMU's, and hands on every frame. */
static void vnic_promisc(struct netdev *d)
{
	(void)d;
}

static bool vnic_link_up(struct netdev *d)
{
	struct vnic *v = d->priv;

	return !v->has_status || (get16(v->device + NET_CFG_STATUS) & NET_S_LINK_UP);
}

/* Transmit: descriptor i carries slot i; one is free when the device
   has used as many as were offered minus RING_SIZE. */
static bool vnic_send(struct netdev *d, const void *frame, u32 len)
{
	struct vnic *v = d->priv;
	struct vq *q = &v->tx;
	u32 id, used_len;
	u16 slot = q->avail_idx % RING_SIZE;

	if (len < NETDEV_FRAME_MIN || len > NETDEV_FRAME_MAX)
		return false;
	while (vq_used(q, &id, &used_len))
		;                            /* sent: its slot is free again */
	if ((u16)(q->avail_idx - q->used_seen) >= RING_SIZE) {
		d->stats.tx_ring_full++;
		return false;
	}
	memset(q->buf[slot], 0, NET_HDR_SIZE);   /* no offloads asked */
	memcpy(q->buf[slot] + NET_HDR_SIZE, frame, len);
	put32(vq_desc(q, slot) + DESC_LEN, NET_HDR_SIZE + len);
	vq_offer(v, q, slot, TRANSMITQ);
	d->stats.tx_frames++;
	d->stats.tx_bytes += len;
	return true;
}

static u32 vnic_recv(struct netdev *d, void *buf, u32 size)
{
	struct vnic *v = d->priv;
	u32 id, len;

	if (!vq_used(&v->rx, &id, &len))
		return 0;
	if (len < NET_HDR_SIZE + NETDEV_FRAME_MIN || len > BUF_SIZE) {
		d->stats.rx_errors++;
		len = 0;
	} else if ((len -= NET_HDR_SIZE) > size) {
		d->stats.rx_too_long++;
		len = 0;
	} else {
		memcpy(buf, v->rx.buf[id] + NET_HDR_SIZE, len);
		d->stats.rx_frames++;
		d->stats.rx_bytes += len;
	}
	vq_offer(v, &v->rx, (u16)id, RECEIVEQ);
	return len;
}

/* ---- bring-up (§3.1.1) ---- */

/* The structure a vendor capability at cap points to, or NULL. */
static volatile u8 *cap_struct(const struct pci_fn *f, u32 cap)
{
	u64 bar = pci_bar_mem(f, pci_read8(f, cap + CAP_BAR));

	return bar ? (volatile u8 *)(uintptr_t)(bar + pci_read32(f, cap + CAP_OFFSET))
		   : NULL;
}

/* Finds the common, notify and device structures (§4.1.4.1: the first
   capability of each type is the one to use). */
static bool find_structures(const struct pci_fn *f, struct vnic *v)
{
	for (u32 c = pci_next_cap(f, 0, PCI_CAP_VENDOR); c;
	     c = pci_next_cap(f, c, PCI_CAP_VENDOR)) {
		u8 type = pci_read8(f, c + CAP_CFG_TYPE);

		if (type == CFG_COMMON && !v->common)
			v->common = cap_struct(f, c);
		if (type == CFG_DEVICE && !v->device)
			v->device = cap_struct(f, c);
		if (type == CFG_NOTIFY && !v->notify) {
			v->notify = cap_struct(f, c);
			v->notify_mult = pci_read32(f, c + CAP_NOTIFY_MULT);
		}
	}
	return v->common && v->notify && v->device;
}

static u32 device_features(struct vnic *v, u32 word)
{
	mmio_write32(v->common, COMMON_DFSELECT, word);
	return mmio_read32(v->common, COMMON_DF);
}

static void set_status(struct vnic *v, u8 bits)
{
	*(volatile u8 *)(v->common + COMMON_STATUS) = bits;
}

/* Reset, then ACKNOWLEDGE, DRIVER, and the features uhv takes: VERSION_1
   (required: no legacy interface), MAC and STATUS where offered. */
static bool negotiate(struct vnic *v)
{
	u32 lo, hi;

	set_status(v, 0);
	/* the reset is done when device_status reads 0 (§4.1.4.3.2): it
	   is the low byte of a dword (config_generation is the next) */
	if (!mmio_wait32(v->common, COMMON_STATUS, STATUS_MASK, 0, RESET_MS))
		return false;
	set_status(v, STATUS_ACKNOWLEDGE | STATUS_DRIVER);
	lo = device_features(v, 0) & (BIT(F_MAC) | BIT(F_STATUS));
	hi = device_features(v, 1) & BIT(F_VERSION_1 - FEATURE_WORD_BITS);
	if (!hi || !(lo & BIT(F_MAC)))
		return false;
	v->has_status = lo & BIT(F_STATUS);
	mmio_write32(v->common, COMMON_GFSELECT, 0);
	mmio_write32(v->common, COMMON_GF, lo);
	mmio_write32(v->common, COMMON_GFSELECT, 1);
	mmio_write32(v->common, COMMON_GF, hi);
	set_status(v, STATUS_ACKNOWLEDGE | STATUS_DRIVER | STATUS_FEATURES_OK);
	return *(volatile u8 *)(v->common + COMMON_STATUS) & STATUS_FEATURES_OK;
}

/* Queue qindex with RING_SIZE descriptors, each with its own buffer
   (device-writable for receiveq), told to the device and enabled. */
static bool queue_init(struct vnic *v, struct vq *q, u16 qindex,
		       u64 (*alloc_page)(void))
{
	volatile u8 *c = v->common;
	u64 page = alloc_page(), a;

	*(volatile u16 *)(c + COMMON_Q_SELECT) = qindex;
	if (!page || get16(c + COMMON_Q_SIZE) < RING_SIZE)
		return false;
	q->page = (u8 *)(uintptr_t)page;
	memset(q->page, 0, PAGE_SIZE);
	for (u32 i = 0; i < RING_SIZE; i += BUFS_PER_PAGE) {
		if (!(a = alloc_page()))
			return false;
		for (u32 j = 0; j < BUFS_PER_PAGE; j++) {
			q->buf[i + j] = (u8 *)(uintptr_t)(a + j * BUF_SIZE);
			put64(vq_desc(q, i + j) + DESC_ADDR, a + j * BUF_SIZE);
			put32(vq_desc(q, i + j) + DESC_LEN, BUF_SIZE);
			put16(vq_desc(q, i + j) + DESC_FLAGS,
			      qindex == RECEIVEQ ? DESC_F_WRITE : 0);
		}
	}
	put16(c + COMMON_Q_SIZE, RING_SIZE);
	q->notify = get16(c + COMMON_Q_NOFF) * v->notify_mult;
	mmio_write32(c, COMMON_Q_DESCLO, (u32)page);
	mmio_write32(c, COMMON_Q_DESCHI, (u32)(page >> 32));
	mmio_write32(c, COMMON_Q_AVAILLO, (u32)(page + AVAIL_OFF));
	mmio_write32(c, COMMON_Q_AVAILHI, (u32)((page + AVAIL_OFF) >> 32));
	mmio_write32(c, COMMON_Q_USEDLO, (u32)(page + USED_OFF));
	mmio_write32(c, COMMON_Q_USEDHI, (u32)((page + USED_OFF) >> 32));
	put16(c + COMMON_Q_ENABLE, 1);
	return true;
}

/* What vnic_probe's scan fills. */
struct vnic_scan {
	struct netdev *devs;
	int max, found;
	u64 (*alloc_page)(void);
};

static bool is_virtio_net(u32 id)
{
	return id == (PCI_VENDOR_VIRTIO | PCI_DEVICE_NET << PCI_DEVICE_SHIFT) ||
	       id == (PCI_VENDOR_VIRTIO | PCI_DEVICE_NET_TRANS << PCI_DEVICE_SHIFT);
}

/* pci_find_class's callback: one virtio-net function; true to go on. */
static bool probe_vnic(const struct pci_fn *f, void *ctx)
{
	struct vnic_scan *sc = ctx;
	struct vnic *v = &vnics[vnic_count];
	struct netdev *d = &sc->devs[sc->found];

	if (!is_virtio_net(pci_read32(f, PCI_VENDOR_ID)) || vnic_count >= VNIC_MAX)
		return true;
	*v = (struct vnic){ 0 };
	pci_enable_dma(f);
	if (!find_structures(f, v) || !negotiate(v) ||
	    !queue_init(v, &v->rx, RECEIVEQ, sc->alloc_page) ||
	    !queue_init(v, &v->tx, TRANSMITQ, sc->alloc_page)) {
		if (v->common)
			set_status(v, STATUS_FAILED);
		return true;
	}
	memset(d, 0, sizeof(*d));
	for (int i = 0; i < NETDEV_ALEN; i++)
		d->mac[i] = v->device[NET_CFG_MAC + i];
	set_status(v, STATUS_ACKNOWLEDGE | STATUS_DRIVER | STATUS_FEATURES_OK |
		   STATUS_DRIVER_OK);
	for (u16 i = 0; i < RING_SIZE; i++)
		vq_offer(v, &v->rx, i, RECEIVEQ);
	memcpy(d->name, "virtio-net.", 11);
	d->name[11] = (char)('0' + vnic_count);
	d->model = "virtio 1.x";
	d->link_up = vnic_link_up;
	d->send = vnic_send;
	d->recv = vnic_recv;
	d->promisc = vnic_promisc;
	d->priv = v;
	vnic_count++;
	return ++sc->found < sc->max;
}

int virtio_nic_probe(struct netdev *devs, int max, u64 (*alloc_page)(void))
{
	struct vnic_scan sc = { devs, max, 0, alloc_page };

	vnic_count = 0;
	if (max > 0)
		pci_find_class(PCI_CLASS_ETHERNET, probe_vnic, &sc);
	return sc.found;
}
