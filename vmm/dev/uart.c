/*
 * 16550 register model (PC16550D data sheet, table 2). Register offsets
 * 0 and 1 are the divisor latch while LCR.DLAB is set.
 */
#include "vmm/dev/uart.h"

#define REG_DATA 0  /* THR on write, RBR on read */
#define REG_IER  1
#define REG_IIR  2  /* FCR on write */
#define REG_LCR  3
#define REG_MCR  4
#define REG_LSR  5
#define REG_MSR  6
#define REG_SCR  7

#define LCR_DLAB       0x80
#define IER_RX_DATA    0x01
#define IER_THRE       0x02
#define IIR_NO_INT     0x01
#define IIR_THRE       0x02
#define IIR_RX_DATA    0x04
#define IIR_FIFO_ON    0xc0
#define FCR_ENABLE     0x01
#define FCR_CLEAR_RX   0x02
#define LSR_DATA_READY 0x01
#define LSR_OVERRUN    0x02
#define LSR_THRE       0x20
#define LSR_TEMT       0x40
#define MCR_OUT2       0x08
#define MCR_LOOP       0x10
#define MSR_DCD_DSR_CTS 0xb0
#define IER_MASK       0x0f
#define MCR_MASK       0x1f

void uart_init(struct uart *u, void (*emit)(void *, const char *, unsigned),
	       void (*irq)(void *, bool), void *ctx)
{
	*u = (struct uart){ .emit = emit, .irq = irq, .ctx = ctx };
}

/* The highest-priority pending interrupt, as IIR reports it (§8.6). */
static u8 iir_source(const struct uart *u)
{
	if ((u->ier & IER_RX_DATA) && u->rx_count)
		return IIR_RX_DATA;
	if ((u->ier & IER_THRE) && u->thre_pending)
		return IIR_THRE;
	return IIR_NO_INT;
}

/* Drives the interrupt line from the current state. */
static void update_irq(struct uart *u)
{
	bool level = iir_source(u) != IIR_NO_INT && (u->mcr & MCR_OUT2);

	if (level != u->irq_level && u->irq) {
		u->irq_level = level;
		u->irq(u->ctx, level);
	}
}

bool uart_receive(struct uart *u, u8 byte)
{
	if (u->rx_count == UART_RX_FIFO) {
		u->rx_overruns++;
		u->lsr_errors |= LSR_OVERRUN;
		return false;
	}
	u->rx[(u->rx_head + u->rx_count++) % UART_RX_FIFO] = byte;
	u->bytes_in++;
	update_irq(u);
	return true;
}

static u8 rx_pop(struct uart *u)
{
	u8 b;

	if (!u->rx_count)
		return 0;
	b = u->rx[u->rx_head];
	u->rx_head = (u->rx_head + 1) % UART_RX_FIFO;
	u->rx_count--;
	update_irq(u);
	return b;
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
	u->line[u->len++] = (char)c;
	if (u->partial)
		u->partial(u->ctx, u->line, u->len);
}

static u8 read_iir(struct uart *u)
{
	u8 src = iir_source(u);

	if (src == IIR_THRE) {        /* reading IIR clears THRE (§8.6.4) */
		u->thre_pending = false;
		update_irq(u);
	}
	return src | ((u->fcr & FCR_ENABLE) ? IIR_FIFO_ON : 0);
}

static u8 read_lsr(struct uart *u)
{
	u8 v = LSR_THRE | LSR_TEMT | u->lsr_errors |
	       (u->rx_count ? LSR_DATA_READY : 0);

	u->lsr_errors = 0;            /* error bits clear on read */
	return v;
}

u64 uart_read(void *dev, u64 off, unsigned size)
{
	struct uart *u = dev;

	(void)size;
	switch (off) {
	case REG_DATA: return (u->lcr & LCR_DLAB) ? u->dll : rx_pop(u);
	case REG_IER:  return (u->lcr & LCR_DLAB) ? u->dlm : u->ier;
	case REG_IIR:  return read_iir(u);
	case REG_LCR:  return u->lcr;
	case REG_MCR:  return u->mcr;
	case REG_LSR:  return read_lsr(u);
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
		if (u->lcr & LCR_DLAB) {
			u->dll = v;
			break;
		}
		if (u->mcr & MCR_LOOP)
			uart_receive(u, v);   /* loopback: output comes back in */
		else
			put_byte(u, v);
		u->thre_pending = true;   /* sent at once: THR is empty again */
		break;
	case REG_IER:
		if (u->lcr & LCR_DLAB) {
			u->dlm = v;
			break;
		}
		/* enabling THRE with THR empty interrupts at once (§8.6.4) */
		if ((v & IER_THRE) && !(u->ier & IER_THRE))
			u->thre_pending = true;
		u->ier = v & IER_MASK;
		break;
	case REG_IIR:                 /* FCR on write */
		u->fcr = v;
		if (v & FCR_CLEAR_RX)
			u->rx_count = 0;
		break;
	case REG_LCR: u->lcr = v; break;
	case REG_MCR: u->mcr = v & MCR_MASK; break;
	case REG_SCR: u->scr = v; break;
	default: break;           /* LSR, MSR: read-only */
	}
	update_irq(u);
}
