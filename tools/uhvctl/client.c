/*
 * uhvctl's side of a connection to uhv (through the relay, or straight to
 * a control port): send a request, wait for the reply with its id, keep
 * the events that come meanwhile (docs/protocol.md, Requests and replies;
 * Events). Every failure ends the program with its own exit status.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <inttypes.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "tools/uhvctl/uhvctl.h"

#define CLIENT_FIRST_ID 1

void die(int status, const char *fmt, ...)
{
	va_list ap;

	fflush(stdout);
	fputs("uhvctl: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	exit(status);
}

const char *j_str(json_object *o, const char *key, const char *dflt)
{
	json_object *v;

	if (!o || !json_object_object_get_ex(o, key, &v) ||
	    !json_object_is_type(v, json_type_string))
		return dflt;
	return json_object_get_string(v);
}

int64_t j_int(json_object *o, const char *key, int64_t dflt)
{
	json_object *v;

	if (!o || !json_object_object_get_ex(o, key, &v) ||
	    !json_object_is_type(v, json_type_int))
		return dflt;
	return json_object_get_int64(v);
}

bool j_has(json_object *o, const char *key)
{
	return o && json_object_object_get_ex(o, key, NULL);
}

#define CONNECT_RETRY_S 0.2

void client_open(struct client *c, const char *addr, double timeout)
{
	client_open_wait(c, addr, timeout, -1);
}

void client_open_wait(struct client *c, const char *addr, double timeout,
		      double until)
{
	const char *why = "";
	bool told = false;

	*c = (struct client){ .addr = addr, .next_id = CLIENT_FIRST_ID,
			      .timeout = timeout };
	/* Nothing listens yet (uhv-run starts its relay once the emulator
	   runs): try again until the deadline. */
	while ((c->fd = net_connect(addr, &why)) < 0 && errno == ECONNREFUSED &&
	       (until == 0 || (until > 0 && mono_now() + CONNECT_RETRY_S < until))) {
		if (!told)
			fprintf(stderr, "uhvctl: waiting for uhv at %s (%s)\n",
				addr, why);
		told = true;
		usleep((useconds_t)(CONNECT_RETRY_S * 1e6));
	}
	if (c->fd < 0)
		die(EXIT_UNREACHABLE, "cannot connect to uhv at %s: %s "
		    "(is uhv running, with tools/uhv-run --ctl-port?)",
		    addr, why);
}

void client_close(struct client *c)
{
	for (int i = 0; i < c->nr_events; i++) {
		json_object_put(c->events[i].o);
		free(c->events[i].raw);
	}
	c->nr_events = 0;
	line_free(&c->in);
	close(c->fd);
	c->fd = -1;
}

/*
 * The next line from uhv, parsed (caller owns both), waiting until the
 * deadline (<= 0: forever). NULL at the deadline. Lines that are not JSON
 * objects are skipped. Exits if the connection closes.
 */
static json_object *next_line(struct client *c, double deadline, char **raw)
{
	for (;;) {
		bool cut;
		char *line = line_next(&c->in, &cut);
		struct pollfd p = { .fd = c->fd, .events = POLLIN };
		int ms = -1;

		if (line) {
			json_object *o = json_tokener_parse(line);

			if (o && json_object_is_type(o, json_type_object)) {
				*raw = line;
				return o;
			}
			json_object_put(o);
			free(line);
			continue;
		}
		if (deadline > 0) {
			double left = deadline - mono_now();

			if (left <= 0)
				return NULL;
			ms = (int)(left * 1000) + 1;
		}
		if (poll(&p, 1, ms) < 0 && errno != EINTR)
			die(EXIT_UNREACHABLE, "poll: %s", strerror(errno));
		if (p.revents && line_fill(&c->in, c->fd) <= 0)
			die(EXIT_UNREACHABLE, "the connection to uhv at %s "
			    "closed", c->addr);
	}
}

/* Keeps an event for client_event (the oldest goes when full). */
static void keep_event(struct client *c, json_object *ev, char *raw)
{
	int max = (int)(sizeof(c->events) / sizeof(c->events[0]));

	if (c->nr_events == max) {
		json_object_put(c->events[0].o);
		free(c->events[0].raw);
		memmove(c->events, c->events + 1,
			sizeof(c->events[0]) * (size_t)(max - 1));
		c->nr_events--;
	}
	c->events[c->nr_events].o = ev;
	c->events[c->nr_events++].raw = raw;
}

json_object *client_call(struct client *c, const char *cmd,
			 json_object *args, char **raw, uint64_t *id)
{
	json_object *req = args ? args : json_object_new_object();
	double deadline = c->timeout > 0 ? mono_now() + c->timeout : 0;
	const char *text;
	uint64_t my_id = c->next_id++;

	json_object_object_add(req, "id", json_object_new_uint64(my_id));
	json_object_object_add(req, "cmd", json_object_new_string(cmd));
	text = json_object_to_json_string_ext(req, JSON_C_TO_STRING_PLAIN |
					      JSON_C_TO_STRING_NOSLASHESCAPE);
	if (!write_all(c->fd, text, strlen(text)) || !write_all(c->fd, "\n", 1))
		die(EXIT_UNREACHABLE, "cannot send to uhv at %s", c->addr);
	json_object_put(req);
	if (id)
		*id = my_id;
	for (;;) {
		char *line = NULL;
		json_object *o = next_line(c, deadline, &line);
		json_object *idv;

		if (!o)
			die(EXIT_TIMEOUT, "no reply from uhv to '%s' within "
			    "%.0f s", cmd, c->timeout);
		if (j_has(o, "event")) {
			keep_event(c, o, line);
			continue;
		}
		if (json_object_object_get_ex(o, "id", &idv) &&
		    (json_object_is_type(idv, json_type_null) ||
		     json_object_get_uint64(idv) == my_id)) {
			if (raw)
				*raw = line;
			else
				free(line);
			return o;
		}
		free(line);     /* someone else's reply (no relay in front) */
		json_object_put(o);
	}
}

json_object *client_event(struct client *c, double deadline, char **raw)
{
	json_object *o;

	if (c->nr_events) {
		o = c->events[0].o;
		*raw = c->events[0].raw;
		memmove(c->events, c->events + 1,
			sizeof(c->events[0]) * (size_t)--c->nr_events);
		return o;
	}
	for (;;) {
		o = next_line(c, deadline, raw);
		if (!o || j_has(o, "event"))
			return o;
		free(*raw);
		json_object_put(o);
	}
}

int reply_status(json_object *reply)
{
	json_object *err, *ok;

	if (!json_object_object_get_ex(reply, "ok", &ok) ||
	    !json_object_is_type(ok, json_type_boolean)) {
		fprintf(stderr, "uhvctl: a reply without \"ok\": %s\n",
			json_object_to_json_string(reply));
		return EXIT_PROTOCOL;
	}
	if (json_object_get_boolean(ok))
		return EXIT_OK;
	json_object_object_get_ex(reply, "error", &err);
	fprintf(stderr, "uhvctl: uhv refused: %s: %s\n",
		j_str(err, "code", "?"), j_str(err, "message", "?"));
	return EXIT_UHV_ERROR;
}
