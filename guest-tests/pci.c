/* pci - PCI configuration mechanism #1 (PCI Local Bus Specification 3.0
 * §3.2.2.3.2): address register 0xCF8, data window 0xCFC-0xCFF.  Scans
 * every device and function of bus 0 and passes if the only function
 * there is the host bridge at 00:00.0 (class 06/00, single-function),
 * every other one reads vendor 0xFFFF, the same registers read alike as
 * bytes, words and dwords, 0xCF8 keeps only its defined bits (bits 30:24
 * and 1:0 read 0), a write to the read-only vendor ID changes nothing, bus
 * 1 reads all ones, and so does the data port with the enable bit clear. */
#include "guest.h"
#include "io32.h"

#define NAME            "pci"
#define CFG_ADDR        0xCF8
#define CFG_DATA        0xCFC
#define CFG_ENABLE      0x80000000u
#define CFG_RESERVED    0x7F000003u     /* bits 30:24 and 1:0 */
#define BUS_SHIFT       16
#define DEV_SHIFT       11
#define FN_SHIFT        8
#define DEVICES         32u
#define FUNCTIONS       8u
#define REG_ID          0x00            /* vendor 15:0, device 31:16 */
#define REG_CLASS       0x08            /* class 31:24, subclass 23:16 */
#define REG_HEADER      0x0C            /* header type in bits 23:16 */
#define VENDOR_MASK     0xFFFFu
#define HIGH_SHIFT      16              /* device ID, class, header type */
#define BYTE_MASK       0xFFu
#define DEVICE_ID_OFF   2               /* byte offset in the data window */
#define HEADER_MULTIFN  0x80
#define VENDOR_NONE     0xFFFFu
#define CLASS_HOST_BRIDGE 0x0600u
#define ALL_ONES        0xFFFFFFFFu

/* The 0xCF8 value selecting a dword of bus:dev.fn's configuration space. */
static u32 address(u32 bus, u32 dev, u32 fn, u32 reg)
{
    return CFG_ENABLE | bus << BUS_SHIFT | dev << DEV_SHIFT | fn << FN_SHIFT |
           (reg & ~3u);
}

/* One configuration dword. */
static u32 cfg_read32(u32 bus, u32 dev, u32 fn, u32 reg)
{
    outl(CFG_ADDR, address(bus, dev, fn, reg));
    return inl(CFG_DATA);
}

/* The address register keeps what software may set, drops the rest. */
static void check_address_register(void)
{
    outl(CFG_ADDR, CFG_ENABLE | CFG_RESERVED);
    u32 got = inl(CFG_ADDR);
    if (got != CFG_ENABLE)
        fail(NAME, "0xCF8 reads 0x%x after writing 0x%x", got,
             CFG_ENABLE | CFG_RESERVED);
    outl(CFG_ADDR, address(0, 0, 0, REG_ID) & ~CFG_ENABLE);
    if (inl(CFG_DATA) != ALL_ONES)
        fail(NAME, "data port answers with the enable bit clear");
}

/* The host bridge: widths agree, the vendor ID is read-only. */
static void check_host_bridge(u32 id)
{
    outl(CFG_ADDR, address(0, 0, 0, REG_ID));
    u16 vendor = inw(CFG_DATA), device = inw(CFG_DATA + DEVICE_ID_OFF);
    u8 b1 = inb(CFG_DATA + 1);
    if (vendor != (id & VENDOR_MASK) || device != id >> HIGH_SHIFT ||
        b1 != (u8)(id >> 8))
        fail(NAME, "byte/word reads 0x%x 0x%x 0x%x disagree with dword 0x%x",
             vendor, device, b1, id);
    outl(CFG_ADDR, address(0, 0, 0, REG_ID));
    outw(CFG_DATA, (u16)~vendor);
    if (cfg_read32(0, 0, 0, REG_ID) != id)
        fail(NAME, "writing the vendor ID changed it");
    u32 hdr = cfg_read32(0, 0, 0, REG_HEADER) >> HIGH_SHIFT & BYTE_MASK;
    if (hdr & HEADER_MULTIFN)
        fail(NAME, "host bridge header type 0x%x says multi-function", hdr);
}

/* See the file comment. */
void guest_main(u32 magic, const struct mb_info *mbi)
{
    (void)mbi;
    require_multiboot(NAME, magic);
    check_address_register();

    u32 found = 0, host_id = ALL_ONES;
    for (u32 dev = 0; dev < DEVICES; dev++) {
        for (u32 fn = 0; fn < FUNCTIONS; fn++) {
            u32 id = cfg_read32(0, dev, fn, REG_ID);
            if ((id & VENDOR_MASK) == VENDOR_NONE) {
                if (id != ALL_ONES)
                    fail(NAME, "00:%02x.%u: vendor 0xffff, device 0x%x", dev,
                         fn, id >> HIGH_SHIFT);
                continue;
            }
            u32 cls = cfg_read32(0, dev, fn, REG_CLASS) >> HIGH_SHIFT;
            gprintf("00:%02x.%u vendor 0x%04x device 0x%04x class 0x%04x\n",
                    dev, fn, id & VENDOR_MASK, id >> HIGH_SHIFT, cls);
            found++;
            if (dev || fn)
                fail(NAME, "unexpected function at 00:%02x.%u", dev, fn);
            if (cls != CLASS_HOST_BRIDGE)
                fail(NAME, "00:00.0 class 0x%04x, want 0x0600", cls);
            host_id = id;
        }
    }
    gprintf("bus 0: %u function(s)\n", found);
    if (found != 1)
        fail(NAME, "want exactly the host bridge at 00:00.0");
    check_host_bridge(host_id);
    u32 other = cfg_read32(1, 0, 0, REG_ID);
    if (other != ALL_ONES)
        fail(NAME, "bus 1 device 0 reads 0x%x", other);
    gprintf("bus 1 reads all ones; 0xCF8 masks reserved bits\n");
    pass(NAME);
}
