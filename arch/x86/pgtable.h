/*
 * A builder for 4-level x86 radix page tables, shared by the host's own
 * IA-32e paging (SDM Vol. 3A §4.5) and by EPT (Vol. 3C §29.3): both are
 * four levels of 512 8-byte entries with the address in bits 51:12 and a
 * large-page flag in bit 7, so one mapper serves both; only the flag bits
 * differ and are passed in as a struct pt_format.
 *
 *   47    39 38    30 29    21 20    12 11       0
 *  +--------+--------+--------+--------+----------+
 *  | PML4   | PDPT   |  PD    |  PT    |  offset  |   a 48-bit address
 *  +--------+--------+--------+--------+----------+
 *
 * Pure C: tables come from a page allocator passed in as ops, so the same
 * code runs in the UEFI loader, in the hypervisor and in host unit tests.
 */
#ifndef UHV_ARCH_PGTABLE_H
#define UHV_ARCH_PGTABLE_H

#include "lib/types.h"

#define PT_ENTRIES        512
#define PT_ADDR_MASK      0x000ffffffffff000ULL
#define PT_LARGE          (1ULL << 7)    /* PS in PDE/PDPTE (both formats) */
#define PT_LEVEL_SHIFT(l) (12 + 9 * (l)) /* level 0 = PT ... 3 = PML4 */
#define PT_INDEX(a, l)    (((a) >> PT_LEVEL_SHIFT(l)) & (PT_ENTRIES - 1))
#define PT_SIZE_2M        MiB(2)

/* IA-32e paging entry bits (Vol. 3A §4.5, Table 4-15 ff.). */
#define PTE_P             (1ULL << 0)
#define PTE_RW            (1ULL << 1)
/* PWT and PCD select PAT entry 3 with PAT clear, uncacheable in the reset
   PAT (Vol. 3A §13.12.3): for device registers. */
#define PTE_PWT           (1ULL << 3)
#define PTE_PCD           (1ULL << 4)

/* Where page-table pages come from. */
struct page_ops {
	/* Returns a zeroed 4 KiB page's address for the CPU (phys) and for
	   this code (virt), or NULL when memory is exhausted. */
	void *(*alloc_page)(void *ctx, u64 *phys);
	/* Turns a table address found in an entry back into a pointer. */
	void *(*phys_to_virt)(void *ctx, u64 phys);
	void *ctx;
	/* Takes a table page back (pt_destroy); NULL: tables are never freed. */
	void (*free_page)(void *ctx, u64 phys);
};

struct pt_format {
	u64 table_flags;  /* flags of an entry that points to a table */
	u64 leaf_flags;   /* flags of a page entry (4 KiB or 2 MiB) */
};

struct pt_root {
	u64 *pml4;
	u64 pml4_phys;
	const struct page_ops *ops;
	u32 tables;              /* table pages it holds, the PML4 included */
};

/* Allocates an empty PML4. Returns 0 or -1 when out of memory. */
int pt_init(struct pt_root *r, const struct page_ops *ops);

/*
 * Maps [va, va+size) to [pa, pa+size) with fmt's flags, using 2 MiB pages
 * wherever both addresses are 2 MiB aligned and 4 KiB pages elsewhere.
 * va, pa and size must be 4 KiB aligned. Returns 0, or -1 when out of
 * memory or when the range meets an existing mapping of another size.
 */
int pt_map(struct pt_root *r, u64 va, u64 pa, u64 size,
	   const struct pt_format *fmt);
/* pt_map, using a 2 MiB page at a 2 MiB-aligned pa only where big_ok
   says so (e.g. where the host's memory type is the same throughout). */
typedef bool (*pt_big_ok_fn)(void *ctx, u64 pa);
int pt_map_where(struct pt_root *r, u64 va, u64 pa, u64 size,
		 const struct pt_format *fmt, pt_big_ok_fn big_ok, void *ctx);

/*
 * Looks va up: returns true and sets *pa and *flags (the leaf's low
 * 12 bits and bit 63) if it is mapped.
 */
/* Frees every table page of r, the PML4 last (pages mapped stay the
   caller's). Nothing to do without ops->free_page. */
void pt_destroy(struct pt_root *r);

bool pt_lookup(const struct pt_root *r, u64 va, u64 *pa, u64 *flags);

#endif
