/* memory - every word of the VM's RAM above our image (per the Multiboot
 * map) holds what was written: catches unmapped, aliased or shared pages.
 * With mib=N (the size the config gave the VM), first checks that the
 * Multiboot info says so: the memory map's usable RAM ends at N MiB and
 * mem_upper is N MiB less the first one; prints "RAM: N MiB ..." only
 * after both agree with N, so the size comes from the config, not from
 * two of uhv's tables agreeing with each other. */
#include "guest.h"
#include "ramtest.h"

#define NAME "memory"
#define MEMORY_SEED 0x4D454D31u        /* "MEM1" */

/* mib=N: the memory map and mem_upper both end at N MiB. */
static void check_size(const struct mb_info *mbi, u64 mib)
{
    u64 want = mib * MIB, map_end = mb_ram_end(mbi), upper = mb_mem_bytes(mbi);
    if (map_end != want)
        fail(NAME, "memory map's RAM ends at 0x%llx, want %llu MiB (0x%llx)",
             map_end, mib, want);
    if (upper != want)
        fail(NAME, "mem_upper %u KiB ends RAM at 0x%llx, want %llu MiB",
             mbi->mem_upper, upper, mib);
    gprintf("RAM: %llu MiB as mib=%llu says: memory map ends at 0x%llx, "
            "mem_upper %u KiB\n", map_end / MIB, mib, map_end, mbi->mem_upper);
}

/* See the file comment. */
void guest_main(u32 magic, const struct mb_info *mbi)
{
    require_multiboot(NAME, magic);
    u64 mib = cmdline_u64(mb_cmdline(mbi), "mib", 0);
    if (mib)
        check_size(mbi, mib);
    struct ram_region r[MB_REGIONS_MAX];
    u32 n = ram_regions_above_image(mbi, r, MB_REGIONS_MAX);
    if (!n)
        fail(NAME, "no usable RAM above the image at 0x%x",
             (u32)(uintptr_t)__image_end);
    for (u32 i = 0; i < n; i++)
        gprintf("testing 0x%08x..0x%08x\n", r[i].base,
                r[i].base + r[i].bytes);
    u64 total = ram_total(r, n);
    gprintf("testing %llu MiB (%llu KiB)\n", total / MIB, total / KIB);

    /* The Multiboot info may lie in the range: it is not used past here. */
    ram_fill(r, n, MEMORY_SEED);
    struct ram_mismatch bad;
    if (!ram_verify(r, n, MEMORY_SEED, &bad))
        fail(NAME, "word at 0x%08x is 0x%08x, wrote 0x%08x",
             bad.addr, bad.got, bad.want);
    gprintf("verified %llu MiB\n", total / MIB);
    pass(NAME);
}
