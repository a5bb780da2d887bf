/*
 * virtio 1.x devices on PCI (virtio 1.2 §4.1), the modern interface only:
 * no legacy I/O BAR, VIRTIO_F_VERSION_1 required.
 *
 * Two halves meet here. The transport (virtio_pci.c) is a struct pci_dev
 * for the PCI bus plus one 64-bit memory BAR, and does everything common
 * to virtio devices: the capabilities, status and feature negotiation
 * (§2.1, §2.2, §3.1), queue set-up, notifications, the ISR and MSI-X. A
 * device (virtio_blk.c) is a struct virtio_device_ops: its identity, its
 * configuration space and what to do when a queue is notified. Neither
 * touches hardware: guest RAM is a struct gmem, interrupts leave through
 * struct virtio_pci_ops, so both run in host unit tests and fuzzers.
 *
 * The BAR (VIRTIO_PCI_BAR, VIRTIO_PCI_BAR_SIZE bytes):
 *
 *   0x0000  common configuration      struct virtio_pci_common_cfg (§4.1.4.3)
 *   0x1000  ISR status, 1 byte        read clears it (§4.1.4.5)
 *   0x2000  device configuration      the device's config_read/write (§4.1.4.6)
 *   0x3000  notifications             queue n at n * VIRTIO_PCI_NOTIFY_MULT (§4.1.4.4)
 *   0x3800  MSI-X table               one entry per queue, plus config
 *   0x3c00  MSI-X pending bits
 */
#ifndef UHV_VMM_VIRTIO_H
#define UHV_VMM_VIRTIO_H

#include "vmm/gmem.h"
#include "vmm/dev/pci.h"
#include "vmm/virtio/virtqueue.h"

/* Device status bits (§2.1). */
#define VIRTIO_STATUS_ACKNOWLEDGE  1
#define VIRTIO_STATUS_DRIVER       2
#define VIRTIO_STATUS_DRIVER_OK    4
#define VIRTIO_STATUS_FEATURES_OK  8
#define VIRTIO_STATUS_NEEDS_RESET  64
#define VIRTIO_STATUS_FAILED       128

/* Feature bits 24..49 belong to the transport or are reserved (§2.2,
   §6); of those this transport implements these three. */
#define VIRTIO_F_VERSION_1         32
#define VIRTIO_F_RESERVED_MASK     (BIT(50) - BIT(24))
#define VIRTIO_TRANSPORT_FEATURES  (BIT(VIRTIO_F_VERSION_1) | \
				    BIT(VIRTIO_F_RING_EVENT_IDX) | \
				    BIT(VIRTIO_F_RING_INDIRECT_DESC))

/* PCI identity (§4.1.2): a non-transitional device. */
#define VIRTIO_PCI_VENDOR          0x1af4
#define VIRTIO_PCI_DEVICE_BASE     0x1040   /* + the virtio device ID */
#define VIRTIO_PCI_DEVICE_LAST     0x107f
#define VIRTIO_PCI_REVISION        1

/* Virtio structure capabilities (§4.1.4): struct virtio_pci_cap. */
#define VIRTIO_PCI_CAP_COMMON_CFG  1
#define VIRTIO_PCI_CAP_NOTIFY_CFG  2
#define VIRTIO_PCI_CAP_ISR_CFG     3
#define VIRTIO_PCI_CAP_DEVICE_CFG  4
#define VIRTIO_PCI_CAP_PCI_CFG     5
#define VIRTIO_PCI_CAP_LEN_OFF     2        /* field offsets in the cap */
#define VIRTIO_PCI_CAP_TYPE_OFF    3
#define VIRTIO_PCI_CAP_BAR_OFF     4
#define VIRTIO_PCI_CAP_OFFSET_OFF  8
#define VIRTIO_PCI_CAP_LENGTH_OFF  12
#define VIRTIO_PCI_CAP_MULT_OFF    16       /* notify_off_multiplier */
#define VIRTIO_PCI_CAP_DATA_OFF    16       /* pci_cfg_data */
#define VIRTIO_PCI_CAP_SIZE        16
#define VIRTIO_PCI_CAP_EXTRA_SIZE  20       /* notify and pci_cfg caps */

/* The BAR and its layout (the picture above). */
#define VIRTIO_PCI_BAR             4
#define VIRTIO_PCI_BAR_SIZE        KiB(16)
#define VIRTIO_PCI_COMMON_OFF      0x0000
#define VIRTIO_PCI_ISR_OFF         0x1000
#define VIRTIO_PCI_DEVICE_OFF      0x2000
#define VIRTIO_PCI_NOTIFY_OFF      0x3000
#define VIRTIO_PCI_MSIX_TABLE_OFF  0x3800
#define VIRTIO_PCI_MSIX_PBA_OFF    0x3c00
#define VIRTIO_PCI_ISR_LEN         1
#define VIRTIO_PCI_DEVICE_LEN      0x1000   /* the most config a device has */
#define VIRTIO_PCI_NOTIFY_MULT     4        /* an even power of 2 (§4.1.4.4.1) */

/* struct virtio_pci_common_cfg (§4.1.4.3), offsets in the BAR region. */
#define VIRTIO_PCI_COMMON_DFSELECT 0x00
#define VIRTIO_PCI_COMMON_DF       0x04
#define VIRTIO_PCI_COMMON_GFSELECT 0x08
#define VIRTIO_PCI_COMMON_GF       0x0c
#define VIRTIO_PCI_COMMON_MSIX     0x10
#define VIRTIO_PCI_COMMON_NUMQ     0x12
#define VIRTIO_PCI_COMMON_STATUS   0x14
#define VIRTIO_PCI_COMMON_CFGGEN   0x15
#define VIRTIO_PCI_COMMON_Q_SELECT 0x16
#define VIRTIO_PCI_COMMON_Q_SIZE   0x18
#define VIRTIO_PCI_COMMON_Q_MSIX   0x1a
#define VIRTIO_PCI_COMMON_Q_ENABLE 0x1c
#define VIRTIO_PCI_COMMON_Q_NOFF   0x1e
#define VIRTIO_PCI_COMMON_Q_DESC   0x20
#define VIRTIO_PCI_COMMON_Q_DRIVER 0x28
#define VIRTIO_PCI_COMMON_Q_DEVICE 0x30
#define VIRTIO_PCI_COMMON_LEN      0x38     /* the virtio 1.0 layout */

#define VIRTIO_MSI_NO_VECTOR       0xffff   /* §4.1.5.1.2 */
#define VIRTIO_ISR_QUEUE           1        /* §4.1.4.5 */
#define VIRTIO_ISR_CONFIG          2

#define VIRTIO_PCI_MAX_QUEUES      8
#define VIRTIO_PCI_MAX_VECTORS     (VIRTIO_PCI_MAX_QUEUES + 1)
#define VIRTIO_PCI_LOG_LIMIT       32       /* messages per device, then quiet */

/* A virtio device, as the transport sees it. */
struct virtio_device_ops {
	const char *name;          /* "virtio-blk": PCI name, message prefix */
	u32 device_id;             /* §5; the PCI device ID is 0x1040 + this */
	u32 pci_class;             /* base << 16 | sub-class << 8 | prog-if */
	/* Offered features: device bits, plus transport bits from
	   VIRTIO_TRANSPORT_FEATURES, of which VIRTIO_F_VERSION_1 is required. */
	u64 features;
	u16 num_queues;            /* 1 .. VIRTIO_PCI_MAX_QUEUES */
	u16 queue_max;             /* a power of two, <= VIRTQ_MAX_SIZE */
	u32 config_size;           /* device configuration bytes, <= VIRTIO_PCI_DEVICE_LEN */
	/* Reads size (1, 2, 4 or 8) bytes at off of the device
	   configuration, off + size <= config_size, as a little-endian
	   value. Required if config_size is not 0. */
	u64 (*config_read)(void *dev, u32 off, unsigned size);
	/* The driver wrote there. NULL if the configuration is read-only. */
	void (*config_write)(void *dev, u32 off, unsigned size, u64 val);
	/* The device was reset (§2.4): drop any request state. May be NULL. */
	void (*reset)(void *dev);
	/*
	 * The driver notified queue `index` (enabled, DRIVER_OK set): consume
	 * the chains it made available through vq, pushing each back. Returns
	 * 0, or a negative VIRTQ_ERR_* with vq->why set, which makes the
	 * transport log it and set DEVICE_NEEDS_RESET. The transport sends
	 * the used buffer notification. Required.
	 */
	int (*queue_notify)(void *dev, unsigned index, struct virtq *vq);
	/*
	 * Queues (bit i: queue i) whose notifications may wait, if the VM
	 * offers virtio_pci_ops.defer: a notification then only marks the
	 * queue, notifications stay off, and queue_notify runs at
	 * virtio_pci_run_deferred(). Buffers the driver adds meanwhile need
	 * no notification of their own (§2.7.10), so a burst costs the guest
	 * one VM exit, not one per buffer. Only for queues no driver spins
	 * on: a NIC's transmitq, not a control queue (Linux polls that one).
	 */
	u32 deferred_queues;
};

/* What the transport needs from the VM it sits in. */
struct virtio_pci_ops {
	/* An MSI-X message (PCI 3.0 §6.8): write data to address. The VM
	   turns it into a local APIC interrupt. NULL drops it. */
	void (*msix)(void *ctx, u64 address, u32 data);
	/* INTA# is now `level` (asserted: true); it only changes while MSI-X
	   is off. NULL drops it. */
	void (*intx)(void *ctx, bool level);
	/* The guest moved the BAR or turned memory decoding on or off: read
	   virtio_pci_bar() and move the MMIO mapping. May be NULL. */
	void (*bar_changed)(void *ctx);
	/* One line for uhv's console, no newline: why the device needs a
	   reset, or a driver mistake. May be NULL. */
	void (*log)(void *ctx, const char *msg);
	/* A queue notification was deferred (deferred_queues): call
	   virtio_pci_run_deferred() soon; uhv does at the VM's next exit,
	   which the preemption timer bounds. NULL: no queue waits. */
	void (*defer)(void *ctx);
};

struct virtio_pci_queue {
	struct virtq vq;               /* in service while enabled */
	u64 desc, driver, device;      /* as the driver wrote them */
	u16 size, msix_vector;
	bool enabled;
	bool deferred;                 /* notified, waiting for run_deferred */
};

struct virtio_pci {
	struct pci_dev pci;            /* for pci_add() */
	const struct virtio_device_ops *dev;
	void *dev_ctx;
	const struct virtio_pci_ops *ops;
	void *ctx;
	const struct gmem *mem;
	u32 dfselect, gfselect;        /* device/driver_feature_select */
	u64 driver_features;
	u64 last_features;             /* the last set FEATURES_OK granted:
					  kept across resets, for summaries */
	u16 queue_select, config_vector;
	u8 status, generation, isr;
	bool config_dirty;             /* config changed since the driver read it */
	bool intx_level;               /* INTA# as last driven */
	u8 msix_cap, pcicfg_cap;       /* where those capabilities are */
	u16 nr_vectors;                /* MSI-X table entries */
	u32 msix_pending;              /* the Pending Bit Array */
	u64 bar_base;                  /* as last reported by bar_changed */
	bool bar_on;
	struct virtio_pci_queue q[VIRTIO_PCI_MAX_QUEUES];
	u8 msix_table[VIRTIO_PCI_MAX_VECTORS * PCI_MSIX_ENTRY_SIZE];
	unsigned logged;               /* messages so far (VIRTIO_PCI_LOG_LIMIT) */
	u64 notifies, interrupts, bad_accesses;
	u64 deferred_runs;             /* deferred queues run (bursts) */
};

/*
 * Makes vp the PCI function of device dev (its ops and their context):
 * configuration space with the virtio and MSI-X capabilities, the BAR
 * unassigned and decoding off, the device reset. ops and ctx are the
 * VM's side; mem is the guest RAM the queues live in (it must outlive
 * vp). Returns 0, or -1 if dev breaks a rule of struct virtio_device_ops.
 * Then pci_add(bus, slot, &vp->pci) puts it on the bus.
 */
int virtio_pci_init(struct virtio_pci *vp, const struct virtio_device_ops *dev,
		    void *dev_ctx, const struct virtio_pci_ops *ops, void *ctx,
		    const struct gmem *mem);

/*
 * Where the guest put the BAR: *base is the guest-physical address of
 * its VIRTIO_PCI_BAR_SIZE bytes; returns whether memory decoding
 * (COMMAND.MEM) is on. Only while it is should the VM route
 * [base, base + VIRTIO_PCI_BAR_SIZE) to virtio_pci_mmio_read/write.
 */
bool virtio_pci_bar(const struct virtio_pci *vp, u64 *base);

/* Assigns the BAR as firmware would, for guests booted without any:
   base (aligned to VIRTIO_PCI_BAR_SIZE) and memory decoding on or off. */
void virtio_pci_set_bar(struct virtio_pci *vp, u64 base, bool decode);

/* struct bus_device callbacks for the BAR: dev is the struct virtio_pci,
   off relative to the BAR's base, size 1, 2, 4 or 8. While decoding is
   off, reads return all ones and writes are dropped. */
u64 virtio_pci_mmio_read(void *dev, u64 off, unsigned size);
void virtio_pci_mmio_write(void *dev, u64 off, unsigned size, u64 val);

/*
 * Runs the queues whose notifications were deferred (deferred_queues),
 * as a notification would have: the device consumes what the driver
 * made available since, then notifications are back on (§2.7.10) and
 * the driver gets its used buffer notification if it asked for one.
 */
void virtio_pci_run_deferred(struct virtio_pci *vp);

/* The device changed its configuration (e.g. the disk grew): bump the
   generation when the driver next reads it, and tell the driver. */
void virtio_pci_config_changed(struct virtio_pci *vp);

/* ---- between virtio_pci.c and virtio_pci_cfg.c; not for devices or VMs ---- */

/* Fills in configuration space: header, capabilities, MSI-X (masked). */
void virtio_pci_build_config(struct virtio_pci *vp);
/* A used buffer or configuration change notification (§4.1.5.3-4):
   MSI-X vector `vector` if MSI-X is on, else isr_bit in the ISR and INTx. */
void virtio_pci_raise(struct virtio_pci *vp, u16 vector, u8 isr_bit);
/* Drives INTA# and the STATUS bit from the ISR (after it changed). */
void virtio_pci_update_intx(struct virtio_pci *vp);
/* BAR accesses to the MSI-X table or PBA; false if off is not there. */
bool virtio_pci_msix_read(struct virtio_pci *vp, u64 off, unsigned size,
			  u64 *val);
bool virtio_pci_msix_write(struct virtio_pci *vp, u64 off, unsigned size,
			   u64 val);
/* A BAR access whether or not decoding is on (the PCI_CFG window). */
u64 virtio_pci_bar_read(struct virtio_pci *vp, u64 off, unsigned size);
void virtio_pci_bar_write(struct virtio_pci *vp, u64 off, unsigned size,
			  u64 val);

/* For devices: size bytes of a little-endian config space at off (the
   transport has checked off + size against the device's config size). */
static inline u64 virtio_config_bytes(const u8 *config, u32 off, unsigned size)
{
	return le_get(config + off, size);
}

/* True if [off, off + size) lies within [start, start + len). */
static inline bool virtio_inside(u64 off, u64 size, u64 start, u64 len)
{
	return off >= start && size <= len && off - start <= len - size;
}

#endif
