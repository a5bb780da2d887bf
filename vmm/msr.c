/*
 * RDMSR/WRMSR: an allowlist. Each MSR a guest may touch is listed once,
 * with how it is read and written; anything else gets #GP, as a CPU
 * without that MSR would answer, and is counted and logged.
 */
#include "vmm/exit_handlers.h"
#include "arch/x86/cpu.h"
#include "arch/x86/msr.h"
#include "drivers/console.h"
#include "vmm/cpuid_policy.h"
#include "vmm/sched.h"
#include "vmm/exit.h"

#define MSR_LOG_LIMIT 8          /* log the first few refusals per VM */
#define EFER_WRITABLE (EFER_SCE | EFER_LME | EFER_NXE)
#define MTRR_DEF_TYPE_WB_ENABLED 0xc06ULL  /* MTRRs on, default WB */
#define PAT_VALID_TYPES 0xf3U              /* types 0,1,4,5,6,7 */

/* Where an MSR's value lives. */
enum msr_kind {
	MSR_FIXED,               /* reads give arg; nothing is stored */
	MSR_VMCS,                /* the guest-state field arg (enum arch_reg) */
	MSR_SWITCHED,            /* the vCPU's copy arg (enum arch_msr) */
	MSR_TIME,                /* the TSC itself: the host's plus the offset */
	MSR_TSC_ADJUST,          /* the vCPU's TSC offset */
	MSR_ARCH_CAPS,           /* the policy's ARCH_CAPABILITIES; read-only */
	MSR_MISC_ENABLE,         /* the vCPU's IA32_MISC_ENABLE */
	MSR_WRITE_ONLY,          /* reads get #GP (PRED_CMD) */
};

struct msr_entry;
typedef bool (*msr_write_fn)(struct vcpu *v, const struct msr_entry *m, u64 val);

struct msr_entry {
	u32 msr;
	enum msr_kind kind;
	u64 arg;
	msr_write_fn write;      /* NULL: writes are ignored */
};

/* Stores val where the entry says the MSR lives (VMCS or vCPU copy). */
static bool store(struct vcpu *v, const struct msr_entry *m, u64 val)
{
	if (m->kind == MSR_SWITCHED)
		arch_vcpu_msr_set(&v->arch, (enum arch_msr)m->arg, val);
	else
		arch_vcpu_set(&v->arch, (enum arch_reg)m->arg, val);
	return true;
}

/* Addresses must be canonical: bits 63:47 equal (48-bit linear). */
static bool store_canonical(struct vcpu *v, const struct msr_entry *m, u64 val)
{
	if ((u64)((s64)(val << 16) >> 16) != val)
		return false;
	return store(v, m, val);
}

static bool write_efer(struct vcpu *v, const struct msr_entry *m, u64 val)
{
	u64 lma = arch_vcpu_get(&v->arch, AREG_EFER) & EFER_LMA;

	if (val & ~(EFER_WRITABLE | EFER_LMA))
		return false;
	return store(v, m, (val & EFER_WRITABLE) | lma);
}

static bool write_pat(struct vcpu *v, const struct msr_entry *m, u64 val)
{
	for (int i = 0; i < 8; i++) {
		u8 type = (u8)(val >> (8 * i));

		if (type > 7 || !(PAT_VALID_TYPES & (1U << type)))
			return false;
	}
	return store(v, m, val);
}

/* IA32_TSC_AUX: bits 63:32 are reserved (SDM Vol. 4 Table 2-2). */
static bool write_tsc_aux(struct vcpu *v, const struct msr_entry *m, u64 val)
{
	return !(val >> 32) && store(v, m, val);
}

/* IA32_SPEC_CTRL: only the controls the guest's CPUID announces. The
   vCPU's value is in the hardware while it runs (AMSR_SPEC_CTRL). */
static bool write_spec_ctrl(struct vcpu *v, const struct msr_entry *m, u64 val)
{
	return !(val & ~cpuid_spec_ctrl_bits(cpuid_guest_policy())) &&
	       store(v, m, val);
}

/* IA32_PRED_CMD: IBPB is the only command; 0 does nothing. */
static bool write_pred_cmd(struct vcpu *v, const struct msr_entry *m, u64 val)
{
	(void)v;
	(void)m;
	if (val & ~PRED_CMD_IBPB)
		return false;
	if (val)
		arch_ibpb();
	return true;
}

/* IA32_MISC_ENABLE: only its writable bits may change (cpuid_policy.h). */
static bool write_misc_enable(struct vcpu *v, const struct msr_entry *m, u64 val)
{
	(void)m;
	if (!cpuid_misc_enable_valid(val))
		return false;
	v->misc_enable = val;
	return true;
}

/* Read-only MSRs: a write is #GP. */
static bool write_refused(struct vcpu *v, const struct msr_entry *m, u64 val)
{
	(void)v;
	(void)m;
	(void)val;
	return false;
}

/*
 * The TSC and IA32_TSC_ADJUST move together (SDM Vol. 3B §17.17.3): a
 * write to either changes the other by the same amount. A vCPU's TSC
 * starts as the host's with IA32_TSC_ADJUST 0, so its offset from the
 * host's TSC is its IA32_TSC_ADJUST, and the one value holds both. The
 * CPU adds it to RDTSC and RDTSCP; the local APIC's timers count in the
 * guest's TSC (platform.c).
 */
static void set_tsc_offset(struct vcpu *v, u64 offset)
{
	v->tsc_offset = offset;
	arch_vcpu_set_tsc_offset(&v->arch, offset);
}

static bool write_tsc(struct vcpu *v, const struct msr_entry *m, u64 val)
{
	(void)m;
	set_tsc_offset(v, val - rdtsc());
	return true;
}

static bool write_tsc_adjust(struct vcpu *v, const struct msr_entry *m,
			     u64 val)
{
	(void)m;
	set_tsc_offset(v, val);
	return true;
}

static const struct msr_entry msr_table[] = {
	{ MSR_IA32_EFER, MSR_VMCS, AREG_EFER, write_efer },
	{ MSR_IA32_PAT, MSR_VMCS, AREG_PAT, write_pat },
	{ MSR_IA32_FS_BASE, MSR_VMCS, AREG_FS_BASE, store_canonical },
	{ MSR_IA32_GS_BASE, MSR_VMCS, AREG_GS_BASE, store_canonical },
	{ MSR_IA32_SYSENTER_CS, MSR_VMCS, AREG_SYSENTER_CS, store },
	{ MSR_IA32_SYSENTER_ESP, MSR_VMCS, AREG_SYSENTER_ESP, store_canonical },
	{ MSR_IA32_SYSENTER_EIP, MSR_VMCS, AREG_SYSENTER_EIP, store_canonical },
	{ MSR_IA32_MISC_ENABLE, MSR_MISC_ENABLE, 0, write_misc_enable },
	{ MSR_IA32_MTRRCAP, MSR_FIXED, 0, NULL },
	{ MSR_IA32_MTRR_DEF_TYPE, MSR_FIXED, MTRR_DEF_TYPE_WB_ENABLED, NULL },
	{ MSR_IA32_PLATFORM_ID, MSR_FIXED, 0, NULL },
	{ MSR_IA32_BIOS_SIGN_ID, MSR_FIXED, 0, NULL },
	{ MSR_IA32_MCG_CAP, MSR_FIXED, 0, NULL },
	{ MSR_IA32_MCG_STATUS, MSR_FIXED, 0, NULL },
	{ MSR_IA32_TSC, MSR_TIME, 0, write_tsc },
	{ MSR_IA32_TSC_ADJUST, MSR_TSC_ADJUST, 0, write_tsc_adjust },
	/* VMX locked off, as a guest should see it: no nested VMX */
	{ MSR_IA32_FEATURE_CONTROL, MSR_FIXED, FEATURE_CONTROL_LOCK, NULL },
	/* the SYSCALL MSRs and SWAPGS base: read from the vCPU's copies */
	{ MSR_IA32_STAR, MSR_SWITCHED, AMSR_STAR, store },
	{ MSR_IA32_LSTAR, MSR_SWITCHED, AMSR_LSTAR, store_canonical },
	{ MSR_IA32_CSTAR, MSR_SWITCHED, AMSR_CSTAR, store_canonical },
	{ MSR_IA32_FMASK, MSR_SWITCHED, AMSR_FMASK, store },
	{ MSR_IA32_KERNEL_GS_BASE, MSR_SWITCHED, AMSR_KERNEL_GS_BASE, store_canonical },
};

/* MSRs that exist only where the guest's CPUID announces their feature
   (cpuid_has_msr): elsewhere they get #GP like any unknown MSR. */
static const struct msr_entry cpuid_msr_table[] = {
	{ MSR_IA32_TSC_AUX, MSR_SWITCHED, AMSR_TSC_AUX, write_tsc_aux },
	{ MSR_IA32_SPEC_CTRL, MSR_SWITCHED, AMSR_SPEC_CTRL, write_spec_ctrl },
	{ MSR_IA32_PRED_CMD, MSR_WRITE_ONLY, 0, write_pred_cmd },
	{ MSR_IA32_ARCH_CAPABILITIES, MSR_ARCH_CAPS, 0, write_refused },
};

static const struct msr_entry *find_msr(u32 msr)
{
	for (size_t i = 0; i < ARRAY_SIZE(msr_table); i++)
		if (msr_table[i].msr == msr)
			return &msr_table[i];
	if (!cpuid_has_msr(cpuid_guest_policy(), msr))
		return NULL;
	for (size_t i = 0; i < ARRAY_SIZE(cpuid_msr_table); i++)
		if (cpuid_msr_table[i].msr == msr)
			return &cpuid_msr_table[i];
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

static u64 msr_value(struct vcpu *v, const struct msr_entry *m)
{
	switch (m->kind) {
	case MSR_VMCS:     return arch_vcpu_get(&v->arch, (enum arch_reg)m->arg);
	case MSR_SWITCHED: return arch_vcpu_msr_get(&v->arch, (enum arch_msr)m->arg);
	case MSR_TIME:     return platform_vcpu_tsc(v);
	case MSR_TSC_ADJUST: return v->tsc_offset;
	case MSR_ARCH_CAPS: return cpuid_guest_policy()->arch_capabilities;
	case MSR_MISC_ENABLE: return v->misc_enable;
	default:           return m->arg;
	}
}

/*
 * The local APIC's MSRs: IA32_APIC_BASE, the x2APIC range and
 * IA32_TSC_DEADLINE. Returns false if msr is not one of them.
 */
static bool apic_msr(struct vcpu *v, u32 msr, bool write, u64 *val, bool *ok)
{
	struct lapic *l = &v->lapic;

	*ok = true;
	if (msr == MSR_IA32_APIC_BASE) {
		/* the state machine of SDM Vol. 3A §11.12.5 (lapic.h) */
		if (!write)
			*val = lapic_base_read(l);
		else if ((*ok = lapic_base_write(l, *val)))
			platform_apic_mode_changed(v);
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
	} else if (!m || m->kind == MSR_WRITE_ONLY) {
		return refuse(v, "read of", msr, 0);
	} else {
		val = msr_value(v, m);
	}
	v->arch.regs[GPR_RAX] = (u32)val;
	v->arch.regs[GPR_RDX] = val >> 32;
	return arch_vcpu_skip(&v->arch, e);   /* EXIT_RESUME */
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
	} else if (!m || (m->write && !m->write(v, m, val))) {
		return refuse(v, "write of", msr, val);
	}
	arch_vcpu_skip(&v->arch, e);
	return sched_resume(v);
}
