/*
 * Just enough of an x86 instruction decoder to emulate the memory accesses
 * that reach uhv through EPT violations (MMIO, and reads and writes where
 * a VM has no RAM): MOV between a register or immediate and memory, and
 * MOVZX loads. Pure C: it decodes bytes fetched from guest memory by the
 * caller and is unit-tested and fuzzed on the host.
 */
#ifndef UHV_VMM_EMULATE_H
#define UHV_VMM_EMULATE_H

#include "vmm/gmem.h"

#define EMU_MAX_INSN 15   /* the architectural maximum length */

enum emu_mode { EMU_MODE_16, EMU_MODE_32, EMU_MODE_64 };

struct emu_insn {
	u8 len;           /* bytes, to advance RIP */
	u8 size;          /* memory operand size: 1, 2, 4 or 8 */
	bool write;       /* true: store to memory; false: load from memory */
	bool has_imm;     /* store of an immediate (else of register reg) */
	u8 reg;           /* register number 0-15 (enum arch_gpr order) */
	u8 reg_size;      /* load: destination width (MOVZX widens) */
	bool high_byte;   /* 8-bit AH/CH/DH/BH without REX */
	u64 imm;
};

/* Decodes the instruction in bytes[0..n). 0, or -1 if not supported. */
int emu_decode(const u8 *bytes, unsigned n, enum emu_mode mode,
	       struct emu_insn *out);

/*
 * Guest paging, for fetching the faulting instruction: translates a
 * linear address to guest-physical with the guest's CR0/CR3/CR4/EFER
 * (SDM Vol. 3A ch. 4: no paging, 32-bit, PAE and 4-level). Returns
 * false if the address is not mapped.
 */
bool emu_translate(const struct gmem *m, u64 cr0, u64 cr3, u64 cr4, u64 efer,
		   u64 linear, u64 *gpa);

#endif
