/*
 * vmm/emulate.c + vmm/emu_exec.c against the CPU: every form emulate.h
 * lists is built as machine code with random and edge inputs, run
 * natively on this host (64-bit mode) on an ordinary page, and run
 * through emu_decode/emu_execute with the same registers, flags and
 * memory; the 15 GPRs (all but RSP), the flags and the memory must come
 * out the same. Flags the SDM leaves undefined are not compared (each
 * form's `undef`, with the SDM's words).
 *
 * The native side: diff_native_run (assembly below) loads the 16 GPRs
 * but RSP and RFLAGS (popfq) from a struct, calls the instruction copied
 * into an executable page with a RET after it, and stores the registers
 * and RFLAGS (pushfq) back. The page is mapped below 2 GiB (MAP_32BIT),
 * so absolute disp32 and moffs, RIP-relative and 32-bit (67) addressing
 * all reach the data beside it.
 */
#define _GNU_SOURCE
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include "unit.h"
#include "vmm/emulate.h"

#define CODE_LEN     4096
#define DATA_LEN     1024
#define MAP_LEN      (CODE_LEN + DATA_LEN)
#define TARGET_LO    256           /* the operand lies in DATA+[LO, HI] */
#define TARGET_HI    760
#define OPCODE_RET   0xc3
#define NR_GPR       16
#define ITERS        600           /* runs per form and operand size */
#define MAX_COUNT    12            /* REP counts 0..MAX_COUNT */
#define BT_OFF_RANGE 300           /* BT r: bit offsets within +-this */
#define INDEX_RANGE  300           /* index register values within +-this */
#define DISP32_RANGE 100000

/* The native registers: gpr[] in x86 order (RSP's slot unused), then
   RFLAGS; diff_native_run's offsets depend on this layout. */
struct cpu_state {
	u64 gpr[NR_GPR];
	u64 rflags;
};

void *emu_diff_code;               /* what diff_native_run calls */
void diff_native_run(struct cpu_state *s);

__asm__(
	".pushsection .text\n"
	".globl diff_native_run\n"
	".type diff_native_run, @function\n"
	"diff_native_run:\n"
	"	push %rbx\n	push %rbp\n	push %r12\n	push %r13\n"
	"	push %r14\n	push %r15\n	push %rdi\n"
	"	pushq 128(%rdi)\n	popfq\n"
	"	mov 0(%rdi), %rax\n	mov 8(%rdi), %rcx\n"
	"	mov 16(%rdi), %rdx\n	mov 24(%rdi), %rbx\n"
	"	mov 40(%rdi), %rbp\n	mov 48(%rdi), %rsi\n"
	"	mov 64(%rdi), %r8\n	mov 72(%rdi), %r9\n"
	"	mov 80(%rdi), %r10\n	mov 88(%rdi), %r11\n"
	"	mov 96(%rdi), %r12\n	mov 104(%rdi), %r13\n"
	"	mov 112(%rdi), %r14\n	mov 120(%rdi), %r15\n"
	"	mov 56(%rdi), %rdi\n"
	"	call *emu_diff_code(%rip)\n"
	"	pushfq\n	push %rdi\n	mov 16(%rsp), %rdi\n"
	"	popq 56(%rdi)\n	popq 128(%rdi)\n"
	"	mov %rax, 0(%rdi)\n	mov %rcx, 8(%rdi)\n"
	"	mov %rdx, 16(%rdi)\n	mov %rbx, 24(%rdi)\n"
	"	mov %rbp, 40(%rdi)\n	mov %rsi, 48(%rdi)\n"
	"	mov %r8, 64(%rdi)\n	mov %r9, 72(%rdi)\n"
	"	mov %r10, 80(%rdi)\n	mov %r11, 88(%rdi)\n"
	"	mov %r12, 96(%rdi)\n	mov %r13, 104(%rdi)\n"
	"	mov %r14, 112(%rdi)\n	mov %r15, 120(%rdi)\n"
	"	cld\n	add $8, %rsp\n"
	"	pop %r15\n	pop %r14\n	pop %r13\n	pop %r12\n"
	"	pop %rbp\n	pop %rbx\n	ret\n"
	".size diff_native_run, .-diff_native_run\n"
	".popsection\n");

/* Check's ck_assert records each passing assertion (a write to its
   pipe); the hot paths below check with this instead, silent until one
   fails. */
#define REQUIRE(expr, ...) \
	do { if (!(expr)) ck_abort_msg(__VA_ARGS__); } while (0)

/* ---- the forms ---- */

enum kind {
	K_REG,      /* ModRM reg is a register operand */
	K_DIGIT,    /* ModRM reg is an opcode digit */
	K_MOFFS,    /* A0-A3 */
	K_STRING,   /* A4-AF */
};

#define NO_OP   (-1)
#define IMM8    1
#define IMMZ    4                /* imm16 or imm32, by operand size */
#define F_LOCK  0x1              /* may take LOCK */
#define F_BTREG 0x2              /* the register is a bit offset */
#define F_REPNE 0x4              /* F2 repeats it too (CMPS, SCAS) */
#define SIZES_ALL  (1 | 2 | 4 | 8)
#define SIZES_WIDE (2 | 4 | 8)

/* After AND, OR, XOR and TEST: "The OF and CF flags are cleared; the SF,
   ZF, and PF flags are set according to the result. The state of the AF
   flag is undefined." (SDM Vol. 2, AND, OR, XOR, TEST) */
#define UNDEF_LOGIC EMU_FLAG_AF
/* BT, BTS, BTR, BTC: "The CF flag contains the value of the selected
   bit. The ZF flag is unaffected. The OF, SF, AF, and PF flags are
   undefined." (SDM Vol. 2, BT) */
#define UNDEF_BT (EMU_FLAG_OF | EMU_FLAG_SF | EMU_FLAG_AF | EMU_FLAG_PF)

struct form {
	const char *name;
	u8 kind;
	bool esc;          /* 0F opcode */
	int op8, opv;      /* opcode with byte operands, with wider ones */
	u8 digit;
	u8 imm;            /* 0, IMM8 or IMMZ */
	u8 mem_size;       /* memory operand size, if not the operand size */
	u8 sizes;          /* operand sizes it takes (bit n: n bytes) */
	u8 flags;          /* F_* */
	u64 undef;         /* flags not compared */
};

#define MAX_FORMS 80
static struct form forms[MAX_FORMS];
static int nr_forms;

static void add(struct form f)
{
	forms[nr_forms++] = f;
}

static void add_alu_forms(void)
{
	static const char *const names[8][4] = {
		{ "add r/m, r", "add r, r/m", "add r/m, imm", "add r/m, imm8" },
		{ "or r/m, r", "or r, r/m", "or r/m, imm", "or r/m, imm8" },
		{ "adc r/m, r", "adc r, r/m", "adc r/m, imm", "adc r/m, imm8" },
		{ "sbb r/m, r", "sbb r, r/m", "sbb r/m, imm", "sbb r/m, imm8" },
		{ "and r/m, r", "and r, r/m", "and r/m, imm", "and r/m, imm8" },
		{ "sub r/m, r", "sub r, r/m", "sub r/m, imm", "sub r/m, imm8" },
		{ "xor r/m, r", "xor r, r/m", "xor r/m, imm", "xor r/m, imm8" },
		{ "cmp r/m, r", "cmp r, r/m", "cmp r/m, imm", "cmp r/m, imm8" },
	};

	for (int o = 0; o < 8; o++) {
		bool logic = o == EMU_OP_OR || o == EMU_OP_AND || o == EMU_OP_XOR;
		u64 undef = logic ? UNDEF_LOGIC : 0;
		u8 lock = o == EMU_OP_CMP ? 0 : F_LOCK;

		add((struct form){ names[o][0], K_REG, false, o * 8, o * 8 + 1, 0,
				   0, 0, SIZES_ALL, lock, undef });
		add((struct form){ names[o][1], K_REG, false, o * 8 + 2, o * 8 + 3,
				   0, 0, 0, SIZES_ALL, 0, undef });
		add((struct form){ names[o][2], K_DIGIT, false, 0x80, 0x81, (u8)o,
				   IMMZ, 0, SIZES_ALL, lock, undef });
		add((struct form){ names[o][3], K_DIGIT, false, NO_OP, 0x83, (u8)o,
				   IMM8, 0, SIZES_WIDE, lock, undef });
	}
}

static void add_other_forms(void)
{
	add((struct form){ "test r/m, r", K_REG, false, 0x84, 0x85, 0, 0, 0,
			   SIZES_ALL, 0, UNDEF_LOGIC });
	add((struct form){ "test r/m, imm", K_DIGIT, false, 0xf6, 0xf7, 0, IMMZ,
			   0, SIZES_ALL, 0, UNDEF_LOGIC });
	add((struct form){ "xchg r/m, r", K_REG, false, 0x86, 0x87, 0, 0, 0,
			   SIZES_ALL, F_LOCK, 0 });
	add((struct form){ "mov r/m, r", K_REG, false, 0x88, 0x89, 0, 0, 0,
			   SIZES_ALL, 0, 0 });
	add((struct form){ "mov r, r/m", K_REG, false, 0x8a, 0x8b, 0, 0, 0,
			   SIZES_ALL, 0, 0 });
	add((struct form){ "mov r/m, imm", K_DIGIT, false, 0xc6, 0xc7, 0, IMMZ,
			   0, SIZES_ALL, 0, 0 });
	add((struct form){ "mov rAX, moffs", K_MOFFS, false, 0xa0, 0xa1, 0, 0,
			   0, SIZES_ALL, 0, 0 });
	add((struct form){ "mov moffs, rAX", K_MOFFS, false, 0xa2, 0xa3, 0, 0,
			   0, SIZES_ALL, 0, 0 });
	add((struct form){ "movzx r, r/m8", K_REG, true, NO_OP, 0xb6, 0, 0, 1,
			   SIZES_WIDE, 0, 0 });
	add((struct form){ "movzx r, r/m16", K_REG, true, NO_OP, 0xb7, 0, 0, 2,
			   SIZES_WIDE, 0, 0 });
	add((struct form){ "movsx r, r/m8", K_REG, true, NO_OP, 0xbe, 0, 0, 1,
			   SIZES_WIDE, 0, 0 });
	add((struct form){ "movsx r, r/m16", K_REG, true, NO_OP, 0xbf, 0, 0, 2,
			   SIZES_WIDE, 0, 0 });
	add((struct form){ "movsxd r, r/m32", K_REG, false, NO_OP, 0x63, 0, 0,
			   4, 4 | 8, 0, 0 });
	add((struct form){ "inc r/m", K_DIGIT, false, 0xfe, 0xff, 0, 0, 0,
			   SIZES_ALL, F_LOCK, 0 });
	add((struct form){ "dec r/m", K_DIGIT, false, 0xfe, 0xff, 1, 0, 0,
			   SIZES_ALL, F_LOCK, 0 });
	add((struct form){ "not r/m", K_DIGIT, false, 0xf6, 0xf7, 2, 0, 0,
			   SIZES_ALL, F_LOCK, 0 });
	add((struct form){ "neg r/m", K_DIGIT, false, 0xf6, 0xf7, 3, 0, 0,
			   SIZES_ALL, F_LOCK, 0 });
}

static void add_bt_string_forms(void)
{
	static const char *const bt[4][2] = {
		{ "bt r/m, r", "bt r/m, imm8" }, { "bts r/m, r", "bts r/m, imm8" },
		{ "btr r/m, r", "btr r/m, imm8" }, { "btc r/m, r", "btc r/m, imm8" },
	};
	static const u8 bt_reg_op[4] = { 0xa3, 0xab, 0xb3, 0xbb };

	for (int k = 0; k < 4; k++) {
		u8 lock = k ? F_LOCK : 0;

		add((struct form){ bt[k][0], K_REG, true, NO_OP, bt_reg_op[k], 0,
				   0, 0, SIZES_WIDE, lock | F_BTREG, UNDEF_BT });
		add((struct form){ bt[k][1], K_DIGIT, true, NO_OP, 0xba,
				   (u8)(4 + k), IMM8, 0, SIZES_WIDE, lock, UNDEF_BT });
	}
	add((struct form){ "movs", K_STRING, false, 0xa4, 0xa5, 0, 0, 0,
			   SIZES_ALL, 0, 0 });
	add((struct form){ "cmps", K_STRING, false, 0xa6, 0xa7, 0, 0, 0,
			   SIZES_ALL, F_REPNE, 0 });
	add((struct form){ "stos", K_STRING, false, 0xaa, 0xab, 0, 0, 0,
			   SIZES_ALL, 0, 0 });
	add((struct form){ "lods", K_STRING, false, 0xac, 0xad, 0, 0, 0,
			   SIZES_ALL, 0, 0 });
	add((struct form){ "scas", K_STRING, false, 0xae, 0xaf, 0, 0, 0,
			   SIZES_ALL, F_REPNE, 0 });
}

static void build_forms(void)
{
	if (nr_forms)
		return;
	add_alu_forms();
	add_other_forms();
	add_bt_string_forms();
}

/* ---- random and edge values ---- */

static u64 rng_state;

static u64 rnd(void)
{
	/* xorshift64* (Vigna): fixed seed per test, so failures repeat */
	rng_state ^= rng_state >> 12;
	rng_state ^= rng_state << 25;
	rng_state ^= rng_state >> 27;
	return rng_state * 0x2545f4914f6cdd1dULL;
}

static u64 below(u64 n)
{
	return rnd() % n;
}

static s64 between(s64 lo, s64 hi)
{
	return lo + (s64)below((u64)(hi - lo + 1));
}

static u64 mask_of(unsigned size)
{
	return size >= 8 ? ~0ULL : (1ULL << (8 * size)) - 1;
}

#define NR_EDGES 10

/* 0, 1, 2, 0x0f/0x10 (AF), 0x7f.., 0x80.., 0x80..01, all ones - 1,
   all ones: the values where carries, borrows and overflow turn. */
static u64 edge(unsigned k, unsigned size)
{
	u64 msb = 1ULL << (8 * size - 1), m = mask_of(size);
	const u64 e[NR_EDGES] = { 0, 1, 2, 0x0f, 0x10, msb - 1, msb, msb + 1,
				  m - 1, m };

	return e[k % NR_EDGES] & m;
}

/* A value for an operand: an edge value a third of the time. */
static u64 value(unsigned size)
{
	if (below(3) == 0)
		return edge((unsigned)below(NR_EDGES), size);
	return rnd() & mask_of(size);
}

/* ---- building one case ---- */

struct tcase {
	const struct form *f;
	unsigned size;        /* operand size */
	u8 b[EMU_MAX_INSN + 1];
	unsigned n;
	struct cpu_state in;
	u8 data[DATA_LEN];
	u64 target;           /* the ModRM operand's linear address */
	unsigned rip_disp_at; /* offset of a RIP-relative disp32, or 0 */
	bool rep;             /* a REP string instruction */
};

static u8 *map;           /* code page, then data */
#define CODE  (map)
#define DATA  (map + CODE_LEN)

static void emit(struct tcase *t, u8 byte)
{
	REQUIRE(t->n < EMU_MAX_INSN, "%s: instruction too long", t->f->name);
	t->b[t->n++] = byte;
}

static void emit_le(struct tcase *t, u64 v, unsigned bytes)
{
	for (unsigned k = 0; k < bytes; k++)
		emit(t, (u8)(v >> (8 * k)));
}

/* A GPR for addressing: any but RSP and those in `avoid` (a bit mask). */
static unsigned pick_reg(u64 avoid)
{
	unsigned r;

	do
		r = (unsigned)below(NR_GPR);
	while (r == EMU_RSP || (avoid & (1ULL << r)));
	return r;
}

static void set_gpr(struct tcase *t, unsigned r, u64 v)
{
	t->in.gpr[r] = v;
}

static u64 garbage_high(bool a32)
{
	return a32 ? rnd() << 32 : 0;
}

enum amode { A_BASE, A_BASE_D8, A_BASE_D32, A_SIB, A_SIB_D8, A_SIB_D32,
	     A_INDEX_D32, A_RIP, A_ABS, NR_AMODES };

/* What the ModRM names: base, index, scale, disp and their encoding. */
struct addressing {
	int base, index;      /* register or -1 */
	unsigned scale;
	u8 mod;
	s64 disp;
	unsigned disp_bytes;
	bool rip;
};

static void choose_addressing(struct addressing *a, u64 avoid)
{
	enum amode m = (enum amode)below(NR_AMODES);

	*a = (struct addressing){ .base = -1, .index = -1 };
	if (m == A_RIP || m == A_ABS) {
		a->rip = m == A_RIP;
		a->disp_bytes = 4;
		return;
	}
	if (m != A_INDEX_D32)
		a->base = (int)pick_reg(avoid);
	if (m >= A_SIB && m <= A_INDEX_D32) {
		a->index = (int)pick_reg(avoid | (a->base >= 0 ? 1ULL << a->base : 0));
		a->scale = (unsigned)below(4);
	}
	a->mod = m == A_BASE_D8 || m == A_SIB_D8 ? 1 :
		 m == A_BASE_D32 || m == A_SIB_D32 ? 2 : 0;
	/* [rBP]/[r13] and SIB base rBP/r13 need a displacement (mod 0 means
	   no base there) */
	if (a->base >= 0 && (a->base & 7) == EMU_RBP && a->mod == 0)
		a->mod = 1;
	a->disp_bytes = a->mod == 1 ? 1 : a->mod == 2 || a->base < 0 ? 4 : 0;
	if (a->disp_bytes == 1)
		a->disp = between(-128, 127);
	else if (a->disp_bytes == 4)
		a->disp = between(-DISP32_RANGE, DISP32_RANGE);
}

/*
 * The ModRM, SIB and displacement for operand reg_field at target, and
 * the base and index registers' values that reach it (with 32-bit
 * addressing, garbage above bit 31, which the CPU ignores). A
 * RIP-relative displacement is patched once the length is known.
 */
static void emit_modrm(struct tcase *t, const struct addressing *a,
		       unsigned reg_field, u64 target, bool a32)
{
	u64 low32 = 0xffffffffULL, idx = 0, base;
	bool sib = a->index >= 0 || (a->base >= 0 && (a->base & 7) == EMU_RSP) ||
		   (a->base < 0 && !a->rip);

	emit(t, (u8)(a->mod << 6 | (reg_field & 7) << 3 |
		     (sib ? 4 : a->base >= 0 ? a->base & 7 : 5)));
	if (sib)
		emit(t, (u8)(a->scale << 6 |
			     (a->index >= 0 ? a->index & 7 : 4) << 3 |
			     (a->base >= 0 ? a->base & 7 : 5)));
	if (a->index >= 0) {
		idx = (u64)between(-INDEX_RANGE, INDEX_RANGE);
		set_gpr(t, (unsigned)a->index,
			a32 ? (idx & low32) | garbage_high(true) : idx);
	}
	if (a->base >= 0) {
		base = target - (u64)a->disp - (idx << a->scale);
		set_gpr(t, (unsigned)a->base,
			a32 ? (base & low32) | garbage_high(true) : base);
		emit_le(t, (u64)a->disp, a->disp_bytes);
	} else if (a->rip) {
		t->rip_disp_at = t->n;
		emit_le(t, 0, 4);
	} else {
		emit_le(t, target - (idx << a->scale), 4);   /* [index*s + disp32] */
	}
}

/* REX.W, R, X, B as the operand size and registers need them. */
static u8 rex_bits(const struct addressing *a, unsigned reg_field,
		   unsigned size)
{
	u8 rex = 0;

	if (size == 8)
		rex |= 8;
	if (reg_field & 8)
		rex |= 4;
	if (a->index >= 8)
		rex |= 2;
	if (a->base >= 8)
		rex |= 1;
	return rex;
}

#define REX_BASE 0x40

/* Legacy prefixes (any order is allowed; these come in this one), REX. */
static void emit_prefixes(struct tcase *t, bool lock, bool a32, u8 rep,
			  bool rex, u8 rex_wrxb)
{
	static const u8 segs[4] = { 0x26, 0x2e, 0x36, 0x3e };  /* no base here */

	if (below(8) == 0)
		emit(t, segs[below(4)]);
	if (lock)
		emit(t, 0xf0);
	if (rep)
		emit(t, rep);
	if (t->size == 2)
		emit(t, 0x66);
	if (a32)
		emit(t, 0x67);
	if (rex)
		emit(t, (u8)(REX_BASE | rex_wrxb));
}

static void emit_opcode(struct tcase *t)
{
	const struct form *f = t->f;

	if (f->esc)
		emit(t, 0x0f);
	emit(t, (u8)(t->size == 1 ? f->op8 : f->opv));
}

/* Stores `size` bytes of v at the data offset of linear address lin. */
static void put_data(struct tcase *t, u64 lin, u64 v, unsigned size)
{
	u64 off = lin - (u64)(uintptr_t)DATA;

	REQUIRE(off + size <= DATA_LEN, "operand outside the data");
	for (unsigned k = 0; k < size; k++)
		t->data[off + k] = (u8)(v >> (8 * k));
}

/* Writes the register operand as the instruction reads it. */
static void set_reg_operand(struct tcase *t, unsigned reg, bool high, u64 v,
			    unsigned size)
{
	u64 *g = high ? &t->in.gpr[reg - 4] : &t->in.gpr[reg];

	if (high)
		*g = (*g & ~0xff00ULL) | (v & 0xff) << 8;
	else
		*g = (*g & ~mask_of(size)) | (v & mask_of(size));
}

/* The inputs of case number i: edge pairs (memory, source, CF) first. */
static void pick_values(unsigned i, unsigned size, unsigned src_size,
			u64 *mem, u64 *src, u64 *cf)
{
	if (i < NR_EDGES * NR_EDGES * 2) {
		*mem = edge(i % NR_EDGES, size);
		*src = edge(i / NR_EDGES % NR_EDGES, src_size);
		*cf = i / (NR_EDGES * NR_EDGES);
		return;
	}
	*mem = value(size);
	*src = value(src_size);
	*cf = below(2);
}

/* A K_REG or K_DIGIT case: ModRM memory operand, register or imm. */
static void build_modrm_case(struct tcase *t, unsigned i)
{
	const struct form *f = t->f;
	unsigned size = t->size, mem_size = f->mem_size ? f->mem_size : size;
	unsigned imm_bytes = f->imm == IMM8 ? 1 : f->imm ? MIN(size, 4u) : 0;
	bool a32 = below(4) == 0, lock = (f->flags & F_LOCK) && below(4) == 0;
	u64 target = (u64)(uintptr_t)DATA + (u64)between(TARGET_LO, TARGET_HI);
	u64 mem, src, cf;
	unsigned reg = f->kind == K_DIGIT ? f->digit : 0;
	struct addressing a;
	bool rex, high = false;
	u8 wrxb;

	choose_addressing(&a, 0);
	wrxb = rex_bits(&a, 0, size);
	rex = wrxb || below(4) == 0;
	if (f->kind == K_REG) {
		u64 avoid = f->flags & F_BTREG ? (a.base >= 0 ? 1ULL << a.base : 0) |
			    (a.index >= 0 ? 1ULL << a.index : 0) : 0;
		bool byte_reg = size == 1 && !f->mem_size;

		do
			reg = (unsigned)below(rex ? NR_GPR : 8);
		while ((avoid & (1ULL << reg)) ||
		       (reg == EMU_RSP && !(byte_reg && !rex)));
		high = byte_reg && !rex && reg >= 4;
		wrxb = rex_bits(&a, reg, size);
	}
	pick_values(i, mem_size, imm_bytes ? imm_bytes : size, &mem, &src, &cf);
	t->in.rflags = (t->in.rflags & ~EMU_FLAG_CF) | (cf ? EMU_FLAG_CF : 0);
	if ((f->flags & F_BTREG) && size < 8)
		src = ((u64)between(-BT_OFF_RANGE, BT_OFF_RANGE) & mask_of(size)) |
		      rnd() << (8 * size);
	else if (f->flags & F_BTREG)
		src = (u64)between(-BT_OFF_RANGE, BT_OFF_RANGE);
	if (f->kind == K_REG)
		set_reg_operand(t, reg, high, src, f->flags & F_BTREG ? 8 : size);
	put_data(t, target, mem, mem_size);
	emit_prefixes(t, lock, a32, 0, rex, wrxb);
	emit_opcode(t);
	emit_modrm(t, &a, reg, target, a32);
	emit_le(t, src, imm_bytes);
	t->target = target;
}

/* A0-A3: MOV between rAX and an absolute moffs (8 bytes, 4 with 67). */
static void build_moffs_case(struct tcase *t, unsigned i)
{
	bool a32 = below(4) == 0;
	u64 target = (u64)(uintptr_t)DATA + (u64)between(TARGET_LO, TARGET_HI);
	u64 mem, src, cf;

	pick_values(i, t->size, t->size, &mem, &src, &cf);
	set_reg_operand(t, EMU_RAX, false, src, t->size);
	put_data(t, target, mem, t->size);
	emit_prefixes(t, false, a32, 0, t->size == 8 || below(4) == 0,
		      t->size == 8 ? 8 : 0);
	emit_opcode(t);
	emit_le(t, target, a32 ? 4 : 8);
}

/* A string instruction: rSI and rDI in the data, rCX a small count. */
static void build_string_case(struct tcase *t)
{
	const struct form *f = t->f;
	bool a32 = below(4) == 0, few = below(2) == 0;
	u8 reps[3] = { 0, 0xf3, 0xf2 };
	u8 rep = reps[below(f->flags & F_REPNE ? 3 : 2)];
	u64 count = below(4) == 0 ? below(2) : below(MAX_COUNT + 1);

	/* few: bytes of only 0 and ff, so CMPS and SCAS see equal runs */
	for (unsigned k = 0; k < DATA_LEN; k++)
		t->data[k] = few ? (u8)(below(4) ? 0 : 0xff) : (u8)rnd();
	set_gpr(t, EMU_RSI, (u64)(uintptr_t)DATA +
		(u64)between(TARGET_LO, TARGET_HI) + garbage_high(a32));
	set_gpr(t, EMU_RDI, (u64)(uintptr_t)DATA +
		(u64)between(TARGET_LO, TARGET_HI) + garbage_high(a32));
	if (rep)
		set_gpr(t, EMU_RCX, count + garbage_high(a32));
	if (few)
		t->in.gpr[EMU_RAX] = below(4) ? 0 : ~0ULL;
	else if (below(3) == 0)
		t->in.gpr[EMU_RAX] = edge((unsigned)below(NR_EDGES), 8);
	emit_prefixes(t, false, a32, rep, t->size == 8 || below(4) == 0,
		      t->size == 8 ? 8 : 0);
	emit_opcode(t);
	t->rep = rep != 0;
}

/* Case i of form f at operand size `size`. */
static void build_case(struct tcase *t, const struct form *f, unsigned size,
		       unsigned i)
{
	memset(t, 0, sizeof(*t));
	t->f = f;
	t->size = size;
	for (unsigned r = 0; r < NR_GPR; r++)
		t->in.gpr[r] = below(4) == 0 ? edge((unsigned)below(NR_EDGES), 8)
					     : rnd();
	t->in.gpr[EMU_RSP] = 0;
	t->in.rflags = (rnd() & (EMU_FLAGS_ARITH | EMU_FLAG_DF)) | BIT(1);
	for (unsigned k = 0; k < DATA_LEN; k += sizeof(u64)) {
		u64 r = rnd();

		memcpy(t->data + k, &r, sizeof(r));
	}
	if (f->kind == K_STRING)
		build_string_case(t);
	else if (f->kind == K_MOFFS)
		build_moffs_case(t, i);
	else
		build_modrm_case(t, i);
	if (t->rip_disp_at) {
		u64 next = (u64)(uintptr_t)CODE + t->n;
		u64 disp = t->target - next;

		for (unsigned k = 0; k < 4; k++)
			t->b[t->rip_disp_at + k] = (u8)(disp >> (8 * k));
	}
}

/* ---- the emulator's side: registers and memory in arrays ---- */

struct fake {
	u64 gpr[NR_GPR], rflags, rip;
	u8 mem[DATA_LEN];
	u64 base;             /* linear address of mem[0] */
};

static u64 fake_get_reg(void *o, unsigned r)
{
	struct fake *f = o;

	REQUIRE(r <= EMU_REG_RIP, "register %u read", r);
	return r == EMU_REG_RFLAGS ? f->rflags : r == EMU_REG_RIP ? f->rip
								  : f->gpr[r];
}

static void fake_set_reg(void *o, unsigned r, u64 v)
{
	struct fake *f = o;

	REQUIRE(r < EMU_REG_RIP, "register %u written", r);   /* not RIP */
	if (r == EMU_REG_RFLAGS)
		f->rflags = v;
	else
		f->gpr[r] = v;
}

static u64 fake_seg_base(void *o, enum emu_seg s)
{
	(void)o;
	(void)s;
	return 0;
}

static bool fake_read(void *o, u64 lin, unsigned size, u64 *v)
{
	struct fake *f = o;
	u64 x = 0;

	if (lin < f->base || lin - f->base > DATA_LEN - size)
		return false;
	for (unsigned k = 0; k < size; k++)
		x |= (u64)f->mem[lin - f->base + k] << (8 * k);
	*v = x;
	return true;
}

static bool fake_write(void *o, u64 lin, unsigned size, u64 v)
{
	struct fake *f = o;

	if (lin < f->base || lin - f->base > DATA_LEN - size)
		return false;
	for (unsigned k = 0; k < size; k++)
		f->mem[lin - f->base + k] = (u8)(v >> (8 * k));
	return true;
}

static const struct emu_ops fake_ops = {
	.get_reg = fake_get_reg, .set_reg = fake_set_reg,
	.seg_base = fake_seg_base, .read = fake_read, .write = fake_write,
};

/* ---- running and comparing ---- */

static void map_pages(void)
{
	if (map)
		return;
	map = mmap(NULL, MAP_LEN, PROT_READ | PROT_WRITE | PROT_EXEC,
		   MAP_PRIVATE | MAP_ANONYMOUS | MAP_32BIT, -1, 0);
	ck_assert_msg(map != MAP_FAILED, "mmap of an executable page below 2 GiB");
}

static void native(const struct tcase *t, struct cpu_state *out)
{
	*out = t->in;
	memcpy(DATA, t->data, DATA_LEN);
	memcpy(CODE, t->b, t->n);
	CODE[t->n] = OPCODE_RET;
	emu_diff_code = CODE;
	diff_native_run(out);
}

static void fake_init(const struct tcase *t, struct fake *f)
{
	memcpy(f->gpr, t->in.gpr, sizeof(f->gpr));
	f->rflags = t->in.rflags;
	f->rip = (u64)(uintptr_t)CODE;
	memcpy(f->mem, t->data, DATA_LEN);
	f->base = (u64)(uintptr_t)DATA;
}

/* Appends printf-style text to a fixed buffer. */
static void say(char *buf, size_t len, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static void say(char *buf, size_t len, const char *fmt, ...)
{
	size_t used = strlen(buf);
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(buf + used, len - used, fmt, ap);
	va_end(ap);
}

/* What differs between the CPU's outcome and the emulator's, or "". */
static void differences(const struct tcase *t, const struct cpu_state *cpu,
			const struct fake *emu, char *buf, size_t len)
{
	u64 flags = (EMU_FLAGS_ARITH | EMU_FLAG_DF) & ~t->f->undef;

	buf[0] = 0;
	for (unsigned r = 0; r < NR_GPR; r++)
		if (r != EMU_RSP && cpu->gpr[r] != emu->gpr[r])
			say(buf, len, " gpr%u in %#llx cpu %#llx emu %#llx", r,
			    (unsigned long long)t->in.gpr[r],
			    (unsigned long long)cpu->gpr[r],
			    (unsigned long long)emu->gpr[r]);
	if ((cpu->rflags ^ emu->rflags) & flags)
		say(buf, len, " flags in %#llx cpu %#llx emu %#llx (compared %#llx)",
		    (unsigned long long)t->in.rflags,
		    (unsigned long long)cpu->rflags,
		    (unsigned long long)emu->rflags, (unsigned long long)flags);
	for (unsigned k = 0; k < DATA_LEN; k++)
		if (DATA[k] != emu->mem[k]) {
			say(buf, len, " data+%u in %02x cpu %02x emu %02x", k,
			    t->data[k], DATA[k], emu->mem[k]);
			break;
		}
}

static void check_same(const struct tcase *t, const struct cpu_state *cpu,
		       const struct fake *emu, const char *how)
{
	char diff[1024], bytes[64] = "";

	differences(t, cpu, emu, diff, sizeof(diff));
	if (!diff[0])
		return;
	for (unsigned k = 0; k < t->n; k++)
		say(bytes, sizeof(bytes), "%02x ", t->b[k]);
	ck_abort_msg("%s, %u-byte operand (%s), insn %s:%s", t->f->name,
		     t->size, how, bytes, diff);
}

/* Emulates t with at most rep_max elements per call until it is done. */
static void emulate(const struct tcase *t, struct fake *f, unsigned rep_max)
{
	struct emu_ctx c = { .ops = &fake_ops, .opaque = f, .rep_max = rep_max };
	struct emu_insn in;
	int r, calls = 0;

	fake_init(t, f);
	REQUIRE(emu_decode(t->b, t->n, EMU_MODE_64, &in) == 0 && in.len == t->n,
		"%s: %02x %02x %02x %02x not decoded, or not all %u bytes",
		t->f->name, t->b[0], t->b[1], t->b[2], t->b[3], t->n);
	while ((r = emu_execute(&in, &c)) == EMU_AGAIN)
		REQUIRE(++calls <= MAX_COUNT, "%s: never done", t->f->name);
	REQUIRE(r == EMU_DONE, "%s: fault at %#llx", t->f->name,
		(unsigned long long)c.fault_linear);
}

static struct fake emu_out;

/* Every operand size of form `_i`: ITERS cases each, CPU vs emulator;
   REP string instructions also one element per call (as uhv may run
   them, re-executed until done). */
START_TEST(diff_form)
{
	static struct tcase t;
	struct cpu_state cpu;

	build_forms();
	map_pages();
	ck_assert_int_lt(_i, nr_forms);
	rng_state = 0x9e3779b97f4a7c15ULL + (u64)_i;
	for (unsigned size = 1; size <= 8; size <<= 1) {
		if (!(forms[_i].sizes & size))
			continue;
		for (unsigned i = 0; i < ITERS; i++) {
			build_case(&t, &forms[_i], size, i);
			native(&t, &cpu);
			emulate(&t, &emu_out, MAX_COUNT + 1);
			check_same(&t, &cpu, &emu_out, "whole");
			if (!t.rep)
				continue;
			emulate(&t, &emu_out, 1);
			check_same(&t, &cpu, &emu_out, "one element per call");
		}
	}
}
END_TEST

/* ---- what the host cannot show: 16- and 32-bit modes, segments,
   faults, REP batches; expected values worked out from the SDM ---- */

#define SEG_BASE_TEST 0x10000ULL     /* real-mode segment 0x1000 */

/* A fake with segment bases, RAM at [base, base + DATA_LEN), and
   nothing elsewhere: reads of it return all ones, writes vanish, as
   uhv's bus does; fail_at makes one address fault instead. */
struct mode_fake {
	struct fake f;
	u64 seg[EMU_SEG_GS + 1];
	u64 fail_at;
	unsigned unclaimed_reads, unclaimed_writes;
};

static u64 mf_seg_base(void *o, enum emu_seg s)
{
	return ((struct mode_fake *)o)->seg[s];
}

static bool mf_read(void *o, u64 lin, unsigned size, u64 *v)
{
	struct mode_fake *m = o;

	if (lin == m->fail_at)
		return false;
	if (fake_read(&m->f, lin, size, v))
		return true;
	m->unclaimed_reads++;
	*v = mask_of(size);
	return true;
}

static bool mf_write(void *o, u64 lin, unsigned size, u64 v)
{
	struct mode_fake *m = o;

	if (lin == m->fail_at)
		return false;
	if (!fake_write(&m->f, lin, size, v))
		m->unclaimed_writes++;
	return true;
}

/* fake_get_reg/fake_set_reg work on the struct fake at its start */
static const struct emu_ops mode_ops = {
	.get_reg = fake_get_reg, .set_reg = fake_set_reg,
	.seg_base = mf_seg_base, .read = mf_read, .write = mf_write,
};

static struct mode_fake mf;

static void mf_reset(u64 ram_base)
{
	memset(&mf, 0, sizeof(mf));
	mf.f.base = ram_base;
	mf.f.rflags = BIT(1);
	mf.fail_at = ~0ULL;
}

/* Decodes and runs bytes once in `mode`, at most rep_max elements. */
static int mf_run(enum emu_mode mode, const u8 *b, unsigned n, unsigned rep_max)
{
	struct emu_ctx c = { .ops = &mode_ops, .opaque = &mf, .rep_max = rep_max };
	struct emu_insn in;

	ck_assert_int_eq(emu_decode(b, n, mode, &in), 0);
	ck_assert_uint_eq(in.len, n);
	return emu_execute(&in, &c);
}

#define RUN(mode, rep_max, ...) \
	mf_run(mode, (const u8[]){ __VA_ARGS__ }, sizeof((u8[]){ __VA_ARGS__ }), rep_max)

static u64 mf_u32(u64 lin)
{
	u64 v;

	ck_assert(fake_read(&mf.f, lin, 4, &v));
	return v;
}

/* The guest's probe: cmp dword [edi], imm32 where nothing is reads all
   ones; ZF set for 0xffffffff, and CF, SF, AF, PF as for ~0 - imm. */
START_TEST(exec_probe_absent)
{
	mf_reset(0x1000);
	mf.f.gpr[EMU_RDI] = 0x1000000;
	ck_assert_int_eq(RUN(EMU_MODE_32, 0, 0x81, 0x3f, 0xff, 0xff, 0xff, 0xff),
			 EMU_DONE);
	ck_assert_uint_eq(mf.f.rflags & EMU_FLAGS_ARITH, EMU_FLAG_ZF | EMU_FLAG_PF);
	ck_assert_int_eq(RUN(EMU_MODE_32, 0, 0x81, 0x3f, 0x00, 0x00, 0x00, 0x80),
			 EMU_DONE);
	/* 0xffffffff - 0x80000000 = 0x7fffffff: no borrow, no overflow */
	ck_assert_uint_eq(mf.f.rflags & EMU_FLAGS_ARITH, EMU_FLAG_PF);
	/* add dword [edi], 1: ~0 + 1 = 0, CF ZF AF PF; the write vanishes */
	ck_assert_int_eq(RUN(EMU_MODE_32, 0, 0x83, 0x07, 0x01), EMU_DONE);
	ck_assert_uint_eq(mf.f.rflags & EMU_FLAGS_ARITH, EMU_FLAG_CF | EMU_FLAG_ZF |
			  EMU_FLAG_AF | EMU_FLAG_PF);
	ck_assert_uint_eq(mf.unclaimed_writes, 1);
	ck_assert_uint_eq(mf.unclaimed_reads, 3);
}
END_TEST

/* 16-bit addressing wraps at 64 KiB before the segment base is added
   (SDM Vol. 1 §3.7.5); [bp+...] is in SS. */
START_TEST(exec_real_mode_segments)
{
	mf_reset(SEG_BASE_TEST);
	mf.seg[EMU_SEG_SS] = SEG_BASE_TEST;
	mf.seg[EMU_SEG_DS] = SEG_BASE_TEST + 0x100;
	mf.f.gpr[EMU_RAX] = 0x1234;
	mf.f.gpr[EMU_RBP] = 0xfffe;
	mf.f.gpr[EMU_RSI] = 4;
	/* mov [bp+si+4], ax: (0xfffe + 4 + 4) & 0xffff = 6, in SS */
	ck_assert_int_eq(RUN(EMU_MODE_16, 0, 0x89, 0x42, 0x04), EMU_DONE);
	ck_assert_uint_eq(mf_u32(SEG_BASE_TEST + 6) & 0xffff, 0x1234);
	/* mov [si], ax: DS */
	ck_assert_int_eq(RUN(EMU_MODE_16, 0, 0x89, 0x04), EMU_DONE);
	ck_assert_uint_eq(mf_u32(SEG_BASE_TEST + 0x104) & 0xffff, 0x1234);
	/* 32-bit mode: linear addresses wrap at 4 GiB */
	mf.seg[EMU_SEG_DS] = 0xfffff000;
	mf.f.gpr[EMU_RBX] = SEG_BASE_TEST + 0x1000 + 8;
	ck_assert_int_eq(RUN(EMU_MODE_32, 0, 0x89, 0x03), EMU_DONE);
	ck_assert_uint_eq(mf_u32(SEG_BASE_TEST + 8) & 0xffff, 0x1234);
}
END_TEST

/* In 64-bit mode only FS and GS have bases (SDM Vol. 3A §3.4.4). */
START_TEST(exec_fs_gs_base)
{
	mf_reset(SEG_BASE_TEST);
	mf.seg[EMU_SEG_DS] = 0x5000;           /* ignored */
	mf.seg[EMU_SEG_FS] = SEG_BASE_TEST;
	mf.seg[EMU_SEG_GS] = SEG_BASE_TEST + 0x100;
	mf.f.gpr[EMU_RAX] = 0x1122334455667788ULL;
	/* mov fs:[0x28], rax; mov gs:[0x28], rax; mov [0x10028], eax */
	ck_assert_int_eq(RUN(EMU_MODE_64, 0, 0x64, 0x48, 0x89, 0x04, 0x25,
			     0x28, 0, 0, 0), EMU_DONE);
	ck_assert_int_eq(RUN(EMU_MODE_64, 0, 0x65, 0x48, 0x89, 0x04, 0x25,
			     0x28, 0, 0, 0), EMU_DONE);
	ck_assert_uint_eq(mf_u32(SEG_BASE_TEST + 0x28), 0x55667788);
	ck_assert_uint_eq(mf_u32(SEG_BASE_TEST + 0x128), 0x55667788);
	mf.f.gpr[EMU_RAX] = 0xabcd;
	ck_assert_int_eq(RUN(EMU_MODE_64, 0, 0x89, 0x04, 0x25, 0x28, 0, 1, 0),
			 EMU_DONE);
	ck_assert_uint_eq(mf_u32(SEG_BASE_TEST + 0x28), 0xabcd);
}
END_TEST

/* rep stosw with 16-bit addressing: DI wraps within ES, CX counts, and
   the registers' upper bits stay (SDM Vol. 2, STOS, REP). */
START_TEST(exec_rep_16bit_wrap)
{
	mf_reset(SEG_BASE_TEST);
	mf.seg[EMU_SEG_ES] = SEG_BASE_TEST;
	mf.f.gpr[EMU_RAX] = 0xbeef;
	mf.f.gpr[EMU_RDI] = 0xabcd0000fffeULL;
	mf.f.gpr[EMU_RCX] = 0x77770002ULL;
	ck_assert_int_eq(RUN(EMU_MODE_16, 100, 0xf3, 0xab), EMU_DONE);
	ck_assert_uint_eq(mf.f.gpr[EMU_RCX], 0x77770000ULL);
	ck_assert_uint_eq(mf.f.gpr[EMU_RDI], 0xabcd00000002ULL);
	ck_assert_uint_eq(mf_u32(SEG_BASE_TEST) & 0xffff, 0xbeef);
	ck_assert_uint_eq(mf.unclaimed_writes, 1);   /* 0x1fffe is past the RAM */
}
END_TEST

/* rep_max bounds a call; each call commits its elements, so the guest
   can re-execute (EMU_AGAIN). A fault at the first element is
   EMU_FAULT with nothing changed; at a later one, EMU_AGAIN. */
START_TEST(exec_rep_batches_and_faults)
{
	u64 rflags;

	mf_reset(SEG_BASE_TEST);
	mf.f.gpr[EMU_RSI] = SEG_BASE_TEST;
	mf.f.gpr[EMU_RDI] = SEG_BASE_TEST + 0x100;
	mf.f.gpr[EMU_RCX] = 10;
	ck_assert_int_eq(RUN(EMU_MODE_32, 4, 0xf3, 0xa4), EMU_AGAIN);
	ck_assert_uint_eq(mf.f.gpr[EMU_RCX], 6);
	ck_assert_int_eq(RUN(EMU_MODE_32, 4, 0xf3, 0xa4), EMU_AGAIN);
	ck_assert_int_eq(RUN(EMU_MODE_32, 4, 0xf3, 0xa4), EMU_DONE);
	ck_assert_uint_eq(mf.f.gpr[EMU_RCX], 0);
	ck_assert_uint_eq(mf.f.gpr[EMU_RSI], SEG_BASE_TEST + 10);
	/* a fault at the first element: nothing changes */
	mf.f.gpr[EMU_RCX] = 5;
	mf.fail_at = SEG_BASE_TEST + 0x10a;
	rflags = mf.f.rflags;
	{
		struct emu_ctx c = { .ops = &mode_ops, .opaque = &mf, .rep_max = 9 };
		struct emu_insn in;

		ck_assert_int_eq(emu_decode((const u8[]){ 0xf3, 0xa4 }, 2,
					    EMU_MODE_32, &in), 0);
		ck_assert_int_eq(emu_execute(&in, &c), EMU_FAULT);
		ck_assert_uint_eq(c.fault_linear, SEG_BASE_TEST + 0x10a);
	}
	ck_assert_uint_eq(mf.f.gpr[EMU_RCX], 5);
	ck_assert_uint_eq(mf.f.gpr[EMU_RSI], SEG_BASE_TEST + 10);
	ck_assert_uint_eq(mf.f.rflags, rflags);
	/* ... and at the third: two done, then EMU_AGAIN */
	mf.fail_at = SEG_BASE_TEST + 0x10c;
	ck_assert_int_eq(RUN(EMU_MODE_32, 9, 0xf3, 0xa4), EMU_AGAIN);
	ck_assert_uint_eq(mf.f.gpr[EMU_RCX], 3);
	/* a single ALU access that faults changes nothing either */
	mf.f.gpr[EMU_RBX] = SEG_BASE_TEST + 0x10c;
	mf.f.gpr[EMU_RAX] = 7;
	ck_assert_int_eq(RUN(EMU_MODE_32, 0, 0x01, 0x03), EMU_FAULT);
	ck_assert_uint_eq(mf.f.rflags, rflags);
}
END_TEST

/* bt [edi], eax with eax = -1: the dword below, bit 31 (SDM Vol. 2, BT:
   a register offset is signed); and ah, a high byte, as the ALU's
   destination leaves the rest of RAX. */
START_TEST(exec_bt_negative_and_high_byte)
{
	mf_reset(SEG_BASE_TEST);
	ck_assert(fake_write(&mf.f, SEG_BASE_TEST + 0x100, 4, 0x80000000));
	mf.f.gpr[EMU_RDI] = SEG_BASE_TEST + 0x104;
	mf.f.gpr[EMU_RAX] = 0xffffffff;
	ck_assert_int_eq(RUN(EMU_MODE_32, 0, 0x0f, 0xa3, 0x07), EMU_DONE);
	ck_assert(mf.f.rflags & EMU_FLAG_CF);
	/* btr: clears it, CF still the old bit */
	ck_assert_int_eq(RUN(EMU_MODE_32, 0, 0x0f, 0xb3, 0x07), EMU_DONE);
	ck_assert(mf.f.rflags & EMU_FLAG_CF);
	ck_assert_uint_eq(mf_u32(SEG_BASE_TEST + 0x100), 0);
	/* add ah, [edi]: 0x12 + 0xff */
	ck_assert(fake_write(&mf.f, SEG_BASE_TEST + 0x104, 1, 0xff));
	mf.f.gpr[EMU_RAX] = 0x1111111111111234ULL;
	ck_assert_int_eq(RUN(EMU_MODE_32, 0, 0x02, 0x27), EMU_DONE);
	ck_assert_uint_eq(mf.f.gpr[EMU_RAX], 0x1111111111111134ULL);
	ck_assert(mf.f.rflags & EMU_FLAG_CF);
}
END_TEST

/* The table covers every form emulate.h lists. */
START_TEST(diff_forms_listed)
{
	build_forms();
	ck_assert_int_eq(nr_forms, 62);
}
END_TEST

Suite *emulate_diff_suite(void)
{
	Suite *s = suite_create("emulate_diff");
	TCase *tc = tcase_create("emulate_diff");

	build_forms();
	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, diff_forms_listed);
	tcase_add_loop_test(tc, diff_form, 0, nr_forms);
	tcase_add_test(tc, exec_probe_absent);
	tcase_add_test(tc, exec_real_mode_segments);
	tcase_add_test(tc, exec_fs_gs_base);
	tcase_add_test(tc, exec_rep_16bit_wrap);
	tcase_add_test(tc, exec_rep_batches_and_faults);
	tcase_add_test(tc, exec_bt_negative_and_high_byte);
	suite_add_tcase(s, tc);
	return s;
}
