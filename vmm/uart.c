/*
 * 16550 register model (PC16550D data sheet, table 2). Register offsets
 * 0 and 1 are the divisor latch while LCR.DLAB is set.
 */
#include "uart.h"

#define REG_DATA 0  /* THR on write, RBR on read */
#define REG_IER  1
#define REG_IIR  2  /* FCR on write */
#define REG_LCR  3
#define REG_MCR  4
#define REG_LSR  5
#define REG_MSR  6
#define REG_SCR  7

#define LCR_DLAB       0x80
#define IIR_NO_INT     0x01
#define IIR_FIFO_ON    0xc0
#define LSR_THRE       0x20
#define LSR_TEMT       0x40
#define MCR_LOOP       0x10
#define MSR_DCD_DSR_CTS 0xb0
#define IER_MASK       0x0f
#define MCR_MASK       0x1f

void uart_init(struct uart *u, void (*emit)(void *, const char *, unsigned),
	       void *ctx)
{
	*u = (struct uart){ .emit = emit, .ctx = ctx };
}

void uart_flush(struct uart *u)
{
	if (u->len)
		u->emit(u->ctx, u->line, u->len);
	u->len = 0;
}

static void put_byte(struct uart *u, u8 c)
{
	u->bytes_out++;
	if (c == '\n') {
		u->emit(u->ctx, u->line, u->len);
		u->len = 0;
		return;
	}
	if (c == '\r')
		return;
	if (u->len == UART_LINE_MAX)   /* overlong line: emit what we have */
		uart_flush(u);
	/* show control characters as '.': a guest cannot drive the terminal */
	u->line[u->len++] = (c < 0x20 || c >= 0x7f) ? '.' : (char)c;
}

u64 uart_read(void *dev, u64 off, unsigned size)
{
	struct uart *u = dev;

	(void)size;
	switch (off) {
	case REG_DATA: return (u->lcr & LCR_DLAB) ? u->dll : 0;
	case REG_IER:  return (u->lcr & LCR_DLAB) ? u->dlm : u->ier;
	case REG_IIR:  return IIR_NO_INT | IIR_FIFO_ON;
	case REG_LCR:  return u->lcr;
	case REG_MCR:  return u->mcr;
	case REG_LSR:  return LSR_THRE | LSR_TEMT;
	case REG_MSR:  return (u->mcr & MCR_LOOP) ? 0 : MSR_DCD_DSR_CTS;
	default:       return u->scr;
	}
}

void uart_write(void *dev, u64 off, unsigned size, u64 val)
{
	struct uart *u = dev;
	u8 v = (u8)val;

	(void)size;
	switch (off) {
	case REG_DATA:
		if (u->lcr & LCR_DLAB)
			u->dll = v;
		else if (!(u->mcr & MCR_LOOP))
			put_byte(u, v);
		break;
	case REG_IER:
		if (u->lcr & LCR_DLAB)
			u->dlm = v;
		else
			u->ier = v & IER_MASK;
		break;
	case REG_LCR: u->lcr = v; break;
	case REG_MCR: u->mcr = v & MCR_MASK; break;
	case REG_SCR: u->scr = v; break;
	default: break;           /* FCR, LSR, MSR: nothing to keep */
	}
}
