/* cpuid - the CPUID view uhv promises: VMX hidden, hypervisor bit set and
 * the "uhv" vendor leaf at 0x40000000 (EAX = highest leaf >= 0x40000000).
 * Fails under QEMU, which has no uhv leaf. */
#include "guest.h"

#define NAME "cpuid"
#define VENDOR_REGS 3                  /* EBX, ECX, EDX */

/* Print regs as 12 characters, '.' for NUL, so "uhv\0" shows as "uhv.". */
static void print_vendor(const u32 regs[VENDOR_REGS])
{
    const char *c = (const char *)regs;
    for (u32 i = 0; i < VENDOR_REGS * sizeof regs[0]; i++)
        serial_putc(c[i] ? c[i] : '.');
}

/* See the file comment. */
void guest_main(u32 magic, const struct mb_info *mbi)
{
    (void)mbi;
    require_multiboot(NAME, magic);

    struct cpuid_regs f = cpuid(CPUID_LEAF_FEATURES, 0);
    bool vmx = f.ecx & CPUID_ECX_VMX, hv = f.ecx & CPUID_ECX_HYPERVISOR;
    gprintf("cpuid 1: ecx 0x%08x edx 0x%08x vmx %u hypervisor %u\n",
            f.ecx, f.edx, vmx, hv);

    struct cpuid_regs h = cpuid(CPUID_LEAF_HV_BASE, 0);
    u32 vendor[VENDOR_REGS] = { h.ebx, h.ecx, h.edx };
    gprintf("cpuid 0x%x: eax 0x%08x ebx 0x%08x ecx 0x%08x edx 0x%08x \"",
            CPUID_LEAF_HV_BASE, h.eax, h.ebx, h.ecx, h.edx);
    print_vendor(vendor);
    gprintf("\"\n");

    if (vmx)
        fail(NAME, "VMX visible to the guest (CPUID.1:ECX bit 5)");
    if (!hv)
        fail(NAME, "hypervisor bit clear (CPUID.1:ECX bit 31)");
    if (memcmp(vendor, UHV_SIGNATURE, UHV_SIGNATURE_LEN))
        fail(NAME, "leaf 0x%x vendor is not uhv", CPUID_LEAF_HV_BASE);
    if (h.eax < CPUID_LEAF_HV_BASE)
        fail(NAME, "leaf 0x%x eax 0x%x below 0x%x", CPUID_LEAF_HV_BASE,
             h.eax, CPUID_LEAF_HV_BASE);
    pass(NAME);
}
