/* apic.h - the local APIC from a guest test, in either mode: xAPIC
 * (32-bit registers in the page at 0xFEE00000, reached with plain MOVs
 * since guests run without paging) or x2APIC (MSR 0x800 + offset / 16).
 * Offsets and bits are the SDM's (Vol. 3A ch. 11: Table 11-1 for the
 * xAPIC map, Table 11-6 for x2APIC, §11.5.1 LVT, §11.6.1 ICR). */
#ifndef GUEST_APIC_H
#define GUEST_APIC_H

#include "types.h"

#define APIC_MMIO_BASE      0xFEE00000u
#define MSR_IA32_APIC_BASE  0x1Bu
#define APIC_BASE_BSP       (1u << 8)    /* this is the bootstrap CPU */
#define APIC_BASE_EXTD      (1u << 10)   /* x2APIC mode */
#define APIC_BASE_ENABLE    (1u << 11)   /* xAPIC global enable */
#define MSR_TSC_DEADLINE    0x6E0u
#define X2APIC_MSR_BASE     0x800u
#define CPUID_ECX_X2APIC    (1u << 21)   /* CPUID.1:ECX */
#define CPUID_ECX_TSC_DEADLINE (1u << 24)

/* Register offsets (xAPIC; x2APIC MSR = 0x800 + offset / 16). */
#define APIC_ID             0x020u
#define APIC_VERSION        0x030u
#define APIC_TPR            0x080u
#define APIC_PPR            0x0A0u
#define APIC_EOI            0x0B0u
#define APIC_LDR            0x0D0u
#define APIC_SVR            0x0F0u
#define APIC_ISR            0x100u       /* 8 registers of 32 vectors */
#define APIC_TMR            0x180u
#define APIC_IRR            0x200u
#define APIC_ESR            0x280u
#define APIC_ICR_LO         0x300u
#define APIC_ICR_HI         0x310u       /* xAPIC only */
#define APIC_LVT_TIMER      0x320u
#define APIC_TIMER_INIT     0x380u       /* initial count */
#define APIC_TIMER_CUR      0x390u       /* current count */
#define APIC_TIMER_DIV      0x3E0u       /* divide configuration */
#define APIC_SELF_IPI       0x3F0u       /* x2APIC only */
#define APIC_VEC_STRIDE     0x10u        /* between ISR/IRR/TMR words */
#define APIC_VECS_PER_REG   32u

/* Spurious-interrupt vector register (§11.9). */
#define APIC_SVR_ENABLE     (1u << 8)
#define APIC_SPURIOUS_VEC   0xFFu

/* LVT timer (§11.5.1, §11.5.4). */
#define APIC_LVT_MASKED     (1u << 16)
#define APIC_TIMER_ONESHOT  (0u << 17)
#define APIC_TIMER_PERIODIC (1u << 17)
#define APIC_TIMER_TSC_DEADLINE (2u << 17)
#define APIC_DIV_1          0xBu         /* DCR bits 3,1:0 = 1,11 */
#define APIC_DIV_2          0x0u
#define APIC_DIV_16         0x3u

/* ICR low half (§11.6.1). */
#define APIC_ICR_FIXED      (0u << 8)
#define APIC_ICR_INIT       (5u << 8)
#define APIC_ICR_STARTUP    (6u << 8)    /* vector: the start page number */
#define APIC_ICR_NMI        (4u << 8)    /* vector ignored */
#define APIC_ICR_ASSERT     (1u << 14)   /* level: assert (INIT needs it) */
#define APIC_ICR_SELF       (1u << 18)   /* destination shorthand: self */
#define APIC_ICR_ALL        (2u << 18)   /* shorthand: all including self */
#define APIC_ICR_OTHERS     (3u << 18)   /* shorthand: all excluding self */
#define APIC_XAPIC_DEST_SHIFT 24         /* ICR high: xAPIC dest in 31:24 */

/* Priorities (§11.8.3.1): a vector's class is its upper nibble. */
#define APIC_PRIO_CLASS(v)  ((v) & 0xF0u)

/* Switch to x2APIC mode (true) or xAPIC mode (false) through
 * IA32_APIC_BASE.EXTD; false if CPUID does not offer x2APIC.  The way
 * back to xAPIC mode passes through "disabled" (SDM Vol. 3A §11.12.5),
 * which resets the APIC. */
bool apic_set_x2apic(bool on);
/* WRMSR of IA32_APIC_BASE with a #GP caught (needs intr_init): false if
 * it faulted.  Afterwards apic_read/apic_write use the mode it set. */
bool apic_set_base(u64 value);
/* Whether accesses go through the x2APIC MSRs now. */
bool apic_is_x2apic(void);
u32 apic_read(u32 off);
void apic_write(u32 off, u32 v);
/* Software-enable the APIC (SVR) with spurious vector 0xFF. */
void apic_sw_enable(void);
/* Send an IPI: icr_lo as the ICR's low half; dest is the APIC ID. */
void apic_send_ipi(u32 icr_lo, u32 dest);
/* End of interrupt: retire the highest in-service vector. */
void apic_eoi(void);
/* Bit vec of the 256-bit register at base (APIC_ISR, _IRR, _TMR). */
bool apic_vec_bit(u32 base, u8 vec);
/* The ID of this APIC (bits 31:24 in xAPIC mode, all 32 in x2APIC). */
u32 apic_id(void);

#endif
