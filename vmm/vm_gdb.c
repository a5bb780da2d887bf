/*
 * The VMM's side of a VM's GDB stub (vm_gdb.h). The stub (vmm/gdb/)
 * speaks the protocol; this file is its struct gdb_target_ops over a
 * struct vm, and the exits its breakpoints cause.
 *
 * Where vCPU state lives. The control request that carries gdb's bytes
 * runs between time slices, when some vCPU (of any VM) may still be
 * loaded: its FPU registers on the CPU, its VMCS current. hold() puts
 * that one (its FPU image and DR0-DR3 go to memory, arch_vcpu_put) and
 * makes the wanted vCPU's VMCS current, so its registers are in reach:
 * the GPRs in struct arch_vcpu, the FXSAVE image in its FPU page, the
 * rest through arch_vcpu_get. The run loop loads whichever vCPU it runs
 * next (sched.c asks arch_vcpu_loaded), so nothing else changes.
 *
 * Intercepts are not written from here but marked (dbg_dirty) and
 * applied by vm_gdb_apply before the vCPU's next entry, with it loaded.
 */
#include "vmm/vm_gdb.h"
#include "vmm/vmm.h"
#include "vmm/gdb/gdb_stub.h"
#include "vmm/emulate.h"
#include "vmm/ctl/ctl_chan.h"
#include "arch/x86/vcpu.h"
#include "arch/x86/msr.h"
#include "arch/x86/cpu.h"
#include "arch/x86/dbgreg.h"
#include "drivers/console.h"
#include "lib/string.h"

#define PAGE 4096ULL
#define X86_EXC_DB 1
#define X86_EXC_BP 3
#define RIP_REG 4              /* struct gdb_regs.gpr's RSP slot */
/* DR7's LENn encodings (Vol. 3B §18.2.4): 1, 2, 8, 4 bytes */
#define DR7_LEN_1 0U
#define DR7_LEN_2 1U
#define DR7_LEN_8 2U
#define DR7_LEN_4 3U
#define DR7_RW_EXEC 0U
#define DR7_GLOBAL(n) (2ULL << (2 * (n)))   /* Gn */
#define DR7_RESERVED_1 0x400ULL             /* bit 10 reads as 1 */
#define EVENT_CHUNK 1024       /* bytes of one gdb event */

struct vm_gdb {
	struct uhv *h;
	struct vm *vm;
	struct gdb_stub stub;
	bool bp;                   /* #BP exits: software breakpoints set */
	u32 slots;                 /* hardware slots in use, a bit each */
	u64 dr[DR_COUNT], dr7;     /* the debugger's debug registers */
	bool guest_dr_saved[VM_MAX_VCPUS];
	/* a step by RFLAGS.TF (no monitor trap flag): under way, and
	   whether the guest had TF set itself */
	bool tf_step[VM_MAX_VCPUS], guest_tf[VM_MAX_VCPUS];
	bool said_no_mtf;
	u64 guest_dr[VM_MAX_VCPUS][DR_COUNT], guest_dr7[VM_MAX_VCPUS];
	u64 stops;                 /* stops reported (breakpoints, steps) */
};

static struct vm_gdb sessions[CFG_MAX_VMS];

/* Makes v's VMCS current with no vCPU loaded (see the top). */
static struct vcpu *hold(struct vm_gdb *g, int id)
{
	struct vcpu *v = &g->vm->vcpus[id];
	struct arch_vcpu *cur = arch_vcpu_loaded();

	if (cur)
		arch_vcpu_put(cur);
	arch_vcpu_select(&v->arch);
	return v;
}

/* Every vCPU of the VM applies the session's state before its next entry. */
static void mark_dirty(struct vm_gdb *g)
{
	for (int i = 0; i < g->vm->nr_vcpus; i++)
		g->vm->vcpus[i].dbg_dirty = true;
	g->h->sched.changed = true;
}

static int t_nr_vcpus(void *t)
{
	return ((struct vm_gdb *)t)->vm->nr_vcpus;
}

/* IA-32e mode (EFER.LMA, SDM Vol. 3A §2.2.1) is what gdb's x86-64
   description fits; anything else is described as i386. */
static enum gdb_arch t_arch(void *t, int id)
{
	struct vcpu *v = hold(t, id);

	return arch_vcpu_get(&v->arch, AREG_EFER) & EFER_LMA ? GDB_ARCH_AMD64 :
	       GDB_ARCH_I386;
}

static bool t_get_regs(void *t, int id, struct gdb_regs *r)
{
	struct vcpu *v = hold(t, id);
	struct arch_vcpu *a = &v->arch;

	for (int i = 0; i < NR_GPRS; i++)
		r->gpr[i] = a->regs[i];
	r->gpr[RIP_REG] = arch_vcpu_get(a, AREG_RSP);
	r->rip = arch_vcpu_get(a, AREG_RIP);
	r->rflags = arch_vcpu_get(a, AREG_RFLAGS);
	r->cs = (u16)arch_vcpu_get(a, AREG_CS_SEL);
	r->ss = (u16)arch_vcpu_get(a, AREG_SS_SEL);
	r->ds = (u16)arch_vcpu_get(a, AREG_DS_SEL);
	r->es = (u16)arch_vcpu_get(a, AREG_ES_SEL);
	r->fs = (u16)arch_vcpu_get(a, AREG_FS_SEL);
	r->gs = (u16)arch_vcpu_get(a, AREG_GS_SEL);
	r->fs_base = arch_vcpu_get(a, AREG_FS_BASE);
	r->gs_base = arch_vcpu_get(a, AREG_GS_BASE);
	/* not loaded: its XSAVE image, whose first 512 bytes are FXSAVE's
	   layout (SDM Vol. 1 §13.4.1) */
	memcpy(r->fx, (const void *)(uintptr_t)a->fpu_phys, GDB_FXSAVE_SIZE);
	return true;
}

/*
 * Selectors are not written: a selector without its descriptor's base,
 * limit and rights would be a state no CPU holds. The bases are.
 */
static bool t_set_regs(void *t, int id, const struct gdb_regs *r)
{
	struct vcpu *v = hold(t, id);
	struct arch_vcpu *a = &v->arch;

	for (int i = 0; i < NR_GPRS; i++)
		if (i != GPR_RSP_UNUSED)
			a->regs[i] = r->gpr[i];
	arch_vcpu_set(a, AREG_RSP, r->gpr[RIP_REG]);
	arch_vcpu_set(a, AREG_RIP, r->rip);
	arch_vcpu_set(a, AREG_RFLAGS, r->rflags);
	arch_vcpu_set(a, AREG_FS_BASE, r->fs_base);
	arch_vcpu_set(a, AREG_GS_BASE, r->gs_base);
	memcpy((void *)(uintptr_t)a->fpu_phys, r->fx, GDB_FXSAVE_SIZE);
	return true;
}

/* addr's guest-physical address: itself, or through id's page tables. */
static bool to_phys(struct vm_gdb *g, int id, bool phys, u64 addr, u64 *gpa)
{
	struct arch_vcpu *a;

	if (phys) {
		*gpa = addr;
		return true;
	}
	a = &hold(g, id)->arch;
	return emu_translate(&g->vm->mem, arch_vcpu_get(a, AREG_CR0),
			     arch_vcpu_get(a, AREG_CR3),
			     arch_vcpu_get(a, AREG_CR4),
			     arch_vcpu_get(a, AREG_EFER), addr, gpa);
}

/* Copies len bytes at addr to or from buf, a page at a time (virtual
   pages map anywhere); stops at the first page that is not guest RAM. */
static u32 copy_mem(struct vm_gdb *g, int id, bool phys, u64 addr, u8 *buf,
		    u32 len, bool write)
{
	u32 done = 0;

	while (done < len) {
		u64 gpa, cur = addr + done;
		u32 n = (u32)MIN((u64)(len - done), PAGE - (cur & (PAGE - 1)));
		bool ok;

		if (!to_phys(g, id, phys, cur, &gpa))
			break;
		ok = write ? gmem_write(&g->vm->mem, gpa, buf + done, n)
			   : gmem_read(&g->vm->mem, gpa, buf + done, n);
		if (!ok)
			break;
		done += n;
	}
	return done;
}

static u32 t_read_mem(void *t, int id, bool phys, u64 addr, u8 *buf, u32 len)
{
	return copy_mem(t, id, phys, addr, buf, len, false);
}

static u32 t_write_mem(void *t, int id, bool phys, u64 addr, const u8 *buf,
		       u32 len)
{
	return copy_mem(t, id, phys, addr, (u8 *)buf, len, true);
}

static void t_stop(void *t)
{
	struct vm_gdb *g = t;

	g->vm->dbg_stopped = true;
	for (int i = 0; i < g->vm->nr_vcpus; i++)
		g->vm->vcpus[i].dbg_stepping = false;
	mark_dirty(g);
}

static void t_resume(void *t, int step)
{
	struct vm_gdb *g = t;

	if (step >= 0 && step < g->vm->nr_vcpus)
		g->vm->vcpus[step].dbg_stepping = true;
	else
		g->vm->dbg_stopped = false;
	mark_dirty(g);
}

static void t_intercept_bp(void *t, bool on)
{
	struct vm_gdb *g = t;

	g->bp = on;
	mark_dirty(g);
}

/* DR7's R/Wn and LENn for a slot (SDM Vol. 3B §18.2.4): an instruction
   breakpoint is R/W 00 with LEN 00; x86 has no read-only watchpoint, so
   a read watchpoint watches reads and writes (R/W 11), as gdb expects
   of x86 (it checks the value to tell them apart). */
static u64 dr7_slot(int slot, enum gdb_hw_type type, u32 len)
{
	static const u8 len_bits[9] = { [1] = DR7_LEN_1, [2] = DR7_LEN_2,
					[4] = DR7_LEN_4, [8] = DR7_LEN_8 };
	u64 rw = type == GDB_HW_EXEC ? DR7_RW_EXEC :
		 type == GDB_HW_WRITE ? DR7_RW_WRITE : DR7_RW_READ_WRITE;
	u64 ln = type == GDB_HW_EXEC ? DR7_LEN_1 : len_bits[len];

	return DR7_GLOBAL(slot) | (rw | ln << DR7_LEN_SHIFT) <<
	       (DR7_RW_LEN_SHIFT + DR7_RW_LEN_BITS * slot);
}

/* A slot's bits in DR7: its enables, R/W and LEN. */
static u64 dr7_slot_mask(int slot)
{
	return (3ULL << (DR7_ENABLE_BITS * slot)) |
	       (0xfULL << (DR7_RW_LEN_SHIFT + DR7_RW_LEN_BITS * slot));
}

static bool t_set_hw(void *t, int slot, enum gdb_hw_type type, u64 addr,
		     u32 len)
{
	struct vm_gdb *g = t;

	if (slot < 0 || slot >= DR_COUNT || len > 8)
		return false;
	g->dr7 &= ~dr7_slot_mask(slot);
	g->slots &= ~(1U << slot);
	if (len) {
		g->dr[slot] = addr;
		g->dr7 |= dr7_slot(slot, type, len);
		g->slots |= 1U << slot;
	}
	mark_dirty(g);
	return true;
}

static void t_detach(void *t)
{
	struct vm_gdb *g = t;

	g->bp = false;
	g->slots = 0;
	g->dr7 = 0;
	g->vm->dbg_stopped = false;
	for (int i = 0; i < g->vm->nr_vcpus; i++)
		g->vm->vcpus[i].dbg_stepping = false;
	mark_dirty(g);
}

static const struct gdb_target_ops target_ops = {
	.nr_vcpus = t_nr_vcpus,
	.arch = t_arch,
	.get_regs = t_get_regs,
	.set_regs = t_set_regs,
	.read_mem = t_read_mem,
	.write_mem = t_write_mem,
	.stop = t_stop,
	.resume = t_resume,
	.intercept_bp = t_intercept_bp,
	.set_hw = t_set_hw,
	.detach = t_detach,
};

/* vm's session, set up at its first request. */
static struct vm_gdb *session(struct uhv *h, struct vm *vm)
{
	struct vm_gdb *g = &sessions[vm->id];

	if (vm->gdb != g) {
		memset(g, 0, sizeof(*g));
		g->h = h;
		g->vm = vm;
		gdb_init(&g->stub, &target_ops, g);
		vm->gdb = g;
	}
	return g;
}

/* Sends what the stub has for gdb as gdb events: no request is in flight
   when the VM stops by itself. */
static void flush_events(struct vm_gdb *g)
{
	u8 buf[EVENT_CHUNK];
	u32 n;

	while ((n = gdb_output(&g->stub, buf, sizeof(buf))))
		ctl_chan_gdb_output(g->vm, buf, n);
}

/* A stop for gdb: the whole VM stops (all-stop). The stop reply goes
   out as an event when the VM stopped by itself (from an exit), else in
   the reply to the request under way. */
static void report_stop(struct vm_gdb *g, struct gdb_stop *st, bool event)
{
	g->vm->dbg_stopped = true;
	for (int i = 0; i < g->vm->nr_vcpus; i++)
		g->vm->vcpus[i].dbg_stepping = false;
	mark_dirty(g);
	g->stops++;
	gdb_stopped(&g->stub, st);
	if (event)
		flush_events(g);
}

/* A step asked of a vCPU that cannot run (halted, waiting for a SIPI)
   is done at once: its state is what one instruction leaves there. */
static void settle_steps(struct vm_gdb *g)
{
	for (int i = 0; i < g->vm->nr_vcpus; i++) {
		struct vcpu *v = &g->vm->vcpus[i];

		if (v->dbg_stepping && v->state != VCPU_RUNNABLE)
			report_stop(g, &(struct gdb_stop){ .why = GDB_STOP_STEP,
							   .vcpu = i }, false);
	}
}

enum ctl_code vm_gdb_request(struct uhv *h, struct vm *vm, const u8 *in,
			     size_t len, u8 *out, size_t out_max,
			     size_t *out_len, bool *more, char *msg)
{
	struct vm_gdb *g = session(h, vm);

	(void)msg;
	gdb_input(&g->stub, in, (u32)len);
	settle_steps(g);
	*out_len = gdb_output(&g->stub, out, (u32)out_max);
	*more = g->stub.out_len > 0;
	return CTL_OK;
}

/*
 * A step without the monitor trap flag (Bochs has none): RFLAGS.TF makes
 * the CPU raise a #DB with DR6.BS after the next instruction (SDM Vol.
 * 3B §18.3.1.4), which exits. The guest's own TF comes back when it does
 * (tf_step_done); meanwhile an instruction that pushes RFLAGS (PUSHF, an
 * interrupt: none is injected during a step) would see TF set.
 */
static void tf_step_start(struct vm_gdb *g, struct vcpu *v)
{
	u64 fl = arch_vcpu_get(&v->arch, AREG_RFLAGS);

	if (!g->said_no_mtf) {
		printk("uhv: vm %s: gdb: the CPU has no monitor trap flag: "
		       "steps by RFLAGS.TF\n", v->vm->name);
		g->said_no_mtf = true;
	}
	g->guest_tf[v->id] = fl & RFLAGS_TF;
	g->tf_step[v->id] = true;
	arch_vcpu_set(&v->arch, AREG_RFLAGS, fl | RFLAGS_TF);
	arch_vcpu_debug_intercepts(&v->arch, g->bp, true, false);
}

/* The step's #DB: TF as the guest had it. */
static void tf_step_done(struct vm_gdb *g, struct vcpu *v)
{
	u64 fl = arch_vcpu_get(&v->arch, AREG_RFLAGS);

	g->tf_step[v->id] = false;
	if (!g->guest_tf[v->id])
		arch_vcpu_set(&v->arch, AREG_RFLAGS, fl & ~RFLAGS_TF);
	v->dbg_dirty = true;
}

/*
 * The session's hold on v, before its entry (v loaded). While gdb has
 * hardware slots, the debug registers are its own: the guest's are set
 * aside at the first and put back after the last.
 */
void vm_gdb_apply(struct vcpu *v)
{
	struct vm_gdb *g = v->vm->gdb;
	int id = v->id;

	v->dbg_dirty = false;
	if (!g)
		return;
	if (g->slots && !g->guest_dr_saved[id]) {
		arch_vcpu_get_dr(&v->arch, g->guest_dr[id], &g->guest_dr7[id]);
		g->guest_dr_saved[id] = true;
	}
	if (g->slots)
		arch_vcpu_set_dr(&v->arch, g->dr, g->dr7 | DR7_RESERVED_1);
	else if (g->guest_dr_saved[id]) {
		arch_vcpu_set_dr(&v->arch, g->guest_dr[id], g->guest_dr7[id]);
		g->guest_dr_saved[id] = false;
	}
	if (g->tf_step[id] && !v->dbg_stepping)   /* gdb no longer waits */
		tf_step_done(g, v);
	if (!arch_vcpu_debug_intercepts(&v->arch, g->bp, g->slots != 0,
					v->dbg_stepping))
		tf_step_start(g, v);
}

/* The linear address of v's RIP (CS base + RIP, Vol. 3A §3.4) and its
   guest-physical address, or ~0 where the page tables map none. */
static void rip_addresses(struct vcpu *v, u64 *lin, u64 *gpa)
{
	struct arch_vcpu *a = &v->arch;

	*lin = arch_vcpu_get(a, AREG_RIP);
	if (!(arch_vcpu_get(a, AREG_EFER) & EFER_LMA))
		*lin = (u32)(*lin + arch_vcpu_get(a, AREG_CS_BASE));
	if (!emu_translate(&v->vm->mem, arch_vcpu_get(a, AREG_CR0),
			   arch_vcpu_get(a, AREG_CR3), arch_vcpu_get(a, AREG_CR4),
			   arch_vcpu_get(a, AREG_EFER), *lin, gpa))
		*gpa = ~0ULL;
}

/* The slot of gdb's whose breakpoint a #DB reports (its exit
   qualification's B0-B3), or -1: the guest's own #DB. */
static int hw_slot_hit(const struct vm_gdb *g, u64 qual)
{
	u32 hits = (u32)qual & g->slots & ((1U << DR_COUNT) - 1);

	return hits ? __builtin_ctz(hits) : -1;
}

enum exit_action vm_gdb_exception(struct vcpu *v, const struct arch_exit *e)
{
	struct vm_gdb *g = v->vm->gdb;
	u64 lin, gpa;
	int slot;

	if (g && e->intr.vector == X86_EXC_BP) {
		rip_addresses(v, &lin, &gpa);
		if (gdb_sw_breakpoint_at(&g->stub, lin, gpa)) {
			report_stop(g, &(struct gdb_stop){ .why = GDB_STOP_BREAK,
							   .vcpu = v->id }, true);
			return EXIT_YIELD;
		}
	}
	if (g && e->intr.vector == X86_EXC_DB && g->tf_step[v->id] &&
	    (e->qual & DR6_BS)) {
		tf_step_done(g, v);
		if (g->guest_tf[v->id])     /* the guest's own trap as well */
			arch_vcpu_reflect_exception(&v->arch, e);
		report_stop(g, &(struct gdb_stop){ .why = GDB_STOP_STEP,
						   .vcpu = v->id }, true);
		return EXIT_YIELD;
	}
	if (g && e->intr.vector == X86_EXC_DB &&
	    (slot = hw_slot_hit(g, e->qual)) >= 0) {
		report_stop(g, &(struct gdb_stop){ .why = GDB_STOP_HW,
			.vcpu = v->id, .slot = slot, .data_addr = g->dr[slot] },
			true);
		return EXIT_YIELD;
	}
	arch_vcpu_reflect_exception(&v->arch, e);
	return EXIT_RESUME;
}

enum exit_action vm_gdb_step_exit(struct vcpu *v, const struct arch_exit *e)
{
	struct vm_gdb *g = v->vm->gdb;

	(void)e;
	if (g && v->dbg_stepping) {
		report_stop(g, &(struct gdb_stop){ .why = GDB_STOP_STEP,
						   .vcpu = v->id }, true);
		return EXIT_YIELD;
	}
	/* a step gdb no longer wants (it detached): just go on */
	arch_vcpu_debug_intercepts(&v->arch, g && g->bp, g && g->slots, false);
	return EXIT_RESUME;
}

void vm_gdb_slice_end(struct vcpu *v)
{
	struct vm_gdb *g = v->vm->gdb;

	if (g && v->dbg_stepping && v->state == VCPU_HALTED)
		report_stop(g, &(struct gdb_stop){ .why = GDB_STOP_STEP,
						   .vcpu = v->id }, true);
}

void vm_gdb_vm_stopped(struct vm *vm)
{
	struct vm_gdb *g = vm->gdb;

	if (!g)
		return;
	gdb_stopped(&g->stub, &(struct gdb_stop){ .why = GDB_STOP_EXITED,
		.status = vm->result == VM_EXITED ? vm->exit_status : 0 });
	flush_events(g);
}

void vm_gdb_reset(struct vm *vm)
{
	vm->gdb = NULL;
	vm->dbg_stopped = false;
	for (int i = 0; i < VM_MAX_VCPUS; i++) {
		vm->vcpus[i].dbg_stepping = false;
		vm->vcpus[i].dbg_dirty = false;
	}
}
