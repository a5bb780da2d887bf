/*
 * Polled 16550 driver for COM1 (register map: National Semiconductor
 * PC16550D data sheet). uhv programs 115200 8N1 with FIFOs on. Writing
 * into a full FIFO loses characters (seen under Bochs as "transmit FIFO
 * overflow"), so uhv waits for LSR.THRE, which in FIFO mode means the
 * whole 16-byte FIFO is empty, and then writes up to 16 bytes without
 * polling again: a sixteenth of the waiting of a byte-at-a-time driver.
 */
#include "serial.h"
#include "../arch/x86/cpu.h"

#define COM1          0x3f8
#define UART_THR      0   /* transmit holding (write, DLAB=0) */
#define UART_RBR      0   /* receive buffer (read, DLAB=0) */
#define UART_DLL      0   /* divisor latch low (DLAB=1) */
#define UART_IER      1   /* interrupt enable (DLAB=0) */
#define UART_DLM      1   /* divisor latch high (DLAB=1) */
#define UART_FCR      2   /* FIFO control (write) */
#define UART_LCR      3   /* line control */
#define UART_MCR      4   /* modem control */
#define UART_LSR      5   /* line status */

#define LCR_8N1       0x03
#define LCR_DLAB      0x80
#define FCR_ENABLE_CLEAR 0x07  /* enable FIFOs, clear RX and TX */
#define MCR_DTR_RTS   0x03
#define LSR_DATA_READY 0x01
#define LSR_THR_EMPTY 0x20
#define LSR_TX_IDLE   0x40    /* FIFO and shift register empty */
#define DIVISOR_115200 1       /* 1.8432 MHz / 16 / 115200 */
#define TX_FIFO_BYTES 16

static unsigned tx_room;       /* bytes the FIFO takes before the next poll */

void serial_init(void)
{
	outb(COM1 + UART_IER, 0);
	outb(COM1 + UART_LCR, LCR_DLAB);
	outb(COM1 + UART_DLL, DIVISOR_115200);
	outb(COM1 + UART_DLM, 0);
	outb(COM1 + UART_LCR, LCR_8N1);
	outb(COM1 + UART_FCR, FCR_ENABLE_CLEAR);
	outb(COM1 + UART_MCR, MCR_DTR_RTS);
}

void serial_putc(char c)
{
	if (!tx_room) {
		while (!(inb(COM1 + UART_LSR) & LSR_THR_EMPTY))
			;
		tx_room = TX_FIFO_BYTES;
	}
	tx_room--;
	outb(COM1 + UART_THR, (u8)c);
}

int serial_getc(void)
{
	if (!(inb(COM1 + UART_LSR) & LSR_DATA_READY))
		return -1;
	return inb(COM1 + UART_RBR);
}

void serial_drain(void)
{
	while (!(inb(COM1 + UART_LSR) & LSR_TX_IDLE))
		;
}
