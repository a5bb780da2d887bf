/*
 * VMX basic exit reasons (SDM Vol. 3D Appendix C), apart from vmx.h's
 * VMCS encodings: struct arch_exit (vcpu.h) carries the reason, and the
 * VMM's exit table is indexed by it, but the VMM never sees a VMCS field
 * encoding (docs/layering.md, rule 4).
 */
#ifndef UHV_ARCH_VMX_EXIT_H
#define UHV_ARCH_VMX_EXIT_H

/* Basic exit reasons (Vol. 3D Appendix C). */
enum vmx_exit_reason {
	EXIT_REASON_EXCEPTION_NMI       = 0,
	EXIT_REASON_EXTERNAL_INTERRUPT  = 1,
	EXIT_REASON_TRIPLE_FAULT        = 2,
	EXIT_REASON_INIT_SIGNAL         = 3,
	EXIT_REASON_SIPI                = 4,
	EXIT_REASON_IO_SMI              = 5,
	EXIT_REASON_OTHER_SMI           = 6,
	EXIT_REASON_INTERRUPT_WINDOW    = 7,
	EXIT_REASON_NMI_WINDOW          = 8,
	EXIT_REASON_TASK_SWITCH         = 9,
	EXIT_REASON_CPUID               = 10,
	EXIT_REASON_GETSEC              = 11,
	EXIT_REASON_HLT                 = 12,
	EXIT_REASON_INVD                = 13,
	EXIT_REASON_INVLPG              = 14,
	EXIT_REASON_RDPMC               = 15,
	EXIT_REASON_RDTSC               = 16,
	EXIT_REASON_RSM                 = 17,
	EXIT_REASON_VMCALL              = 18,
	EXIT_REASON_VMCLEAR             = 19,
	EXIT_REASON_VMLAUNCH            = 20,
	EXIT_REASON_VMPTRLD             = 21,
	EXIT_REASON_VMPTRST             = 22,
	EXIT_REASON_VMREAD              = 23,
	EXIT_REASON_VMRESUME            = 24,
	EXIT_REASON_VMWRITE             = 25,
	EXIT_REASON_VMXOFF              = 26,
	EXIT_REASON_VMXON               = 27,
	EXIT_REASON_CR_ACCESS           = 28,
	EXIT_REASON_DR_ACCESS           = 29,
	EXIT_REASON_IO_INSTRUCTION      = 30,
	EXIT_REASON_RDMSR               = 31,
	EXIT_REASON_WRMSR               = 32,
	EXIT_REASON_ENTRY_FAIL_GUEST    = 33,
	EXIT_REASON_ENTRY_FAIL_MSR      = 34,
	EXIT_REASON_MWAIT               = 36,
	EXIT_REASON_MONITOR_TRAP_FLAG   = 37,
	EXIT_REASON_MONITOR             = 39,
	EXIT_REASON_PAUSE               = 40,
	EXIT_REASON_ENTRY_FAIL_MCE      = 41,
	EXIT_REASON_TPR_BELOW_THRESHOLD = 43,
	EXIT_REASON_APIC_ACCESS         = 44,
	EXIT_REASON_VIRTUALIZED_EOI     = 45,
	EXIT_REASON_GDTR_IDTR           = 46,
	EXIT_REASON_LDTR_TR             = 47,
	EXIT_REASON_EPT_VIOLATION       = 48,
	EXIT_REASON_EPT_MISCONFIG       = 49,
	EXIT_REASON_INVEPT              = 50,
	EXIT_REASON_RDTSCP              = 51,
	EXIT_REASON_PREEMPTION_TIMER    = 52,
	EXIT_REASON_INVVPID             = 53,
	EXIT_REASON_WBINVD              = 54,
	EXIT_REASON_XSETBV              = 55,
	EXIT_REASON_APIC_WRITE          = 56,
	EXIT_REASON_RDRAND              = 57,
	EXIT_REASON_INVPCID             = 58,
	EXIT_REASON_VMFUNC              = 59,
	EXIT_REASON_ENCLS               = 60,
	EXIT_REASON_RDSEED              = 61,
	EXIT_REASON_PML_FULL            = 62,
	EXIT_REASON_XSAVES              = 63,
	EXIT_REASON_XRSTORS             = 64,
	EXIT_REASON_MAX                 = 65,   /* table size, one past the last */
};

#endif
