/*
 * Thin inline wrappers around privileged x86 instructions. Only code under
 * arch/x86 and drivers/ includes this: device models never touch hardware.
 */
#ifndef UHV_ARCH_CPU_H
#define UHV_ARCH_CPU_H

#include "lib/types.h"

/* CR0 (SDM Vol. 3A §2.5). */
#define CR0_PE (1ULL << 0)
#define CR0_MP (1ULL << 1)
#define CR0_EM (1ULL << 2)
#define CR0_TS (1ULL << 3)
#define CR0_ET (1ULL << 4)
#define CR0_NE (1ULL << 5)
#define CR0_WP (1ULL << 16)
#define CR0_NW (1ULL << 29)
#define CR0_CD (1ULL << 30)
#define CR0_PG (1ULL << 31)

/* CR4. */
#define CR4_PAE     (1ULL << 5)
#define CR4_VMXE    (1ULL << 13)
#define CR4_PCIDE   (1ULL << 17)
#define CR4_OSXSAVE (1ULL << 18)
/* CR4 bits of features uhv does not show guests (vmm/cpuid_policy.c):
   5-level paging, SMX, protection keys, CET, supervisor keys, user
   interrupts. uhv owns them, so a guest's attempt to set one exits and
   gets #GP, as on a CPU without the feature. */
#define CR4_LA57    (1ULL << 12)
#define CR4_SMXE    (1ULL << 14)
#define CR4_PKE     (1ULL << 22)
#define CR4_CET     (1ULL << 23)
#define CR4_PKS     (1ULL << 24)
#define CR4_UINTR   (1ULL << 25)
#define CR4_HIDDEN  (CR4_LA57 | CR4_SMXE | CR4_PKE | CR4_CET | CR4_PKS | CR4_UINTR)

/* RFLAGS. */
#define RFLAGS_FIXED (1ULL << 1)  /* bit 1 always reads as 1 */
#define RFLAGS_TF    (1ULL << 8)  /* trap: single-step (SDM Vol. 3A §2.3) */
#define RFLAGS_IF    (1ULL << 9)
#define RFLAGS_RF    (1ULL << 16) /* resume: no instruction breakpoint */

/* IA32_DEBUGCTL.BTF: TF single-steps on branches (SDM Vol. 3B §18.4.1). */
#define DEBUGCTL_BTF (1ULL << 1)

/* CPUID.1:ECX feature bits uhv tests or hides (SDM Vol. 2A, CPUID). */
/* CPUID.1:EAX: family, model and stepping, without reserved bits. */
#define CPUID_1_EAX_SIGNATURE_MASK 0x0fff3fffU
#define CPUID_1_ECX_MONITOR    (1U << 3)
#define CPUID_1_ECX_VMX        (1U << 5)
#define CPUID_1_ECX_SMX        (1U << 6)
#define CPUID_1_ECX_PDCM       (1U << 15)
#define CPUID_1_ECX_X2APIC     (1U << 21)
#define CPUID_1_ECX_TSC_DEADLINE (1U << 24)
#define CPUID_1_ECX_XSAVE      (1U << 26)
#define CPUID_1_ECX_OSXSAVE    (1U << 27)
#define CPUID_1_ECX_HYPERVISOR (1U << 31)

struct cpuid_regs {
	u32 eax, ebx, ecx, edx;
};

static inline void cpuid(u32 leaf, u32 sub, struct cpuid_regs *r)
{
	__asm__ volatile("cpuid"
			 : "=a"(r->eax), "=b"(r->ebx), "=c"(r->ecx), "=d"(r->edx)
			 : "a"(leaf), "c"(sub));
}

static inline u64 rdmsr(u32 msr)
{
	u32 lo, hi;

	__asm__ volatile("rdmsr" : "=a"(lo), "=d"(hi) : "c"(msr));
	return ((u64)hi << 32) | lo;
}

static inline void wrmsr(u32 msr, u64 v)
{
	__asm__ volatile("wrmsr" ::"c"(msr), "a"((u32)v), "d"((u32)(v >> 32)));
}

/* Loads RSP with stack_top and calls fn(arg); never returns (entry.asm). */
__attribute__((noreturn))
void arch_call_on_stack(void *stack_top, void (*fn)(const void *arg),
			const void *arg);

static inline u64 rdtsc(void)
{
	u32 lo, hi;

	__asm__ volatile("rdtsc" : "=a"(lo), "=d"(hi));
	return ((u64)hi << 32) | lo;
}

#define DEFINE_CR_ACCESS(n)                                                \
	static inline u64 read_cr##n(void)                                 \
	{                                                                  \
		u64 v;                                                     \
		__asm__ volatile("mov %%cr" #n ", %0" : "=r"(v));          \
		return v;                                                  \
	}                                                                  \
	static inline void write_cr##n(u64 v)                              \
	{                                                                  \
		__asm__ volatile("mov %0, %%cr" #n ::"r"(v) : "memory");   \
	}
DEFINE_CR_ACCESS(0)
DEFINE_CR_ACCESS(2)
DEFINE_CR_ACCESS(3)
DEFINE_CR_ACCESS(4)
#undef DEFINE_CR_ACCESS

/* Debug registers DR0-DR3 (breakpoint addresses) and DR6 (status). */
#define DEFINE_DR_ACCESS(n)                                                \
	static inline u64 read_dr##n(void)                                 \
	{                                                                  \
		u64 v;                                                     \
		__asm__ volatile("mov %%db" #n ", %0" : "=r"(v));          \
		return v;                                                  \
	}                                                                  \
	static inline void write_dr##n(u64 v)                              \
	{                                                                  \
		__asm__ volatile("mov %0, %%db" #n ::"r"(v));              \
	}
DEFINE_DR_ACCESS(0)
DEFINE_DR_ACCESS(1)
DEFINE_DR_ACCESS(2)
DEFINE_DR_ACCESS(3)
DEFINE_DR_ACCESS(6)
#undef DEFINE_DR_ACCESS

static inline void outb(u16 port, u8 v)
{
	__asm__ volatile("outb %0, %1" ::"a"(v), "Nd"(port));
}

static inline u8 inb(u16 port)
{
	u8 v;

	__asm__ volatile("inb %1, %0" : "=a"(v) : "Nd"(port));
	return v;
}

static inline void outw(u16 port, u16 v)
{
	__asm__ volatile("outw %0, %1" ::"a"(v), "Nd"(port));
}

static inline u16 inw(u16 port)
{
	u16 v;

	__asm__ volatile("inw %1, %0" : "=a"(v) : "Nd"(port));
	return v;
}

static inline void outl(u16 port, u32 v)
{
	__asm__ volatile("outl %0, %1" ::"a"(v), "Nd"(port));
}

static inline u32 inl(u16 port)
{
	u32 v;

	__asm__ volatile("inl %1, %0" : "=a"(v) : "Nd"(port));
	return v;
}

/* String port I/O: n 16-bit words between port and memory (DF is clear). */
static inline void insw(u16 port, void *buf, size_t n)
{
	__asm__ volatile("rep insw" : "+D"(buf), "+c"(n) : "d"(port) : "memory");
}

static inline void outsw(u16 port, const void *buf, size_t n)
{
	__asm__ volatile("rep outsw" : "+S"(buf), "+c"(n) : "d"(port) : "memory");
}

static inline void cpu_cli(void)
{
	__asm__ volatile("cli" ::: "memory");
}

static inline void cpu_halt_forever(void)
{
	for (;;)
		__asm__ volatile("cli; hlt");
}

static inline u64 xgetbv(u32 xcr)
{
	u32 lo, hi;

	__asm__ volatile("xgetbv" : "=a"(lo), "=d"(hi) : "c"(xcr));
	return ((u64)hi << 32) | lo;
}

static inline void xsetbv(u32 xcr, u64 v)
{
	__asm__ volatile("xsetbv" ::"c"(xcr), "a"((u32)v), "d"((u32)(v >> 32)));
}

#endif
