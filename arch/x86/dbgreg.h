/*
 * Data breakpoints (SDM Vol. 3B §18.2.4, §18.2.5): which of DR0-DR3 an
 * access matches, as DR7 sets them up. Pure (no VMCS, no CPU), so the
 * unit tests build it: arch_vcpu_data_breakpoint_hit (vcpu.h) hands it
 * the guest's DR7 and DR0-DR3 for an access uhv carried out for the guest,
 * which the CPU never saw.
 *
 * DR7, for breakpoint n (0-3):
 *   bits 2n, 2n+1       Ln, Gn: enabled (locally, globally)
 *   bits 17+4n:16+4n    R/Wn: 00 fetch, 01 data write, 10 I/O, 11 data
 *                       read or write
 *   bits 19+4n:18+4n    LENn: 00 1 byte, 01 2, 10 8, 11 4
 */
#ifndef UHV_ARCH_DBGREG_H
#define UHV_ARCH_DBGREG_H

#include "lib/types.h"

#define DR_COUNT          4
#define DR7_ENABLE_BITS   2          /* Ln, Gn */
#define DR7_ENABLE_MASK   0xffULL    /* L0-G3 */
#define DR7_RW_LEN_SHIFT  16
#define DR7_RW_LEN_BITS   4          /* R/Wn, LENn */
#define DR7_RW_MASK       0x3U
#define DR7_LEN_SHIFT     2
#define DR7_LEN_MASK      0x3U
#define DR7_RW_WRITE      0x1U
#define DR7_RW_READ_WRITE 0x3U
/* DR6 (§18.2.3): Bn, breakpoint n matched (bit n); BS, a single-step
   trap (TF). */
#define DR6_BS            (1ULL << 14)

/*
 * Bit n set for each DRn that is enabled in dr7 as a data breakpoint for
 * this kind of access (R/W 01: writes; 11: reads and writes) and whose
 * range holds a byte of the len bytes at linear address lin. A range is
 * LENn bytes at DRn's address aligned down to LENn ("any of the bytes
 * participating in an access", §18.2.5).
 */
unsigned dr_data_match(u64 dr7, const u64 dr[DR_COUNT], u64 lin,
		       unsigned len, bool write);

#endif
