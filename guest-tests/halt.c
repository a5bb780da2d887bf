/* halt - a VM that halts with interrupts off and never wakes up.  uhv
 * should stop it and report "halted"; it must not hang uhv or other VMs.
 * Never exits by itself (under QEMU it hangs: use a timeout). */
#include "guest.h"

/* See the file comment. */
void guest_main(u32 magic, const struct mb_info *mbi)
{
    (void)mbi;
    require_multiboot("halt", magic);
    gprintf("halting forever\n");
    halt_forever();
}
