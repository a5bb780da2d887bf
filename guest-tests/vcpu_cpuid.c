/* vcpu_cpuid - the CPUID bits that mirror a vCPU's own state follow it
 * (Intel SDM Vol. 2A, CPUID; uhv's vmm/cpu_exits.c):
 *  - CPUID.1:ECX.OSXSAVE (bit 27) is CR4.OSXSAVE: 0 at entry, 1 once this
 *    vCPU sets it, 0 when it clears it, 1 again.  A MOV to CR4 that
 *    changes only OSXSAVE does not exit under uhv (the bit is the
 *    guest's), which is where an answer cached per VM went wrong.  With
 *    it set and XCR0 = x87|SSE|AVX, the check an OS or glibc makes before
 *    using AVX (OSXSAVE and AVX in CPUID.1:ECX, XGETBV bits 1-2) passes.
 *  - PKU stays hidden: CPUID.(7,0):ECX PKU (bit 3) and OSPKE (bit 4) read
 *    0, and setting CR4.PKE gets #GP.
 *  - CPUID.1:EDX.APIC (bit 9) is IA32_APIC_BASE.EN: 1, then 0 while the
 *    BSP has its APIC globally disabled, then 1 again (SDM Vol. 3A
 *    §11.4.3: with EN clear the flag reads 0).
 *  - each vCPU's initial APIC id (CPUID.1:EBX[31:24]) and x2APIC id
 *    (CPUID.(0BH,0):EDX) are its own: with two vCPUs the BSP starts the AP
 *    (INIT, STARTUP IPI) on lib/ap_tramp.asm, which records the AP's CPUID
 *    in a page below 1 MiB.  Each vCPU's two ids agree, the BSP's agree
 *    with its APIC ID register, the BSP's and the AP's differ, both count
 *    the VM's CPUs in EBX[23:16], and the AP reads OSXSAVE 0 while the BSP
 *    reads 1: CR4 is each vCPU's own.
 * With one vCPU the AP part is skipped, and the output says so. */
#include "guest.h"
#include "ap_boot.h"

#define NAME "vcpu_cpuid"

#define CR0_MP           (1u << 1)
#define CR0_EM           (1u << 2)
#define CR4_OSFXSR       (1u << 9)
#define CR4_OSXSAVE      (1u << 18)
#define CR4_PKE          (1u << 22)
#define CPUID1_ECX_XSAVE   (1u << 26)
#define CPUID1_ECX_OSXSAVE (1u << 27)
#define CPUID1_ECX_AVX     (1u << 28)
#define CPUID1_EDX_APIC    (1u << 9)
#define CPUID7_ECX_PKU     (1u << 3)
#define CPUID7_ECX_OSPKE   (1u << 4)
#define LEAF_STRUCT_EXT  0x7u
#define LEAF_X2APIC      0xbu
#define LEAF_XSAVE       0xdu
#define EBX_APIC_ID_SHIFT 24
#define EBX_COUNT_SHIFT  16
#define EBX_BYTE_MASK    0xffu
#define XCR0_X87         0x1u
#define XCR0_SSE         0x2u
#define XCR0_AVX         0x4u
#define MOV_CR_LEN       3              /* 0F 22 /r */
#define AP_PAGE          0x7000u        /* below the Multiboot info at 0x8000 */
#define AP_APIC_ID       1u
#define AP_WAIT_TICKS    2000000000ull

static volatile bool gp_seen;

static u32 read_cr4(void)
{
    u32 v;
    __asm__ volatile("mov %%cr4, %0" : "=r"(v));
    return v;
}

static void write_cr4(u32 v)
{
    __asm__ volatile("mov %0, %%cr4" ::"r"(v) : "memory");
}

/* #GP while CR4.PKE is tried: only that MOV to CR4 may fault. */
static void gp_handler(struct intr_frame *f)
{
    const volatile u8 *insn = (const u8 *)f->eip;

    if (insn[0] != 0x0f || insn[1] != 0x22)
        fail(NAME, "#GP at eip 0x%x, not at MOV to CR4", f->eip);
    gp_seen = true;
    f->eip += MOV_CR_LEN;
}

static u32 osxsave_now(void)
{
    return !!(cpuid(CPUID_LEAF_FEATURES, 0).ecx & CPUID1_ECX_OSXSAVE);
}

static u32 xgetbv0(void)
{
    u32 lo, hi;
    __asm__ volatile("xgetbv" : "=a"(lo), "=d"(hi) : "c"(0));
    return lo;
}

/* XCR0 with AVX where CPUID.(0DH,0) offers it: as an OS turns it on. */
static void enable_avx_state(void)
{
    u32 offered = cpuid(LEAF_XSAVE, 0).eax;
    u32 want = XCR0_X87 | XCR0_SSE | (offered & XCR0_AVX);

    __asm__ volatile("xsetbv" ::"c"(0), "a"(want), "d"(0) : "memory");
    struct cpuid_regs one = cpuid(CPUID_LEAF_FEATURES, 0);
    bool usable = (one.ecx & CPUID1_ECX_OSXSAVE) && (one.ecx & CPUID1_ECX_AVX) &&
                  (xgetbv0() & (XCR0_SSE | XCR0_AVX)) == (XCR0_SSE | XCR0_AVX);
    gprintf("XCR0 0x%x: AVX %s\n", xgetbv0(), usable ?
            "usable as an OS checks it (CPUID.1:ECX OSXSAVE and AVX, "
            "XCR0 SSE and AVX)" : "not offered");
}

/* OSXSAVE follows CR4.OSXSAVE both ways; leaves it set. */
static void check_osxsave(void)
{
    u32 cr0, seen[4];

    if (!(cpuid(CPUID_LEAF_FEATURES, 0).ecx & CPUID1_ECX_XSAVE))
        fail(NAME, "CPUID shows no XSAVE: nothing to set CR4.OSXSAVE for");
    __asm__ volatile("mov %%cr0, %0" : "=r"(cr0));
    __asm__ volatile("mov %0, %%cr0" ::"r"((cr0 & ~CR0_EM) | CR0_MP));
    seen[0] = osxsave_now();
    write_cr4(read_cr4() | CR4_OSFXSR | CR4_OSXSAVE);
    seen[1] = osxsave_now();
    write_cr4(read_cr4() & ~CR4_OSXSAVE);
    seen[2] = osxsave_now();
    write_cr4(read_cr4() | CR4_OSXSAVE);
    seen[3] = osxsave_now();
    gprintf("CPUID.1:ECX.OSXSAVE %u at entry, %u after setting CR4.OSXSAVE, "
            "%u after clearing it, %u after setting it again\n",
            seen[0], seen[1], seen[2], seen[3]);
    if (seen[0] || !seen[1] || seen[2] || !seen[3])
        fail(NAME, "OSXSAVE does not follow CR4.OSXSAVE");
    enable_avx_state();
}

/* PKU hidden, OSPKE 0, CR4.PKE refused. */
static void check_pke(void)
{
    struct cpuid_regs l7 = cpuid(LEAF_STRUCT_EXT, 0);
    u32 before = read_cr4();

    gp_seen = false;
    intr_set_handler(EXC_GP, gp_handler);
    write_cr4(before | CR4_PKE);
    intr_set_handler(EXC_GP, 0);
    gprintf("CPUID.7:ECX PKU %u OSPKE %u; CR4.PKE %s\n",
            !!(l7.ecx & CPUID7_ECX_PKU), !!(l7.ecx & CPUID7_ECX_OSPKE),
            gp_seen ? "refused with #GP" : "accepted");
    if ((l7.ecx & (CPUID7_ECX_PKU | CPUID7_ECX_OSPKE)) || !gp_seen ||
        read_cr4() != before)
        fail(NAME, "PKU or OSPKE shown, or CR4.PKE taken");
}

static u32 apic_flag_now(void)
{
    return !!(cpuid(CPUID_LEAF_FEATURES, 0).edx & CPUID1_EDX_APIC);
}

/* CPUID.1:EDX.APIC follows IA32_APIC_BASE.EN (xAPIC -> disabled ->
   xAPIC, which resets the APIC as at power-up). */
static void check_apic_flag(void)
{
    u64 base = rdmsr(MSR_IA32_APIC_BASE);
    u32 seen[3];

    seen[0] = apic_flag_now();
    wrmsr(MSR_IA32_APIC_BASE, base & ~(u64)APIC_BASE_ENABLE);
    seen[1] = apic_flag_now();
    wrmsr(MSR_IA32_APIC_BASE, base);
    seen[2] = apic_flag_now();
    gprintf("CPUID.1:EDX.APIC %u with the APIC on, %u with IA32_APIC_BASE.EN "
            "clear, %u with it set again\n", seen[0], seen[1], seen[2]);
    if (!seen[0] || seen[1] || !seen[2])
        fail(NAME, "CPUID.1:EDX.APIC does not follow IA32_APIC_BASE.EN");
}

/* This vCPU's ids: CPUID.1 and CPUID.0BH agree with its APIC ID register. */
static u32 check_bsp_ids(u32 cpus)
{
    struct cpuid_regs one = cpuid(CPUID_LEAF_FEATURES, 0);
    u32 id = one.ebx >> EBX_APIC_ID_SHIFT;
    u32 count = one.ebx >> EBX_COUNT_SHIFT & EBX_BYTE_MASK;
    u32 x2 = cpuid(0, 0).eax >= LEAF_X2APIC ? cpuid(LEAF_X2APIC, 0).edx : id;

    gprintf("BSP: APIC id %u (CPUID.1 %u, CPUID.0BH %u), %u CPUs, APIC %u, "
            "OSXSAVE %u\n", apic_id(), id, x2, count,
            !!(one.edx & CPUID1_EDX_APIC), !!(one.ecx & CPUID1_ECX_OSXSAVE));
    if (id != apic_id() || x2 != id || count != cpus)
        fail(NAME, "BSP ids or count disagree");
    if (!(one.edx & CPUID1_EDX_APIC))
        fail(NAME, "CPUID.1:EDX.APIC clear with IA32_APIC_BASE.EN set");
    return id;
}

/* Starts the AP and checks what its CPUID told it. */
static void check_ap(u32 bsp_id, u32 cpus)
{
    volatile struct ap_report *r;

    apic_sw_enable();
    r = ap_boot(AP_PAGE, AP_APIC_ID, AP_WAIT_TICKS);
    if (!r)
        fail(NAME, "the AP never reported (INIT, STARTUP 0x%x)", AP_PAGE);
    u32 id = r->leaf1_ebx >> EBX_APIC_ID_SHIFT;
    u32 count = r->leaf1_ebx >> EBX_COUNT_SHIFT & EBX_BYTE_MASK;
    u32 x2 = r->max_leaf >= LEAF_X2APIC ? r->leafb_edx : id;

    gprintf("AP: APIC id %u (CPUID.1 %u, CPUID.0BH %u), %u CPUs, APIC %u, "
            "OSXSAVE %u\n", AP_APIC_ID, id, x2, count,
            !!(r->leaf1_edx & CPUID1_EDX_APIC),
            !!(r->leaf1_ecx & CPUID1_ECX_OSXSAVE));
    if (id != AP_APIC_ID || x2 != id || id == bsp_id || count != cpus)
        fail(NAME, "AP ids or count wrong");
    if (r->leaf1_ecx & CPUID1_ECX_OSXSAVE)
        fail(NAME, "the AP sees the BSP's CR4.OSXSAVE");
    if (!osxsave_now())
        fail(NAME, "the BSP lost its OSXSAVE");
}

/* See the file comment. */
void guest_main(u32 magic, const struct mb_info *mbi)
{
    (void)mbi;
    require_multiboot(NAME, magic);
    intr_init(NAME);
    u32 cpus = fw_cfg_read_u16(FW_CFG_NB_CPUS);

    check_osxsave();
    check_pke();
    check_apic_flag();
    u32 bsp = check_bsp_ids(cpus);
    if (cpus > 1)
        check_ap(bsp, cpus);
    else
        gprintf("1 vCPU: AP checks skipped\n");
    pass(NAME);
}
