/* canary - run beside isolation (or any hostile guest) to show that other
 * VMs' writes never land here.  Fills our RAM above the image with an
 * address-dependent pattern, prints "pattern complete", then re-checks it
 * every ~10M ticks and once more at the end.  Passes if it never changed.
 * How long it watches:
 *   - by default until the TSC has advanced by wait=N ticks (default
 *     300000000);
 *   - with `until-key`, until a 'd' (done) is typed at it on uhv's console
 *     (the test harness types it when the hostile guest says it is done);
 *     wait=N then bounds the wait, and no 'd' by then is a FAIL.
 * "pattern complete" is the barrier for the hostile guest: the harness
 * lets it start probing only after this line (tests/system/isolation.test). */
#include "guest.h"
#include "ramtest.h"

#define NAME "canary"
#define CANARY_SEED     0xCA7A7A11u
#define WAIT_DEFAULT    300000000ull
#define CHECK_INTERVAL  10000000ull     /* TSC ticks between checks */
#define KEY_DONE        'd'

/* Check the pattern; fail the test on any difference. */
static void check(const struct ram_region *r, u32 n, u32 round)
{
    struct ram_mismatch bad;
    if (!ram_verify(r, n, CANARY_SEED, &bad))
        fail(NAME, "check %u: word at 0x%08x is 0x%08x, wrote 0x%08x",
             round, bad.addr, bad.got, bad.want);
}

/* Whether to stop watching: the wait is over (time mode), or 'd' came
 * within the next interval (key mode; FAIL once the wait is over). */
static bool watch_over(bool until_key, u64 start, u64 wait)
{
    u64 now = rdtsc();
    if (!until_key) {
        tsc_spin_until(now + CHECK_INTERVAL);
        return rdtsc() - start >= wait;
    }
    int c = serial_getc_until(now + CHECK_INTERVAL);
    if (c == KEY_DONE)
        return true;
    if (c >= 0)
        fail(NAME, "typed 0x%x, want '%c' (done)", (u32)c, KEY_DONE);
    if (rdtsc() - start >= wait)
        fail(NAME, "no '%c' typed within %llu ticks", KEY_DONE, wait);
    return false;
}

/* See the file comment. */
void guest_main(u32 magic, const struct mb_info *mbi)
{
    require_multiboot(NAME, magic);
    const char *cmd = mb_cmdline(mbi);
    u64 wait = cmdline_u64(cmd, "wait", WAIT_DEFAULT);
    bool until_key = cmdline_has(cmd, "until-key");
    struct ram_region r[MB_REGIONS_MAX];
    u32 n = ram_regions_above_image(mbi, r, MB_REGIONS_MAX);
    if (!n)
        fail(NAME, "no usable RAM above the image");
    u64 total = ram_total(r, n);
    gprintf("filling %llu KiB at 0x%08x.., then watching %s\n", total / KIB,
            r[0].base, until_key ? "until 'd' is typed" : "for wait ticks");

    ram_fill(r, n, CANARY_SEED);         /* mbi and cmd are not used past here */
    check(r, n, 0);
    gprintf("pattern complete: %llu KiB filled and read back\n", total / KIB);
    u64 start = rdtsc();
    u32 rounds = 0;
    while (!watch_over(until_key, start, wait))
        check(r, n, ++rounds);
    check(r, n, ++rounds);
    gprintf("pattern intact after %u checks over %llu ticks\n", rounds,
            rdtsc() - start);
    pass(NAME);
}
