/* emulate - instructions that touch absent memory or a device's MMIO give
 * what a PC gives: reads of nothing are all ones, writes to it vanish, and
 * the flags and registers come out as the CPU leaves them.  Under uhv each
 * such access is an EPT violation that uhv's instruction emulator carries
 * out (vmm/emulate.h), so this checks the emulator from inside a guest.
 *
 * "Absent" is a page 64 KiB above the end of RAM.  Each ALU-style probe
 * runs twice with the same inputs: on a RAM word holding all ones (the
 * CPU's own answer) and on absent memory (uhv's); the flags the SDM
 * defines and EAX must agree, and the absent word must still read all
 * ones.  String instructions (rep stosd/movsd both ways, backwards,
 * repe cmpsd, repne scasd, lodsd, a rep stosb that runs from the last RAM
 * bytes into absent memory) are checked against what the SDM says they
 * leave.  The IOAPIC's index/data window is read through xchg, cmp, bt,
 * or and movsd.  Lines the harness checks: tests/system/emulate.test.
 * May fail under QEMU, whose unassigned memory reads differently. */
#include "guest.h"

#define NAME "emulate"
#define ABSENT_GAP        (64u * KIB)        /* absent page: RAM end + this */
#define PROBE_LIMIT       0xFEC00000u        /* IOAPIC and up: devices */
#define FL_CF             0x001u
#define FL_PF             0x004u
#define FL_AF             0x010u
#define FL_ZF             0x040u
#define FL_SF             0x080u
#define FL_OF             0x800u
#define FL_FIXED          0x002u             /* EFLAGS bit 1 reads as 1 */
#define FL_ARITH          (FL_CF | FL_PF | FL_AF | FL_ZF | FL_SF | FL_OF)
/* SDM Vol. 2: AF is undefined after AND, OR, XOR and TEST; OF, SF, AF and
   PF after BT, BTS, BTR and BTC. */
#define FL_LOGIC          (FL_ARITH & ~FL_AF)
#define FL_BT             (FL_CF | FL_ZF)
#define STRING_DWORDS     16u
#define LONG_DWORDS       5000u              /* several of uhv's REP batches */
#define TAIL_BYTES        16u                /* rep stosb over the RAM end */
#define IOAPIC_BASE       0xFEC00000u
#define IOAPIC_IOREGSEL   (IOAPIC_BASE + 0x00u)
#define IOAPIC_IOWIN      (IOAPIC_BASE + 0x10u)
#define IOAPIC_REG_VER    1u
#define IOAPIC_VER_UHV    0x00170011u        /* 24 pins, version 0x11 */

/* One probe: flags in, EAX and ECX in; flags and EAX out. */
typedef u32 (*probe_fn)(volatile u32 *m, u32 flags, u32 *eax, u32 ecx);

/* A probe runs `insn` with its memory operand at (%edi). */
#define PROBE(fn, insn)                                                    \
    static u32 fn(volatile u32 *m, u32 flags, u32 *eax, u32 ecx)           \
    {                                                                      \
        u32 fl, a = *eax;                                                  \
        __asm__ volatile("pushl %[in]\n\tpopfl\n\t" insn                   \
                         "\n\tpushfl\n\tpopl %[fl]"                        \
                         : [fl] "=&r"(fl), "+a"(a)                         \
                         : [in] "r"(flags), "D"(m), "c"(ecx)               \
                         : "memory", "cc");                                \
        *eax = a;                                                          \
        return fl;                                                         \
    }

PROBE(p_cmp_ones, "cmpl $0xffffffff, (%%edi)")
PROBE(p_cmp_imm, "cmpl $0x12345678, (%%edi)")
PROBE(p_cmp_reg, "cmpl (%%edi), %%eax")
PROBE(p_add1, "addl $1, (%%edi)")
PROBE(p_or, "orl $0x80, (%%edi)")
PROBE(p_adc, "adcl %%ecx, (%%edi)")
PROBE(p_sbb, "sbbl (%%edi), %%eax")
PROBE(p_subb, "subb $0x7f, (%%edi)")
PROBE(p_andw, "andw $0x00ff, (%%edi)")
PROBE(p_xor, "xorl %%eax, (%%edi)")
PROBE(p_test, "testl $0x80000000, (%%edi)")
PROBE(p_inc, "lock incl (%%edi)")
PROBE(p_decw, "decw (%%edi)")
PROBE(p_negb, "negb (%%edi)")
PROBE(p_not, "notl (%%edi)")
PROBE(p_bts, "btsl $5, (%%edi)")
PROBE(p_btr, "btrl %%ecx, (%%edi)")
PROBE(p_btc, "lock btcl $31, (%%edi)")
PROBE(p_bt_neg, "btl %%ecx, (%%edi)")
PROBE(p_xchg, "xchgl %%eax, (%%edi)")
PROBE(p_movzx, "movzbl 1(%%edi), %%eax")
PROBE(p_movsx, "movswl (%%edi), %%eax")
PROBE(p_mov, "movl (%%edi), %%eax")

struct probe {
    const char *name;
    probe_fn fn;
    u32 compare;     /* flags the SDM defines for it */
    u32 flags_in, eax, ecx;
};

static const struct probe probes[] = {
    { "cmp dword [absent], 0xffffffff", p_cmp_ones, FL_ARITH, FL_FIXED, 0, 0 },
    { "cmp dword [absent], 0x12345678", p_cmp_imm, FL_ARITH, FL_FIXED, 0, 0 },
    { "cmp eax, [absent]", p_cmp_reg, FL_ARITH, FL_FIXED, 0x7fffffff, 0 },
    { "add dword [absent], 1", p_add1, FL_ARITH, FL_FIXED, 0, 0 },
    { "or dword [absent], 0x80", p_or, FL_LOGIC, FL_FIXED | FL_ZF, 0, 0 },
    { "adc [absent], ecx (CF=1)", p_adc, FL_ARITH, FL_FIXED | FL_CF, 0, 0 },
    { "sbb eax, [absent] (CF=1)", p_sbb, FL_ARITH, FL_FIXED | FL_CF, 5, 0 },
    { "sub byte [absent], 0x7f", p_subb, FL_ARITH, FL_FIXED, 0, 0 },
    { "and word [absent], 0xff", p_andw, FL_LOGIC, FL_FIXED, 0, 0 },
    { "xor [absent], eax", p_xor, FL_LOGIC, FL_FIXED, 0x0f0f0f0f, 0 },
    { "test dword [absent], 0x80000000", p_test, FL_LOGIC, FL_FIXED, 0, 0 },
    { "lock inc dword [absent]", p_inc, FL_ARITH, FL_FIXED | FL_CF, 0, 0 },
    { "dec word [absent]", p_decw, FL_ARITH, FL_FIXED, 0, 0 },
    { "neg byte [absent]", p_negb, FL_ARITH, FL_FIXED, 0, 0 },
    { "not dword [absent]", p_not, FL_ARITH, FL_FIXED | FL_OF | FL_CF, 0, 0 },
    { "bts dword [absent], 5", p_bts, FL_BT, FL_FIXED, 0, 0 },
    { "btr [absent], ecx=37", p_btr, FL_BT, FL_FIXED | FL_ZF, 0, 37 },
    { "lock btc dword [absent], 31", p_btc, FL_BT, FL_FIXED, 0, 0 },
    { "bt [absent], ecx=-1", p_bt_neg, FL_BT, FL_FIXED, 0, 0xffffffffu },
    { "xchg [absent], eax", p_xchg, FL_ARITH, FL_FIXED, 0x11223344, 0 },
    { "movzx eax, byte [absent+1]", p_movzx, FL_ARITH, FL_FIXED, 0, 0 },
    { "movsx eax, word [absent]", p_movsx, FL_ARITH, FL_FIXED, 0, 0 },
    { "mov eax, [absent]", p_mov, FL_ARITH, FL_FIXED, 0, 0 },
};

/* The CPU's side: words of all ones in RAM, the operand the middle one
   (BT's register offsets reach the words beside it). */
static volatile u32 ram_ones[4];
static u32 buf[STRING_DWORDS];

static void fill_ones(void)
{
    for (u32 i = 0; i < ARRAY_LEN(ram_ones); i++)
        ram_ones[i] = BUS_FLOAT;
}

static void expect_absent(volatile u32 *absent, u32 words, const char *after)
{
    for (u32 i = 0; i < words; i++)
        if (absent[i] != BUS_FLOAT)
            fail(NAME, "after %s, absent word %u reads 0x%08x, not all ones",
                 after, i, absent[i]);
}

/* One probe on RAM holding all ones and on absent memory: same result. */
static void run_probe(const struct probe *p, volatile u32 *absent)
{
    u32 ram_eax = p->eax, abs_eax = p->eax, ram_fl, abs_fl;

    fill_ones();
    ram_fl = p->fn(&ram_ones[1], p->flags_in, &ram_eax, p->ecx);
    abs_fl = p->fn(absent + 1, p->flags_in, &abs_eax, p->ecx);
    gprintf("%s: flags 0x%03x eax 0x%08x (RAM: 0x%03x 0x%08x)\n", p->name,
            abs_fl & p->compare, abs_eax, ram_fl & p->compare, ram_eax);
    if ((abs_fl ^ ram_fl) & p->compare)
        fail(NAME, "%s: flags 0x%x, the CPU on RAM 0x%x (compared 0x%x)",
             p->name, abs_fl, ram_fl, p->compare);
    if (abs_eax != ram_eax)
        fail(NAME, "%s: eax 0x%08x, the CPU on RAM 0x%08x", p->name,
             abs_eax, ram_eax);
    expect_absent(absent, 3, p->name);
}

/* rep stosd of `count` dwords into absent memory: ECX ends 0, EDI moved
   on by 4 * count, nothing stored (SDM Vol. 2, STOS, REP). */
static void check_rep_stosd(volatile u32 *absent, u32 count)
{
    u32 *dst = (u32 *)absent, n = count;

    __asm__ volatile("cld\n\trep stosl" : "+D"(dst), "+c"(n)
                     : "a"(0x5a5a5a5au) : "memory");
    if (n || dst != (u32 *)absent + count)
        fail(NAME, "rep stosd: ecx %u edi 0x%x, want 0 and 0x%x", n,
             (u32)(uintptr_t)dst, (u32)(uintptr_t)((u32 *)absent + count));
    expect_absent(absent, count < STRING_DWORDS ? count : STRING_DWORDS,
                  "rep stosd");
    gprintf("rep stosd %u dwords into absent memory: ecx 0, edi +%u, "
            "still all ones\n", count, 4 * count);
}

/* rep movsd from src to dst, forwards or (DF=1) backwards from the last
   element; returns ECX and leaves ESI/EDI where the CPU left them. */
static u32 rep_movsd(const volatile u32 **src, volatile u32 **dst, u32 n,
                     bool backwards)
{
    if (backwards)
        __asm__ volatile("std\n\trep movsl\n\tcld"
                         : "+S"(*src), "+D"(*dst), "+c"(n) : : "memory");
    else
        __asm__ volatile("cld\n\trep movsl"
                         : "+S"(*src), "+D"(*dst), "+c"(n) : : "memory");
    return n;
}

/* rep movsd both ways between RAM and absent memory, and backwards. */
static void check_rep_movsd(volatile u32 *absent)
{
    const volatile u32 *s = absent;
    volatile u32 *d = buf;

    memset(buf, 0, sizeof(buf));
    if (rep_movsd(&s, &d, STRING_DWORDS, false) || s != absent + STRING_DWORDS ||
        d != buf + STRING_DWORDS)
        fail(NAME, "rep movsd from absent: registers wrong");
    for (u32 i = 0; i < STRING_DWORDS; i++)
        if (buf[i] != BUS_FLOAT)
            fail(NAME, "rep movsd from absent: word %u is 0x%08x", i, buf[i]);
    for (u32 i = 0; i < STRING_DWORDS; i++)
        buf[i] = i * 0x01010101u;
    s = buf;
    d = absent;
    if (rep_movsd(&s, &d, STRING_DWORDS, false) || d != absent + STRING_DWORDS)
        fail(NAME, "rep movsd into absent: registers wrong");
    expect_absent(absent, STRING_DWORDS, "rep movsd into absent");
    memset(buf, 0, sizeof(buf));
    s = absent + STRING_DWORDS - 1;
    d = buf + STRING_DWORDS - 1;
    /* DF=1: both end one element below where they began the copy */
    if (rep_movsd(&s, &d, STRING_DWORDS, true) || s != absent - 1 ||
        (uintptr_t)d != (uintptr_t)buf - sizeof(u32) || buf[0] != BUS_FLOAT ||
        buf[STRING_DWORDS - 1] != BUS_FLOAT)
        fail(NAME, "std; rep movsd from absent: wrong");
    gprintf("rep movsd %u dwords absent -> RAM, RAM -> absent and backwards "
            "(DF=1): all ones read, writes dropped, esi/edi/ecx right\n",
            STRING_DWORDS);
}

/* repe cmpsd [esi], [edi] and repne scasd; returns ECX, *flags EFLAGS. */
static u32 repe_cmpsd(const volatile u32 *a, const volatile u32 *b, u32 n,
                      u32 *flags)
{
    __asm__ volatile("cld\n\trepe cmpsl\n\tpushfl\n\tpopl %[fl]"
                     : [fl] "=r"(*flags), "+S"(a), "+D"(b), "+c"(n)
                     : : "memory", "cc");
    return n;
}

/* CMPS, SCAS and LODS on absent memory against the CPU on RAM. */
static void check_compare_strings(volatile u32 *absent)
{
    u32 fl_abs, left_abs, n = STRING_DWORDS, v;
    const volatile u32 *s = absent;

    for (u32 i = 0; i < STRING_DWORDS; i++)
        buf[i] = BUS_FLOAT;
    buf[5] = 0;                       /* the sixth differs */
    left_abs = repe_cmpsd(absent, buf, STRING_DWORDS, &fl_abs);
    /* ~0 - 0: no borrow, SF and PF set, ZF clear */
    if (left_abs != STRING_DWORDS - 6 ||
        (fl_abs & FL_ARITH) != (FL_SF | FL_PF))
        fail(NAME, "repe cmpsd: ecx %u flags 0x%x, want %u and SF PF",
             left_abs, fl_abs, STRING_DWORDS - 6);
    __asm__ volatile("cld\n\trepne scasl\n\tpushfl\n\tpopl %[fl]"
                     : [fl] "=r"(fl_abs), "+D"(s), "+c"(n)
                     : "a"(BUS_FLOAT) : "memory", "cc");
    if (n != STRING_DWORDS - 1 || !(fl_abs & FL_ZF) || s != absent + 1)
        fail(NAME, "repne scasd: ecx %u, ZF %u", n, !!(fl_abs & FL_ZF));
    s = absent;
    __asm__ volatile("cld\n\tlodsl" : "=a"(v), "+S"(s) : : "memory");
    if (v != BUS_FLOAT || s != absent + 1)
        fail(NAME, "lodsd from absent: eax 0x%08x", v);
    gprintf("repe cmpsd stops at the 6th dword (ecx %u), repne scasd "
            "finds all ones at once, lodsd reads all ones\n", left_abs);
}

/* rep stosb that starts on the last RAM bytes and runs on into absent
   memory: the CPU stores into RAM itself, then uhv carries on. */
static void check_stosb_over_ram_end(u32 ram_end)
{
    u8 *dst = (u8 *)(uintptr_t)(ram_end - TAIL_BYTES / 2);
    u32 n = TAIL_BYTES;

    __asm__ volatile("cld\n\trep stosb" : "+D"(dst), "+c"(n)
                     : "a"(0xa5u) : "memory");
    if (n || (u32)(uintptr_t)dst != ram_end + TAIL_BYTES / 2)
        fail(NAME, "rep stosb over the RAM end: ecx %u edi 0x%x", n,
             (u32)(uintptr_t)dst);
    for (u32 i = 0; i < TAIL_BYTES / 2; i++)
        if (((volatile u8 *)(uintptr_t)(ram_end - TAIL_BYTES / 2))[i] != 0xa5)
            fail(NAME, "rep stosb over the RAM end: RAM byte %u not stored", i);
    if (*(volatile u32 *)(uintptr_t)ram_end != BUS_FLOAT)
        fail(NAME, "rep stosb over the RAM end: stored past it");
    gprintf("rep stosb from RAM end - %u into absent memory: RAM stored, "
            "the rest dropped, ecx 0\n", TAIL_BYTES / 2);
}

/* A device's MMIO: the IOAPIC's index (IOREGSEL) and data (IOWIN)
   registers through instructions other than MOV. */
static void check_ioapic(void)
{
    volatile u32 *sel = (volatile u32 *)IOAPIC_IOREGSEL;
    volatile u32 *win = (volatile u32 *)IOAPIC_IOWIN;
    u32 old = IOAPIC_REG_VER, fl, ver, lo;
    const volatile u32 *s = win;
    u32 *d = buf;

    __asm__ volatile("xchgl %0, (%1)" : "+r"(old) : "r"(sel) : "memory");
    (void)old;
    if (*sel != IOAPIC_REG_VER)
        fail(NAME, "xchg with IOREGSEL: it reads 0x%x", *sel);
    __asm__ volatile("cmpl %[v], (%[w])\n\tpushfl\n\tpopl %[fl]"
                     : [fl] "=r"(fl) : [v] "i"(IOAPIC_VER_UHV), [w] "r"(win)
                     : "memory", "cc");
    if (!(fl & FL_ZF))
        fail(NAME, "cmp [IOWIN], 0x%x: ZF clear", IOAPIC_VER_UHV);
    __asm__ volatile("btl $4, (%[w])\n\tpushfl\n\tpopl %[fl]"
                     : [fl] "=r"(fl) : [w] "r"(win) : "memory", "cc");
    if (!(fl & FL_CF))
        fail(NAME, "bt [IOWIN], 4: CF clear (version 0x11 has bit 4)");
    /* the IOAPIC answers dword accesses only (82093AA §3.0) */
    lo = 0;
    __asm__ volatile("orl (%[w]), %[lo]" : [lo] "+r"(lo) : [w] "r"(win)
                     : "memory", "cc");
    __asm__ volatile("cld\n\tmovsl" : "+S"(s), "+D"(d) : : "memory");
    ver = buf[0];
    if (lo != IOAPIC_VER_UHV || ver != IOAPIC_VER_UHV)
        fail(NAME, "IOAPIC version: or 0x%x, movsd 0x%08x", lo, ver);
    gprintf("IOAPIC through xchg, cmp, bt, or and movsd: version "
            "0x%08x\n", ver);
}

/* RAM end: the largest of what the memory map and mem_upper say, to a
   page, so the absent page never lies in our own RAM. */
static u32 ram_end(const struct mb_info *mbi)
{
    u64 end = mb_ram_end(mbi), mem = mb_mem_bytes(mbi);

    if (mem > end)
        end = mem;
    end = (end + PAGE_SIZE - 1) & ~(u64)(PAGE_SIZE - 1);
    if (end + ABSENT_GAP + LONG_DWORDS * 4 >= PROBE_LIMIT)
        fail(NAME, "RAM end 0x%llx leaves no absent memory below the devices",
             end);
    return (u32)end;
}

/* See the file comment. */
void guest_main(u32 magic, const struct mb_info *mbi)
{
    require_multiboot(NAME, magic);
    u32 end = ram_end(mbi);
    volatile u32 *absent = (volatile u32 *)(uintptr_t)(end + ABSENT_GAP);

    gprintf("ram end 0x%08x, absent memory at 0x%08x\n", end,
            (u32)(uintptr_t)absent);
    for (u32 i = 0; i < ARRAY_LEN(probes); i++)
        run_probe(&probes[i], absent);
    gprintf("%u instructions on absent memory: flags and eax as the CPU's "
            "on RAM holding all ones, writes dropped\n", ARRAY_LEN(probes));
    check_rep_stosd(absent, STRING_DWORDS);
    check_rep_stosd(absent, LONG_DWORDS);
    check_rep_movsd(absent);
    check_compare_strings(absent);
    check_stosb_over_ram_end(end);
    check_ioapic();
    pass(NAME);
}
