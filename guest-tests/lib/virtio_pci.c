/* virtio_pci.c - finding virtio PCI functions and their structures (see
 * virtio.h), from the virtio 1.2 specification §4.1.2 (discovery) and
 * §4.1.4 (vendor capabilities): which BAR and offset hold the common
 * configuration, notify region, ISR byte and device configuration.  PCI
 * configuration goes through mechanism #1 (0xCF8/0xCFC, as
 * guest-tests/pci.c does). */
#include "virtio.h"
#include "io.h"
#include "io32.h"
#include "result.h"

/* PCI configuration mechanism #1 and header fields (PCI 3.0 §6.1). */
#define PCI_CFG_ADDR        0xCF8
#define PCI_CFG_DATA        0xCFC
#define PCI_CFG_ENABLE      0x80000000u
#define PCI_BUS_SHIFT       16
#define PCI_SLOT_SHIFT      11
#define PCI_FN_SHIFT        8
#define PCI_SLOTS           32u
#define PCI_FUNCTIONS       8u
#define PCI_REG_ID          0x00    /* vendor 15:0, device 31:16 */
#define PCI_REG_COMMAND     0x04    /* command 15:0, status 31:16 */
#define PCI_REG_CLASS_REV   0x08    /* revision 7:0 */
#define PCI_REG_HEADER      0x0C    /* header type 23:16 */
#define PCI_REG_BAR0        0x10
#define PCI_REG_CAP_PTR     0x34
#define PCI_HEADER_MULTIFN  (0x80u << 16)
#define PCI_STATUS_CAP_LIST (0x10u << 16)
#define PCI_CMD_MEM         0x0002u
#define PCI_CMD_BUS_MASTER  0x0004u
#define PCI_CMD_INTX_OFF    0x0400u /* polling: keep INTx quiet */
#define PCI_BAR_IO          0x1u
#define PCI_BAR_TYPE_MASK   0x6u
#define PCI_BAR_TYPE_64     0x4u
#define PCI_BAR_MEM_MASK    0xFFFFFFF0u
#define PCI_BARS            6u
#define PCI_CAP_ID_VENDOR   0x09u
#define PCI_CAP_PTR_MASK    0xFCu
#define PCI_CAP_WALK_MAX    48u     /* (256 - 64) / 4: a loop ends here */
#define VENDOR_MASK         0xFFFFu
#define BYTE_MASK           0xFFu
#define HIGH_SHIFT          16
#define ALL_ONES            0xFFFFFFFFu
#define HALF_SHIFT          32
#define FOUR_GIB            ((u64)1 << 32)

/* §4.1.4: struct virtio_pci_cap, as dwords. */
#define VCAP_TYPE_SHIFT     24      /* dword 0: vndr, next, len, cfg_type */
#define VCAP_LEN_SHIFT      16
#define VCAP_NEXT_SHIFT     8
#define VCAP_BAR_OFF        4       /* dword 1: bar, id, padding */
#define VCAP_OFFSET_OFF     8
#define VCAP_LENGTH_OFF     12
#define VCAP_MULT_OFF       16      /* notify cap only */
#define VCAP_MIN_LEN        16
#define VCAP_NOTIFY_MIN_LEN 20
#define VCAP_COMMON         1u
#define VCAP_NOTIFY         2u
#define VCAP_ISR            3u
#define VCAP_DEVICE         4u
#define VCAP_TYPES          5u      /* 1..4 used */

/* The 0xCF8 value for a configuration dword of bus:slot.fn. */
static u32 cfg_address(u32 bus, u32 slot, u32 fn, u32 reg)
{
    return PCI_CFG_ENABLE | bus << PCI_BUS_SHIFT | slot << PCI_SLOT_SHIFT |
           fn << PCI_FN_SHIFT | (reg & ~3u);
}

/* One configuration dword of bus:slot.fn. */
static u32 cfg_read(u32 bus, u32 slot, u32 fn, u32 reg)
{
    outl(PCI_CFG_ADDR, cfg_address(bus, slot, fn, reg));
    return inl(PCI_CFG_DATA);
}

/* One configuration dword of d. */
static u32 pci_read32(const struct virtio_dev *d, u32 reg)
{
    return cfg_read(d->bus, d->slot, d->fn, reg);
}

/* Write a configuration dword of d. */
static void pci_write32(const struct virtio_dev *d, u32 reg, u32 v)
{
    outl(PCI_CFG_ADDR, cfg_address(d->bus, d->slot, d->fn, reg));
    outl(PCI_CFG_DATA, v);
}

/* Write the command register alone (a dword write would also hit the
 * status register's write-1-to-clear bits). */
static void pci_write_command(const struct virtio_dev *d, u16 cmd)
{
    outl(PCI_CFG_ADDR, cfg_address(d->bus, d->slot, d->fn, PCI_REG_COMMAND));
    outw(PCI_CFG_DATA, cmd);
}

/* See virtio.h.  Functions 1-7 only where function 0 is multi-function. */
u32 virtio_pci_scan(u16 virtio_id, struct virtio_dev *out, u32 max)
{
    u32 found = 0;
    for (u32 slot = 0; slot < PCI_SLOTS; slot++) {
        for (u32 fn = 0; fn < PCI_FUNCTIONS; fn++) {
            u32 id = cfg_read(0, slot, fn, PCI_REG_ID);
            if ((id & VENDOR_MASK) == VENDOR_MASK) {
                if (!fn)
                    break;
                continue;
            }
            if ((id & VENDOR_MASK) == VIRTIO_PCI_VENDOR &&
                id >> HIGH_SHIFT == VIRTIO_PCI_MODERN_BASE + virtio_id) {
                if (found < max)
                    out[found] = (struct virtio_dev){
                        .bus = 0, .slot = (u8)slot, .fn = (u8)fn,
                        .device_id = (u16)(id >> HIGH_SHIFT),
                        .revision = (u8)(cfg_read(0, slot, fn,
                                                  PCI_REG_CLASS_REV) &
                                         BYTE_MASK),
                    };
                found++;
            }
            if (!fn && !(cfg_read(0, slot, fn, PCI_REG_HEADER) &
                         PCI_HEADER_MULTIFN))
                break;
        }
    }
    return found;
}

/* A structure a capability points at, before its BAR is resolved. */
struct vcap {
    bool present;
    u32 bar, offset, length, mult;
};

/* Base address of memory BAR n of d, both halves when *is64 (set from the
 * BAR's type); 0 for an I/O BAR or an unassigned one. */
static u64 bar_base(const struct virtio_dev *d, u32 n, bool *is64)
{
    u32 lo = pci_read32(d, PCI_REG_BAR0 + n * sizeof(u32));
    *is64 = (lo & PCI_BAR_TYPE_MASK) == PCI_BAR_TYPE_64;
    if (lo & PCI_BAR_IO)
        return 0;
    u64 base = lo & PCI_BAR_MEM_MASK;
    if (*is64)
        base |= (u64)pci_read32(d, PCI_REG_BAR0 + (n + 1) * sizeof(u32))
                << HALF_SHIFT;
    return base;
}

/* Size of memory BAR n by the all-ones probe (PCI 3.0 §6.2.5.1), its
 * value restored.  Memory decoding must be off.  0 if it decodes nothing. */
static u64 bar_size(const struct virtio_dev *d, u32 n, bool is64)
{
    u32 reg = PCI_REG_BAR0 + n * sizeof(u32);
    u32 lo = pci_read32(d, reg), hi = 0, mhi = ALL_ONES;
    pci_write32(d, reg, ALL_ONES);
    u32 mlo = pci_read32(d, reg) & PCI_BAR_MEM_MASK;
    pci_write32(d, reg, lo);
    if (is64) {
        hi = pci_read32(d, reg + sizeof(u32));
        pci_write32(d, reg + sizeof(u32), ALL_ONES);
        mhi = pci_read32(d, reg + sizeof(u32));
        pci_write32(d, reg + sizeof(u32), hi);
    }
    u64 mask = (u64)mhi << HALF_SHIFT | mlo;
    return mlo ? ~mask + 1 : 0;
}

/* Note a vendor capability at ptr if it is a structure we use, the first
 * of its type, with a valid memory BAR (§4.1.4.1: ignore the others). */
static void note_cap(const struct virtio_dev *d, u32 ptr, u32 w0,
                     struct vcap *caps)
{
    u32 type = w0 >> VCAP_TYPE_SHIFT, len = w0 >> VCAP_LEN_SHIFT & BYTE_MASK;
    if (type < VCAP_COMMON || type > VCAP_DEVICE || caps[type].present ||
        len < (type == VCAP_NOTIFY ? VCAP_NOTIFY_MIN_LEN : VCAP_MIN_LEN))
        return;
    u32 bar = pci_read32(d, ptr + VCAP_BAR_OFF) & BYTE_MASK;
    if (bar >= PCI_BARS)
        return;
    u32 v = pci_read32(d, PCI_REG_BAR0 + bar * sizeof(u32));
    bool is64 = (v & PCI_BAR_TYPE_MASK) == PCI_BAR_TYPE_64;
    if ((v & PCI_BAR_IO) || (is64 && bar + 1 >= PCI_BARS))
        return;
    caps[type] = (struct vcap){
        .present = true, .bar = bar,
        .offset = pci_read32(d, ptr + VCAP_OFFSET_OFF),
        .length = pci_read32(d, ptr + VCAP_LENGTH_OFF),
        .mult = type == VCAP_NOTIFY ? pci_read32(d, ptr + VCAP_MULT_OFF) : 0,
    };
}

/* MMIO address of the structure c describes; *len is the part of it that
 * lies inside its BAR, which must be at least need bytes. */
static u32 resolve(struct virtio_dev *d, const struct vcap *c, u32 need,
                   const char *what, u32 *len)
{
    bool is64;
    u64 base = bar_base(d, c->bar, &is64);
    if (!d->bar_size[c->bar])
        d->bar_size[c->bar] = bar_size(d, c->bar, is64);
    u64 size = d->bar_size[c->bar];
    if (!size)
        fail(d->test, "%s: BAR%u decodes nothing (size 0)", what, c->bar);
    if (!base)
        fail(d->test, "%s: BAR%u is not assigned", what, c->bar);
    if (base + size > FOUR_GIB)
        fail(d->test, "%s: BAR%u at 0x%llx, size 0x%llx (all-ones probe): "
             "not below 4 GiB", what, c->bar, base, size);
    u64 room = c->offset < size ? size - c->offset : 0;
    u64 usable = c->length < room ? c->length : room;
    if (usable < need)
        fail(d->test, "%s: offset 0x%x length 0x%x in BAR%u of 0x%llx bytes:"
             " need 0x%x", what, c->offset, c->length, c->bar, size, need);
    *len = (u32)usable;
    return (u32)base + c->offset;
}

/* See virtio.h. */
void virtio_pci_probe(struct virtio_dev *d, const char *test)
{
    d->test = test;
    u32 cmd_status = pci_read32(d, PCI_REG_COMMAND);
    if (!(cmd_status & PCI_STATUS_CAP_LIST))
        fail(test, "00:%02x.%u has no capability list", d->slot, d->fn);
    struct vcap caps[VCAP_TYPES] = { 0 };
    u32 ptr = pci_read32(d, PCI_REG_CAP_PTR) & PCI_CAP_PTR_MASK;
    for (u32 n = 0; ptr && n < PCI_CAP_WALK_MAX; n++) {
        u32 w0 = pci_read32(d, ptr);
        if ((w0 & BYTE_MASK) == PCI_CAP_ID_VENDOR)
            note_cap(d, ptr, w0, caps);
        ptr = w0 >> VCAP_NEXT_SHIFT & PCI_CAP_PTR_MASK;
    }
    static const char *const names[VCAP_TYPES] = {
        NULL, "common config", "notify", "ISR", "device config" };
    for (u32 t = VCAP_COMMON; t <= VCAP_ISR; t++)
        if (!caps[t].present)
            fail(test, "00:%02x.%u: no usable %s capability", d->slot, d->fn,
                 names[t]);

    /* Size BARs with decoding off, then turn on memory and bus master. */
    u16 cmd = (u16)cmd_status;
    pci_write_command(d, cmd & (u16)~PCI_CMD_MEM);
    u32 len;
    d->common = resolve(d, &caps[VCAP_COMMON], VIRTIO_COMMON_CFG_LEN,
                        names[VCAP_COMMON], &len);
    d->notify = resolve(d, &caps[VCAP_NOTIFY], VIRTIO_NOTIFY_WIDTH,
                        names[VCAP_NOTIFY], &d->notify_len);
    d->notify_mult = caps[VCAP_NOTIFY].mult;
    d->isr = resolve(d, &caps[VCAP_ISR], 1, names[VCAP_ISR], &len);
    if (caps[VCAP_DEVICE].present)
        d->device_cfg = resolve(d, &caps[VCAP_DEVICE], 1, names[VCAP_DEVICE],
                                &d->device_cfg_len);
    pci_write_command(d, cmd | PCI_CMD_MEM | PCI_CMD_BUS_MASTER |
                         PCI_CMD_INTX_OFF);
    u32 now = pci_read32(d, PCI_REG_COMMAND);
    if ((now & (PCI_CMD_MEM | PCI_CMD_BUS_MASTER)) !=
        (PCI_CMD_MEM | PCI_CMD_BUS_MASTER))
        fail(test, "00:%02x.%u: COMMAND reads 0x%x after enabling memory and"
             " bus master", d->slot, d->fn, (u16)now);
}

