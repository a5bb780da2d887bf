/*
 * The device models: vmm/dev/uart.c (16550, line assembly) and vmm/dev/fwcfg.c
 * (QEMU fw_cfg, byte-wise interface).
 */
#include <string.h>
#include "unit.h"
#include "vmm/dev/uart.h"
#include "vmm/dev/fwcfg.h"

/* ---- UART ---- */

#define MAX_LINES 16

static struct uart u;
static struct sink {
	int n;
	unsigned len[MAX_LINES];
	char text[MAX_LINES][UART_LINE_MAX + 1];
} sink;

static void emit(void *ctx, const char *line, unsigned len)
{
	struct sink *s = ctx;

	ck_assert_int_lt(s->n, MAX_LINES);
	ck_assert_uint_le(len, UART_LINE_MAX);
	memcpy(s->text[s->n], line, len);
	s->text[s->n][len] = 0;
	s->len[s->n++] = len;
}

static void setup(void)
{
	memset(&sink, 0, sizeof(sink));
	memset(&u, 0x5a, sizeof(u));            /* init must clear everything */
	uart_init(&u, emit, NULL, &sink);
}

static void out(const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++)
		uart_write(&u, 0, 1, (u8)s[i]);
}

#define OUT(lit) out(lit, sizeof(lit) - 1)

START_TEST(uart_lines_on_newline)
{
	OUT("hello");
	ck_assert_int_eq(sink.n, 0);
	OUT("\r\nworld\n\n");
	ck_assert_int_eq(sink.n, 3);
	ck_assert_str_eq(sink.text[0], "hello");
	ck_assert_uint_eq(sink.len[0], 5);
	ck_assert_str_eq(sink.text[1], "world");
	ck_assert_uint_eq(sink.len[2], 0);      /* an empty line is a line */
	ck_assert_uint_eq(u.bytes_out, 14);     /* \r and \n count as output */
}
END_TEST

/* Control characters reach the sink as they are (vm_console.c decides
   what the terminal sees); only CR is dropped. */
START_TEST(uart_control_chars_kept)
{
	OUT("a\x1b[31mb\x7f\x80\xff\tc\rd\0e\n");
	ck_assert_int_eq(sink.n, 1);
	ck_assert_uint_eq(sink.len[0], 15);
	ck_assert_mem_eq(sink.text[0], "a\x1b[31mb\x7f\x80\xff\tcd\0e", 15);
}
END_TEST

START_TEST(uart_overlong_lines_split)
{
	char buf[3 * UART_LINE_MAX + 8];

	memset(buf, 'x', sizeof(buf));
	out(buf, UART_LINE_MAX);
	ck_assert_int_eq(sink.n, 0);            /* exactly full: not yet */
	OUT("\n");
	ck_assert_int_eq(sink.n, 1);
	ck_assert_uint_eq(sink.len[0], UART_LINE_MAX);
	out(buf, 2 * UART_LINE_MAX + 7);
	ck_assert_int_eq(sink.n, 3);
	ck_assert_uint_eq(sink.len[1], UART_LINE_MAX);
	ck_assert_uint_eq(sink.len[2], UART_LINE_MAX);
	OUT("y\n");
	ck_assert_int_eq(sink.n, 4);
	ck_assert_uint_eq(sink.len[3], 8);
	ck_assert_str_eq(sink.text[3], "xxxxxxxy");
}
END_TEST

START_TEST(uart_flush_partial)
{
	uart_flush(&u);
	ck_assert_int_eq(sink.n, 0);            /* nothing pending: no line */
	OUT("tail");
	uart_flush(&u);
	ck_assert_int_eq(sink.n, 1);
	ck_assert_str_eq(sink.text[0], "tail");
	uart_flush(&u);
	OUT("\n");
	ck_assert_int_eq(sink.n, 2);
	ck_assert_uint_eq(sink.len[1], 0);
}
END_TEST

START_TEST(uart_registers)
{
	ck_assert_uint_eq(uart_read(&u, 5, 1), 0x60);   /* LSR: THRE | TEMT */
	ck_assert_uint_eq(uart_read(&u, 2, 1), 0x01);   /* IIR: no interrupt */
	uart_write(&u, 2, 1, 0x01);                     /* FCR: FIFOs on */
	ck_assert_uint_eq(uart_read(&u, 2, 1), 0xc1);   /* IIR shows FIFOs */
	ck_assert_uint_eq(uart_read(&u, 0, 1), 0);      /* RBR: no input */
	ck_assert_uint_eq(uart_read(&u, 6, 1), 0xb0);   /* MSR: DCD DSR CTS */
	uart_write(&u, 1, 1, 0xff);
	ck_assert_uint_eq(uart_read(&u, 1, 1), 0x0f);   /* IER: 4 bits */
	uart_write(&u, 3, 1, 0x1b);
	ck_assert_uint_eq(uart_read(&u, 3, 1), 0x1b);
	uart_write(&u, 4, 1, 0xff);
	ck_assert_uint_eq(uart_read(&u, 4, 1), 0x1f);   /* MCR: 5 bits */
	uart_write(&u, 7, 1, 0xa5);
	ck_assert_uint_eq(uart_read(&u, 7, 1), 0xa5);   /* scratch */
	uart_write(&u, 2, 1, 0xc7);                     /* FCR: FIFOs on */
	uart_write(&u, 5, 1, 0x00);                     /* LSR: read-only */
	ck_assert_uint_eq(uart_read(&u, 5, 1), 0x60);
	/* IER enabled "THR empty" with THR empty: that interrupt is pending
	   until IIR reports it once (16550 §8.6.4) */
	ck_assert_uint_eq(uart_read(&u, 2, 1), 0xc2);
	ck_assert_uint_eq(uart_read(&u, 2, 1), 0xc1);
	ck_assert_int_eq(sink.n, 0);
}
END_TEST

START_TEST(uart_divisor_latch)
{
	uart_write(&u, 1, 1, 0x05);                     /* IER */
	uart_write(&u, 3, 1, 0x80);                     /* DLAB */
	uart_write(&u, 0, 1, 0x0c);                     /* 9600 baud */
	uart_write(&u, 1, 1, 0x00);
	ck_assert_uint_eq(uart_read(&u, 0, 1), 0x0c);
	ck_assert_uint_eq(uart_read(&u, 1, 1), 0x00);
	ck_assert_uint_eq(u.dll, 0x0c);
	ck_assert_uint_eq(u.bytes_out, 0);              /* not transmitted */
	uart_write(&u, 3, 1, 0x03);                     /* 8N1, DLAB off */
	ck_assert_uint_eq(uart_read(&u, 1, 1), 0x05);   /* IER kept */
	ck_assert_uint_eq(uart_read(&u, 0, 1), 0);
	uart_write(&u, 0, 1, 'A');
	uart_write(&u, 0, 1, '\n');
	ck_assert_int_eq(sink.n, 1);
	ck_assert_str_eq(sink.text[0], "A");
	ck_assert_uint_eq(u.dll, 0x0c);
}
END_TEST

START_TEST(uart_loopback_suppresses_output)
{
	OUT("ab");
	uart_write(&u, 4, 1, 0x10);                     /* MCR.LOOP */
	ck_assert_uint_eq(uart_read(&u, 6, 1), 0);
	OUT("hidden\n");
	ck_assert_int_eq(sink.n, 0);
	ck_assert_uint_eq(u.bytes_out, 2);
	uart_write(&u, 4, 1, 0x03);
	OUT("c\n");
	ck_assert_int_eq(sink.n, 1);
	ck_assert_str_eq(sink.text[0], "abc");
}
END_TEST

/* ---- fw_cfg ---- */

static struct fwcfg fw = { .ram_size = 0x123456789aULL, .nr_cpus = 3 };

static u64 item(u16 key, unsigned nbytes)
{
	u64 v = 0;

	fwcfg_write(&fw, 0, 2, key);
	for (unsigned i = 0; i < nbytes; i++)
		v |= fwcfg_read(&fw, 1, 1) << (8 * i);
	return v;
}

START_TEST(fwcfg_items)
{
	ck_assert_uint_eq(item(FW_CFG_SIGNATURE, 4), 0x554d4551);   /* "QEMU" */
	ck_assert_uint_eq(fwcfg_read(&fw, 1, 1), 0);               /* past end */
	ck_assert_uint_eq(item(FW_CFG_ID, 4), 1);
	ck_assert_uint_eq(item(FW_CFG_RAM_SIZE, 8), 0x123456789aULL);
	ck_assert_uint_eq(fwcfg_read(&fw, 1, 1), 0);
	ck_assert_uint_eq(item(FW_CFG_NB_CPUS, 2), 3);
	ck_assert_uint_eq(fwcfg_read(&fw, 1, 1), 0);
	ck_assert_uint_eq(item(0x0019, 4), 0);                     /* unknown */
	ck_assert_uint_eq(item(0x8000, 8), 0);
}
END_TEST

START_TEST(fwcfg_signature_bytes)
{
	char sig[5] = { 0 };

	fwcfg_write(&fw, 0, 2, FW_CFG_SIGNATURE);
	for (int i = 0; i < 4; i++)
		sig[i] = (char)fwcfg_read(&fw, 1, 1);
	ck_assert_str_eq(sig, "QEMU");
	/* a wide read of the data port streams several bytes */
	fwcfg_write(&fw, 0, 2, FW_CFG_RAM_SIZE);
	ck_assert_uint_eq(fwcfg_read(&fw, 1, 4), 0x3456789a);
	ck_assert_uint_eq(fwcfg_read(&fw, 1, 4), 0x12);
}
END_TEST

START_TEST(fwcfg_selector_resets_offset)
{
	fwcfg_write(&fw, 0, 2, FW_CFG_SIGNATURE);
	ck_assert_uint_eq(fwcfg_read(&fw, 1, 1), 'Q');
	ck_assert_uint_eq(fwcfg_read(&fw, 1, 1), 'E');
	fwcfg_write(&fw, 0, 2, FW_CFG_SIGNATURE);
	ck_assert_uint_eq(fwcfg_read(&fw, 1, 1), 'Q');
	/* the selector is 16 bits; writes to the data port change nothing */
	fwcfg_write(&fw, 0, 2, 0x10005);
	ck_assert_uint_eq(fw.selector, FW_CFG_NB_CPUS);
	fwcfg_write(&fw, 1, 1, 0);
	ck_assert_uint_eq(fw.selector, FW_CFG_NB_CPUS);
	ck_assert_uint_eq(fwcfg_read(&fw, 1, 1), 3);
	ck_assert_uint_eq(fw.offset, 1);
	/* the selector port does not read as data */
	ck_assert_uint_eq(fwcfg_read(&fw, 0, 2) & 0xffff, 0xffff);
	ck_assert_uint_eq(fw.offset, 1);
}
END_TEST

Suite *devices_suite(void)
{
	Suite *s = suite_create("devices");
	TCase *tu = tcase_create("uart"), *tf = tcase_create("fwcfg");

	tcase_add_checked_fixture(tu, setup, NULL);
	tcase_add_test(tu, uart_lines_on_newline);
	tcase_add_test(tu, uart_control_chars_kept);
	tcase_add_test(tu, uart_overlong_lines_split);
	tcase_add_test(tu, uart_flush_partial);
	tcase_add_test(tu, uart_registers);
	tcase_add_test(tu, uart_divisor_latch);
	tcase_add_test(tu, uart_loopback_suppresses_output);
	tcase_add_test(tf, fwcfg_items);
	tcase_add_test(tf, fwcfg_signature_bytes);
	tcase_add_test(tf, fwcfg_selector_resets_offset);
	suite_add_tcase(s, tu);
	suite_add_tcase(s, tf);
	return s;
}
