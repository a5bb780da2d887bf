/*
 * uhv's console: a 16550 UART on COM1, polled (uhv takes no interrupts).
 */
#ifndef UHV_DRIVERS_SERIAL_H
#define UHV_DRIVERS_SERIAL_H

#include "../lib/types.h"

void serial_init(void);
void serial_putc(char c);
/* Waits until every byte written has left the UART (before power off). */
void serial_drain(void);
/* Returns a received byte, or -1 if none is waiting. */
int serial_getc(void);

#endif
