/*
 * MTRR ranges (mtrr.h; SDM Vol. 3A §12.11.2-12.11.4).
 */
#include "arch/x86/mtrr.h"

#define MSR_MTRRCAP          0x0fe
#define MSR_MTRR_DEF_TYPE    0x2ff
#define MSR_MTRR_PHYSBASE0   0x200   /* PHYSBASEn = 0x200 + 2n, MASK + 1 */
#define MSR_MTRR_FIX64K      0x250
#define MSR_MTRR_FIX16K_80000 0x258
#define MSR_MTRR_FIX16K_A0000 0x259
#define MSR_MTRR_FIX4K_C0000 0x268  /* ... 0x26f: C0000 to FFFFF */
#define MTRRCAP_VCNT_MASK    0xffULL
#define MTRRCAP_FIX          (1ULL << 8)
#define DEF_TYPE_MASK        0xffULL
#define DEF_TYPE_FE          (1ULL << 10)
#define DEF_TYPE_E           (1ULL << 11)
#define PHYSMASK_VALID       (1ULL << 11)
#define PHYS_ADDR_MASK       0x000ffffffffff000ULL
#define FIXED_TOP            MiB(1)  /* the fixed ranges cover 0-1 MiB */
#define FIX4K_MSRS           8
#define TYPE_BYTE_MASK       0xffULL
#define BYTE_BITS            8
#define LARGE                MiB(2)

void mtrr_read(struct mtrr_state *m, u64 (*rdmsr_fn)(u32 msr))
{
	u64 cap = rdmsr_fn(MSR_MTRRCAP), def = rdmsr_fn(MSR_MTRR_DEF_TYPE);
	int vcnt = (int)(cap & MTRRCAP_VCNT_MASK);

	*m = (struct mtrr_state){ 0 };
	m->enabled = def & DEF_TYPE_E;
	m->fixed_enabled = (def & DEF_TYPE_FE) && (cap & MTRRCAP_FIX);
	m->default_type = (u8)(def & DEF_TYPE_MASK);
	for (int i = 0; i < vcnt && i < MTRR_MAX_VAR; i++) {
		u64 mask = rdmsr_fn(MSR_MTRR_PHYSBASE0 + 2 * i + 1);

		if (!(mask & PHYSMASK_VALID))
			continue;
		m->var_base[m->nr_var] = rdmsr_fn(MSR_MTRR_PHYSBASE0 + 2 * i) &
					 PHYS_ADDR_MASK;
		m->var_mask[m->nr_var++] = mask & PHYS_ADDR_MASK;
	}
	if (!m->fixed_enabled)
		return;
	m->fixed[0] = rdmsr_fn(MSR_MTRR_FIX64K);
	m->fixed[1] = rdmsr_fn(MSR_MTRR_FIX16K_80000);
	m->fixed[2] = rdmsr_fn(MSR_MTRR_FIX16K_A0000);
	for (int i = 0; i < FIX4K_MSRS; i++)
		m->fixed[3 + i] = rdmsr_fn(MSR_MTRR_FIX4K_C0000 + i);
}

/* Whether variable range i matches some, but not all, of the 2 MiB
   range at pa: its mask selects address bits below 2 MiB (a range
   smaller than 2 MiB, or not 2 MiB aligned) and the bits above match. */
static bool var_splits(const struct mtrr_state *m, int i, u64 pa)
{
	u64 low = m->var_mask[i] & (LARGE - 1), high = m->var_mask[i] & ~(LARGE - 1);

	return low && (pa & high) == (m->var_base[i] & high);
}

/* The fixed ranges' 88 types all alike, and like what covers 1-2 MiB?
   Only the first 2 MiB holds them. */
static bool fixed_uniform(const struct mtrr_state *m)
{
	u8 t = (u8)(m->fixed[0] & TYPE_BYTE_MASK);

	for (int i = 0; i < MTRR_FIXED_MSRS; i++)
		for (int b = 0; b < BYTE_BITS; b++)
			if ((u8)(m->fixed[i] >> (b * BYTE_BITS)) != t)
				return false;
	/* above 1 MiB: the variable ranges or the default type */
	for (int i = 0; i < m->nr_var; i++)
		if ((FIXED_TOP & m->var_mask[i]) == (m->var_base[i] & m->var_mask[i]))
			return false;    /* conservative: a range meets 1 MiB */
	return t == m->default_type;
}

bool mtrr_uniform_2m(const struct mtrr_state *m, u64 pa)
{
	if (!m->enabled)
		return true;             /* all UC: one type */
	if (pa < FIXED_TOP && m->fixed_enabled && !fixed_uniform(m))
		return false;
	for (int i = 0; i < m->nr_var; i++)
		if (var_splits(m, i, pa))
			return false;
	return true;
}
