/*
 * Decoding machine-check records (SDM Vol. 3B ch. 16): pure C, no MSR
 * access, so the host unit tests feed it the values real CPUs log.
 */
#include "arch/x86/mce.h"
#include "lib/fmt.h"

/* Simple MCA error codes (§16.9.1, Table 16-7). */
#define MCA_NO_ERROR          0x0000U
#define MCA_UNCLASSIFIED      0x0001U
#define MCA_UCODE_ROM_PARITY  0x0002U
#define MCA_EXTERNAL          0x0003U
#define MCA_FRC               0x0004U
#define MCA_INTERNAL_PARITY   0x0005U
#define MCA_SMM_VIOLATION     0x0006U
#define MCA_INTERNAL_TIMER    0x0400U
#define MCA_IO_ERROR          0x0e0bU
#define MCA_INTERNAL_MASK     0xfc00U   /* 0000 01xx xxxx xxxx */
#define MCA_INTERNAL_VALUE    0x0400U
/* Compound codes (§16.9.2, Table 16-9), bit 12 (F, filtering) ignored. */
#define MCA_FILTER            0x1000U
#define MCA_GENERIC_CACHE_MASK  0xeffcU  /* 000F 0000 0000 11LL */
#define MCA_GENERIC_CACHE_VALUE 0x000cU
#define MCA_TLB_MASK          0xeff0U    /* 000F 0000 0001 TTLL */
#define MCA_TLB_VALUE         0x0010U
#define MCA_MEMCTL_MASK       0xef80U    /* 000F 0000 1MMM CCCC */
#define MCA_MEMCTL_VALUE      0x0080U
#define MCA_CACHE_MASK        0xef00U    /* 000F 0001 RRRR TTLL */
#define MCA_CACHE_VALUE       0x0100U
#define MCA_BUS_MASK          0xe800U    /* 000F 1PPT RRRR IILL */
#define MCA_BUS_VALUE         0x0800U

/* MCG_CAP.Count, capped at what struct arch_mce holds (§16.3.1.1). */
u32 mce_bank_count(u64 mcg_cap)
{
	return (u32)MIN(mcg_cap & MCG_CAP_COUNT_MASK, (u64)MCE_MAX_BANKS);
}

/* Keeps bank i only if IA32_MCi_STATUS.VAL says it logged an error;
   ADDR and MISC count only where ADDRV/MISCV say so (§16.3.2.2). */
void mce_add_bank(struct arch_mce *m, u32 i, u64 status, u64 addr, u64 misc)
{
	struct arch_mce_bank *b;

	if (!(status & MCI_STATUS_VAL) || m->nr_valid >= MCE_MAX_BANKS)
		return;
	b = &m->banks[m->nr_valid++];
	b->index = i;
	b->status = status;
	b->addr = (status & MCI_STATUS_ADDRV) ? addr : 0;
	b->misc = (status & MCI_STATUS_MISCV) ? misc : 0;
}

/* The simple error codes of Table 16-7, or NULL. */
static const char *simple_class(u16 c)
{
	switch (c) {
	case MCA_NO_ERROR: return "no error";
	case MCA_UNCLASSIFIED: return "unclassified error";
	case MCA_UCODE_ROM_PARITY: return "microcode ROM parity error";
	case MCA_EXTERNAL: return "external error";
	case MCA_FRC: return "FRC error";
	case MCA_INTERNAL_PARITY: return "internal parity error";
	case MCA_SMM_VIOLATION: return "SMM handler code access violation";
	case MCA_INTERNAL_TIMER: return "internal timer error";
	case MCA_IO_ERROR: return "I/O error";
	default: break;
	}
	return (c & MCA_INTERNAL_MASK) == MCA_INTERNAL_VALUE ?
	       "internal unclassified error" : NULL;
}

/* Simple codes first (Table 16-7), then the compound classes (16-9). */
const char *mce_error_class(u16 c)
{
	const char *s = simple_class(c);

	if (s)
		return s;
	if ((c & MCA_GENERIC_CACHE_MASK) == MCA_GENERIC_CACHE_VALUE)
		return "generic cache hierarchy error";
	if ((c & MCA_TLB_MASK) == MCA_TLB_VALUE)
		return "TLB error";
	if ((c & MCA_MEMCTL_MASK) == MCA_MEMCTL_VALUE)
		return "memory controller error";
	if ((c & MCA_CACHE_MASK) == MCA_CACHE_VALUE)
		return "cache hierarchy error";
	if ((c & MCA_BUS_MASK) == MCA_BUS_VALUE)
		return "bus/interconnect error";
	return "unknown error";
}

/* PCC: "processor context corrupt" (§16.3.2.2): the CPU cannot go on
   reliably, so neither can uhv; otherwise only the guest is lost. */
enum mce_verdict mce_verdict(const struct arch_mce *m)
{
	for (u32 i = 0; i < m->nr_valid; i++)
		if (m->banks[i].status & MCI_STATUS_PCC)
			return MCE_STOP_MACHINE;
	return MCE_STOP_VM;
}

/* The bank's status decoded by its bits and MCA code (§16.3.2.2,
   §16.9), then ADDR and MISC where valid. */
int mce_format_bank(const struct arch_mce_bank *b, char *buf, size_t size)
{
	u64 s = b->status;
	u16 code = (u16)(s & MCI_STATUS_MCA_MASK);
	int n = fmt_sn(buf, size, "bank %u status 0x%016llx (%s%s%s%s, %s 0x%04x, "
		       "model code 0x%04x)", b->index, (unsigned long long)s,
		       (s & MCI_STATUS_UC) ? "uncorrected" : "corrected",
		       (s & MCI_STATUS_PCC) ? ", PCC" : "",
		       (s & MCI_STATUS_OVER) ? ", overflow" : "",
		       (s & MCI_STATUS_EN) ? "" : ", not signaled",
		       mce_error_class(code), code,
		       (unsigned)(s >> MCI_STATUS_MODEL_SHIFT & MCI_STATUS_MODEL_MASK));

	if (s & MCI_STATUS_ADDRV && (size_t)n < size)
		n += fmt_sn(buf + n, size - n, " addr 0x%llx",
			    (unsigned long long)b->addr);
	if (s & MCI_STATUS_MISCV && (size_t)n < size)
		n += fmt_sn(buf + n, size - n, " misc 0x%llx",
			    (unsigned long long)b->misc);
	return n;
}
