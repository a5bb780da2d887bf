/* Data-breakpoint matching (dbgreg.h). */
#include "arch/x86/dbgreg.h"

/* LENn's encoding to bytes (§18.2.4): 00 1, 01 2, 10 8, 11 4. */
static const u8 len_bytes[4] = { 1, 2, 8, 4 };

/* Whether breakpoint n of dr7 fires on a data access of this kind. */
static bool watches(u64 dr7, unsigned n, bool write)
{
	unsigned rw = (unsigned)(dr7 >> (DR7_RW_LEN_SHIFT + DR7_RW_LEN_BITS * n)) &
		      DR7_RW_MASK;

	if (!(dr7 >> (DR7_ENABLE_BITS * n) & ((1U << DR7_ENABLE_BITS) - 1)))
		return false;
	return rw == DR7_RW_READ_WRITE || (write && rw == DR7_RW_WRITE);
}

unsigned dr_data_match(u64 dr7, const u64 dr[DR_COUNT], u64 lin,
		       unsigned len, bool write)
{
	unsigned hit = 0;

	if (!len || !(dr7 & DR7_ENABLE_MASK))
		return 0;
	for (unsigned n = 0; n < DR_COUNT; n++) {
		unsigned f = (unsigned)(dr7 >> (DR7_RW_LEN_SHIFT +
						DR7_RW_LEN_BITS * n));
		u64 size = len_bytes[f >> DR7_LEN_SHIFT & DR7_LEN_MASK];
		u64 start = dr[n] & ~(size - 1);

		/* [lin, lin + len) and [start, start + size) overlap: one
		   starts inside the other (unsigned, so below is far above) */
		if (watches(dr7, n, write) &&
		    (lin - start < size || start - lin < len))
			hit |= 1U << n;
	}
	return hit;
}
