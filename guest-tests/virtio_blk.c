/* virtio_blk - virtio-blk disks over modern virtio-pci (virtio 1.2 §5.2,
 * via lib/virtio.h).  Finds the disks (0x1AF4:0x1042, revision >= 1) on bus
 * 0, initializes each and prints its GET_ID serial.  Disk 0 (read-write,
 * >= 1 MiB): the whole disk gets a per-sector pattern (sector number, seed)
 * in requests of up to 16 KiB (request-kib), chains of 4 KiB segments
 * (seg-kib) in reverse memory order, several in flight; an undefined type
 * gets UNSUPP, reads and writes beyond capacity get IOERR and change
 * nothing; FLUSH; all is read back and compared.  Disk 1 (if any, VIRTIO_BLK_F_RO): reads work, a write gets
 * IOERR and changes nothing.  Completions are polled, each wait limited.
 * Options: seed=N (default 1); verify-only (read and compare disk 0 only,
 * e.g. after a power cycle); no-event-idx; poll-ms=N (default 1000);
 * request-kib=N and seg-kib=N, the most a request and a segment hold
 * (defaults 16 and 4; requests of up to 1 MiB, as Linux sends for
 * sequential I/O: tools/bench-virtio.sh); light-pattern, each sector's
 * words 0-2 only (its number and the seed: every sector still goes where
 * it should), so that the guest's own work does not dwarf the I/O's.
 * Requests beyond capacity break §5.2.6.1 on purpose. */
#include "guest.h"
#include "virtio.h"

#define NAME            "virtio_blk"
#define MAX_DISKS       2u
#define SECTOR          VIRTIO_BLK_SECTOR
#define SECTOR_SHIFT    9
#define MIB_SECTORS_SHIFT 11            /* 2^11 sectors = 1 MiB */
#define MIN_SECTORS     (MIB / SECTOR)  /* disk 0 has at least 1 MiB */
#define KIB             1024u
#define SEG_KIB_DEFAULT 4u              /* one data descriptor */
#define REQ_KIB_DEFAULT 16u             /* per request */
#define CHUNK_BYTES     (1024u * KIB)   /* the most a request holds */
#define SEGS_MAX        (VIRTQ_SMALL_SIZE - CHAIN_EXTRA)
#define SLOTS_MAX       4u              /* requests in flight */
#define CHAIN_EXTRA     2u              /* header and status descriptors */
#define POLL_MS_DEFAULT 1000u           /* TSC ms; 1 tick = 1 insn in Bochs */
#define MS_PER_S        1000u
#define TSC_HZ_DEFAULT  1000000000ull   /* if CPUID gives no TSC rate */
#define DEFAULT_SEED    1u
#define PRINT_LOW       0x20
#define PRINT_HIGH      0x7E
#define BLK_T_UNDEFINED 0x7Fu           /* no request type, new or legacy */
#define BLK_S_UNSET     0xFFu           /* status the device must overwrite */
#define WRAP_SECTOR     ((u64)1 << 55)  /* * 512 wraps 64 bits to 0 */
#define LAST_SECTOR     (~(u64)0)       /* + 1 wraps to 0 */

/* The pattern: words 0-2 name sector and seed, the rest are mixed. */
#define WORDS           (SECTOR / sizeof(u32))
#define WORD_SECTOR_LO  0u
#define WORD_SECTOR_HI  1u
#define WORD_SEED       2u
#define LIGHT_WORDS     (WORD_SEED + 1)  /* light-pattern's words */
#define PATTERN_TAG     0x4B4C4256u     /* "VBLK" */
#define MUL_SECTOR      0x9E3779B1u
#define MUL_SEED        0x85EBCA77u
#define MUL_WORD        0xC2B2AE3Du
#define MIX_SHIFT       15
#define HIGH_SHIFT      32

/* One request in flight. */
struct slot {
    struct virtio_blk_req_hdr hdr;
    u8 status;
    int head;               /* -1: free */
    u64 sector;
    u32 sectors, segs, writable, want;
};

/* A disk and how requests to it are cut. */
struct disk {
    struct virtio_dev dev;
    struct virtq vq;
    u64 capacity;           /* 512-byte sectors */
    u32 seg_bytes, segs, slots;
    bool ro;
};

static struct disk disks[MAX_DISKS];
static struct virtq_mem qmem[MAX_DISKS];
static struct slot slots[SLOTS_MAX];
static u8 data[SLOTS_MAX][CHUNK_BYTES] __attribute__((aligned(PAGE_SIZE)));
static u8 saved[CHUNK_BYTES];
static u64 wait_ticks;
static u32 poll_ms, requests, segments;
static u32 seg_opt = SEG_KIB_DEFAULT * KIB, req_opt = REQ_KIB_DEFAULT * KIB;
static bool light_pattern;              /* words 0-2 only (LIGHT_WORDS) */

/* The smaller of a and b. */
static u32 min32(u32 a, u32 b)
{
    return a < b ? a : b;
}

/* Word i of sector s's pattern for seed. */
static u32 pattern(u64 s, u32 seed, u32 i)
{
    if (i == WORD_SECTOR_LO)
        return (u32)s;
    if (i == WORD_SECTOR_HI)
        return (u32)(s >> HIGH_SHIFT) ^ PATTERN_TAG;
    if (i == WORD_SEED)
        return seed;
    u32 x = ((u32)s * MUL_SECTOR ^ seed * MUL_SEED) + i * MUL_WORD;
    return x ^ x >> MIX_SHIFT;
}

/* Where sector k of slot n's request lies: data segments go to memory in
 * reverse order, so a device that treats the chain as one buffer fails. */
static u32 *sector_mem(const struct disk *d, u32 n, u32 k)
{
    u32 off = k << SECTOR_SHIFT, seg = off / d->seg_bytes;
    return (u32 *)&data[n][(slots[n].segs - 1 - seg) * d->seg_bytes +
                           off % d->seg_bytes];
}

/* Sector s's first `words` words of the pattern into w: inlined with a
 * constant count at each call, as the loop was before light-pattern. */
static inline __attribute__((always_inline)) void
fill_sector(u32 *w, u64 s, u32 seed, u32 words)
{
    for (u32 i = 0; i < words; i++)
        w[i] = pattern(s, seed, i);
}

/* Fill slot n's request with the pattern. */
static void fill(const struct disk *d, u32 n, u32 seed)
{
    for (u32 k = 0; k < slots[n].sectors; k++) {
        u32 *w = sector_mem(d, n, k);
        if (light_pattern)
            fill_sector(w, slots[n].sector + k, seed, LIGHT_WORDS);
        else
            fill_sector(w, slots[n].sector + k, seed, WORDS);
    }
}

/* The first word of w, of `words`, that is not sector s's pattern, or
 * words if none (inlined as fill_sector is). */
static inline __attribute__((always_inline)) u32
bad_word(const u32 *w, u64 s, u32 seed, u32 words)
{
    for (u32 i = 0; i < words; i++)
        if (w[i] != pattern(s, seed, i))
            return i;
    return words;
}

/* FAIL unless slot n's data holds the pattern; when says after what. */
static void check(const struct disk *d, u32 n, u32 seed, const char *when)
{
    for (u32 k = 0; k < slots[n].sectors; k++) {
        const u32 *w = sector_mem(d, n, k);
        u64 s = slots[n].sector + k;
        u32 words = light_pattern ? LIGHT_WORDS : WORDS;
        u32 i = light_pattern ? bad_word(w, s, seed, LIGHT_WORDS)
                              : bad_word(w, s, seed, WORDS);
        if (i < words)
            fail(NAME, "%s: sector %llu word %u is 0x%08x, want 0x%08x "
                 "(the sector has sector tag %u, seed %u)", when, s, i,
                 w[i], pattern(s, seed, i), w[WORD_SECTOR_LO], w[WORD_SEED]);
    }
}

/* Aim free slot n at sectors [sector, sector + sectors) and count the
 * data segments that takes; fill, check and start follow this plan. */
static void plan(const struct disk *d, u32 n, u64 sector, u32 sectors)
{
    slots[n].sector = sector;
    slots[n].sectors = sectors;
    slots[n].segs = ((sectors << SECTOR_SHIFT) + d->seg_bytes - 1) /
                    d->seg_bytes;
}

/* Put the request planned in slot n on d's queue (not yet kicked): header,
 * data buffers as type needs, status byte; expect status want. */
static void start(struct disk *d, u32 n, u32 type, u32 want)
{
    struct slot *s = &slots[n];
    struct virtq_buf b[VIRTQ_SMALL_SIZE];
    u32 nb = 0, bytes = s->sectors << SECTOR_SHIFT;
    bool dev_writes = type != VIRTIO_BLK_T_OUT;
    s->hdr = (struct virtio_blk_req_hdr){ .type = type, .sector = s->sector };
    s->status = BLK_S_UNSET;
    s->want = want;
    s->writable = sizeof(s->status);
    b[nb++] = (struct virtq_buf){ (u32)(uintptr_t)&s->hdr, sizeof(s->hdr),
                                  false };
    if (type == VIRTIO_BLK_T_GET_ID) {
        s->segs = 1;
        bytes = VIRTIO_BLK_ID_BYTES;
    }
    for (u32 j = 0; j < s->segs; j++) {
        u32 len = min32(bytes - j * d->seg_bytes, d->seg_bytes);
        u32 at = (s->segs - 1 - j) * d->seg_bytes;
        b[nb++] = (struct virtq_buf){ (u32)(uintptr_t)&data[n][at], len,
                                      dev_writes };
        s->writable += dev_writes ? len : 0;
    }
    b[nb++] = (struct virtq_buf){ (u32)(uintptr_t)&s->status, 1, true };
    s->head = virtq_add(&d->vq, b, nb);
    if (s->head < 0)
        fail(NAME, "no room for a %u-descriptor chain", nb);
    requests++;
    segments += s->segs;
}

/* Wait for one of d's requests to complete; check its status and used len
 * (§2.7.8: the driver trusts only len bytes, so a good request must report
 * all it wrote).  Returns its slot, now free. */
static u32 finish(struct disk *d)
{
    u32 len;
    int id = virtq_wait(&d->vq, &len, wait_ticks);
    if (id < 0) {
        virtq_dump(&d->vq);
        fail(NAME, "00:%02x.%u: no request completed within %u ms",
             d->dev.slot, d->dev.fn, poll_ms);
    }
    for (u32 n = 0; n < d->slots; n++) {
        struct slot *s = &slots[n];
        if (s->head != id)
            continue;
        s->head = -1;
        u8 st = *(volatile u8 *)&s->status;
        if (st != s->want)
            fail(NAME, "type %u sector %llu x%u: status %u, want %u",
                 s->hdr.type, s->sector, s->sectors, st, s->want);
        if (!len || len > s->writable ||
            (st == VIRTIO_BLK_S_OK && len != s->writable))
            fail(NAME, "type %u sector %llu: used len %u, want %s%u (the "
                 "device-writable bytes)", s->hdr.type, s->sector, len,
                 st == VIRTIO_BLK_S_OK ? "" : "1..", s->writable);
        return n;
    }
    fail(NAME, "used id %d is no request of ours", id);
}

/* One request in slot 0, start to finish; plan it first unless sectors
 * is ~0 (already planned, e.g. to fill it). */
static void one(struct disk *d, u32 type, u64 sector, u32 sectors, u32 want)
{
    if (sectors != ~0u)
        plan(d, 0, sector, sectors);
    start(d, 0, type, want);
    virtq_kick(&d->vq);
    finish(d);
}

/* uhv's mark port (docs/interfaces.md): the bench times the phases. */
#define UHV_MARK_PORT    0x520
#define MARK_WRITE_START 10              /* and 11 at its end */
#define MARK_READ_START  12              /* and 13 */

/* Write (T_OUT) or read and check (T_IN) the pattern over all of d, with
 * up to d->slots requests in flight, all free slots kicked at once; the
 * marks mark_start and mark_start + 1 around the requests alone. */
static void whole_disk(struct disk *d, u32 type, u32 seed, u8 mark_start)
{
    u64 next = 0, done = 0;
    u32 chunk = (d->seg_bytes * d->segs) >> SECTOR_SHIFT, reqs = requests;
    outb(UHV_MARK_PORT, mark_start);    /* uhv prints time and exits */
    while (done < d->capacity) {
        for (u32 n = 0; n < d->slots && next < d->capacity; n++) {
            if (slots[n].head >= 0)
                continue;
            u64 left = d->capacity - next;
            plan(d, n, next, left < chunk ? (u32)left : chunk);
            if (type == VIRTIO_BLK_T_OUT)
                fill(d, n, seed);
            start(d, n, type, VIRTIO_BLK_S_OK);
            next += slots[n].sectors;
        }
        virtq_kick(&d->vq);
        u32 n = finish(d);
        if (type == VIRTIO_BLK_T_IN)
            check(d, n, seed, "read back");
        done += slots[n].sectors;
    }
    outb(UHV_MARK_PORT, mark_start + 1);
    gprintf("disk0: %s %llu sectors (%llu MiB) in %u requests, seed %u\n",
            type == VIRTIO_BLK_T_OUT ? "wrote" : "read and compared",
            d->capacity, d->capacity >> MIB_SECTORS_SHIFT, requests - reqs,
            seed);
}

/* Read config field off of d if feature bit is negotiated, else def. */
static u32 cfg_or(const struct disk *d, u32 bit, u32 off, u32 def)
{
    return d->dev.features & VIRTIO_BIT(bit) ?
           virtio_cfg_read32(&d->dev, off) : def;
}

/* Set up disk i: probe, negotiate, read its configuration, queue 0,
 * DRIVER_OK, then print its GET_ID serial. */
static void setup(struct disk *d, u32 i, bool event_idx)
{
    virtio_pci_probe(&d->dev, NAME);
    if (d->dev.revision < 1)
        fail(NAME, "00:%02x.%u: revision %u, want >= 1 (non-transitional)",
             d->dev.slot, d->dev.fn, d->dev.revision);
    u64 want = VIRTIO_BIT(VIRTIO_BLK_F_SIZE_MAX) |
               VIRTIO_BIT(VIRTIO_BLK_F_SEG_MAX) | VIRTIO_BIT(VIRTIO_BLK_F_RO) |
               VIRTIO_BIT(VIRTIO_BLK_F_BLK_SIZE) |
               VIRTIO_BIT(VIRTIO_BLK_F_FLUSH) |
               (event_idx ? VIRTIO_BIT(VIRTIO_F_EVENT_IDX) : 0);
    virtio_negotiate(&d->dev, want, VIRTIO_BIT(VIRTIO_F_VERSION_1));
    d->capacity = virtio_cfg_read64(&d->dev, VIRTIO_BLK_CFG_CAPACITY);
    d->ro = d->dev.features & VIRTIO_BIT(VIRTIO_BLK_F_RO);
    u32 size_max = cfg_or(d, VIRTIO_BLK_F_SIZE_MAX, VIRTIO_BLK_CFG_SIZE_MAX,
                          0);
    u32 seg_max = cfg_or(d, VIRTIO_BLK_F_SEG_MAX, VIRTIO_BLK_CFG_SEG_MAX, 0);
    u32 blk = cfg_or(d, VIRTIO_BLK_F_BLK_SIZE, VIRTIO_BLK_CFG_BLK_SIZE, 0);
    d->seg_bytes = size_max ? min32(seg_opt, size_max & ~(SECTOR - 1)) :
                   seg_opt;             /* 0 here: not offered, no limit */
    d->segs = min32(req_opt / seg_opt, SEGS_MAX);
    d->segs = seg_max ? min32(d->segs, seg_max) : d->segs;
    if (!d->seg_bytes)
        fail(NAME, "disk%u: size_max %u is less than a sector", i, size_max);
    virtq_init(&d->vq, &d->dev, &qmem[i], 0, VIRTQ_SMALL_SIZE);
    if (d->vq.size <= CHAIN_EXTRA)
        fail(NAME, "disk%u: queue of %u holds no request", i, d->vq.size);
    d->segs = min32(d->segs, d->vq.size - CHAIN_EXTRA);
    d->slots = min32(d->vq.size / (d->segs + CHAIN_EXTRA), SLOTS_MAX);
    virtio_driver_ok(&d->dev);
    memset(data[0], 0, VIRTIO_BLK_ID_BYTES);
    one(d, VIRTIO_BLK_T_GET_ID, 0, 0, VIRTIO_BLK_S_OK);
    char serial[VIRTIO_BLK_ID_BYTES + 1] = { 0 };
    for (u32 k = 0; k < VIRTIO_BLK_ID_BYTES && data[0][k]; k++)
        serial[k] = data[0][k] >= PRINT_LOW && data[0][k] <= PRINT_HIGH ?
                    (char)data[0][k] : '?';
    gprintf("disk%u: 00:%02x.%u rev %u serial \"%s\", %llu sectors (%llu "
            "MiB)%s, features 0x%llx of 0x%llx, blk_size %u, size_max %u, "
            "seg_max %u, queue %u of %u, %u x %u-byte segments per request, "
            "%u in flight\n", i, d->dev.slot, d->dev.fn, d->dev.revision,
            serial, d->capacity, d->capacity >> MIB_SECTORS_SHIFT,
            d->ro ? " read-only" : "", d->dev.features, d->dev.offered, blk,
            size_max, seg_max, d->vq.size, d->vq.device_max, d->segs,
            d->seg_bytes, d->slots);
}

/* Requests the device must refuse: an undefined type (UNSUPP), reads
 * beyond capacity (IOERR) and, when writes, writes beyond capacity (IOERR)
 * that must leave the sectors at both ends of the disk as they were. */
static void refusals(struct disk *d, u32 seed, bool writes)
{
    const u64 at[] = { d->capacity, d->capacity - 1, WRAP_SECTOR,
                       LAST_SECTOR };
    const u32 count[] = { 1, 2, 1, 1 };
    const u64 edge[] = { 0, d->capacity - 1 };
    one(d, BLK_T_UNDEFINED, 0, 1, VIRTIO_BLK_S_UNSUPP);
    for (u32 k = 0; k < ARRAY_LEN(at); k++)
        one(d, VIRTIO_BLK_T_IN, at[k], count[k], VIRTIO_BLK_S_IOERR);
    for (u32 k = 0; writes && k < ARRAY_LEN(at); k++) {
        plan(d, 0, at[k], count[k]);
        fill(d, 0, ~seed);
        one(d, VIRTIO_BLK_T_OUT, at[k], ~0u, VIRTIO_BLK_S_IOERR);
    }
    for (u32 k = 0; writes && k < ARRAY_LEN(edge); k++) {
        one(d, VIRTIO_BLK_T_IN, edge[k], 1, VIRTIO_BLK_S_OK);
        check(d, 0, seed, "after writes beyond capacity were refused");
    }
    gprintf("disk0: undefined type UNSUPP; %u reads%s beyond capacity IOERR"
            "%s\n", (u32)ARRAY_LEN(at), writes ? " and writes" : "",
            writes ? ", sectors at both ends unchanged" : "");
}

/* The read-only disk: reads work, a write is refused and changes nothing
 * (§5.2.6.2). */
static void read_only(struct disk *d)
{
    if (!d->ro)
        fail(NAME, "disk1 does not offer VIRTIO_BLK_F_RO");
    u64 chunk = (d->seg_bytes * d->segs) >> SECTOR_SHIFT;
    u32 n = (u32)(d->capacity < chunk ? d->capacity : chunk);
    u32 bytes = n << SECTOR_SHIFT;
    memset(data[0], 0, bytes);
    one(d, VIRTIO_BLK_T_IN, 0, n, VIRTIO_BLK_S_OK);
    memcpy(saved, data[0], bytes);
    for (u32 k = 0; k < bytes; k++)
        data[0][k] = (u8)~data[0][k];
    one(d, VIRTIO_BLK_T_OUT, 0, n, VIRTIO_BLK_S_IOERR);
    memset(data[0], 0, bytes);
    one(d, VIRTIO_BLK_T_IN, 0, n, VIRTIO_BLK_S_OK);
    if (memcmp(saved, data[0], bytes))
        fail(NAME, "disk1: a refused write changed sectors 0..%u", n - 1);
    one(d, VIRTIO_BLK_T_IN, d->capacity - 1, 1, VIRTIO_BLK_S_OK);
    gprintf("disk1: read %u sectors and the last one; write IOERR, data "
            "unchanged\n", n);
}

/* See the file comment. */

void guest_main(u32 magic, const struct mb_info *mbi)
{
    require_multiboot(NAME, magic);
    const char *cmd = mb_cmdline(mbi);
    u32 seed = (u32)cmdline_u64(cmd, "seed", DEFAULT_SEED);
    bool verify_only = cmdline_has(cmd, "verify-only");
    poll_ms = (u32)cmdline_u64(cmd, "poll-ms", POLL_MS_DEFAULT);
    seg_opt = (u32)cmdline_u64(cmd, "seg-kib", SEG_KIB_DEFAULT) * KIB;
    req_opt = (u32)cmdline_u64(cmd, "request-kib", REQ_KIB_DEFAULT) * KIB;
    light_pattern = cmdline_has(cmd, "light-pattern");
    if (!seg_opt || seg_opt > CHUNK_BYTES || req_opt < seg_opt ||
        req_opt > CHUNK_BYTES)
        fail(NAME, "seg-kib=%u request-kib=%u: want 1 <= seg-kib <= "
             "request-kib <= %u", seg_opt / KIB, req_opt / KIB,
             CHUNK_BYTES / KIB);
    u64 hz = tsc_hz_hv_leaf() ? tsc_hz_hv_leaf() : tsc_hz_leaf15();
    wait_ticks = udiv64((hz ? hz : TSC_HZ_DEFAULT) * poll_ms, MS_PER_S, NULL);
    for (u32 n = 0; n < SLOTS_MAX; n++)
        slots[n].head = -1;

    struct virtio_dev found[MAX_DISKS];
    u32 count = virtio_pci_scan(VIRTIO_ID_BLOCK, found, MAX_DISKS);
    gprintf("%u virtio-blk function(s) on bus 0; seed %u; %s\n", count, seed,
            verify_only ? "verify-only" : "write, flush, verify");
    if (!count)
        fail(NAME, "no virtio-blk (0x1af4:0x1042) function on bus 0");
    count = min32(count, MAX_DISKS);
    for (u32 i = 0; i < count; i++) {
        disks[i].dev = found[i];
        setup(&disks[i], i, !cmdline_has(cmd, "no-event-idx"));
    }

    struct disk *d = &disks[0];
    if (d->ro)
        fail(NAME, "disk0 offers VIRTIO_BLK_F_RO; it should be read-write");
    if (d->capacity < MIN_SECTORS)
        fail(NAME, "disk0 has %llu sectors, want >= %u", d->capacity,
             MIN_SECTORS);
    if (!verify_only)
        whole_disk(d, VIRTIO_BLK_T_OUT, seed, MARK_WRITE_START);
    refusals(d, seed, !verify_only);
    bool flush = d->dev.features & VIRTIO_BIT(VIRTIO_BLK_F_FLUSH);
    if (!verify_only && flush)
        one(d, VIRTIO_BLK_T_FLUSH, 0, 0, VIRTIO_BLK_S_OK);
    gprintf("disk0: %s\n", verify_only ? "verify-only: no writes" : flush ?
            "flushed" : "no VIRTIO_BLK_F_FLUSH: writes are stable at once");
    whole_disk(d, VIRTIO_BLK_T_IN, seed, MARK_READ_START);
    if (count > 1)
        read_only(&disks[1]);

    for (u32 i = 0; i < count; i++) {
        u8 st = virtio_status(&disks[i].dev);
        if (st & (VIRTIO_STATUS_NEEDS_RESET | VIRTIO_STATUS_FAILED))
            fail(NAME, "disk%u: device_status 0x%x", i, st);
        gprintf("disk%u: %u notifications, %u suppressed by the device\n", i,
                disks[i].vq.kicks, disks[i].vq.kicks_skipped);
        virtio_reset(&disks[i].dev);
    }
    gprintf("%u requests, %u data segments\n", requests, segments);
    pass(NAME);
}
