/*
 * The shared 4-level page-table mapper (see pgtable.h for the layout).
 */
#include "arch/x86/pgtable.h"

int pt_init(struct pt_root *r, const struct page_ops *ops)
{
	r->ops = ops;
	r->pml4 = ops->alloc_page(ops->ctx, &r->pml4_phys);
	r->tables = r->pml4 ? 1 : 0;
	return r->pml4 ? 0 : -1;
}

/*
 * Returns the table that entry e points to, allocating it if e is empty.
 * NULL if e maps a large page (a size conflict) or memory ran out.
 */
static u64 *next_table(struct pt_root *r, u64 *e, const struct pt_format *f)
{
	u64 phys;
	u64 *t;

	if (*e & PT_LARGE)
		return NULL;
	if (*e)
		return r->ops->phys_to_virt(r->ops->ctx, *e & PT_ADDR_MASK);
	t = r->ops->alloc_page(r->ops->ctx, &phys);
	if (!t)
		return NULL;
	r->tables++;
	*e = phys | f->table_flags;
	return t;
}

/* Maps one page of 4 KiB (level 0) or 2 MiB (level 1) at va. */
static int map_one(struct pt_root *r, u64 va, u64 pa, int level,
		   const struct pt_format *f)
{
	u64 *t = r->pml4;

	for (int l = 3; l > level; l--) {
		t = next_table(r, &t[PT_INDEX(va, l)], f);
		if (!t)
			return -1;
	}
	t += PT_INDEX(va, level);
	/* an entry already here may only be the very same page again */
	if (*t && ((*t & PT_ADDR_MASK) != pa ||
		   (level == 1 && !(*t & PT_LARGE))))
		return -1;
	*t = pa | f->leaf_flags | (level ? PT_LARGE : 0);
	return 0;
}

int pt_map(struct pt_root *r, u64 va, u64 pa, u64 size,
	   const struct pt_format *fmt)
{
	return pt_map_where(r, va, pa, size, fmt, NULL, NULL);
}

int pt_map_where(struct pt_root *r, u64 va, u64 pa, u64 size,
		 const struct pt_format *fmt, pt_big_ok_fn big_ok, void *ctx)
{
	if (!IS_ALIGNED(va | pa | size, PAGE_SIZE))
		return -1;
	while (size) {
		bool big = IS_ALIGNED(va | pa, PT_SIZE_2M) && size >= PT_SIZE_2M &&
			   (!big_ok || big_ok(ctx, pa));
		u64 step = big ? PT_SIZE_2M : PAGE_SIZE;

		if (map_one(r, va, pa, big ? 1 : 0, fmt))
			return -1;
		va += step;
		pa += step;
		size -= step;
	}
	return 0;
}

bool pt_lookup(const struct pt_root *r, u64 va, u64 *pa, u64 *flags)
{
	const u64 *t = r->pml4;

	for (int l = 3; l >= 0; l--) {
		u64 e = t[PT_INDEX(va, l)];
		u64 page = (1ULL << PT_LEVEL_SHIFT(l)) - 1;

		if (!e)
			return false;
		if (l == 0 || (l <= 2 && (e & PT_LARGE))) {
			*pa = (e & PT_ADDR_MASK & ~page) | (va & page);
			*flags = e & (0xfffULL | BIT(63));
			return true;
		}
		t = r->ops->phys_to_virt(r->ops->ctx, e & PT_ADDR_MASK);
	}
	return false;
}

/* Frees the tables below entry array t at level l (3: t is the PML4). */
static void free_tables(struct pt_root *r, u64 *t, int l)
{
	for (int i = 0; i < PT_ENTRIES; i++) {
		u64 e = t[i];

		if (!e || (e & PT_LARGE) || l == 0)
			continue;        /* empty, or a page: not a table */
		if (l > 1)
			free_tables(r, r->ops->phys_to_virt(r->ops->ctx,
							    e & PT_ADDR_MASK), l - 1);
		r->ops->free_page(r->ops->ctx, e & PT_ADDR_MASK);
		r->tables--;
	}
}

void pt_destroy(struct pt_root *r)
{
	if (!r->pml4 || !r->ops->free_page)
		return;
	free_tables(r, r->pml4, 3);
	r->ops->free_page(r->ops->ctx, r->pml4_phys);
	r->pml4 = NULL;
	r->tables--;
}
