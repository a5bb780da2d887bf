/* virtio.h - a minimal modern virtio-pci driver for guest tests, written
 * from the virtio 1.2 specification: §4.1 (virtio over PCI: discovery,
 * vendor capabilities, common configuration, notification), §3.1 (device
 * initialization) and §2.7 (split virtqueues).  Polling only: no MSI-X, no
 * interrupts.  Runs in 32-bit protected mode without paging, so a pointer is
 * a guest-physical address and MMIO is a plain MOV (8, 16 or 32 bits; never
 * a string instruction, never a 64-bit access).  Only PCI bus 0 is scanned.
 *
 * Use: virtio_pci_scan() finds the functions, then for each device
 * virtio_pci_probe(), virtio_negotiate(), virtq_init() per queue,
 * virtio_driver_ok(); then virtq_add() + virtq_kick() and virtq_wait().
 * Setup errors stop the test (FAIL <test>: ...); waiting has a time limit.
 * virtio_pci.c finds functions and their structures; virtio.c does the
 * rest (status, features, device config, virtqueues). */
#ifndef GUEST_VIRTIO_H
#define GUEST_VIRTIO_H

#include "types.h"

/* §4.1.2: PCI IDs.  Modern device ID = 0x1040 + virtio device ID (§5). */
#define VIRTIO_PCI_VENDOR       0x1AF4u
#define VIRTIO_PCI_MODERN_BASE  0x1040u
#define VIRTIO_ID_NET           1u
#define VIRTIO_ID_BLOCK         2u

/* §2.1: device status bits. */
#define VIRTIO_STATUS_ACKNOWLEDGE      0x01u
#define VIRTIO_STATUS_DRIVER           0x02u
#define VIRTIO_STATUS_DRIVER_OK        0x04u
#define VIRTIO_STATUS_FEATURES_OK      0x08u
#define VIRTIO_STATUS_NEEDS_RESET      0x40u
#define VIRTIO_STATUS_FAILED           0x80u

/* §6: reserved (device-independent) feature bits the library knows. */
#define VIRTIO_F_EVENT_IDX      29u
#define VIRTIO_F_VERSION_1      32u
#define VIRTIO_BIT(n)           ((u64)1 << (n))

/* §2.7.5: descriptor flags; §2.7.6/§2.7.8: ring flags. */
#define VIRTQ_DESC_F_NEXT       0x1u
#define VIRTQ_DESC_F_WRITE      0x2u
#define VIRTQ_AVAIL_F_NO_INTERRUPT 0x1u
#define VIRTQ_USED_F_NO_NOTIFY  0x1u

/* §5.2 block device: feature bits, config offsets (struct
 * virtio_blk_config), request types and status values, the request
 * header (struct virtio_blk_req up to data; the status byte ends it). */
#define VIRTIO_BLK_F_SIZE_MAX       1u
#define VIRTIO_BLK_F_SEG_MAX        2u
#define VIRTIO_BLK_F_RO             5u
#define VIRTIO_BLK_F_BLK_SIZE       6u
#define VIRTIO_BLK_F_FLUSH          9u
#define VIRTIO_BLK_CFG_CAPACITY     0x00u   /* le64, 512-byte sectors */
#define VIRTIO_BLK_CFG_SIZE_MAX     0x08u   /* le32 */
#define VIRTIO_BLK_CFG_SEG_MAX      0x0Cu   /* le32 */
#define VIRTIO_BLK_CFG_BLK_SIZE     0x14u   /* le32 */
#define VIRTIO_BLK_SECTOR           512u    /* unit of sector and capacity */
#define VIRTIO_BLK_ID_BYTES         20u     /* GET_ID data */
#define VIRTIO_BLK_T_IN             0u
#define VIRTIO_BLK_T_OUT            1u
#define VIRTIO_BLK_T_FLUSH          4u
#define VIRTIO_BLK_T_GET_ID         8u
#define VIRTIO_BLK_S_OK             0u
#define VIRTIO_BLK_S_IOERR          1u
#define VIRTIO_BLK_S_UNSUPP         2u

struct virtio_blk_req_hdr {
    u32 type;
    u32 reserved;
    u64 sector;
};

/* Queues are set up with at most VIRTQ_MAX_SIZE entries (a power of 2:
 * the size of struct virtq_mem); VIRTQ_SMALL_SIZE is what a test passes
 * to virtq_init when a few buffers in flight are all it needs. */
#define VIRTQ_MAX_SIZE          64u
#define VIRTQ_SMALL_SIZE        16u

/* §4.1.4.3: common configuration bytes the driver uses (through
 * queue_device); §4.1.5.2: a notification is a 16-bit write. */
#define VIRTIO_COMMON_CFG_LEN   0x38u
#define VIRTIO_NOTIFY_WIDTH     2u

/* MMIO by explicit MOVs of one width (what uhv emulates: no string
 * instructions, no 64-bit accesses).  a is a guest-physical address. */
static inline u8 mmio_read8(u32 a)
{
    u8 v;
    __asm__ volatile("movb (%1), %0" : "=q"(v) : "r"(a) : "memory");
    return v;
}

/* See mmio_read8. */
static inline u16 mmio_read16(u32 a)
{
    u16 v;
    __asm__ volatile("movw (%1), %0" : "=r"(v) : "r"(a) : "memory");
    return v;
}

/* See mmio_read8. */
static inline u32 mmio_read32(u32 a)
{
    u32 v;
    __asm__ volatile("movl (%1), %0" : "=r"(v) : "r"(a) : "memory");
    return v;
}

/* See mmio_read8. */
static inline void mmio_write8(u32 a, u8 v)
{
    __asm__ volatile("movb %0, (%1)" : : "q"(v), "r"(a) : "memory");
}

/* See mmio_read8. */
static inline void mmio_write16(u32 a, u16 v)
{
    __asm__ volatile("movw %0, (%1)" : : "r"(v), "r"(a) : "memory");
}

/* See mmio_read8. */
static inline void mmio_write32(u32 a, u32 v)
{
    __asm__ volatile("movl %0, (%1)" : : "r"(v), "r"(a) : "memory");
}

/* A virtio PCI function: where it is and where its structures are. */
struct virtio_dev {
    const char *test;       /* the test's name, for FAIL lines */
    u8 bus, slot, fn;
    u16 device_id;
    u8 revision;
    u32 common;             /* MMIO address of struct virtio_pci_common_cfg */
    u32 notify;             /* MMIO address of the notify region */
    u32 notify_len;
    u32 notify_mult;        /* notify_off_multiplier */
    u32 isr;                /* MMIO address of the ISR status byte */
    u32 device_cfg;         /* MMIO address of the device configuration */
    u32 device_cfg_len;     /* 0: the device has none */
    u64 bar_size[6];        /* sizes of the BARs the structures use */
    u64 offered;            /* device_feature */
    u64 features;           /* what was negotiated */
};

/* §2.7.5: one descriptor. */
struct virtq_desc {
    u64 addr;
    u32 len;
    u16 flags;
    u16 next;
};

/* §2.7.8: one used ring element. */
struct virtq_used_elem {
    u32 id;
    u32 len;
};

/* A split virtqueue's memory (§2.7, alignments 16/2/4), sized for
 * VIRTQ_MAX_SIZE; a smaller queue uses the front of each part.  The extra
 * ring slot holds used_event (avail) / avail_event (used) at index size. */
struct virtq_mem {
    struct virtq_desc desc[VIRTQ_MAX_SIZE];
    struct {
        u16 flags;
        u16 idx;
        u16 ring[VIRTQ_MAX_SIZE + 1];
    } avail;
    struct {
        u16 flags;
        u16 idx;
        struct virtq_used_elem ring[VIRTQ_MAX_SIZE];
        u16 avail_event_max;    /* avail_event when size == VIRTQ_MAX_SIZE */
    } used __attribute__((aligned(4)));
} __attribute__((aligned(4096)));

/* One buffer of a chain: device-readable, or device-writable when
 * writable is set (all writable ones after all readable ones, §2.7.4.2). */
struct virtq_buf {
    u32 addr;
    u32 len;
    bool writable;
};

/* The driver's view of one virtqueue. */
struct virtq {
    struct virtio_dev *dev;
    volatile struct virtq_mem *mem;
    u16 index;              /* queue number */
    u16 size;               /* entries in use (power of 2) */
    u16 device_max;         /* queue_size the device offered */
    u32 notify_addr;        /* Queue Notify address (§4.1.4.4) */
    bool event_idx;         /* VIRTIO_F_EVENT_IDX negotiated */
    u16 avail_idx;          /* next avail idx to publish */
    u16 kicked_idx;         /* avail idx at the last kick */
    u16 last_used;          /* next used entry to read */
    u16 num_free;
    u16 free_head;
    u16 next_free[VIRTQ_MAX_SIZE];  /* free list; also links a chain */
    u16 chain_len[VIRTQ_MAX_SIZE];  /* per head in flight, else 0 */
    u32 kicks, kicks_skipped;
};

/* Find up to max functions on bus 0 with vendor 0x1AF4 and the modern
 * device ID of virtio_id; fills out[] in slot/function order (only the
 * location and IDs).  Returns how many were found (all of them counted,
 * even past max). */
u32 virtio_pci_scan(u16 virtio_id, struct virtio_dev *out, u32 max);

/* Read the vendor capabilities of d (found by virtio_pci_scan), size the
 * BARs they use, check every structure lies inside its BAR and below
 * 4 GiB, then enable memory decoding and bus mastering.  FAILs test on a
 * missing structure or unusable BAR. */
void virtio_pci_probe(struct virtio_dev *d, const char *test);

/* §3.1.1 steps 1-6: reset, ACKNOWLEDGE, DRIVER, read device features,
 * accept offered & wanted, set FEATURES_OK and read it back.  FAILs
 * unless all of required (which includes VERSION_1) are offered and the
 * device keeps FEATURES_OK. */
void virtio_negotiate(struct virtio_dev *d, u64 wanted, u64 required);

/* §4.1.5.1.3: set up queue index in mem with min(queue_size, max_size,
 * VIRTQ_MAX_SIZE) entries and enable it.  FAILs if the queue is absent. */
void virtq_init(struct virtq *vq, struct virtio_dev *d,
                volatile struct virtq_mem *mem, u16 index, u16 max_size);

/* §3.1.1 step 8: set DRIVER_OK; FAILs if the device reports an error. */
void virtio_driver_ok(struct virtio_dev *d);

/* Write 0 to device_status and wait until it reads 0 (§4.1.4.3.2). */
void virtio_reset(struct virtio_dev *d);

/* device_status now. */
u8 virtio_status(const struct virtio_dev *d);

/* config_generation now (§2.5.1: re-read config until it is stable). */
u8 virtio_config_generation(const struct virtio_dev *d);

/* Device configuration fields at byte offset off, with the access width
 * the field has (§4.1.3.1); a 64-bit field is read as two 32-bit halves
 * within one config generation.  FAIL if off lies past the structure. */
u8 virtio_cfg_read8(const struct virtio_dev *d, u32 off);
u16 virtio_cfg_read16(const struct virtio_dev *d, u32 off);
u32 virtio_cfg_read32(const struct virtio_dev *d, u32 off);
u64 virtio_cfg_read64(const struct virtio_dev *d, u32 off);

/* Put a chain of n buffers on the available ring (not yet visible to
 * the device: see virtq_kick).  Returns the head descriptor's index, the
 * id the used ring will give back, or -1 if fewer than n are free. */
int virtq_add(struct virtq *vq, const struct virtq_buf *bufs, u32 n);

/* Put n raw descriptors on the available ring as one chain starting at
 * the free head, each as given except that next is an offset into descs
 * (0 = descs[0]) mapped to the slots used, so a test can build chains a
 * correct driver never would (a loop: descs[1].next = 0 with
 * VIRTQ_DESC_F_NEXT).  The descriptors are not freed again: reset the
 * device and virtq_init the queue after such a chain.  Returns the head
 * index, or -1 if fewer than n are free. */
int virtq_add_raw(struct virtq *vq, const struct virtq_desc *descs, u32 n);

/* Publish the chains added since the last kick and notify the device
 * unless it asked not to be (flags or avail_event, §2.7.10).  Returns
 * whether a notification was written. */
bool virtq_kick(struct virtq *vq);

/* Take one used element if there is one: returns its id (head index) and
 * stores its len, and frees its descriptors; -1 if the ring is empty. */
int virtq_get(struct virtq *vq, u32 *len);

/* virtq_get, polling for up to ticks TSC ticks; -1 on time-out. */
int virtq_wait(struct virtq *vq, u32 *len, u64 ticks);

/* Print the queue's indices, event fields and notification counts (for a
 * FAIL after a time-out). */
void virtq_dump(struct virtq *vq);

#endif
