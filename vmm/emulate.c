/*
 * The instruction decoder (see emulate.h for the forms) and the guest
 * page walker.
 *
 * An instruction (SDM Vol. 2 ch. 2): legacy prefixes, REX (64-bit mode,
 * last before the opcode), one or two opcode bytes (0F escape), then a
 * ModRM byte and its addressing bytes, then an immediate:
 *
 *    7  6 5   3 2  0            7   6 5   3 2   0
 *   +----+-----+----+          +-----+-----+-----+
 *   |mod | reg | rm |  [SIB:   |scale|index|base |]  [disp8/16/32]
 *   +----+-----+----+          +-----+-----+-----+
 *
 * Only memory operands are decoded (mod 3, a register, never reaches
 * uhv through an EPT violation), and only the forms emulate.h lists.
 */
#include "vmm/emulate.h"
#include "lib/bytes.h"

#define PREFIX_ES       0x26
#define PREFIX_CS       0x2e
#define PREFIX_SS       0x36
#define PREFIX_DS       0x3e
#define PREFIX_FS       0x64
#define PREFIX_GS       0x65
#define PREFIX_OPSIZE   0x66
#define PREFIX_ADDRSIZE 0x67
#define PREFIX_LOCK     0xf0
#define PREFIX_REPNE    0xf2
#define PREFIX_REP      0xf3
#define OPCODE_ESCAPE   0x0f
#define REX_MIN 0x40
#define REX_MAX 0x4f
#define REX_W 0x8
#define REX_R 0x4
#define REX_X 0x2
#define REX_B 0x1
#define REG_EXT 8                /* what REX.R/X/B add to a 3-bit field */
#define MODRM_MOD(b) ((b) >> 6)
#define MODRM_REG(b) (((b) >> 3) & 7)
#define MODRM_RM(b) ((b) & 7)
#define MOD_MEM_NODISP 0
#define MOD_MEM_DISP8  1
#define MOD_MEM_DISPW  2         /* disp16 or disp32 */
#define MOD_REG        3
#define RM_SIB 4
#define RM_DISP32 5              /* with mod 0: disp32, or RIP + disp32 */
#define RM16_DISP16 6            /* with mod 0 in 16-bit addressing */
#define SIB_SCALE(b) ((b) >> 6)
#define SIB_INDEX(b) (((b) >> 3) & 7)
#define SIB_BASE(b) ((b) & 7)
#define SIB_NO_INDEX 4
#define BYTE_REGS_HIGH 4         /* without REX, byte registers 4-7 are AH-BH */

/* The decoder's position and what the prefixes said. */
struct dec {
	const u8 *b;
	unsigned n, i;           /* bytes available (at most 15), next */
	enum emu_mode mode;
	unsigned opsize;         /* 2, 4 or 8 */
	bool addr_prefix, opsize_prefix, lock;
	u8 rex, rep;             /* REX byte; last F2/F3, or 0 */
	int seg;                 /* override (enum emu_seg), or -1 */
	u8 digit;                /* ModRM reg field of a group opcode */
};

static bool next_byte(struct dec *d, u8 *v)
{
	if (d->i >= d->n)
		return false;
	*v = d->b[d->i++];
	return true;
}

/* The next `bytes` bytes, little-endian, sign-extended to 64 bits. */
static bool next_signed(struct dec *d, unsigned bytes, u64 *v)
{
	unsigned shift = 64 - 8 * bytes;

	if (d->n - d->i < bytes)
		return false;
	*v = (u64)((s64)(le_get(d->b + d->i, bytes) << shift) >> shift);
	d->i += bytes;
	return true;
}

/* A segment-override prefix's segment, or -1 (SDM Vol. 2 §2.1.1). */
static int prefix_seg(u8 b)
{
	switch (b) {
	case PREFIX_ES: return EMU_SEG_ES;
	case PREFIX_CS: return EMU_SEG_CS;
	case PREFIX_SS: return EMU_SEG_SS;
	case PREFIX_DS: return EMU_SEG_DS;
	case PREFIX_FS: return EMU_SEG_FS;
	case PREFIX_GS: return EMU_SEG_GS;
	default: return -1;
	}
}

/*
 * Legacy prefixes in any order, then REX in 64-bit mode (SDM Vol. 2
 * §2.1.1, §2.2.1: a REX that is not last before the opcode is not
 * accepted). Sets the operand size (Vol. 1 §3.6, Vol. 2 Table 2-4).
 */
static void parse_prefixes(struct dec *d)
{
	for (; d->i < d->n; d->i++) {
		u8 b = d->b[d->i];

		if (prefix_seg(b) >= 0)
			d->seg = prefix_seg(b);
		else if (b == PREFIX_OPSIZE)
			d->opsize_prefix = true;
		else if (b == PREFIX_ADDRSIZE)
			d->addr_prefix = true;
		else if (b == PREFIX_LOCK)
			d->lock = true;
		else if (b == PREFIX_REP || b == PREFIX_REPNE)
			d->rep = b;
		else
			break;
	}
	if (d->mode == EMU_MODE_64 && d->i < d->n && d->b[d->i] >= REX_MIN &&
	    d->b[d->i] <= REX_MAX)
		d->rex = d->b[d->i++];
	if (d->rex & REX_W)
		d->opsize = 8;
	else if (d->mode == EMU_MODE_16)
		d->opsize = d->opsize_prefix ? 4 : 2;
	else
		d->opsize = d->opsize_prefix ? 2 : 4;
}

/* The address size (SDM Vol. 1 §3.6, Vol. 2 Table 2-4 and §2.2.1.2). */
static u8 addr_size(const struct dec *d)
{
	if (d->mode == EMU_MODE_64)
		return d->addr_prefix ? 4 : 8;
	if (d->mode == EMU_MODE_32)
		return d->addr_prefix ? 2 : 4;
	return d->addr_prefix ? 4 : 2;
}

/* A displacement of 0, 1 or `wide` bytes, as mod says. */
static bool take_disp(struct dec *d, struct emu_insn *o, u8 mod,
		      unsigned wide)
{
	if (mod == MOD_MEM_DISP8)
		return next_signed(d, 1, &o->disp);
	if (mod == MOD_MEM_DISPW)
		return next_signed(d, wide, &o->disp);
	return true;
}

/* 16-bit addressing (SDM Vol. 2 Table 2-1): [BX+SI] ... [BX]. */
static bool decode_mem16(struct dec *d, struct emu_insn *o, u8 mod, u8 rm)
{
	static const u8 base[8] = { EMU_RBX, EMU_RBX, EMU_RBP, EMU_RBP,
				    EMU_RSI, EMU_RDI, EMU_RBP, EMU_RBX };
	static const u8 index[8] = { EMU_RSI, EMU_RDI, EMU_RSI, EMU_RDI,
				     EMU_NO_REG, EMU_NO_REG, EMU_NO_REG,
				     EMU_NO_REG };

	o->index = index[rm];
	if (mod == MOD_MEM_NODISP && rm == RM16_DISP16) {
		o->base = EMU_NO_REG;
		return next_signed(d, 2, &o->disp);
	}
	o->base = base[rm];
	return take_disp(d, o, mod, 2);
}

/* 32- and 64-bit addressing with SIB and RIP-relative forms (SDM Vol. 2
   Tables 2-2 and 2-3, §2.2.1.3 and §2.2.1.6). */
static bool decode_mem32(struct dec *d, struct emu_insn *o, u8 mod, u8 rm)
{
	u8 x = d->rex & REX_X ? REG_EXT : 0, b = d->rex & REX_B ? REG_EXT : 0;
	u8 sib;

	if (rm == RM_SIB) {
		if (!next_byte(d, &sib))
			return false;
		o->scale = SIB_SCALE(sib);
		o->index = (u8)(SIB_INDEX(sib) | x);
		if (o->index == SIB_NO_INDEX)
			o->index = EMU_NO_REG;
		o->base = (u8)(SIB_BASE(sib) | b);
		if (mod == MOD_MEM_NODISP && SIB_BASE(sib) == RM_DISP32) {
			o->base = EMU_NO_REG;
			return next_signed(d, 4, &o->disp);
		}
	} else if (mod == MOD_MEM_NODISP && rm == RM_DISP32) {
		o->rip_rel = d->mode == EMU_MODE_64;
		return next_signed(d, 4, &o->disp);
	} else {
		o->base = (u8)(rm | b);
	}
	return take_disp(d, o, mod, 4);
}

/*
 * The ModRM byte and the memory operand it names: register operand reg
 * (with REX.R) and its width reg_size = size, the group digit, and the
 * segment, SS for a base of rBP or rSP, else DS, unless overridden
 * (SDM Vol. 1 §3.7.4). Fails for a register operand (mod 3).
 */
static bool decode_modrm(struct dec *d, struct emu_insn *o)
{
	u8 m, mod, rm;
	bool ok;

	if (!next_byte(d, &m) || MODRM_MOD(m) == MOD_REG)
		return false;
	mod = MODRM_MOD(m);
	rm = MODRM_RM(m);
	d->digit = MODRM_REG(m);
	o->reg = (u8)(d->digit | (d->rex & REX_R ? REG_EXT : 0));
	o->reg_size = o->size;
	o->addr_size = addr_size(d);
	ok = o->addr_size == 2 ? decode_mem16(d, o, mod, rm)
			       : decode_mem32(d, o, mod, rm);
	o->seg = o->base == EMU_RBP || o->base == EMU_RSP ? EMU_SEG_SS
							   : EMU_SEG_DS;
	if (d->seg >= 0)
		o->seg = (u8)d->seg;
	return ok;
}

/* The immediate of `bytes` bytes (8 for an operand of 8 means 4, SDM
   Vol. 2 §2.2.1.5), sign-extended and masked to the operand size. */
static bool take_imm(struct dec *d, struct emu_insn *o, unsigned bytes)
{
	o->has_imm = true;
	if (!next_signed(d, MIN(bytes, 4), &o->imm))
		return false;
	o->imm &= size_mask(o->size);
	return true;
}

/* 00-3B, r/m op r and r op r/m: bits 5:3 pick the operation (ADD ...
   CMP), bit 1 the direction, bit 0 byte or full size (Vol. 2 A.2). */
static bool decode_alu(struct dec *d, struct emu_insn *o, u8 opc)
{
	o->op = (u8)(EMU_OP_ADD + (opc >> 3));
	o->size = (u8)(opc & 1 ? d->opsize : 1);
	o->to_reg = (opc & 2) != 0;
	o->write = !o->to_reg && o->op != EMU_OP_CMP;
	return decode_modrm(d, o);
}

/* 80-83 /n: ALU r/m, imm (ADD, OR, ADC, SBB, AND, SUB, XOR, CMP). 82
   is 80's alias, invalid in 64-bit mode (Vol. 2 Table A-6). */
static bool decode_group1(struct dec *d, struct emu_insn *o, u8 opc)
{
	if (opc == 0x82 && d->mode == EMU_MODE_64)
		return false;
	o->size = (u8)(opc == 0x81 || opc == 0x83 ? d->opsize : 1);
	if (!decode_modrm(d, o))
		return false;
	o->op = (u8)(EMU_OP_ADD + d->digit);
	o->write = o->op != EMU_OP_CMP;
	o->reg = 0;
	return take_imm(d, o, opc == 0x81 ? o->size : 1);
}

/* F6/F7 /0 TEST imm, /2 NOT, /3 NEG (Vol. 2 Table A-6); the rest of
   group 3 (MUL, IMUL, DIV, IDIV) is not emulated. */
static bool decode_group3(struct dec *d, struct emu_insn *o, u8 opc)
{
	static const u8 ops[8] = { EMU_OP_TEST, 0xff, EMU_OP_NOT, EMU_OP_NEG,
				   0xff, 0xff, 0xff, 0xff };

	o->size = (u8)(opc == 0xf7 ? d->opsize : 1);
	if (!decode_modrm(d, o) || ops[d->digit] == 0xff)
		return false;
	o->op = ops[d->digit];
	o->reg = 0;
	o->write = o->op != EMU_OP_TEST;
	return o->op != EMU_OP_TEST || take_imm(d, o, o->size);
}

/* FE/FF /0 INC, /1 DEC; FF's CALL, JMP and PUSH are not emulated. */
static bool decode_incdec(struct dec *d, struct emu_insn *o, u8 opc)
{
	o->size = (u8)(opc == 0xff ? d->opsize : 1);
	if (!decode_modrm(d, o) || d->digit > 1)
		return false;
	o->op = d->digit ? EMU_OP_DEC : EMU_OP_INC;
	o->reg = 0;
	o->write = true;
	return true;
}

/* 84/85 TEST, 86/87 XCHG, 88-8B MOV, C6/C7 /0 MOV imm. */
static bool decode_mov_test_xchg(struct dec *d, struct emu_insn *o, u8 opc)
{
	o->size = (u8)(opc & 1 ? d->opsize : 1);
	if (opc == 0x84 || opc == 0x85)
		o->op = EMU_OP_TEST;
	else if (opc == 0x86 || opc == 0x87)
		o->op = EMU_OP_XCHG;
	else
		o->op = EMU_OP_MOV;
	o->to_reg = opc == 0x8a || opc == 0x8b || o->op == EMU_OP_XCHG;
	o->write = o->op == EMU_OP_XCHG || opc == 0x88 || opc == 0x89 ||
		   opc == 0xc6 || opc == 0xc7;
	if (!decode_modrm(d, o))
		return false;
	if (opc != 0xc6 && opc != 0xc7)
		return true;
	return d->digit == 0 && take_imm(d, o, o->size);
}

/* A0-A3: MOV between AL/rAX and moffs, an address as wide as the
   address size that follows the opcode; no ModRM (Vol. 2, MOV). */
static bool decode_moffs(struct dec *d, struct emu_insn *o, u8 opc)
{
	unsigned bytes;

	o->op = EMU_OP_MOV;
	o->size = o->reg_size = (u8)(opc & 1 ? d->opsize : 1);
	o->write = opc >= 0xa2;
	o->to_reg = !o->write;
	o->addr_size = addr_size(d);
	o->seg = d->seg >= 0 ? (u8)d->seg : EMU_SEG_DS;
	bytes = o->addr_size;
	if (!next_signed(d, bytes, &o->disp))
		return false;
	o->disp &= size_mask(bytes);
	return true;
}

/*
 * A4-AF but A8/A9: MOVS, CMPS, STOS, LODS, SCAS. The source is seg:rSI
 * (DS unless overridden), the destination ES:rDI (Vol. 2, MOVS).
 */
static bool decode_string(struct dec *d, struct emu_insn *o, u8 opc)
{
	static const u8 ops[6] = { EMU_OP_MOVS, EMU_OP_CMPS, 0xff,
				   EMU_OP_STOS, EMU_OP_LODS, EMU_OP_SCAS };

	o->op = ops[(opc - 0xa4) >> 1];
	if (o->op == 0xff)
		return false;
	o->size = o->reg_size = (u8)(opc & 1 ? d->opsize : 1);
	o->write = o->op == EMU_OP_MOVS || o->op == EMU_OP_STOS;
	o->to_reg = o->op == EMU_OP_LODS;
	o->addr_size = addr_size(d);
	o->seg = d->seg >= 0 ? (u8)d->seg : EMU_SEG_DS;
	o->rep = d->rep == PREFIX_REP ? EMU_REP_E :
		 d->rep == PREFIX_REPNE ? EMU_REP_NE : EMU_REP_NONE;
	return true;
}

/* 0F BA /4-/7: BT, BTS, BTR, BTC r/m, imm8. */
static bool decode_bt_imm(struct dec *d, struct emu_insn *o)
{
	o->size = (u8)d->opsize;
	if (!decode_modrm(d, o) || d->digit < 4)
		return false;
	o->op = (u8)(EMU_OP_BT + d->digit - 4);
	o->write = o->op != EMU_OP_BT;
	o->reg = 0;
	return take_imm(d, o, 1);
}

/*
 * Two-byte opcodes (0F xx): MOVZX (B6/B7), MOVSX (BE/BF), BT/BTS/BTR/
 * BTC r/m, r (A3/AB/B3/BB) and 0F BA. F2 and F3 select other
 * instructions here (POPCNT, TZCNT...), so they are not accepted.
 */
static bool decode_0f(struct dec *d, struct emu_insn *o)
{
	u8 opc;

	if (!next_byte(d, &opc) || d->rep)
		return false;
	switch (opc) {
	case 0xb6: case 0xb7: case 0xbe: case 0xbf:
		o->op = opc >= 0xbe ? EMU_OP_MOVSX : EMU_OP_MOVZX;
		o->to_reg = true;
		o->size = (u8)(opc & 1 ? 2 : 1);
		if (!decode_modrm(d, o))
			return false;
		o->reg_size = (u8)d->opsize;
		return true;
	case 0xa3: case 0xab: case 0xb3: case 0xbb:
		o->op = (u8)(EMU_OP_BT + ((opc >> 3) & 3));
		o->write = o->op != EMU_OP_BT;
		o->size = (u8)d->opsize;
		return decode_modrm(d, o);
	case 0xba:
		return decode_bt_imm(d, o);
	default:
		return false;
	}
}

/* 63 /r in 64-bit mode: MOVSXD r, r/m32 (r/m16 with 66). */
static bool decode_movsxd(struct dec *d, struct emu_insn *o)
{
	if (d->mode != EMU_MODE_64)
		return false;               /* ARPL outside 64-bit mode */
	o->op = EMU_OP_MOVSX;
	o->to_reg = true;
	o->size = (u8)MIN(d->opsize, 4);
	if (!decode_modrm(d, o))
		return false;
	o->reg_size = (u8)d->opsize;
	return true;
}

/* The opcode and what follows it. */
static bool decode_opcode(struct dec *d, struct emu_insn *o)
{
	u8 opc;

	if (!next_byte(d, &opc))
		return false;
	if (opc < 0x40 && (opc & 7) < 4)
		return decode_alu(d, o, opc);
	if (opc >= 0x80 && opc <= 0x83)
		return decode_group1(d, o, opc);
	if ((opc >= 0x84 && opc <= 0x8b) || opc == 0xc6 || opc == 0xc7)
		return decode_mov_test_xchg(d, o, opc);
	if (opc >= 0xa0 && opc <= 0xa3)
		return decode_moffs(d, o, opc);
	if (opc >= 0xa4 && opc <= 0xaf)
		return decode_string(d, o, opc);
	switch (opc) {
	case OPCODE_ESCAPE: return decode_0f(d, o);
	case 0x63: return decode_movsxd(d, o);
	case 0xf6: case 0xf7: return decode_group3(d, o, opc);
	case 0xfe: case 0xff: return decode_incdec(d, o, opc);
	default: return false;
	}
}

/* LOCK is allowed only on these forms with a memory destination (SDM
   Vol. 2, LOCK); anywhere else it is #UD, which uhv does not emulate. */
static bool lockable(const struct emu_insn *o)
{
	return o->write && o->op != EMU_OP_MOV && o->op != EMU_OP_MOVS &&
	       o->op != EMU_OP_STOS;
}

int emu_decode(const u8 *b, unsigned n, enum emu_mode mode, struct emu_insn *o)
{
	struct dec d = { .b = b, .n = MIN(n, EMU_MAX_INSN), .mode = mode,
			 .seg = -1 };

	*o = (struct emu_insn){ .mode = mode, .base = EMU_NO_REG,
				.index = EMU_NO_REG };
	parse_prefixes(&d);
	if (!decode_opcode(&d, o) || (d.lock && !lockable(o)))
		return -1;
	o->lock = d.lock;
	/* without REX, byte registers 4-7 are AH, CH, DH, BH */
	o->high_byte = o->reg_size == 1 && !d.rex && o->reg >= BYTE_REGS_HIGH;
	o->len = (u8)d.i;
	return 0;
}

/* Paging-structure entry bits used by the walk (SDM Vol. 3A §4.3-4.5). */
#define PG_P        (1ULL << 0)
#define PG_PS       (1ULL << 7)
#define CR0_PG_BIT  (1ULL << 31)
#define CR4_PSE_BIT (1ULL << 4)
#define CR4_PAE_BIT (1ULL << 5)
#define EFER_LMA_BIT (1ULL << 10)
#define ADDR_MASK_52 0x000ffffffffff000ULL

struct walk_format {
	int levels;          /* tables to walk */
	unsigned entry_size; /* 4 (32-bit paging) or 8 bytes */
	int top_shift;       /* address bit of the top level's index */
	unsigned index_bits; /* 10 or 9 per level (PAE's top level: 2) */
};

bool emu_translate(const struct gmem *m, u64 cr0, u64 cr3, u64 cr4, u64 efer,
		   u64 linear, u64 *gpa)
{
	struct walk_format f;
	u64 table;

	if (!(cr0 & CR0_PG_BIT)) {
		*gpa = linear & 0xffffffffULL;
		return true;
	}
	if (efer & EFER_LMA_BIT) {
		f = (struct walk_format){ 4, 8, 39, 9 };
		table = cr3 & ADDR_MASK_52;
	} else if (cr4 & CR4_PAE_BIT) {
		f = (struct walk_format){ 3, 8, 30, 2 };
		table = cr3 & 0xffffffe0ULL;   /* 32-byte aligned PDPT */
	} else {
		f = (struct walk_format){ 2, 4, 22, 10 };
		table = cr3 & 0xfffff000ULL;
	}
	for (int l = 0, shift = f.top_shift; l < f.levels; l++) {
		u64 idx = (linear >> shift) & ((1ULL << f.index_bits) - 1);
		u64 e = 0;
		bool last = l == f.levels - 1, large;

		if (!gmem_read(m, table + idx * f.entry_size, &e, f.entry_size) ||
		    !(e & PG_P))
			return false;
		/* PS marks a large page in a PDPTE or PDE of the 8-byte formats,
		   and a 4 MiB page in a 32-bit PDE when CR4.PSE is set */
		large = !last && (e & PG_PS) &&
			(f.entry_size == 8 ? l > 0 : (cr4 & CR4_PSE_BIT) != 0);
		if (large || last) {
			u64 page = (1ULL << shift) - 1;

			*gpa = ((e & ADDR_MASK_52) & ~page) | (linear & page);
			return true;
		}
		table = e & (f.entry_size == 4 ? 0xfffff000ULL : ADDR_MASK_52);
		f.index_bits = f.entry_size == 8 ? 9 : 10;
		shift -= (int)f.index_bits;
	}
	return false;
}
