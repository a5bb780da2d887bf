/*
 * The host's memory types (MTRRs, SDM Vol. 3A §12.11), for uhv's own page
 * tables: a large page whose range holds more than one memory type gives
 * undefined results (§12.11.9), so uhv maps such a 2 MiB range with
 * 4 KiB pages. Pure C over values read from the MSRs: the loader reads
 * them, host unit tests make them up.
 */
#ifndef UHV_ARCH_MTRR_H
#define UHV_ARCH_MTRR_H

#include "lib/types.h"

#define MTRR_MAX_VAR   32
#define MTRR_FIXED_MSRS 11          /* 64K 00000, 16K 80000/A0000, 4K C0000.. */

struct mtrr_state {
	bool enabled;               /* IA32_MTRR_DEF_TYPE.E */
	bool fixed_enabled;         /* .FE, and the CPU has fixed ranges */
	u8 default_type;
	int nr_var;
	u64 var_base[MTRR_MAX_VAR], var_mask[MTRR_MAX_VAR];  /* valid only */
	u64 fixed[MTRR_FIXED_MSRS]; /* 8 types of a byte each */
};

/* Reads the MSRs through rdmsr (the real instruction in the loader). */
void mtrr_read(struct mtrr_state *m, u64 (*rdmsr_fn)(u32 msr));

/* Whether every byte of [pa, pa + 2 MiB) has the same memory type, so
   one 2 MiB page may map it. pa is 2 MiB aligned. */
bool mtrr_uniform_2m(const struct mtrr_state *m, u64 pa);

#endif
