/*
 * The MMIO instruction decoder and guest page walker (see emulate.h).
 *
 * The instructions understood (SDM Vol. 2, MOV and MOVZX):
 *   88 /r  MOV r/m8, r8        8A /r  MOV r8, r/m8
 *   89 /r  MOV r/m, r          8B /r  MOV r, r/m
 *   C6 /0  MOV r/m8, imm8      C7 /0  MOV r/m, imm16/32
 *   0F B6  MOVZX r, r/m8       0F B7  MOVZX r, r/m16
 *   A0/A1  MOV AL/rAX, moffs   A2/A3  MOV moffs, AL/rAX
 * with 66 (operand size), REX, segment and address-size prefixes.
 *
 * A ModRM byte and its addressing bytes:
 *
 *    7  6 5   3 2  0            7   6 5   3 2   0
 *   +----+-----+----+          +-----+-----+-----+
 *   |mod | reg | rm |  [SIB:   |scale|index|base |]  [disp8/16/32]
 *   +----+-----+----+          +-----+-----+-----+
 */
#include "vmm/emulate.h"
#include "lib/bytes.h"

#define PREFIX_OPSIZE 0x66
#define PREFIX_ADDRSIZE 0x67
#define REX_MIN 0x40
#define REX_MAX 0x4f
#define REX_W 0x8
#define REX_R 0x4
#define MODRM_MOD(b) ((b) >> 6)
#define MODRM_REG(b) (((b) >> 3) & 7)
#define MODRM_RM(b) ((b) & 7)
#define RM_SIB 4
#define RM_DISP32 5
#define SIB_BASE(b) ((b) & 7)

static bool is_legacy_prefix(u8 b)
{
	return b == 0x26 || b == 0x2e || b == 0x36 || b == 0x3e ||
	       b == 0x64 || b == 0x65 || b == PREFIX_OPSIZE ||
	       b == PREFIX_ADDRSIZE;
}

/* Bytes of ModRM + SIB + displacement, or 0 for a register operand. */
static unsigned modrm_len(const u8 *p, unsigned n, bool addr16)
{
	u8 mod = MODRM_MOD(p[0]), rm = MODRM_RM(p[0]);
	unsigned len = 1;

	if (mod == 3)
		return 0;               /* not a memory access */
	if (addr16) {
		if (mod == 0 && rm == 6)
			return 3;
		return 1 + (mod == 1 ? 1 : mod == 2 ? 2 : 0);
	}
	if (rm == RM_SIB) {
		if (n < 2)
			return 0;
		len++;
		if (mod == 0 && SIB_BASE(p[1]) == RM_DISP32)
			len += 4;
	}
	if (mod == 0 && rm == RM_DISP32)
		len += 4;
	return len + (mod == 1 ? 1 : mod == 2 ? 4 : 0);
}

/*
 * A0-A3: MOV between AL/rAX and a memory offset (moffs) that follows the
 * opcode, as wide as the address size; no ModRM. i is the byte after
 * the opcode. The faulting address comes with the exit, so only the
 * length matters here.
 */
static int decode_moffs(unsigned n, unsigned i, u8 op, unsigned opsize,
			unsigned addr_bytes, struct emu_insn *o)
{
	bool byte = op == 0xa0 || op == 0xa2;

	o->size = o->reg_size = (u8)(byte ? 1 : opsize);
	o->write = op >= 0xa2;
	o->reg = 0;                              /* AL / rAX */
	i += addr_bytes;
	if (i > EMU_MAX_INSN || i > n)
		return -1;
	o->len = (u8)i;
	return 0;
}

int emu_decode(const u8 *b, unsigned n, enum emu_mode mode, struct emu_insn *o)
{
	unsigned i = 0, mlen, opsize = mode == EMU_MODE_16 ? 2 : 4;
	bool addr16 = mode == EMU_MODE_16, opsz_prefix = false, addr_prefix = false;
	u8 rex = 0, op;

	*o = (struct emu_insn){ 0 };
	for (; i < n && is_legacy_prefix(b[i]); i++) {
		if (b[i] == PREFIX_OPSIZE)
			opsz_prefix = true;
		if (b[i] == PREFIX_ADDRSIZE)
			addr_prefix = true;
		if (b[i] == PREFIX_ADDRSIZE && mode != EMU_MODE_64)
			addr16 = !addr16;
	}
	if (opsz_prefix)
		opsize = mode == EMU_MODE_16 ? 4 : 2;
	if (mode == EMU_MODE_64 && i < n && b[i] >= REX_MIN && b[i] <= REX_MAX)
		rex = b[i++];
	if (rex & REX_W)
		opsize = 8;
	if (i + 2 > n)
		return -1;
	op = b[i++];
	if (op >= 0xa0 && op <= 0xa3)
		return decode_moffs(n, i, op, opsize, mode == EMU_MODE_64 ?
				    (addr_prefix ? 4 : 8) : addr16 ? 2 : 4, o);
	if (op == 0x0f) {
		op = b[i++];
		if (op != 0xb6 && op != 0xb7)
			return -1;
		o->size = op == 0xb6 ? 1 : 2;
		o->reg_size = (u8)opsize;
	} else if (op == 0x88 || op == 0x8a || op == 0xc6) {
		o->size = o->reg_size = 1;
		o->write = op != 0x8a;
	} else if (op == 0x89 || op == 0x8b || op == 0xc7) {
		o->size = o->reg_size = (u8)opsize;
		o->write = op != 0x8b;
	} else {
		return -1;
	}
	if (i >= n || !(mlen = modrm_len(b + i, n - i, addr16)))
		return -1;
	o->reg = (u8)(MODRM_REG(b[i]) | ((rex & REX_R) ? 8 : 0));
	/* without REX, byte registers 4-7 are AH, CH, DH, BH */
	o->high_byte = (op == 0x88 || op == 0x8a) && !rex && o->reg >= 4;
	if ((op == 0xc6 || op == 0xc7) && MODRM_REG(b[i]) != 0)
		return -1;
	i += mlen;
	if (op == 0xc6 || op == 0xc7) {
		unsigned isz = o->size == 8 ? 4 : o->size;

		if (i + isz > n)
			return -1;
		o->has_imm = true;
		o->imm = le_get(b + i, isz);
		if (o->size == 8 && (o->imm & BIT(31)))   /* sign-extended imm32 */
			o->imm |= 0xffffffff00000000ULL;
		i += isz;
	}
	if (i > EMU_MAX_INSN || i > n)
		return -1;
	o->len = (u8)i;
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
