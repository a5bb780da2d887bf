/*
 * Regions are carved from their top end down, so that low memory (which
 * legacy devices and AP start-up code may want) is used last.
 */
#include "vmm/palloc.h"
#include "lib/string.h"

void palloc_init(struct palloc *pa, u8 *(*phys_to_virt)(u64 phys))
{
	memset(pa, 0, sizeof(*pa));
	pa->phys_to_virt = phys_to_virt;
}

void palloc_add(struct palloc *pa, u64 base, u64 size)
{
	u64 b = ALIGN_UP(base, PAGE_SIZE), e = ALIGN_DOWN(base + size, PAGE_SIZE);

	if (e <= b || pa->nr == PALLOC_MAX_REGIONS)
		return;
	pa->r[pa->nr].base = b;
	pa->r[pa->nr].end = e;
	pa->nr++;
	pa->free_bytes += e - b;
}

u64 palloc_range(struct palloc *pa, u64 size, u64 align)
{
	size = ALIGN_UP(size, PAGE_SIZE);
	for (int i = pa->nr - 1; i >= 0; i--) {
		u64 start;

		if (pa->r[i].end - pa->r[i].base < size)
			continue;
		start = ALIGN_DOWN(pa->r[i].end - size, align);
		if (start < pa->r[i].base)
			continue;
		/* the tail above start+size (alignment slack) stays free */
		if (start + size < pa->r[i].end)
			palloc_add(pa, start + size, pa->r[i].end - start - size);
		pa->free_bytes -= pa->r[i].end - start;
		pa->r[i].end = start;
		memset(pa->phys_to_virt(start), 0, size);
		return start;
	}
	return 0;
}

u64 palloc_page(struct palloc *pa)
{
	u64 p = pa->free_list;

	if (!p)
		return palloc_range(pa, PAGE_SIZE, PAGE_SIZE);
	pa->free_list = *(u64 *)pa->phys_to_virt(p);
	pa->free_bytes -= PAGE_SIZE;
	memset(pa->phys_to_virt(p), 0, PAGE_SIZE);
	return p;
}

void palloc_free_page(struct palloc *pa, u64 phys)
{
	*(u64 *)pa->phys_to_virt(phys) = pa->free_list;
	pa->free_list = phys;
	pa->free_bytes += PAGE_SIZE;
}

static void *ops_alloc(void *ctx, u64 *phys)
{
	struct palloc *pa = ctx;

	*phys = palloc_page(pa);
	return *phys ? pa->phys_to_virt(*phys) : NULL;
}

static void *ops_phys_to_virt(void *ctx, u64 phys)
{
	return ((struct palloc *)ctx)->phys_to_virt(phys);
}

static void ops_free(void *ctx, u64 phys)
{
	palloc_free_page(ctx, phys);
}

void palloc_page_ops(struct page_ops *ops, struct palloc *pa)
{
	ops->free_page = ops_free;
	ops->alloc_page = ops_alloc;
	ops->phys_to_virt = ops_phys_to_virt;
	ops->ctx = pa;
}
