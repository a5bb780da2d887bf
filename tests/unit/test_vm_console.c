/*
 * The VMs' UART output on uhv's console (vmm/vm_console.c, over
 * drivers/console_line.c): the focused VM's bytes as they come (a prompt
 * before its newline, its escape sequences), the others' whole lines with
 * control characters as '.', every line prefixed once at its start and
 * shown whole again when other output cut it. console_write is stubbed:
 * it records what the console would show ("\n" as is, not "\r\n").
 */
#include <string.h>
#include "unit.h"
#include "vmm/dev/uart.h"
#include "vmm/vm_console.h"
#include "drivers/console.h"

#define SCREEN_MAX 4096

static char screen[SCREEN_MAX];
static size_t screen_len;

void console_write(const char *s, size_t n)
{
	ck_assert_uint_lt(screen_len + n, SCREEN_MAX);
	memcpy(screen + screen_len, s, n);
	screen_len += n;
	screen[screen_len] = 0;
}

static struct vmc {
	struct uart u;
	const char *name;
} a = { .name = "a" }, b = { .name = "b" };

static const char uhv_writer;   /* stands for printk */

static void emit(void *ctx, const char *line, unsigned len)
{
	struct vmc *v = ctx;

	vm_console_line(&v->u, v->name, line, len);
}

static void partial(void *ctx, const char *line, unsigned len)
{
	struct vmc *v = ctx;

	vm_console_partial(&v->u, v->name, line, len);
}

static void setup(void)
{
	uart_init(&a.u, emit, NULL, &a);
	a.u.partial = partial;
	uart_init(&b.u, emit, NULL, &b);
	b.u.partial = partial;
	vm_console_focus(&a.u, NULL);
	if (console_owner())            /* a line start for every test */
		console_put(&uhv_writer, "\n", 1);
	screen_len = 0;
	screen[0] = 0;
}

static void out(struct vmc *v, const char *s)
{
	for (; *s; s++)
		uart_write(&v->u, 0, 1, (u8)*s);
}

static void uhv_says(const char *s)
{
	console_put(&uhv_writer, s, strlen(s));
}

/* A shell's prompt and the keys it echoes show before the Enter. */
START_TEST(focused_prompt_before_newline)
{
	out(&a, "/ # ");
	ck_assert_str_eq(screen, "[a] / # ");
	out(&a, "ls");
	ck_assert_str_eq(screen, "[a] / # ls");
	out(&a, "\r\n");
	ck_assert_str_eq(screen, "[a] / # ls\n");
	out(&a, "bin\r\n");
	ck_assert_str_eq(screen, "[a] / # ls\n[a] bin\n");
}
END_TEST

/* The focused VM's escape sequences reach the terminal; a VM in the
   background shows them as '.', a line at a time. */
START_TEST(escapes_for_the_focused_vm_only)
{
	out(&a, "/ # \x1b[6n");
	ck_assert_str_eq(screen, "[a] / # \x1b[6n");
	out(&a, "\n");
	out(&b, "x\x1b[31my\x07");
	ck_assert_str_eq(screen, "[a] / # \x1b[6n\n");     /* b: not yet */
	out(&b, "\n");
	ck_assert_str_eq(screen, "[a] / # \x1b[6n\n[b] x.[31my.\n");
}
END_TEST

/* Another VM's line cuts the focused VM's: it ends there, and the whole
   line comes again as it goes on, so a test still finds it whole. */
START_TEST(cut_line_shown_whole_again)
{
	out(&a, "PA");
	out(&b, "tick 1\n");
	out(&a, "SS all\n");
	ck_assert_str_eq(screen, "[a] PA\n[b] tick 1\n[a] PASS all\n");
}
END_TEST

/* uhv's own lines start at a line start too; a leading "\n" of theirs
   (the focus messages) is not doubled. */
START_TEST(uhv_lines_start_a_line)
{
	out(&a, "/ # ");
	uhv_says("\nuhv: console focus: a\n");
	ck_assert_str_eq(screen, "[a] / # \nuhv: console focus: a\n");
	out(&a, "x");
	ck_assert_str_eq(screen, "[a] / # \nuhv: console focus: a\n[a] / # x");
	uhv_says("uhv: vm a mark 1");
	uhv_says(", more\n");
	ck_assert_str_eq(screen, "[a] / # \nuhv: console focus: a\n[a] / # x\n"
			 "uhv: vm a mark 1, more\n");
}
END_TEST

/* Focus moves to b: b's unfinished line (its prompt) shows at once, and
   from then on b's bytes come as they are; a goes back to whole lines. */
START_TEST(focus_shows_the_prompt)
{
	out(&b, "login: ");
	ck_assert_str_eq(screen, "");
	vm_console_focus(&b.u, b.name);
	ck_assert_str_eq(screen, "[b] login: ");
	out(&b, "r");
	out(&a, "\x1b!\n");
	ck_assert_str_eq(screen, "[b] login: r\n[a] .!\n");
	out(&b, "oot\n");
	ck_assert_str_eq(screen, "[b] login: r\n[a] .!\n[b] login: root\n");
}
END_TEST

/* A line of a VM in the background is passed on once, prefixed once;
   an empty line is a line. */
START_TEST(background_lines_whole)
{
	out(&b, "[b] is not a prefix\n\n");
	ck_assert_str_eq(screen, "[b] [b] is not a prefix\n[b] \n");
}
END_TEST

Suite *vm_console_suite(void)
{
	Suite *s = suite_create("vm_console");
	TCase *tc = tcase_create("vm_console");

	tcase_add_checked_fixture(tc, setup, NULL);
	tcase_add_test(tc, focused_prompt_before_newline);
	tcase_add_test(tc, escapes_for_the_focused_vm_only);
	tcase_add_test(tc, cut_line_shown_whole_again);
	tcase_add_test(tc, uhv_lines_start_a_line);
	tcase_add_test(tc, focus_shows_the_prompt);
	tcase_add_test(tc, background_lines_whole);
	suite_add_tcase(s, tc);
	return s;
}
