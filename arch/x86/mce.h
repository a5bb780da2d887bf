/*
 * Machine checks on the host (SDM Vol. 3B ch. 16, Machine-Check
 * Architecture). uhv gives guests no MCA (their CPUID hides it and their
 * MCG_CAP reads 0), so a machine check is always uhv's: one during a
 * guest exits (exception bitmap bit 18) and stops that VM, one in VMX
 * root stops the machine. Either way the error banks are reported:
 *
 *   IA32_MCi_STATUS (§16.3.2.2)
 *    63  62   61 60  59    58    57  56:32     31:16        15:0
 *  +---+----+---+--+-----+-----+---+--------+-------------+----------+
 *  |VAL|OVER|UC |EN|MISCV|ADDRV|PCC| other  | model code  | MCA code |
 *  +---+----+---+--+-----+-----+---+--------+-------------+----------+
 *
 * The decoding (this header's mce_* functions, mce_decode.c) is pure C,
 * unit-tested on the host; arch_mce_read (mce.c) reads the MSRs.
 */
#ifndef UHV_ARCH_MCE_H
#define UHV_ARCH_MCE_H

#include "lib/types.h"

/* IA32_MCG_CAP (§16.3.1.1) and IA32_MCG_STATUS (§16.3.1.2). */
#define MCG_CAP_COUNT_MASK    0xffULL
#define MCG_CAP_CMCI_P        (1ULL << 10)
#define MCG_STATUS_RIPV       (1ULL << 0)
#define MCG_STATUS_EIPV       (1ULL << 1)
#define MCG_STATUS_MCIP       (1ULL << 2)

/* Bank i's MSRs: IA32_MC0_CTL + 4 * i ... (§16.3.2, Table 16-2). */
#define MSR_IA32_MC0_STATUS   0x401
#define MSR_IA32_MC0_ADDR     0x402
#define MSR_IA32_MC0_MISC     0x403
#define MCI_MSR_STRIDE        4

/* IA32_MCi_STATUS bits. */
#define MCI_STATUS_VAL        (1ULL << 63)
#define MCI_STATUS_OVER       (1ULL << 62)
#define MCI_STATUS_UC         (1ULL << 61)
#define MCI_STATUS_EN         (1ULL << 60)
#define MCI_STATUS_MISCV      (1ULL << 59)
#define MCI_STATUS_ADDRV      (1ULL << 58)
#define MCI_STATUS_PCC        (1ULL << 57)
#define MCI_STATUS_MCA_MASK   0xffffULL
#define MCI_STATUS_MODEL_SHIFT 16
#define MCI_STATUS_MODEL_MASK 0xffffULL

/* Banks uhv records (MCG_CAP.Count can say up to 255; CPUs have < 32). */
#define MCE_MAX_BANKS         32

struct arch_mce_bank {
	u32 index;             /* i of IA32_MCi_* */
	u64 status, addr, misc;/* addr/misc 0 unless ADDRV/MISCV */
};

/* One machine check's view of the CPU: the global registers and the
   banks that hold a valid error. */
struct arch_mce {
	u64 mcg_cap, mcg_status;
	u32 nr_banks;          /* MCG_CAP.Count, as the CPU says */
	u32 nr_valid;          /* entries of banks[] */
	struct arch_mce_bank banks[MCE_MAX_BANKS];
};

/* What the machine can do after a machine check. */
enum mce_verdict {
	MCE_STOP_VM,           /* the interrupted guest is lost; uhv goes on */
	MCE_STOP_MACHINE,      /* the processor context is corrupt (PCC) */
};

/* Banks to read: MCG_CAP.Count, at most MCE_MAX_BANKS (§16.3.1.1). */
u32 mce_bank_count(u64 mcg_cap);
/* Records bank i's registers in m if its status is valid (VAL). */
void mce_add_bank(struct arch_mce *m, u32 i, u64 status, u64 addr, u64 misc);
/* The error class of an MCA error code (§16.9.1-16.9.2), a short name. */
const char *mce_error_class(u16 mca_code);
/* MCE_STOP_MACHINE if any valid bank has PCC set, else MCE_STOP_VM. */
enum mce_verdict mce_verdict(const struct arch_mce *m);
/* One line describing bank b: "bank 3 status 0x... (uncorrected, PCC,
   memory controller error 0x009f) addr 0x...". Returns fmt_sn's length. */
int mce_format_bank(const struct arch_mce_bank *b, char *buf, size_t size);

/* Reads MCG_CAP, MCG_STATUS and the banks (where MCG_CAP says there are
   any; a CPU without MCA gives an empty record). uhv only. */
void arch_mce_read(struct arch_mce *m);
/* Prints m's global state and every valid bank, each line "uhv: <where>:
   ...". uhv only. */
void arch_mce_report(const struct arch_mce *m, const char *where);
/* After a report: clears the banks' status and MCG_STATUS.MCIP, so a
   later machine check is not a shutdown (§16.3.1.2). uhv only. */
void arch_mce_clear(const struct arch_mce *m);

#endif
