/* netpair - two VMs talking over virtio-net NICs (virtio 1.2 §5.1, modern
 * virtio-pci via lib/virtio.h) through uhv's L2 bridge; a third VM on
 * another network must hear nothing.  One image, role from the cmdline:
 *   role=a / role=b (same network): read the MAC from device config, post
 *     receive buffers (queue 0), broadcast HELLO frames (EtherType 0x88B5,
 *     carrying MAC, role and the number of posted buffers) every hello=N
 *     ticks until the peer's HELLO is heard; a HELLO that says "not heard
 *     you yet" is answered with one more HELLO.  Only the other role of
 *     the pair counts as the peer; other frames are printed and ignored.
 *     Then A sends count=N
 *     (default 2000) unicast DATA frames to B, sizes 60, 61, ... 1514,
 *     60, ... (or all size=N bytes), each with sequence number, total and
 *     a checksum of its payload, never more in flight than B's posted
 *     buffers less a margin, nor than window=N (ACKed frames are
 *     processed and their buffers posted again); the frames a window
 *     allows go out with one notification.  B checks order, size and
 *     checksum and ACKs every few frames (ack=N) and the last one.
 *     A smaller window leaves B room for other senders' broadcasts.  A then sends DONE (its counts), B answers DONE (its
 *     counts), both print frames/bytes/out-of-order/bad checksum/lost and
 *     PASS or FAIL.  Each side also checks a broadcast from the peer
 *     arrived.
 *   role=c (another network): posts buffers, broadcasts one HELLO, listens
 *     listen=N ticks (default 1500000000); any frame received = FAIL.
 * Polling only; every wait is bounded by wait=N TSC ticks without progress
 * (default 3000000000), after which it FAILs with the queue state.
 * With `mark`, A and B write uhv's mark port when the handshake is done
 * (MARK_DATA_START) and when the DATA is all ACKed / A's DONE arrived
 * (MARK_DATA_END): tools/bench-net.sh times the exchange by them. */
#include "guest.h"
#include "virtio.h"

#define NAME            "netpair"

/* §5.1.3: feature bits; §5.1.4: struct virtio_net_config offsets. */
#define VIRTIO_NET_F_MTU        3u
#define VIRTIO_NET_F_MAC        5u
#define VIRTIO_NET_F_STATUS     16u
#define NET_CFG_MAC             0x00u
#define NET_CFG_STATUS          0x06u
#define NET_CFG_MTU             0x0Au
#define NET_S_LINK_UP           0x1u
#define RXQ                     0u
#define TXQ                     1u

/* §5.1.6: struct virtio_net_hdr (12 bytes with VERSION_1). */
struct net_hdr {
    u8 flags, gso_type;
    u16 hdr_len, gso_size, csum_start, csum_offset, num_buffers;
} __attribute__((packed));

#define ETH_ALEN        6u
#define ETH_HLEN        14u
#define ETH_MIN         60u             /* frame without FCS */
#define ETH_MAX         1514u
#define ETHERTYPE       0x88B5u         /* IEEE local experimental 1 */
#define BUF_BYTES       1536u           /* >= 12 + 1514 */
#define CFG_RETRIES     100u

/* Our protocol header, after the Ethernet header. */
#define PROTO_MAGIC     0x4E564855u     /* "UHVN" */
enum { T_HELLO = 1, T_DATA, T_ACK, T_DONE };
struct proto {
    u32 magic;
    u8 type, role, heard, pad;
    u32 seq;            /* DATA: sequence; ACK: frames received */
    u32 aux;            /* DATA: total; HELLO: posted buffers */
    u32 cksum;          /* DATA: checksum of the bytes after this header */
    u8 mac[ETH_ALEN];   /* sender's MAC */
    u16 pad2;
} __attribute__((packed));

/* DONE: the sender's counts, in the payload. */
struct counts {
    u32 frames, bytes, ooo, bad, lost;
};

struct frame {
    struct net_hdr vh;
    u8 dst[ETH_ALEN], src[ETH_ALEN];
    u8 type_hi, type_lo;
    struct proto p;
    u8 data[BUF_BYTES - sizeof(struct net_hdr) - ETH_HLEN -
            sizeof(struct proto)];
} __attribute__((packed));

#define HDRS            (ETH_HLEN + sizeof(struct proto))
_Static_assert(ETH_HLEN + sizeof(struct proto) <= ETH_MIN,
               "protocol headers fit the smallest DATA frame");
#define MAX_SEQ         65536u
#define WINDOW_MARGIN   2u

/* uhv's mark port (docs/interfaces.md) and the marks of the exchange. */
#define UHV_MARK_PORT   0x520u
#define MARK_DATA_START 20u
#define MARK_DATA_END   21u

static struct virtio_dev dev;
static struct virtq rxq, txq;
static struct virtq_mem rxmem, txmem;
static struct frame rxbuf[VIRTQ_MAX_SIZE] __attribute__((aligned(64)));
static struct frame txbuf[VIRTQ_MAX_SIZE] __attribute__((aligned(64)));
static u16 rx_owner[VIRTQ_MAX_SIZE], tx_owner[VIRTQ_MAX_SIZE];
static u16 tx_free[VIRTQ_MAX_SIZE], tx_nfree;
static u8 seen[MAX_SEQ / 8];
static u8 mymac[ETH_ALEN], peermac[ETH_ALEN];
static const u8 bcast[ETH_ALEN] = { 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF };
static char role;
static u64 wait_ticks;
static u32 fixed_size, ack_every;   /* size=N, ack=N; 0: the defaults */
static bool marks;

/* State of the exchange. */
static bool heard_peer, peer_heard_us, got_bcast, got_done;
static u32 peer_posted, sent, acked, rx_frames, tx_frames;
static u32 d_frames, d_bytes, d_ooo, d_bad, d_dup, d_badlen, next_seq, total;
static u32 other_frames;
static struct counts done_msg;

static void print_mac(const char *what, const u8 *m)
{
    gprintf("%s %02x:%02x:%02x:%02x:%02x:%02x", what, m[0], m[1], m[2], m[3],
            m[4], m[5]);
}

static bool mac_eq(const u8 *a, const u8 *b)
{
    return !memcmp(a, b, ETH_ALEN);
}

/* FAIL with both queues' state. */
__attribute__((noreturn)) static void stuck(const char *what)
{
    virtq_dump(&rxq);
    virtq_dump(&txq);
    fail(NAME, "role %c: %s: no progress within %llu ticks (sent %u, acked "
         "%u, data received %u)", role, what, wait_ticks, sent, acked,
         d_frames);
}

/* Size of DATA frame seq: size=N, or 60, 61, ..., 1514, 60, ... */
static u32 data_size(u32 seq)
{
    if (fixed_size)
        return fixed_size;
    return ETH_MIN + seq % (ETH_MAX - ETH_MIN + 1);
}

/* With `mark`: uhv prints the time and this VM's exits (bench-net.sh). */
static void mark(u8 what)
{
    if (marks)
        outb(UHV_MARK_PORT, what);
}

/* Payload byte i of DATA frame seq, and the checksum of a payload. */
static u8 data_byte(u32 seq, u32 i)
{
    return (u8)(seq * 31u + i * 7u + (i >> 8));
}
static u32 cksum(const u8 *p, u32 n)
{
    u32 a = 1, b = 0;               /* Adler-style, modulo 2^16 halves */
    for (u32 i = 0; i < n; i++) {
        a = (a + p[i]) & 0xFFFFu;
        b = (b + a) & 0xFFFFu;
    }
    return b << 16 | a;
}

/* Post receive buffer k (not kicked). */
static void post_rx(u16 k)
{
    struct virtq_buf b = { (u32)(uintptr_t)&rxbuf[k], sizeof(rxbuf[k]),
                           true };
    int head = virtq_add(&rxq, &b, 1);
    if (head < 0)
        fail(NAME, "receive queue full while posting buffer %u", k);
    rx_owner[head] = k;
}

/* Take back finished transmit buffers. */
static void reap_tx(void)
{
    u32 len;
    int id;
    while ((id = virtq_get(&txq, &len)) >= 0)
        tx_free[tx_nfree++] = tx_owner[id];
}

/* A transmit buffer with the Ethernet and protocol headers filled in;
 * waits (bounded) for one to come free. */
static struct frame *tx_begin(const u8 *dst, u8 type)
{
    u64 end = rdtsc() + wait_ticks;
    while (reap_tx(), !tx_nfree)
        if (rdtsc() > end)
            stuck("waiting for a free transmit buffer");
    struct frame *f = &txbuf[tx_free[tx_nfree - 1]];
    memset(f, 0, sizeof(struct net_hdr) + HDRS);
    memcpy(f->dst, dst, ETH_ALEN);
    memcpy(f->src, mymac, ETH_ALEN);
    f->type_hi = ETHERTYPE >> 8;
    f->type_lo = ETHERTYPE & 0xFF;
    f->p.magic = PROTO_MAGIC;
    f->p.type = type;
    f->p.role = (u8)role;
    memcpy(f->p.mac, mymac, ETH_ALEN);
    return f;
}

/* Queue the frame tx_begin gave, len bytes of Ethernet frame; the
 * device sees it at the next virtq_kick (batching: one notification for
 * all the frames queued since, §2.7.13). */
static void tx_queue(struct frame *f, u32 len)
{
    u16 k = tx_free[--tx_nfree];
    struct virtq_buf b = { (u32)(uintptr_t)f, sizeof(struct net_hdr) + len,
                           false };
    int head = virtq_add(&txq, &b, 1);
    if (head < 0)
        fail(NAME, "transmit queue full with a free buffer");
    tx_owner[head] = k;
    tx_frames++;
}

/* Queue the frame tx_begin gave and notify the device. */
static void tx_send(struct frame *f, u32 len)
{
    tx_queue(f, len);
    virtq_kick(&txq);
}

static void send_hello(void)
{
    struct frame *f = tx_begin(bcast, T_HELLO);
    f->p.heard = heard_peer;
    f->p.aux = rxq.size;
    tx_send(f, ETH_MIN);
}

static void send_ack(void)
{
    struct frame *f = tx_begin(peermac, T_ACK);
    f->p.seq = d_frames;
    tx_send(f, ETH_MIN);
}

/* B: frames of the total that never arrived. */
static u32 lost_frames(void)
{
    u32 uniq = d_frames - d_dup;
    return total > uniq ? total - uniq : 0;
}

static void send_done(void)
{
    struct frame *f = tx_begin(peermac, T_DONE);
    struct counts c = { role == 'a' ? sent : d_frames, d_bytes, d_ooo,
                        d_bad + d_badlen, role == 'a' ? 0 : lost_frames() };
    f->p.seq = c.frames;
    memcpy(f->data, &c, sizeof(c));
    tx_send(f, HDRS + sizeof(c) < ETH_MIN ? ETH_MIN : HDRS + sizeof(c));
}

static void send_data(void)
{
    u32 len = data_size(sent);
    struct frame *f = tx_begin(peermac, T_DATA);
    u32 n = len - HDRS;
    for (u32 i = 0; i < n; i++)
        f->data[i] = data_byte(sent, i);
    f->p.seq = sent;
    f->p.aux = total;
    f->p.cksum = cksum(f->data, n);
    d_bytes += len;
    tx_queue(f, len);
    sent++;
}

/* B: one DATA frame of Ethernet length len. */
static void on_data(const struct frame *f, u32 len)
{
    u32 seq = f->p.seq;
    total = f->p.aux;
    d_frames++;
    d_bytes += len;
    if (seq != next_seq) {
        if (d_ooo < 5)
            gprintf("b: DATA seq %u, expected %u\n", seq, next_seq);
        d_ooo++;
    }
    if (seq < MAX_SEQ) {
        if (seen[seq / 8] & (1u << (seq % 8)))
            d_dup++;
        seen[seq / 8] |= (u8)(1u << (seq % 8));
    }
    next_seq = seq + 1;
    if (len != data_size(seq)) {
        if (d_badlen < 5)
            gprintf("b: DATA seq %u is %u bytes, want %u\n", seq, len,
                    data_size(seq));
        d_badlen++;
    } else if (cksum(f->data, len - HDRS) != f->p.cksum) {
        if (d_bad < 5)
            gprintf("b: DATA seq %u: bad checksum\n", seq);
        d_bad++;
    }
    u32 every = ack_every ? ack_every : rxq.size > 2 * WINDOW_MARGIN ?
                (rxq.size - WINDOW_MARGIN) / 2u : 1u;
    if (d_frames % every == 0 || seq + 1 >= total)
        send_ack();
}

/* Handle one received frame (used len includes the virtio-net header). */
static void on_frame(struct frame *f, u32 used)
{
    rx_frames++;
    if (used < sizeof(struct net_hdr) + ETH_HLEN || used > sizeof(*f))
        fail(NAME, "role %c: receive used len %u", role, used);
    u32 len = used - sizeof(struct net_hdr);
    if (role == 'c') {
        print_mac("c: received a frame from", f->src);
        gprintf(" (%u bytes, EtherType 0x%02x%02x)\n", len, f->type_hi,
                f->type_lo);
        fail(NAME, "role c heard a frame from another network");
    }
    bool ours = len >= HDRS && f->type_hi == ETHERTYPE >> 8 &&
                f->type_lo == (ETHERTYPE & 0xFF) &&
                f->p.magic == PROTO_MAGIC &&
                f->p.role == (role == 'a' ? 'b' : 'a') &&
                mac_eq(f->src, f->p.mac);
    if (!ours || (heard_peer && !mac_eq(f->src, peermac))) {
        if (other_frames++ < 5) {
            print_mac("ignoring a frame from", f->src);
            gprintf(" (%u bytes)\n", len);
        }
        return;
    }
    if (mac_eq(f->dst, bcast))
        got_bcast = true;
    switch (f->p.type) {
    case T_HELLO:
        if (!heard_peer) {
            memcpy(peermac, f->src, ETH_ALEN);
            peer_posted = f->p.aux;
            heard_peer = true;
            gprintf("%c: heard HELLO from role %c", role, f->p.role);
            print_mac(",", peermac);
            gprintf(", %u buffers posted, it has %sheard us\n", peer_posted,
                    f->p.heard ? "" : "not ");
        }
        if (f->p.heard)
            peer_heard_us = true;
        else
            send_hello();       /* tell it we are here (heard = 1) */
        break;
    case T_DATA:
        if (role == 'b')
            on_data(f, len);
        break;
    case T_ACK:
        if (role == 'a' && f->p.seq > acked)
            acked = f->p.seq;
        break;
    case T_DONE:
        if (len < HDRS + sizeof(struct counts))
            fail(NAME, "role %c: DONE frame of %u bytes", role, len);
        got_done = true;
        memcpy(&done_msg, f->data, sizeof(done_msg));
        break;
    default:
        fail(NAME, "role %c: protocol frame of type %u", role, f->p.type);
    }
}

/* Handle every received frame there is; repost their buffers.  Returns
 * how many. */
static u32 poll_rx(void)
{
    u32 n = 0, len;
    int id;
    while ((id = virtq_get(&rxq, &len)) >= 0) {
        u16 k = rx_owner[id];
        on_frame(&rxbuf[k], len);
        post_rx(k);
        n++;
    }
    if (n)
        virtq_kick(&rxq);
    return n;
}

/* Probe, negotiate, read config, set up queues, post buffers. */
static void setup(void)
{
    struct virtio_dev found[1];
    u32 count = virtio_pci_scan(VIRTIO_ID_NET, found, 1);
    gprintf("%c: %u virtio-net function(s) on bus 0\n", role, count);
    if (!count)
        fail(NAME, "no virtio-net (0x1af4:0x1041) function on bus 0");
    dev = found[0];
    virtio_pci_probe(&dev, NAME);
    u64 want = VIRTIO_BIT(VIRTIO_NET_F_MTU) | VIRTIO_BIT(VIRTIO_NET_F_STATUS) |
               VIRTIO_BIT(VIRTIO_F_EVENT_IDX);
    virtio_negotiate(&dev, want, VIRTIO_BIT(VIRTIO_F_VERSION_1) |
                                 VIRTIO_BIT(VIRTIO_NET_F_MAC));
    u8 gen;
    u32 tries = 0;
    do {
        if (tries++ == CFG_RETRIES)
            fail(NAME, "config_generation keeps changing");
        gen = virtio_config_generation(&dev);
        for (u32 i = 0; i < ETH_ALEN; i++)
            mymac[i] = virtio_cfg_read8(&dev, NET_CFG_MAC + i);
    } while (gen != virtio_config_generation(&dev));
    u16 status = dev.features & VIRTIO_BIT(VIRTIO_NET_F_STATUS) ?
                 virtio_cfg_read16(&dev, NET_CFG_STATUS) : NET_S_LINK_UP;
    u16 mtu = dev.features & VIRTIO_BIT(VIRTIO_NET_F_MTU) ?
              virtio_cfg_read16(&dev, NET_CFG_MTU) : 0;
    if (mymac[0] & 1)
        fail(NAME, "device MAC is a multicast address");
    virtq_init(&rxq, &dev, &rxmem, RXQ, VIRTQ_MAX_SIZE);
    virtq_init(&txq, &dev, &txmem, TXQ, VIRTQ_MAX_SIZE);
    for (u16 k = 0; k < txq.size; k++)
        tx_free[tx_nfree++] = k;
    for (u16 k = 0; k < rxq.size; k++)
        post_rx(k);
    virtio_driver_ok(&dev);
    virtq_kick(&rxq);
    gprintf("%c: 00:%02x.%u", role, dev.slot, dev.fn);
    print_mac(" MAC", mymac);
    gprintf(", status 0x%x%s, mtu %u, features 0x%llx of 0x%llx, rx queue "
            "%u of %u (all posted), tx queue %u of %u\n", status,
            status & NET_S_LINK_UP ? " (link up)" : "", mtu, dev.features,
            dev.offered, rxq.size, rxq.device_max, txq.size, txq.device_max);
    if (!(status & NET_S_LINK_UP))
        fail(NAME, "link is down");
}

/* Role c: one broadcast, then listen. */
static void role_c(u64 listen)
{
    send_hello();
    gprintf("c: sent one broadcast HELLO; listening for %llu ticks\n", listen);
    u64 end = rdtsc() + listen;
    while (rdtsc() < end) {
        poll_rx();
        reap_tx();
    }
    gprintf("c: heard nothing (%u frames)\n", rx_frames);
    pass(NAME);
}

/* Handshake: HELLO every period until the peer is heard. */
static void handshake(u64 period)
{
    u64 start = rdtsc(), next = start;
    u32 hellos = 0;
    while (!heard_peer) {
        if (rdtsc() >= next) {
            send_hello();
            hellos++;
            next = rdtsc() + period;
        }
        poll_rx();
        if (rdtsc() - start > wait_ticks)
            stuck("waiting for the peer's HELLO");
    }
    gprintf("%c: handshake done after %u periodic HELLOs\n", role, hellos);
}

/* A: DATA with a window (at most max_window; 0: no limit), then DONE. */
static void role_a(u32 count, u32 max_window)
{
    total = count;
    if (count > MAX_SEQ)
        fail(NAME, "count %u > %u", count, MAX_SEQ);
    u32 window = peer_posted > WINDOW_MARGIN ? peer_posted - WINDOW_MARGIN
                                             : 1;
    if (max_window && max_window < window)
        window = max_window;
    if (fixed_size)
        gprintf("a: sending %u DATA frames (%u bytes), window %u\n", count,
                fixed_size, window);
    else
        gprintf("a: sending %u DATA frames (60..1514 bytes), window %u\n",
                count, window);
    mark(MARK_DATA_START);
    u64 last = rdtsc();
    while (acked < count) {
        bool moved = false;
        while (sent < count && sent - acked < window) {
            send_data();
            moved = true;
        }
        if (moved)
            virtq_kick(&txq);       /* the whole window at once */
        if (poll_rx())
            moved = true;
        reap_tx();
        if (moved)
            last = rdtsc();
        else if (rdtsc() - last > wait_ticks)
            stuck("waiting for ACKs");
    }
    mark(MARK_DATA_END);
    gprintf("a: all %u DATA frames ACKed (%u bytes)\n", acked, d_bytes);
    send_done();
    u64 end = rdtsc() + wait_ticks;
    while (!got_done) {
        poll_rx();
        reap_tx();
        if (rdtsc() > end)
            stuck("waiting for B's DONE");
    }
}

/* B: receive until A's DONE, then answer it. */
static void role_b(void)
{
    mark(MARK_DATA_START);
    u64 last = rdtsc();
    while (!got_done) {
        if (poll_rx())
            last = rdtsc();
        reap_tx();
        if (rdtsc() - last > wait_ticks)
            stuck("waiting for DATA or DONE");
    }
    mark(MARK_DATA_END);
    send_done();
    u64 end = rdtsc() + wait_ticks;
    while (reap_tx(), tx_nfree < txq.size)
        if (rdtsc() > end)
            stuck("waiting for the DONE to be sent");
}

void guest_main(u32 magic, const struct mb_info *mbi)
{
    require_multiboot(NAME, magic);
    const char *cmd = mb_cmdline(mbi);
    role = cmdline_has(cmd, "role=a") ? 'a' : cmdline_has(cmd, "role=b") ?
           'b' : cmdline_has(cmd, "role=c") ? 'c' : 0;
    if (!role)
        fail(NAME, "no role=a|b|c on the cmdline \"%s\"", cmd);
    wait_ticks = cmdline_u64(cmd, "wait", 3000000000ull);
    u32 count = (u32)cmdline_u64(cmd, "count", 2000);
    u32 window = (u32)cmdline_u64(cmd, "window", 0);
    fixed_size = (u32)cmdline_u64(cmd, "size", 0);
    ack_every = (u32)cmdline_u64(cmd, "ack", 0);
    marks = cmdline_has(cmd, "mark");
    if (fixed_size && (fixed_size < ETH_MIN || fixed_size > ETH_MAX))
        fail(NAME, "size=%u is outside %u..%u", fixed_size, ETH_MIN, ETH_MAX);
    gprintf("netpair: role %c\n", role);
    setup();
    if (role == 'c')
        role_c(cmdline_u64(cmd, "listen", 1500000000ull));
    handshake(cmdline_u64(cmd, "hello", 50000000ull));
    if (role == 'a')
        role_a(count, window);
    else
        role_b();
    bool ok = got_bcast;
    if (role == 'a') {
        gprintf("a: sent %u DATA frames, %u bytes; B reports %u frames, %u "
                "bytes, %u out-of-order, %u bad checksum, %u lost\n", sent,
                d_bytes, done_msg.frames, done_msg.bytes, done_msg.ooo,
                done_msg.bad, done_msg.lost);
        ok = ok && done_msg.frames == sent && done_msg.bytes == d_bytes &&
             !done_msg.ooo && !done_msg.bad && !done_msg.lost;
    } else {
        u32 lost = lost_frames();
        gprintf("b: received %u DATA frames of %u, %u bytes (A sent %u "
                "bytes), %u out-of-order, %u bad checksum, %u bad length, %u "
                "duplicate, %u lost\n", d_frames, total, d_bytes,
                done_msg.bytes, d_ooo, d_bad, d_badlen, d_dup, lost);
        ok = ok && d_frames == total && done_msg.frames == total &&
             d_bytes == done_msg.bytes && !d_ooo && !d_bad && !d_badlen &&
             !d_dup && !lost;
    }
    gprintf("%c: broadcast from the peer %s; %u frames received, %u sent, "
            "%u other frames ignored; tx %u kicks (%u suppressed), rx %u "
            "kicks (%u suppressed)\n", role, got_bcast ? "received" :
            "NOT received", rx_frames, tx_frames, other_frames, txq.kicks,
            txq.kicks_skipped, rxq.kicks, rxq.kicks_skipped);
    if (!ok)
        fail(NAME, "role %c: counts wrong or no broadcast from the peer",
             role);
    pass(NAME);
}
