/*
 * uhvctl relay: the one holder of uhv's control port.
 *
 * Bochs's COM2 socket (and a serial cable) takes exactly one client, and
 * the protocol wants one request in flight (docs/protocol.md, Turns: the
 * serial line has no flow control). The relay connects to that port once
 * and serves any number of clients on a listening socket:
 *
 *   client A --\                    +-- queue --+    +------------+
 *   client B ---+-- listen socket --| one in    |----| uhv's COM2 |
 *   client C --/    (requests)      | flight    |    |  (serial)  |
 *        ^                          +-----------+    +------------+
 *        +--- reply to its sender; events and the greeting to all ---+
 *
 * Request ids are rewritten to the relay's own counter on the way in and
 * back on the way out, so that ids stay unique across clients: an agent's
 * answer (agent_message) carries its request's id and goes back to the
 * client that asked with that client's id. The rewrite edits the id's
 * digits in place (found with uhv's own parser, lib/json.c), so a request
 * reaches uhv byte for byte as sent otherwise, malformed ones included.
 * Every line both ways is appended to --log ("-> " to uhv, "<- " from it).
 * The relay exits when the serial side closes.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <sys/socket.h>
#include <termios.h>
#include <unistd.h>
#include "tools/uhvctl/uhvctl.h"
#include "tools/uhvctl/idscan.h"

#define RELAY_MAX_CLIENTS   64
#define RELAY_AGENT_SLOTS   64          /* agent requests remembered */
#define RELAY_CONNECT_WAIT  120.0       /* s: for the emulator's socket */
#define RELAY_REPLY_WAIT    300.0       /* s: then a request is given up */
#define RELAY_POLL_MS       500
/* s of total silence from the serial side after which uhv is taken to be
   up already (a relay started after uhv's greeting, a quiet cable) */
#define RELAY_QUIET_READY   30.0
#define RELAY_ID_TEXT       24          /* digits of a 64-bit id, NUL */
#define RELAY_ID_FIRST      1

struct rclient {
	int fd;                         /* -1: a free slot */
	uint64_t serial;                /* tells a reused slot apart */
	struct line_buf in;
};

struct request {
	struct request *next;
	uint64_t client;                /* its sender's serial */
	char *line;                     /* as it goes to uhv */
	uint64_t relay_id;              /* 0: the request had no usable id */
	char orig_id[RELAY_ID_TEXT];    /* the client's id, as it wrote it */
	bool agent;                     /* cmd "agent" */
};

static struct relay {
	int serial_fd, listen_fd;
	struct line_buf serial_in;
	FILE *log;
	char *hello;                    /* the cached greeting, with '\n' */
	/* Requests wait until uhv is up: until its greeting, or (nothing
	   heard at all) RELAY_QUIET_READY s. Bytes sent earlier would reach
	   the firmware (OVMF reads keys from the serial ports: a key at its
	   boot prompt stops the boot) or be lost when uhv resets the UART,
	   leaving a request that nothing answers. */
	bool ready;
	bool heard;                     /* any byte from the serial side */
	double connected_at;
	struct rclient cl[RELAY_MAX_CLIENTS];
	uint64_t next_serial, next_id;
	struct request *head, *tail;    /* waiting to be sent */
	struct request *inflight;
	double inflight_since;
	struct {                        /* agent requests, for agent_message */
		uint64_t relay_id, client;
		char orig_id[RELAY_ID_TEXT];
	} agents[RELAY_AGENT_SLOTS];
	int agent_next;
} R;

/* One line to the log with a direction mark, flushed (tests read it). */
static void rlog(const char *mark, const char *fmt, ...)
{
	va_list ap;

	if (!R.log)
		return;
	fputs(mark, R.log);
	va_start(ap, fmt);
	vfprintf(R.log, fmt, ap);
	va_end(ap);
	fputc('\n', R.log);
	fflush(R.log);
}

static struct rclient *client_by_serial(uint64_t serial)
{
	for (int i = 0; i < RELAY_MAX_CLIENTS; i++)
		if (R.cl[i].fd >= 0 && R.cl[i].serial == serial)
			return &R.cl[i];
	return NULL;
}

static void client_drop(struct rclient *c, const char *why)
{
	rlog("# ", "client %" PRIu64 " %s", c->serial, why);
	close(c->fd);
	c->fd = -1;
	line_free(&c->in);
}

/* Sends a line (with its '\n') to a client; drops it if it is gone. */
static void client_send(struct rclient *c, const char *line, size_t len)
{
	if (!write_all(c->fd, line, len))
		client_drop(c, "lost while sending");
}

/* line with bytes start..end replaced by text: a malloc'd string. */
static char *splice_id(const char *line, size_t start, size_t end,
		    const char *text)
{
	char *s;

	if (asprintf(&s, "%.*s%s%s", (int)start, line, text, line + end) < 0)
		return NULL;
	return s;
}

/* Queues a client's request line, its id rewritten to the relay's. */
static void queue_request(struct rclient *c, char *line)
{
	struct request *r = calloc(1, sizeof(*r));
	size_t s, e;
	uint64_t v;
	char idtext[RELAY_ID_TEXT];

	if (!r) {
		free(line);
		return;
	}
	r->client = c->serial;
	r->line = line;
	if (relay_find_id(line, strlen(line), &s, &e, &v, &r->agent)) {
		r->relay_id = R.next_id++;
		snprintf(r->orig_id, sizeof(r->orig_id), "%.*s", (int)(e - s),
			 line + s);
		snprintf(idtext, sizeof(idtext), "%" PRIu64, r->relay_id);
		r->line = splice_id(line, s, e, idtext);
		free(line);
		if (!r->line) {
			free(r);
			return;
		}
	}
	if (R.tail)
		R.tail->next = r;
	else
		R.head = r;
	R.tail = r;
}

/* Sends the next queued request to uhv when none is in flight. */
static void pump(void)
{
	struct request *r = R.head;

	if (!R.ready && !R.heard &&
	    mono_now() - R.connected_at >= RELAY_QUIET_READY) {
		R.ready = true;
		rlog("# ", "nothing heard from uhv: taken to be up already");
	}
	if (R.inflight || !r || !R.ready)
		return;
	R.head = r->next;
	if (!R.head)
		R.tail = NULL;
	rlog("-> ", "%s", r->line);
	if (!write_all(R.serial_fd, r->line, strlen(r->line)) ||
	    !write_all(R.serial_fd, "\n", 1)) {
		rlog("# ", "serial side lost while sending");
		exit(EXIT_OK);
	}
	if (r->agent && r->relay_id) {
		int i = R.agent_next++ % RELAY_AGENT_SLOTS;

		R.agents[i].relay_id = r->relay_id;
		R.agents[i].client = r->client;
		memcpy(R.agents[i].orig_id, r->orig_id, RELAY_ID_TEXT);
	}
	R.inflight = r;
	R.inflight_since = mono_now();
}

static void request_free(struct request *r)
{
	free(r->line);
	free(r);
}

/* A line from a client: blank lines get no answer (Lines), so they stay
   here; the rest join the queue. */
static void client_line(struct rclient *c, char *line, bool cut)
{
	if (strspn(line, " \t\r") == strlen(line)) {
		free(line);
		return;
	}
	if (cut)        /* still longer than uhv takes: it says line_too_long */
		rlog("# ", "client %" PRIu64 " sent a line over %d bytes: cut",
		     c->serial, LINE_MAX_BYTES);
	queue_request(c, line);
	pump();
}

/* The reply to the request in flight goes to its sender, with the
   sender's id back in place. */
static void uhv_reply(char *line)
{
	struct request *r = R.inflight;
	struct rclient *c;
	size_t s, e;
	uint64_t v;
	char *out = line;

	if (!r) {
		rlog("# ", "a reply with no request in flight: dropped");
		return;
	}
	if (r->relay_id) {
		/* A reply without our id answers something uhv read that no
		   client sent (line noise on a cable, an echo): not ours. */
		if (!relay_find_id(line, strlen(line), &s, &e, &v, NULL)) {
			rlog("# ", "a reply without id %" PRIu64 ": dropped",
			     r->relay_id);
			return;
		}
		if (v != r->relay_id) {
			rlog("# ", "a reply for id %" PRIu64 ", not %" PRIu64
			     ": dropped", v, r->relay_id);
			return;
		}
		out = splice_id(line, s, e, r->orig_id);
	}
	c = client_by_serial(r->client);
	if (c && out) {
		client_send(c, out, strlen(out));
		if (c->fd >= 0)
			client_send(c, "\n", 1);
	}
	if (out != line)
		free(out);
	request_free(r);
	R.inflight = NULL;
}

/*
 * An event goes to every client. An agent_message carrying the id of an
 * agent request made through the relay goes to its sender with the
 * sender's id, and unchanged to the others.
 */
static void uhv_event(char *line, json_object *ev)
{
	const char *name = j_str(ev, "event", "");
	uint64_t owner = 0;
	char *mine = NULL;
	size_t s, e, n = strlen(line);
	uint64_t v;

	if (!strcmp(name, "hello")) {
		if (!R.ready)
			rlog("# ", "uhv is up: requests go to it from now on");
		R.ready = true;
		free(R.hello);
		if (asprintf(&R.hello, "%s\n", line) < 0)
			R.hello = NULL;
	}
	if (!strcmp(name, "agent_message") &&
	    relay_find_id(line, n, &s, &e, &v, NULL)) {
		for (int i = 0; i < RELAY_AGENT_SLOTS; i++) {
			if (R.agents[i].relay_id != v || !v)
				continue;
			owner = R.agents[i].client;
			mine = splice_id(line, s, e, R.agents[i].orig_id);
		}
	}
	for (int i = 0; i < RELAY_MAX_CLIENTS; i++) {
		struct rclient *c = &R.cl[i];
		const char *out = owner && c->serial == owner && mine ? mine : line;

		if (c->fd < 0)
			continue;
		client_send(c, out, strlen(out));
		if (c->fd >= 0)
			client_send(c, "\n", 1);
	}
	free(mine);
}

/* One line from uhv: logged, then an event or a reply. */
static void uhv_line(char *line)
{
	json_object *o;

	rlog("<- ", "%s", line);
	o = json_tokener_parse(line);
	if (!o || !json_object_is_type(o, json_type_object)) {
		rlog("# ", "not a JSON object from uhv: dropped");
	} else if (j_has(o, "event")) {
		uhv_event(line, o);
		pump();         /* the greeting makes uhv ready */
	} else {
		uhv_reply(line);
		pump();
	}
	json_object_put(o);
}

/* Gives up a request uhv has not answered for RELAY_REPLY_WAIT seconds,
   with an error reply of the relay's own (code relay_timeout). */
static void check_stall(void)
{
	struct request *r = R.inflight;
	struct rclient *c;
	char *err;

	if (!r || mono_now() - R.inflight_since < RELAY_REPLY_WAIT)
		return;
	rlog("# ", "no reply in %.0f s: request given up", RELAY_REPLY_WAIT);
	c = client_by_serial(r->client);
	if (c && asprintf(&err, "{\"id\":%s,\"ok\":false,\"error\":{\"code\":"
			  "\"relay_timeout\",\"message\":\"uhv did not answer "
			  "within %.0f s\"}}\n", r->relay_id ? r->orig_id :
			  "null", RELAY_REPLY_WAIT) >= 0) {
		client_send(c, err, strlen(err));
		free(err);
	}
	request_free(r);
	R.inflight = NULL;
	pump();
}

static void accept_client(void)
{
	int fd = accept4(R.listen_fd, NULL, NULL, SOCK_CLOEXEC);

	if (fd < 0)
		return;
	for (int i = 0; i < RELAY_MAX_CLIENTS; i++) {
		struct rclient *c = &R.cl[i];

		if (c->fd >= 0)
			continue;
		c->fd = fd;
		c->serial = R.next_serial++;
		rlog("# ", "client %" PRIu64 " connected", c->serial);
		if (R.hello)
			client_send(c, R.hello, strlen(R.hello));
		return;
	}
	close(fd);      /* full: the client sees the connection close */
}

/* Reads a ready client; its whole lines become requests. */
static void read_client(struct rclient *c)
{
	char *line;
	bool cut;

	if (line_fill(&c->in, c->fd) <= 0) {
		client_drop(c, "disconnected");
		return;
	}
	while (c->fd >= 0 && (line = line_next(&c->in, &cut)))
		client_line(c, line, cut);
}

static void read_serial(void)
{
	char *line;
	bool cut;

	if (line_fill(&R.serial_in, R.serial_fd) <= 0) {
		rlog("# ", "serial side closed: relay ends");
		exit(EXIT_OK);
	}
	R.heard = true;
	while ((line = line_next(&R.serial_in, &cut))) {
		uhv_line(line);
		free(line);
	}
}

/*
 * A serial device (a cable to uhv on real hardware: /dev/ttyS1,
 * /dev/ttyUSB0): raw bytes at uhv's 115200 8N1, no echo, no flow control
 * (docs/protocol.md, Transport).
 */
static int open_tty(const char *path)
{
	struct termios t;
	int fd = open(path, O_RDWR | O_NOCTTY | O_CLOEXEC);

	if (fd < 0)
		die(EXIT_UNREACHABLE, "relay: cannot open %s: %s", path,
		    strerror(errno));
	if (tcgetattr(fd, &t) == 0) {
		cfmakeraw(&t);
		cfsetispeed(&t, B115200);
		cfsetospeed(&t, B115200);
		t.c_cflag &= ~(tcflag_t)(CRTSCTS | CSTOPB | PARENB);
		t.c_cflag |= CLOCAL | CREAD;
		if (tcsetattr(fd, TCSANOW, &t) != 0)
			die(EXIT_LOCAL, "relay: cannot set %s to 115200 8N1 raw: "
			    "%s", path, strerror(errno));
	}
	return fd;
}

/* The emulator opens its socket some time after it starts: retry. A
   path (starting with '/') is a serial device instead. */
static int connect_serial(const char *addr)
{
	double end = mono_now() + RELAY_CONNECT_WAIT;
	const char *why = "";
	int fd;

	if (addr[0] == '/')
		return open_tty(addr);
	while ((fd = net_connect(addr, &why)) < 0 && mono_now() < end)
		usleep(50 * 1000);
	if (fd < 0)
		die(EXIT_UNREACHABLE, "relay: cannot connect to %s: %s", addr,
		    why);
	return fd;
}

static void relay_loop(void)
{
	struct pollfd p[RELAY_MAX_CLIENTS + 2];
	int idx[RELAY_MAX_CLIENTS + 2];

	for (;;) {
		int n = 0;

		p[n++] = (struct pollfd){ .fd = R.serial_fd, .events = POLLIN };
		p[n++] = (struct pollfd){ .fd = R.listen_fd, .events = POLLIN };
		for (int i = 0; i < RELAY_MAX_CLIENTS; i++) {
			if (R.cl[i].fd < 0)
				continue;
			idx[n] = i;
			p[n++] = (struct pollfd){ .fd = R.cl[i].fd,
						  .events = POLLIN };
		}
		if (poll(p, (nfds_t)n, RELAY_POLL_MS) < 0 && errno != EINTR)
			die(EXIT_LOCAL, "relay: poll: %s", strerror(errno));
		if (p[0].revents)
			read_serial();
		if (p[1].revents & POLLIN)
			accept_client();
		for (int i = 2; i < n; i++)
			if (p[i].revents && R.cl[idx[i]].fd == p[i].fd)
				read_client(&R.cl[idx[i]]);
		check_stall();
		pump();         /* uhv may have become ready by the clock */
	}
}

int relay_main(int argc, char **argv)
{
	static const struct option lo[] = {
		{ "serial", required_argument, NULL, 's' },
		{ "listen", required_argument, NULL, 'l' },
		{ "log", required_argument, NULL, 'g' },
		{ 0 }
	};
	const char *serial = NULL, *listen_addr = NULL, *logf = NULL, *why = "";
	int ch;

	while ((ch = getopt_long(argc, argv, "", lo, NULL)) != -1) {
		switch (ch) {
		case 's': serial = optarg; break;
		case 'l': listen_addr = optarg; break;
		case 'g': logf = optarg; break;
		default: return EXIT_USAGE;
		}
	}
	if (!serial || !listen_addr || optind != argc)
		die(EXIT_USAGE, "usage: uhvctl relay --serial HOST:PORT "
		    "--listen HOST:PORT [--log FILE]");
	if (logf && !(R.log = fopen(logf, "a")))
		die(EXIT_LOCAL, "relay: cannot open %s: %s", logf,
		    strerror(errno));
	for (int i = 0; i < RELAY_MAX_CLIENTS; i++)
		R.cl[i].fd = -1;
	R.next_serial = 1;
	R.next_id = RELAY_ID_FIRST;
	/* listen first, so that clients can connect while the emulator
	   starts; they are served once the serial side is there */
	R.listen_fd = net_listen(listen_addr, &why);
	if (R.listen_fd < 0)
		die(EXIT_LOCAL, "relay: cannot listen on %s: %s", listen_addr,
		    why);
	R.serial_fd = connect_serial(serial);
	R.connected_at = mono_now();
	rlog("# ", "relay: serial %s, listening on %s", serial, listen_addr);
	relay_loop();
	return EXIT_OK;
}
