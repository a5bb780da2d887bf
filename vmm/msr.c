/*
 * RDMSR/WRMSR: an allowlist. Each MSR a guest may touch is listed once,
 * with how it is read and written; anything else gets #GP, as a CPU
 * without that MSR would answer, and is counted and logged.
 */
#include "exit_handlers.h"
#include "../arch/x86/cpu.h"
#include "../arch/x86/msr.h"
#include "../drivers/console.h"

#define MSR_LOG_LIMIT 8          /* log the first few refusals per VM */
#define EFER_WRITABLE (EFER_SCE | EFER_LME | EFER_NXE)
#define MTRR_DEF_TYPE_WB_ENABLED 0xc06ULL  /* MTRRs on, default WB */
#define PAT_VALID_TYPES 0xf3U              /* types 0,1,4,5,6,7 */

struct msr_entry {
	u32 msr;
	enum arch_reg reg;       /* AREG_* kept in the VMCS, or NR_AREGS */
	u64 fixed;               /* read value when reg == NR_AREGS */
	bool (*write)(struct vcpu *v, u64 val);   /* NULL: writes ignored */
};

static bool write_vmcs(struct vcpu *v, enum arch_reg r, u64 val)
{
	arch_vcpu_set(&v->arch, r, val);
	return true;
}

static bool write_efer(struct vcpu *v, u64 val)
{
	u64 lma = arch_vcpu_get(&v->arch, AREG_EFER) & EFER_LMA;

	if (val & ~(EFER_WRITABLE | EFER_LMA))
		return false;
	return write_vmcs(v, AREG_EFER, (val & EFER_WRITABLE) | lma);
}

static bool write_pat(struct vcpu *v, u64 val)
{
	for (int i = 0; i < 8; i++) {
		u8 type = (u8)(val >> (8 * i));

		if (type > 7 || !(PAT_VALID_TYPES & (1U << type)))
			return false;
	}
	return write_vmcs(v, AREG_PAT, val);
}

static bool write_canonical(struct vcpu *v, enum arch_reg r, u64 val)
{
	/* bits 63:47 all equal (48-bit linear addresses) */
	if ((u64)((s64)(val << 16) >> 16) != val)
		return false;
	return write_vmcs(v, r, val);
}

static bool write_fs(struct vcpu *v, u64 val) { return write_canonical(v, AREG_FS_BASE, val); }
static bool write_gs(struct vcpu *v, u64 val) { return write_canonical(v, AREG_GS_BASE, val); }
static bool write_sysenter_cs(struct vcpu *v, u64 val) { return write_vmcs(v, AREG_SYSENTER_CS, val); }
static bool write_sysenter_esp(struct vcpu *v, u64 val) { return write_canonical(v, AREG_SYSENTER_ESP, val); }
static bool write_sysenter_eip(struct vcpu *v, u64 val) { return write_canonical(v, AREG_SYSENTER_EIP, val); }

static const struct msr_entry msr_table[] = {
	{ MSR_IA32_EFER, AREG_EFER, 0, write_efer },
	{ MSR_IA32_PAT, AREG_PAT, 0, write_pat },
	{ MSR_IA32_FS_BASE, AREG_FS_BASE, 0, write_fs },
	{ MSR_IA32_GS_BASE, AREG_GS_BASE, 0, write_gs },
	{ MSR_IA32_SYSENTER_CS, AREG_SYSENTER_CS, 0, write_sysenter_cs },
	{ MSR_IA32_SYSENTER_ESP, AREG_SYSENTER_ESP, 0, write_sysenter_esp },
	{ MSR_IA32_SYSENTER_EIP, AREG_SYSENTER_EIP, 0, write_sysenter_eip },
	{ MSR_IA32_MISC_ENABLE, NR_AREGS, MISC_ENABLE_FAST_STRINGS, NULL },
	{ MSR_IA32_MTRRCAP, NR_AREGS, 0, NULL },
	{ MSR_IA32_MTRR_DEF_TYPE, NR_AREGS, MTRR_DEF_TYPE_WB_ENABLED, NULL },
	{ MSR_IA32_PLATFORM_ID, NR_AREGS, 0, NULL },
	{ MSR_IA32_BIOS_SIGN_ID, NR_AREGS, 0, NULL },
	{ MSR_IA32_MCG_CAP, NR_AREGS, 0, NULL },
	{ MSR_IA32_MCG_STATUS, NR_AREGS, 0, NULL },
	{ MSR_IA32_TSC, NR_AREGS, 0, NULL },        /* read: the TSC */
};

static const struct msr_entry *find_msr(u32 msr)
{
	for (size_t i = 0; i < ARRAY_SIZE(msr_table); i++)
		if (msr_table[i].msr == msr)
			return &msr_table[i];
	return NULL;
}

static enum exit_action refuse(struct vcpu *v, const char *op, u32 msr, u64 val)
{
	if (v->vm->msr_refused++ < MSR_LOG_LIMIT)
		printk("uhv: vm %s: %s MSR 0x%x (value 0x%llx) refused with #GP\n",
		       v->vm->name, op, msr, (unsigned long long)val);
	arch_vcpu_inject_exception(&v->arch, X86_EXC_GP, true, 0);
	return EXIT_RESUME;
}

/* IA32_APIC_BASE: fixed address, always enabled; EXTD picks x2APIC. */
static u64 apic_base(struct vcpu *v)
{
	return APIC_DEFAULT_BASE | APIC_BASE_ENABLE | APIC_BASE_BSP |
	       (v->vm->plat.lapic.x2apic ? APIC_BASE_X2APIC : 0);
}

/*
 * The local APIC's MSRs: IA32_APIC_BASE, the x2APIC range and
 * IA32_TSC_DEADLINE. Returns false if msr is not one of them.
 */
static bool apic_msr(struct vcpu *v, u32 msr, bool write, u64 *val, bool *ok)
{
	struct lapic *l = &v->vm->plat.lapic;

	*ok = true;
	if (msr == MSR_IA32_APIC_BASE) {
		if (!write)
			*val = apic_base(v);
		else if ((*val & ~APIC_BASE_X2APIC) != (apic_base(v) & ~APIC_BASE_X2APIC))
			*ok = false;     /* moving or disabling the APIC: refused */
		else
			lapic_set_x2apic(l, *val & APIC_BASE_X2APIC);
	} else if (msr == MSR_IA32_TSC_DEADLINE) {
		if (write)
			lapic_tsc_deadline_write(l, *val);
		else
			*val = lapic_tsc_deadline_read(l);
	} else if (msr >= X2APIC_MSR_BASE && msr <= X2APIC_MSR_LAST) {
		*ok = write ? lapic_msr_write(l, msr, *val) : lapic_msr_read(l, msr, val);
	} else {
		return false;
	}
	v->irq_dirty |= write;
	return true;
}

enum exit_action exit_rdmsr(struct vcpu *v, const struct arch_exit *e)
{
	u32 msr = (u32)v->arch.regs[GPR_RCX];
	const struct msr_entry *m = find_msr(msr);
	u64 val = 0;
	bool ok;

	if (apic_msr(v, msr, false, &val, &ok)) {
		if (!ok)
			return refuse(v, "read of", msr, 0);
	} else if (!m) {
		return refuse(v, "read of", msr, 0);
	} else if (msr == MSR_IA32_TSC) {
		val = rdtsc();
	} else {
		val = m->reg == NR_AREGS ? m->fixed : arch_vcpu_get(&v->arch, m->reg);
	}
	v->arch.regs[GPR_RAX] = (u32)val;
	v->arch.regs[GPR_RDX] = val >> 32;
	arch_vcpu_skip(&v->arch, e);
	return EXIT_RESUME;
}


enum exit_action exit_wrmsr(struct vcpu *v, const struct arch_exit *e)
{
	u32 msr = (u32)v->arch.regs[GPR_RCX];
	u64 val = (v->arch.regs[GPR_RDX] << 32) | (u32)v->arch.regs[GPR_RAX];
	const struct msr_entry *m = find_msr(msr);
	bool ok;

	if (apic_msr(v, msr, true, &val, &ok)) {
		if (!ok)
			return refuse(v, "write of", msr, val);
	} else if (!m || (m->write && !m->write(v, val))) {
		return refuse(v, "write of", msr, val);
	}
	arch_vcpu_skip(&v->arch, e);
	return vcpu_resume(v);
}
