/*
 * uhv's physical page allocator, fed by the free regions of the firmware's
 * memory map. Hands out zeroed 4 KiB pages and contiguous aligned runs;
 * freed pages go onto a free list. Pure C: the host unit tests run it over
 * a fake memory map.
 */
#ifndef UHV_VMM_PALLOC_H
#define UHV_VMM_PALLOC_H

#include "lib/types.h"
#include "arch/x86/pgtable.h"

#define PALLOC_MAX_REGIONS 256

struct palloc {
	struct { u64 base, end; } r[PALLOC_MAX_REGIONS];
	int nr;
	u64 free_list;        /* physical address of the first freed page */
	u64 free_bytes;
	u8 *(*phys_to_virt)(u64 phys);  /* identity in uhv, a fake in tests */
};

void palloc_init(struct palloc *pa, u8 *(*phys_to_virt)(u64 phys));
/* Adds [base, base+size) (page-rounded inwards) as free memory. */
void palloc_add(struct palloc *pa, u64 base, u64 size);
/* A zeroed page, or 0 when memory is exhausted. */
u64 palloc_page(struct palloc *pa);
void palloc_free_page(struct palloc *pa, u64 phys);
/* size bytes (page multiple) at an align-aligned address, or 0. */
u64 palloc_range(struct palloc *pa, u64 size, u64 align);

/* Fills ops so that page-table builders (EPT) take pages from pa. */
void palloc_page_ops(struct page_ops *ops, struct palloc *pa);

#endif
