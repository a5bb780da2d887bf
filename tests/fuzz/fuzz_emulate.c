/*
 * libFuzzer harness for the instruction emulator: vmm/emulate.c's
 * decoder and vmm/emu_exec.c's executor. The input is a mode, a REP
 * batch size, up to 15 instruction bytes and then the vCPU: its
 * registers and flags, 256 bytes of RAM and an address that faults.
 * Memory outside that RAM reads as all ones and drops writes, as uhv's
 * bus does where a VM has nothing.
 *
 * Besides the sanitizers, the harness checks the promises of emulate.h:
 * - a decoded instruction is no longer than its bytes, its fields in
 *   range (sizes 1/2/4/8, registers 0-15, LOCK and REP only where they
 *   belong), and bytes after it do not change its length;
 * - the executor writes no memory for an instruction that does not
 *   write, never writes RIP, changes no RFLAGS bit but the arithmetic
 *   flags, ends (DONE, or AGAIN only for REP), and on EMU_FAULT has
 *   changed no register.
 *
 *   clang -g -O1 -fsanitize=fuzzer,address,undefined -I. \
 *         tests/fuzz/fuzz_emulate.c vmm/emulate.c vmm/emu_exec.c -o fuzz_emulate
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "vmm/emulate.h"

#define CHECK(cond) do { if (!(cond)) { \
	fprintf(stderr, "%s:%d: %s\n", __FILE__, __LINE__, #cond); \
	abort(); } } while (0)

#define NR_REGS     16
#define RAM_LEN     256
#define RAM_BASE    0x1000ULL
#define MAX_CALLS   64            /* EMU_AGAIN round trips at most */
#define REP_MAX_MOD 40

struct vcpu {
	u64 gpr[NR_REGS], rflags, rip;
	u64 seg[EMU_SEG_GS + 1];
	u8 ram[RAM_LEN];
	u64 fault_at;
	unsigned writes;
};

static u64 get_reg(void *o, unsigned r)
{
	struct vcpu *v = o;

	CHECK(r <= EMU_REG_RIP);
	return r == EMU_REG_RFLAGS ? v->rflags : r == EMU_REG_RIP ? v->rip
								  : v->gpr[r];
}

static void set_reg(void *o, unsigned r, u64 val)
{
	struct vcpu *v = o;

	CHECK(r < EMU_REG_RIP);
	if (r == EMU_REG_RFLAGS)
		v->rflags = val;
	else
		v->gpr[r] = val;
}

static u64 seg_base(void *o, enum emu_seg s)
{
	CHECK(s <= EMU_SEG_GS);
	return ((struct vcpu *)o)->seg[s];
}

static bool in_ram(u64 lin, unsigned size)
{
	return lin >= RAM_BASE && lin - RAM_BASE <= RAM_LEN - size;
}

static bool mem_read(void *o, u64 lin, unsigned size, u64 *val)
{
	struct vcpu *v = o;
	u64 x = 0;

	CHECK(size == 1 || size == 2 || size == 4 || size == 8);
	if (lin == v->fault_at)
		return false;
	if (!in_ram(lin, size)) {
		*val = size == 8 ? ~0ULL : (1ULL << (8 * size)) - 1;
		return true;
	}
	for (unsigned k = 0; k < size; k++)
		x |= (u64)v->ram[lin - RAM_BASE + k] << (8 * k);
	*val = x;
	return true;
}

static bool mem_write(void *o, u64 lin, unsigned size, u64 val)
{
	struct vcpu *v = o;

	CHECK(size == 1 || size == 2 || size == 4 || size == 8);
	if (lin == v->fault_at)
		return false;
	v->writes++;
	if (in_ram(lin, size))
		for (unsigned k = 0; k < size; k++)
			v->ram[lin - RAM_BASE + k] = (u8)(val >> (8 * k));
	return true;
}

static const struct emu_ops ops = {
	.get_reg = get_reg, .set_reg = set_reg, .seg_base = seg_base,
	.read = mem_read, .write = mem_write,
};

static bool valid_size(unsigned s)
{
	return s == 1 || s == 2 || s == 4 || s == 8;
}

/* The decoder's promises about one instruction of bytes b[0..n). */
static void check_decoded(const u8 *b, unsigned n, enum emu_mode mode,
			  const struct emu_insn *in)
{
	u8 padded[EMU_MAX_INSN + 8];
	struct emu_insn again;

	CHECK(in->len >= 1 && in->len <= n && in->len <= EMU_MAX_INSN);
	CHECK(valid_size(in->size) && valid_size(in->reg_size));
	CHECK(in->addr_size == 2 || in->addr_size == 4 || in->addr_size == 8);
	CHECK(in->op <= EMU_OP_SCAS && in->reg < NR_REGS && in->scale < 4);
	CHECK(in->base < NR_REGS || in->base == EMU_NO_REG);
	CHECK(in->index < NR_REGS || in->index == EMU_NO_REG);
	CHECK(in->seg <= EMU_SEG_GS && in->mode == mode);
	CHECK(in->rep == EMU_REP_NONE || in->op >= EMU_OP_MOVS);
	CHECK(!in->lock || (in->write && in->op != EMU_OP_MOV));
	CHECK(!in->high_byte || (in->reg >= 4 && in->reg < 8));
	CHECK(!in->rip_rel || mode == EMU_MODE_64);
	memset(padded, 0x90, sizeof(padded));
	memcpy(padded, b, in->len);
	CHECK(emu_decode(padded, sizeof(padded), mode, &again) == 0);
	CHECK(again.len == in->len && again.op == in->op);
}

/* The next bytes of the input, little-endian; 0s once it is used up. */
static u64 take(const u8 **p, size_t *n, unsigned bytes)
{
	u64 v = 0;

	for (unsigned i = 0; i < bytes && *n; i++, (*n)--)
		v |= (u64)*(*p)++ << (8 * i);
	return v;
}

static void load_vcpu(struct vcpu *v, const u8 *p, size_t n)
{
	memset(v, 0, sizeof(*v));
	for (unsigned r = 0; r < NR_REGS; r++)
		v->gpr[r] = take(&p, &n, 8);
	/* rSI/rDI near RAM and a small rCX now and then */
	if (v->gpr[EMU_RSP] & 1) {
		v->gpr[EMU_RSI] = RAM_BASE + (v->gpr[EMU_RSI] & 0x1ff);
		v->gpr[EMU_RDI] = RAM_BASE + (v->gpr[EMU_RDI] & 0x1ff);
		v->gpr[EMU_RCX] &= 0x3f;
	}
	v->rflags = take(&p, &n, 8);
	v->rip = take(&p, &n, 8);
	for (unsigned s = 0; s <= EMU_SEG_GS; s++)
		v->seg[s] = take(&p, &n, 1) << 4;
	v->fault_at = RAM_BASE + take(&p, &n, 2);
	for (unsigned k = 0; k < RAM_LEN; k++)
		v->ram[k] = (u8)take(&p, &n, 1);
}

/* Runs the instruction until done, checking what the executor touches. */
static void check_executed(const struct emu_insn *in, struct vcpu *v,
			   unsigned rep_max)
{
	struct emu_ctx c = { .ops = &ops, .opaque = v, .rep_max = rep_max };
	struct vcpu before = *v;
	int r, calls = 0;

	while ((r = emu_execute(in, &c)) == EMU_AGAIN) {
		CHECK(in->rep != EMU_REP_NONE);
		if (++calls == MAX_CALLS)
			break;
	}
	CHECK(r == EMU_DONE || r == EMU_AGAIN || r == EMU_FAULT);
	CHECK(v->rip == before.rip);
	CHECK(((v->rflags ^ before.rflags) & ~EMU_FLAGS_ARITH) == 0);
	if (!in->write)
		CHECK(v->writes == 0 && !memcmp(v->ram, before.ram, RAM_LEN));
	if (r == EMU_FAULT && calls == 0)
		CHECK(!memcmp(v->gpr, before.gpr, sizeof(v->gpr)) &&
		      v->rflags == before.rflags);
}

int LLVMFuzzerTestOneInput(const u8 *data, size_t size)
{
	static struct vcpu v;
	enum emu_mode mode;
	struct emu_insn in;
	unsigned n, rep_max;

	if (size < 2)
		return 0;
	mode = (enum emu_mode)(data[0] % 3);
	rep_max = data[1] % REP_MAX_MOD;
	n = (unsigned)MIN(size - 2, EMU_MAX_INSN);
	if (emu_decode(data + 2, n, mode, &in))
		return 0;
	check_decoded(data + 2, n, mode, &in);
	load_vcpu(&v, data + 2 + n, size - 2 - n);
	check_executed(&in, &v, rep_max);
	return 0;
}
