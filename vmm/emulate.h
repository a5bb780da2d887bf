/*
 * The instruction emulator for the memory accesses that reach uhv through
 * EPT violations and APIC-access exits: MMIO, and reads and writes where
 * a VM has no RAM. A decoder (emulate.c) turns the faulting instruction's
 * bytes into a struct emu_insn; an executor (emu_exec.c) carries it out
 * with the caller's registers and memory, flags exact (SDM Vol. 1
 * §3.4.3). Pure C: both are unit-tested and fuzzed on the host, where
 * tests/unit/test_emulate_diff.c compares the executor with the CPU.
 *
 * Emulated (SDM Vol. 2 names), every memory-operand form of:
 *   MOV (88-8B, C6/C7 /0, A0-A3 moffs), MOVZX, MOVSX, MOVSXD,
 *   ADD OR ADC SBB AND SUB XOR CMP (00-3B r/m,r and r,r/m; 80-83 imm),
 *   TEST (84/85, F6/F7 /0), XCHG (86/87), INC DEC (FE/FF /0-1),
 *   NOT NEG (F6/F7 /2-3), BT BTS BTR BTC (0F A3/AB/B3/BB, 0F BA /4-7),
 *   MOVS STOS LODS CMPS SCAS with REP/REPE/REPNE,
 * with the prefixes 66, 67, F0 (LOCK, where the SDM allows it), F2/F3,
 * segment overrides and REX.
 */
#ifndef UHV_VMM_EMULATE_H
#define UHV_VMM_EMULATE_H

#include "vmm/gmem.h"

#define EMU_MAX_INSN 15   /* the architectural maximum length */

enum emu_mode { EMU_MODE_16, EMU_MODE_32, EMU_MODE_64 };

/* What an instruction does. ADD..CMP are in ModRM /reg order of the
   immediate group 1 (SDM Vol. 2 Table A-6), so ADD + n is /n. */
enum emu_op {
	EMU_OP_ADD, EMU_OP_OR, EMU_OP_ADC, EMU_OP_SBB,
	EMU_OP_AND, EMU_OP_SUB, EMU_OP_XOR, EMU_OP_CMP,
	EMU_OP_MOV, EMU_OP_MOVZX, EMU_OP_MOVSX, EMU_OP_TEST, EMU_OP_XCHG,
	EMU_OP_INC, EMU_OP_DEC, EMU_OP_NOT, EMU_OP_NEG,
	EMU_OP_BT, EMU_OP_BTS, EMU_OP_BTR, EMU_OP_BTC,
	EMU_OP_MOVS, EMU_OP_STOS, EMU_OP_LODS, EMU_OP_CMPS, EMU_OP_SCAS,
};

/* Segment registers in the SDM's Sreg encoding (Vol. 2 Table 3-6). */
enum emu_seg { EMU_SEG_ES, EMU_SEG_CS, EMU_SEG_SS, EMU_SEG_DS, EMU_SEG_FS,
	       EMU_SEG_GS };

/* Repeat prefixes of string instructions: F3 (REP, REPE) and F2 (REPNE;
   on MOVS, STOS and LODS it repeats as F3 does). */
enum emu_rep { EMU_REP_NONE, EMU_REP_E, EMU_REP_NE };

/* Register numbers: RAX ... R15 as x86 encodes them (SDM Vol. 2
   Table 2-2 and §2.2.1.2), then RFLAGS and RIP. */
enum emu_gpr {
	EMU_RAX, EMU_RCX, EMU_RDX, EMU_RBX, EMU_RSP, EMU_RBP, EMU_RSI, EMU_RDI,
	EMU_R8, EMU_R9, EMU_R10, EMU_R11, EMU_R12, EMU_R13, EMU_R14, EMU_R15,
};
#define EMU_REG_RFLAGS 16
#define EMU_REG_RIP    17
#define EMU_NO_REG     0xff      /* no base or index register */

/* RFLAGS bits (SDM Vol. 1 §3.4.3). */
#define EMU_FLAG_CF BIT(0)
#define EMU_FLAG_PF BIT(2)
#define EMU_FLAG_AF BIT(4)
#define EMU_FLAG_ZF BIT(6)
#define EMU_FLAG_SF BIT(7)
#define EMU_FLAG_DF BIT(10)
#define EMU_FLAG_OF BIT(11)
#define EMU_FLAGS_ARITH (EMU_FLAG_CF | EMU_FLAG_PF | EMU_FLAG_AF | \
			 EMU_FLAG_ZF | EMU_FLAG_SF | EMU_FLAG_OF)

struct emu_insn {
	u8 len;           /* bytes, to advance RIP */
	u8 op;            /* enum emu_op */
	enum emu_mode mode;
	u8 size;          /* memory operand size: 1, 2, 4 or 8 */
	bool write;       /* the instruction writes memory (it may read too) */
	bool to_reg;      /* the result goes to register reg (a load) */
	bool has_imm;     /* the source is imm (else register reg) */
	u8 reg;           /* ModRM reg operand, 0-15 (string: rAX) */
	u8 reg_size;      /* its width (MOVZX/MOVSX widen to it) */
	bool high_byte;   /* reg is AH/CH/DH/BH (4-7 without REX) */
	u64 imm;          /* immediate, sign-extended to size and masked */
	bool lock;        /* F0 (only on forms that allow it) */
	u8 rep;           /* enum emu_rep, string instructions only */
	/* the memory operand: seg:[base + index * 2^scale + disp] */
	u8 addr_size;     /* 2, 4 or 8 bytes */
	u8 seg;           /* enum emu_seg, the override or the default */
	u8 base, index;   /* 0-15 or EMU_NO_REG */
	u8 scale;         /* log2 of the index's factor */
	bool rip_rel;     /* disp is from the next instruction's RIP */
	u64 disp;         /* sign-extended displacement or moffs */
};

/* Decodes the instruction in bytes[0..n). 0, or -1 if not supported. */
int emu_decode(const u8 *bytes, unsigned n, enum emu_mode mode,
	       struct emu_insn *out);

/*
 * The executor's view of a vCPU. Memory is reached by linear address
 * (segment base + offset, SDM Vol. 3A §3.4): read and write translate it
 * and return false where the guest's page tables map nothing, so the
 * instruction faults. seg_base is asked only outside 64-bit mode and
 * for FS and GS (Vol. 3A §3.4.4: other bases are 0 in 64-bit mode).
 */
struct emu_ops {
	u64 (*get_reg)(void *opaque, unsigned reg);   /* 0-15, RFLAGS, RIP */
	void (*set_reg)(void *opaque, unsigned reg, u64 val);
	u64 (*seg_base)(void *opaque, enum emu_seg seg);
	bool (*read)(void *opaque, u64 linear, unsigned size, u64 *val);
	bool (*write)(void *opaque, u64 linear, unsigned size, u64 val);
};

struct emu_ctx {
	const struct emu_ops *ops;
	void *opaque;
	unsigned rep_max;   /* REP iterations per emu_execute (0 means 1) */
	u64 fault_linear;   /* EMU_FAULT: the address that could not be reached */
};

enum emu_result {
	EMU_DONE,    /* finished: the caller advances RIP by insn->len */
	EMU_AGAIN,   /* a REP instruction stopped after rep_max iterations
			or before a fault: RIP stays, the guest re-executes
			it, as after an interrupt between iterations */
	EMU_FAULT,   /* nothing done: fault_linear is not mapped */
};

/* Executes a decoded instruction; enum emu_result. */
int emu_execute(const struct emu_insn *insn, struct emu_ctx *ctx);

/*
 * Guest paging, for fetching the faulting instruction: translates a
 * linear address to guest-physical with the guest's CR0/CR3/CR4/EFER
 * (SDM Vol. 3A ch. 4: no paging, 32-bit, PAE and 4-level). Returns
 * false if the address is not mapped.
 */
bool emu_translate(const struct gmem *m, u64 cr0, u64 cr3, u64 cr4, u64 efer,
		   u64 linear, u64 *gpa);

#endif
