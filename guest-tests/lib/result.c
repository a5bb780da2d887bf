/* result.c - test verdicts in the format harnesses parse
 * ("PASS <name>" / "FAIL <name>: <reason>", docs/interfaces.md). */
#include "result.h"
#include "abi.h"
#include "cpu.h"
#include "io.h"
#include "serial.h"

/* Stop the VM with status (v << 1) | 1 via the debug-exit port (a 32-bit
 * OUT).  Without such a device the write does nothing, so halt after it. */
void debug_exit(u32 v)
{
    outl(DEBUG_EXIT_PORT, v);
    halt_forever();
}

/* Report success of test name and stop the VM with status 1. */
void pass(const char *name)
{
    gprintf("PASS %s\n", name);
    debug_exit(DEBUG_EXIT_PASS);
}

/* Report failure of test name with a printf-style reason; status 3. */
void fail(const char *name, const char *why_fmt, ...)
{
    va_list ap;
    gprintf("FAIL %s: ", name);
    va_start(ap, why_fmt);
    gvprintf(why_fmt, ap);
    va_end(ap);
    serial_putc('\n');
    debug_exit(DEBUG_EXIT_FAIL);
}
