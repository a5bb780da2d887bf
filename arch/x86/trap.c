/*
 * uhv's own exceptions are bugs: print everything a developer needs (the
 * vector by name, error code, the interrupted context, all registers and
 * control registers) and stop the machine cleanly.
 */
#include "arch/x86/cpu.h"
#include "arch/x86/power.h"
#include "arch/x86/mce.h"
#include "drivers/console.h"

/* Pushed by trap_stubs.asm, lowest address first. */
struct trap_frame {
	u64 r15, r14, r13, r12, r11, r10, r9, r8;
	u64 rbp, rdi, rsi, rdx, rcx, rbx, rax;
	u64 vector, error_code;
	u64 rip, cs, rflags, rsp, ss;   /* pushed by the CPU */
};

static const char *const exception_names[32] = {
	"#DE divide error", "#DB debug", "NMI", "#BP breakpoint",
	"#OF overflow", "#BR bound range", "#UD invalid opcode",
	"#NM device not available", "#DF double fault", "coprocessor overrun",
	"#TS invalid TSS", "#NP segment not present", "#SS stack fault",
	"#GP general protection", "#PF page fault", "reserved 15",
	"#MF x87 error", "#AC alignment check", "#MC machine check",
	"#XM SIMD error", "#VE virtualization", "#CP control protection",
};

void trap_handler(struct trap_frame *f);

#define VEC_MC 18

/* A machine check in VMX root: the banks say what failed (SDM Vol. 3B
   §16.3); uhv's own state cannot be trusted after it, so it stops. */
static void report_machine_check(void)
{
	struct arch_mce m;

	arch_mce_read(&m);
	arch_mce_report(&m, "machine check in the hypervisor");
}

void trap_handler(struct trap_frame *f)
{
	const char *name = f->vector < 32 && exception_names[f->vector] ?
			   exception_names[f->vector] : "reserved";

	printk("\nuhv: PANIC: exception %llu (%s), error code 0x%llx\n",
	       (unsigned long long)f->vector, name,
	       (unsigned long long)f->error_code);
	if (f->vector == VEC_MC)
		report_machine_check();
	printk("  rip %016llx cs %04llx rflags %016llx\n", (unsigned long long)f->rip,
	       (unsigned long long)f->cs, (unsigned long long)f->rflags);
	printk("  rsp %016llx ss %04llx\n", (unsigned long long)f->rsp,
	       (unsigned long long)f->ss);
	printk("  rax %016llx rbx %016llx rcx %016llx\n", (unsigned long long)f->rax,
	       (unsigned long long)f->rbx, (unsigned long long)f->rcx);
	printk("  rdx %016llx rsi %016llx rdi %016llx\n", (unsigned long long)f->rdx,
	       (unsigned long long)f->rsi, (unsigned long long)f->rdi);
	printk("  rbp %016llx r8  %016llx r9  %016llx\n", (unsigned long long)f->rbp,
	       (unsigned long long)f->r8, (unsigned long long)f->r9);
	printk("  r10 %016llx r11 %016llx r12 %016llx\n", (unsigned long long)f->r10,
	       (unsigned long long)f->r11, (unsigned long long)f->r12);
	printk("  r13 %016llx r14 %016llx r15 %016llx\n", (unsigned long long)f->r13,
	       (unsigned long long)f->r14, (unsigned long long)f->r15);
	printk("  cr0 %016llx cr2 %016llx cr3 %016llx cr4 %016llx\n",
	       (unsigned long long)read_cr0(), (unsigned long long)read_cr2(),
	       (unsigned long long)read_cr3(), (unsigned long long)read_cr4());
	power_off("uhv stopped after an exception in the hypervisor");
}
