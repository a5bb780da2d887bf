/*
 * The guest RAM pool (rampool.h). Tables stay tiny (a few VMs), so plain
 * array shifting is the clearest way to keep them sorted.
 */
#include "vmm/rampool.h"
#include "lib/string.h"

void rampool_init(struct rampool *p)
{
	memset(p, 0, sizeof(*p));
}

static void remove_at(struct rampool *p, u32 i)
{
	memmove(&p->r[i], &p->r[i + 1], (p->n - i - 1) * sizeof(p->r[0]));
	p->n--;
}

/*
 * Inserts a range before index i, or merges it with r[i-1] and/or r[i]
 * when they touch it, so neighbours never stay split.
 */
static int insert_at(struct rampool *p, u32 i, u64 base, u64 size)
{
	bool left = i > 0 && p->r[i - 1].base + p->r[i - 1].size == base;
	bool right = i < p->n && base + size == p->r[i].base;

	if (left && right) {
		p->r[i - 1].size += size + p->r[i].size;
		remove_at(p, i);
	} else if (left) {
		p->r[i - 1].size += size;
	} else if (right) {
		p->r[i].base = base;
		p->r[i].size += size;
	} else {
		if (p->n == RAMPOOL_RANGES)
			return -1;
		memmove(&p->r[i + 1], &p->r[i], (p->n - i) * sizeof(p->r[0]));
		p->r[i] = (struct rampool_range){ base, size };
		p->n++;
	}
	return 0;
}

int rampool_free(struct rampool *p, u64 base, u64 size)
{
	u32 i = 0;

	if (!size || base % RAMPOOL_ALIGN || size % RAMPOOL_ALIGN ||
	    base + size < base)
		return -1;
	while (i < p->n && p->r[i].base < base)
		i++;
	if ((i > 0 && p->r[i - 1].base + p->r[i - 1].size > base) ||
	    (i < p->n && base + size > p->r[i].base))
		return -1;               /* overlaps memory already free */
	if (insert_at(p, i, base, size))
		return -1;
	p->free_bytes += size;
	return 0;
}

u64 rampool_alloc(struct rampool *p, u64 size)
{
	if (!size || size % RAMPOOL_ALIGN)
		return 0;
	for (u32 i = 0; i < p->n; i++) {
		struct rampool_range *r = &p->r[i];
		u64 base = r->base;

		if (r->size < size)
			continue;
		r->base += size;
		r->size -= size;
		if (!r->size)
			remove_at(p, i);
		p->free_bytes -= size;
		return base;
	}
	return 0;
}

u64 rampool_largest(const struct rampool *p)
{
	u64 best = 0;

	for (u32 i = 0; i < p->n; i++)
		best = MAX(best, p->r[i].size);
	return best;
}
