/*
 * A fake VM for the GDB stub (vmm/gdb/gdb_stub.h), shared by
 * tests/unit/test_gdb_stub.c and tests/fuzz/fuzz_gdb_stub.c: two vCPUs
 * (vCPU 0 in 32-bit mode, vCPU 1 in IA-32e mode), FAKE_MEM bytes of
 * memory at FAKE_VIRT (virtual) and at FAKE_PHYS (guest-physical), and
 * a record of what the stub asked of it. `misuse` counts calls the
 * contract forbids (a target op other than stop/nr_vcpus while the VM
 * runs, a bad vCPU or slot).
 */
#ifndef UHV_TESTS_GDB_FAKE_H
#define UHV_TESTS_GDB_FAKE_H

#include <string.h>
#include "vmm/gdb/gdb_stub.h"

#define FAKE_VCPUS      2
#define FAKE_MEM        256
#define FAKE_VIRT       0x401000ull
#define FAKE_PHYS       0x1000ull

struct fake_vm {
	int nr;
	enum gdb_arch arch[FAKE_VCPUS];
	struct gdb_regs regs[FAKE_VCPUS];
	u8 vmem[FAKE_MEM], pmem[FAKE_MEM];
	bool running;
	bool refuse_hw;                 /* set_hw answers false */
	int stops, resumes, last_resume, detaches;
	int bp_on_calls, bp_off_calls;
	bool bp_on;
	bool last_phys;                 /* the last read_mem's phys */
	int hw_calls;
	struct { int slot; enum gdb_hw_type type; u64 addr; u32 len; } hw;
	int misuse;
};

static inline struct fake_vm *fake_of(void *t)
{
	return t;
}

/* The contract's "only while the VM is stopped", and vcpu in range. */
static inline void fake_check(struct fake_vm *f, int vcpu)
{
	if (f->running || vcpu < 0 || vcpu >= f->nr)
		f->misuse++;
}

static inline int fake_nr_vcpus(void *t)
{
	return fake_of(t)->nr;
}

static inline enum gdb_arch fake_arch(void *t, int vcpu)
{
	struct fake_vm *f = t;

	fake_check(f, vcpu);
	return f->arch[vcpu < 0 || vcpu >= f->nr ? 0 : vcpu];
}

static inline bool fake_get_regs(void *t, int vcpu, struct gdb_regs *r)
{
	struct fake_vm *f = t;

	fake_check(f, vcpu);
	if (vcpu < 0 || vcpu >= f->nr)
		return false;
	*r = f->regs[vcpu];
	return true;
}

static inline bool fake_set_regs(void *t, int vcpu, const struct gdb_regs *r)
{
	struct fake_vm *f = t;

	fake_check(f, vcpu);
	if (vcpu < 0 || vcpu >= f->nr)
		return false;
	f->regs[vcpu] = *r;
	return true;
}

/* The part of [addr, addr + len) inside the memory of mode phys. */
static inline u8 *fake_mem(struct fake_vm *f, bool phys, u64 addr, u32 *len)
{
	u64 base = phys ? FAKE_PHYS : FAKE_VIRT;
	u8 *mem = phys ? f->pmem : f->vmem;

	if (addr < base || addr - base >= FAKE_MEM) {
		*len = 0;
		return mem;
	}
	if (*len > FAKE_MEM - (addr - base))
		*len = (u32)(FAKE_MEM - (addr - base));
	return mem + (addr - base);
}

static inline u32 fake_read_mem(void *t, int vcpu, bool phys, u64 addr,
				u8 *buf, u32 len)
{
	struct fake_vm *f = t;
	u8 *m;

	fake_check(f, vcpu);
	f->last_phys = phys;
	m = fake_mem(f, phys, addr, &len);
	memcpy(buf, m, len);
	return len;
}

static inline u32 fake_write_mem(void *t, int vcpu, bool phys, u64 addr,
				 const u8 *buf, u32 len)
{
	struct fake_vm *f = t;
	u8 *m;

	fake_check(f, vcpu);
	m = fake_mem(f, phys, addr, &len);
	memcpy(m, buf, len);
	return len;
}

static inline void fake_stop(void *t)
{
	struct fake_vm *f = t;

	f->stops++;
	f->running = false;
}

static inline void fake_resume(void *t, int step)
{
	struct fake_vm *f = t;

	if (f->running || step >= f->nr)
		f->misuse++;
	f->resumes++;
	f->last_resume = step;
	f->running = true;
}

static inline void fake_intercept_bp(void *t, bool on)
{
	struct fake_vm *f = t;

	fake_check(f, 0);
	if (on == f->bp_on)
		f->misuse++;            /* toggled only on a change */
	f->bp_on = on;
	if (on)
		f->bp_on_calls++;
	else
		f->bp_off_calls++;
}

static inline bool fake_set_hw(void *t, int slot, enum gdb_hw_type type,
			       u64 addr, u32 len)
{
	struct fake_vm *f = t;

	fake_check(f, 0);
	if (slot < 0 || slot >= GDB_HW_SLOTS || type < GDB_HW_EXEC ||
	    type > GDB_HW_ACCESS || (len && (len & (len - 1) || len > 8 ||
					     addr % len)))
		f->misuse++;
	f->hw_calls++;
	f->hw.slot = slot;
	f->hw.type = type;
	f->hw.addr = addr;
	f->hw.len = len;
	return !f->refuse_hw || !len;
}

static inline void fake_detach(void *t)
{
	struct fake_vm *f = t;

	fake_check(f, 0);
	f->detaches++;
	f->running = true;
}

static const struct gdb_target_ops fake_ops = {
	.nr_vcpus = fake_nr_vcpus,
	.arch = fake_arch,
	.get_regs = fake_get_regs,
	.set_regs = fake_set_regs,
	.read_mem = fake_read_mem,
	.write_mem = fake_write_mem,
	.stop = fake_stop,
	.resume = fake_resume,
	.intercept_bp = fake_intercept_bp,
	.set_hw = fake_set_hw,
	.detach = fake_detach,
};

/* A VM with known values: vCPU 0 i386, vCPU 1 amd64, memory bytes i. */
static inline void fake_init(struct fake_vm *f)
{
	memset(f, 0, sizeof(*f));
	f->nr = FAKE_VCPUS;
	f->arch[0] = GDB_ARCH_I386;
	f->arch[1] = GDB_ARCH_AMD64;
	f->running = true;              /* until the stub stops it */
	for (int i = 0; i < FAKE_MEM; i++) {
		f->vmem[i] = (u8)i;
		f->pmem[i] = (u8)(0xff - i);
	}
}

#endif
