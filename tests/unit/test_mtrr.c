/*
 * arch/x86/mtrr.c against made-up MTRRs (SDM Vol. 3A §12.11): a 2 MiB
 * page is allowed only where one memory type covers all of it. The
 * machine: WB default, fixed ranges with the VGA hole UC at A0000, a UC
 * variable range for the 256 MiB below 4 GiB (PCI holes), a 4 KiB UC
 * range at 0x1234000 and a 1 MiB WC range at 0x8100000 (a frame buffer).
 */
#include "unit.h"
#include "arch/x86/mtrr.h"

#define WB 6
#define UC 0
static u64 msr[0x300];

static u64 fake_rdmsr(u32 m)
{
	ck_assert_uint_lt(m, 0x300);
	return msr[m];
}

/* Types: 0x06 repeated, with the 16K MSR for A0000-BFFFF all UC. */
static void machine(void)
{
	memset(msr, 0, sizeof(msr));
	msr[0xfe] = 8 | (1ULL << 8);                     /* 8 variable, fixed */
	msr[0x2ff] = (1ULL << 11) | (1ULL << 10) | WB;    /* E, FE, default WB */
	msr[0x250] = msr[0x258] = 0x0606060606060606ULL;
	msr[0x259] = 0;                                  /* A0000-BFFFF UC */
	for (int i = 0x268; i <= 0x26f; i++)
		msr[i] = 0x0606060606060606ULL;
	msr[0x200] = 0xf0000000 | UC;                    /* 256 MiB below 4G */
	msr[0x201] = 0xff0000000ULL | (1ULL << 11);      /* 36-bit mask, valid */
	msr[0x202] = 0x1234000 | UC;                     /* 4 KiB */
	msr[0x203] = 0xffffff000ULL | (1ULL << 11);
	msr[0x204] = 0x8100000 | 1;                      /* 1 MiB WC */
	msr[0x205] = 0xfff00000ULL | (1ULL << 11);
	msr[0x206] = 0x40000000 | UC;                    /* an invalid one */
	msr[0x207] = 0xff0000000ULL;                     /* V clear */
}

START_TEST(large_pages_only_where_one_type)
{
	struct mtrr_state m;

	machine();
	mtrr_read(&m, fake_rdmsr);
	ck_assert_int_eq(m.nr_var, 3);                   /* the invalid one left out */
	ck_assert(!mtrr_uniform_2m(&m, 0));              /* the VGA hole */
	ck_assert(mtrr_uniform_2m(&m, MiB(2)));
	ck_assert(!mtrr_uniform_2m(&m, 0x1200000));      /* the 4 KiB range */
	ck_assert(mtrr_uniform_2m(&m, 0x1400000));
	ck_assert(!mtrr_uniform_2m(&m, 0x8000000));      /* 1 MiB WC in 2 MiB */
	ck_assert(mtrr_uniform_2m(&m, 0xf0000000));      /* all UC */
	ck_assert(mtrr_uniform_2m(&m, 0xefe00000));      /* all WB */
	msr[0x259] = 0x0606060606060606ULL;              /* no hole: uniform */
	mtrr_read(&m, fake_rdmsr);
	ck_assert(mtrr_uniform_2m(&m, 0));
	msr[0x2ff] &= ~(1ULL << 11);                     /* MTRRs off: all UC */
	mtrr_read(&m, fake_rdmsr);
	ck_assert(mtrr_uniform_2m(&m, 0x1200000));
}
END_TEST

Suite *mtrr_suite(void)
{
	Suite *s = suite_create("mtrr");
	TCase *t = tcase_create("core");

	tcase_add_test(t, large_pages_only_where_one_type);
	suite_add_tcase(s, t);
	return s;
}
