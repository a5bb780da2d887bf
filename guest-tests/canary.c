/* canary - run beside isolation (or any hostile guest) to show that other
 * VMs' writes never land here.  Fills our RAM above the image with an
 * address-dependent pattern, then spins until the TSC has advanced by
 * wait=N ticks (default 300000000), re-checking the pattern every ~10M
 * ticks and once more at the end.  Passes if it never changed. */
#include "guest.h"
#include "ramtest.h"

#define NAME "canary"
#define CANARY_SEED     0xCA7A7A11u
#define WAIT_DEFAULT    300000000ull
#define CHECK_INTERVAL  10000000ull     /* TSC ticks between checks */

/* Check the pattern; fail the test on any difference. */
static void check(const struct ram_region *r, u32 n, u32 round)
{
    struct ram_mismatch bad;
    if (!ram_verify(r, n, CANARY_SEED, &bad))
        fail(NAME, "check %u: word at 0x%08x is 0x%08x, wrote 0x%08x",
             round, bad.addr, bad.got, bad.want);
}

/* See the file comment. */
void guest_main(u32 magic, const struct mb_info *mbi)
{
    require_multiboot(NAME, magic);
    u64 wait = cmdline_u64(mb_cmdline(mbi), "wait", WAIT_DEFAULT);
    struct ram_region r[MB_REGIONS_MAX];
    u32 n = ram_regions_above_image(mbi, r, MB_REGIONS_MAX);
    if (!n)
        fail(NAME, "no usable RAM above the image");
    u64 total = ram_total(r, n);
    gprintf("filling %llu KiB at 0x%08x.., waiting %llu ticks\n",
            total / KIB, r[0].base, wait);

    ram_fill(r, n, CANARY_SEED);         /* mbi is not used past here */
    u64 start = rdtsc(), last = start, now;
    u32 rounds = 0;
    while ((now = rdtsc()) - start < wait) {
        if (now - last >= CHECK_INTERVAL) {
            check(r, n, ++rounds);
            last = rdtsc();
        }
    }
    check(r, n, ++rounds);
    gprintf("pattern intact after %u checks over %llu ticks\n", rounds,
            rdtsc() - start);
    pass(NAME);
}
