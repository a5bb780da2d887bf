/*
 * A VM's exit trace (vm_trace.h): each VM slot has a ring of
 * TRACE_RECORDS records here, set up empty whenever its VM starts, so a
 * stopped VM's last exits stay readable until it starts again or is
 * destroyed (docs/protocol.md, "trace"). The exit path reaches this file
 * only while the VM traces: exit_handler() (exit.c) hands arch_vcpu_run
 * the recording dispatcher then, and the plain one otherwise, so an
 * untraced VM's exits cost not one instruction more.
 */
#include "vmm/vm_trace.h"
#include "vmm/exit.h"
#include "arch/x86/cpu.h"
#include "drivers/console.h"

static struct trace_rec rings[CFG_MAX_VMS][TRACE_RECORDS];

void vm_trace_start(struct vm *vm)
{
	trace_init(&vm->trace, rings[vm->id]);
	if (vm->cfg->trace == CFG_TRACE_CONSOLE)
		printk("uhv: vm %s: trace = console: its VM exits are printed "
		       "here, at most %d a second (uhvctl trace reads them all "
		       "from the ring); printing slows the VM\n", vm->name,
		       VM_TRACE_CONSOLE_PER_S);
}

void vm_trace_resumed(struct vm *vm)
{
	trace_restart_clock(&vm->trace);
}

/* The I/O instruction's port, size and kind (SDM Vol. 3C Table 28-5). */
static void io_detail(struct trace_rec *r, const struct arch_exit *e)
{
	r->kind = TRACE_IO;
	r->detail = e->io.port;
	r->aux = e->io.size | (e->io.in ? TRACE_IO_IN : 0) |
		 (e->io.string ? TRACE_IO_STRING : 0) |
		 (e->io.rep ? TRACE_IO_REP : 0);
}

/* The EPT violation's address and access (SDM Vol. 3C Table 28-7). */
static void ept_detail(struct trace_rec *r, const struct arch_exit *e)
{
	r->kind = TRACE_EPT;
	r->detail = e->ept.gpa;
	if (e->reason == EXIT_REASON_EPT_VIOLATION)
		r->aux = (e->ept.read ? TRACE_EPT_READ : 0) |
			 (e->ept.write ? TRACE_EPT_WRITE : 0) |
			 (e->ept.fetch ? TRACE_EPT_FETCH : 0);
}

/* What exit e was about, as its reason has it (exit_trace.h's kinds);
   MSR and CPUID exits name theirs in the guest's ECX and EAX. */
static void fill_detail(struct trace_rec *r, const struct vcpu *v,
			const struct arch_exit *e)
{
	const u64 *g = v->arch.regs;

	switch (e->reason) {
	case EXIT_REASON_IO_INSTRUCTION:
		io_detail(r, e);
		break;
	case EXIT_REASON_RDMSR:
	case EXIT_REASON_WRMSR:
		r->kind = TRACE_MSR;
		r->detail = (u32)g[GPR_RCX];
		r->aux = e->reason == EXIT_REASON_WRMSR ? TRACE_MSR_WRITE : 0;
		break;
	case EXIT_REASON_EPT_VIOLATION:
	case EXIT_REASON_EPT_MISCONFIG:
		ept_detail(r, e);
		break;
	case EXIT_REASON_CR_ACCESS:
		r->kind = TRACE_CR;
		r->detail = e->cr.cr;
		r->aux = e->cr.type | (u32)e->cr.gpr << TRACE_CR_GPR_SHIFT |
			 (u32)e->cr.lmsw << TRACE_CR_LMSW_SHIFT;
		break;
	case EXIT_REASON_CPUID:
		r->kind = TRACE_CPUID;
		r->detail = (u32)g[GPR_RAX];
		r->aux = (u32)g[GPR_RCX];
		break;
	default:
		break;
	}
}

/* The exits whose detail is a vector or an xAPIC offset. */
static void fill_vector(struct trace_rec *r, const struct arch_exit *e)
{
	switch (e->reason) {
	case EXIT_REASON_EXCEPTION_NMI:
	case EXIT_REASON_EXTERNAL_INTERRUPT:
		if (e->intr.valid) {
			r->kind = TRACE_VECTOR;
			r->detail = e->intr.vector;
		}
		break;
	case EXIT_REASON_SIPI:
		r->kind = TRACE_VECTOR;
		r->detail = e->sipi.vector;
		break;
	case EXIT_REASON_VIRTUALIZED_EOI:
		r->kind = TRACE_VECTOR;
		r->detail = e->eoi.vector;
		break;
	case EXIT_REASON_APIC_ACCESS:
	case EXIT_REASON_APIC_WRITE:
		r->kind = TRACE_APIC;
		r->detail = e->apic.offset;
		break;
	default:
		break;
	}
}

/* One console line for record r (seq), unless this second's are used up;
   the first line of a second says how many the last one held back. */
static void print_exit(struct vm *vm, const struct trace_rec *r, u64 now)
{
	char detail[TRACE_DETAIL_MAX];
	u64 held;

	if (!trace_pace_allow(&vm->trace.pace, now, vm->tsc_hz,
			      VM_TRACE_CONSOLE_PER_S, &held))
		return;
	if (held)
		printk("uhv: trace %s: %llu exits not printed (at most %d a "
		       "second)\n", vm->name, (unsigned long long)held,
		       VM_TRACE_CONSOLE_PER_S);
	trace_detail(r, detail, sizeof(detail));
	printk("uhv: trace %s #%llu cpu%u %s rip 0x%llx%s%s +%llu\n", vm->name,
	       (unsigned long long)trace_newest(&vm->trace), r->vcpu,
	       exit_reason_name(r->reason), (unsigned long long)r->rip,
	       detail[0] ? " " : "", detail, (unsigned long long)r->delta);
}

void vm_trace_exit(struct vcpu *v, const struct arch_exit *e)
{
	struct vm *vm = v->vm;
	u64 now = rdtsc();
	struct trace_rec *r = trace_add(&vm->trace, now);

	r->reason = (u16)e->reason;
	r->vcpu = (u8)v->id;
	r->rip = arch_vcpu_get(&v->arch, AREG_RIP);
	fill_detail(r, v, e);
	fill_vector(r, e);
	if (vm->cfg->trace == CFG_TRACE_CONSOLE)
		print_exit(vm, r, now);
}
