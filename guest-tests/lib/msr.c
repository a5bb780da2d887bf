/* msr.c - RDMSR/WRMSR with #GP caught (see msr.h).  The #GP handler steps
 * over the faulting instruction: RDMSR (0F 32) and WRMSR (0F 30) are two
 * bytes long and fault before changing anything (SDM Vol. 2B), so the
 * guest continues after them as if they had done nothing. */
#include "msr.h"
#include "intr.h"
#include "result.h"

#define OPC_0F        0x0f
#define OPC_RDMSR     0x32
#define OPC_WRMSR     0x30
#define MSR_INSN_LEN  2

static volatile bool gp_seen;

/* #GP handler while a *_safe call runs: only an MSR instruction may fault. */
static void gp_handler(struct intr_frame *f)
{
    const volatile u8 *insn = (const u8 *)f->eip;

    if (insn[0] != OPC_0F || (insn[1] != OPC_RDMSR && insn[1] != OPC_WRMSR))
        fail("msr", "#GP at eip 0x%x, not at an MSR instruction", f->eip);
    gp_seen = true;
    f->eip += MSR_INSN_LEN;
}

/* See msr.h. */
bool rdmsr_safe(u32 msr, u64 *v)
{
    u32 lo = 0, hi = 0;

    gp_seen = false;
    intr_set_handler(EXC_GP, gp_handler);
    __asm__ volatile("rdmsr" : "+a"(lo), "+d"(hi) : "c"(msr) : "memory");
    intr_set_handler(EXC_GP, 0);
    *v = gp_seen ? 0 : ((u64)hi << 32) | lo;
    return !gp_seen;
}

/* See msr.h. */
bool wrmsr_safe(u32 msr, u64 v)
{
    gp_seen = false;
    intr_set_handler(EXC_GP, gp_handler);
    wrmsr(msr, v);
    intr_set_handler(EXC_GP, 0);
    return !gp_seen;
}
