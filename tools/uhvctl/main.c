/*
 * uhvctl: command line and dispatch. Global options come before the
 * command, the command's own options after it (uhvctl --help).
 */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "tools/uhvctl/uhvctl.h"

static const char usage_text[] =
"usage: uhvctl [--connect HOST:PORT] [--json] [--timeout S] COMMAND ...\n"
"  --connect HOST:PORT  uhv's control port or relay (default: $UHV_CTL, else\n"
"                       " UHVCTL_DEFAULT_ADDR ")\n"
"  --json               print uhv's reply lines as they are\n"
"  --timeout S          seconds to wait for a reply (default 30)\n"
"commands:\n"
"  version | list | info VM | stats [VM] | shutdown\n"
"  create VM --image F [--initrd F] [--memory M] [--cpus N] [--cmdline TEXT]\n"
"         [--disk SPEC]... [--net SPEC]... [--agent] [--trace on|console]\n"
"  start VM | pause VM | resume VM | destroy VM\n"
"  stop VM [--timeout S] [--wait]   (--wait: until its vm_stopped event)\n"
"  agent VM DATA                    (prints the agent's answer)\n"
"  events [--wait EVENT] [--vm VM] [--timeout S]\n"
"  top [--interval S] [--count N]\n"
"  trace VM [--on | --off] [--count N] [--after SEQ] [--follow] [--interval S]\n"
"                                   (its recent VM exits; --follow: until Ctrl-C)\n"
"  record FILE [--interval S] [--count N | --duration S]\n"
"  plot FILE [-o PNG] [--script GP]\n"
"  gdb VM --listen HOST:PORT        (a gdb stub for the VM: target remote\n"
"                                   HOST:PORT; one gdb session, then exits)\n"
"  relay --serial HOST:PORT|/dev/TTY --listen HOST:PORT [--log FILE]\n"
"exit status: 0 ok, 1 uhv answered an error, 2 usage, 3 uhv unreachable or\n"
"the connection closed, 4 timeout, 5 not the protocol, 6 local failure\n";

/* The value of an option that takes one, or exits. */
static const char *opt_arg(int argc, char **argv, int *i)
{
	if (*i + 1 >= argc)
		die(EXIT_USAGE, "option %s needs a value", argv[*i]);
	return argv[++*i];
}

/* A malformed address is a usage error (status 2), told apart from an
   address where nothing answers (status 3, with the uhv-run hint). */
static void check_addr(const struct opts *o, bool from_option)
{
	const char *why;

	if (!net_addr_ok(o->addr, &why))
		die(EXIT_USAGE, "%s '%s': %s (e.g. %s)", from_option ?
		    "--connect" : "$" UHVCTL_ENV_ADDR, o->addr, why,
		    UHVCTL_DEFAULT_ADDR);
}

int main(int argc, char **argv)
{
	struct opts o = { .addr = getenv(UHVCTL_ENV_ADDR), .timeout = -1 };
	bool connect_given = false;
	int i;

	if (!o.addr || !*o.addr)
		o.addr = UHVCTL_DEFAULT_ADDR;
	for (i = 1; i < argc && argv[i][0] == '-'; i++) {
		const char *a = argv[i];

		if (!strcmp(a, "--connect")) {
			o.addr = opt_arg(argc, argv, &i);
			connect_given = true;
		} else if (!strcmp(a, "--json")) {
			o.json = true;
		} else if (!strcmp(a, "--timeout")) {
			char *end;

			o.timeout = strtod(opt_arg(argc, argv, &i), &end);
			if (*end || o.timeout <= 0)
				die(EXIT_USAGE, "--timeout wants seconds > 0");
		} else if (!strcmp(a, "-h") || !strcmp(a, "--help")) {
			fputs(usage_text, stdout);
			return EXIT_OK;
		} else {
			die(EXIT_USAGE, "unknown option %s (uhvctl --help)", a);
		}
	}
	if (i == argc) {
		fputs(usage_text, stderr);
		return EXIT_USAGE;
	}
	argc -= i;
	argv += i;
	if (!strcmp(argv[0], "relay"))
		return relay_main(argc, argv);
	if (!strcmp(argv[0], "plot"))
		return plot_main(argc, argv);
	check_addr(&o, connect_given);
	if (!strcmp(argv[0], "top"))
		return top_main(&o, argc, argv);
	if (!strcmp(argv[0], "record"))
		return record_main(&o, argc, argv);
	if (!strcmp(argv[0], "trace"))
		return trace_main(&o, argc, argv);
	if (!strcmp(argv[0], "gdb"))
		return gdb_main(&o, argc, argv);
	return cmd_main(&o, argc, argv);
}
