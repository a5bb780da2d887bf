/* serial.c - polled 16550 output and input on COM1, and printf-lite on
 * top of the output. */
#include "serial.h"
#include "abi.h"
#include "cpu.h"
#include "io.h"
#include "util.h"

#define DIGITS_MAX 24   /* a u64 in decimal is at most 20 digits */

/* Send one byte: poll LSR until THR is empty, then write THR.  The poll is
 * bounded so a UART model that never sets THRE slows us down but cannot
 * hang the test.  Lines end with a bare '\n' (uhv splits on it). */
void serial_putc(char c)
{
    for (u32 i = 0; i < UART_POLL_LIMIT; i++)
        if (inb(UART_LSR) & UART_LSR_THRE)
            break;
    outb(UART_THR, (u8)c);
}

/* Send a NUL-terminated string as is. */
void serial_puts(const char *s)
{
    while (*s)
        serial_putc(*s++);
}

/* See serial.h.  Polls LSR's data-ready bit: each poll is a VM exit,
 * which also lets uhv hand over the bytes typed meanwhile. */
int serial_getc_until(u64 deadline)
{
    while (!(inb(UART_LSR) & UART_LSR_DR))
        if (rdtsc() >= deadline)
            return -1;
    return inb(UART_RBR);
}

/* Print v in base 10 or 16, left-padded with pad to at least width. */
static void put_unsigned(u64 v, u32 base, int width, char pad)
{
    static const char digits[] = "0123456789abcdef";
    char buf[DIGITS_MAX];
    int n = 0;
    do {
        u32 r;
        v = udiv64(v, base, &r);
        buf[n++] = digits[r];
    } while (v);
    while (width-- > n)
        serial_putc(pad);
    while (n)
        serial_putc(buf[--n]);
}

/* Format fmt with ap to COM1 (see serial.h for what is understood). */
void gvprintf(const char *fmt, va_list ap)
{
    for (; *fmt; fmt++) {
        if (*fmt != '%') {
            serial_putc(*fmt);
            continue;
        }
        fmt++;
        char pad = ' ';
        int width = 0, longs = 0;
        if (*fmt == '0') {
            pad = '0';
            fmt++;
        }
        while (*fmt >= '0' && *fmt <= '9')
            width = width * 10 + (*fmt++ - '0');
        while (*fmt == 'l') {
            longs++;
            fmt++;
        }
        bool wide = longs >= 2;
        switch (*fmt) {
        case 's': {
            const char *s = va_arg(ap, const char *);
            serial_puts(s ? s : "(null)");
            break;
        }
        case 'c':
            serial_putc((char)va_arg(ap, int));
            break;
        case 'd': {
            s64 v = wide ? va_arg(ap, s64) : va_arg(ap, s32);
            if (v < 0) {
                serial_putc('-');
                v = -v;
                width--;
            }
            put_unsigned((u64)v, 10, width, pad);
            break;
        }
        case 'u':
        case 'x': {
            u64 v = wide ? va_arg(ap, u64) : va_arg(ap, u32);
            put_unsigned(v, *fmt == 'u' ? 10 : 16, width, pad);
            break;
        }
        case '%':
            serial_putc('%');
            break;
        case '\0':
            return;
        default:                 /* unknown: show it verbatim */
            serial_putc('%');
            serial_putc(*fmt);
            break;
        }
    }
}

/* printf to COM1. */
void gprintf(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    gvprintf(fmt, ap);
    va_end(ap);
}
