/*
 * Who owns the console's unfinished line (console.h): uhv's printk and
 * the VMs' UARTs share one console, and each writer's text starts at a
 * line start. Apart from console.c so that the unit tests run it over a
 * console_write of their own.
 */
#include "drivers/console.h"

static const void *owner;       /* whose line is unfinished, or NULL */

void console_put(const void *who, const char *s, size_t n)
{
	if (!n)
		return;
	if (owner && owner != who) {
		console_write("\n", 1);
		if (*s == '\n') {
			s++;
			n--;
		}
	}
	console_write(s, n);
	if (n)
		owner = s[n - 1] == '\n' ? NULL : who;
	else
		owner = NULL;
}

const void *console_owner(void)
{
	return owner;
}

