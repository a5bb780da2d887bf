/* xstate - proves uhv keeps each VM's vector registers (SSE, AVX, AVX-512
 * state: the XSAVE components uhv lets guests enable) across VM switches,
 * and that XSETBV is checked as the SDM says.  uhv saves and restores a
 * vCPU's state with XSAVE/XRSTOR when another runs; a slip there corrupts
 * every guest's floating point and string functions.
 *
 * First the XSETBV rules (SDM Vol. 1 §13.3, Vol. 2D XSETBV): values a CPU
 * with this CPUID would refuse must give #GP (x87 off, AVX without SSE,
 * part of AVX-512, AVX-512 without AVX, AMX, reserved bits, ECX != 0, any
 * bit CPUID.(0DH,0) does not offer); lowering XCR0 and raising it again
 * across a preemption must not hurt uhv.  Then, for ticks=N (default
 * 20000000), it loads its registers with a pattern from seed=N, waits
 * hold=N ticks (default 20000) and reads them back; run two with
 * different seeds on one CPU and many a wait spans the other VM's turn.
 * Prints what it checked; fails at the first register that changed or if
 * it was never preempted. */
#include "guest.h"

#define NAME "xstate"
#define HOLD_DEFAULT  20000ull
#define GAP_TICKS     10000ull       /* more than uhv handling an exit */
#define TICKS_DEFAULT 20000000ull
#define SEED_DEFAULT  0x5a5a0000u

#define CR0_MP        (1u << 1)
#define CR0_EM        (1u << 2)
#define CR4_OSFXSR    (1u << 9)
#define CR4_OSXMMEXCPT (1u << 10)
#define CR4_OSXSAVE   (1u << 18)
#define CPUID1_ECX_XSAVE (1u << 26)
#define CPUID1_EDX_SSE2  (1u << 26)
#define XCR0_X87      0x1ull
#define XCR0_SSE      0x2ull
#define XCR0_AVX      0x4ull
#define XCR0_OPMASK   0x20ull
#define XCR0_AVX512   0xe0ull        /* opmask, ZMM_Hi256, Hi16_ZMM */
#define XCR0_AMX      (3ull << 17)
#define XSETBV_LEN    3              /* 0F 01 D1 */
#define REGS          8              /* xmm/ymm/zmm0-7 in 32-bit mode */
#define VEC_BYTES     64             /* one ZMM */
#define MASKS         8

enum level { LEVEL_SSE, LEVEL_AVX, LEVEL_AVX512 };
static const char *const level_name[] = { "SSE", "AVX", "AVX-512" };

static volatile bool gp_seen;

/* #GP while a probe runs: only XSETBV may fault; step over it. */
static void gp_handler(struct intr_frame *f)
{
    const volatile u8 *insn = (const u8 *)f->eip;

    if (insn[0] != 0x0f || insn[1] != 0x01 || insn[2] != 0xd1)
        fail(NAME, "#GP at eip 0x%x, not at XSETBV", f->eip);
    gp_seen = true;
    f->eip += XSETBV_LEN;
}

static inline u64 xgetbv0(void)
{
    u32 lo, hi;
    __asm__ volatile("xgetbv" : "=a"(lo), "=d"(hi) : "c"(0));
    return ((u64)hi << 32) | lo;
}

/* XSETBV(xcr, v); true if it did not fault. */
static bool xsetbv_ok(u32 xcr, u64 v)
{
    gp_seen = false;
    intr_set_handler(EXC_GP, gp_handler);
    __asm__ volatile("xsetbv" ::"c"(xcr), "a"((u32)v), "d"((u32)(v >> 32))
                     : "memory");
    intr_set_handler(EXC_GP, 0);
    return !gp_seen;
}

/* SSE and XSAVE on, as an OS does (SDM Vol. 3A §13.1); returns the XCR0
   bits CPUID.(0DH,0) offers. */
static u64 enable_xsave(void)
{
    u32 cr0, cr4;
    struct cpuid_regs one = cpuid(1, 0), d;

    if (!(one.edx & CPUID1_EDX_SSE2) || !(one.ecx & CPUID1_ECX_XSAVE))
        fail(NAME, "CPUID shows no SSE2 or no XSAVE");
    __asm__ volatile("mov %%cr0, %0" : "=r"(cr0));
    __asm__ volatile("mov %0, %%cr0" ::"r"((cr0 & ~CR0_EM) | CR0_MP));
    __asm__ volatile("mov %%cr4, %0" : "=r"(cr4));
    __asm__ volatile("mov %0, %%cr4" ::"r"(cr4 | CR4_OSFXSR | CR4_OSXMMEXCPT |
                                          CR4_OSXSAVE));
    d = cpuid(0xd, 0);
    return ((u64)d.edx << 32) | d.eax;
}

/* Every value the SDM's rules forbid gets #GP and leaves XCR0 alone. */
static void check_refusals(u64 offered)
{
    const u64 bad[] = {
        0, XCR0_SSE, XCR0_X87 | XCR0_AVX,
        XCR0_X87 | XCR0_SSE | XCR0_AVX | XCR0_OPMASK,
        XCR0_X87 | XCR0_SSE | XCR0_AVX512,
        XCR0_X87 | XCR0_SSE | XCR0_AVX | XCR0_AMX,
        XCR0_X87 | (1ull << 63), XCR0_X87 | (1ull << 9),
    };
    u64 before = xgetbv0();
    u32 refused = 0;

    for (u32 i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        if (xsetbv_ok(0, bad[i]))
            fail(NAME, "XSETBV accepted XCR0 0x%llx (offered 0x%llx)", bad[i],
                 offered);
        refused++;
    }
    if (xsetbv_ok(1, XCR0_X87 | XCR0_SSE))
        fail(NAME, "XSETBV accepted ECX = 1");
    if (xgetbv0() != before)
        fail(NAME, "a refused XSETBV changed XCR0 to 0x%llx", xgetbv0());
    gprintf("XSETBV: %u invalid values and ECX=1 refused with #GP\n", refused);
}

/* Loads xmm/ymm/zmm0-7 (and k0-7 for AVX-512) from buf. uhv's guest
   library never uses vector registers, so they keep what this puts. */
static void load_regs(enum level l, const u8 *buf, const u16 *k)
{
    if (l == LEVEL_AVX512) {
        __asm__ volatile("vmovdqu64 0(%0), %%zmm0; vmovdqu64 64(%0), %%zmm1;"
                         "vmovdqu64 128(%0), %%zmm2; vmovdqu64 192(%0), %%zmm3;"
                         "vmovdqu64 256(%0), %%zmm4; vmovdqu64 320(%0), %%zmm5;"
                         "vmovdqu64 384(%0), %%zmm6; vmovdqu64 448(%0), %%zmm7;"
                         "kmovw 0(%1), %%k0; kmovw 2(%1), %%k1; kmovw 4(%1), %%k2;"
                         "kmovw 6(%1), %%k3; kmovw 8(%1), %%k4; kmovw 10(%1), %%k5;"
                         "kmovw 12(%1), %%k6; kmovw 14(%1), %%k7"
                         ::"r"(buf), "r"(k) : "memory");
    } else if (l == LEVEL_AVX) {
        __asm__ volatile("vmovdqu 0(%0), %%ymm0; vmovdqu 64(%0), %%ymm1;"
                         "vmovdqu 128(%0), %%ymm2; vmovdqu 192(%0), %%ymm3;"
                         "vmovdqu 256(%0), %%ymm4; vmovdqu 320(%0), %%ymm5;"
                         "vmovdqu 384(%0), %%ymm6; vmovdqu 448(%0), %%ymm7"
                         ::"r"(buf) : "memory");
    } else {
        __asm__ volatile("movdqu 0(%0), %%xmm0; movdqu 64(%0), %%xmm1;"
                         "movdqu 128(%0), %%xmm2; movdqu 192(%0), %%xmm3;"
                         "movdqu 256(%0), %%xmm4; movdqu 320(%0), %%xmm5;"
                         "movdqu 384(%0), %%xmm6; movdqu 448(%0), %%xmm7"
                         ::"r"(buf) : "memory");
    }
}

/* The reverse of load_regs. */
static void store_regs(enum level l, u8 *buf, u16 *k)
{
    if (l == LEVEL_AVX512) {
        __asm__ volatile("vmovdqu64 %%zmm0, 0(%0); vmovdqu64 %%zmm1, 64(%0);"
                         "vmovdqu64 %%zmm2, 128(%0); vmovdqu64 %%zmm3, 192(%0);"
                         "vmovdqu64 %%zmm4, 256(%0); vmovdqu64 %%zmm5, 320(%0);"
                         "vmovdqu64 %%zmm6, 384(%0); vmovdqu64 %%zmm7, 448(%0);"
                         "kmovw %%k0, 0(%1); kmovw %%k1, 2(%1); kmovw %%k2, 4(%1);"
                         "kmovw %%k3, 6(%1); kmovw %%k4, 8(%1); kmovw %%k5, 10(%1);"
                         "kmovw %%k6, 12(%1); kmovw %%k7, 14(%1)"
                         ::"r"(buf), "r"(k) : "memory");
    } else if (l == LEVEL_AVX) {
        __asm__ volatile("vmovdqu %%ymm0, 0(%0); vmovdqu %%ymm1, 64(%0);"
                         "vmovdqu %%ymm2, 128(%0); vmovdqu %%ymm3, 192(%0);"
                         "vmovdqu %%ymm4, 256(%0); vmovdqu %%ymm5, 320(%0);"
                         "vmovdqu %%ymm6, 384(%0); vmovdqu %%ymm7, 448(%0)"
                         ::"r"(buf) : "memory");
    } else {
        __asm__ volatile("movdqu %%xmm0, 0(%0); movdqu %%xmm1, 64(%0);"
                         "movdqu %%xmm2, 128(%0); movdqu %%xmm3, 192(%0);"
                         "movdqu %%xmm4, 256(%0); movdqu %%xmm5, 320(%0);"
                         "movdqu %%xmm6, 384(%0); movdqu %%xmm7, 448(%0)"
                         ::"r"(buf) : "memory");
    }
}

static u32 bytes_of(enum level l)
{
    return l == LEVEL_AVX512 ? 64 : l == LEVEL_AVX ? 32 : 16;
}

/* The pattern of check n: every byte depends on seed, n and its place. */
static void fill(u8 *buf, u16 *k, u32 seed, u32 n)
{
    u32 x = seed ^ (n * 0x9e3779b9u);

    for (u32 i = 0; i < REGS * VEC_BYTES; i++) {
        x = x * 1103515245u + 12345u;
        buf[i] = (u8)(x >> 16);
    }
    for (u32 i = 0; i < MASKS; i++)
        k[i] = (u16)(seed >> 16) ^ (u16)(n + i);
}

/* One check: load, wait, read back, compare. Returns whether preempted. */
static bool check_once(enum level l, u32 seed, u32 n, u64 hold)
{
    static u8 want[REGS * VEC_BYTES], got[REGS * VEC_BYTES];
    static u16 kwant[MASKS], kgot[MASKS];
    bool preempted;

    fill(want, kwant, seed, n);
    memset(got, 0, sizeof(got));
    memset(kgot, 0, sizeof(kgot));
    load_regs(l, want, kwant);
    preempted = tsc_hold(hold, GAP_TICKS, NULL);
    store_regs(l, got, kgot);
    for (u32 r = 0; r < REGS; r++)
        for (u32 b = 0; b < bytes_of(l); b++)
            if (got[r * VEC_BYTES + b] != want[r * VEC_BYTES + b])
                fail(NAME, "check %u: %s register %u byte %u is 0x%x, was "
                     "0x%x", n, level_name[l], r, b, got[r * VEC_BYTES + b],
                     want[r * VEC_BYTES + b]);
    for (u32 i = 0; l == LEVEL_AVX512 && i < MASKS; i++)
        if (kgot[i] != kwant[i])
            fail(NAME, "check %u: k%u is 0x%x, was 0x%x", n, i, kgot[i],
                 kwant[i]);
    return preempted;
}

/* The widest state this CPUID and XCR0 allow, enabled. */
static enum level enable_level(u64 offered)
{
    struct cpuid_regs one = cpuid(1, 0), seven = cpuid(7, 0);
    u64 xcr0 = XCR0_X87 | XCR0_SSE;
    enum level l = LEVEL_SSE;

    if ((one.ecx & (1u << 28)) && (offered & XCR0_AVX)) {
        xcr0 |= XCR0_AVX;
        l = LEVEL_AVX;
    }
    if (l == LEVEL_AVX && (seven.ebx & (1u << 16)) &&
        (offered & XCR0_AVX512) == XCR0_AVX512) {
        xcr0 |= XCR0_AVX512;
        l = LEVEL_AVX512;
    }
    if (!xsetbv_ok(0, xcr0))
        fail(NAME, "XSETBV refused XCR0 0x%llx (offered 0x%llx)", xcr0, offered);
    return l;
}

/* Lower XCR0 to x87+SSE with wider state in use, let uhv switch VMs
   (it saves and restores the narrower state), then raise it again. */
static void lower_and_raise(enum level l, u32 seed, u64 hold)
{
    u64 full = xgetbv0();

    if (l == LEVEL_SSE)
        return;
    check_once(l, seed, 0, 1);
    if (!xsetbv_ok(0, XCR0_X87 | XCR0_SSE))
        fail(NAME, "XSETBV refused x87+SSE");
    for (u32 i = 0; i < 20; i++)
        check_once(LEVEL_SSE, seed, i, hold);
    if (!xsetbv_ok(0, full))
        fail(NAME, "XSETBV refused 0x%llx after lowering", full);
    gprintf("XCR0 lowered to x87+SSE and raised to 0x%llx again\n", full);
}

/* See the file comment. */
void guest_main(u32 magic, const struct mb_info *mbi)
{
    require_multiboot(NAME, magic);
    intr_init(NAME);
    const char *cmd = mb_cmdline(mbi);
    u64 hold = cmdline_u64(cmd, "hold", HOLD_DEFAULT);
    u64 ticks = cmdline_u64(cmd, "ticks", TICKS_DEFAULT);
    u32 seed = (u32)cmdline_u64(cmd, "seed", SEED_DEFAULT);
    u64 offered = enable_xsave(), start, gaps = 0;
    u32 checks = 0;

    check_refusals(offered);
    enum level l = enable_level(offered);

    lower_and_raise(l, seed, hold);
    gprintf("XCR0 0x%llx: checking %s registers, seed 0x%x\n", xgetbv0(),
            level_name[l], seed);
    for (start = rdtsc(); rdtsc() - start < ticks; checks++)
        gaps += check_once(l, seed, checks, hold);
    gprintf("%u checks of the %s registers, each kept; %llu across a "
            "preemption\n", checks, level_name[l], gaps);
    if (!gaps)
        fail(NAME, "never preempted between a load and its read: run it "
             "beside another busy VM");
    pass(NAME);
}
