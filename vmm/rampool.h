/*
 * Guest RAM for VMs created and destroyed while uhv runs. Each VM's RAM
 * is one contiguous, 2 MiB-aligned piece (EPT maps it with 2 MiB pages,
 * struct gmem sees it as one array), so this is a first-fit allocator of
 * address ranges, not of pages: a sorted table of free ranges, merged
 * with their neighbours when freed, so a destroyed VM's memory can be
 * given whole to the next one. Pure C: host unit tests run it.
 */
#ifndef UHV_VMM_RAMPOOL_H
#define UHV_VMM_RAMPOOL_H

#include "lib/types.h"

#define RAMPOOL_ALIGN   MiB(2)
#define RAMPOOL_RANGES  32       /* free pieces tracked; more are refused */

struct rampool_range {
	u64 base, size;
};

struct rampool {
	u32 n;
	struct rampool_range r[RAMPOOL_RANGES];   /* sorted by base, disjoint */
	u64 free_bytes;
};

void rampool_init(struct rampool *p);
/* Gives [base, base+size) to the pool (both RAMPOOL_ALIGN multiples);
   -1 if it is misaligned, overlaps free memory, or the table is full. */
int rampool_free(struct rampool *p, u64 base, u64 size);
/* A free piece of size bytes (a RAMPOOL_ALIGN multiple), or 0. */
u64 rampool_alloc(struct rampool *p, u64 size);
/* The largest piece rampool_alloc could return now. */
u64 rampool_largest(const struct rampool *p);

#endif
