/*
 * GDT, IDT and TSS (Intel SDM Vol. 3A ch. 3 and 6-7).
 *
 * A code/data segment descriptor (8 bytes), for 64-bit mode only the
 * access byte and flags matter:
 *
 *  63   56 55  52 51  48 47     40 39   16 15    0
 *  +------+------+------+--------+-------+-------+
 *  |base  |flags |limit |access  | base  | limit |
 *  |31:24 |G D L |19:16 |P DPL S | 23:0  | 15:0  |
 *  |      |      |      |  type  |       |       |
 *  +------+------+------+--------+-------+-------+
 *
 * The 64-bit TSS descriptor is 16 bytes: the layout above plus base
 * 63:32 in the next 8 bytes. An IDT gate is 16 bytes:
 *
 *  127    96 95      64 63   48 47 46 45 44 40 39 35 34 32 31  16 15   0
 *  +--------+----------+-------+--+-----+-----+-----+-----+------+------+
 *  |reserved|off 63:32 |off    |P | DPL |type | 0   | IST | sel  |off   |
 *  |        |          |31:16  |  |     |(0xE)|     |     |      |15:0  |
 *  +--------+----------+-------+--+-----+-----+-----+-----+------+------+
 */
#include "arch/x86/desc.h"

#define DESC_ACCESS_CODE64 0x9aULL  /* P, DPL0, S, execute/read */
#define DESC_ACCESS_DATA   0x92ULL  /* P, DPL0, S, read/write */
#define DESC_ACCESS_TSS    0x89ULL  /* P, DPL0, 64-bit available TSS */
#define DESC_FLAG_L        0x2ULL   /* 64-bit code */
#define DESC_FLAG_G        0x8ULL
#define DESC_ACCESS_SHIFT  40
#define DESC_FLAGS_SHIFT   52
#define GATE_INTERRUPT     0x8eULL  /* P, DPL0, 64-bit interrupt gate */
#define NR_EXCEPTIONS      32
#define IST_NONE           0
#define IST_SHIFT          32
/* NMI, #DF and #MC each run on a stack of their own (TSS IST1-3, SDM
   Vol. 3A §7.7, §6.14.5): an NMI can arrive anywhere, a double fault
   may come from a stack overflow, and a machine check must not depend
   on the stack it interrupted. */
#define VEC_NMI            2
#define VEC_DF             8
#define VEC_MC             18
enum { IST_NMI = 1, IST_DF, IST_MC, NR_IST_STACKS = IST_MC };
#define IST_STACK_SIZE     8192

struct tss64 {
	u32 reserved0;
	u64 rsp[3];
	u64 reserved1;
	u64 ist[7];
	u64 reserved2;
	u16 reserved3;
	u16 iomap_base;
} __attribute__((packed));

static u64 gdt[5] __attribute__((aligned(16)));
static u64 idt[256 * 2] __attribute__((aligned(16)));
static struct tss64 tss __attribute__((aligned(16)));
static u8 ist_stacks[NR_IST_STACKS][IST_STACK_SIZE] __attribute__((aligned(16)));

/* Exception entry points, from trap_stubs.asm, one per vector 0..31. */
extern const u64 trap_stubs[NR_EXCEPTIONS];
/* The NMI handler's entry (trap_stubs.asm): it returns, the others do not. */
extern const char nmi_entry[];

static u64 seg_desc(u64 access, u64 flags)
{
	return (access << DESC_ACCESS_SHIFT) | (flags << DESC_FLAGS_SHIFT) |
	       0xffffULL | (0xfULL << 48); /* limit 0xfffff, ignored in 64-bit */
}

static void set_tss_desc(u64 *d, u64 base, u32 limit)
{
	d[0] = (limit & 0xffffULL) | ((base & 0xffffffULL) << 16) |
	       (DESC_ACCESS_TSS << DESC_ACCESS_SHIFT) |
	       (((u64)limit >> 16 & 0xf) << 48) | ((base >> 24 & 0xff) << 56);
	d[1] = base >> 32;
}

/* A 64-bit interrupt gate (§6.14.1) on IST stack ist (0: none). */
static void set_gate(int vec, u64 handler, u64 ist)
{
	idt[vec * 2] = (handler & 0xffff) | ((u64)SEL_CODE64 << 16) |
		       (ist << IST_SHIFT) | (GATE_INTERRUPT << 40) |
		       ((handler >> 16 & 0xffff) << 48);
	idt[vec * 2 + 1] = handler >> 32;
}

static void load_segments(void)
{
	struct desc_ptr g = { sizeof(gdt) - 1, (u64)gdt };

	__asm__ volatile("lgdt %0\n\t"
			 "mov %1, %%ds\n\t"
			 "mov %1, %%es\n\t"
			 "mov %1, %%ss\n\t"
			 "mov %1, %%fs\n\t"
			 "mov %1, %%gs\n\t"
			 /* reload CS with a far return */
			 "pushq %2\n\t"
			 "lea 1f(%%rip), %%rax\n\t"
			 "pushq %%rax\n\t"
			 "lretq\n"
			 "1:"
			 :: "m"(g), "r"((u64)SEL_DATA), "i"(SEL_CODE64)
			 : "rax", "memory");
}

void desc_init(void)
{
	struct desc_ptr i = { sizeof(idt) - 1, (u64)idt };

	gdt[SEL_CODE64 / 8] = seg_desc(DESC_ACCESS_CODE64, DESC_FLAG_L | DESC_FLAG_G);
	gdt[SEL_DATA / 8] = seg_desc(DESC_ACCESS_DATA, DESC_FLAG_G);
	tss.iomap_base = sizeof(tss);  /* no I/O bitmap */
	set_tss_desc(&gdt[SEL_TSS / 8], (u64)&tss, sizeof(tss) - 1);
	load_segments();
	__asm__ volatile("ltr %w0" ::"r"((u16)SEL_TSS));
	for (int i = 0; i < NR_IST_STACKS; i++)   /* stacks grow down */
		tss.ist[i] = (u64)&ist_stacks[i][IST_STACK_SIZE];
	for (int v = 0; v < NR_EXCEPTIONS; v++)
		set_gate(v, trap_stubs[v], IST_NONE);
	set_gate(VEC_NMI, (u64)nmi_entry, IST_NMI);
	set_gate(VEC_DF, trap_stubs[VEC_DF], IST_DF);
	set_gate(VEC_MC, trap_stubs[VEC_MC], IST_MC);
	__asm__ volatile("lidt %0" ::"m"(i));
}

u64 desc_gdt_base(void)
{
	return (u64)gdt;
}

u64 desc_idt_base(void)
{
	return (u64)idt;
}

u64 desc_tss_base(void)
{
	return (u64)&tss;
}
