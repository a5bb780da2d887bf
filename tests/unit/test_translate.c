/*
 * vmm/emulate.c, emu_translate: guest page walks with hand-built tables in
 * a 16 MiB guest RAM: no paging, 32-bit (4 KiB, 4 MiB with CR4.PSE), PAE
 * (4 KiB, 2 MiB) and 4-level (4 KiB, 2 MiB, 1 GiB) paging.
 */
#include <stdlib.h>
#include <string.h>
#include "unit.h"
#include "vmm/emulate.h"

#define RAM      MiB(16)
#define CR0_PE   0x1ULL
#define CR0_PG   0x80000000ULL
#define CR4_PSE  0x10ULL
#define CR4_PAE  0x20ULL
#define EFER_LM  0x500ULL          /* LME | LMA */
#define P        0x1ULL
#define RW_US    0x6ULL
#define AD       0x60ULL
#define PS       0x80ULL
#define NX       (1ULL << 63)

static u8 *ram;
static struct gmem mem;

static void setup(void)
{
	ram = calloc(1, RAM);
	ck_assert_ptr_nonnull(ram);
	mem = (struct gmem){ ram, RAM };
}

static void teardown(void)
{
	free(ram);
}

static void put32(u64 gpa, u32 v) { memcpy(ram + gpa, &v, 4); }
static void put64(u64 gpa, u64 v) { memcpy(ram + gpa, &v, 8); }

/* Translates with the given registers; returns the gpa or ~0 if unmapped. */
static u64 xl(u64 cr0, u64 cr3, u64 cr4, u64 efer, u64 linear)
{
	u64 gpa = 0x5a5a5a5a;

	if (!emu_translate(&mem, cr0, cr3, cr4, efer, linear, &gpa))
		return ~0ULL;
	return gpa;
}

#define X32(cr3, cr4, lin) xl(CR0_PE | CR0_PG, cr3, cr4, 0, lin)
#define XPAE(cr3, lin)     xl(CR0_PE | CR0_PG, cr3, CR4_PAE, 0, lin)
#define X64(cr3, lin)      xl(CR0_PE | CR0_PG, cr3, CR4_PAE, EFER_LM, lin)

START_TEST(no_paging)
{
	ck_assert_uint_eq(xl(0, 0, 0, 0, 0x12345678), 0x12345678);
	ck_assert_uint_eq(xl(CR0_PE, 0xdead000, CR4_PAE | CR4_PSE, 0, 0xfffff),
			  0xfffff);
	/* without paging, addresses wrap at 4 GiB */
	ck_assert_uint_eq(xl(CR0_PE, 0, 0, 0, 0x100001234ULL), 0x1234);
	/* even outside RAM: the walk reads nothing */
	ck_assert_uint_eq(xl(CR0_PE, 0, 0, 0, 0xfee00000), 0xfee00000);
}
END_TEST

START_TEST(paging32_4k)
{
	put32(0x1000 + 1 * 4, 0x2000 | P | RW_US);      /* PDE[1] */
	put32(0x2000 + 3 * 4, 0x5000 | P | AD);         /* PTE[3] */
	put32(0x2000 + 5 * 4, 0x6000 | P | PS);         /* PAT bit in a PTE */
	put32(0x2000 + 6 * 4, 0x7000 | RW_US | AD);     /* not present */
	ck_assert_uint_eq(X32(0x1000, 0, 0x00403123), 0x5123);
	ck_assert_uint_eq(X32(0x1018, 0, 0x00403fff), 0x5fff);  /* PCD|PWT */
	ck_assert_uint_eq(X32(0x1000, CR4_PSE, 0x00405010), 0x6010);
	ck_assert_uint_eq(X32(0x1000, 0, 0x00406000), ~0ULL);
	ck_assert_uint_eq(X32(0x1000, 0, 0x00404000), ~0ULL);   /* PTE 0 */
	ck_assert_uint_eq(X32(0x1000, 0, 0x00803000), ~0ULL);   /* PDE 0 */
	put32(0x1000 + 1 * 4, 0x2000 | RW_US);                  /* PDE not P */
	ck_assert_uint_eq(X32(0x1000, 0, 0x00403123), ~0ULL);
	/* high bits of a 64-bit "linear" address do not select entries */
	put32(0x1000 + 1 * 4, 0x2000 | P);
	ck_assert_uint_eq(X32(0x1000, 0, 0x100403123ULL), 0x5123);
}
END_TEST

START_TEST(paging32_4m)
{
	put32(0x1000 + 2 * 4, 0x00c00000 | P | PS);
	put32(0x1000 + 3 * 4, 0x00400000 | P | PS | 0x1000); /* PAT bit */
	ck_assert_uint_eq(X32(0x1000, CR4_PSE, 0x00812345), 0xc12345);
	ck_assert_uint_eq(X32(0x1000, CR4_PSE, 0x00bfffff), 0xffffff);
	ck_assert_uint_eq(X32(0x1000, CR4_PSE, 0x00c00042), 0x400042);
	/* without CR4.PSE, PS is ignored: the PDE points to a page table */
	put32(0x00c00000 + 0x12 * 4, 0x7000 | P);
	ck_assert_uint_eq(X32(0x1000, 0, 0x00812345), 0x7345);
	ck_assert_uint_eq(X32(0x1000, 0, 0x00813345), ~0ULL);
}
END_TEST

START_TEST(pae_4k_2m)
{
	const u64 pdpt = 0x3020;                          /* 32-byte aligned */

	put64(pdpt + 1 * 8, 0x6000 | P);
	put64(0x6000 + 3 * 8, 0x800000 | P | RW_US | PS);
	put64(0x6000 + 4 * 8, 0x7000 | P | RW_US);
	put64(0x7000 + 5 * 8, NX | 0x9000 | P | AD);
	put64(0x6000 + 6 * 8, NX | 0xa00000 | P | PS | 0x1000); /* PAT bit */
	ck_assert_uint_eq(XPAE(pdpt, 0x40601234), 0x801234);
	ck_assert_uint_eq(XPAE(pdpt, 0x407fffff), 0x9fffff);
	ck_assert_uint_eq(XPAE(pdpt, 0x40805abc), 0x9abc);
	ck_assert_uint_eq(XPAE(pdpt, 0x40c00001), 0xa00001);
	ck_assert_uint_eq(XPAE(pdpt, 0x40806000), ~0ULL);       /* PTE 0 */
	ck_assert_uint_eq(XPAE(pdpt, 0x40a00000), ~0ULL);       /* PDE 0 */
	ck_assert_uint_eq(XPAE(pdpt, 0x00001000), ~0ULL);       /* PDPTE 0 */
	ck_assert_uint_eq(XPAE(pdpt, 0xc0000000), ~0ULL);
	/* the PDPT lives at cr3 & ~31, not at a page boundary */
	ck_assert_uint_eq(XPAE(0x3000, 0x40601234), ~0ULL);
	ck_assert_uint_eq(XPAE(pdpt | 0x18, 0x40601234), 0x801234);
}
END_TEST

#define L4(a, b, c, d) (((u64)(a) << 39) | ((u64)(b) << 30) | \
			((u64)(c) << 21) | ((u64)(d) << 12))

static void build_4level(void)
{
	put64(0x10000 + 255 * 8, 0x11000 | P | RW_US);
	put64(0x11000 + 2 * 8, 0x12000 | P | RW_US);
	put64(0x11000 + 3 * 8, NX | 0x40000000 | P | PS | AD);   /* 1 GiB */
	put64(0x12000 + 5 * 8, 0x13000 | P | RW_US);
	put64(0x12000 + 6 * 8, 0x00e00000 | P | PS);             /* 2 MiB */
	put64(0x13000 + 7 * 8, NX | 0xabc000 | P | AD);
}

START_TEST(long_mode_pages)
{
	build_4level();
	ck_assert_uint_eq(X64(0x10000, L4(255, 2, 5, 7) | 0x123), 0xabc123);
	ck_assert_uint_eq(X64(0x10018, L4(255, 2, 5, 7) | 0xfff), 0xabcfff);
	ck_assert_uint_eq(X64(0x10000, L4(255, 2, 6, 0) | 0x154321), 0xf54321);
	ck_assert_uint_eq(X64(0x10000, L4(255, 3, 0, 0) | 0x12345678),
			  0x52345678);
	/* a 1 GiB page may map beyond RAM: translation is not access */
	ck_assert_uint_eq(X64(0x10000, L4(255, 3, 511, 511) | 0xfff),
			  0x7fffffff);
	/* CR4.PAE alone (no EFER.LMA) is a 3-level walk: not these tables */
	ck_assert_uint_eq(XPAE(0x10000, L4(255, 2, 5, 7)), ~0ULL);
}
END_TEST

START_TEST(long_mode_not_present)
{
	build_4level();
	ck_assert_uint_eq(X64(0x10000, L4(255, 2, 5, 8)), ~0ULL);   /* PTE */
	ck_assert_uint_eq(X64(0x10000, L4(255, 2, 7, 0)), ~0ULL);   /* PDE */
	ck_assert_uint_eq(X64(0x10000, L4(255, 4, 0, 0)), ~0ULL);   /* PDPTE */
	ck_assert_uint_eq(X64(0x10000, L4(254, 2, 5, 7)), ~0ULL);   /* PML4E */
	ck_assert_uint_eq(X64(0x10000, 0xffff800000000000ULL), ~0ULL);
	put64(0x13000 + 7 * 8, 0xabc000 | RW_US | AD);              /* P clear */
	ck_assert_uint_eq(X64(0x10000, L4(255, 2, 5, 7)), ~0ULL);
	put64(0x12000 + 6 * 8, 0x00e00000 | PS);
	ck_assert_uint_eq(X64(0x10000, L4(255, 2, 6, 0)), ~0ULL);
	put64(0x10000 + 255 * 8, 0x11000 | RW_US);
	ck_assert_uint_eq(X64(0x10000, L4(255, 3, 0, 0)), ~0ULL);
}
END_TEST

START_TEST(tables_outside_ram)
{
	build_4level();
	/* CR3 itself outside RAM, in every mode */
	ck_assert_uint_eq(X64(RAM, L4(255, 2, 5, 7)), ~0ULL);
	ck_assert_uint_eq(X64(0x100010000ULL, L4(255, 2, 5, 7)), ~0ULL);
	ck_assert_uint_eq(X32(RAM + 0x1000, 0, 0x1000), ~0ULL);
	ck_assert_uint_eq(XPAE(0xffffffe0, 0x1000), ~0ULL);
	/* a table pointer leading outside RAM, at each level */
	put64(0x12000 + 5 * 8, (RAM + 0x1000) | P);
	ck_assert_uint_eq(X64(0x10000, L4(255, 2, 5, 7)), ~0ULL);
	put64(0x11000 + 2 * 8, 0x000ffffffffff000ULL | P);
	ck_assert_uint_eq(X64(0x10000, L4(255, 2, 0, 0)), ~0ULL);
	put32(0x1000, 0xfffff000 | P);
	ck_assert_uint_eq(X32(0x1000, 0, 0x123), ~0ULL);
	/* the last table entry inside RAM still reads */
	put32(RAM - 4, 0x00400000 | P | PS);
	ck_assert_uint_eq(X32(RAM - 0x1000, CR4_PSE, 0xffc00abc), 0x400abc);
	put64(RAM - 8, 0x5000 | P);
	ck_assert_uint_eq(XPAE(RAM - 0x20, 0xc0000000), ~0ULL); /* PD at 0x5000 empty */
	put64(0x5000, 0x200000 | P | PS);
	ck_assert_uint_eq(XPAE(RAM - 0x20, 0xc0000007), 0x200007);
}
END_TEST

Suite *translate_suite(void)
{
	Suite *s = suite_create("translate");
	TCase *tc = tcase_create("translate");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, no_paging);
	tcase_add_test(tc, paging32_4k);
	tcase_add_test(tc, paging32_4m);
	tcase_add_test(tc, pae_4k_2m);
	tcase_add_test(tc, long_mode_pages);
	tcase_add_test(tc, long_mode_not_present);
	tcase_add_test(tc, tables_outside_ram);
	suite_add_tcase(s, tc);
	return s;
}
