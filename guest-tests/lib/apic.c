/* apic.c - local APIC access in xAPIC or x2APIC mode (see apic.h). */
#include "apic.h"
#include "abi.h"
#include "cpu.h"
#include "msr.h"

#define APIC_REG_SHIFT   4          /* x2APIC MSR = base + offset >> 4 */
#define XAPIC_ID_SHIFT   24

static bool x2;

/* One 32-bit MOV to or from the APIC page: uhv emulates MMIO by decoding
 * the instruction, so keep it a plain MOV, not whatever the compiler picks. */
static u32 mmio_read32(u32 addr)
{
    u32 v;
    __asm__ volatile("movl (%1), %0" : "=r"(v) : "r"(addr) : "memory");
    return v;
}

static void mmio_write32(u32 addr, u32 v)
{
    __asm__ volatile("movl %0, (%1)" : : "r"(v), "r"(addr) : "memory");
}

/* See apic.h.  xAPIC -> x2APIC is a legal transition (SDM §11.12.5); the
 * only way back is x2APIC -> disabled -> xAPIC. */
bool apic_set_x2apic(bool on)
{
    if (on && !(cpuid(CPUID_LEAF_FEATURES, 0).ecx & CPUID_ECX_X2APIC))
        return false;
    u64 base = rdmsr(MSR_IA32_APIC_BASE);
    if (on) {
        wrmsr(MSR_IA32_APIC_BASE, base | APIC_BASE_EXTD);
    } else if (base & APIC_BASE_EXTD) {
        base &= ~(u64)(APIC_BASE_EXTD | APIC_BASE_ENABLE);
        wrmsr(MSR_IA32_APIC_BASE, base);
        wrmsr(MSR_IA32_APIC_BASE, base | APIC_BASE_ENABLE);
    }
    x2 = on;
    return true;
}

/* See apic.h. */
bool apic_set_base(u64 value)
{
    if (!wrmsr_safe(MSR_IA32_APIC_BASE, value))
        return false;
    x2 = (value & APIC_BASE_EXTD) != 0;
    return true;
}

/* See apic.h. */
bool apic_is_x2apic(void)
{
    return x2;
}

/* See apic.h. */
u32 apic_read(u32 off)
{
    if (x2)
        return (u32)rdmsr(X2APIC_MSR_BASE + (off >> APIC_REG_SHIFT));
    return mmio_read32(APIC_MMIO_BASE + off);
}

/* See apic.h. */
void apic_write(u32 off, u32 v)
{
    if (x2)
        wrmsr(X2APIC_MSR_BASE + (off >> APIC_REG_SHIFT), v);
    else
        mmio_write32(APIC_MMIO_BASE + off, v);
}

/* See apic.h. */
void apic_sw_enable(void)
{
    apic_write(APIC_SVR, APIC_SVR_ENABLE | APIC_SPURIOUS_VEC);
}

/* See apic.h.  xAPIC: the high half first, since writing the low half
 * sends; x2APIC: one 64-bit write with the full 32-bit destination. */
void apic_send_ipi(u32 icr_lo, u32 dest)
{
    if (x2) {
        wrmsr(X2APIC_MSR_BASE + (APIC_ICR_LO >> APIC_REG_SHIFT),
              ((u64)dest << 32) | icr_lo);
        return;
    }
    mmio_write32(APIC_MMIO_BASE + APIC_ICR_HI, dest << APIC_XAPIC_DEST_SHIFT);
    mmio_write32(APIC_MMIO_BASE + APIC_ICR_LO, icr_lo);
}

/* See apic.h.  x2APIC requires 0 written to EOI (else #GP, §11.12.1.2). */
void apic_eoi(void)
{
    apic_write(APIC_EOI, 0);
}

/* See apic.h. */
bool apic_vec_bit(u32 base, u8 vec)
{
    u32 reg = apic_read(base + (vec / APIC_VECS_PER_REG) * APIC_VEC_STRIDE);
    return (reg >> (vec % APIC_VECS_PER_REG)) & 1;
}

/* See apic.h. */
u32 apic_id(void)
{
    u32 id = apic_read(APIC_ID);
    return x2 ? id : id >> XAPIC_ID_SHIFT;
}
