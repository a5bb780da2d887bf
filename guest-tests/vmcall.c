/* vmcall - uhv's hypercall (docs/interfaces.md, vmm/cpu_exits.c):
 * VMCALL with EAX=0 returns uhv's version, (major << 16) | minor as
 * lib/version.h defines it; with EAX=1 uhv prints the byte in EBX on this
 * VM's console, as if written to the UART; any other function returns all
 * ones.  The guest checks the two return values and prints
 * "VMCALL 0: version 0.2 (0x2)" only after; it writes one line, MESSAGE,
 * through VMCALL 1 alone (never through the UART), so the harness
 * (tests/system/basic.test) sees that line only if uhv printed each byte.
 * VMCALLs made: 1 + 1 + strlen(MESSAGE) + 1 (the newline). */
#include "guest.h"
#include "../lib/version.h"          /* uhv's, not the guest library's */

#define NAME            "vmcall"
#define VMCALL_VERSION  0u
#define VMCALL_PUTCHAR  1u
#define VMCALL_BOGUS    0x7FFFu          /* no such function */
#define VMCALL_UNKNOWN  0xFFFFFFFFu      /* ~0, as EAX sees it */
#define MESSAGE         "written through VMCALL 1, one byte a call"

/* VMCALL: EAX = function, EBX = argument; returns EAX. */
static u32 vmcall(u32 fn, u32 arg)
{
    u32 ret;
    __asm__ volatile("vmcall" : "=a"(ret) : "a"(fn), "b"(arg) : "memory");
    return ret;
}

/* See the file comment. */
void guest_main(u32 magic, const struct mb_info *mbi)
{
    (void)mbi;
    require_multiboot(NAME, magic);
    u32 version = vmcall(VMCALL_VERSION, 0);
    if (version != UHV_VERSION_NUMBER)
        fail(NAME, "VMCALL 0 returned 0x%x, want 0x%x (version %s)", version,
             UHV_VERSION_NUMBER, UHV_VERSION_STRING);
    gprintf("VMCALL 0: version %u.%u (0x%x)\n", version >> 16,
            version & 0xffffu, version);
    u32 bogus = vmcall(VMCALL_BOGUS, 0);
    if (bogus != VMCALL_UNKNOWN)
        fail(NAME, "VMCALL 0x%x returned 0x%x, want 0x%x", VMCALL_BOGUS, bogus,
             VMCALL_UNKNOWN);
    gprintf("VMCALL 0x%x (no such function): 0x%x\n", VMCALL_BOGUS, bogus);
    for (const char *p = MESSAGE "\n"; *p; p++)
        if (vmcall(VMCALL_PUTCHAR, (u8)*p) != 0)
            fail(NAME, "VMCALL 1 returned non-zero for 0x%x", (u32)(u8)*p);
    pass(NAME);
}
