/* gdbtarget - the guest gdb debugs (tests/system/gdb.sh): built with
 * symbols and line numbers (-g), a function to break at (tick), a
 * variable to watch (counter) and one that only gdb writes (poked).
 *
 * It waits for gdb: gdb_attached is 0 until gdb sets it, so the run
 * cannot finish before gdb is there. Then it calls tick for each round,
 * and passes only if gdb wrote GDB_POKE into poked while it ran: proof
 * from inside that gdb's memory writes (M packets) reached its RAM. The
 * harness checks the rest from gdb's side: where it stopped, what it read,
 * that the watchpoint fired with the old and new values. */
#include "guest.h"

#define NAME "gdbtarget"
#define ROUNDS 4
#define GDB_POKE 0x1234abcdU

volatile u32 gdb_attached;   /* gdb sets it to 1 */
volatile u32 counter;        /* gdb watches it: 1, 4, 7, 10 */
volatile u32 poked;          /* gdb writes GDB_POKE */

/* A round's work, not inlined: gdb breaks here. */
__attribute__((noinline)) void tick(u32 round)
{
    counter = round * 3 + 1;
}

/* See the file comment. */
void guest_main(u32 magic, const struct mb_info *mbi)
{
    (void)mbi;
    require_multiboot(NAME, magic);
    gprintf("gdbtarget: waiting for gdb\n");
    while (!gdb_attached)
        __asm__ volatile("pause");
    gprintf("gdbtarget: gdb is here\n");
    for (u32 round = 0; round < ROUNDS; round++)
        tick(round);
    gprintf("gdbtarget: counter %u poked 0x%x\n", counter, poked);
    if (counter != (ROUNDS - 1) * 3 + 1)
        fail(NAME, "counter is %u", counter);
    if (poked != GDB_POKE)
        fail(NAME, "poked is 0x%x, not 0x%x: gdb's write never arrived",
             poked, GDB_POKE);
    pass(NAME);
}
