/*
 * A small virtio driver for host tests and fuzzers: it drives a
 * struct virtio_pci the way a guest's driver would, through PCI
 * configuration space (capability walk, BAR sizing) and the BAR's
 * registers (negotiation, queue set-up, notifications), and lays out
 * split rings in a fake guest RAM. No Check here: functions return what
 * they saw and the tests assert on it.
 */
#ifndef UHV_TESTS_VIRTIO_DRIVER_H
#define UHV_TESTS_VIRTIO_DRIVER_H

#include "vmm/virtio/virtio.h"

/* A fake guest RAM layout that the tests share. */
#define VD_RAM_SIZE     MiB(1)
#define VD_DESC         0x1000ULL
#define VD_AVAIL        0x2000ULL
#define VD_USED         0x3000ULL
#define VD_INDIRECT     0x4000ULL      /* indirect tables */
#define VD_HDR          0x10000ULL     /* request headers, 16 bytes each */
#define VD_STATUS       0x11000ULL     /* status bytes, one each */
#define VD_DATA         0x20000ULL     /* data buffers */
#define VD_SLOT         3              /* PCI slot of the device */
#define VD_BAR_BASE     0xfebf0000ULL  /* where the driver puts the BAR */

struct vdrv {
	struct pci_bus bus;
	struct virtio_pci *vp;
	struct gmem mem;
	u32 common, notify, isr, device; /* BAR offsets from the capabilities */
	u32 notify_mult, device_len;
	u8 msix_cap;
	u64 bar_size;
	u16 qsize;                       /* queue 0 as set up */
	u16 avail_idx, used_seen;
};

/* Puts vp on a fresh bus at VD_SLOT and probes it as a driver would:
   IDs, capability list, BAR sizing and placement, memory decoding on.
   0, or -1 with a reason in *why if something is not where it must be. */
int vd_probe(struct vdrv *d, struct virtio_pci *vp, struct gmem mem,
	     const char **why);

u32 vd_cfg_read(struct vdrv *d, unsigned off, unsigned size);
void vd_cfg_write(struct vdrv *d, unsigned off, unsigned size, u32 val);
/* BAR accesses at a BAR offset, as the bus delivers them. */
u64 vd_rd(struct vdrv *d, u64 off, unsigned size);
void vd_wr(struct vdrv *d, u64 off, unsigned size, u64 val);
/* Common configuration fields, with their own widths. */
u64 vd_common_rd(struct vdrv *d, unsigned field);
void vd_common_wr(struct vdrv *d, unsigned field, u64 val);

/* §3.1.1 steps 1-6: reset, ACKNOWLEDGE, DRIVER, features (want & offered),
   FEATURES_OK; returns the status read back afterwards. *offered gets
   the device's features if not NULL. */
u8 vd_negotiate(struct vdrv *d, u64 want, u64 *offered);
/* Sets up queue q at VD_DESC/VD_AVAIL/VD_USED with size (0: keep the
   device's), zeroing the rings; then enables it. */
void vd_setup_queue(struct vdrv *d, u16 q, u16 size);
/* Another queue q of size entries whose rings the test keeps itself, at
   desc, avail and used (zeroed through used + VD_QUEUE_AREA_SLACK). */
#define VD_QUEUE_AREA_SLACK KiB(4)
void vd_setup_queue_at(struct vdrv *d, u16 q, u16 size, u64 desc, u64 avail,
		       u64 used);
/* vd_negotiate + vd_setup_queue(0, size) + DRIVER_OK; returns status. */
u8 vd_init(struct vdrv *d, u64 want, u16 size);

/* Ring helpers on guest RAM (§2.7.5, §2.7.6, §2.7.8). */
void vd_desc(struct vdrv *d, u64 table, u16 i, u64 addr, u32 len, u16 flags,
	     u16 next);
/* Makes head available on queue 0 (ring entry, then idx). */
void vd_avail(struct vdrv *d, u16 head);
/* Writes queue index q to its notify address. */
void vd_kick(struct vdrv *d, u16 q);
u16 vd_used_idx(struct vdrv *d);
void vd_used_elem(struct vdrv *d, u16 i, u32 *id, u32 *len);
void vd_put16(struct vdrv *d, u64 gpa, u16 v);
u16 vd_get16(struct vdrv *d, u64 gpa);

/* A block request at descriptors first.. (header, data if len, status),
   made available; returns its head. The header lives at VD_HDR +
   16 * first, the status byte at VD_STATUS + first (preset to 0xff). */
u16 vd_blk_request(struct vdrv *d, u16 first, u32 type, u64 sector,
		   u64 data, u32 len, bool data_writable);
u8 vd_blk_status(struct vdrv *d, u16 first);

#endif
