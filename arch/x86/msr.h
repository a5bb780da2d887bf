/*
 * Model-specific registers uhv uses, named as in the Intel SDM Vol. 4
 * (Model-Specific Registers), with the bits it tests.
 */
#ifndef UHV_ARCH_MSR_H
#define UHV_ARCH_MSR_H

#define MSR_IA32_TSC                 0x010
#define MSR_IA32_SPEC_CTRL           0x048
#define MSR_IA32_PRED_CMD            0x049
#define MSR_IA32_ARCH_CAPABILITIES   0x10a
#define MSR_IA32_PLATFORM_ID         0x017
#define MSR_IA32_APIC_BASE           0x01b
#define MSR_IA32_FEATURE_CONTROL     0x03a
#define MSR_IA32_TSC_ADJUST          0x03b
#define MSR_IA32_BIOS_SIGN_ID        0x08b
#define MSR_IA32_MTRRCAP             0x0fe
#define MSR_IA32_SYSENTER_CS         0x174
#define MSR_IA32_SYSENTER_ESP        0x175
#define MSR_IA32_SYSENTER_EIP        0x176
#define MSR_IA32_MCG_CAP             0x179
#define MSR_IA32_MCG_STATUS          0x17a
#define MSR_IA32_MISC_ENABLE         0x1a0
#define MSR_IA32_PAT                 0x277
#define MSR_IA32_MTRR_DEF_TYPE       0x2ff
#define MSR_IA32_VMX_BASIC           0x480
#define MSR_IA32_VMX_PINBASED_CTLS   0x481
#define MSR_IA32_VMX_PROCBASED_CTLS  0x482
#define MSR_IA32_VMX_EXIT_CTLS       0x483
#define MSR_IA32_VMX_ENTRY_CTLS      0x484
#define MSR_IA32_VMX_MISC            0x485
#define MSR_IA32_VMX_CR0_FIXED0      0x486
#define MSR_IA32_VMX_CR0_FIXED1      0x487
#define MSR_IA32_VMX_CR4_FIXED0      0x488
#define MSR_IA32_VMX_CR4_FIXED1      0x489
#define MSR_IA32_VMX_PROCBASED_CTLS2 0x48b
#define MSR_IA32_VMX_EPT_VPID_CAP    0x48c
#define MSR_IA32_VMX_TRUE_PINBASED_CTLS  0x48d
#define MSR_IA32_VMX_TRUE_PROCBASED_CTLS 0x48e
#define MSR_IA32_VMX_TRUE_EXIT_CTLS  0x48f
#define MSR_IA32_VMX_TRUE_ENTRY_CTLS 0x490
#define MSR_IA32_X2APIC_LVT_TIMER    0x832
#define MSR_IA32_EFER                0xc0000080
#define MSR_IA32_STAR                0xc0000081
#define MSR_IA32_LSTAR               0xc0000082
#define MSR_IA32_CSTAR               0xc0000083
#define MSR_IA32_FMASK               0xc0000084
#define MSR_IA32_FS_BASE             0xc0000100
#define MSR_IA32_GS_BASE             0xc0000101
#define MSR_IA32_KERNEL_GS_BASE      0xc0000102
#define MSR_IA32_TSC_AUX             0xc0000103

/* IA32_FEATURE_CONTROL (SDM Vol. 3C §24.7 "Enabling and entering VMX"). */
#define FEATURE_CONTROL_LOCK         (1ULL << 0)
#define FEATURE_CONTROL_VMX_OUTSIDE_SMX (1ULL << 2)

/*
 * IA32_VMX_BASIC (SDM Vol. 3D Appendix A.1):
 *
 *   63    56 55 54  53:50  49  48  44:32        31  30:0
 *  +--------+--+--+------+---+---+-------------+--+--------------+
 *  |   0    |TC|IO|memtyp|   |32b| VMCS bytes  |0 | revision id  |
 *  +--------+--+--+------+---+---+-------------+--+--------------+
 *  TC: the TRUE_*_CTLS MSRs exist.
 */
#define VMX_BASIC_REVISION_MASK      0x7fffffffULL
#define VMX_BASIC_TRUE_CTLS          (1ULL << 55)

/* IA32_VMX_MISC (Appendix A.6): bits 4:0 = preemption timer rate shift. */
#define VMX_MISC_PREEMPT_RATE_MASK   0x1fULL
#define VMX_MISC_ACTIVITY_HLT        (1ULL << 6)

/* IA32_VMX_EPT_VPID_CAP (Appendix A.10). */
#define EPT_CAP_WALK_4               (1ULL << 6)
#define EPT_CAP_MEMTYPE_WB           (1ULL << 14)
#define EPT_CAP_PDE_2MB              (1ULL << 16)
#define EPT_CAP_INVEPT               (1ULL << 20)
#define EPT_CAP_INVEPT_SINGLE        (1ULL << 25)
#define EPT_CAP_INVEPT_ALL           (1ULL << 26)
#define VPID_CAP_INVVPID             (1ULL << 32)
#define VPID_CAP_INVVPID_ALL         (1ULL << 42)

/* IA32_EFER. */
#define EFER_SCE                     (1ULL << 0)
#define EFER_LME                     (1ULL << 8)
#define EFER_LMA                     (1ULL << 10)
#define EFER_NXE                     (1ULL << 11)

/* IA32_APIC_BASE. */
#define APIC_BASE_BSP                (1ULL << 8)
#define APIC_BASE_X2APIC             (1ULL << 10)
#define APIC_BASE_ENABLE             (1ULL << 11)
#define APIC_BASE_ADDR_MASK          0xffffff000ULL
#define APIC_DEFAULT_BASE            0xfee00000ULL


#endif
