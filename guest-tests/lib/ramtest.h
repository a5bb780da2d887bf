/* ramtest.h - fill RAM with an address-dependent pattern and check it. */
#ifndef GUEST_RAMTEST_H
#define GUEST_RAMTEST_H

#include "multiboot.h"

/* First byte above the loaded image, page aligned (from guest.ld). */
extern char __image_end[];

/* Odd multiplier (golden ratio): addr -> addr * K is a bijection on u32, so
 * every word gets a distinct value and aliased addresses are caught. */
#define RAM_PATTERN_MUL 0x9E3779B1u

/* The value the word at addr should hold for a given seed. */
static inline u32 ram_pattern(u32 addr, u32 seed)
{
    return addr * RAM_PATTERN_MUL ^ seed;
}

struct ram_mismatch {
    u32 addr, got, want;
};

u32 ram_regions_above_image(const struct mb_info *mbi,
                            struct ram_region *out, u32 max);
u64 ram_total(const struct ram_region *r, u32 n);
void ram_fill(const struct ram_region *r, u32 n, u32 seed);
bool ram_verify(const struct ram_region *r, u32 n, u32 seed,
                struct ram_mismatch *bad);

#endif
