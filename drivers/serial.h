/*
 * uhv's 16550 UARTs, polled (uhv takes no interrupts): COM1 is uhv's
 * console; other ports (COM2: the control channel, docs/protocol.md)
 * use the struct serial_port calls.
 */
#ifndef UHV_DRIVERS_SERIAL_H
#define UHV_DRIVERS_SERIAL_H

#include "lib/types.h"
#include "lib/bytering.h"

#define SERIAL_COM1 0x3f8
#define SERIAL_COM2 0x2f8
#define SERIAL_COM3 0x3e8
#define SERIAL_COM4 0x2e8
#define SERIAL_BAUD_DEFAULT 115200

struct serial_port {
	u16 base;              /* I/O base, e.g. SERIAL_COM2 */
	unsigned tx_room;      /* bytes the FIFO takes before the next poll */
};

/* Programs port at base for 115200 8N1 with FIFOs; false if no UART
   answers there (its scratch register does not hold a value). */
bool serial_port_init(struct serial_port *p, u16 base);
/* Writes one byte, waiting for room in the FIFO. */
void serial_port_putc(struct serial_port *p, char c);
/* Writes as many of buf[0..len) as the FIFO takes now, without waiting;
   the number written. */
size_t serial_port_write(struct serial_port *p, const u8 *buf, size_t len);
/* Sends the oldest bytes of ring, as many as the FIFO takes now,
   without waiting. */
void serial_port_send(struct serial_port *p, struct bytering *ring);
/* A received byte, or -1 if none is waiting. */
int serial_port_getc(struct serial_port *p);
/* Waits until every byte written has left the UART. */
void serial_port_drain(struct serial_port *p);

/* The console: COM1 until serial_console_select moves it. */
void serial_init(void);
/* Moves the console to the 16550 at base, programmed for baud (a
   divisor of 115200); false, and the console stays, if no UART answers. */
bool serial_console_select(u16 base, u32 baud);
void serial_putc(char c);
/* Waits until every byte written has left the UART (before power off). */
void serial_drain(void);
/* Returns a received byte, or -1 if none is waiting. */
int serial_getc(void);

#endif
