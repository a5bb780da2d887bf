/*
 * Reading and clearing the host's machine-check banks (SDM Vol. 3B
 * §16.3). The decoding lives in mce_decode.c.
 */
#include "arch/x86/mce.h"
#include "arch/x86/cpu.h"
#include "arch/x86/msr.h"
#include "drivers/console.h"
#include "lib/string.h"

#define CPUID_1_EDX_MCE  (1U << 7)    /* machine-check exception */
#define CPUID_1_EDX_MCA  (1U << 14)   /* the MCG_* and MCi_* MSRs */
#define MCE_LINE_MAX     192

/* MCA exists: CPUID.1:EDX.MCA (§16.3.1), else no MCG_CAP to read. */
static bool has_mca(void)
{
	struct cpuid_regs r;

	cpuid(1, 0, &r);
	return (r.edx & (CPUID_1_EDX_MCE | CPUID_1_EDX_MCA)) ==
	       (CPUID_1_EDX_MCE | CPUID_1_EDX_MCA);
}

/* MCG_CAP.Count banks, IA32_MCi_STATUS/ADDR/MISC each (§16.3.2). */
void arch_mce_read(struct arch_mce *m)
{
	memset(m, 0, sizeof(*m));
	if (!has_mca())
		return;
	m->mcg_cap = rdmsr(MSR_IA32_MCG_CAP);
	m->mcg_status = rdmsr(MSR_IA32_MCG_STATUS);
	m->nr_banks = (u32)(m->mcg_cap & MCG_CAP_COUNT_MASK);
	for (u32 i = 0; i < mce_bank_count(m->mcg_cap); i++) {
		u32 base = i * MCI_MSR_STRIDE;
		u64 st = rdmsr(MSR_IA32_MC0_STATUS + base);

		if (!(st & MCI_STATUS_VAL))
			continue;
		mce_add_bank(m, i, st,
			     (st & MCI_STATUS_ADDRV) ? rdmsr(MSR_IA32_MC0_ADDR + base) : 0,
			     (st & MCI_STATUS_MISCV) ? rdmsr(MSR_IA32_MC0_MISC + base) : 0);
	}
}

/* MCG_STATUS's RIPV/EIPV/MCIP (§16.3.1.2), then each valid bank. */
void arch_mce_report(const struct arch_mce *m, const char *where)
{
	char line[MCE_LINE_MAX];

	printk("uhv: %s: MCG_CAP 0x%llx (%u banks), MCG_STATUS 0x%llx (%s%s%s)\n",
	       where, (unsigned long long)m->mcg_cap, m->nr_banks,
	       (unsigned long long)m->mcg_status,
	       (m->mcg_status & MCG_STATUS_RIPV) ? "RIPV " : "",
	       (m->mcg_status & MCG_STATUS_EIPV) ? "EIPV " : "",
	       (m->mcg_status & MCG_STATUS_MCIP) ? "MCIP" : "");
	if (!m->nr_valid)
		printk("uhv: %s: no bank holds a valid error\n", where);
	for (u32 i = 0; i < m->nr_valid; i++) {
		mce_format_bank(&m->banks[i], line, sizeof(line));
		printk("uhv: %s: %s\n", where, line);
	}
}

/* Software clears the logged banks and then MCIP (§16.3.2.2, §16.3.1.2:
   a machine check while MCIP is set shuts the processor down). */
void arch_mce_clear(const struct arch_mce *m)
{
	if (!m->mcg_cap && !m->nr_valid)
		return;
	for (u32 i = 0; i < m->nr_valid; i++)
		wrmsr(MSR_IA32_MC0_STATUS + m->banks[i].index * MCI_MSR_STRIDE, 0);
	wrmsr(MSR_IA32_MCG_STATUS, 0);
}
