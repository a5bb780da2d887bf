/* pmtimer - the ACPI PM timer (ACPI 6.x §4.8.3.3): 3.579545 MHz, 24 bits
 * unless the FADT sets TMR_VAL_EXT.  Finds its port as an OS does: the
 * RSDP in 0xE0000-0xFFFFF, then the RSDT (XSDT for revision >= 2), then
 * the FADT's PM_TMR_BLK.  Reads the timer and the TSC across `busy` TSC
 * ticks of busy waiting (default half a second at the TSC rate CPUID leaf
 * 0x15 gives) and passes if the rate measured against the TSC is within
 * 1% of 3.579545 MHz, every value fits in 24 bits, and the count wraps
 * from 2^24 - 1 to 0 correctly: two reads across the wrap differ, modulo
 * 2^24, by what the TSC says passed between them.  The wrap comes at most
 * 2^24 / 3.579545 MHz = 4.7 s after the timer started. */
#include "guest.h"
#include "io32.h"

#define NAME             "pmtimer"
#define PM_HZ            3579545u
#define PM_BITS          24
#define PM_MASK          ((1u << PM_BITS) - 1)
#define TOLERANCE_DIV    100u          /* 1% */
#define WRAP_LEAD_DIV    20u           /* start polling 1/20 s before the wrap */
#define POLL_DIV         1000u         /* then read every 1 ms */
#define WRAP_TIMEOUT_S   6u            /* longer than one full period */
#define READ_SLOP        2u            /* counts: rounding at either end */

/* ACPI table layout (ACPI 6.x §5.2.5.3, §5.2.7, §5.2.8, §5.2.9). */
#define RSDP_SCAN_START  0xE0000u
#define RSDP_SCAN_END    0x100000u
#define RSDP_ALIGN       16u
#define RSDP_SIG         "RSD PTR "
#define RSDP_SIG_LEN     8
#define FADT_SIG         "FACP"
#define SIG_LEN          4
#define RSDT_ENTRY       4u            /* 32-bit table addresses */
#define XSDT_ENTRY       8u            /* 64-bit table addresses */
#define RSDP_V1_LEN      20u
#define RSDP_REV_OFF     15
#define RSDP_RSDT_OFF    16
#define RSDP_XSDT_OFF    24
#define ACPI_REV_XSDT    2
#define HDR_LEN_OFF      4
#define HDR_LEN          36u
#define FADT_PM_TMR_BLK  76
#define FADT_FLAGS       112
#define FADT_TMR_VAL_EXT (1u << 8)

/* Sum of n bytes: 0 for a valid ACPI checksum. */
static u8 sum8(const u8 *p, u32 n)
{
    u8 s = 0;
    while (n--)
        s += *p++;
    return s;
}

/* A little-endian 32-bit field of a table, wherever it is aligned. */
static u32 rd32(const u8 *p, u32 off)
{
    u32 v;
    memcpy(&v, p + off, sizeof(v));
    return v;
}

/* The FADT ("FACP") through RSDP and RSDT/XSDT, or NULL. */
static const u8 *find_fadt(void)
{
    for (u32 a = RSDP_SCAN_START; a < RSDP_SCAN_END; a += RSDP_ALIGN) {
        const u8 *rsdp = (const u8 *)a;
        if (memcmp(rsdp, RSDP_SIG, RSDP_SIG_LEN) || sum8(rsdp, RSDP_V1_LEN))
            continue;
        bool x = rsdp[RSDP_REV_OFF] >= ACPI_REV_XSDT && rd32(rsdp, RSDP_XSDT_OFF);
        const u8 *sdt = (const u8 *)rd32(rsdp, x ? RSDP_XSDT_OFF : RSDP_RSDT_OFF);
        u32 entry = x ? XSDT_ENTRY : RSDT_ENTRY, len = rd32(sdt, HDR_LEN_OFF);
        for (u32 off = HDR_LEN; off + entry <= len; off += entry) {
            const u8 *t = (const u8 *)rd32(sdt, off);  /* low half on XSDT */
            if (!memcmp(t, FADT_SIG, SIG_LEN) && !sum8(t, rd32(t, HDR_LEN_OFF)))
                return t;
        }
        return 0;
    }
    return 0;
}

static u16 pm_port;

/* One timer read bracketed by the TSC before and after it. */
struct sample {
    u32 pm;
    u64 before, after;
};

/* Reads the timer; FAIL if a bit above the 24 of the count is set. */
static struct sample sample(void)
{
    struct sample s;
    s.before = rdtsc();
    s.pm = inl(pm_port);
    s.after = rdtsc();
    if (s.pm & ~PM_MASK)
        fail(NAME, "timer read 0x%x: more than %u bits", s.pm, PM_BITS);
    return s;
}

/* PM counts in `ticks` TSC ticks at hz. */
static u64 counts(u64 ticks, u32 hz)
{
    return udiv64(ticks * PM_HZ, hz, NULL);
}

/* The counts from a to b (mod 2^24) must be what the TSC allows: at least
 * the ticks from a's end to b's start, at most from a's start to b's end. */
static void check_span(const char *what, struct sample a, struct sample b,
                       u32 hz)
{
    u32 d = (b.pm - a.pm) & PM_MASK;
    u64 lo = counts(b.before - a.after, hz), hi = counts(b.after - a.before, hz);
    gprintf("%s: 0x%06x -> 0x%06x, %u counts, TSC allows %llu..%llu\n", what,
            a.pm, b.pm, d, lo, hi);
    if (d + READ_SLOP < lo || d > hi + READ_SLOP)
        fail(NAME, "%s: %u counts, want %llu..%llu", what, d, lo, hi);
}

/* See the file comment. */
void guest_main(u32 magic, const struct mb_info *mbi)
{
    require_multiboot(NAME, magic);
    u64 hz64 = tsc_hz_leaf15();
    if (!hz64 || hz64 > 0xFFFFFFFFull)
        fail(NAME, "no usable TSC rate in CPUID leaf 0x15 (%llu)", hz64);
    u32 hz = (u32)hz64;
    u64 busy = cmdline_u64(mb_cmdline(mbi), "busy", hz / 2);
    const u8 *fadt = find_fadt();
    if (!fadt)
        fail(NAME, "no FADT through the RSDP");
    pm_port = (u16)rd32(fadt, FADT_PM_TMR_BLK);
    if (!pm_port || (rd32(fadt, FADT_FLAGS) & FADT_TMR_VAL_EXT))
        fail(NAME, "FADT: PM_TMR_BLK 0x%x, flags 0x%x (want a 24-bit timer)",
             pm_port, rd32(fadt, FADT_FLAGS));
    gprintf("TSC %u Hz; PM timer at port 0x%x (FADT); busy %llu ticks\n", hz,
            pm_port, busy);

    struct sample a = sample();
    tsc_spin_until(a.after + busy);
    struct sample b = sample();
    u64 ticks = (b.before + b.after) / 2 - (a.before + a.after) / 2;
    u32 d = (b.pm - a.pm) & PM_MASK;
    u64 rate = udiv64((u64)d * hz, (u32)ticks, NULL);
    gprintf("PM timer: %u counts in %llu TSC ticks = %llu Hz (want %u +- 1%%)\n",
            d, ticks, rate, PM_HZ);
    if (ticks > 0xFFFFFFFFull || rate + PM_HZ / TOLERANCE_DIV < PM_HZ ||
        rate > PM_HZ + PM_HZ / TOLERANCE_DIV)
        fail(NAME, "PM timer runs at %llu Hz", rate);
    check_span("half second", a, b, hz);

    /* Sleep (busily) until shortly before the wrap, then poll across it. */
    u64 wrap_at = b.after + udiv64((u64)(PM_MASK + 1 - b.pm) * hz, PM_HZ, NULL);
    tsc_spin_until(wrap_at - hz / WRAP_LEAD_DIV);
    struct sample prev = sample(), cur = prev;
    u64 give_up = prev.after + (u64)WRAP_TIMEOUT_S * hz;
    for (;;) {
        tsc_spin_until(prev.after + hz / POLL_DIV);
        cur = sample();
        if (cur.pm < prev.pm)
            break;
        if (cur.after > give_up)
            fail(NAME, "no wrap within %u s (at 0x%x)", WRAP_TIMEOUT_S, cur.pm);
        prev = cur;
    }
    check_span("wrap", prev, cur, hz);
    pass(NAME);
}
