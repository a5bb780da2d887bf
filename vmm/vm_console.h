/*
 * The VMs' UART output on uhv's console, each line as "[NAME] text".
 *
 * The VM with the console focus (the one that gets the keys) is passed on
 * byte by byte, as a terminal on its serial port would show it: a
 * prompt, the keys it echoes, its escape sequences. Its line is prefixed
 * once, at its start; when other output comes in between (another VM's
 * line, one of uhv's), the line is ended there and shown whole again,
 * prefix included, as it goes on: every line appears whole at least
 * once, so a log can still be read line by line. The other VMs are
 * passed on a line at a time, with control characters shown as '.' (a
 * guest in the background cannot drive the terminal).
 */
#ifndef UHV_VMM_VM_CONSOLE_H
#define UHV_VMM_VM_CONSOLE_H

#include "vmm/dev/uart.h"

/* The UART's emit hook: a whole line (or one cut at UART_LINE_MAX, or
   left at a stop) of the VM named name. */
void vm_console_line(struct uart *u, const char *name, const char *line,
		     unsigned len);
/* The UART's partial hook: the line so far, after a byte. */
void vm_console_partial(struct uart *u, const char *name, const char *line,
			unsigned len);
/* The focused VM's UART and name (NULL: none); its unfinished line, if
   any, is shown at once (its prompt). */
void vm_console_focus(struct uart *u, const char *name);

#endif
