/*
 * The instruction executor (see emulate.h): carries out a decoded
 * instruction with the caller's registers and memory, as the SDM's
 * Operation sections describe it (Vol. 2), flags as Vol. 1 §3.4.3 and
 * each instruction's "Flags Affected" say. Flags the SDM leaves
 * undefined are left as they were, except AF after AND, OR, XOR and
 * TEST, which is cleared (a choice: the SDM leaves it undefined).
 *
 * A REP string instruction runs at most ctx->rep_max iterations per
 * call. Each iteration commits its registers (rSI, rDI, rCX), so after
 * any of them the guest can re-execute the instruction with RIP
 * unchanged and carry on, as it would after an interrupt between
 * iterations (Vol. 2, REP: "Repeated string instructions can be
 * interrupted").
 */
#include "vmm/emulate.h"
#include "lib/bytes.h"

#define BYTE_REGS_HIGH 4          /* AH-BH are bits 15:8 of RAX-RBX */
#define HIGH_BYTE_SHIFT 8
#define LOW_BYTE_MASK 0xffULL
#define NIBBLE_CARRY_BIT 4        /* AF: carry or borrow out of bit 3 */
#define BIT_INDEX_BITS 3          /* log2 of 8 bits a byte */

static u64 sign_bit(unsigned size)
{
	return BIT(8 * size - 1);
}

/* v's low `size` bytes as a signed 64-bit value. */
static u64 sign_extend(u64 v, unsigned size)
{
	unsigned shift = 64 - 8 * size;

	return (u64)((s64)(v << shift) >> shift);
}

static u64 get_reg(struct emu_ctx *c, unsigned r)
{
	return c->ops->get_reg(c->opaque, r);
}

static void set_reg(struct emu_ctx *c, unsigned r, u64 v)
{
	c->ops->set_reg(c->opaque, r, v);
}

/* The register operand's value, `size` bytes of it (AH-BH for high). */
static u64 read_reg(struct emu_ctx *c, unsigned r, bool high, unsigned size)
{
	if (high)
		return (get_reg(c, r - BYTE_REGS_HIGH) >> HIGH_BYTE_SHIFT) &
		       LOW_BYTE_MASK;
	return get_reg(c, r) & size_mask(size);
}

/*
 * Writes a register as an instruction of this operand size does (SDM
 * Vol. 1 §3.4.1.1): 8- and 16-bit results merge into the register, a
 * 32-bit result is zero-extended to 64 bits.
 */
static void write_reg(struct emu_ctx *c, unsigned r, bool high,
		      unsigned size, u64 v)
{
	u64 old;

	if (high) {
		r -= BYTE_REGS_HIGH;
		old = get_reg(c, r) & ~(LOW_BYTE_MASK << HIGH_BYTE_SHIFT);
		set_reg(c, r, old | (v & LOW_BYTE_MASK) << HIGH_BYTE_SHIFT);
		return;
	}
	if (size < 4)
		v = (get_reg(c, r) & ~size_mask(size)) | (v & size_mask(size));
	else
		v &= size_mask(size);
	set_reg(c, r, v);
}

/* PF, ZF and SF of a result (SDM Vol. 1 §3.4.3.1): PF is set when its
   low byte has an even number of 1 bits. */
static u64 flags_szp(u64 r, unsigned size)
{
	u64 f = 0, p = r & LOW_BYTE_MASK;

	p ^= p >> 4;
	p ^= p >> 2;
	p ^= p >> 1;
	if (!(p & 1))
		f |= EMU_FLAG_PF;
	if (!(r & size_mask(size)))
		f |= EMU_FLAG_ZF;
	if (r & sign_bit(size))
		f |= EMU_FLAG_SF;
	return f;
}

/*
 * CF, AF and OF of a + b (+ carry) = r, from the carry out of each bit,
 * carries = majority(a, b, carry in) (SDM Vol. 2, ADD and ADC: "The OF,
 * SF, ZF, AF, CF, and PF flags are set according to the result").
 */
static u64 flags_add(u64 a, u64 b, u64 r, unsigned size)
{
	u64 carries = (a & b) | ((a | b) & ~r), f = flags_szp(r, size);

	if (carries & sign_bit(size))
		f |= EMU_FLAG_CF;
	if ((a ^ b ^ r) & BIT(NIBBLE_CARRY_BIT))
		f |= EMU_FLAG_AF;
	if ((a ^ r) & (b ^ r) & sign_bit(size))
		f |= EMU_FLAG_OF;
	return f;
}

/* The same for a - b (- borrow) = r: borrows = majority(~a, b, borrow
   in) (SDM Vol. 2, SUB, SBB, CMP, NEG). */
static u64 flags_sub(u64 a, u64 b, u64 r, unsigned size)
{
	u64 borrows = (~a & b) | ((~a | b) & r), f = flags_szp(r, size);

	if (borrows & sign_bit(size))
		f |= EMU_FLAG_CF;
	if ((a ^ b ^ r) & BIT(NIBBLE_CARRY_BIT))
		f |= EMU_FLAG_AF;
	if ((a ^ b) & (a ^ r) & sign_bit(size))
		f |= EMU_FLAG_OF;
	return f;
}

/*
 * An ADD ... CMP or TEST of a and b (a the destination): the result,
 * masked to size, and *flags updated. AND, OR, XOR and TEST clear CF and
 * OF and set SF, ZF, PF by the result; AF is undefined (SDM Vol. 2, AND)
 * and uhv clears it.
 */
static u64 alu(unsigned op, u64 a, u64 b, unsigned size, u64 *flags)
{
	u64 cf = *flags & EMU_FLAG_CF ? 1 : 0, r, f;

	a &= size_mask(size);
	b &= size_mask(size);
	switch (op) {
	case EMU_OP_ADD: r = a + b; f = flags_add(a, b, r, size); break;
	case EMU_OP_ADC: r = a + b + cf; f = flags_add(a, b, r, size); break;
	case EMU_OP_SBB: r = a - b - cf; f = flags_sub(a, b, r, size); break;
	case EMU_OP_SUB:
	case EMU_OP_CMP: r = a - b; f = flags_sub(a, b, r, size); break;
	case EMU_OP_OR: r = a | b; f = flags_szp(r, size); break;
	case EMU_OP_XOR: r = a ^ b; f = flags_szp(r, size); break;
	default: r = a & b; f = flags_szp(r, size); break;  /* AND, TEST */
	}
	*flags = (*flags & ~EMU_FLAGS_ARITH) | f;
	return r & size_mask(size);
}

/*
 * INC, DEC, NOT and NEG of a (SDM Vol. 2): INC and DEC leave CF alone
 * and set the others as ADD/SUB of 1; NEG sets them as 0 - a, so CF is
 * set unless a is 0; NOT changes no flag.
 */
static u64 unary(unsigned op, u64 a, unsigned size, u64 *flags)
{
	u64 r, f;

	a &= size_mask(size);
	switch (op) {
	case EMU_OP_INC:
		r = a + 1;
		f = (flags_add(a, 1, r, size) & ~EMU_FLAG_CF) | (*flags & EMU_FLAG_CF);
		break;
	case EMU_OP_DEC:
		r = a - 1;
		f = (flags_sub(a, 1, r, size) & ~EMU_FLAG_CF) | (*flags & EMU_FLAG_CF);
		break;
	case EMU_OP_NEG:
		r = 0 - a;
		f = flags_sub(0, a, r, size);
		break;
	default:
		return ~a & size_mask(size);    /* NOT */
	}
	*flags = (*flags & ~EMU_FLAGS_ARITH) | f;
	return r & size_mask(size);
}

/* Linear address of an offset in segment seg (SDM Vol. 3A §3.4): in
   64-bit mode only FS and GS have a base (§3.4.4); elsewhere the
   address wraps at 4 GiB. */
static u64 linear(const struct emu_insn *in, struct emu_ctx *c,
		  unsigned seg, u64 offset)
{
	if (in->mode == EMU_MODE_64)
		return seg == EMU_SEG_FS || seg == EMU_SEG_GS
			? offset + c->ops->seg_base(c->opaque, (enum emu_seg)seg)
			: offset;
	return (offset + c->ops->seg_base(c->opaque, (enum emu_seg)seg)) &
	       size_mask(4);
}

/* The ModRM (or moffs) operand's effective address, wrapped to the
   address size (SDM Vol. 1 §3.7.5; RIP-relative: Vol. 2 §2.2.1.6). */
static u64 effective_address(const struct emu_insn *in, struct emu_ctx *c)
{
	u64 ea = in->disp;

	if (in->base != EMU_NO_REG)
		ea += get_reg(c, in->base);
	if (in->index != EMU_NO_REG)
		ea += get_reg(c, in->index) << in->scale;
	if (in->rip_rel)
		ea += get_reg(c, EMU_REG_RIP) + in->len;
	return ea & size_mask(in->addr_size);
}

static bool mem_read(struct emu_ctx *c, u64 lin, unsigned size, u64 *v)
{
	*v = 0;
	if (c->ops->read(c->opaque, lin, size, v)) {
		*v &= size_mask(size);
		return true;
	}
	c->fault_linear = lin;
	return false;
}

static bool mem_write(struct emu_ctx *c, u64 lin, unsigned size, u64 v)
{
	if (c->ops->write(c->opaque, lin, size, v & size_mask(size)))
		return true;
	c->fault_linear = lin;
	return false;
}

/* The non-memory operand: the immediate or register reg. */
static u64 source(const struct emu_insn *in, struct emu_ctx *c)
{
	return in->has_imm ? in->imm
			   : read_reg(c, in->reg, in->high_byte, in->reg_size);
}

/* The memory operand at effective address ea, as a linear address. */
static u64 operand(const struct emu_insn *in, struct emu_ctx *c, u64 ea)
{
	return linear(in, c, in->seg, ea);
}

/* MOV between memory and a register or immediate; MOVZX and MOVSX load
   and widen to reg_size (SDM Vol. 2, MOV, MOVZX, MOVSX/MOVSXD). No flags. */
static bool exec_mov(const struct emu_insn *in, struct emu_ctx *c, u64 lin)
{
	u64 v;

	if (!in->to_reg)
		return mem_write(c, lin, in->size, source(in, c));
	if (!mem_read(c, lin, in->size, &v))
		return false;
	if (in->op == EMU_OP_MOVSX)
		v = sign_extend(v, in->size);
	write_reg(c, in->reg, in->high_byte, in->reg_size, v);
	return true;
}

/* ADD ... CMP and TEST with a memory operand, either side (SDM Vol. 2,
   each by name); CMP and TEST write only the flags. */
static bool exec_alu(const struct emu_insn *in, struct emu_ctx *c, u64 lin)
{
	u64 m, a, b, r, flags = get_reg(c, EMU_REG_RFLAGS);

	if (!mem_read(c, lin, in->size, &m))
		return false;
	a = in->to_reg ? read_reg(c, in->reg, in->high_byte, in->size) : m;
	b = in->to_reg ? m : source(in, c);
	r = alu(in->op, a, b, in->size, &flags);
	if (in->op != EMU_OP_CMP && in->op != EMU_OP_TEST) {
		if (in->to_reg)
			write_reg(c, in->reg, in->high_byte, in->size, r);
		else if (!mem_write(c, lin, in->size, r))
			return false;
	}
	set_reg(c, EMU_REG_RFLAGS, flags);
	return true;
}

/* XCHG r/m, r (SDM Vol. 2, XCHG): swaps; no flags. */
static bool exec_xchg(const struct emu_insn *in, struct emu_ctx *c, u64 lin)
{
	u64 m;

	if (!mem_read(c, lin, in->size, &m) ||
	    !mem_write(c, lin, in->size, source(in, c)))
		return false;
	write_reg(c, in->reg, in->high_byte, in->size, m);
	return true;
}

/* INC, DEC, NOT, NEG r/m (SDM Vol. 2, each by name). */
static bool exec_unary(const struct emu_insn *in, struct emu_ctx *c, u64 lin)
{
	u64 m, flags = get_reg(c, EMU_REG_RFLAGS);

	if (!mem_read(c, lin, in->size, &m) ||
	    !mem_write(c, lin, in->size, unary(in->op, m, in->size, &flags)))
		return false;
	if (in->op != EMU_OP_NOT)
		set_reg(c, EMU_REG_RFLAGS, flags);
	return true;
}

/* log2 of an operand's bits: 4, 5 or 6 for 2, 4 or 8 bytes. */
static unsigned log2_bits(unsigned size)
{
	return BIT_INDEX_BITS + (size == 2 ? 1 : size == 4 ? 2 : 3);
}

/*
 * BT, BTS, BTR, BTC m, r/imm8 (SDM Vol. 2, BT): an immediate offset is
 * taken modulo the operand's bits; a register offset is signed and
 * selects the operand-sized word at ea + size * (offset DIV bits). CF is
 * the bit; ZF is unaffected; OF, SF, AF and PF are undefined and left.
 */
static bool exec_bt(const struct emu_insn *in, struct emu_ctx *c, u64 ea)
{
	unsigned shift = log2_bits(in->size);
	u64 off = source(in, c), m, r, bit, lin;
	u64 flags = get_reg(c, EMU_REG_RFLAGS) & ~EMU_FLAG_CF;

	if (!in->has_imm) {
		s64 words = (s64)sign_extend(off, in->size) >> shift;

		ea = (ea + (u64)words * in->size) & size_mask(in->addr_size);
	}
	lin = operand(in, c, ea);
	bit = BIT(off & (BIT(shift) - 1));
	if (!mem_read(c, lin, in->size, &m))
		return false;
	if (in->op == EMU_OP_BTS)
		r = m | bit;
	else if (in->op == EMU_OP_BTR)
		r = m & ~bit;
	else
		r = m ^ bit;             /* BTC; BT writes nothing */
	if (in->op != EMU_OP_BT && !mem_write(c, lin, in->size, r))
		return false;
	set_reg(c, EMU_REG_RFLAGS, flags | (m & bit ? EMU_FLAG_CF : 0));
	return true;
}

/* Moves rSI or rDI past the element just done: down when DF is set,
   as wide as the address size (SDM Vol. 2, MOVS). */
static void string_advance(const struct emu_insn *in, struct emu_ctx *c,
			   unsigned r)
{
	u64 step = get_reg(c, EMU_REG_RFLAGS) & EMU_FLAG_DF ? -(u64)in->size
							    : in->size;

	write_reg(c, r, false, in->addr_size, get_reg(c, r) + step);
}

/* The string instruction's memory accesses, for one element: source
   seg:rSI, destination ES:rDI (SDM Vol. 2, MOVS ... SCAS). */
static bool string_access(const struct emu_insn *in, struct emu_ctx *c,
			  u64 src, u64 dst)
{
	u64 a, b, flags = get_reg(c, EMU_REG_RFLAGS);
	u64 rax = get_reg(c, EMU_RAX);

	switch (in->op) {
	case EMU_OP_MOVS:
		return mem_read(c, src, in->size, &a) &&
		       mem_write(c, dst, in->size, a);
	case EMU_OP_STOS:
		return mem_write(c, dst, in->size, rax);
	case EMU_OP_LODS:
		if (!mem_read(c, src, in->size, &a))
			return false;
		write_reg(c, EMU_RAX, false, in->size, a);
		return true;
	case EMU_OP_CMPS:               /* [rSI] - [rDI] */
		if (!mem_read(c, src, in->size, &a) ||
		    !mem_read(c, dst, in->size, &b))
			return false;
		break;
	default:                        /* SCAS: rAX - [rDI] */
		a = rax;
		if (!mem_read(c, dst, in->size, &b))
			return false;
		break;
	}
	alu(EMU_OP_CMP, a, b, in->size, &flags);
	set_reg(c, EMU_REG_RFLAGS, flags);
	return true;
}

/* One element of a string instruction, then rSI/rDI moved on. */
static bool string_once(const struct emu_insn *in, struct emu_ctx *c)
{
	u64 mask = size_mask(in->addr_size);
	u64 src = linear(in, c, in->seg, get_reg(c, EMU_RSI) & mask);
	u64 dst = linear(in, c, EMU_SEG_ES, get_reg(c, EMU_RDI) & mask);

	if (!string_access(in, c, src, dst))
		return false;
	if (in->op != EMU_OP_STOS && in->op != EMU_OP_SCAS)
		string_advance(in, c, EMU_RSI);
	if (in->op != EMU_OP_LODS)
		string_advance(in, c, EMU_RDI);
	return true;
}

/* REPE/REPNE end CMPS and SCAS early on ZF (SDM Vol. 2, REP, Table 4-22). */
static bool rep_ends(const struct emu_insn *in, struct emu_ctx *c)
{
	bool zf = get_reg(c, EMU_REG_RFLAGS) & EMU_FLAG_ZF;

	if (in->op != EMU_OP_CMPS && in->op != EMU_OP_SCAS)
		return false;
	return in->rep == EMU_REP_E ? !zf : zf;
}

/*
 * A string instruction, with REP: while rCX (as wide as the address
 * size) is not 0, one element, then rCX - 1, then the ZF test (SDM
 * Vol. 2, REP: Operation). At most rep_max elements per call; a fault
 * after the first leaves the guest to re-execute and fault itself.
 */
static int exec_string(const struct emu_insn *in, struct emu_ctx *c)
{
	unsigned done = 0, max = c->rep_max ? c->rep_max : 1;
	u64 mask = size_mask(in->addr_size), count;

	if (in->rep == EMU_REP_NONE)
		return string_once(in, c) ? EMU_DONE : EMU_FAULT;
	while ((count = get_reg(c, EMU_RCX) & mask) != 0) {
		if (done == max)
			return EMU_AGAIN;
		if (!string_once(in, c))
			return done ? EMU_AGAIN : EMU_FAULT;
		write_reg(c, EMU_RCX, false, in->addr_size, count - 1);
		done++;
		if (rep_ends(in, c))
			break;
	}
	return EMU_DONE;
}

/* An instruction with one ModRM or moffs memory operand. */
static bool exec_memop(const struct emu_insn *in, struct emu_ctx *c)
{
	u64 ea = effective_address(in, c);

	switch (in->op) {
	case EMU_OP_MOV:
	case EMU_OP_MOVZX:
	case EMU_OP_MOVSX:
		return exec_mov(in, c, operand(in, c, ea));
	case EMU_OP_XCHG:
		return exec_xchg(in, c, operand(in, c, ea));
	case EMU_OP_INC:
	case EMU_OP_DEC:
	case EMU_OP_NOT:
	case EMU_OP_NEG:
		return exec_unary(in, c, operand(in, c, ea));
	case EMU_OP_BT:
	case EMU_OP_BTS:
	case EMU_OP_BTR:
	case EMU_OP_BTC:
		return exec_bt(in, c, ea);
	default:                        /* ADD ... CMP, TEST */
		return exec_alu(in, c, operand(in, c, ea));
	}
}

int emu_execute(const struct emu_insn *in, struct emu_ctx *c)
{
	if (in->op >= EMU_OP_MOVS)
		return exec_string(in, c);
	return exec_memop(in, c) ? EMU_DONE : EMU_FAULT;
}
