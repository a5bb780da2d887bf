/*
 * Polled 16550 driver (register map: National Semiconductor PC16550D data
 * sheet). uhv programs 115200 8N1 with FIFOs on. Writing into a full FIFO
 * loses characters (seen under Bochs as "transmit FIFO overflow"), so uhv
 * waits for LSR.THRE, which in FIFO mode means the whole 16-byte FIFO is
 * empty, and then writes up to 16 bytes without polling again: a
 * sixteenth of the waiting of a byte-at-a-time driver.
 */
#include "drivers/serial.h"
#include "arch/x86/cpu.h"

#define UART_THR      0   /* transmit holding (write, DLAB=0) */
#define UART_RBR      0   /* receive buffer (read, DLAB=0) */
#define UART_DLL      0   /* divisor latch low (DLAB=1) */
#define UART_IER      1   /* interrupt enable (DLAB=0) */
#define UART_DLM      1   /* divisor latch high (DLAB=1) */
#define UART_FCR      2   /* FIFO control (write) */
#define UART_LCR      3   /* line control */
#define UART_MCR      4   /* modem control */
#define UART_LSR      5   /* line status */
#define UART_SCR      7   /* scratch: any value, read back as written */

#define LCR_8N1       0x03
#define LCR_DLAB      0x80
#define FCR_ENABLE_CLEAR 0x07  /* enable FIFOs, clear RX and TX */
#define MCR_DTR_RTS   0x03
#define LSR_DATA_READY 0x01
#define LSR_THR_EMPTY 0x20
#define LSR_TX_IDLE   0x40    /* FIFO and shift register empty */
#define DIVISOR_115200 1       /* 1.8432 MHz / 16 / 115200 */
#define BAUD_MAX      115200
#define TX_FIFO_BYTES 16
#define SCR_PROBE     0x5a

static struct serial_port com1 = { SERIAL_COM1, 0 };

/* serial_port_init at another rate: divisor = 115200 / baud. */
static bool port_init_baud(struct serial_port *p, u16 base, u16 divisor)
{
	p->base = base;
	p->tx_room = 0;
	outb(base + UART_SCR, SCR_PROBE);     /* no UART: reads back 0xff */
	if (inb(base + UART_SCR) != SCR_PROBE)
		return false;
	outb(base + UART_IER, 0);
	outb(base + UART_LCR, LCR_DLAB);
	outb(base + UART_DLL, (u8)divisor);
	outb(base + UART_DLM, (u8)(divisor >> 8));
	outb(base + UART_LCR, LCR_8N1);
	outb(base + UART_FCR, FCR_ENABLE_CLEAR);
	outb(base + UART_MCR, MCR_DTR_RTS);
	return true;
}

bool serial_port_init(struct serial_port *p, u16 base)
{
	return port_init_baud(p, base, DIVISOR_115200);
}

bool serial_console_select(u16 base, u32 baud)
{
	struct serial_port p;

	if (!baud || baud > BAUD_MAX || BAUD_MAX % baud)
		return false;
	serial_port_drain(&com1);      /* what was written goes out first */
	if (!port_init_baud(&p, base, (u16)(BAUD_MAX / baud)))
		return false;
	com1 = p;
	return true;
}

void serial_port_putc(struct serial_port *p, char c)
{
	if (!p->tx_room) {
		while (!(inb(p->base + UART_LSR) & LSR_THR_EMPTY))
			;
		p->tx_room = TX_FIFO_BYTES;
	}
	p->tx_room--;
	outb(p->base + UART_THR, (u8)c);
}

size_t serial_port_write(struct serial_port *p, const u8 *buf, size_t len)
{
	size_t n = 0;

	if (!p->tx_room && (inb(p->base + UART_LSR) & LSR_THR_EMPTY))
		p->tx_room = TX_FIFO_BYTES;
	for (; n < len && p->tx_room; n++, p->tx_room--)
		outb(p->base + UART_THR, buf[n]);
	return n;
}

void serial_port_send(struct serial_port *p, struct bytering *ring)
{
	const u8 *bytes;
	u32 n;

	while ((n = bytering_peek(ring, &bytes))) {
		size_t sent = serial_port_write(p, bytes, n);

		bytering_consume(ring, (u32)sent);
		if (sent < n)
			return;          /* the FIFO is full */
	}
}

int serial_port_getc(struct serial_port *p)
{
	if (!(inb(p->base + UART_LSR) & LSR_DATA_READY))
		return -1;
	return inb(p->base + UART_RBR);
}

void serial_port_drain(struct serial_port *p)
{
	while (!(inb(p->base + UART_LSR) & LSR_TX_IDLE))
		;
}

void serial_init(void)
{
	serial_port_init(&com1, SERIAL_COM1);
}

void serial_putc(char c)
{
	serial_port_putc(&com1, c);
}

int serial_getc(void)
{
	return serial_port_getc(&com1);
}

void serial_drain(void)
{
	serial_port_drain(&com1);
}
