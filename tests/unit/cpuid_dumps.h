#ifndef CPUID_DUMPS_H
#define CPUID_DUMPS_H
#include <stddef.h>
#include <stdint.h>
struct cpuid_dump_leaf { uint32_t leaf, sub, eax, ebx, ecx, edx; };
struct cpuid_dump {
	const char *name;            /* e.g. "Ice Lake-SP (Xeon Platinum 8380)" */
	const char *source;          /* where the values come from (URL or dump file name) */
	uint64_t arch_capabilities;  /* IA32_ARCH_CAPABILITIES (MSR 0x10A) value if known, else 0 */
	const struct cpuid_dump_leaf *leaves;
	size_t nr_leaves;
};
extern const struct cpuid_dump cpuid_dumps[];
extern const size_t nr_cpuid_dumps;
#endif
