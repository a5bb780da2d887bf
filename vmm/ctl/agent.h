/*
 * uhv's side of a guest agent channel (docs/protocol.md "agent", and
 * agent/README.md): a line protocol over a byte pipe (the VM's
 * virtio-console port), bounded and rate-limited so that the guest can
 * only ever speak for itself, and only in agent_message events.
 *
 * Framing: lines of bytes ended by '\n' (a '\r' before it is dropped),
 * at most AGENT_LINE_MAX bytes without the newline, either way.
 *
 *   uhv -> guest   "<id> <data>\n"   a request: the protocol request's id
 *                                    in decimal, a space, its data as the
 *                                    client gave it (no '\n', '\r', NUL)
 *   guest -> uhv   "hb\n"            a heartbeat, once a second
 *                  "<id> <answer>\n" the answer to request id; the answer
 *                                    is opaque to uhv (the agent writes
 *                                    one line of JSON) and goes to the
 *                                    client as an agent_message event
 *
 * What the guest sends is checked in this order; a line failing a check
 * is dropped whole and counted by cause (the first AGENT_LOG_LIMIT of
 * each cause logged): longer than AGENT_LINE_MAX; beyond the token
 * bucket (AGENT_RATE_PER_S lines a second, bursts of AGENT_BURST);
 * neither a heartbeat nor "<id> ..."; an id with no request outstanding.
 *
 * Liveness: the first heartbeat makes the agent connected; none for
 * AGENT_HEARTBEAT_TIMEOUT_S seconds makes it lost (ops->lost, and the
 * requests outstanding are forgotten); a later heartbeat connects it
 * again. A request unanswered for AGENT_ANSWER_TIMEOUT_S is forgotten.
 *
 * Pure: time is the caller's TSC value, output goes through struct
 * agent_ops, so host tests drive it byte by byte.
 */
#ifndef UHV_VMM_AGENT_H
#define UHV_VMM_AGENT_H

#include "vmm/ctl/ctl.h"

#define AGENT_LINE_MAX            CTL_AGENT_MAX   /* 512 */
#define AGENT_RATE_PER_S          20
#define AGENT_BURST               40
#define AGENT_HEARTBEAT_TIMEOUT_S 3
#define AGENT_ANSWER_TIMEOUT_S    30
#define AGENT_MAX_PENDING         8      /* requests awaiting an answer */
#define AGENT_LOG_LIMIT           3      /* messages per drop cause */
#define AGENT_ID_DIGITS_MAX       16     /* CTL_ID_MAX has 16 digits */
#define AGENT_HEARTBEAT           "hb"
/* a request line: id, space, data, newline */
#define AGENT_REQUEST_MAX         (AGENT_ID_DIGITS_MAX + 1 + CTL_AGENT_MAX + 1)

/* Why a line from the guest was dropped. */
enum agent_drop {
	AGENT_DROP_TOO_LONG,       /* over AGENT_LINE_MAX bytes */
	AGENT_DROP_RATE,           /* beyond the token bucket */
	AGENT_DROP_MALFORMED,      /* neither "hb" nor "<id> ..." */
	AGENT_DROP_UNKNOWN_ID,     /* no request outstanding with that id */
	AGENT_DROP_MAX
};

struct agent_ops {
	/* Sends len bytes to the guest, whole (0) or not at all (-1). */
	int (*send)(void *ctx, const char *data, size_t len);
	/* The answer data[0..len) to request id (any bytes: the control
	   channel's JSON writer escapes them). */
	void (*message)(void *ctx, u64 id, const char *data, size_t len);
	/* The agent was connected and its heartbeats stopped. */
	void (*lost)(void *ctx);
	/* One sentence for uhv's console, no newline; the caller adds
	   "uhv: vm NAME: ". */
	void (*log)(void *ctx, const char *msg);
};

struct agent_stats {
	u64 requests;              /* sent to the guest */
	u64 answers;               /* passed on as agent_message */
	u64 heartbeats;
	u64 connects, losses;
	u64 expired;               /* requests never answered */
	u64 drops[AGENT_DROP_MAX];
};

struct agent_pending {
	u64 id;
	u64 sent;                  /* TSC */
	bool used;
};

struct agent {
	const struct agent_ops *ops;
	void *ctx;
	u64 tsc_hz;
	char line[AGENT_LINE_MAX]; /* the line being received */
	size_t len;
	bool too_long;             /* the line ran over: drop it at '\n' */
	u64 credit, refilled;      /* token bucket, in TSC ticks; its time */
	bool connected;
	u64 last_heartbeat;        /* TSC */
	struct agent_pending pending[AGENT_MAX_PENDING];
	struct agent_stats stats;
};

/* Sets a up, not connected, with a full bucket at time now. */
void agent_init(struct agent *a, const struct agent_ops *ops, void *ctx,
		u64 tsc_hz, u64 now);

/* Bytes from the guest, in any pieces; each complete line is handled. */
void agent_input(struct agent *a, const u8 *data, size_t len, u64 now);

/*
 * Sends request id with data[0..len) to the guest as "<id> <data>\n"
 * and remembers id for its answer. CTL_OK, or CTL_E_STATE (not
 * connected, AGENT_MAX_PENDING requests outstanding, the channel full)
 * or CTL_E_VALUE (data longer than CTL_AGENT_MAX, or with '\n', '\r' or
 * NUL, which the framing cannot carry) with a sentence in msg
 * (CTL_MSG_MAX bytes).
 */
enum ctl_code agent_request(struct agent *a, u64 id, const char *data,
			    size_t len, u64 now, char *msg);

/* Time passes: a connected agent with no heartbeat for
   AGENT_HEARTBEAT_TIMEOUT_S is lost; old requests are forgotten. */
void agent_tick(struct agent *a, u64 now);

/* The guest could not run (its VM is paused): the time until now is not
   the agent's silence, so the heartbeat timeout starts again. */
void agent_hold(struct agent *a, u64 now);

bool agent_connected(const struct agent *a);

#endif
