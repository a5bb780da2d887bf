/* ramtest.c - whole-RAM pattern fill and verify (memory, canary guests). */
#include "ramtest.h"

/* Usable RAM above our own image (stack and data included in the image),
 * per the Multiboot memory map. */
u32 ram_regions_above_image(const struct mb_info *mbi,
                            struct ram_region *out, u32 max)
{
    return mb_ram_regions(mbi, (u32)(uintptr_t)__image_end, out, max);
}

/* Total bytes in n regions. */
u64 ram_total(const struct ram_region *r, u32 n)
{
    u64 sum = 0;
    for (u32 i = 0; i < n; i++)
        sum += r[i].bytes;
    return sum;
}

/* Write ram_pattern(addr, seed) to every 32-bit word of the regions. */
void ram_fill(const struct ram_region *r, u32 n, u32 seed)
{
    for (u32 i = 0; i < n; i++) {
        volatile u32 *p = (volatile u32 *)(uintptr_t)r[i].base;
        for (u32 w = r[i].bytes / sizeof *p; w; w--, p++)
            *p = ram_pattern((u32)(uintptr_t)p, seed);
    }
}

/* Check every word against ram_pattern; on the first mismatch fill *bad
 * and return false. */
bool ram_verify(const struct ram_region *r, u32 n, u32 seed,
                struct ram_mismatch *bad)
{
    for (u32 i = 0; i < n; i++) {
        volatile u32 *p = (volatile u32 *)(uintptr_t)r[i].base;
        for (u32 w = r[i].bytes / sizeof *p; w; w--, p++) {
            u32 want = ram_pattern((u32)(uintptr_t)p, seed), got = *p;
            if (got != want) {
                bad->addr = (u32)(uintptr_t)p;
                bad->got = got;
                bad->want = want;
                return false;
            }
        }
    }
    return true;
}
