/*
 * printk: formatted output on uhv's console (COM1), with "\n" sent as
 * "\r\n" for terminals.
 *
 * Several writers share the console: uhv's own lines (printk) and the
 * VMs' UARTs, whose output may stop mid-line (a shell's prompt). Each
 * writer names itself (any pointer) in console_put; when the console's
 * unfinished line is another writer's, it is ended first, so that every
 * writer's text starts at a line start.
 */
#ifndef UHV_DRIVERS_CONSOLE_H
#define UHV_DRIVERS_CONSOLE_H

#include "lib/types.h"

void console_write(const char *s, size_t n);
void printk(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* Writes s as writer who (see above); a line ended for another writer
   makes a leading "\n" of s redundant, so it is dropped. */
void console_put(const void *who, const char *s, size_t n);
/* The writer whose line is unfinished on the console; NULL at a line
   start. */
const void *console_owner(void);

#endif
