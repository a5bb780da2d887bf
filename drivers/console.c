#include <stdarg.h>

#include "drivers/console.h"
#include "drivers/serial.h"
#include "lib/fmt.h"

static const char printk_owner; /* printk's name as a writer */

void console_write(const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		if (s[i] == '\n')
			serial_putc('\r');
		serial_putc(s[i]);
	}
}

/* Lines longer than the buffer are cut: printk never allocates. */
void printk(const char *fmt, ...)
{
	char buf[512];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = fmt_vsn(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	console_put(&printk_owner, buf, (size_t)MIN(n, (int)sizeof(buf) - 1));
}
