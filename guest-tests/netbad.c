/* netbad - a hostile guest on a virtio-net NIC (virtio 1.2 §5.1, modern
 * virtio-pci via lib/virtio.h), meant to share a network with a netpair
 * pair: every frame it sends is one uhv must drop, count and log with
 * this VM's name, with no effect on the pair.  It never posts a receive
 * buffer (the frames flooded to it are its own loss).  Cases, in order,
 * each frame tagged with its case number after the Ethernet header
 * (EtherType 0x88B6, so a capture tells them from netpair's):
 *   runt        frames of 0 and 13 bytes (shorter than a header)
 *   oversize    1515 bytes (MTU 1500 + 14 + 1) and 9000 bytes
 *   bad_header  a GSO request (none was negotiated)
 *   bad_csum    NEEDS_CSUM with csum_start past the frame, and with
 *               csum_offset reaching past it (VIRTIO_NET_F_CSUM taken)
 *   spoofed     source = spoof=MAC (the peer's address, 0x hex)
 *   group_src   a multicast source address
 *   flood       flood=N (default 1000) broadcast frames, a queue's worth
 *               per notification; the bridge passes at most its flood
 *               limit and drops the rest
 *   outside_ram a chain whose second buffer lies outside guest RAM
 *   loop        a chain whose two descriptors point at each other
 * Each of the first seven must come back from the device (used, nothing
 * written) with the device still working; each of the last two must make
 * the device need a reset (§2.1.2) and return nothing, after which the
 * driver resets and sets it up again.  It prints what it did and PASSes;
 * the system test checks uhv's log and counters from outside. */
#include "guest.h"
#include "virtio.h"

#define NAME            "netbad"

/* §5.1.3 feature bits; §5.1.4 config; §5.1.6 struct virtio_net_hdr. */
#define VIRTIO_NET_F_CSUM       0u
#define VIRTIO_NET_F_MAC        5u
#define NET_CFG_MAC             0x00u
#define TXQ                     1u
#define HDR_F_NEEDS_CSUM        0x1u
#define HDR_GSO_TCPV4           1u
struct net_hdr {
    u8 flags, gso_type;
    u16 hdr_len, gso_size, csum_start, csum_offset, num_buffers;
} __attribute__((packed));

#define ETH_ALEN        6u
#define ETH_HLEN        14u
#define ETH_MIN         60u
#define ETH_MTU_FRAME   1514u           /* MTU 1500 + header */
#define BIG_FRAME       9000u           /* a jumbo frame */
#define RUNT_LONG       13u             /* one byte short of a header */
#define ETHERTYPE       0x88B6u         /* IEEE local experimental 2 */
#define CASE_OFF        ETH_HLEN        /* the case number's byte */
#define CSUM_FAR_START  100u            /* past a 60-byte frame */
#define CSUM_NEAR_START 34u             /* inside, but offset reaches out */
#define CSUM_FAR_OFFSET 40u
#define GROUP_BIT       0x01u           /* I/G bit of the first octet */
#define OUTSIDE_RAM     0xE0000000u     /* no RAM there (16M-3G guests) */
#define FLOOD_DEFAULT   1000u
#define WAIT_DEFAULT    3000000000ull   /* ticks for the device to answer */
#define MAC_BYTE_BITS   8u

enum { C_RUNT = 1, C_OVERSIZE, C_BAD_HEADER, C_BAD_CSUM, C_SPOOFED,
       C_GROUP_SRC, C_FLOOD, C_OUTSIDE_RAM, C_LOOP };

static struct virtio_dev dev;
static struct virtq txq;
static struct virtq_mem txmem;
static u8 buf[sizeof(struct net_hdr) + BIG_FRAME] __attribute__((aligned(64)));
static u8 flood_buf[VIRTQ_SMALL_SIZE][sizeof(struct net_hdr) + ETH_MIN];
static u8 mymac[ETH_ALEN], spoof[ETH_ALEN];
static const u8 bcast[ETH_ALEN] = { 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF };
static u64 wait_ticks;

/* Reset, negotiate (CSUM so that a bad checksum request is one the
 * device must check), read the MAC, set up transmitq only, DRIVER_OK. */
static void setup(void)
{
    virtio_negotiate(&dev, VIRTIO_BIT(VIRTIO_NET_F_CSUM),
                     VIRTIO_BIT(VIRTIO_F_VERSION_1) |
                     VIRTIO_BIT(VIRTIO_NET_F_MAC));
    for (u32 i = 0; i < ETH_ALEN; i++)
        mymac[i] = virtio_cfg_read8(&dev, NET_CFG_MAC + i);
    virtq_init(&txq, &dev, &txmem, TXQ, VIRTQ_SMALL_SIZE);
    virtio_driver_ok(&dev);
}

/* A frame of len bytes in p (after a zeroed virtio-net header): dst,
 * src, our EtherType, the case number, then a pattern. */
static struct net_hdr *build(u8 *p, const u8 *src, u8 what, u32 len)
{
    memset(p, 0, sizeof(struct net_hdr));
    u8 *f = p + sizeof(struct net_hdr);
    for (u32 i = 0; i < len; i++)
        f[i] = (u8)(i * 3u + what);
    if (len >= ETH_HLEN) {
        memcpy(f, bcast, ETH_ALEN);
        memcpy(f + ETH_ALEN, src, ETH_ALEN);
        f[2 * ETH_ALEN] = ETHERTYPE >> 8;
        f[2 * ETH_ALEN + 1] = ETHERTYPE & 0xFF;
    }
    if (len > CASE_OFF)
        f[CASE_OFF] = what;
    return (struct net_hdr *)p;
}

/* Send buf's header and len-byte frame as one buffer; the device must
 * give the chain back with nothing written and not need a reset. */
static void send_dropped(const char *what, u32 len)
{
    struct virtq_buf b = { (u32)(uintptr_t)buf,
                           (u32)sizeof(struct net_hdr) + len, false };
    u32 used;
    if (virtq_add(&txq, &b, 1) < 0)
        fail(NAME, "%s: transmit queue full", what);
    virtq_kick(&txq);
    if (virtq_wait(&txq, &used, wait_ticks) < 0) {
        virtq_dump(&txq);
        fail(NAME, "%s: the device did not return the %u-byte frame", what,
             len);
    }
    u8 st = virtio_status(&dev);
    if (used || (st & VIRTIO_STATUS_NEEDS_RESET))
        fail(NAME, "%s: used len %u, device_status 0x%x", what, used, st);
}

/* Frames that cannot be Ethernet frames, or ask for what cannot be. */
static void bad_frames(void)
{
    build(buf, mymac, C_RUNT, 0);
    send_dropped("runt", 0);
    build(buf, mymac, C_RUNT, RUNT_LONG);
    send_dropped("runt", RUNT_LONG);
    gprintf("netbad: runt: sent frames of 0 and %u bytes; both returned\n",
            RUNT_LONG);
    build(buf, mymac, C_OVERSIZE, ETH_MTU_FRAME + 1);
    send_dropped("oversize", ETH_MTU_FRAME + 1);
    build(buf, mymac, C_OVERSIZE, BIG_FRAME);
    send_dropped("oversize", BIG_FRAME);
    gprintf("netbad: oversize: sent frames of %u and %u bytes; both "
            "returned\n", ETH_MTU_FRAME + 1, BIG_FRAME);
    build(buf, mymac, C_BAD_HEADER, ETH_MIN)->gso_type = HDR_GSO_TCPV4;
    send_dropped("bad_header", ETH_MIN);
    gprintf("netbad: bad_header: sent a GSO frame; returned\n");
    struct net_hdr *h = build(buf, mymac, C_BAD_CSUM, ETH_MIN);
    h->flags = HDR_F_NEEDS_CSUM;
    h->csum_start = CSUM_FAR_START;
    send_dropped("bad_csum", ETH_MIN);
    h = build(buf, mymac, C_BAD_CSUM, ETH_MIN);
    h->flags = HDR_F_NEEDS_CSUM;
    h->csum_start = CSUM_NEAR_START;
    h->csum_offset = CSUM_FAR_OFFSET;
    send_dropped("bad_csum", ETH_MIN);
    gprintf("netbad: bad_csum: sent %u-byte frames with csum %u+0 and "
            "%u+%u; both returned\n", ETH_MIN, CSUM_FAR_START,
            CSUM_NEAR_START, CSUM_FAR_OFFSET);
}

/* Frames well formed for the device that the bridge must refuse. */
static void bad_sources(void)
{
    build(buf, spoof, C_SPOOFED, ETH_MIN);
    send_dropped("spoofed", ETH_MIN);
    gprintf("netbad: spoofed: sent a broadcast from %02x:%02x:%02x:%02x:"
            "%02x:%02x; returned\n", spoof[0], spoof[1], spoof[2], spoof[3],
            spoof[4], spoof[5]);
    u8 group[ETH_ALEN];
    memcpy(group, mymac, ETH_ALEN);
    group[0] |= GROUP_BIT;
    build(buf, group, C_GROUP_SRC, ETH_MIN);
    send_dropped("group_src", ETH_MIN);
    gprintf("netbad: group_src: sent a frame from a group address; "
            "returned\n");
}

/* count broadcast frames, a queue's worth per notification. */
static void flood(u32 count)
{
    u32 sent = 0, back = 0, len;
    u64 start = rdtsc(), last = start;
    for (u32 k = 0; k < txq.size; k++)
        build(flood_buf[k], mymac, C_FLOOD, ETH_MIN);
    while (back < count) {
        while (sent < count && txq.num_free) {
            struct virtq_buf b = { (u32)(uintptr_t)flood_buf[sent % txq.size],
                                   sizeof(flood_buf[0]), false };
            virtq_add(&txq, &b, 1);
            sent++;
        }
        virtq_kick(&txq);
        while (virtq_get(&txq, &len) >= 0) {
            back++;
            last = rdtsc();
        }
        if (rdtsc() - last > wait_ticks) {
            virtq_dump(&txq);
            fail(NAME, "flood: %u of %u frames came back", back, sent);
        }
    }
    gprintf("netbad: flood: sent %u broadcast frames of %u bytes in %llu "
            "ticks (%u notifications); all returned\n", count, ETH_MIN,
            rdtsc() - start, txq.kicks);
}

/* A malformed chain: the device must need a reset and return nothing;
 * then reset it and set it up again. */
static void must_break(const char *what, const struct virtq_desc *d, u32 n)
{
    u16 used = txq.mem->used.idx;
    if (virtq_add_raw(&txq, d, n) < 0)
        fail(NAME, "%s: transmit queue full", what);
    virtq_kick(&txq);
    u8 st = virtio_status(&dev);
    if (!(st & VIRTIO_STATUS_NEEDS_RESET) || txq.mem->used.idx != used)
        fail(NAME, "%s: device_status 0x%x, used idx %u -> %u", what, st,
             used, txq.mem->used.idx);
    setup();
    gprintf("netbad: %s: device_status 0x%x (needs reset), nothing "
            "returned; reset and set up again\n", what, st);
}

/* Descriptors outside guest RAM, then a loop (virtio 1.2 §2.7.5.2:
 * a driver must not create a loop). */
static void bad_chains(void)
{
    build(buf, mymac, C_OUTSIDE_RAM, ETH_MIN);
    struct virtq_desc out[2] = {
        { (u32)(uintptr_t)buf, sizeof(struct net_hdr), VIRTQ_DESC_F_NEXT, 1 },
        { OUTSIDE_RAM, ETH_MIN, 0, 0 },
    };
    must_break("outside_ram", out, 2);
    build(buf, mymac, C_LOOP, ETH_MIN);
    struct virtq_desc loop[2] = {
        { (u32)(uintptr_t)buf, sizeof(struct net_hdr), VIRTQ_DESC_F_NEXT, 1 },
        { (u32)(uintptr_t)buf + sizeof(struct net_hdr), ETH_MIN,
          VIRTQ_DESC_F_NEXT, 0 },
    };
    must_break("loop", loop, 2);
}

void guest_main(u32 magic, const struct mb_info *mbi)
{
    require_multiboot(NAME, magic);
    const char *cmd = mb_cmdline(mbi);
    u64 sp = cmdline_u64(cmd, "spoof", 0);
    u32 count = (u32)cmdline_u64(cmd, "flood", FLOOD_DEFAULT);
    wait_ticks = cmdline_u64(cmd, "wait", WAIT_DEFAULT);
    if (!sp)
        fail(NAME, "no spoof=0xMAC (the address to spoof) on the cmdline");
    for (u32 i = 0; i < ETH_ALEN; i++)
        spoof[i] = (u8)(sp >> (MAC_BYTE_BITS * (ETH_ALEN - 1 - i)));
    if (!virtio_pci_scan(VIRTIO_ID_NET, &dev, 1))
        fail(NAME, "no virtio-net (0x1af4:0x1041) function on bus 0");
    virtio_pci_probe(&dev, NAME);
    setup();
    gprintf("netbad: MAC %02x:%02x:%02x:%02x:%02x:%02x, features 0x%llx; "
            "no receive buffers posted\n", mymac[0], mymac[1], mymac[2],
            mymac[3], mymac[4], mymac[5], dev.features);
    /* onlyflood=1: the flood alone (a burst the default limit passes) */
    if (cmdline_u64(cmd, "onlyflood", 0)) {
        flood(count);
        pass(NAME);
    }
    bad_frames();
    bad_sources();
    flood(count);
    bad_chains();
    gprintf("netbad: every bad frame and chain was refused\n");
    pass(NAME);
}
