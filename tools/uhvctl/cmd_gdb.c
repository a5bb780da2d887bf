/*
 * uhvctl gdb VM --listen HOST:PORT: a GDB remote protocol endpoint for a
 * VM's gdb stub (docs/gdb.md). uhvctl listens, takes one connection from
 * gdb and carries its bytes over uhv's control channel in gdb requests
 * (docs/protocol.md, gdb), one in flight at a time:
 *
 *   gdb <--TCP--> uhvctl gdb <--{"cmd":"gdb","data":...}--> uhv's stub
 *
 * Each read from gdb (at most GDB_IN_MAX bytes) becomes a request whose
 * reply's "data" goes back to gdb; a reply with "more" is followed at
 * once by a request with no data. While gdb is quiet uhvctl asks every
 * GDB_POLL_S with no data, and writes the data of uhv's gdb events for
 * the VM (a stop while gdb waits after a continue) as they come. The
 * bytes travel as JSON strings whose characters are the bytes' values,
 * U+0000..U+00FF.
 *
 * The session ends when gdb closes the connection or uhvctl gets SIGINT,
 * SIGTERM or SIGHUP (with a detach packet that uhvctl sends for gdb if
 * it had not detached: the VM runs on), or when the VM stops (its
 * vm_stopped event, or a bad_state reply): all exit 0; or at another
 * error reply: "uhvctl: gdb: MESSAGE", exit 1 (docs/uhvctl.md, gdb).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>
#include "tools/uhvctl/uhvctl.h"

#define GDB_IN_MAX       512    /* docs/protocol.md, gdb: bytes a request */
#define GDB_POLL_S       0.2    /* an empty request while gdb is quiet */
#define GDB_LINGER_S     2.0    /* gdb's time to take a last stop reply */
#define GDB_DETACH       "$D#44"        /* a detach packet */
#define GDB_PACKET_START '$'
#define GDB_CLOSED       "gdb closed the connection"
#define GDB_INTERRUPT    0x03   /* gdb's Ctrl-C */
#define LATIN1_FIRST     0x80   /* the first byte sent as two of UTF-8 */
#define UTF8_LEAD_2      0xc0   /* the lead byte of a 2-byte sequence */
#define UTF8_CONT        0x80   /* a continuation byte: 10xxxxxx */
#define UTF8_CONT_MASK   0x3f
#define UTF8_CONT_BITS   6
#define LATIN1_LEAD_MAX  0xc3   /* U+00FF's lead byte */

static const char usage[] = "usage: uhvctl gdb VM --listen HOST:PORT";

/* SIGINT, SIGTERM or SIGHUP came: the session ends with a detach. */
static volatile sig_atomic_t got_signal;

struct gdb_session {
	struct client *c;
	const char *vm;
	int gdb_fd;             /* -1 until gdb connects */
	bool attached;          /* gdb has sent bytes: the stub holds the VM */
	bool detached;          /* its last packet: a detach (D) or kill (k) */
	bool packet_start;      /* the previous byte from gdb was '$' */
};

/* VM and --listen's address, or a usage error. */
static void parse(int argc, char **argv, const char **vm, const char **addr)
{
	static const struct option lo[] = {
		{ "listen", required_argument, NULL, 'l' }, { 0 }
	};
	const char *why;
	int ch;

	*addr = NULL;
	optind = 1;
	while ((ch = getopt_long(argc, argv, "", lo, NULL)) != -1) {
		if (ch != 'l')
			die(EXIT_USAGE, "%s", usage);
		*addr = optarg;
	}
	if (optind != argc - 1 || !*addr)
		die(EXIT_USAGE, "%s", usage);
	if (!net_addr_ok(*addr, &why))
		die(EXIT_USAGE, "gdb --listen '%s': %s (e.g. 127.0.0.1:1234)",
		    *addr, why);
	*vm = argv[optind];
}

/* Bytes as the UTF-8 of the characters of their values into out (room
   for 2 * n); its length. */
static size_t latin1_encode(const uint8_t *in, size_t n, char *out)
{
	size_t k = 0;

	for (size_t i = 0; i < n; i++) {
		if (in[i] < LATIN1_FIRST) {
			out[k++] = (char)in[i];
			continue;
		}
		out[k++] = (char)(UTF8_LEAD_2 | in[i] >> UTF8_CONT_BITS);
		out[k++] = (char)(UTF8_CONT | (in[i] & UTF8_CONT_MASK));
	}
	return k;
}

/* The reverse, in place: the byte count, or -1 if s[0..n) holds a
   character beyond U+00FF or is not UTF-8. */
static ssize_t latin1_decode(char *s, size_t n)
{
	uint8_t *b = (uint8_t *)s;
	size_t k = 0;

	for (size_t i = 0; i < n; i++) {
		if (b[i] < LATIN1_FIRST) {
			b[k++] = b[i];
			continue;
		}
		if (b[i] < UTF8_LEAD_2 || b[i] > LATIN1_LEAD_MAX ||
		    i + 1 == n || (b[i + 1] & ~UTF8_CONT_MASK) != UTF8_CONT)
			return -1;
		b[k++] = (uint8_t)(b[i] << UTF8_CONT_BITS |
				   (b[i + 1] & UTF8_CONT_MASK));
		i++;
	}
	return (ssize_t)k;
}

/* {"vm":vm,"data":in[0..n)}: a gdb request's members (n <= GDB_IN_MAX). */
static json_object *gdb_args(const char *vm, const uint8_t *in, size_t n)
{
	json_object *a = json_object_new_object();
	char text[2 * GDB_IN_MAX];

	json_object_object_add(a, "vm", json_object_new_string(vm));
	json_object_object_add(a, "data", json_object_new_string_len(text,
			       (int)latin1_encode(in, n, text)));
	return a;
}

/* A reply's "ok"; a reply without it ends the program (status 5). */
static bool reply_ok(json_object *r)
{
	json_object *ok;

	if (!json_object_object_get_ex(r, "ok", &ok) ||
	    !json_object_is_type(ok, json_type_boolean))
		die(EXIT_PROTOCOL, "a reply without \"ok\": %s",
		    json_object_to_json_string(r));
	return json_object_get_boolean(ok);
}

/* Ends the program: gdb's socket and uhv's connection closed. */
static void __attribute__((noreturn)) session_end(struct gdb_session *s,
						  int status)
{
	if (s->gdb_fd >= 0)
		close(s->gdb_fd);
	client_close(s->c);
	exit(status);
}

/*
 * The end of gdb's side: it closed the connection, or uhvctl got a
 * signal to end (how says which). A gdb that had not detached gets a
 * detach sent for it, so that the VM runs on; status 0.
 */
static void __attribute__((noreturn)) leave(struct gdb_session *s,
					    const char *how)
{
	if (s->attached && !s->detached) {
		json_object_put(client_call(s->c, "gdb", gdb_args(s->vm,
			(const uint8_t *)GDB_DETACH, strlen(GDB_DETACH)),
			NULL, NULL));   /* an error: a stopped VM needs none */
		fprintf(stderr, "uhvctl: gdb: %s: VM '%s' detached, it runs "
			"on\n", how, s->vm);
	} else {
		fprintf(stderr, "uhvctl: gdb: %s\n", s->attached ?
			"gdb detached" : how);
	}
	session_end(s, EXIT_OK);
}

/*
 * The VM stopped: gdb's connection goes, the session ends (status 0).
 * uhv sent gdb's stop reply (W, "exited") before the vm_stopped event,
 * and it is written: uhvctl closes its sending side and gives gdb
 * GDB_LINGER_S to take it, acknowledge and close, so gdb reports the
 * exit rather than a connection that broke.
 */
static void __attribute__((noreturn)) vm_gone(struct gdb_session *s,
					      const char *why)
{
	struct pollfd p = { .fd = s->gdb_fd, .events = POLLIN };
	double deadline = mono_now() + GDB_LINGER_S, left;
	char sink[GDB_IN_MAX];

	fprintf(stderr, "uhvctl: gdb: VM '%s' stopped (%s): the gdb session "
		"ends\n", s->vm, why);
	if (s->gdb_fd >= 0 && shutdown(s->gdb_fd, SHUT_WR) == 0)
		while ((left = deadline - mono_now()) > 0 &&
		       poll(&p, 1, (int)(left * 1000) + 1) > 0 &&
		       read(s->gdb_fd, sink, sizeof(sink)) > 0)
			;   /* gdb's '+' and what else it sends: dropped */
	session_end(s, EXIT_OK);
}

/* Writes the bytes of "data" (a reply's or an event's) to gdb; a gdb that
   is gone ends the session as if it had closed. */
static void to_gdb(struct gdb_session *s, json_object *o)
{
	json_object *v;
	size_t len;
	ssize_t n;
	char *bytes;

	if (!json_object_object_get_ex(o, "data", &v) ||
	    !json_object_is_type(v, json_type_string))
		die(EXIT_PROTOCOL, "gdb: no \"data\" string in %s",
		    json_object_to_json_string(o));
	len = (size_t)json_object_get_string_len(v);
	bytes = malloc(len + 1);        /* NUL bytes included: no strndup */
	if (!bytes)
		die(EXIT_LOCAL, "gdb: out of memory");
	memcpy(bytes, json_object_get_string(v), len);
	if ((n = latin1_decode(bytes, len)) < 0)
		die(EXIT_PROTOCOL, "gdb: \"data\" that is not bytes "
		    "(characters U+0000..U+00FF)");
	if (s->gdb_fd >= 0 && !write_all(s->gdb_fd, bytes, (size_t)n)) {
		free(bytes);
		leave(s, GDB_CLOSED);
	}
	free(bytes);
}

/* An event: a gdb event's data for gdb, a vm_stopped the end; only those
   of our VM. */
static void on_event(struct gdb_session *s, json_object *ev)
{
	const char *name = j_str(ev, "event", "");
	char why[UHV_LINE_MAX];

	if (strcmp(j_str(ev, "vm", ""), s->vm))
		return;
	if (!strcmp(name, "gdb")) {
		to_gdb(s, ev);
	} else if (!strcmp(name, "vm_stopped")) {
		snprintf(why, sizeof(why), "%s, status %" PRId64 ": %s",
			 j_str(ev, "result", "?"), j_int(ev, "status", 0),
			 j_str(ev, "why", ""));
		vm_gone(s, why);
	}
}

/* Handles the events already received (kept while a request waited, or
   whole lines in the buffer), without reading or waiting. */
static void drain_events(struct gdb_session *s)
{
	json_object *ev;
	char *raw;

	while ((ev = client_event(s->c, mono_now(), &raw))) {
		free(raw);
		on_event(s, ev);
		json_object_put(ev);
	}
}

/* An error reply: a VM no longer running or paused ends the session
   (status 0), any other error the program (status 1). */
static void gdb_refused(struct gdb_session *s, json_object *r)
{
	json_object *err = NULL;
	char msg[UHV_LINE_MAX];

	json_object_object_get_ex(r, "error", &err);
	snprintf(msg, sizeof(msg), "%s", j_str(err, "message", "?"));
	if (!strcmp(j_str(err, "code", ""), "bad_state")) {
		json_object_put(r);
		vm_gone(s, msg);
	}
	fprintf(stderr, "uhvctl: gdb: %s\n", msg);
	json_object_put(r);
	session_end(s, EXIT_UHV_ERROR);
}

/* One request with in[0..n) (n may be 0), and one with no data after each
   reply that says "more"; what they bring goes to gdb, after the events
   that came first. */
static void gdb_request(struct gdb_session *s, const uint8_t *in, size_t n)
{
	json_object *r, *more;
	bool again;

	do {
		r = client_call(s->c, "gdb", gdb_args(s->vm, in, n), NULL,
				NULL);
		n = 0;
		drain_events(s);        /* kept meanwhile: they came first */
		if (!reply_ok(r))
			gdb_refused(s, r);
		to_gdb(s, r);
		again = json_object_object_get_ex(r, "more", &more) &&
			json_object_get_boolean(more);
		json_object_put(r);
	} while (again);
}

/* Follows gdb's packets in buf[0..n): after each '$', whether the packet
   is a detach (D) or a kill (k, which uhv's stub takes as one); a Ctrl-C
   attaches again, as any packet does. */
static void scan_packets(struct gdb_session *s, const uint8_t *buf, size_t n)
{
	s->attached |= n > 0;
	for (size_t i = 0; i < n; i++) {
		if (s->packet_start)
			s->detached = buf[i] == 'D' || buf[i] == 'k';
		else if (buf[i] == GDB_INTERRUPT)
			s->detached = false;
		s->packet_start = buf[i] == GDB_PACKET_START;
	}
}

/* What gdb sent (one read, at most GDB_IN_MAX bytes) to the stub; at
   the end of its connection, the end of the session. */
static void from_gdb(struct gdb_session *s)
{
	uint8_t buf[GDB_IN_MAX];
	ssize_t n;

	do
		n = read(s->gdb_fd, buf, sizeof(buf));
	while (n < 0 && errno == EINTR);
	if (n <= 0)
		leave(s, GDB_CLOSED);
	scan_packets(s, buf, (size_t)n);
	gdb_request(s, buf, (size_t)n);
}

/* uhv's connection is readable: its events handled. */
static void from_uhv(struct gdb_session *s)
{
	if (line_fill(&s->c->in, s->c->fd) <= 0)
		die(EXIT_UNREACHABLE, "the connection to uhv at %s closed",
		    s->c->addr);
	drain_events(s);
}

/* Waits for fd (-1: none) or uhv's connection until the deadline; uhv's
   events and a signal to end are handled here. True if fd is readable. */
static bool wait_for(struct gdb_session *s, int fd, double deadline)
{
	struct pollfd p[2] = { { .fd = s->c->fd, .events = POLLIN },
			       { .fd = fd, .events = POLLIN } };
	double left = deadline - mono_now();
	int ms = deadline <= 0 ? -1 : left > 0 ? (int)(left * 1000) + 1 : 0;

	if (poll(p, 2, ms) < 0 && errno != EINTR)
		die(EXIT_LOCAL, "gdb: poll: %s", strerror(errno));
	if (got_signal)
		leave(s, "ended by a signal");
	if (p[0].revents)
		from_uhv(s);
	return fd >= 0 && p[1].revents;
}

/* The session: gdb's bytes as they come, uhv's events, and a request
   without data every GDB_POLL_S while gdb is quiet. */
static void __attribute__((noreturn)) relay_gdb(struct gdb_session *s)
{
	double next_poll = mono_now() + GDB_POLL_S;

	for (;;) {
		if (wait_for(s, s->gdb_fd, next_poll))
			from_gdb(s);
		else if (mono_now() < next_poll)
			continue;
		else
			gdb_request(s, NULL, 0);
		next_poll = mono_now() + GDB_POLL_S;
	}
}

/* The VM exists and is running or paused (what the gdb command takes),
   or the program ends with uhv's message (status 1). */
static void check_vm(struct client *c, const char *vm)
{
	json_object *a = json_object_new_object(), *r, *err = NULL;
	const char *state;

	json_object_object_add(a, "vm", json_object_new_string(vm));
	r = client_call(c, "info", a, NULL, NULL);
	if (!reply_ok(r)) {
		json_object_object_get_ex(r, "error", &err);
		die(EXIT_UHV_ERROR, "gdb: %s", j_str(err, "message", "?"));
	}
	state = j_str(r, "state", "?");
	if (strcmp(state, "running") && strcmp(state, "paused"))
		die(EXIT_UHV_ERROR, "gdb: VM '%s' is %s; gdb needs it running "
		    "or paused", vm, state);
	json_object_put(r);
}

/* Listens on addr and takes gdb's one connection; uhv's events are
   handled meanwhile (the VM may stop first). */
static void accept_gdb(struct gdb_session *s, const char *addr)
{
	const char *why = "";
	int lfd = net_listen(addr, &why);

	if (lfd < 0)
		die(EXIT_LOCAL, "gdb: cannot listen on %s: %s", addr, why);
	fprintf(stderr, "uhvctl: gdb for VM %s on %s (target remote %s)\n",
		s->vm, addr, addr);
	while (!wait_for(s, lfd, 0))
		;
	s->gdb_fd = accept4(lfd, NULL, NULL, SOCK_CLOEXEC);
	if (s->gdb_fd < 0)
		die(EXIT_LOCAL, "gdb: accept on %s: %s", addr, strerror(errno));
	close(lfd);
}

static void on_signal(int sig)
{
	got_signal = sig;
}

/* SIGINT, SIGTERM and SIGHUP interrupt a wait (no SA_RESTART): the
   session ends in wait_for. */
static void catch_signals(void)
{
	struct sigaction sa = { .sa_handler = on_signal };

	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGHUP, &sa, NULL);
}

int gdb_main(const struct opts *o, int argc, char **argv)
{
	struct client c;
	struct gdb_session s = { .c = &c, .gdb_fd = -1 };
	const char *addr;

	parse(argc, argv, &s.vm, &addr);
	client_open(&c, o->addr, o->timeout >= 0 ? o->timeout
					       : UHVCTL_REPLY_TIMEOUT);
	check_vm(&c, s.vm);
	catch_signals();
	drain_events(&s);
	accept_gdb(&s, addr);
	relay_gdb(&s);
}
