/*
 * The management protocol's dispatcher (docs/protocol.md). A request line
 * goes through parse_request (the JSON, then the fields its command takes,
 * by the tables below), then find_vm (the VM exists and is in a state the
 * command applies to), then the command's function, which calls the VM
 * manager and writes the reply's members. Any step may fail with a code
 * and a sentence in c->msg; the reply is then an error reply.
 *
 * create takes the keys of a [vm NAME] section of uhv.cfg, and
 * ctl_create.c checks them with config.c itself.
 */
#include <stdarg.h>

#include "vmm/ctl/ctl.h"
#include "lib/fmt.h"
#include "lib/string.h"

#define QUOTE_MAX 32            /* a client's string quoted in a message */

static const char *const code_names[CTL_CODE_COUNT] = {
	[CTL_OK] = "ok",
	[CTL_E_PARSE] = "parse_error",
	[CTL_E_TOO_LONG] = "line_too_long",
	[CTL_E_UNKNOWN_CMD] = "unknown_command",
	[CTL_E_UNKNOWN_FIELD] = "unknown_field",
	[CTL_E_DUP_FIELD] = "duplicate_field",
	[CTL_E_TYPE] = "wrong_type",
	[CTL_E_MISSING] = "missing_field",
	[CTL_E_VALUE] = "invalid_value",
	[CTL_E_NO_VM] = "no_such_vm",
	[CTL_E_STATE] = "bad_state",
	[CTL_E_EXISTS] = "vm_exists",
	[CTL_E_NO_ROOM] = "no_room",
	[CTL_E_INTERNAL] = "internal_error",
};

static const char *const state_names[CTL_VM_STATE_COUNT] = {
	[CTL_VM_CREATED] = "created",
	[CTL_VM_RUNNING] = "running",
	[CTL_VM_PAUSED] = "paused",
	[CTL_VM_STOPPING] = "stopping",
	[CTL_VM_STOPPED] = "stopped",
};

const char *ctl_code_name(enum ctl_code code)
{
	return (unsigned)code < CTL_CODE_COUNT ? code_names[code] : "unknown";
}

const char *ctl_state_name(enum ctl_vm_state state)
{
	return (unsigned)state < CTL_VM_STATE_COUNT ? state_names[state] :
		"unknown";
}

/* Every field a request may have; each command takes some of them. */
enum field {
	F_ID, F_CMD, F_VM, F_IMAGE, F_INITRD, F_MEMORY, F_CMDLINE, F_CPUS,
	F_DISK, F_TIMEOUT, F_DATA, F_NET, F_AGENT, F_TRACE, F_ON, F_AFTER,
	F_RECORDS, F_COUNT,
};

#define T_STR BIT(JSON_STRING)
#define T_INT BIT(JSON_INTEGER)
#define T_STRS BIT(16)          /* an array of strings: a repeated key */
#define T_BOOL (BIT(JSON_TRUE) | BIT(JSON_FALSE))

static const struct {
	const char *name;
	u32 types;              /* BIT(enum json_type) accepted */
} fields[F_COUNT] = {
	[F_ID] = { "id", T_INT },
	[F_CMD] = { "cmd", T_STR },
	[F_VM] = { "vm", T_STR },
	[F_IMAGE] = { "image", T_STR },
	[F_INITRD] = { "initrd", T_STR },
	[F_MEMORY] = { "memory", T_STR | T_INT },   /* "16M" or bytes */
	[F_CMDLINE] = { "cmdline", T_STR },
	[F_CPUS] = { "cpus", T_STR | T_INT },
	[F_DISK] = { "disk", T_STR | T_STRS },
	[F_TIMEOUT] = { "timeout", T_INT },
	[F_DATA] = { "data", T_STR },
	[F_NET] = { "net", T_STR | T_STRS },
	[F_AGENT] = { "agent", T_STR | T_BOOL },   /* "on" or true */
	[F_TRACE] = { "trace", T_STR | T_BOOL },   /* create: "console" */
	[F_ON] = { "on", T_BOOL },                 /* trace: on or off */
	[F_AFTER] = { "after", T_INT },            /* trace: records after */
	[F_RECORDS] = { "count", T_INT },          /* trace: how many */
};

struct command;

struct request {
	const char *js;         /* the line */
	const struct command *cmd;
	bool has_id;
	u64 id;
	int tok[F_COUNT];       /* each field's value token; 0 (the root): no */
	char vm[CFG_NAME_MAX];
};

struct command {
	const char *name;
	u32 required, optional; /* fields beyond id and cmd: BIT(enum field) */
	u32 states;             /* BIT(state)s it applies to; 0: no VM lookup */
	const char *needs;      /* those states, in words */
	enum ctl_code (*run)(struct ctl *c, struct request *r,
			     struct json_writer *w);
};

static enum ctl_code fail(struct ctl *c, enum ctl_code code, const char *fmt,
			  ...) __attribute__((format(printf, 3, 4)));

static enum ctl_code fail(struct ctl *c, enum ctl_code code, const char *fmt,
			  ...)
{
	va_list ap;

	va_start(ap, fmt);
	fmt_vsn(c->msg, sizeof(c->msg), fmt, ap);
	va_end(ap);
	return code;
}

/* String token i as text for a message: unescaped, cut to fit buf. */
static const char *quote(const struct ctl *c, const struct request *r, int i,
			 char buf[QUOTE_MAX])
{
	enum json_err e;

	json_str_copy(r->js, &c->toks[i], buf, QUOTE_MAX, &e);
	return buf;
}

/* ---- the request ---- */

static enum ctl_code read_id(struct ctl *c, struct request *r)
{
	int i = json_member(r->js, c->toks, 0, "id");

	if (i < 0)
		return fail(c, CTL_E_MISSING, "missing field 'id'");
	if (c->toks[i].type != JSON_INTEGER)
		return fail(c, CTL_E_TYPE, "'id' must be an integer");
	if (json_get_u64(&c->toks[i], &r->id) || r->id > CTL_ID_MAX)
		return fail(c, CTL_E_VALUE, "'id' must be 0..%llu",
			    (unsigned long long)CTL_ID_MAX);
	r->has_id = true;
	return CTL_OK;
}

static enum ctl_code read_cmd(struct ctl *c, struct request *r,
			      const struct command *cmds, size_t n)
{
	int i = json_member(r->js, c->toks, 0, "cmd");
	char q[QUOTE_MAX];

	if (i < 0)
		return fail(c, CTL_E_MISSING, "missing field 'cmd'");
	if (c->toks[i].type != JSON_STRING)
		return fail(c, CTL_E_TYPE, "'cmd' must be a string");
	for (size_t k = 0; k < n; k++) {
		if (json_str_eq(r->js, &c->toks[i], cmds[k].name)) {
			r->cmd = &cmds[k];
			return CTL_OK;
		}
	}
	return fail(c, CTL_E_UNKNOWN_CMD, "unknown command '%s'",
		    quote(c, r, i, q));
}

static const char *type_words(u32 types)
{
	if (types == T_STR)
		return "a string";
	if (types == T_INT)
		return "an integer";
	if (types == T_BOOL)
		return "a boolean";
	if (types & T_BOOL)
		return "a string or a boolean";
	return types & T_INT ? "a string or an integer" :
		"a string or an array of strings";
}

/* Whether token v is of one of the types (T_STRS: an array of strings). */
static bool type_ok(const struct ctl *c, int v, u32 types)
{
	const struct json_tok *t = &c->toks[v];

	if (t->type != JSON_ARRAY || !(types & T_STRS))
		return types & BIT(t->type);
	for (int k = v + 1; k < t->next; k = c->toks[k].next)
		if (c->toks[k].type != JSON_STRING)
			return false;
	return true;
}

/* One member: a field the command takes, once, of the right type. */
static enum ctl_code read_member(struct ctl *c, struct request *r, int key)
{
	u32 takes = BIT(F_ID) | BIT(F_CMD) | r->cmd->required |
		    r->cmd->optional;
	char q[QUOTE_MAX];
	int f;

	for (f = 0; f < F_COUNT; f++)
		if (json_str_eq(r->js, &c->toks[key], fields[f].name))
			break;
	if (f == F_COUNT || !(takes & BIT(f)))
		return fail(c, CTL_E_UNKNOWN_FIELD, "unknown field '%s' for "
			    "command '%s'", quote(c, r, key, q), r->cmd->name);
	if (r->tok[f])
		return fail(c, CTL_E_DUP_FIELD, "field '%s' appears twice",
			    fields[f].name);
	if (!type_ok(c, key + 1, fields[f].types))
		return fail(c, CTL_E_TYPE, "'%s' must be %s", fields[f].name,
			    type_words(fields[f].types));
	r->tok[f] = key + 1;
	return CTL_OK;
}

/* Every member, then the fields the command requires. */
static enum ctl_code read_fields(struct ctl *c, struct request *r)
{
	enum ctl_code code;
	int key = 1;

	for (u16 m = 0; m < c->toks[0].size; m++) {
		if ((code = read_member(c, r, key)))
			return code;
		key = c->toks[key + 1].next;
	}
	for (int f = 0; f < F_COUNT; f++)
		if ((r->cmd->required & BIT(f)) && !r->tok[f])
			return fail(c, CTL_E_MISSING, "missing field '%s'",
				    fields[f].name);
	return CTL_OK;
}

/* The VM named in the request must exist and be in a state r->cmd takes. */
static enum ctl_code find_vm(struct ctl *c, struct request *r)
{
	enum json_err e;
	enum ctl_vm_state s;

	if (json_str_copy(r->js, &c->toks[r->tok[F_VM]], r->vm, sizeof(r->vm),
			  &e) < 0 || !c->ops->info(c->ctx, r->vm, &c->info))
		return fail(c, CTL_E_NO_VM, "no VM named '%s'", r->vm);
	s = c->info.state;
	if ((unsigned)s >= CTL_VM_STATE_COUNT)
		return fail(c, CTL_E_INTERNAL, "VM '%s' is in no known state",
			    r->vm);
	if (!(r->cmd->states & BIT(s)))
		return fail(c, CTL_E_STATE, "VM '%s' is %s; %s needs it %s",
			    r->vm, state_names[s], r->cmd->name, r->cmd->needs);
	return CTL_OK;
}

/* ---- the commands ---- */

/* After an action: its error, or the VM's state now as the reply. */
static enum ctl_code action_done(struct ctl *c, struct request *r,
				 struct json_writer *w, enum ctl_code code)
{
	c->msg[sizeof(c->msg) - 1] = 0;
	if ((unsigned)code >= CTL_CODE_COUNT)
		code = CTL_E_INTERNAL;
	if (code != CTL_OK) {
		if (!c->msg[0])
			fail(c, code, "%s failed", r->cmd->name);
		return code;
	}
	if (c->ops->info(c->ctx, r->vm, &c->info))
		json_w_kstr(w, "state", ctl_state_name(c->info.state));
	return CTL_OK;
}

static enum ctl_code cmd_version(struct ctl *c, struct request *r,
				 struct json_writer *w)
{
	(void)r;
	json_w_ku64(w, "protocol", CTL_PROTOCOL_VERSION);
	json_w_kstr(w, "uhv", c->version);
	return CTL_OK;
}

static enum ctl_code cmd_list(struct ctl *c, struct request *r,
			      struct json_writer *w)
{
	int n = c->ops->list(c->ctx, c->list, CTL_MAX_VMS);

	(void)r;
	json_w_key(w, "vms");
	json_w_array(w);
	for (int i = 0; i < n && i < CTL_MAX_VMS; i++) {
		c->list[i].name[CFG_NAME_MAX - 1] = 0;
		json_w_object(w);
		json_w_kstr(w, "vm", c->list[i].name);
		json_w_kstr(w, "state", ctl_state_name(c->list[i].state));
		json_w_object_end(w);
	}
	json_w_array_end(w);
	return CTL_OK;
}

static enum ctl_code cmd_info(struct ctl *c, struct request *r,
			      struct json_writer *w)
{
	const struct ctl_vm_info *in = &c->info;

	json_w_kstr(w, "vm", r->vm);
	json_w_kstr(w, "state", ctl_state_name(in->state));
	json_w_kstr(w, "image", in->cfg.image);
	json_w_kstr(w, "initrd", in->cfg.initrd);
	json_w_ku64(w, "memory", in->cfg.memory);
	json_w_kstr(w, "cmdline", in->cfg.cmdline);
	json_w_key(w, "cpus");
	json_w_s64(w, in->cfg.cpus);
	json_w_kbool(w, "agent", in->agent);
	if (in->result) {
		json_w_kstr(w, "result", in->result);
		json_w_ku64(w, "status", in->status);
		json_w_kstr(w, "why", in->why);
	}
	return CTL_OK;
}

static enum ctl_code cmd_create(struct ctl *c, struct request *r,
				struct json_writer *w)
{
	static const enum field keys[] = { F_IMAGE, F_INITRD, F_MEMORY,
					   F_CMDLINE, F_CPUS, F_DISK, F_NET,
					   F_AGENT, F_TRACE };
	struct ctl_cfg_key set[ARRAY_SIZE(keys)];
	const struct vm_config *vm;
	enum ctl_code code;
	int n = 0;

	for (size_t k = 0; k < ARRAY_SIZE(keys); k++)
		if (r->tok[keys[k]])
			set[n++] = (struct ctl_cfg_key){ fields[keys[k]].name,
							 r->tok[keys[k]] };
	if ((code = ctl_vm_config(c, r->js, r->tok[F_VM], set, n, &vm)))
		return code;
	str_copy(r->vm, vm->name, sizeof(r->vm));
	if (c->ops->info(c->ctx, r->vm, &c->info))
		return fail(c, CTL_E_EXISTS, "a VM named '%s' exists", r->vm);
	c->msg[0] = 0;
	return action_done(c, r, w, c->ops->create(c->ctx, vm, c->msg));
}

static enum ctl_code cmd_start(struct ctl *c, struct request *r,
			       struct json_writer *w)
{
	return action_done(c, r, w, c->ops->start(c->ctx, r->vm, c->msg));
}

static enum ctl_code cmd_pause(struct ctl *c, struct request *r,
			       struct json_writer *w)
{
	return action_done(c, r, w, c->ops->pause(c->ctx, r->vm, c->msg));
}

static enum ctl_code cmd_resume(struct ctl *c, struct request *r,
				struct json_writer *w)
{
	return action_done(c, r, w, c->ops->resume(c->ctx, r->vm, c->msg));
}

static enum ctl_code cmd_stop(struct ctl *c, struct request *r,
			      struct json_writer *w)
{
	u64 t = CTL_STOP_TIMEOUT_DEFAULT;

	if (r->tok[F_TIMEOUT] &&
	    (json_get_u64(&c->toks[r->tok[F_TIMEOUT]], &t) ||
	     t > CTL_STOP_TIMEOUT_MAX))
		return fail(c, CTL_E_VALUE, "'timeout' must be 0..%d seconds",
			    CTL_STOP_TIMEOUT_MAX);
	return action_done(c, r, w,
			   c->ops->stop(c->ctx, r->vm, (u32)t, c->msg));
}

static enum ctl_code cmd_destroy(struct ctl *c, struct request *r,
				 struct json_writer *w)
{
	enum ctl_code code = c->ops->destroy(c->ctx, r->vm, c->msg);

	/* the VM is gone: no state to report */
	return code == CTL_OK ? CTL_OK : action_done(c, r, w, code);
}

static enum ctl_code cmd_stats(struct ctl *c, struct request *r,
			       struct json_writer *w)
{
	struct ctl_vm_stats *st = &c->stats;

	memset(st, 0, sizeof(*st));
	if (!c->ops->stats(c->ctx, r->vm, st))
		return fail(c, CTL_E_NO_VM, "no VM named '%s'", r->vm);
	json_w_kstr(w, "vm", r->vm);
	json_w_kstr(w, "state", ctl_state_name(st->state));
	json_w_ku64(w, "cpu_us", st->cpu_us);
	json_w_ku64(w, "now_us", st->now_us);
	json_w_ku64(w, "exits", st->exits);
	json_w_ku64(w, "slices", st->slices);
	json_w_key(w, "by_reason");
	json_w_object(w);
	for (int i = 0; i < st->nr_reasons && i < CTL_STATS_REASONS; i++) {
		const struct ctl_counter *k = &st->reasons[i];

		if (k->name)
			json_w_ku64(w, k->name, k->count);
	}
	json_w_object_end(w);
	ctl_put_device_stats(w, st);
	return CTL_OK;
}

static enum ctl_code cmd_agent(struct ctl *c, struct request *r,
			       struct json_writer *w)
{
	enum json_err e;
	int n = json_str_copy(r->js, &c->toks[r->tok[F_DATA]], c->value,
			      sizeof(c->value), &e);

	if (n < 0 && e == JSON_E_SPACE)
		return fail(c, CTL_E_VALUE, "'data' is longer than %d bytes",
			    CTL_AGENT_MAX);
	if (n < 0)
		return fail(c, CTL_E_VALUE, "'data' must not contain \\u0000");
	if (!c->info.agent)
		return fail(c, CTL_E_STATE, "VM '%s' has no guest agent "
			    "connected", r->vm);
	return action_done(c, r, w, c->ops->agent(c->ctx, r->vm, r->id,
						  c->value, (size_t)n, c->msg));
}

static enum ctl_code cmd_shutdown(struct ctl *c, struct request *r,
				  struct json_writer *w)
{
	(void)r;
	(void)w;
	if (!c->ops->shutdown)
		return fail(c, CTL_E_INTERNAL, "shutdown is not available");
	return c->ops->shutdown(c->ctx, c->msg);
}

/* A reply of CTL_TRACE_MAX records, its other members (a VM name of
   CFG_NAME_MAX, 20-digit numbers) and its id is a line uhv could read. */
_Static_assert(CTL_TRACE_MAX * CTL_TRACE_REC_JSON + 256 <= JSON_LINE_MAX,
	       "a trace reply fits a protocol line");
_Static_assert(CTL_TRACE_HEAD_TOKENS + CTL_TRACE_MAX * CTL_TRACE_REC_TOKENS <=
	       JSON_MAX_TOKENS, "a trace reply has few enough values");

/* The trace command's "count" and "after", each within its range. */
static enum ctl_code trace_args(struct ctl *c, const struct request *r,
				u64 *count, u64 *after)
{
	*count = CTL_TRACE_MAX;
	*after = 0;
	if (r->tok[F_RECORDS] &&
	    (json_get_u64(&c->toks[r->tok[F_RECORDS]], count) || !*count ||
	     *count > CTL_TRACE_MAX))
		return fail(c, CTL_E_VALUE, "'count' must be 1..%d",
			    CTL_TRACE_MAX);
	if (r->tok[F_AFTER] &&
	    (json_get_u64(&c->toks[r->tok[F_AFTER]], after) ||
	     *after > CTL_ID_MAX))
		return fail(c, CTL_E_VALUE, "'after' must be 0..%llu",
			    (unsigned long long)CTL_ID_MAX);
	return CTL_OK;
}

/* One record: [seq, vcpu, reason, rip, detail, delta_tsc], an array
   (CTL_TRACE_REC_TOKENS); the RIP a string "0x...", since a kernel's is
   beyond the 2^53 that every JSON reader holds exactly (RFC 8259 §6). */
static void put_trace_rec(struct json_writer *w, const struct ctl_trace *tr,
			  u64 seq)
{
	const struct trace_rec *rec = trace_at(tr->ring, seq);
	char text[TRACE_DETAIL_MAX];

	json_w_array(w);
	json_w_u64(w, seq);
	json_w_u64(w, rec->vcpu);
	json_w_str(w, tr->reason_name(rec->reason));
	fmt_sn(text, sizeof(text), "0x%llx", (unsigned long long)rec->rip);
	json_w_str(w, text);
	trace_detail(rec, text, sizeof(text));
	json_w_str(w, text);
	json_w_u64(w, rec->delta);
	json_w_array_end(w);
}

/* The reply: the trace's mode, its newest seq, how many records after
   `after` are gone, and the next count of those held, oldest first. */
static void put_trace(struct json_writer *w, const struct request *r,
		      const struct ctl_trace *tr, u64 after, u64 count)
{
	u64 newest = trace_newest(tr->ring);

	json_w_kstr(w, "vm", r->vm);
	json_w_kbool(w, "on", tr->mode != CFG_TRACE_OFF);
	json_w_kbool(w, "console", tr->mode == CFG_TRACE_CONSOLE);
	json_w_ku64(w, "newest", newest);
	json_w_ku64(w, "missed", trace_missed(tr->ring, after));
	json_w_key(w, "records");
	json_w_array(w);
	for (u64 s = MAX(after + 1, trace_oldest(tr->ring)), n = 0;
	     s <= newest && n < count; s++, n++)
		put_trace_rec(w, tr, s);
	json_w_array_end(w);
}

/*
 * trace: turns the VM's exit trace on or off ("on"), then answers with
 * its records after seq "after", or without "after" its newest "count"
 * (docs/protocol.md). An "after" beyond the newest record is refused: the
 * client's seq is from an earlier run of the VM (the ring starts again at
 * 1 when the VM starts) or made up.
 */
static enum ctl_code cmd_trace(struct ctl *c, struct request *r,
			       struct json_writer *w)
{
	struct ctl_trace tr = { 0 };
	enum ctl_code code;
	u64 count, after, newest;

	if ((code = trace_args(c, r, &count, &after)))
		return code;
	if (!c->ops->trace || !c->ops->trace_set)
		return fail(c, CTL_E_INTERNAL, "trace is not available");
	if (!c->ops->trace(c->ctx, r->vm, &tr))
		return fail(c, CTL_E_NO_VM, "no VM named '%s'", r->vm);
	if (!tr.reason_name)
		return fail(c, CTL_E_INTERNAL, "trace: no exit reason names");
	newest = trace_newest(tr.ring);
	if (r->tok[F_AFTER] && after > newest)
		return fail(c, CTL_E_VALUE, "'after' %llu is beyond the newest "
			    "record of VM '%s', %llu (did it start again?)",
			    (unsigned long long)after, r->vm,
			    (unsigned long long)newest);
	if (r->tok[F_ON]) {
		c->msg[0] = 0;
		code = c->ops->trace_set(c->ctx, r->vm,
				c->toks[r->tok[F_ON]].type == JSON_TRUE, c->msg);
		if (code != CTL_OK || !c->ops->trace(c->ctx, r->vm, &tr))
			return action_done(c, r, w, code ? code : CTL_E_INTERNAL);
	}
	put_trace(w, r, &tr, r->tok[F_AFTER] ? after : trace_tail(tr.ring, count),
		  count);
	return CTL_OK;
}

/* gdb's "data": the bytes from gdb, into c->value; their number. */
static enum ctl_code gdb_input(struct ctl *c, const struct request *r,
			       size_t *len)
{
	enum json_err e;
	int n = 0;

	if (r->tok[F_DATA])
		n = json_str_bytes(r->js, &c->toks[r->tok[F_DATA]],
				   (u8 *)c->value, CTL_GDB_IN_MAX, &e);
	if (n < 0 && e == JSON_E_SPACE)
		return fail(c, CTL_E_VALUE, "'data' is longer than %d bytes",
			    CTL_GDB_IN_MAX);
	if (n < 0)
		return fail(c, CTL_E_VALUE, "'data' must hold bytes, "
			    "characters U+0000..U+00FF");
	*len = (size_t)n;
	return CTL_OK;
}

/*
 * Passes in[0..len) to the VM's gdb stub and takes its bytes for gdb into
 * c->gdb_out, *got of them: up to CTL_GDB_OUT_MAX, and no more than their
 * escapes leave room for in a line (asking for what fits even if every
 * byte were escaped). *more: the stub holds more.
 */
static enum ctl_code gdb_collect(struct ctl *c, const struct request *r,
				 size_t len, size_t *got, bool *more)
{
	size_t room = JSON_LINE_MAX - CTL_GDB_REPLY_HEAD, ask, n;
	enum ctl_code code;

	*got = 0;
	do {
		ask = MIN(CTL_GDB_OUT_MAX - *got, room / JSON_ESCAPE_MAX);
		n = 0;
		*more = false;
		code = c->ops->gdb(c->ctx, r->vm, (const u8 *)c->value, len,
				   c->gdb_out + *got, ask, &n, more, c->msg);
		if (code != CTL_OK)
			return *got ? CTL_OK : code;  /* sent: not lost */
		n = MIN(n, ask);
		room -= json_bytes_len(c->gdb_out + *got, n);
		*got += n;
		len = 0;
	} while (*more && n == ask && *got < CTL_GDB_OUT_MAX &&
		 room / JSON_ESCAPE_MAX >= CTL_GDB_ASK_MIN);
	return CTL_OK;
}

/*
 * gdb: a byte pipe between gdb (through uhvctl) and the VM's gdb stub
 * (docs/protocol.md). The reply's "data" is what the stub has for gdb,
 * "more" that it has more, to be asked for at once.
 */
static enum ctl_code cmd_gdb(struct ctl *c, struct request *r,
			     struct json_writer *w)
{
	enum ctl_code code;
	size_t len = 0, got;
	bool more;

	if ((code = gdb_input(c, r, &len)))
		return code;
	if (!c->ops->gdb)
		return fail(c, CTL_E_INTERNAL, "gdb is not available");
	c->msg[0] = 0;
	if ((code = gdb_collect(c, r, len, &got, &more)))
		return action_done(c, r, w, code);
	json_w_key(w, "data");
	json_w_bytes(w, c->gdb_out, got);
	if (more)
		json_w_kbool(w, "more", true);
	return CTL_OK;
}

#define VM BIT(F_VM)
#define S(state) BIT(CTL_VM_##state)
#define ANY_STATE (BIT(CTL_VM_STATE_COUNT) - 1)

static const struct command commands[] = {
	{ "version", 0, 0, 0, NULL, cmd_version },
	{ "list", 0, 0, 0, NULL, cmd_list },
	{ "info", VM, 0, ANY_STATE, "", cmd_info },
	{ "create", VM | BIT(F_IMAGE),
	  BIT(F_INITRD) | BIT(F_MEMORY) | BIT(F_CMDLINE) | BIT(F_CPUS) |
	  BIT(F_DISK) | BIT(F_NET) | BIT(F_AGENT) | BIT(F_TRACE), 0, NULL,
	  cmd_create },
	{ "start", VM, 0, S(CREATED) | S(STOPPED), "created or stopped",
	  cmd_start },
	{ "pause", VM, 0, S(RUNNING), "running", cmd_pause },
	{ "resume", VM, 0, S(PAUSED), "paused", cmd_resume },
	{ "stop", VM, BIT(F_TIMEOUT), S(RUNNING) | S(PAUSED) | S(STOPPING),
	  "running, paused or stopping", cmd_stop },
	{ "destroy", VM, 0, S(CREATED) | S(STOPPED), "created or stopped",
	  cmd_destroy },
	{ "stats", VM, 0, ANY_STATE, "", cmd_stats },
	{ "agent", VM | BIT(F_DATA), 0, S(RUNNING), "running", cmd_agent },
	{ "shutdown", 0, 0, 0, NULL, cmd_shutdown },
	{ "trace", VM, BIT(F_ON) | BIT(F_AFTER) | BIT(F_RECORDS), ANY_STATE, "",
	  cmd_trace },
	{ "gdb", VM, BIT(F_DATA), S(RUNNING) | S(PAUSED), "running or paused",
	  cmd_gdb },
};

/* ---- the reply ---- */

/* "id": the request's, or null when it had none that was valid. */
static void put_id(struct json_writer *w, const struct request *r)
{
	json_w_key(w, "id");
	if (r->has_id)
		json_w_u64(w, r->id);
	else
		json_w_null(w);
}

/* The error reply for code, with c->msg as its message; its length. */
static int error_reply(struct ctl *c, const struct request *r,
		       enum ctl_code code, char *out, size_t size)
{
	struct json_writer w;

	json_w_init(&w, out, size);
	json_w_object(&w);
	put_id(&w, r);
	json_w_kbool(&w, "ok", false);
	json_w_key(&w, "error");
	json_w_object(&w);
	json_w_kstr(&w, "code", ctl_code_name(code));
	json_w_kstr(&w, "message", c->msg);
	json_w_object_end(&w);
	json_w_object_end(&w);
	return json_w_end_line(&w);
}

/* Everything that can be checked before the command runs. */
static enum ctl_code parse_request(struct ctl *c, const char *line,
				   size_t len, struct request *r)
{
	struct json_error e;
	enum ctl_code code;

	if (json_parse(line, len, c->toks, JSON_MAX_TOKENS, &e) < 0)
		return fail(c, e.code == JSON_E_TOO_LONG ? CTL_E_TOO_LONG :
			    CTL_E_PARSE, "byte %zu: %s", e.pos,
			    json_strerror(e.code));
	if (c->toks[0].type != JSON_OBJECT)
		return fail(c, CTL_E_TYPE, "a request must be a JSON object");
	if ((code = read_id(c, r)) ||
	    (code = read_cmd(c, r, commands, ARRAY_SIZE(commands))) ||
	    (code = read_fields(c, r)))
		return code;
	return r->cmd->states ? find_vm(c, r) : CTL_OK;
}

/* RFC 8259 §2's whitespace only, or nothing. */
static bool blank_line(const char *line, size_t len)
{
	for (size_t i = 0; i < len; i++)
		if (line[i] != ' ' && line[i] != '\t' && line[i] != '\r' &&
		    line[i] != '\n')
			return false;
	return true;
}

int ctl_handle(struct ctl *c, const char *line, size_t len, char *out,
	       size_t size)
{
	struct request r = { .js = line };
	struct json_writer w;
	enum ctl_code code;
	int n;

	/* the length first: ctl_feed passes a dropped line's length only */
	if (len <= JSON_LINE_MAX && blank_line(line, len)) {
		if (size)
			out[0] = 0;
		return 0;
	}
	c->msg[0] = 0;
	if ((code = parse_request(c, line, len, &r)))
		return error_reply(c, &r, code, out, size);
	json_w_init(&w, out, size);
	json_w_object(&w);
	put_id(&w, &r);
	json_w_kbool(&w, "ok", true);
	if ((code = r.cmd->run(c, &r, &w)))
		return error_reply(c, &r, code, out, size);
	json_w_object_end(&w);
	if ((n = json_w_end_line(&w)) < 0) {
		fail(c, CTL_E_INTERNAL, "the reply does not fit in %zu bytes",
		     size);
		return error_reply(c, &r, CTL_E_INTERNAL, out, size);
	}
	return n;
}
