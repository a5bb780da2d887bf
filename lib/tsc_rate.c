/*
 * TSC rate decisions (tsc_rate.h).
 */
#include "lib/tsc_rate.h"

#define MHZ 1000000ULL
#define PPM 1000000ULL
#define L16_BASE_MHZ_MASK 0xffffU   /* leaf 0x16 EAX bits 15:0 */

u64 tsc_cpuid_hz(const u32 l15[4], const u32 l16[4])
{
	/* leaf 0x15: EAX denominator, EBX numerator, ECX crystal Hz */
	if (l15[0] && l15[1] && l15[2])
		return (u64)l15[2] * l15[1] / l15[0];
	/* leaf 0x16: EAX base frequency in MHz (a nominal value) */
	return (u64)(l16[0] & L16_BASE_MHZ_MASK) * MHZ;
}

u64 tsc_pick(u64 stated, u64 measured, bool *stated_used)
{
	u64 diff = stated > measured ? stated - measured : measured - stated;

	*stated_used = stated && measured && diff * PPM <= measured * TSC_AGREE_PPM;
	if (*stated_used)
		return stated;
	return measured ? measured : stated;
}

u64 tsc_from_reference(u64 dtsc, u64 dref, u64 ref_hz)
{
	if (!dref)
		return 0;
	/* dtsc * ref_hz may not fit 64 bits for long intervals: split */
	return dtsc / dref * ref_hz + dtsc % dref * ref_hz / dref;
}
