/* singlestep - proves the debug state of instructions uhv carries out for
 * the guest is the CPU's: a single step (RFLAGS.TF) over an instruction
 * that exits and that uhv skips or emulates gives exactly one #DB, DR6.BS
 * set, the saved EIP right after the instruction and the saved RF clear
 * (SDM Vol. 3B §18.3.1.4, §18.3.1.1); and a fault uhv injects is pushed
 * with RF = 1 and the EIP of the faulting instruction, as the CPU pushes
 * every fault-class exception (§18.3.1.1; VM entry leaves RF to uhv, Vol.
 * 3C §27.6.1.1).  The instructions: CPUID, OUT to COM1's scratch
 * register, RDMSR of IA32_APIC_BASE (every RDMSR exits under uhv), CPUID
 * after MOV SS (whose single step the CPU defers past it, so the one #DB
 * covers both, §18.3.1.4; the exit comes with MOV-SS blocking) and a
 * write to the I/O APIC's select register (MMIO: uhv emulates it; the exit
 * saved RF = 1).  Then RDMSR of an MSR uhv refuses: #GP, RF = 1, TF = 1
 * pushed, no #DB.  With watch-mmio on the cmdline, last, a data
 * breakpoint (DR0, writes, 4 bytes) on that MMIO register: the write uhv
 * emulates gives one #DB, DR6.B0 set, EIP after it (§18.2.5).  One line
 * per case, then PASS or the first FAIL. */
#include "guest.h"

#define NAME "singlestep"
#define VEC_DB          1
#define EFLAGS_TF       (1u << 8)
#define EFLAGS_RF       (1u << 16)
#define DR6_BS          (1u << 14)
#define DR6_INIT        0xffff0ff0u   /* what a #DB leaves alone */
#define DR6_B_MASK      0xfu          /* B0-B3 */
#define DR7_FIXED       0x400u
#define DR7_L0          (1u << 0)
#define DR7_RW0_WRITE   (1u << 16)
#define DR7_LEN0_4      (3u << 18)
/* Operands of the stepped instructions, spelled for the assembler. */
#define MSR_APIC_BASE   0x1b
#define MSR_REFUSED     0x12345678    /* no CPU has it; uhv refuses it */
#define IOAPIC_REGSEL   0xfec00000    /* I/O APIC select register (MMIO) */
#define COM1_SCRATCH    0x3ff         /* COM1 base 0x3f8 + 7 */
#define RDMSR_LEN       2
#define STR_(x) #x
#define STR(x) STR_(x)

/* What the last #DB and #GP saw. */
static volatile u32 db_eip, db_eflags, db_dr6, gp_eip, gp_eflags;

static u32 read_dr6(void)
{
    u32 v;
    __asm__ volatile("mov %%db6, %0" : "=r"(v));
    return v;
}

static void write_dr6(u32 v)
{
    __asm__ volatile("mov %0, %%db6" ::"r"(v));
}

static void write_dr0(u32 v)
{
    __asm__ volatile("mov %0, %%db0" ::"r"(v));
}

static void write_dr7(u32 v)
{
    __asm__ volatile("mov %0, %%db7" ::"r"(v));
}

/* The step's #DB: note it, and step no further. */
static void db_handler(struct intr_frame *f)
{
    db_eip = f->eip;
    db_eflags = f->eflags;
    db_dr6 = read_dr6();
    f->eflags &= ~EFLAGS_TF;
}

/* uhv's #GP: note it, step over the RDMSR, and no further step. */
static void gp_handler(struct intr_frame *f)
{
    gp_eip = f->eip;
    gp_eflags = f->eflags;
    f->eip += RDMSR_LEN;
    f->eflags &= ~EFLAGS_TF;
}

/* Runs pre, then sets TF with POPF: the instruction after POPF is the
 * first stepped (SDM Vol. 3B §18.3.1.4); then code, then the label
 * whose address lands in at. EAX-EDX are the cases' scratch. */
#define STEP(at, pre, code)                                              \
    __asm__ volatile(pre "\n\t"                                          \
                     "movl $1f, %0\n\t"                                  \
                     "pushfl\n\t"                                        \
                     "orl %[tf], (%%esp)\n\t"                            \
                     "popfl\n\t" code "\n"                               \
                     "1:"                                                \
                     : "=&S"(at) : [tf] "i"(EFLAGS_TF)                    \
                     : "eax", "ebx", "ecx", "edx", "memory", "cc")

/* Checks the #DB of one stepped case. */
static void expect_step(const char *what, u32 before, u32 after)
{
    u32 n = intr_count[VEC_DB] - before;

    if (n != 1)
        fail(NAME, "%s: %u #DB, want exactly 1", what, n);
    if (!(db_dr6 & DR6_BS))
        fail(NAME, "%s: DR6 0x%x, BS clear", what, db_dr6);
    if (db_eip != after)
        fail(NAME, "%s: #DB EIP 0x%x, want 0x%x (after it)", what, db_eip,
             after);
    if (db_eflags & EFLAGS_RF)
        fail(NAME, "%s: #DB pushed EFLAGS 0x%x, RF set", what, db_eflags);
    gprintf("%s: one #DB, DR6.BS set, EIP after it, RF clear\n", what);
    write_dr6(DR6_INIT);
}

static void step_cases(void)
{
    u32 at, n;

    n = intr_count[VEC_DB];
    STEP(at, "xorl %%eax, %%eax; xorl %%ecx, %%ecx", "cpuid");
    expect_step("cpuid", n, at);
    n = intr_count[VEC_DB];
    STEP(at, "movl $0x5a, %%eax; movl $" STR(COM1_SCRATCH) ", %%edx",
         "outb %%al, %%dx");
    expect_step("out", n, at);
    n = intr_count[VEC_DB];
    STEP(at, "movl $" STR(MSR_APIC_BASE) ", %%ecx", "rdmsr");
    expect_step("rdmsr", n, at);
    n = intr_count[VEC_DB];
    STEP(at, "movw %%ss, %%bx; xorl %%eax, %%eax; xorl %%ecx, %%ecx",
         "movw %%bx, %%ss\n\tcpuid");
    expect_step("mov-ss-cpuid", n, at);
    n = intr_count[VEC_DB];
    STEP(at, "", "movl $0, " STR(IOAPIC_REGSEL));
    expect_step("mmio", n, at);
}

/* A refused RDMSR with TF set: #GP at it, pushed RF and TF set, no #DB. */
static void fault_case(void)
{
    u32 at, n = intr_count[VEC_DB], g = intr_count[EXC_GP];

    STEP(at, "movl $" STR(MSR_REFUSED) ", %%ecx", "2: rdmsr\n\tmovl $2b, %0");
    if (intr_count[EXC_GP] - g != 1)
        fail(NAME, "refused rdmsr: %u #GP, want 1", intr_count[EXC_GP] - g);
    if (intr_count[VEC_DB] != n)
        fail(NAME, "refused rdmsr: %u #DB, want none", intr_count[VEC_DB] - n);
    if (gp_eip != at)
        fail(NAME, "refused rdmsr: #GP EIP 0x%x, want 0x%x", gp_eip, at);
    if ((gp_eflags & (EFLAGS_RF | EFLAGS_TF)) != (EFLAGS_RF | EFLAGS_TF))
        fail(NAME, "refused rdmsr: #GP pushed EFLAGS 0x%x, want RF and TF "
             "set", gp_eflags);
    gprintf("refused rdmsr: one #GP at it, RF and TF pushed set, no #DB\n");
}

/* A data breakpoint on the I/O APIC's select register, which uhv
 * emulates: one #DB after the write, DR6.B0 set, BS clear. */
static void watch_case(void)
{
    u32 at, n = intr_count[VEC_DB];

    write_dr0(IOAPIC_REGSEL);
    write_dr7(DR7_FIXED | DR7_L0 | DR7_RW0_WRITE | DR7_LEN0_4);
    __asm__ volatile("movl $1f, %0\n\t"
                     "movl $0, " STR(IOAPIC_REGSEL) "\n"
                     "1:" : "=&r"(at) : : "memory");
    write_dr7(DR7_FIXED);
    if (intr_count[VEC_DB] - n != 1)
        fail(NAME, "watched mmio: %u #DB, want 1", intr_count[VEC_DB] - n);
    if ((db_dr6 & (DR6_B_MASK | DR6_BS)) != 1)
        fail(NAME, "watched mmio: DR6 0x%x, want B0 alone", db_dr6);
    if (db_eip != at)
        fail(NAME, "watched mmio: #DB EIP 0x%x, want 0x%x", db_eip, at);
    gprintf("watched mmio: one #DB, DR6.B0 set, EIP after it\n");
}

/* See the file comment. */
void guest_main(u32 magic, const struct mb_info *mbi)
{
    require_multiboot(NAME, magic);
    intr_init(NAME);
    intr_set_handler(VEC_DB, db_handler);
    intr_set_handler(EXC_GP, gp_handler);
    write_dr6(DR6_INIT);
    step_cases();
    fault_case();
    if (cmdline_has(mb_cmdline(mbi), "watch-mmio"))
        watch_case();
    pass(NAME);
}
