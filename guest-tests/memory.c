/* memory - every word of the VM's RAM above our image (per the Multiboot
 * map) holds what was written: catches unmapped, aliased or shared pages. */
#include "guest.h"
#include "ramtest.h"

#define NAME "memory"
#define MEMORY_SEED 0x4D454D31u        /* "MEM1" */

/* See the file comment. */
void guest_main(u32 magic, const struct mb_info *mbi)
{
    require_multiboot(NAME, magic);
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
