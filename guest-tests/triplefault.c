/* triplefault - a VM that triple faults.  Loads an empty IDT (limit 0) and
 * executes INT3: #BP cannot be delivered -> #GP, which cannot either ->
 * #DF, which cannot either -> triple fault (shutdown).  uhv should report
 * "triple-fault"; QEMU with -no-reboot exits. */
#include "guest.h"

#define NAME "triplefault"

struct __attribute__((packed)) idt_ptr {
    u16 limit;
    u32 base;
};

/* See the file comment. */
void guest_main(u32 magic, const struct mb_info *mbi)
{
    (void)mbi;
    require_multiboot(NAME, magic);
    static const struct idt_ptr empty = { 0, 0 };
    gprintf("about to triple fault\n");
    __asm__ volatile("lidt %0; int3" : : "m"(empty));
    fail(NAME, "still running after int3 with an empty IDT");
}
