/*
 * An emulated 16550 UART (the guest's COM1 at 0x3F8). Output is collected
 * into lines and handed to a sink (uhv prints them as "[NAME] text").
 * Transmission is instant, so LSR always reports an empty transmitter.
 */
#ifndef UHV_VMM_UART_H
#define UHV_VMM_UART_H

#include "../lib/types.h"

#define UART_PORT_BASE 0x3f8
#define UART_PORT_LEN  8
#define UART_LINE_MAX  160

struct uart {
	u8 ier, lcr, mcr, scr, dll, dlm;
	char line[UART_LINE_MAX];
	unsigned len;
	u64 bytes_out;
	void (*emit)(void *ctx, const char *line, unsigned len);
	void *ctx;
};

void uart_init(struct uart *u, void (*emit)(void *, const char *, unsigned),
	       void *ctx);
u64 uart_read(void *dev, u64 off, unsigned size);
void uart_write(void *dev, u64 off, unsigned size, u64 val);
/* Emits a partial line (when the VM stops). */
void uart_flush(struct uart *u);

#endif
