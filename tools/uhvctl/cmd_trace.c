/*
 * uhvctl trace VM: a VM's recent VM exits, from its exit trace
 * (docs/protocol.md, trace; docs/uhvctl.md). One line per exit, oldest
 * first:
 *
 *        SEQ CPU REASON               RIP                DETAIL                   +TSC
 *      41207   0 IO_INSTRUCTION       0x100a3c           out 0x3f8/1              +412
 *
 * uhv answers at most TRACE_REPLY_MAX records a request, so uhvctl asks
 * again with "after" (the last seq it printed) until it has printed what
 * it was asked for; --follow keeps asking, every --interval while there
 * is nothing new, at once while replies come full. Records uhv overwrote
 * before uhvctl asked for them are said as a line of their own where they
 * are missing, so a reader always knows how many it did not see.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "tools/uhvctl/uhvctl.h"

#define TRACE_REPLY_MAX   15    /* docs/protocol.md: "count", 1..15 */
#define TRACE_INTERVAL    0.5   /* seconds between polls with nothing new */
#define TRACE_REC_FIELDS  6     /* [seq, vcpu, reason, rip, detail, delta] */

static const char usage[] = "usage: uhvctl trace VM [--on | --off] "
	"[--count N] [--after SEQ] [--follow] [--interval S]";

struct trace_req {
	const char *vm;
	int on;                 /* --on 1, --off 0, neither -1 */
	uint64_t count;         /* records to print; 0: no limit */
	bool has_after;
	uint64_t after;         /* --after SEQ */
	bool follow;
	double interval;
};

/* A non-negative integer option, or a usage error. */
static uint64_t u64_arg(const char *s, const char *what)
{
	char *end;
	unsigned long long v;

	errno = 0;
	v = strtoull(s, &end, 10);
	if (!*s || *end || errno || *s == '-')
		die(EXIT_USAGE, "%s wants a whole number, not '%s'", what, s);
	return v;
}

static void parse(int argc, char **argv, struct trace_req *t)
{
	static const struct option lo[] = {
		{ "on", 0, NULL, '1' }, { "off", 0, NULL, '0' },
		{ "count", 1, NULL, 'n' }, { "after", 1, NULL, 'a' },
		{ "follow", 0, NULL, 'f' }, { "interval", 1, NULL, 'i' }, { 0 }
	};
	char *end;
	int ch;

	*t = (struct trace_req){ .on = -1, .interval = TRACE_INTERVAL };
	optind = 1;
	while ((ch = getopt_long(argc, argv, "", lo, NULL)) != -1) {
		if ((ch == '1' || ch == '0') && t->on < 0)
			t->on = ch == '1';
		else if (ch == 'n' && (t->count = u64_arg(optarg, "--count")))
			continue;
		else if (ch == 'a')
			t->after = u64_arg(optarg, "--after"), t->has_after = true;
		else if (ch == 'f')
			t->follow = true;
		else if (ch == 'i' && (t->interval = strtod(optarg, &end)) > 0 &&
			 !*end)
			continue;
		else
			die(EXIT_USAGE, "%s", usage);
	}
	if (optind != argc - 1)
		die(EXIT_USAGE, "%s", usage);
	t->vm = argv[optind];
	if (!t->count && !t->has_after && !t->follow)
		t->count = TRACE_REPLY_MAX;     /* the newest that one reply holds */
}

/* A boolean member; false if it is missing or not a boolean. */
static bool jbool(json_object *o, const char *key)
{
	json_object *v;

	return json_object_object_get_ex(o, key, &v) &&
	       json_object_is_type(v, json_type_boolean) &&
	       json_object_get_boolean(v);
}

static void sleep_s(double t)
{
	struct timespec ts = { (time_t)t, (long)((t - floor(t)) * 1e9) };

	while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
		;
}

/* One request, {"cmd":"trace","vm":VM[,"on":B][,"after":N],"count":N};
   its reply, and the reply's line in *raw. */
static json_object *ask(struct client *c, const struct trace_req *t, int on,
			bool has_after, uint64_t after, uint64_t count,
			char **raw)
{
	json_object *a = json_object_new_object();

	json_object_object_add(a, "vm", json_object_new_string(t->vm));
	if (on >= 0)
		json_object_object_add(a, "on", json_object_new_boolean(on));
	if (has_after)
		json_object_object_add(a, "after", json_object_new_uint64(after));
	json_object_object_add(a, "count", json_object_new_uint64(count));
	return client_call(c, "trace", a, raw, NULL);
}

static void print_header(void)
{
	printf("%10s %3s %-20s %-18s %-24s %s\n", "SEQ", "CPU", "REASON",
	       "RIP", "DETAIL", "+TSC");
}

/* A record, [seq, vcpu, reason, rip, detail, delta_tsc]; its seq, or 0
   if it is not one. */
static uint64_t print_record(json_object *rec)
{
	json_object *f[TRACE_REC_FIELDS];

	if (!json_object_is_type(rec, json_type_array) ||
	    json_object_array_length(rec) < TRACE_REC_FIELDS)
		return 0;
	for (int i = 0; i < TRACE_REC_FIELDS; i++)
		f[i] = json_object_array_get_idx(rec, (size_t)i);
	printf("%10" PRIu64 " %3" PRIu64 " %-20s %-18s %-24s +%" PRIu64 "\n",
	       json_object_get_uint64(f[0]), json_object_get_uint64(f[1]),
	       json_object_get_string(f[2]), json_object_get_string(f[3]),
	       json_object_get_string(f[4]), json_object_get_uint64(f[5]));
	return json_object_get_uint64(f[0]);
}

/* The reply's records, after a line for those missed; how many it had.
   *last becomes the last one's seq. */
static uint64_t print_reply(const struct opts *o, json_object *r,
			    const char *raw, uint64_t *last)
{
	json_object *recs;
	uint64_t missed = (uint64_t)j_int(r, "missed", 0), n = 0;

	if (json_object_object_get_ex(r, "records", &recs) &&
	    json_object_is_type(recs, json_type_array))
		n = json_object_array_length(recs);
	if (o->json) {
		puts(raw);
	} else if (missed) {
		printf("%10s (%" PRIu64 " records missed: uhv overwrote them "
		       "before uhvctl asked)\n", "-", missed);
	}
	for (uint64_t i = 0; i < n; i++) {
		json_object *rec = json_object_array_get_idx(recs, (size_t)i);
		uint64_t seq = 0;

		if (o->json && json_object_is_type(rec, json_type_array))
			seq = json_object_get_uint64(json_object_array_get_idx(rec, 0));
		else if (!o->json)
			seq = print_record(rec);
		if (!seq)
			die(EXIT_PROTOCOL, "a trace record that is not the "
			    "protocol's [seq, vcpu, reason, rip, detail, delta]");
		*last = seq;
	}
	fflush(stdout);
	return n;
}

/* An error reply: refused with its message, unless a follower's seq is
   from an earlier run of the VM (it started again): then it starts over. */
static bool restarted(const struct trace_req *t, json_object *r, bool sent_after)
{
	json_object *err;

	/* uhvctl's count and after are always in range: invalid_value
	   can only mean an after beyond the newest record */
	if (!t->follow || !sent_after ||
	    !json_object_object_get_ex(r, "error", &err) ||
	    strcmp(j_str(err, "code", ""), "invalid_value"))
		return false;
	printf("%10s (VM '%s' started again: its trace begins anew)\n", "-",
	       t->vm);
	return true;
}

/* Where to start: --after SEQ, or before the newest count (count > what
   one reply holds: a first request learns which seq is the newest). */
static uint64_t start_after(struct client *c, const struct trace_req *t,
			    bool *has_after)
{
	json_object *r;
	char *raw = NULL;
	uint64_t newest;

	*has_after = t->has_after;
	if (t->has_after || t->follow || t->count <= TRACE_REPLY_MAX)
		return t->after;
	r = ask(c, t, -1, false, 0, 1, &raw);
	free(raw);
	if (reply_status(r))
		exit(EXIT_UHV_ERROR);
	newest = (uint64_t)j_int(r, "newest", 0);
	json_object_put(r);
	*has_after = true;
	return newest > t->count ? newest - t->count : 0;
}

/* Before the first reply's records: the header, and a note if the
   VM's trace is off (its records, if any, are from before). */
static void first_reply(const struct opts *o, const struct trace_req *t,
			json_object *r)
{
	if (!o->json)
		print_header();
	if (!jbool(r, "on"))
		fprintf(stderr, "uhvctl: the exit trace of VM '%s' is off "
			"(uhvctl trace %s --on)\n", t->vm, t->vm);
}

/* Asks and prints until done (the count printed, or, without --follow,
   the newest reached); following, waits --interval while nothing is new. */
static int run_trace(const struct opts *o, struct client *c,
		     const struct trace_req *t)
{
	bool has_after, first = true;
	uint64_t last = start_after(c, t, &has_after), printed = 0, want, n;
	int on = t->on;
	json_object *r;
	char *raw;

	for (;;) {
		want = t->count ? t->count - printed : TRACE_REPLY_MAX;
		want = want < TRACE_REPLY_MAX ? want : TRACE_REPLY_MAX;
		r = ask(c, t, on, has_after, last, want, &raw);
		if (!jbool(r, "ok") && restarted(t, r, has_after)) {
			last = 0;
		} else if (reply_status(r)) {
			if (o->json)
				puts(raw);
			return EXIT_UHV_ERROR;
		} else {
			if (first)
				first_reply(o, t, r);
			n = print_reply(o, r, raw, &last);
			printed += n;
			first = false;
			if ((t->count && printed >= t->count) ||
			    (!t->follow && (!has_after || n < want)))
				break;
			if (t->follow && n < TRACE_REPLY_MAX)
				sleep_s(t->interval);
		}
		on = -1;
		has_after = true;
		free(raw);
		json_object_put(r);
	}
	free(raw);
	json_object_put(r);
	return EXIT_OK;
}

int trace_main(const struct opts *o, int argc, char **argv)
{
	struct trace_req t;
	struct client c;
	int st;

	parse(argc, argv, &t);
	client_open(&c, o->addr, o->timeout >= 0 ? o->timeout
					       : UHVCTL_REPLY_TIMEOUT);
	st = run_trace(o, &c, &t);
	client_close(&c);
	return st;
}
