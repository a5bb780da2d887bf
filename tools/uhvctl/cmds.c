/*
 * uhvctl's one-shot commands: each is one request (stats without a VM:
 * list, then one per VM) of docs/protocol.md, printed for people by
 * default or as uhv's reply line with --json. Members a reply has beyond
 * those known here are tolerated (protocol.md: a client ignores what it
 * does not know); stats prints unknown numbers as they are.
 *
 * Every command line is checked whole before uhvctl connects, so that a
 * usage error is reported as one (status 2) whether or not uhv runs.
 */
#define _GNU_SOURCE
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "tools/uhvctl/uhvctl.h"

#define STOP_DEFAULT_S 30       /* protocol.md, stop: timeout's default */

/* A command line, checked and parsed, ready to send. */
struct request {
	const char *cmd;
	const char *vm;         /* the VM it names, or NULL */
	const char *data;       /* agent: what to send */
	json_object *args;      /* create: the VM's fields */
	long stop_tmo;          /* stop --timeout S; -1: uhv's default */
	bool wait;              /* stop --wait */
	const char *event;      /* events --wait EVENT, or NULL */
	double ev_tmo;          /* events --timeout S; <= 0: none */
};

/* The events uhv sends (docs/protocol.md, Events): events --wait takes
   only these, so that a typo fails at once instead of at the timeout. */
static const char *const event_names[] = {
	"hello", "vm_started", "vm_stopped", "guest_panicked", "agent_lost",
	"agent_message", "gdb", NULL
};
#define EVENT_LIST_MAX 128      /* event_names joined by ", " */

/* Prints the reply's raw line with --json; true if it did. */
static bool print_raw(const struct opts *o, const char *raw)
{
	if (!o->json)
		return false;
	puts(raw);
	return true;
}

/* One request; the reply checked (an error is printed, and with --json
   its line too). Returns the exit status; *reply and *raw for the caller
   to print and free. */
static int call(const struct opts *o, struct client *c, const char *cmd,
		json_object *args, json_object **reply, char **raw,
		uint64_t *id)
{
	int st;

	*reply = client_call(c, cmd, args, raw, id);
	st = reply_status(*reply);
	if (st)
		print_raw(o, *raw);
	return st;
}

static json_object *vm_args(const char *vm)
{
	json_object *a = json_object_new_object();

	json_object_object_add(a, "vm", json_object_new_string(vm));
	return a;
}

static int cmd_version(const struct opts *o, struct client *c)
{
	json_object *r;
	char *raw = NULL;
	int st = call(o, c, "version", NULL, &r, &raw, NULL);

	if (!st && !print_raw(o, raw))
		printf("uhv %s, protocol %" PRId64 "\n", j_str(r, "uhv", "?"),
		       j_int(r, "protocol", -1));
	free(raw);
	json_object_put(r);
	return st;
}

/* `virsh list`-like: a header, a rule, one row per VM. */
static int cmd_list(const struct opts *o, struct client *c)
{
	json_object *r, *vms;
	char *raw = NULL;
	int st = call(o, c, "list", NULL, &r, &raw, NULL);

	if (!st && !print_raw(o, raw)) {
		size_t n = 0;

		json_object_object_get_ex(r, "vms", &vms);
		if (json_object_is_type(vms, json_type_array))
			n = json_object_array_length(vms);
		printf(" %-16s %s\n", "Name", "State");
		printf("--------------------------------\n");
		for (size_t i = 0; i < n; i++) {
			json_object *v = json_object_array_get_idx(vms, i);

			printf(" %-16s %s\n", j_str(v, "vm", "?"),
			       j_str(v, "state", "?"));
		}
	}
	free(raw);
	json_object_put(r);
	return st;
}

/* Every member of an object as "name: value" lines, in uhv's order. */
static void print_members(json_object *r, const char *const *skip)
{
	json_object_object_foreach(r, key, val) {
		bool hide = false;

		for (int i = 0; skip[i]; i++)
			hide |= !strcmp(skip[i], key);
		if (hide)
			continue;
		if (json_object_is_type(val, json_type_string))
			printf("%-10s %s\n", key, json_object_get_string(val));
		else
			printf("%-10s %s\n", key, json_object_to_json_string_ext(
				val, JSON_C_TO_STRING_PLAIN |
				JSON_C_TO_STRING_NOSLASHESCAPE));
	}
}

static int cmd_info(const struct opts *o, struct client *c, const char *vm)
{
	static const char *const skip[] = { "id", "ok", NULL };
	json_object *r;
	char *raw = NULL;
	int st = call(o, c, "info", vm_args(vm), &r, &raw, NULL);

	if (!st && !print_raw(o, raw))
		print_members(r, skip);
	free(raw);
	json_object_put(r);
	return st;
}

/* start, pause, resume, destroy, shutdown: "VM 'x' is <state>". */
static int cmd_simple(const struct opts *o, struct client *c,
		      const char *cmd, const char *vm)
{
	json_object *r;
	char *raw = NULL;
	int st = call(o, c, cmd, vm ? vm_args(vm) : NULL, &r, &raw, NULL);

	if (!st && !print_raw(o, raw)) {
		if (!vm)
			printf("uhv: %s requested\n", cmd);
		else if (!strcmp(cmd, "destroy"))
			printf("VM '%s' destroyed\n", vm);
		else if (j_has(r, "state"))
			printf("VM '%s' is %s\n", vm, j_str(r, "state", "?"));
		else
			printf("VM '%s': %s done\n", vm, cmd);
	}
	free(raw);
	json_object_put(r);
	return st;
}

/* A string or integer: digits alone become an integer (memory, cpus). */
static json_object *num_or_str(const char *s)
{
	if (*s && strspn(s, "0123456789") == strlen(s) && strlen(s) < 19)
		return json_object_new_int64(strtoll(s, NULL, 10));
	return json_object_new_string(s);
}

/* A repeated key: one value is a string, several an array. */
static void add_list(json_object *a, const char *key, char **v, int n)
{
	json_object *arr;

	if (n == 0)
		return;
	if (n == 1) {
		json_object_object_add(a, key, json_object_new_string(v[0]));
		return;
	}
	arr = json_object_new_array();
	for (int i = 0; i < n; i++)
		json_object_array_add(arr, json_object_new_string(v[i]));
	json_object_object_add(a, key, arr);
}

#define CREATE_LIST_MAX 16

/* create VM --image F [options]: the VM's fields into r->args. */
static void parse_create(int argc, char **argv, struct request *r)
{
	static const struct option lo[] = {
		{ "image", 1, NULL, 'i' }, { "initrd", 1, NULL, 'r' },
		{ "memory", 1, NULL, 'm' }, { "cpus", 1, NULL, 'c' },
		{ "cmdline", 1, NULL, 'l' }, { "disk", 1, NULL, 'd' },
		{ "net", 1, NULL, 'n' }, { "agent", 0, NULL, 'a' },
		{ "trace", 1, NULL, 't' }, { 0 }
	};
	json_object *a = json_object_new_object();
	char *disks[CREATE_LIST_MAX], *nets[CREATE_LIST_MAX];
	int nd = 0, nn = 0, ch;

	while ((ch = getopt_long(argc, argv, "", lo, NULL)) != -1) {
		const char *k = NULL;

		switch (ch) {
		case 'i': k = "image"; break;
		case 'r': k = "initrd"; break;
		case 'l': k = "cmdline"; break;
		case 't': k = "trace"; break;
		case 'm': json_object_object_add(a, "memory", num_or_str(optarg)); break;
		case 'c': json_object_object_add(a, "cpus", num_or_str(optarg)); break;
		case 'd': if (nd < CREATE_LIST_MAX) disks[nd++] = optarg; break;
		case 'n': if (nn < CREATE_LIST_MAX) nets[nn++] = optarg; break;
		case 'a': json_object_object_add(a, "agent", json_object_new_boolean(1)); break;
		default: die(EXIT_USAGE, "create: see uhvctl --help");
		}
		if (k)
			json_object_object_add(a, k, json_object_new_string(optarg));
	}
	if (optind != argc - 1 || !j_has(a, "image"))
		die(EXIT_USAGE, "usage: uhvctl create VM --image FILE [options]");
	r->vm = argv[optind];
	json_object_object_add(a, "vm", json_object_new_string(r->vm));
	add_list(a, "disk", disks, nd);
	add_list(a, "net", nets, nn);
	r->args = a;
}

static int cmd_create(const struct opts *o, struct client *c,
		      const struct request *rq)
{
	json_object *r;
	char *raw = NULL;
	int st = call(o, c, "create", rq->args, &r, &raw, NULL);

	if (!st && !print_raw(o, raw))
		printf("VM '%s' created (%s)\n", rq->vm, j_str(r, "state", "?"));
	free(raw);
	json_object_put(r);
	return st;
}

/* The next event named event (NULL: any) of VM vm (NULL: any), or NULL
   at the deadline. */
static json_object *wait_event(struct client *c, const char *event,
			       const char *vm, double deadline, char **raw)
{
	json_object *ev;

	while ((ev = client_event(c, deadline, raw))) {
		if ((!event || !strcmp(j_str(ev, "event", ""), event)) &&
		    (!vm || !strcmp(j_str(ev, "vm", ""), vm)))
			return ev;
		json_object_put(ev);
		free(*raw);
	}
	return NULL;
}

static void print_stopped(const char *vm, json_object *ev)
{
	printf("VM '%s' stopped: %s, status %" PRId64 " (%s)\n", vm,
	       j_str(ev, "result", "?"), j_int(ev, "status", 0),
	       j_str(ev, "why", ""));
}

/* stop VM [--timeout S] [--wait] */
static void parse_stop(int argc, char **argv, struct request *r)
{
	static const struct option lo[] = {
		{ "timeout", 1, NULL, 't' }, { "wait", 0, NULL, 'w' }, { 0 }
	};
	static const char usage[] = "usage: uhvctl stop VM [--timeout S] [--wait]";
	char *end;
	int ch;

	r->stop_tmo = -1;
	while ((ch = getopt_long(argc, argv, "", lo, NULL)) != -1) {
		if (ch == 'w')
			r->wait = true;
		else if (ch == 't' && (r->stop_tmo = strtol(optarg, &end, 10)) >= 0 &&
			 !*end)
			continue;
		else
			die(EXIT_USAGE, "%s", usage);
	}
	if (optind != argc - 1)
		die(EXIT_USAGE, "%s", usage);
	r->vm = argv[optind];
}

static int cmd_stop(const struct opts *o, struct client *c,
		    const struct request *rq)
{
	json_object *a = vm_args(rq->vm), *r, *ev;
	char *raw = NULL;
	int st;

	if (rq->stop_tmo >= 0)
		json_object_object_add(a, "timeout", json_object_new_int64(rq->stop_tmo));
	st = call(o, c, "stop", a, &r, &raw, NULL);
	if (!st && !rq->wait && !print_raw(o, raw))
		printf("VM '%s' is %s\n", rq->vm, j_str(r, "state", "?"));
	free(raw);
	json_object_put(r);
	if (st || !rq->wait)
		return st;
	/* uhv forces the stop after tmo seconds; give it our timeout more */
	ev = wait_event(c, "vm_stopped", rq->vm, mono_now() +
			(double)(rq->stop_tmo >= 0 ? rq->stop_tmo : STOP_DEFAULT_S) +
			(c->timeout > 0 ? c->timeout : UHVCTL_REPLY_TIMEOUT), &raw);
	if (!ev)
		die(EXIT_TIMEOUT, "VM '%s' did not stop in time", rq->vm);
	if (!print_raw(o, raw))
		print_stopped(rq->vm, ev);
	free(raw);
	json_object_put(ev);
	return EXIT_OK;
}

/* agent VM DATA: the agent's answer (agent_message with our id). */
static int cmd_agent(const struct opts *o, struct client *c, const char *vm,
		     const char *data)
{
	json_object *a = vm_args(vm), *r, *ev;
	char *raw = NULL;
	uint64_t id;
	int st;
	double deadline;

	json_object_object_add(a, "data", json_object_new_string(data));
	st = call(o, c, "agent", a, &r, &raw, &id);
	free(raw);
	json_object_put(r);
	if (st)
		return st;
	deadline = mono_now() + (c->timeout > 0 ? c->timeout : UHVCTL_REPLY_TIMEOUT);
	/* our answer, unless the agent or its VM goes first */
	while ((ev = wait_event(c, NULL, vm, deadline, &raw))) {
		const char *name = j_str(ev, "event", "");

		if (!strcmp(name, "agent_lost") || !strcmp(name, "vm_stopped"))
			die(EXIT_UHV_ERROR, "no answer: %s of VM '%s'", name, vm);
		if (!strcmp(name, "agent_message") &&
		    (uint64_t)j_int(ev, "id", -1) == id)
			break;
		json_object_put(ev);
		free(raw);
	}
	if (!ev)
		die(EXIT_TIMEOUT, "no answer from the agent of VM '%s'", vm);
	if (!print_raw(o, raw))
		puts(j_str(ev, "data", ""));
	free(raw);
	json_object_put(ev);
	return EXIT_OK;
}

/* An event for people: its name, then key=value for the rest. */
static void print_event(json_object *ev)
{
	printf("%s", j_str(ev, "event", "?"));
	json_object_object_foreach(ev, key, val) {
		if (!strcmp(key, "event"))
			continue;
		printf(" %s=%s", key, json_object_to_json_string_ext(val,
		       JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE));
	}
	putchar('\n');
	fflush(stdout);
}

/* events [--wait EVENT] [--vm VM] [--timeout S]; EVENT must be one uhv
   sends (event_names). */
static void parse_events(const struct opts *o, int argc, char **argv,
			 struct request *r)
{
	static const struct option lo[] = {
		{ "wait", 1, NULL, 'w' }, { "vm", 1, NULL, 'v' },
		{ "timeout", 1, NULL, 't' }, { 0 }
	};
	char *end;
	int ch, i;

	r->ev_tmo = o->timeout;
	while ((ch = getopt_long(argc, argv, "", lo, NULL)) != -1) {
		if (ch == 'w')
			r->event = optarg;
		else if (ch == 'v')
			r->vm = optarg;
		else if (ch == 't' && (r->ev_tmo = strtod(optarg, &end)) >= 0 && !*end)
			continue;
		else
			die(EXIT_USAGE, "usage: uhvctl events [--wait EVENT] "
			    "[--vm VM] [--timeout S]");
	}
	if (optind != argc)
		die(EXIT_USAGE, "events takes no arguments besides its options");
	for (i = 0; r->event && event_names[i] && strcmp(event_names[i], r->event); i++)
		;
	if (r->event && !event_names[i]) {
		char known[EVENT_LIST_MAX] = "";

		for (i = 0; event_names[i]; i++)
			snprintf(known + strlen(known), sizeof(known) - strlen(known),
				 "%s%s", i ? ", " : "", event_names[i]);
		die(EXIT_USAGE, "events --wait: unknown event '%s' (uhv sends: %s)",
		    r->event, known);
	}
}

/*
 * events: prints events as they come, until --timeout; with --wait EVENT
 * (and --vm VM), only the first such event, then exits 0, or exits
 * EXIT_TIMEOUT. The greeting is shown only when waited for.
 */
static int cmd_events(const struct opts *o, struct client *c,
		      const struct request *rq)
{
	const char *want = rq->event, *vm = rq->vm;
	double deadline = rq->ev_tmo > 0 ? mono_now() + rq->ev_tmo : 0;
	json_object *ev;
	char *raw;

	while ((ev = client_event(c, deadline, &raw))) {
		const char *name = j_str(ev, "event", "");
		bool match = (!want || !strcmp(name, want)) &&
			     (!vm || !strcmp(j_str(ev, "vm", ""), vm)) &&
			     (strcmp(name, "hello") || (want && !strcmp(want, "hello")));

		if (match) {
			if (o->json) {
				puts(raw);
				fflush(stdout);
			} else {
				print_event(ev);
			}
		}
		free(raw);
		json_object_put(ev);
		if (match && want)
			return EXIT_OK;
	}
	if (want)
		die(EXIT_TIMEOUT, "no %s event%s%s within %.0f s", want,
		    vm ? " for VM " : "", vm ? vm : "", rq->ev_tmo);
	return EXIT_OK;
}

/* Argument count check for the commands with fixed arguments. */
static void need_args(int argc, int n, const char *usage)
{
	if (argc != n + 1)
		die(EXIT_USAGE, "usage: uhvctl %s", usage);
}

/* The commands cmd_main knows, checked before connecting. */
static const char *const commands[] = {
	"version", "list", "info", "create", "start", "pause", "resume",
	"destroy", "shutdown", "stop", "stats", "agent", "events", NULL
};

static bool is(const char *cmd, const char *name)
{
	return !strcmp(cmd, name);
}

/* Checks the command line whole (exits with EXIT_USAGE) into *r. */
static void parse_request(const struct opts *o, int argc, char **argv,
			  struct request *r)
{
	const char *cmd = argv[0];

	*r = (struct request){ .cmd = cmd };
	optind = 1;
	if (is(cmd, "version") || is(cmd, "list") || is(cmd, "shutdown")) {
		need_args(argc, 0, cmd);
	} else if (is(cmd, "info")) {
		need_args(argc, 1, "info VM");
	} else if (is(cmd, "start") || is(cmd, "pause") || is(cmd, "resume") ||
		   is(cmd, "destroy")) {
		need_args(argc, 1, "start|pause|resume|destroy VM");
	} else if (is(cmd, "stats")) {
		if (argc > 2)
			die(EXIT_USAGE, "usage: uhvctl stats [VM]");
	} else if (is(cmd, "agent")) {
		need_args(argc, 2, "agent VM DATA");
		r->data = argv[2];
	} else if (is(cmd, "create")) {
		parse_create(argc, argv, r);
	} else if (is(cmd, "stop")) {
		parse_stop(argc, argv, r);
	} else if (is(cmd, "events")) {
		parse_events(o, argc, argv, r);
	}
	if (!r->vm && argc > 1 && !is(cmd, "events"))
		r->vm = argv[1];
}

/* Sends the parsed request and prints what comes back. */
static int run_request(const struct opts *o, struct client *c,
		       const struct request *r)
{
	const char *cmd = r->cmd;

	if (is(cmd, "version"))
		return cmd_version(o, c);
	if (is(cmd, "list"))
		return cmd_list(o, c);
	if (is(cmd, "info"))
		return cmd_info(o, c, r->vm);
	if (is(cmd, "shutdown"))
		return cmd_simple(o, c, cmd, NULL);
	if (is(cmd, "stats"))
		return cmd_stats(o, c, r->vm);
	if (is(cmd, "agent"))
		return cmd_agent(o, c, r->vm, r->data);
	if (is(cmd, "create"))
		return cmd_create(o, c, r);
	if (is(cmd, "stop"))
		return cmd_stop(o, c, r);
	if (is(cmd, "events"))
		return cmd_events(o, c, r);
	return cmd_simple(o, c, cmd, r->vm);   /* start pause resume destroy */
}

int cmd_main(const struct opts *o, int argc, char **argv)
{
	struct request r;
	struct client c;
	int st, i;

	for (i = 0; commands[i] && strcmp(commands[i], argv[0]); i++)
		;
	if (!commands[i])
		die(EXIT_USAGE, "unknown command '%s' (uhvctl --help)", argv[0]);
	parse_request(o, argc, argv, &r);
	/* events --wait EVENT also waits for uhv's control port to listen
	   (uhvctl events --wait hello right after starting uhv-run), within
	   the same timeout; other commands fail at once */
	client_open_wait(&c, o->addr, o->timeout >= 0 ? o->timeout
						       : UHVCTL_REPLY_TIMEOUT,
			 !is(r.cmd, "events") || !r.event ? -1 :
			 r.ev_tmo > 0 ? mono_now() + r.ev_tmo : 0);
	st = run_request(o, &c, &r);
	client_close(&c);
	return st;
}
