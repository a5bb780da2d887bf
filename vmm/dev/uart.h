/*
 * An emulated 16550 UART (the guest's COM1 at 0x3F8). Output is collected
 * into lines and handed to a sink (uhv prints them as "[NAME] text"),
 * bytes as they are (control characters too: the sink decides what a
 * terminal may see); the optional partial hook sees the line after every
 * byte, so a sink can pass on a prompt before its line ends.
 * Transmission is instant, so LSR always reports an empty transmitter.
 * Input comes from uart_receive() into a 16-byte FIFO. The interrupt
 * line (IRQ 4 on a PC) follows the 16550's rules: received data and an
 * empty transmitter raise it when enabled in IER, and MCR.OUT2 gates it
 * onto the bus, as PC serial cards wire it.
 */
#ifndef UHV_VMM_UART_H
#define UHV_VMM_UART_H

#include "lib/types.h"

#define UART_PORT_BASE 0x3f8
#define UART_PORT_LEN  8
#define UART_LINE_MAX  160
#define UART_RX_FIFO   16

struct uart {
	u8 ier, lcr, mcr, scr, dll, dlm, fcr, lsr_errors;
	char line[UART_LINE_MAX];
	unsigned len;
	u8 rx[UART_RX_FIFO];
	unsigned rx_head, rx_count;
	bool thre_pending;          /* "transmitter empty" interrupt owed */
	bool irq_level;             /* the interrupt line as last driven */
	u64 bytes_out, bytes_in, rx_overruns;
	void (*emit)(void *ctx, const char *line, unsigned len);
	/* after each byte that does not end the line: the line so far */
	void (*partial)(void *ctx, const char *line, unsigned len);
	unsigned shown;             /* the sink's: bytes of line[] passed on */
	void (*irq)(void *ctx, bool level);       /* may be NULL */
	void *ctx;
};

void uart_init(struct uart *u, void (*emit)(void *, const char *, unsigned),
	       void (*irq)(void *, bool), void *ctx);
/* A byte typed on the console for this UART; false if the FIFO was full. */
bool uart_receive(struct uart *u, u8 byte);
u64 uart_read(void *dev, u64 off, unsigned size);
void uart_write(void *dev, u64 off, unsigned size, u64 val);
/* Emits a partial line (when the VM stops). */
void uart_flush(struct uart *u);

#endif
