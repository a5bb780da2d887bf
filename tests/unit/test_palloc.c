/*
 * vmm/palloc.c over a fake physical range: "physical" addresses start at
 * PHYS_BASE (4 GiB, so they differ from any host pointer) and map onto a
 * malloc'd arena that starts out full of junk (0xAA), to see zeroing.
 */
#include <stdlib.h>
#include <string.h>
#include "unit.h"
#include "vmm/palloc.h"
#include "arch/x86/ept.h"

#define PHYS_BASE  0x100000000ULL
#define ARENA_SIZE MiB(8)

static u8 *arena;
static struct palloc pa;

static u8 *fake_p2v(u64 phys)
{
	ck_assert_msg(phys >= PHYS_BASE && phys < PHYS_BASE + ARENA_SIZE,
		      "phys 0x%llx outside the arena", (unsigned long long)phys);
	return arena + (phys - PHYS_BASE);
}

static void setup(void)
{
	arena = aligned_alloc(4096, ARENA_SIZE);
	ck_assert_ptr_nonnull(arena);
	memset(arena, 0xaa, ARENA_SIZE);
	palloc_init(&pa, fake_p2v);
}

static void teardown(void)
{
	free(arena);
}

static bool is_zero(u64 phys, u64 size)
{
	const u8 *p = fake_p2v(phys);

	for (u64 i = 0; i < size; i++)
		if (p[i])
			return false;
	return true;
}

START_TEST(add_rounds_inwards)
{
	palloc_add(&pa, PHYS_BASE + 0x10, 0x3000);
	ck_assert_int_eq(pa.nr, 1);
	ck_assert_uint_eq(pa.r[0].base, PHYS_BASE + 0x1000);
	ck_assert_uint_eq(pa.r[0].end, PHYS_BASE + 0x3000);
	ck_assert_uint_eq(pa.free_bytes, 0x2000);
	palloc_add(&pa, PHYS_BASE + 0x5001, 0x1ffe);   /* no whole page */
	palloc_add(&pa, PHYS_BASE + 0x6000, 0);
	ck_assert_int_eq(pa.nr, 1);
	ck_assert_uint_eq(pa.free_bytes, 0x2000);
}
END_TEST

START_TEST(pages_come_from_the_top_zeroed)
{
	u64 p[4];

	palloc_add(&pa, PHYS_BASE, 4 * PAGE_SIZE);
	for (int i = 0; i < 4; i++) {
		p[i] = palloc_page(&pa);
		ck_assert_uint_eq(p[i], PHYS_BASE + (3 - i) * PAGE_SIZE);
		ck_assert(is_zero(p[i], PAGE_SIZE));
		ck_assert_uint_eq(pa.free_bytes, (3 - i) * PAGE_SIZE);
	}
	ck_assert_uint_eq(palloc_page(&pa), 0);           /* exhausted */
	ck_assert_uint_eq(palloc_page(&pa), 0);
	ck_assert_uint_eq(pa.free_bytes, 0);
}
END_TEST

START_TEST(later_regions_first)
{
	palloc_add(&pa, PHYS_BASE, PAGE_SIZE);
	palloc_add(&pa, PHYS_BASE + MiB(1), PAGE_SIZE);
	ck_assert_uint_eq(pa.free_bytes, 2 * PAGE_SIZE);
	ck_assert_uint_eq(palloc_page(&pa), PHYS_BASE + MiB(1));
	ck_assert_uint_eq(palloc_page(&pa), PHYS_BASE);
	ck_assert_uint_eq(palloc_page(&pa), 0);
}
END_TEST

START_TEST(range_alignment_and_slack)
{
	u64 page, r, next;

	palloc_add(&pa, PHYS_BASE, ARENA_SIZE);
	page = palloc_page(&pa);
	ck_assert_uint_eq(page, PHYS_BASE + ARENA_SIZE - PAGE_SIZE);
	r = palloc_range(&pa, MiB(2), MiB(2));
	ck_assert_uint_eq(r, PHYS_BASE + MiB(4));
	ck_assert(is_zero(r, MiB(2)));
	/* the slack between the aligned range and the page is still free */
	ck_assert_uint_eq(pa.free_bytes, ARENA_SIZE - PAGE_SIZE - MiB(2));
	next = palloc_page(&pa);
	ck_assert_uint_ge(next, PHYS_BASE + MiB(6));
	ck_assert_uint_lt(next, page);
	/* sizes are rounded up to pages */
	r = palloc_range(&pa, 100, PAGE_SIZE);
	ck_assert(IS_ALIGNED(r, PAGE_SIZE) && r);
	ck_assert_uint_eq(pa.free_bytes,
			  ARENA_SIZE - 3 * PAGE_SIZE - MiB(2));
}
END_TEST

START_TEST(range_exhaustion)
{
	palloc_add(&pa, PHYS_BASE + MiB(1), MiB(3));      /* [1M, 4M) */
	ck_assert_uint_eq(palloc_range(&pa, MiB(4), PAGE_SIZE), 0);
	/* the only 2 MiB-aligned 2 MiB run is [2M, 4M); then 1 MiB is left,
	   which holds no 2 MiB-aligned address */
	ck_assert_uint_eq(palloc_range(&pa, MiB(2), MiB(2)), PHYS_BASE + MiB(2));
	ck_assert_uint_eq(palloc_range(&pa, MiB(1), MiB(2)), 0);
	ck_assert_uint_eq(pa.free_bytes, MiB(1));
	ck_assert_uint_eq(palloc_range(&pa, MiB(1), MiB(1)), PHYS_BASE + MiB(1));
	ck_assert_uint_eq(pa.free_bytes, 0);
	ck_assert_uint_eq(palloc_range(&pa, PAGE_SIZE, PAGE_SIZE), 0);
}
END_TEST

START_TEST(no_overlap_until_exhausted)
{
	static const u64 sizes[] = { 4096, 12288, 65536, 8192, 4096, 200000 };
	static const u64 aligns[] = { 4096, 65536, 4096, 2097152, 8192, 4096 };
	struct { u64 a, n; } got[2048];
	int nr = 0;
	u64 total = 0;

	palloc_add(&pa, PHYS_BASE + 0x3000, MiB(3) - 0x5000);
	palloc_add(&pa, PHYS_BASE + MiB(4), MiB(4));
	for (int i = 0; nr < 2048; i++) {
		if (i > 100000)
			ck_abort_msg("allocator never ran out");
		u64 n = ALIGN_UP(sizes[i % 6], PAGE_SIZE), al = aligns[(i / 6) % 6];
		u64 a = (i % 7 == 3) ? palloc_page(&pa) : palloc_range(&pa, n, al);

		if (i % 7 == 3) {
			n = PAGE_SIZE;
			al = PAGE_SIZE;
		}
		if (!a) {
			if (pa.free_bytes < PAGE_SIZE)
				break;
			continue;
		}
		ck_assert(IS_ALIGNED(a - PHYS_BASE, al));
		ck_assert(is_zero(a, n));
		memset(fake_p2v(a), 0x5a, n);               /* now in use */
		for (int j = 0; j < nr; j++)
			ck_assert(a + n <= got[j].a || got[j].a + got[j].n <= a);
		got[nr].a = a;
		got[nr++].n = n;
		total += n;
		ck_assert_uint_eq(total + pa.free_bytes, MiB(7) - 0x5000);
	}
	ck_assert_uint_eq(pa.free_bytes, 0);
	ck_assert_uint_eq(palloc_page(&pa), 0);
}
END_TEST

START_TEST(free_list_reuse)
{
	u64 a, b, c;

	palloc_add(&pa, PHYS_BASE, 3 * PAGE_SIZE);
	a = palloc_page(&pa);
	b = palloc_page(&pa);
	memset(fake_p2v(a), 0x11, PAGE_SIZE);
	memset(fake_p2v(b), 0x22, PAGE_SIZE);
	palloc_free_page(&pa, a);
	palloc_free_page(&pa, b);
	ck_assert_uint_eq(pa.free_bytes, 3 * PAGE_SIZE);
	/* last freed, first reused, and zeroed again (list links included) */
	ck_assert_uint_eq(palloc_page(&pa), b);
	ck_assert(is_zero(b, PAGE_SIZE));
	ck_assert_uint_eq(palloc_page(&pa), a);
	ck_assert(is_zero(a, PAGE_SIZE));
	c = palloc_page(&pa);
	ck_assert_uint_eq(c, PHYS_BASE);
	ck_assert_uint_eq(palloc_page(&pa), 0);
	ck_assert_uint_eq(pa.free_bytes, 0);
	palloc_free_page(&pa, c);
	ck_assert_uint_eq(palloc_page(&pa), c);
}
END_TEST

START_TEST(region_table_limit)
{
	for (int i = 0; i < PALLOC_MAX_REGIONS + 5; i++)
		palloc_add(&pa, PHYS_BASE + (u64)i * 2 * PAGE_SIZE, PAGE_SIZE);
	ck_assert_int_eq(pa.nr, PALLOC_MAX_REGIONS);
	ck_assert_uint_eq(pa.free_bytes, PALLOC_MAX_REGIONS * PAGE_SIZE);
}
END_TEST

START_TEST(page_ops_feed_ept)
{
	struct page_ops ops;
	struct pt_root ept;
	u64 hpa, flags, phys;
	void *v;

	palloc_add(&pa, PHYS_BASE, 8 * PAGE_SIZE);
	palloc_page_ops(&ops, &pa);
	v = ops.alloc_page(ops.ctx, &phys);
	ck_assert_ptr_eq(v, fake_p2v(phys));
	ck_assert_ptr_eq(ops.phys_to_virt(ops.ctx, phys), v);
	ck_assert_int_eq(pt_init(&ept, &ops), 0);
	ck_assert_uint_ge(ept.pml4_phys, PHYS_BASE);
	ck_assert_int_eq(ept_map_ram(&ept, 0, GiB(2), MiB(2) + PAGE_SIZE), 0);
	ck_assert(pt_lookup(&ept, MiB(2) + 8, &hpa, &flags));
	ck_assert_uint_eq(hpa, GiB(2) + MiB(2) + 8);
	ck_assert_uint_eq(pa.free_bytes, 3 * PAGE_SIZE);  /* PML4..PT + v */
	/* out of pages: the mapper gets NULL and fails */
	while (palloc_page(&pa))
		;
	ck_assert_ptr_null(ops.alloc_page(ops.ctx, &phys));
	ck_assert_uint_eq(phys, 0);
	ck_assert_int_eq(ept_map_ram(&ept, GiB(1), 0, PAGE_SIZE), -1);
}
END_TEST

Suite *palloc_suite(void)
{
	Suite *s = suite_create("palloc");
	TCase *tc = tcase_create("palloc");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, add_rounds_inwards);
	tcase_add_test(tc, pages_come_from_the_top_zeroed);
	tcase_add_test(tc, later_regions_first);
	tcase_add_test(tc, range_alignment_and_slack);
	tcase_add_test(tc, range_exhaustion);
	tcase_add_test(tc, no_overlap_until_exhausted);
	tcase_add_test(tc, free_list_reuse);
	tcase_add_test(tc, region_table_limit);
	tcase_add_test(tc, page_ops_feed_ept);
	suite_add_tcase(s, tc);
	return s;
}
