/* serial.h - COM1 output (raw bytes and a small printf) and input. */
#ifndef GUEST_SERIAL_H
#define GUEST_SERIAL_H

#include <stdarg.h>
#include "types.h"

void serial_putc(char c);
void serial_puts(const char *s);
/* The next byte typed at this VM (uhv's console, when it has the focus),
 * waiting until the TSC reaches deadline; -1 if none came by then. */
int serial_getc_until(u64 deadline);

/* printf-lite: %s %c %d %u %x %%, optional '0' flag and width, and the
 * length modifiers l (32-bit, as on i386) and ll (64-bit): %lld %llu %llx. */
void gvprintf(const char *fmt, va_list ap);
void gprintf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

#endif
