/* virtio.c - driving a virtio PCI device once virtio_pci_probe has found
 * its structures (see virtio.h): the common configuration (§4.1.4.3),
 * status and feature negotiation (§2.1, §2.2, §3.1.1), device
 * configuration reads (§2.5, §4.1.3.1) and split virtqueues (§2.7),
 * polled, with available-buffer notifications per §2.7.10 and §4.1.5.2.
 * Written from the virtio 1.2 specification. */
#include "virtio.h"
#include "cpu.h"
#include "result.h"
#include "serial.h"

/* §4.1.4.3: struct virtio_pci_common_cfg offsets. */
#define CC_DFSELECT         0x00
#define CC_DF               0x04
#define CC_GFSELECT         0x08
#define CC_GF               0x0C
#define CC_NUM_QUEUES       0x12
#define CC_STATUS           0x14
#define CC_CFG_GENERATION   0x15
#define CC_Q_SELECT         0x16
#define CC_Q_SIZE           0x18
#define CC_Q_ENABLE         0x1C
#define CC_Q_NOTIFY_OFF     0x1E
#define CC_Q_DESC           0x20
#define CC_Q_DRIVER         0x28
#define CC_Q_DEVICE         0x30
#define HALF_SHIFT          32
#define STATUS_POLL_MAX     100000u
#define CFG_RETRY_MAX       100u
#define FEATURE_WORD_HIGH   1u      /* *_feature_select for bits 63:32 */

/* A 64-bit common-config field as two 32-bit halves, low then high
 * (§4.1.3: 64-bit fields are two 32-bit fields). */
static void mmio_write64(u32 a, u64 v)
{
    mmio_write32(a, (u32)v);
    mmio_write32(a + sizeof(u32), (u32)(v >> HALF_SHIFT));
}

/* Keep the compiler from moving memory accesses across this point (x86
 * orders stores with stores and loads with loads by itself). */
static inline void compiler_barrier(void)
{
    __asm__ volatile("" ::: "memory");
}

/* Full barrier: a store before it is visible before a load after it. */
static inline void full_barrier(void)
{
    __asm__ volatile("lock; orl $0, (%%esp)" ::: "memory", "cc");
}

/* Write device_status. */
static void set_status(struct virtio_dev *d, u8 st)
{
    mmio_write8(d->common + CC_STATUS, st);
}

/* See virtio.h. */
u8 virtio_status(const struct virtio_dev *d)
{
    return mmio_read8(d->common + CC_STATUS);
}

/* See virtio.h. */
void virtio_reset(struct virtio_dev *d)
{
    set_status(d, 0);
    for (u32 i = 0; virtio_status(d); i++)
        if (i == STATUS_POLL_MAX)
            fail(d->test, "device_status stays 0x%x after reset",
                 virtio_status(d));
}

/* Set FAILED (§3.1.1: the driver gives up on the device), then FAIL. */
#define GIVE_UP(d, st, ...)                                                  \
    do {                                                                     \
        set_status(d, (u8)((st) | VIRTIO_STATUS_FAILED));                    \
        fail((d)->test, __VA_ARGS__);                                        \
    } while (0)

/* See virtio.h. */
void virtio_negotiate(struct virtio_dev *d, u64 wanted, u64 required)
{
    u8 st = VIRTIO_STATUS_ACKNOWLEDGE;
    virtio_reset(d);
    set_status(d, st);
    st |= VIRTIO_STATUS_DRIVER;
    set_status(d, st);
    mmio_write32(d->common + CC_DFSELECT, 0);
    u32 lo = mmio_read32(d->common + CC_DF);
    mmio_write32(d->common + CC_DFSELECT, FEATURE_WORD_HIGH);
    d->offered = (u64)mmio_read32(d->common + CC_DF) << HALF_SHIFT | lo;
    if ((d->offered & required) != required)
        GIVE_UP(d, st, "device offers features 0x%llx, lacks 0x%llx",
                d->offered, required & ~d->offered);
    d->features = d->offered & (wanted | required);
    mmio_write32(d->common + CC_GFSELECT, 0);
    mmio_write32(d->common + CC_GF, (u32)d->features);
    mmio_write32(d->common + CC_GFSELECT, FEATURE_WORD_HIGH);
    mmio_write32(d->common + CC_GF, (u32)(d->features >> HALF_SHIFT));
    st |= VIRTIO_STATUS_FEATURES_OK;
    set_status(d, st);
    u8 got = virtio_status(d);
    if (!(got & VIRTIO_STATUS_FEATURES_OK))
        GIVE_UP(d, st, "device refused features 0x%llx (status 0x%x)",
                d->features, got);
}

/* See virtio.h. */
void virtio_driver_ok(struct virtio_dev *d)
{
    u8 st = virtio_status(d) | VIRTIO_STATUS_DRIVER_OK;
    set_status(d, st);
    u8 got = virtio_status(d);
    if (got != st)
        fail(d->test, "device_status 0x%x after writing 0x%x", got, st);
}

/* See virtio.h. */
u8 virtio_config_generation(const struct virtio_dev *d)
{
    return mmio_read8(d->common + CC_CFG_GENERATION);
}

/* MMIO address of device config bytes [off, off + width); FAILs outside. */
static u32 cfg_at(const struct virtio_dev *d, u32 off, u32 width)
{
    if (off + width > d->device_cfg_len)
        fail(d->test, "device config field 0x%x+%u is past its length 0x%x",
             off, width, d->device_cfg_len);
    return d->device_cfg + off;
}

/* See virtio.h. */
u8 virtio_cfg_read8(const struct virtio_dev *d, u32 off)
{
    return mmio_read8(cfg_at(d, off, sizeof(u8)));
}

/* See virtio.h. */
u16 virtio_cfg_read16(const struct virtio_dev *d, u32 off)
{
    return mmio_read16(cfg_at(d, off, sizeof(u16)));
}

/* See virtio.h. */
u32 virtio_cfg_read32(const struct virtio_dev *d, u32 off)
{
    return mmio_read32(cfg_at(d, off, sizeof(u32)));
}

/* See virtio.h. */
u64 virtio_cfg_read64(const struct virtio_dev *d, u32 off)
{
    u32 a = cfg_at(d, off, sizeof(u64));
    for (u32 i = 0; i < CFG_RETRY_MAX; i++) {
        u8 gen = virtio_config_generation(d);
        u32 lo = mmio_read32(a), hi = mmio_read32(a + sizeof(u32));
        if (virtio_config_generation(d) == gen)
            return (u64)hi << HALF_SHIFT | lo;
    }
    fail(d->test, "config_generation never settles");
}

/* The largest power of 2 that is <= n (n > 0). */
static u16 pow2_floor(u16 n)
{
    u16 p = 1;
    while ((u32)p * 2 <= n)
        p = (u16)(p * 2);
    return p;
}

/* See virtio.h.  §4.1.5.1.3 steps; the rings are zeroed first. */
void virtq_init(struct virtq *vq, struct virtio_dev *d,
                volatile struct virtq_mem *mem, u16 index, u16 max_size)
{
    u16 queues = mmio_read16(d->common + CC_NUM_QUEUES);
    if (index >= queues)
        fail(d->test, "queue %u: the device has %u queue(s)", index, queues);
    mmio_write16(d->common + CC_Q_SELECT, index);
    u16 dev_max = mmio_read16(d->common + CC_Q_SIZE);
    if (!dev_max)
        fail(d->test, "queue %u: queue_size 0 (no such queue)", index);
    if (mmio_read16(d->common + CC_Q_ENABLE))
        fail(d->test, "queue %u: queue_enable is set before setup", index);
    u16 size = dev_max < max_size ? dev_max : max_size;
    size = pow2_floor(size < VIRTQ_MAX_SIZE ? size : VIRTQ_MAX_SIZE);

    volatile u8 *p = (volatile u8 *)mem;
    for (u32 i = 0; i < sizeof(*mem); i++)
        p[i] = 0;
    *vq = (struct virtq){
        .dev = d, .mem = mem, .index = index, .size = size,
        .device_max = dev_max, .num_free = size,
        .event_idx = (d->features & VIRTIO_BIT(VIRTIO_F_EVENT_IDX)) != 0,
    };
    for (u16 i = 0; i < size; i++)
        vq->next_free[i] = (u16)(i + 1);
    if (!vq->event_idx)
        mem->avail.flags = VIRTQ_AVAIL_F_NO_INTERRUPT;

    mmio_write16(d->common + CC_Q_SIZE, size);
    mmio_write64(d->common + CC_Q_DESC, (u32)(uintptr_t)mem->desc);
    mmio_write64(d->common + CC_Q_DRIVER, (u32)(uintptr_t)&mem->avail);
    mmio_write64(d->common + CC_Q_DEVICE, (u32)(uintptr_t)&mem->used);
    u16 off = mmio_read16(d->common + CC_Q_NOTIFY_OFF);
    u64 at = (u64)off * d->notify_mult;
    if (at + VIRTIO_NOTIFY_WIDTH > d->notify_len)
        fail(d->test, "queue %u: notify offset %u * %u is past the notify "
             "region (0x%x bytes)", index, off, d->notify_mult, d->notify_len);
    vq->notify_addr = d->notify + (u32)at;
    mmio_write16(d->common + CC_Q_ENABLE, 1);
    u16 en = mmio_read16(d->common + CC_Q_ENABLE);
    if (en != 1)
        fail(d->test, "queue %u: queue_enable reads %u after writing 1",
             index, en);
}

/* The u16 after the last ring entry of a ring part: used_event in the
 * available ring, avail_event in the used ring (§2.7.6, §2.7.8). */
static volatile u16 *used_event(struct virtq *vq)
{
    return &vq->mem->avail.ring[vq->size];
}
static volatile u16 *avail_event(struct virtq *vq)
{
    volatile u8 *ring = (volatile u8 *)vq->mem->used.ring;
    return (volatile u16 *)(ring + vq->size * sizeof(struct virtq_used_elem));
}

/* See virtio.h.  Descriptors come from a free list kept in next_free;
 * a chain's descriptors follow that list, so freeing needs only its
 * length.  A badly formed chain is the test's bug: FAIL. */
int virtq_add(struct virtq *vq, const struct virtq_buf *bufs, u32 n)
{
    if (!n || n > vq->size)
        fail(vq->dev->test, "chain of %u buffers on a queue of %u", n,
             vq->size);
    if (n > vq->num_free)
        return -1;
    u16 head = vq->free_head, i = head;
    for (u32 k = 0; k < n; k++) {
        if (k && bufs[k - 1].writable && !bufs[k].writable)
            fail(vq->dev->test, "readable buffer after a writable one");
        volatile struct virtq_desc *dsc = &vq->mem->desc[i];
        dsc->addr = bufs[k].addr;
        dsc->len = bufs[k].len;
        dsc->flags = (u16)((bufs[k].writable ? VIRTQ_DESC_F_WRITE : 0) |
                           (k + 1 < n ? VIRTQ_DESC_F_NEXT : 0));
        dsc->next = k + 1 < n ? vq->next_free[i] : 0;
        if (k + 1 < n)
            i = vq->next_free[i];
    }
    vq->free_head = vq->next_free[i];
    vq->num_free = (u16)(vq->num_free - n);
    vq->chain_len[head] = (u16)n;
    vq->mem->avail.ring[vq->avail_idx % vq->size] = head;
    vq->avail_idx++;
    return head;
}

/* See virtio.h.  The slots are the next n of the free list. */
int virtq_add_raw(struct virtq *vq, const struct virtq_desc *descs, u32 n)
{
    u16 slot[VIRTQ_MAX_SIZE];
    if (!n || n > vq->size)
        fail(vq->dev->test, "raw chain of %u descriptors on a queue of %u",
             n, vq->size);
    if (n > vq->num_free)
        return -1;
    slot[0] = vq->free_head;
    for (u32 k = 1; k < n; k++)
        slot[k] = vq->next_free[slot[k - 1]];
    for (u32 k = 0; k < n; k++) {
        volatile struct virtq_desc *dsc = &vq->mem->desc[slot[k]];
        dsc->addr = descs[k].addr;
        dsc->len = descs[k].len;
        dsc->flags = descs[k].flags;
        dsc->next = descs[k].next < n ? slot[descs[k].next] : descs[k].next;
    }
    vq->free_head = vq->next_free[slot[n - 1]];
    vq->num_free = (u16)(vq->num_free - n);
    vq->mem->avail.ring[vq->avail_idx % vq->size] = slot[0];
    vq->avail_idx++;
    return slot[0];
}

/* See virtio.h.  With EVENT_IDX, notify iff one of the entries placed
 * since the last kick sits at index avail_event (§2.7.10.1). */
bool virtq_kick(struct virtq *vq)
{
    u16 old = vq->kicked_idx, now = vq->avail_idx;
    compiler_barrier();             /* ring entries before idx (§2.7.13.3) */
    vq->mem->avail.idx = now;
    full_barrier();                 /* idx before flags/avail_event (.4) */
    vq->kicked_idx = now;
    if (old == now)
        return false;
    bool notify;
    if (vq->event_idx)
        notify = (u16)(*avail_event(vq) - old) < (u16)(now - old);
    else
        notify = !(vq->mem->used.flags & VIRTQ_USED_F_NO_NOTIFY);
    if (!notify) {
        vq->kicks_skipped++;
        return false;
    }
    mmio_write16(vq->notify_addr, vq->index);
    vq->kicks++;
    return true;
}

/* See virtio.h.  A used element naming no chain in flight is a device
 * bug: FAIL. */
int virtq_get(struct virtq *vq, u32 *len)
{
    u16 used = vq->mem->used.idx;
    if (used == vq->last_used)
        return -1;
    if ((u16)(used - vq->last_used) > vq->size)
        fail(vq->dev->test, "used idx %u runs %u ahead of %u (queue of %u)",
             used, (u16)(used - vq->last_used), vq->last_used, vq->size);
    compiler_barrier();             /* idx before the element */
    volatile struct virtq_used_elem *e =
        &vq->mem->used.ring[vq->last_used % vq->size];
    u32 id = e->id;
    *len = e->len;
    vq->last_used++;
    if (vq->event_idx)              /* no interrupt wanted: point far away */
        *used_event(vq) = (u16)(vq->last_used - 1);
    if (id >= vq->size || !vq->chain_len[id])
        fail(vq->dev->test, "used ring returns id %u, not a chain in flight",
             id);
    u16 last = (u16)id;
    for (u16 k = 1; k < vq->chain_len[id]; k++)
        last = vq->next_free[last];
    vq->next_free[last] = vq->free_head;
    vq->free_head = (u16)id;
    vq->num_free = (u16)(vq->num_free + vq->chain_len[id]);
    vq->chain_len[id] = 0;
    return (int)id;
}

/* See virtio.h. */
int virtq_wait(struct virtq *vq, u32 *len, u64 ticks)
{
    u64 end = rdtsc() + ticks;
    do {
        int id = virtq_get(vq, len);
        if (id >= 0)
            return id;
        __asm__ volatile("pause");
    } while (rdtsc() < end);
    return -1;
}

/* See virtio.h. */
void virtq_dump(struct virtq *vq)
{
    gprintf("queue %u: size %u, avail idx %u, used idx %u (read %u), "
            "avail_event %u, used flags 0x%x, %u kicks (%u skipped), "
            "device_status 0x%x\n", vq->index, vq->size, vq->mem->avail.idx,
            vq->mem->used.idx, vq->last_used, *avail_event(vq),
            vq->mem->used.flags, vq->kicks, vq->kicks_skipped,
            virtio_status(vq->dev));
}
