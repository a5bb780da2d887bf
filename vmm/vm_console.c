/*
 * The VMs' UART output on uhv's console (vm_console.h): the focused VM's
 * bytes as they come, the others' whole lines. The console (console_put)
 * ends an unfinished line of another writer before writing, so a line
 * of ours whose writer is no longer the console's owner has been cut,
 * and is shown whole again.
 */
#include "vmm/vm_console.h"
#include "drivers/console.h"
#include "lib/fmt.h"

#define PREFIX_MAX 24                  /* "[" name(15) "] " */

static const struct uart *focused;

static bool printable(char c)
{
	return (u8)c >= 0x20 && (u8)c < 0x7f;
}

static void put_prefix(struct uart *u, const char *name)
{
	char p[PREFIX_MAX];
	int n = fmt_sn(p, sizeof(p), "[%s] ", name);

	console_put(u, p, (size_t)MIN(n, (int)sizeof(p) - 1));
}

/* Bytes of the focused VM, as they are. */
static void put_raw(struct uart *u, const char *s, unsigned n)
{
	console_put(u, s, n);
}

/* Bytes of a VM in the background: control characters as '.'. */
static void put_shown(struct uart *u, const char *s, unsigned n)
{
	char buf[32];
	unsigned k = 0;

	for (unsigned i = 0; i < n; i++) {
		buf[k++] = printable(s[i]) ? s[i] : '.';
		if (k == sizeof(buf) || i + 1 == n) {
			console_put(u, buf, k);
			k = 0;
		}
	}
}

/* Shows line[from..len) of u: from its start, prefix first, unless the
   console's unfinished line is u's own (it goes on from u->shown). */
static void show(struct uart *u, const char *name, const char *line,
		 unsigned len)
{
	unsigned from = u->shown;

	if (console_owner() != u || !from) {
		put_prefix(u, name);
		from = 0;
	}
	if (u == focused)
		put_raw(u, line + from, len - from);
	else
		put_shown(u, line + from, len - from);
	u->shown = len;
}

void vm_console_line(struct uart *u, const char *name, const char *line,
		     unsigned len)
{
	show(u, name, line, len);
	console_put(u, "\n", 1);
	u->shown = 0;
}

void vm_console_partial(struct uart *u, const char *name, const char *line,
			unsigned len)
{
	if (u == focused)
		show(u, name, line, len);
}

void vm_console_focus(struct uart *u, const char *name)
{
	focused = u;
	if (u && u->len && name)
		show(u, name, u->line, u->len);
}
