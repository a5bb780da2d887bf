/*
 * Port I/O and memory-mapped accesses, both routed to the VM's buses.
 *
 * Port I/O exits come with the port, size and direction decoded by the
 * CPU. An EPT violation only says which guest-physical address was
 * touched, so uhv fetches the instruction through the guest's page tables,
 * decodes it (emulate.c) and carries it out (emu_exec.c): registers and
 * flags as the CPU would leave them, memory operands on the MMIO bus or,
 * for a string instruction's other side, in RAM. Where the VM has
 * nothing, reads return all ones and writes are dropped, as on a PC.
 */
#include "vmm/emulate.h"
#include "vmm/exit_handlers.h"
#include "vmm/sched.h"
#include "vmm/exit.h"
#include "vmm/vcpu_regs.h"
#include "lib/bytes.h"

/* Writes val to a register as an IN of this width would (SDM Vol. 1
   §3.4.1.1): 8/16-bit writes merge, 32-bit writes zero the upper half. */
static void set_reg_sized(struct vcpu *v, unsigned reg, unsigned size, u64 val)
{
	u64 old = vcpu_gpr(v, reg);

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
		set_reg_sized(v, GPR_RAX, e->io.size,
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

/* The vCPU as the emulator sees it, with the guest's paging registers
   read once per exit. */
struct emu_vcpu {
	struct vcpu *v;
	u64 cr0, cr3, cr4, efer;
};

static void emu_vcpu_init(struct emu_vcpu *ev, struct vcpu *v)
{
	struct arch_vcpu *a = &v->arch;

	*ev = (struct emu_vcpu){ v, arch_vcpu_get(a, AREG_CR0),
				 arch_vcpu_get(a, AREG_CR3),
				 arch_vcpu_get(a, AREG_CR4),
				 arch_vcpu_get(a, AREG_EFER) };
}

/* The guest-physical address of a linear one, through the guest's page
   tables (emulate.h); false where they map nothing. */
static bool guest_gpa(const struct emu_vcpu *ev, u64 lin, u64 *gpa)
{
	return emu_translate(&ev->v->vm->mem, ev->cr0, ev->cr3, ev->cr4,
			     ev->efer, lin, gpa);
}

/* Reads up to EMU_MAX_INSN instruction bytes at the guest's RIP. */
static unsigned fetch_insn(const struct emu_vcpu *ev, u8 *buf)
{
	struct vcpu *v = ev->v;
	struct arch_vcpu *a = &v->arch;
	u64 lin = arch_vcpu_get(a, AREG_CS_BASE) + arch_vcpu_get(a, AREG_RIP);
	unsigned n = 0;

	while (n < EMU_MAX_INSN) {
		u64 gpa;
		unsigned chunk;

		if (!guest_gpa(ev, lin + n, &gpa))
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

/* REP string elements emulated per exit at most: then the guest
   re-executes the instruction (emulate.h, EMU_AGAIN), so interrupts
   are taken between batches as hardware takes them between elements. */
#define EMU_REP_BATCH 1024

/* The emulator's registers: the vCPU's GPRs, RFLAGS and RIP. */
static u64 emu_get_reg(void *opaque, unsigned r)
{
	struct vcpu *v = ((struct emu_vcpu *)opaque)->v;

	if (r == EMU_REG_RFLAGS)
		return arch_vcpu_get(&v->arch, AREG_RFLAGS);
	if (r == EMU_REG_RIP)
		return arch_vcpu_get(&v->arch, AREG_RIP);
	return vcpu_gpr(v, r);
}

static void emu_set_reg(void *opaque, unsigned r, u64 val)
{
	struct vcpu *v = ((struct emu_vcpu *)opaque)->v;

	if (r == EMU_REG_RFLAGS)
		arch_vcpu_set(&v->arch, AREG_RFLAGS, val);
	else if (r == EMU_REG_RIP)
		arch_vcpu_set(&v->arch, AREG_RIP, val);
	else
		vcpu_set_gpr(v, r, val);
}

static u64 emu_seg_base(void *opaque, enum emu_seg s)
{
	static const enum arch_reg base[] = {
		[EMU_SEG_ES] = AREG_ES_BASE, [EMU_SEG_CS] = AREG_CS_BASE,
		[EMU_SEG_SS] = AREG_SS_BASE, [EMU_SEG_DS] = AREG_DS_BASE,
		[EMU_SEG_FS] = AREG_FS_BASE, [EMU_SEG_GS] = AREG_GS_BASE,
	};
	struct vcpu *v = ((struct emu_vcpu *)opaque)->v;

	return arch_vcpu_get(&v->arch, base[s]);
}

/*
 * Guest-physical [gpa, gpa+size): RAM through uhv's mapping of it, the
 * rest on the MMIO bus, where an address no device claims reads as all
 * ones and drops writes, as on a PC, and is counted (bus.c, shown in
 * the VM's summary as unclaimed mmio reads/writes).
 */
static void phys_access(struct vm *vm, u64 gpa, unsigned size, u64 *val,
			bool write)
{
	if (!bus_find(&vm->mmio, gpa, size) && gmem_ok(&vm->mem, gpa, size)) {
		if (write)
			gmem_write(&vm->mem, gpa, val, size);   /* x86: little-endian */
		else
			gmem_read(&vm->mem, gpa, val, size);
	} else if (write) {
		bus_write(&vm->mmio, gpa, size, *val);
	} else {
		*val = bus_read(&vm->mmio, gpa, size);
	}
}

/*
 * A linear access for the emulator. One that crosses into the next page
 * goes byte by byte, both pages translated before any byte moves, so a
 * fault leaves memory as it was.
 */
static bool lin_access(const struct emu_vcpu *ev, u64 lin, unsigned size,
		       u64 *val, bool write)
{
	struct vm *vm = ev->v->vm;
	unsigned first = (unsigned)MIN(size, PAGE_SIZE - (lin & (PAGE_SIZE - 1)));
	u64 gpa, gpa2 = 0, out = 0;

	if (!guest_gpa(ev, lin, &gpa) ||
	    (first < size && !guest_gpa(ev, lin + first, &gpa2)))
		return false;
	/* the CPU never saw this access: its data breakpoints are uhv's */
	arch_vcpu_data_breakpoint_hit(&ev->v->arch, lin, size, write);
	if (first == size) {
		phys_access(vm, gpa, size, val, write);
		return true;
	}
	for (unsigned k = 0; k < size; k++) {
		u64 byte = (*val >> (8 * k)) & 0xff;

		phys_access(vm, k < first ? gpa + k : gpa2 + (k - first), 1,
			    &byte, write);
		out |= (byte & 0xff) << (8 * k);
	}
	if (!write)
		*val = out;
	return true;
}

static bool emu_read(void *opaque, u64 lin, unsigned size, u64 *val)
{
	*val = 0;
	return lin_access(opaque, lin, size, val, false);
}

static bool emu_write(void *opaque, u64 lin, unsigned size, u64 val)
{
	return lin_access(opaque, lin, size, &val, true);
}

static const struct emu_ops vcpu_emu_ops = {
	.get_reg = emu_get_reg, .set_reg = emu_set_reg,
	.seg_base = emu_seg_base, .read = emu_read, .write = emu_write,
};

/* Stops the VM at an instruction uhv cannot carry out (b: its bytes). */
static enum exit_action emulate_failed(struct vcpu *v, u64 gpa, const u8 *b,
				       const char *why)
{
	vm_stop(v->vm, VM_ERROR, "cannot emulate the access to guest-physical "
		"0x%llx: instruction %02x %02x %02x %02x at rip 0x%llx%s",
		(unsigned long long)gpa, b[0], b[1], b[2], b[3],
		(unsigned long long)arch_vcpu_get(&v->arch, AREG_RIP), why);
	return EXIT_YIELD;
}

/*
 * Emulates the instruction at RIP, which touched guest-physical gpa
 * where the VM has a device or nothing (emulate.h lists the forms). Its
 * memory operands are reached by their linear addresses, translated
 * here, so a REP string instruction can move between RAM and MMIO.
 */
static enum exit_action emulate_mmio(struct vcpu *v, const struct arch_exit *e,
				     u64 gpa)
{
	struct emu_vcpu ev;
	struct emu_ctx ctx = { .ops = &vcpu_emu_ops, .opaque = &ev,
			       .rep_max = EMU_REP_BATCH };
	struct arch_exit done = *e;
	struct emu_insn in;
	u8 b[EMU_MAX_INSN] = { 0 };
	unsigned n;
	int r;

	emu_vcpu_init(&ev, v);
	n = fetch_insn(&ev, b);
	if (emu_decode(b, n, cpu_mode(v), &in))
		return emulate_failed(v, gpa, b, "");
	r = emu_execute(&in, &ctx);
	if (r == EMU_FAULT)
		return emulate_failed(v, gpa, b, ": an operand's page is not "
				      "mapped by the guest's page tables");
	if (r == EMU_DONE) {
		done.instr_len = in.len;
		arch_vcpu_skip(&v->arch, &done);
	}
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
