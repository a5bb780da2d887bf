/*
 * Port I/O and memory-mapped accesses, both routed to the VM's buses.
 *
 * Port I/O exits come with the port, size and direction decoded by the
 * CPU. An EPT violation only says which guest-physical address was
 * touched, so uhv fetches the instruction through the guest's page tables
 * and decodes it (emulate.c) to learn the size, direction and register.
 */
#include "vmm/emulate.h"
#include "vmm/exit_handlers.h"
#include "vmm/sched.h"
#include "vmm/exit.h"
#include "vmm/vcpu_regs.h"
#include "lib/bytes.h"

/* Writes val to a register as an instruction of this width would:
   8/16-bit writes merge, 32-bit writes zero the upper half. */
static void set_reg_sized(struct vcpu *v, unsigned reg, unsigned size,
			  bool high_byte, u64 val)
{
	u64 old;

	if (high_byte) {
		reg -= 4;   /* AH..BH are bits 15:8 of RAX..RBX */
		old = vcpu_gpr(v, reg);
		vcpu_set_gpr(v, reg, (old & ~0xff00ULL) | ((val & 0xff) << 8));
		return;
	}
	old = vcpu_gpr(v, reg);
	if (size < 4)
		val = (old & ~size_mask(size)) | (val & size_mask(size));
	else
		val &= size_mask(size);
	vcpu_set_gpr(v, reg, val);
}

enum exit_action exit_io(struct vcpu *v, const struct arch_exit *e)
{
	struct vm *vm = v->vm;

	if (e->io.string) {
		vm_stop(vm, VM_ERROR, "string I/O (INS/OUTS) on port 0x%x is not "
			"supported", e->io.port);
		return EXIT_YIELD;
	}
	if (e->io.in)
		set_reg_sized(v, GPR_RAX, e->io.size, false,
			      bus_read(&vm->pio, e->io.port, e->io.size));
	else
		bus_write(&vm->pio, e->io.port, e->io.size,
			  v->arch.regs[GPR_RAX] & size_mask(e->io.size));
	if (v->state == VCPU_STOPPED)   /* the write was a debug exit or S5 */
		return EXIT_YIELD;
	arch_vcpu_skip(&v->arch, e);
	v->irq_dirty = true;            /* a device may have moved a pin or timer */
	return sched_resume(v);
}

/* Reads up to EMU_MAX_INSN instruction bytes at the guest's RIP. */
static unsigned fetch_insn(struct vcpu *v, u8 *buf)
{
	struct arch_vcpu *a = &v->arch;
	u64 lin = arch_vcpu_get(a, AREG_CS_BASE) + arch_vcpu_get(a, AREG_RIP);
	unsigned n = 0;

	while (n < EMU_MAX_INSN) {
		u64 gpa;
		unsigned chunk;

		if (!emu_translate(&v->vm->mem, arch_vcpu_get(a, AREG_CR0),
				   arch_vcpu_get(a, AREG_CR3), arch_vcpu_get(a, AREG_CR4),
				   arch_vcpu_get(a, AREG_EFER), lin + n, &gpa))
			break;
		chunk = (unsigned)MIN(EMU_MAX_INSN - n, PAGE_SIZE - (gpa & (PAGE_SIZE - 1)));
		if (!gmem_read(&v->vm->mem, gpa, buf + n, chunk))
			break;
		n += chunk;
	}
	return n;
}

static enum emu_mode cpu_mode(struct vcpu *v)
{
	switch (arch_vcpu_code_bits(&v->arch)) {
	case 64: return EMU_MODE_64;
	case 32: return EMU_MODE_32;
	default: return EMU_MODE_16;
	}
}

/* Emulates the instruction at RIP, which accessed MMIO at gpa. */
static enum exit_action emulate_mmio(struct vcpu *v, const struct arch_exit *e,
				     u64 gpa)
{
	struct vm *vm = v->vm;
	struct arch_exit done = *e;
	struct emu_insn in;
	u8 b[EMU_MAX_INSN];
	unsigned n;

	n = fetch_insn(v, b);
	if (emu_decode(b, n, cpu_mode(v), &in)) {
		vm_stop(vm, VM_ERROR, "cannot emulate the access to guest-physical "
			"0x%llx: instruction %02x %02x %02x %02x at rip 0x%llx",
			(unsigned long long)gpa, b[0], b[1], b[2], b[3],
			(unsigned long long)arch_vcpu_get(&v->arch, AREG_RIP));
		return EXIT_YIELD;
	}
	if (in.write) {
		u64 val = in.has_imm ? in.imm :
			  in.high_byte ? vcpu_gpr(v, in.reg - 4) >> 8 : vcpu_gpr(v, in.reg);
		bus_write(&vm->mmio, gpa, in.size, val & size_mask(in.size));
	} else {
		set_reg_sized(v, in.reg, in.reg_size, in.high_byte,
			      bus_read(&vm->mmio, gpa, in.size));
	}
	done.instr_len = in.len;
	arch_vcpu_skip(&v->arch, &done);
	v->irq_dirty = true;            /* APIC and IOAPIC writes land here */
	return sched_resume(v);
}

enum exit_action exit_ept_violation(struct vcpu *v, const struct arch_exit *e)
{
	if (e->ept.fetch) {
		vm_stop(v->vm, VM_ERROR, "instruction fetch from guest-physical "
			"0x%llx, where it has no RAM", (unsigned long long)e->ept.gpa);
		return EXIT_YIELD;
	}
	return emulate_mmio(v, e, e->ept.gpa);
}

/*
 * An xAPIC access that APIC virtualization leaves to uhv (SDM Vol. 3C
 * §30.4): a read of the timer's current count, a read-only or reserved
 * register, an access that is not 32-bit aligned. The exit comes before
 * the access, as an EPT violation does, and is emulated the same way.
 */
enum exit_action exit_apic_access(struct vcpu *v, const struct arch_exit *e)
{
	if (!e->apic.data) {
		vm_stop(v->vm, VM_ERROR, "instruction fetch or event delivery "
			"through the local APIC page (offset 0x%x)", e->apic.offset);
		return EXIT_YIELD;
	}
	return emulate_mmio(v, e, LAPIC_MMIO_BASE + e->apic.offset);
}
