/*
 * uhvctl: the host-side client of uhv's management protocol
 * (docs/protocol.md). One binary, several roles:
 *
 *   uhvctl relay ...      holds the emulator's one COM2 connection and
 *                         serves any number of clients (relay.c);
 *   uhvctl COMMAND ...    one request (or a few) through the relay, with
 *                         human-readable or --json output (cmds.c);
 *   uhvctl top|record     samples stats and shows or stores rates (top.c);
 *   uhvctl trace          a VM's recent exits, or follows them (cmd_trace.c);
 *   uhvctl gdb            carries a gdb session to a VM's stub (cmd_gdb.c);
 *   uhvctl plot           draws a record with gnuplot (plot.c).
 *
 * Host C (gnu11) with json-c for parsing replies; the relay uses uhv's own
 * parser (lib/json.c) only to find a request's "id" in place.
 */
#ifndef UHVCTL_H
#define UHVCTL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <json-c/json.h>

/* Exit statuses, distinct so that scripts can tell the failures apart. */
#define EXIT_OK          0
#define EXIT_UHV_ERROR   1      /* uhv answered {"ok":false,...} */
#define EXIT_USAGE       2      /* bad command line */
#define EXIT_UNREACHABLE 3      /* no connection, or it closed */
#define EXIT_TIMEOUT     4      /* no reply / event in time */
#define EXIT_PROTOCOL    5      /* a reply that is not the protocol */
#define EXIT_LOCAL       6      /* a local failure: a file, gnuplot */

#define UHVCTL_DEFAULT_ADDR   "127.0.0.1:5555"
#define UHVCTL_ENV_ADDR       "UHV_CTL"
#define UHVCTL_REPLY_TIMEOUT  30.0      /* seconds: Bochs is slow */
#define LINE_MAX_BYTES        65536     /* longest line either side reads */
#define UHV_LINE_MAX          4096      /* docs/protocol.md: Lines */

/* ---- net.c: addresses, sockets, a line reader ---- */

struct line_buf {
	char *buf;
	size_t len, cap;
	bool overflow;          /* the current line passed LINE_MAX_BYTES */
};

/* Is addr HOST:PORT with a port from 1 to 65535? false with *why set
   (no name is looked up). */
bool net_addr_ok(const char *addr, const char **why);
/* Connects to HOST:PORT; the socket, or -1 with errno and *why set. */
int net_connect(const char *addr, const char **why);
/* Listens on HOST:PORT (SO_REUSEADDR); the socket or -1 (*why set). */
int net_listen(const char *addr, const char **why);
/* Reads what is available from fd into lb (one read()); returns the byte
   count, 0 at end of file, -1 on error. */
ssize_t line_fill(struct line_buf *lb, int fd);
/* Takes the next whole line out of lb (without '\n' and a trailing '\r'),
   as a malloc'd string; NULL when none is complete. A line longer than
   LINE_MAX_BYTES comes out cut to that length with *cut set. */
char *line_next(struct line_buf *lb, bool *cut);
void line_free(struct line_buf *lb);
/* Writes all of buf[0..len) (blocking); false on error. */
bool write_all(int fd, const char *buf, size_t len);
/* Seconds on the host's monotonic clock. */
double mono_now(void);

/* ---- client.c: a connection that sends requests ---- */

struct client {
	int fd;
	const char *addr;
	struct line_buf in;
	uint64_t next_id;
	double timeout;                 /* seconds for a reply */
	struct {                        /* events seen while waiting */
		json_object *o;
		char *raw;
	} events[64];
	int nr_events;
};

/* Connects (exits with EXIT_UNREACHABLE and a message if it cannot). */
void client_open(struct client *c, const char *addr, double timeout);
/* The same, but while nothing listens at addr (connection refused) it
   tries again until the deadline until (mono_now() seconds; 0: no
   deadline; < 0: no retry), saying once on stderr that it waits. */
void client_open_wait(struct client *c, const char *addr, double timeout,
		      double until);
void client_close(struct client *c);
/* Sends {"id":N,"cmd":cmd,...args} and waits for its reply. Returns the
   reply (owned by the caller) and its raw line in *raw (malloc'd, may be
   NULL); exits on a lost connection or a timeout. Events that arrive
   meanwhile are kept in c->events. *id is the request's id. */
json_object *client_call(struct client *c, const char *cmd,
			 json_object *args, char **raw, uint64_t *id);
/* Waits for the next event line until the deadline (mono_now() seconds;
   <= 0: none). Returns it (caller owns) and its raw line, or NULL at the
   deadline; exits on a lost connection. Kept events come first. */
json_object *client_event(struct client *c, double deadline, char **raw);
/* If the reply is an error, prints it ("uhvctl: CODE: MESSAGE") and
   returns EXIT_UHV_ERROR; EXIT_PROTOCOL if it is not a reply; else 0. */
int reply_status(json_object *reply);

/* ---- helpers for reading replies that may lack fields ---- */
const char *j_str(json_object *o, const char *key, const char *dflt);
int64_t j_int(json_object *o, const char *key, int64_t dflt);
bool j_has(json_object *o, const char *key);
void die(int status, const char *fmt, ...)
	__attribute__((noreturn, format(printf, 2, 3)));

/* ---- the roles ---- */

struct opts {
	const char *addr;
	bool json;
	double timeout;         /* -1: not given */
};

int relay_main(int argc, char **argv);
int cmd_main(const struct opts *o, int argc, char **argv);
int cmd_stats(const struct opts *o, struct client *c, const char *vm);
int top_main(const struct opts *o, int argc, char **argv);
int trace_main(const struct opts *o, int argc, char **argv);
int gdb_main(const struct opts *o, int argc, char **argv);
int record_main(const struct opts *o, int argc, char **argv);
int plot_main(int argc, char **argv);

/* ---- stats.c: one VM's counters, and rates between two samples ---- */

#define REASONS_MAX 64
#define TOP_REASONS 3

struct sample {
	char vm[32];
	char state[16];
	bool has_clock;                 /* cpu_us and now_us were there */
	double host_t;                  /* mono_now() when it came */
	uint64_t cpu_us, now_us, exits;
	int nr_reasons;
	struct { char name[40]; uint64_t count; } reasons[REASONS_MAX];
	uint64_t disk_rd, disk_wr, net_rx, net_tx;      /* bytes, summed */
};

struct rates {
	double t_s;                     /* uhv's clock (host's if absent) */
	double cpu_share;               /* 0..1, or -1 if unknown */
	double exits_ps;
	int nr_top;
	struct { const char *name; double ps; } top[TOP_REASONS];
	double disk_rd_Bps, disk_wr_Bps, net_rx_Bps, net_tx_Bps;
};

/* Fills s from a stats reply. */
void sample_from_reply(struct sample *s, json_object *reply);
/* The rates from a to b (same VM, b later); false if no time passed. */
bool sample_rates(const struct sample *a, const struct sample *b,
		  struct rates *r);
/* Names (and states, if not NULL) of every VM, from a list reply; their
   number (at most max). */
int list_names(json_object *reply, char names[][32], char states[][16],
	       int max);

#endif
