/*
 * The guest agent channel's line protocol (agent.h). Lines from the
 * guest are assembled byte by byte into a buffer that never grows: a
 * line that runs over is marked and its bytes discarded up to its '\n',
 * so a guest that never sends a newline costs uhv one comparison a byte.
 *
 * The rate limit is a token bucket kept in TSC ticks, which needs no
 * division per line: a line costs tsc_hz / AGENT_RATE_PER_S ticks of
 * credit, credit grows with time up to AGENT_BURST lines' worth.
 */
#include "vmm/ctl/agent.h"
#include "lib/fmt.h"
#include "lib/string.h"

#define LOG_MAX 160
#define STR_(x) #x
#define STR(x) STR_(x)            /* a number macro as a string literal */

/* What each drop's log line says, with the count so far. */
static const char *const drop_why[AGENT_DROP_MAX] = {
	[AGENT_DROP_TOO_LONG] = "a line longer than " STR(AGENT_LINE_MAX) " bytes",
	[AGENT_DROP_RATE] = "a line over the rate limit (" STR(AGENT_RATE_PER_S)
			    "/s, bursts of " STR(AGENT_BURST) ")",
	[AGENT_DROP_MALFORMED] = "a line that is neither 'hb' nor '<id> <answer>'",
	[AGENT_DROP_UNKNOWN_ID] = "an answer to no outstanding request",
};

static void say(struct agent *a, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static void say(struct agent *a, const char *fmt, ...)
{
	char msg[LOG_MAX];
	va_list ap;

	if (!a->ops->log)
		return;
	va_start(ap, fmt);
	fmt_vsn(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	a->ops->log(a->ctx, msg);
}

/* Counts a dropped line; the first AGENT_LOG_LIMIT of each cause are
   logged, the last of them saying that the rest will not be. */
static void drop(struct agent *a, enum agent_drop why)
{
	u64 n = ++a->stats.drops[why];

	if (n <= AGENT_LOG_LIMIT)
		say(a, "agent: dropped %s (%llu so far)%s", drop_why[why],
		    (unsigned long long)n, n == AGENT_LOG_LIMIT ?
		    "; further ones are only counted" : "");
}

static u64 line_cost(const struct agent *a)
{
	return a->tsc_hz / AGENT_RATE_PER_S;
}

/* Takes one line's worth of credit from the bucket, refilled for the
   time since it last was; false if there is not enough. */
static bool take_token(struct agent *a, u64 now)
{
	u64 cap = line_cost(a) * AGENT_BURST;

	if (now > a->refilled)
		a->credit = MIN(cap, a->credit + (now - a->refilled));
	a->refilled = now;
	if (a->credit < line_cost(a))
		return false;
	a->credit -= line_cost(a);
	return true;
}

static void heartbeat(struct agent *a, u64 now)
{
	a->stats.heartbeats++;
	a->last_heartbeat = now;
	if (a->connected)
		return;
	a->connected = true;
	a->stats.connects++;
	say(a, "agent connected (heartbeats expected every second, lost after "
	    "%d s without)", AGENT_HEARTBEAT_TIMEOUT_S);
}

/* Parses "<id>" at s[0..n): 1..16 decimal digits up to CTL_ID_MAX; the
   number of digits, or 0. */
static size_t parse_id(const char *s, size_t n, u64 *id)
{
	size_t i = 0;

	*id = 0;
	for (; i < n && i < AGENT_ID_DIGITS_MAX && s[i] >= '0' && s[i] <= '9'; i++)
		*id = *id * 10 + (u64)(s[i] - '0');
	return i && *id <= CTL_ID_MAX ? i : 0;
}

/* The outstanding request with this id, or NULL. */
static struct agent_pending *find_pending(struct agent *a, u64 id)
{
	for (int i = 0; i < AGENT_MAX_PENDING; i++)
		if (a->pending[i].used && a->pending[i].id == id)
			return &a->pending[i];
	return NULL;
}

/* "<id> <answer>" (or "<id>" alone: an empty answer). */
static void answer(struct agent *a, const char *s, size_t n)
{
	struct agent_pending *p;
	size_t k;
	u64 id;

	k = parse_id(s, n, &id);
	if (!k || (k < n && s[k] != ' ')) {
		drop(a, AGENT_DROP_MALFORMED);
		return;
	}
	if (!(p = find_pending(a, id))) {
		drop(a, AGENT_DROP_UNKNOWN_ID);
		return;
	}
	p->used = false;
	a->stats.answers++;
	k += k < n;                          /* the space */
	a->ops->message(a->ctx, id, s + k, n - k);
}

/* A whole line, without its '\n'. */
static void handle_line(struct agent *a, u64 now)
{
	size_t n = a->len;

	if (n && a->line[n - 1] == '\r')
		n--;
	if (!take_token(a, now)) {
		drop(a, AGENT_DROP_RATE);
		return;
	}
	if (n == sizeof(AGENT_HEARTBEAT) - 1 &&
	    !memcmp(a->line, AGENT_HEARTBEAT, n))
		heartbeat(a, now);
	else
		answer(a, a->line, n);
}

void agent_input(struct agent *a, const u8 *data, size_t len, u64 now)
{
	for (size_t i = 0; i < len; i++) {
		if (data[i] == '\n') {
			if (a->too_long)
				drop(a, AGENT_DROP_TOO_LONG);
			else
				handle_line(a, now);
			a->len = 0;
			a->too_long = false;
		} else if (a->len < sizeof(a->line)) {
			a->line[a->len++] = (char)data[i];
		} else {
			a->too_long = true;
		}
	}
}

static enum ctl_code refuse(char *msg, enum ctl_code code, const char *why)
{
	fmt_sn(msg, CTL_MSG_MAX, "%s", why);
	return code;
}

/* A free slot for a request's id, or NULL. */
static struct agent_pending *free_slot(struct agent *a)
{
	for (int i = 0; i < AGENT_MAX_PENDING; i++)
		if (!a->pending[i].used)
			return &a->pending[i];
	return NULL;
}

enum ctl_code agent_request(struct agent *a, u64 id, const char *data,
			    size_t len, u64 now, char *msg)
{
	char line[AGENT_REQUEST_MAX];
	struct agent_pending *p;
	int n;

	if (!a->connected)
		return refuse(msg, CTL_E_STATE, "no guest agent connected");
	if (len > CTL_AGENT_MAX)
		return refuse(msg, CTL_E_VALUE, "'data' is longer than "
			      STR(CTL_AGENT_MAX) " bytes");
	for (size_t i = 0; i < len; i++)
		if (data[i] == '\n' || data[i] == '\r' || !data[i])
			return refuse(msg, CTL_E_VALUE, "'data' must not contain "
				      "a line break or NUL (the agent reads lines)");
	if (!(p = free_slot(a)))
		return refuse(msg, CTL_E_STATE, "the agent has "
			      STR(AGENT_MAX_PENDING) " requests unanswered; "
			      "wait for their answers");
	n = fmt_sn(line, sizeof(line), "%llu ", (unsigned long long)id);
	memcpy(line + n, data, len);
	line[n + len] = '\n';
	if (a->ops->send(a->ctx, line, (size_t)n + len + 1))
		return refuse(msg, CTL_E_STATE, "the agent channel is full (the "
			      "guest is not reading it)");
	*p = (struct agent_pending){ id, now, true };
	a->stats.requests++;
	return CTL_OK;
}

void agent_tick(struct agent *a, u64 now)
{
	u64 answer_ticks = a->tsc_hz * AGENT_ANSWER_TIMEOUT_S;

	for (int i = 0; i < AGENT_MAX_PENDING; i++) {
		struct agent_pending *p = &a->pending[i];

		if (p->used && now - p->sent >= answer_ticks) {
			p->used = false;
			if (a->stats.expired++ < AGENT_LOG_LIMIT)
				say(a, "agent: no answer to request %llu within "
				    "%d s", (unsigned long long)p->id,
				    AGENT_ANSWER_TIMEOUT_S);
		}
	}
	if (!a->connected ||
	    now - a->last_heartbeat < a->tsc_hz * AGENT_HEARTBEAT_TIMEOUT_S)
		return;
	a->connected = false;
	a->stats.losses++;
	memset(a->pending, 0, sizeof(a->pending));
	say(a, "agent lost (no heartbeat for %d s)", AGENT_HEARTBEAT_TIMEOUT_S);
	if (a->ops->lost)
		a->ops->lost(a->ctx);
}

void agent_hold(struct agent *a, u64 now)
{
	if (a->connected)
		a->last_heartbeat = now;
}

bool agent_connected(const struct agent *a)
{
	return a->connected;
}

void agent_init(struct agent *a, const struct agent_ops *ops, void *ctx,
		u64 tsc_hz, u64 now)
{
	memset(a, 0, sizeof(*a));
	a->ops = ops;
	a->ctx = ctx;
	a->tsc_hz = tsc_hz;
	a->credit = line_cost(a) * AGENT_BURST;
	a->refilled = now;
}
