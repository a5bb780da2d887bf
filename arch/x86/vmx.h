/*
 * VMX names: VMCS field encodings, VM-execution/exit/entry control bits,
 * and exit-qualification layouts (exit reasons: vmx_exit.h), each named
 * once with the
 * Intel SDM's name. References are to the SDM Vol. 3C (ch. 24-28) and
 * Vol. 3D Appendix B (field encodings) and C (exit reasons).
 */
#ifndef UHV_ARCH_VMX_H
#define UHV_ARCH_VMX_H

#include "arch/x86/vmx_exit.h"

/*
 * A VMCS field encoding (Vol. 3C §24.11.2):
 *
 *  31      15 14:13  12  11:10  9:1   0
 *  +--------+------+---+------+-----+----+
 *  |   0    |width | 0 | type |index|high|
 *  +--------+------+---+------+-----+----+
 *  width: 0 16-bit, 1 64-bit, 2 32-bit, 3 natural width
 *  type:  0 control, 1 read-only data, 2 guest state, 3 host state
 */
enum vmcs_field {
	/* 16-bit */
	VMCS_VPID                    = 0x0000,
	VMCS_GUEST_ES_SELECTOR       = 0x0800,
	VMCS_GUEST_CS_SELECTOR       = 0x0802,
	VMCS_GUEST_SS_SELECTOR       = 0x0804,
	VMCS_GUEST_DS_SELECTOR       = 0x0806,
	VMCS_GUEST_FS_SELECTOR       = 0x0808,
	VMCS_GUEST_GS_SELECTOR       = 0x080a,
	VMCS_GUEST_LDTR_SELECTOR     = 0x080c,
	VMCS_GUEST_TR_SELECTOR       = 0x080e,
	VMCS_GUEST_INTR_STATUS       = 0x0810,
	VMCS_HOST_ES_SELECTOR        = 0x0c00,
	VMCS_HOST_CS_SELECTOR        = 0x0c02,
	VMCS_HOST_SS_SELECTOR        = 0x0c04,
	VMCS_HOST_DS_SELECTOR        = 0x0c06,
	VMCS_HOST_FS_SELECTOR        = 0x0c08,
	VMCS_HOST_GS_SELECTOR        = 0x0c0a,
	VMCS_HOST_TR_SELECTOR        = 0x0c0c,
	/* 64-bit */
	VMCS_IO_BITMAP_A             = 0x2000,
	VMCS_IO_BITMAP_B             = 0x2002,
	VMCS_MSR_BITMAP              = 0x2004,
	VMCS_TSC_OFFSET              = 0x2010,
	VMCS_VIRTUAL_APIC_PAGE_ADDR  = 0x2012,
	VMCS_APIC_ACCESS_ADDR        = 0x2014,
	VMCS_EPT_POINTER             = 0x201a,
	VMCS_EOI_EXIT_BITMAP0        = 0x201c,   /* 1-3 follow, 2 apart */
	VMCS_GUEST_PHYSICAL_ADDRESS  = 0x2400,
	VMCS_LINK_POINTER            = 0x2800,
	VMCS_GUEST_IA32_DEBUGCTL     = 0x2802,
	VMCS_GUEST_IA32_PAT          = 0x2804,
	VMCS_GUEST_IA32_EFER         = 0x2806,
	VMCS_GUEST_PDPTE0            = 0x280a,
	VMCS_GUEST_PDPTE1            = 0x280c,
	VMCS_GUEST_PDPTE2            = 0x280e,
	VMCS_GUEST_PDPTE3            = 0x2810,
	VMCS_HOST_IA32_PAT           = 0x2c00,
	VMCS_HOST_IA32_EFER          = 0x2c02,
	/* 32-bit */
	VMCS_PIN_BASED_CONTROLS      = 0x4000,
	VMCS_PROC_BASED_CONTROLS     = 0x4002,
	VMCS_EXCEPTION_BITMAP        = 0x4004,
	VMCS_CR3_TARGET_COUNT        = 0x400a,
	VMCS_EXIT_CONTROLS           = 0x400c,
	VMCS_EXIT_MSR_STORE_COUNT    = 0x400e,
	VMCS_EXIT_MSR_LOAD_COUNT     = 0x4010,
	VMCS_ENTRY_CONTROLS          = 0x4012,
	VMCS_ENTRY_MSR_LOAD_COUNT    = 0x4014,
	VMCS_ENTRY_INTR_INFO         = 0x4016,
	VMCS_ENTRY_EXCEPTION_ERROR_CODE = 0x4018,
	VMCS_ENTRY_INSTRUCTION_LEN   = 0x401a,
	VMCS_TPR_THRESHOLD           = 0x401c,
	VMCS_PROC_BASED_CONTROLS2    = 0x401e,
	VMCS_VM_INSTRUCTION_ERROR    = 0x4400,
	VMCS_EXIT_REASON             = 0x4402,
	VMCS_EXIT_INTR_INFO          = 0x4404,
	VMCS_EXIT_INTR_ERROR_CODE    = 0x4406,
	VMCS_IDT_VECTORING_INFO      = 0x4408,
	VMCS_IDT_VECTORING_ERROR_CODE = 0x440a,
	VMCS_EXIT_INSTRUCTION_LEN    = 0x440c,
	VMCS_EXIT_INSTRUCTION_INFO   = 0x440e,
	VMCS_GUEST_ES_LIMIT          = 0x4800,
	VMCS_GUEST_CS_LIMIT          = 0x4802,
	VMCS_GUEST_SS_LIMIT          = 0x4804,
	VMCS_GUEST_DS_LIMIT          = 0x4806,
	VMCS_GUEST_FS_LIMIT          = 0x4808,
	VMCS_GUEST_GS_LIMIT          = 0x480a,
	VMCS_GUEST_LDTR_LIMIT        = 0x480c,
	VMCS_GUEST_TR_LIMIT          = 0x480e,
	VMCS_GUEST_GDTR_LIMIT        = 0x4810,
	VMCS_GUEST_IDTR_LIMIT        = 0x4812,
	VMCS_GUEST_ES_AR             = 0x4814,
	VMCS_GUEST_CS_AR             = 0x4816,
	VMCS_GUEST_SS_AR             = 0x4818,
	VMCS_GUEST_DS_AR             = 0x481a,
	VMCS_GUEST_FS_AR             = 0x481c,
	VMCS_GUEST_GS_AR             = 0x481e,
	VMCS_GUEST_LDTR_AR           = 0x4820,
	VMCS_GUEST_TR_AR             = 0x4822,
	VMCS_GUEST_INTERRUPTIBILITY  = 0x4824,
	VMCS_GUEST_ACTIVITY_STATE    = 0x4826,
	VMCS_GUEST_SYSENTER_CS       = 0x482a,
	VMCS_PREEMPTION_TIMER_VALUE  = 0x482e,
	VMCS_HOST_IA32_SYSENTER_CS   = 0x4c00,
	/* natural width */
	VMCS_CR0_GUEST_HOST_MASK     = 0x6000,
	VMCS_CR4_GUEST_HOST_MASK     = 0x6002,
	VMCS_CR0_READ_SHADOW         = 0x6004,
	VMCS_CR4_READ_SHADOW         = 0x6006,
	VMCS_EXIT_QUALIFICATION      = 0x6400,
	VMCS_GUEST_LINEAR_ADDRESS    = 0x640a,
	VMCS_GUEST_CR0               = 0x6800,
	VMCS_GUEST_CR3               = 0x6802,
	VMCS_GUEST_CR4               = 0x6804,
	VMCS_GUEST_ES_BASE           = 0x6806,
	VMCS_GUEST_CS_BASE           = 0x6808,
	VMCS_GUEST_SS_BASE           = 0x680a,
	VMCS_GUEST_DS_BASE           = 0x680c,
	VMCS_GUEST_FS_BASE           = 0x680e,
	VMCS_GUEST_GS_BASE           = 0x6810,
	VMCS_GUEST_LDTR_BASE         = 0x6812,
	VMCS_GUEST_TR_BASE           = 0x6814,
	VMCS_GUEST_GDTR_BASE         = 0x6816,
	VMCS_GUEST_IDTR_BASE         = 0x6818,
	VMCS_GUEST_DR7               = 0x681a,
	VMCS_GUEST_RSP               = 0x681c,
	VMCS_GUEST_RIP               = 0x681e,
	VMCS_GUEST_RFLAGS            = 0x6820,
	VMCS_GUEST_PENDING_DBG_EXCEPTIONS = 0x6822,
	VMCS_GUEST_SYSENTER_ESP      = 0x6824,
	VMCS_GUEST_SYSENTER_EIP      = 0x6826,
	VMCS_HOST_CR0                = 0x6c00,
	VMCS_HOST_CR3                = 0x6c02,
	VMCS_HOST_CR4                = 0x6c04,
	VMCS_HOST_FS_BASE            = 0x6c06,
	VMCS_HOST_GS_BASE            = 0x6c08,
	VMCS_HOST_TR_BASE            = 0x6c0a,
	VMCS_HOST_GDTR_BASE          = 0x6c0c,
	VMCS_HOST_IDTR_BASE          = 0x6c0e,
	VMCS_HOST_SYSENTER_ESP       = 0x6c10,
	VMCS_HOST_SYSENTER_EIP       = 0x6c12,
	VMCS_HOST_RSP                = 0x6c14,
	VMCS_HOST_RIP                = 0x6c16,
};

/* Pin-based VM-execution controls (§25.6.1). */
#define PIN_EXTERNAL_INTERRUPT_EXITING  (1U << 0)
#define PIN_NMI_EXITING                 (1U << 3)
#define PIN_VIRTUAL_NMIS                (1U << 5)
#define PIN_ACTIVATE_PREEMPTION_TIMER   (1U << 6)

/* Primary processor-based VM-execution controls (§25.6.2). */
#define PROC_INTERRUPT_WINDOW_EXITING   (1U << 2)
#define PROC_USE_TSC_OFFSETTING         (1U << 3)
#define PROC_HLT_EXITING                (1U << 7)
#define PROC_INVLPG_EXITING             (1U << 9)
#define PROC_MWAIT_EXITING              (1U << 10)
#define PROC_RDPMC_EXITING              (1U << 11)
#define PROC_RDTSC_EXITING              (1U << 12)
#define PROC_CR3_LOAD_EXITING           (1U << 15)
#define PROC_CR3_STORE_EXITING          (1U << 16)
#define PROC_CR8_LOAD_EXITING           (1U << 19)
#define PROC_CR8_STORE_EXITING          (1U << 20)
#define PROC_USE_TPR_SHADOW             (1U << 21)
#define PROC_NMI_WINDOW_EXITING         (1U << 22)
#define PROC_MOV_DR_EXITING             (1U << 23)
#define PROC_UNCONDITIONAL_IO_EXITING   (1U << 24)
#define PROC_USE_IO_BITMAPS             (1U << 25)
#define PROC_MONITOR_TRAP_FLAG          (1U << 27)
#define PROC_USE_MSR_BITMAPS            (1U << 28)
#define PROC_MONITOR_EXITING            (1U << 29)
#define PROC_PAUSE_EXITING              (1U << 30)
#define PROC_ACTIVATE_SECONDARY_CONTROLS (1U << 31)

/* Secondary processor-based VM-execution controls (§25.6.2). */
#define PROC2_VIRTUALIZE_APIC_ACCESSES  (1U << 0)
#define PROC2_ENABLE_EPT                (1U << 1)
#define PROC2_DESCRIPTOR_TABLE_EXITING  (1U << 2)
#define PROC2_ENABLE_RDTSCP             (1U << 3)
#define PROC2_ENABLE_VPID               (1U << 5)
#define PROC2_WBINVD_EXITING            (1U << 6)
#define PROC2_UNRESTRICTED_GUEST        (1U << 7)
#define PROC2_APIC_REGISTER_VIRT        (1U << 8)
#define PROC2_VIRTUAL_INTR_DELIVERY     (1U << 9)
#define PROC2_ENABLE_INVPCID            (1U << 12)
#define PROC2_ENABLE_XSAVES             (1U << 20)

/* VM-exit controls (§25.7.1). */
#define EXIT_SAVE_DEBUG_CONTROLS        (1U << 2)
#define EXIT_HOST_ADDRESS_SPACE_SIZE    (1U << 9)
#define EXIT_ACK_INTERRUPT_ON_EXIT      (1U << 15)
#define EXIT_SAVE_IA32_PAT              (1U << 18)
#define EXIT_LOAD_IA32_PAT              (1U << 19)
#define EXIT_SAVE_IA32_EFER             (1U << 20)
#define EXIT_LOAD_IA32_EFER             (1U << 21)
#define EXIT_SAVE_PREEMPTION_TIMER      (1U << 22)

/* VM-entry controls (§25.8.1). */
#define ENTRY_LOAD_DEBUG_CONTROLS       (1U << 2)
#define ENTRY_IA32E_MODE_GUEST          (1U << 9)
#define ENTRY_LOAD_IA32_PAT             (1U << 14)
#define ENTRY_LOAD_IA32_EFER            (1U << 15)

/* Exit reason field (§28.2.1): bits 15:0 basic reason, bit 31 entry failed. */
#define EXIT_REASON_BASIC_MASK          0xffffU
#define EXIT_REASON_ENTRY_FAILURE       (1U << 31)

/*
 * Exit qualification for I/O instructions (§28.2.1, Table 28-5):
 *
 *  31      16 15  7  6    5    4    3    2:0
 *  +---------+-----+----+----+----+----+------+
 *  |  port   |  0  |imm |rep |str | in |size-1|
 *  +---------+-----+----+----+----+----+------+
 */
#define IO_QUAL_SIZE_MASK       0x7ULL
#define IO_QUAL_IN              (1ULL << 3)
#define IO_QUAL_STRING          (1ULL << 4)
#define IO_QUAL_REP             (1ULL << 5)
#define IO_QUAL_PORT_SHIFT      16
#define IO_QUAL_PORT_MASK       0xffffULL

/*
 * Exit qualification for control-register accesses (Table 28-3):
 *
 *  31      16 15 12 11  8  7  6    5:4    3:0
 *  +---------+-----+-----+--+----+------+-----+
 *  |LMSW data|  0  | GPR |0 |lmsw| type | CR  |
 *  +---------+-----+-----+--+----+------+-----+
 *  type: 0 MOV to CR, 1 MOV from CR, 2 CLTS, 3 LMSW
 */
#define CR_QUAL_CR_MASK         0xfULL
#define CR_QUAL_TYPE_SHIFT      4
#define CR_QUAL_TYPE_MASK       0x3ULL
#define CR_QUAL_GPR_SHIFT       8
#define CR_QUAL_GPR_MASK        0xfULL
#define CR_QUAL_LMSW_SHIFT      16
#define CR_QUAL_LMSW_MASK       0xffffULL

/* Exit qualification for EPT violations (Table 28-7). */
/*
 * Guest interrupt status (§25.4.2), with virtual-interrupt delivery:
 *
 *  15        8 7         0
 *  +----------+----------+
 *  |   SVI    |   RVI    |
 *  +----------+----------+
 *  SVI: highest in-service vector, RVI: highest requesting vector.
 */
#define INTR_STATUS_SVI_SHIFT   8
#define EOI_EXIT_BITMAP_STRIDE  2            /* between their encodings */

/*
 * APIC-access exit qualification (§28.2.1, Table 28-6):
 *
 *  15:12         11:0
 *  +------------+---------------+
 *  |access type |  page offset  |
 *  +------------+---------------+
 * APIC-write exits give the offset alone; virtualized-EOI exits give
 * the vector in bits 7:0.
 */
#define APIC_QUAL_OFFSET_MASK   0xfffULL
#define APIC_QUAL_TYPE_SHIFT    12
#define APIC_QUAL_TYPE_MASK     0xfULL
#define APIC_ACCESS_LINEAR_READ  0
#define APIC_ACCESS_LINEAR_WRITE 1
#define EOI_QUAL_VECTOR_MASK    0xffULL

#define EPT_QUAL_READ           (1ULL << 0)
#define EPT_QUAL_WRITE          (1ULL << 1)
#define EPT_QUAL_FETCH          (1ULL << 2)
#define EPT_QUAL_GLA_VALID      (1ULL << 7)

/*
 * VM-entry interruption-information field (§25.8.3), also the layout of
 * the exit interruption information and IDT-vectoring fields:
 *
 *  31   30:12  11      10:8   7:0
 *  +--+-------+----+--------+------+
 *  |V |   0   |errc|  type  |vector|
 *  +--+-------+----+--------+------+
 */
#define INTR_INFO_VECTOR_MASK   0xffU
#define INTR_INFO_TYPE_SHIFT    8
#define INTR_TYPE_EXT_INTR      0U
#define INTR_TYPE_NMI           2U
#define INTR_VECTOR_NMI         2U     /* the NMI's vector (SDM Vol. 3A §6.3.1) */
#define INTR_TYPE_HW_EXCEPTION  3U
#define INTR_TYPE_SW_EXCEPTION  6U     /* INT3, INTO (§25.8.3) */
#define INTR_INFO_DELIVER_CODE  (1U << 11)
#define INTR_INFO_NMI_UNBLOCK   (1U << 12)  /* exit info only: NMI unblocking by IRET */
#define INTR_INFO_VALID         (1U << 31)

/*
 * Segment access rights in the VMCS (§25.4.1, Table 25-2):
 *
 *  16   15  14  13  12  11:8  7   6:5  4   3:0
 *  +---+---+---+---+---+----+---+----+---+-----+
 *  |unu| G |D/B| L |AVL| 0  | P |DPL | S |type |
 *  +---+---+---+---+---+----+---+----+---+-----+
 */
#define SEG_AR_TYPE_CODE_RX_ACC 0xbU     /* execute/read, accessed */
#define SEG_AR_TYPE_DATA_RW_ACC 0x3U     /* read/write, accessed */
#define SEG_AR_TYPE_TSS_BUSY    0xbU     /* 32/64-bit busy TSS */
#define SEG_AR_TYPE_LDT         0x2U
#define SEG_AR_S                (1U << 4)
#define SEG_AR_P                (1U << 7)
#define SEG_AR_L                (1U << 13)
#define SEG_AR_DB               (1U << 14)
#define SEG_AR_G                (1U << 15)
#define SEG_AR_UNUSABLE         (1U << 16)

/* Guest activity state (§25.4.2). */
#define ACTIVITY_ACTIVE         0U
#define ACTIVITY_HLT            1U
#define ACTIVITY_WAIT_SIPI      3U

/* Guest interruptibility state (§25.4.2, Table 25-3). */
#define INTERRUPTIBILITY_STI    (1U << 0)
#define INTERRUPTIBILITY_MOV_SS (1U << 1)
#define INTERRUPTIBILITY_NMI    (1U << 3)   /* with virtual NMIs: virtual-NMI blocking */

/*
 * Pending debug exceptions (§25.4.2, Table 25-4): the debug traps the
 * guest owes but has not taken; VM entry delivers them as a #DB after it
 * completes unless MOV-SS blocking holds them (§27.7.3).
 *
 *  63  17  16  15  14  13  12  11:4  3:0
 *  +-----+---+---+---+---+---+-----+-------+
 *  |  0  |RTM| 0 |BS | 0 |EBP|  0  | B3-B0 |
 *  +-----+---+---+---+---+---+-----+-------+
 *  EBP: an enabled data or I/O breakpoint matched; BS: single step.
 */
#define PENDING_DBG_B0          (1ULL << 0)  /* B1-B3 follow */
/* The exit qualification of a #DB (§28.2.1, Table 28-1): DR6's B0-B3
   (bits 3:0), BD (13) and BS (14), as the #DB would have set them. */
#define DBG_QUAL_DR6            0x600fULL
#define DR6_B0_B3               0xfULL
#define EXC_VECTOR_DB           1U
#define PENDING_DBG_ENABLED_BP  (1ULL << 12)
#define PENDING_DBG_BS          (1ULL << 14)

/* VM-instruction error numbers worth naming in messages (§31.4). */
#define VMXERR_ENTRY_INVALID_CONTROL    7
#define VMXERR_ENTRY_INVALID_HOST_STATE 8

/* INVEPT types (SDM Vol. 3C §29.4.3.1). */
#define INVEPT_SINGLE_CONTEXT 1
#define INVEPT_ALL_CONTEXT    2

#endif
