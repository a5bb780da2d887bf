/*
 * printk: formatted output on uhv's console (COM1), with "\n" sent as
 * "\r\n" for terminals.
 */
#ifndef UHV_DRIVERS_CONSOLE_H
#define UHV_DRIVERS_CONSOLE_H

#include "../lib/types.h"

void console_write(const char *s, size_t n);
void printk(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

#endif
