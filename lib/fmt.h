/*
 * printf-style formatting into a buffer, freestanding.
 * Supports %s %c %d %i %u %x %X %p and the l/ll/z length modifiers,
 * a '0' flag, a '-' flag and a field width: enough for register dumps.
 */
#ifndef UHV_LIB_FMT_H
#define UHV_LIB_FMT_H

#include <stdarg.h>
#include "lib/types.h"

/* Returns the length it would have written; always NUL-terminates. */
int fmt_vsn(char *buf, size_t size, const char *fmt, va_list ap);
int fmt_sn(char *buf, size_t size, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

#endif
