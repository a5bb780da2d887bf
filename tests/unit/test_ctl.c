/*
 * vmm/ctl/ctl.c and vmm/ctl/ctl_line.c: the management protocol's dispatcher,
 * driven through a fake VM manager. Each command's good path and its
 * checks (fields, types, values, the VM's existence and state), every
 * error code, the framing of lines, the greeting and the events. Every
 * line the dispatcher writes is parsed back as JSON.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "unit.h"
#include "vmm/ctl/ctl.h"

/* ---- the fake VM manager ---- */

struct fake_vm {
	bool used;
	struct vm_config cfg;
	enum ctl_vm_state state;
	bool agent;
	const char *result;
	u32 status;
};

static struct fake {
	struct fake_vm vms[CTL_MAX_VMS];
	int calls;                      /* actions called */
	enum ctl_code fail;             /* the next action fails so */
	const char *fail_msg;
	u32 timeout;                    /* the last stop's */
	u64 agent_id;
	char agent_data[CTL_AGENT_MAX + 1];
	size_t agent_len;
	int bad_state;                  /* info reports this state if set */
	int list_extra;                 /* list claims this many more */
	int nr_reasons;                 /* stats reports this many */
	struct trace ring;              /* every VM's exit trace */
	int gdb_calls;                  /* gdb hook calls */
	u8 gdb_in[2 * CTL_GDB_IN_MAX];  /* what gdb sent, in all */
	size_t gdb_in_len;
	u8 gdb_q[3 * CTL_GDB_OUT_MAX];  /* what the stub has for gdb */
	size_t gdb_q_len;
} fk;

static struct fake_vm *fake_find(const char *name)
{
	for (int i = 0; i < CTL_MAX_VMS; i++)
		if (fk.vms[i].used && !strcmp(fk.vms[i].cfg.name, name))
			return &fk.vms[i];
	return NULL;
}

static int f_list(void *ctx, struct ctl_vm_brief *out, int max)
{
	int n = 0;

	ck_assert_ptr_eq(ctx, &fk);
	for (int i = 0; i < CTL_MAX_VMS && n < max; i++) {
		if (!fk.vms[i].used)
			continue;
		memset(out[n].name, 'X', sizeof(out[n].name));   /* no NUL */
		memcpy(out[n].name, fk.vms[i].cfg.name, strlen(fk.vms[i].cfg.name) + 1);
		out[n++].state = fk.vms[i].state;
	}
	return n + fk.list_extra;
}

static bool f_info(void *ctx, const char *vm, struct ctl_vm_info *info)
{
	struct fake_vm *v = fake_find(vm);

	(void)ctx;
	if (!v)
		return false;
	memset(info, 0x5a, sizeof(*info));      /* all must be filled */
	info->state = fk.bad_state ? (enum ctl_vm_state)fk.bad_state : v->state;
	info->cfg = v->cfg;
	info->agent = v->agent;
	info->result = v->result;
	info->status = v->status;
	snprintf(info->why, sizeof(info->why), "%s", v->result ? "why \"so\"" : "");
	return true;
}

/* Common to the actions: count, fail on request, else move vm to s. */
static enum ctl_code act(const char *vm, char *msg, enum ctl_vm_state s)
{
	enum ctl_code f = fk.fail;

	ck_assert_str_eq(msg, "");
	fk.calls++;
	if (f) {
		fk.fail = CTL_OK;
		if (fk.fail_msg)
			snprintf(msg, CTL_MSG_MAX, "%s", fk.fail_msg);
		return f;
	}
	fake_find(vm)->state = s;
	return CTL_OK;
}

static enum ctl_code f_create(void *ctx, const struct vm_config *cfg, char *msg)
{
	(void)ctx;
	for (int i = 0; i < CTL_MAX_VMS; i++) {
		if (!fk.vms[i].used) {
			enum ctl_code code;

			fk.vms[i] = (struct fake_vm){ .used = true, .cfg = *cfg };
			if ((code = act(cfg->name, msg, CTL_VM_CREATED)))
				fk.vms[i].used = false;
			return code;
		}
	}
	snprintf(msg, CTL_MSG_MAX, "all %d VM slots are in use", CTL_MAX_VMS);
	return CTL_E_NO_ROOM;
}

static enum ctl_code f_start(void *ctx, const char *vm, char *msg)
{
	(void)ctx;
	return act(vm, msg, CTL_VM_RUNNING);
}

static enum ctl_code f_pause(void *ctx, const char *vm, char *msg)
{
	(void)ctx;
	return act(vm, msg, CTL_VM_PAUSED);
}

static enum ctl_code f_resume(void *ctx, const char *vm, char *msg)
{
	(void)ctx;
	return act(vm, msg, CTL_VM_RUNNING);
}

static enum ctl_code f_stop(void *ctx, const char *vm, u32 timeout, char *msg)
{
	(void)ctx;
	fk.timeout = timeout;
	return act(vm, msg, timeout ? CTL_VM_STOPPING : CTL_VM_STOPPED);
}

static enum ctl_code f_destroy(void *ctx, const char *vm, char *msg)
{
	struct fake_vm *v = fake_find(vm);
	enum ctl_code code = act(vm, msg, CTL_VM_STOPPED);

	(void)ctx;
	if (!code)
		v->used = false;
	return code;
}

static bool f_stats(void *ctx, const char *vm, struct ctl_vm_stats *st)
{
	static const char *names[] = { "IO_INSTRUCTION", "HLT", NULL, "CPUID" };

	(void)ctx;
	if (!fake_find(vm) || !strcmp(vm, "vanish"))
		return false;
	st->state = CTL_VM_RUNNING;
	st->cpu_us = 1500;
	st->now_us = 9000;
	st->exits = 374;
	st->slices = 38;
	if (!strcmp(vm, "dev")) {
		st->nr_disks = 1;
		snprintf(st->disks[0].name, sizeof(st->disks[0].name), "d.img");
		st->disks[0].reads = 3;
		st->disks[0].read_bytes = 12288;
		st->nr_nics = 1;
		memcpy(st->nics[0].mac, "\x02\x00\x00\x00\x00\x0a", 6);
		snprintf(st->nics[0].network, sizeof(st->nics[0].network), "lan");
		st->nics[0].tx_frames = 5;
		st->nics[0].drops = 1;
	}
	st->nr_reasons = fk.nr_reasons;
	for (int i = 0; i < fk.nr_reasons && i < CTL_STATS_REASONS; i++) {
		st->reasons[i].name = names[i % 4];
		st->reasons[i].count = (u64)i + 1;
	}
	return true;
}

static enum ctl_code f_agent(void *ctx, const char *vm, u64 id,
			     const char *data, size_t len, char *msg)
{
	(void)ctx;
	fk.agent_id = id;
	memcpy(fk.agent_data, data, len);
	fk.agent_len = len;
	return act(vm, msg, CTL_VM_RUNNING);
}

static enum ctl_code f_shutdown(void *ctx, char *msg)
{
	(void)ctx;
	(void)msg;
	fk.calls++;
	return CTL_OK;
}

/* Every VM shares one exit trace (fk.ring), except a created one: none. */
static struct trace_rec ring_recs[TRACE_RECORDS];

static const char *fake_reason(u32 r)
{
	return r == 10 ? "CPUID" : r == 30 ? "IO_INSTRUCTION" :
		r == 43 ? "TPR_BELOW_THRESHOLD" : "HLT";
}

static bool f_trace(void *ctx, const char *vm, struct ctl_trace *tr)
{
	struct fake_vm *v = fake_find(vm);

	(void)ctx;
	if (!v)
		return false;
	tr->mode = v->cfg.trace;
	tr->ring = v->state == CTL_VM_CREATED ? NULL : &fk.ring;
	tr->reason_name = fake_reason;
	return true;
}

static enum ctl_code f_trace_set(void *ctx, const char *vm, bool on,
				 char *msg)
{
	struct fake_vm *v = fake_find(vm);

	(void)ctx;
	ck_assert_str_eq(msg, "");
	fk.calls++;
	if (fk.fail) {
		snprintf(msg, CTL_MSG_MAX, "%s", "no");
		fk.fail = CTL_OK;
		return CTL_E_INTERNAL;
	}
	if (!on)
		v->cfg.trace = CFG_TRACE_OFF;
	else if (v->cfg.trace == CFG_TRACE_OFF)
		v->cfg.trace = CFG_TRACE_ON;
	return CTL_OK;
}

/* The gdb stub: keeps what gdb sent in fk.gdb_in, hands out fk.gdb_q. */
static enum ctl_code f_gdb(void *ctx, const char *vm, const u8 *in,
			   size_t len, u8 *out, size_t out_max,
			   size_t *out_len, bool *more, char *msg)
{
	size_t n = MIN(out_max, fk.gdb_q_len);

	(void)ctx;
	ck_assert_ptr_nonnull(fake_find(vm));
	fk.gdb_calls++;
	if (fk.fail) {
		snprintf(msg, CTL_MSG_MAX, "%s", "the stub broke");
		fk.fail = CTL_OK;
		return CTL_E_INTERNAL;
	}
	ck_assert_uint_le(fk.gdb_in_len + len, sizeof(fk.gdb_in));
	memcpy(fk.gdb_in + fk.gdb_in_len, in, len);
	fk.gdb_in_len += len;
	memcpy(out, fk.gdb_q, n);
	memmove(fk.gdb_q, fk.gdb_q + n, fk.gdb_q_len - n);
	fk.gdb_q_len -= n;
	*out_len = n;
	*more = fk.gdb_q_len > 0;
	return CTL_OK;
}

static const struct ctl_ops fake_ops = {
	f_list, f_info, f_create, f_start, f_pause, f_resume, f_stop,
	f_destroy, f_stats, f_agent, f_shutdown, f_trace, f_trace_set, f_gdb,
};

/* ---- helpers ---- */

static struct ctl *c;
static char reply[CTL_REPLY_MAX];
static struct json_tok toks[JSON_MAX_TOKENS];

/* Adds a VM to the fake directly, in state s. */
static struct fake_vm *add_vm(const char *name, enum ctl_vm_state s)
{
	for (int i = 0; i < CTL_MAX_VMS; i++) {
		struct fake_vm *v = &fk.vms[i];

		if (v->used)
			continue;
		*v = (struct fake_vm){ .used = true, .state = s };
		snprintf(v->cfg.name, sizeof(v->cfg.name), "%s", name);
		snprintf(v->cfg.image, sizeof(v->cfg.image), "%s.elf", name);
		v->cfg.memory = CFG_MEM_DEFAULT;
		v->cfg.cpus = 1;
		return v;
	}
	ck_abort_msg("fake full");
	return NULL;
}

static void setup(void)
{
	memset(&fk, 0, sizeof(fk));
	c = malloc(sizeof(*c));
	memset(c, 0xa5, sizeof(*c));            /* init must clear it */
	ctl_init(c, &fake_ops, &fk, "0.1-test");
}

static void teardown(void)
{
	free(c);
}

/* A line the dispatcher wrote must be one JSON object and a newline. */
static void check_line(const char *s, int n)
{
	struct json_error e;

	ck_assert_int_gt(n, 0);
	ck_assert_uint_eq(strlen(s), (size_t)n);
	ck_assert_int_eq(s[n - 1], '\n');
	ck_assert_ptr_null(memchr(s, '\n', (size_t)n - 1));
	ck_assert_msg(json_parse(s, (size_t)n - 1, toks, JSON_MAX_TOKENS, &e) > 0,
		      "bad JSON (%s at %zu): %s", json_strerror(e.code), e.pos, s);
	ck_assert_int_eq(toks[0].type, JSON_OBJECT);
}

/* Sends one request line; returns the reply without its newline. */
static const char *req_n(const char *line, size_t len)
{
	int n = ctl_handle(c, line, len, reply, sizeof(reply));

	check_line(reply, n);
	reply[n - 1] = 0;
	return reply;
}

static const char *req(const char *line)
{
	return req_n(line, strlen(line));
}

/* Expects line to fail with code and a message containing sub; from is
   the caller's line, for the failure message. */
static void expect_error_from(int from, const char *line, const char *code,
			      const char *sub)
{
	char want[64];
	const char *r = req(line);

	snprintf(want, sizeof(want), "\"ok\":false,\"error\":{\"code\":\"%s\"",
		 code);
	ck_assert_msg(strstr(r, want), "line %d: %s -> %s (expected %s)", from,
		      line, r, code);
	ck_assert_msg(strstr(r, sub), "line %d: %s -> %s (lacks %s)", from,
		      line, r, sub);
}

#define expect_error(line, code, sub) \
	expect_error_from(__LINE__, (line), (code), (sub))

/* ---- requests in general ---- */

START_TEST(version_and_greeting)
{
	int n;

	ck_assert_str_eq(req("{\"id\":1,\"cmd\":\"version\"}"),
			 "{\"id\":1,\"ok\":true,\"protocol\":1,\"uhv\":\"0.1-test\"}");
	/* members in any order, escaped keys, whitespace and a CR */
	ck_assert_str_eq(req(" { \"cmd\" : \"vers\\u0069on\" ,\r\n\"\\u0069d\":"
			     "9007199254740991 }\r"),
			 "{\"id\":9007199254740991,\"ok\":true,\"protocol\":1,"
			 "\"uhv\":\"0.1-test\"}");
	n = ctl_greeting(c, reply, sizeof(reply));
	check_line(reply, n);
	ck_assert_str_eq(reply, "{\"event\":\"hello\",\"protocol\":1,"
			 "\"uhv\":\"0.1-test\"}\n");
	ctl_init(c, &fake_ops, &fk, NULL);
	ck_assert_int_gt(ctl_greeting(c, reply, sizeof(reply)), 0);
	ck_assert_str_eq(reply, "{\"event\":\"hello\",\"protocol\":1,\"uhv\":\"\"}\n");
	ck_assert_int_eq(ctl_greeting(c, reply, 10), -1);
}
END_TEST

START_TEST(request_errors)
{
	expect_error("{\"id\":1,\"cmd\":\"version\"", "parse_error",
		     "\"byte 23: the text ends inside a value\"");
	expect_error("hello", "parse_error", "byte 0: expected a value");
	expect_error("{\"id\":1.5,\"cmd\":\"version\"}", "parse_error",
		     "byte 7: only integers");
	expect_error("\x01\x02\xff\xfe", "parse_error", "byte 0");
	expect_error("[1,2]", "wrong_type", "a request must be a JSON object");
	expect_error("\"version\"", "wrong_type", "JSON object");
	expect_error("{}", "missing_field", "'id'");
	expect_error("{\"cmd\":\"version\"}", "missing_field", "missing field 'id'");
	expect_error("{\"id\":\"1\",\"cmd\":\"version\"}", "wrong_type",
		     "'id' must be an integer");
	expect_error("{\"id\":null,\"cmd\":\"version\"}", "wrong_type", "'id'");
	expect_error("{\"id\":-1,\"cmd\":\"version\"}", "invalid_value",
		     "'id' must be 0..9007199254740991");
	expect_error("{\"id\":9007199254740992,\"cmd\":\"version\"}",
		     "invalid_value", "'id'");
	/* no valid id: the reply's id is null */
	ck_assert(!strncmp(req("{\"id\":true}"), "{\"id\":null,\"ok\":false", 21));
	/* with a valid id, every later error echoes it */
	expect_error("{\"id\":5}", "missing_field", "missing field 'cmd'");
	ck_assert(!strncmp(reply, "{\"id\":5,\"ok\":false,", 19));
	expect_error("{\"id\":5,\"cmd\":7}", "wrong_type", "'cmd' must be a string");
	expect_error("{\"id\":5,\"cmd\":\"reboot\"}", "unknown_command",
		     "unknown command 'reboot'");
	expect_error("{\"id\":5,\"cmd\":\"Version\"}", "unknown_command", "'Version'");
	expect_error("{\"id\":5,\"cmd\":\"\"}", "unknown_command", "''");
	expect_error("{\"id\":5,\"cmd\":\"version\",\"vm\":\"a\"}", "unknown_field",
		     "unknown field 'vm' for command 'version'");
	expect_error("{\"id\":5,\"cmd\":\"version\",\"x\\n\\\"y\":1}",
		     "unknown_field", "'x\\n\\\"y'");  /* escaped in the reply */
	expect_error("{\"id\":5,\"cmd\":\"version\",\"id\":6}", "duplicate_field",
		     "field 'id' appears twice");
	ck_assert(!strncmp(reply, "{\"id\":5,", 8));  /* the first id */
	expect_error("{\"id\":5,\"cmd\":\"version\",\"cmd\":\"list\"}",
		     "duplicate_field", "'cmd'");
}
END_TEST

START_TEST(long_names_quoted_short)
{
	char line[600];

	snprintf(line, sizeof(line), "{\"id\":1,\"cmd\":\"%0500d\"}", 7);
	expect_error(line, "unknown_command", "'0000000000");
	ck_assert_uint_lt(strlen(reply), 200);
	snprintf(line, sizeof(line), "{\"id\":1,\"cmd\":\"list\",\"%0500d\":1}", 7);
	expect_error(line, "unknown_field", "for command 'list'");
	ck_assert_uint_lt(strlen(reply), 200);
}
END_TEST

START_TEST(blank_and_too_long)
{
	static char big[JSON_LINE_MAX + 100];
	int n;

	ck_assert_int_eq(ctl_handle(c, "", 0, reply, sizeof(reply)), 0);
	ck_assert_int_eq(ctl_handle(c, " \t\r", 3, reply, sizeof(reply)), 0);
	ck_assert_str_eq(reply, "");
	memset(big, ' ', sizeof(big));
	memcpy(big, "{\"id\":1,\"cmd\":\"version\"}", 24);
	ck_assert(strstr(req_n(big, JSON_LINE_MAX), "\"ok\":true"));
	n = ctl_handle(c, big, JSON_LINE_MAX + 1, reply, sizeof(reply));
	check_line(reply, n);
	ck_assert_str_eq(reply, "{\"id\":null,\"ok\":false,\"error\":{\"code\":"
			 "\"line_too_long\",\"message\":\"byte 4096: line longer "
			 "than 4096 bytes\"}}\n");
	/* a reply buffer too small for anything */
	ck_assert_int_eq(ctl_handle(c, big, 24, reply, 8), -1);
	ck_assert_int_eq(ctl_handle(c, big, 24, reply, 0), -1);
}
END_TEST

START_TEST(feed_bytes)
{
	const char *in = "{\"id\":1,\"cmd\":\"version\"}\r\n\n  \n{\"id\":2,\"cmd\":\"list\"}\n";
	int replies = 0, n;

	for (const char *p = in; *p; p++) {
		n = ctl_feed(c, *p, reply, sizeof(reply));
		if (*p != '\n') {
			ck_assert_int_eq(n, 0);
			continue;
		}
		if (n == 0)
			continue;               /* a blank line */
		check_line(reply, n);
		replies++;
		ck_assert(!strncmp(reply, replies == 1 ? "{\"id\":1,\"ok\":true" :
				   "{\"id\":2,\"ok\":true,\"vms\":[]", 17));
	}
	ck_assert_int_eq(replies, 2);
	/* a line too long is dropped whole; the next line is fine */
	for (int i = 0; i < 3 * JSON_LINE_MAX; i++)
		ck_assert_int_eq(ctl_feed(c, i % 2 ? '[' : '{', reply,
					  sizeof(reply)), 0);
	n = ctl_feed(c, '\n', reply, sizeof(reply));
	check_line(reply, n);
	ck_assert(strstr(reply, "\"line_too_long\""));
	for (const char *p = "{\"id\":3,\"cmd\":\"version\"}"; *p; p++)
		ctl_feed(c, *p, reply, sizeof(reply));
	n = ctl_feed(c, '\n', reply, sizeof(reply));
	check_line(reply, n);
	ck_assert(!strncmp(reply, "{\"id\":3,\"ok\":true", 17));
	/* exactly JSON_LINE_MAX bytes is not too long */
	for (int i = 0; i < JSON_LINE_MAX - 1; i++)
		ctl_feed(c, ' ', reply, sizeof(reply));
	ctl_feed(c, '1', reply, sizeof(reply));
	n = ctl_feed(c, '\n', reply, sizeof(reply));
	check_line(reply, n);
	ck_assert(strstr(reply, "\"wrong_type\""));
}
END_TEST

/* ---- the commands ---- */

START_TEST(cmd_list)
{
	ck_assert_str_eq(req("{\"id\":1,\"cmd\":\"list\"}"),
			 "{\"id\":1,\"ok\":true,\"vms\":[]}");
	add_vm("a", CTL_VM_RUNNING);
	add_vm("b-2", CTL_VM_PAUSED);
	add_vm("c_3", CTL_VM_STOPPING);
	ck_assert_str_eq(req("{\"id\":2,\"cmd\":\"list\"}"),
			 "{\"id\":2,\"ok\":true,\"vms\":[{\"vm\":\"a\",\"state\":"
			 "\"running\"},{\"vm\":\"b-2\",\"state\":\"paused\"},"
			 "{\"vm\":\"c_3\",\"state\":\"stopping\"}]}");
	/* a manager claiming more than fit: no overrun */
	fk.list_extra = 100;
	for (int i = 3; i < CTL_MAX_VMS; i++)
		add_vm("v", CTL_VM_CREATED);
	ck_assert(strstr(req("{\"id\":3,\"cmd\":\"list\"}"), "\"ok\":true"));
	expect_error("{\"id\":1,\"cmd\":\"list\",\"vm\":\"a\"}", "unknown_field",
		     "'vm'");
}
END_TEST

START_TEST(cmd_info)
{
	struct fake_vm *v = add_vm("web", CTL_VM_RUNNING);

	snprintf(v->cfg.cmdline, sizeof(v->cfg.cmdline), "console=ttyS0 \"q\"");
	snprintf(v->cfg.initrd, sizeof(v->cfg.initrd), "initrd.gz");
	v->agent = true;
	ck_assert_str_eq(req("{\"id\":4,\"cmd\":\"info\",\"vm\":\"web\"}"),
			 "{\"id\":4,\"ok\":true,\"vm\":\"web\",\"state\":\"running\","
			 "\"image\":\"web.elf\",\"initrd\":\"initrd.gz\",\"memory\":"
			 "16777216,\"cmdline\":\"console=ttyS0 \\\"q\\\"\","
			 "\"cpus\":1,\"agent\":true}");
	v->state = CTL_VM_STOPPED;
	v->result = "exit";
	v->status = 3;
	ck_assert(strstr(req("{\"id\":4,\"cmd\":\"info\",\"vm\":\"web\"}"),
			 "\"state\":\"stopped\",\"image\":\"web.elf\""));
	ck_assert(strstr(reply, "\"agent\":true,\"result\":\"exit\",\"status\":3,"
			 "\"why\":\"why \\\"so\\\"\"}"));
	expect_error("{\"id\":4,\"cmd\":\"info\"}", "missing_field",
		     "missing field 'vm'");
	expect_error("{\"id\":4,\"cmd\":\"info\",\"vm\":3}", "wrong_type",
		     "'vm' must be a string");
	expect_error("{\"id\":4,\"cmd\":\"info\",\"vm\":\"nope\"}", "no_such_vm",
		     "no VM named 'nope'");
	expect_error("{\"id\":4,\"cmd\":\"info\",\"vm\":\"webwebwebwebwebweb\"}",
		     "no_such_vm", "no VM named 'webwebwebwebweb'");
	expect_error("{\"id\":4,\"cmd\":\"info\",\"vm\":\"w\\u0000eb\"}",
		     "no_such_vm", "'w'");
	expect_error("{\"id\":4,\"cmd\":\"info\",\"vm\":\"\"}", "no_such_vm", "''");
	expect_error("{\"id\":4,\"cmd\":\"info\",\"vm\":\"web\",\"image\":\"x\"}",
		     "unknown_field", "'image' for command 'info'");
	/* a manager reporting a state out of range */
	fk.bad_state = 99;
	expect_error("{\"id\":4,\"cmd\":\"info\",\"vm\":\"web\"}", "internal_error",
		     "in no known state");
}
END_TEST

START_TEST(create_good)
{
	struct fake_vm *v;

	ck_assert_str_eq(req("{\"id\":1,\"cmd\":\"create\",\"vm\":\"a\","
			     "\"image\":\"hello.elf\"}"),
			 "{\"id\":1,\"ok\":true,\"state\":\"created\"}");
	v = fake_find("a");
	ck_assert_ptr_nonnull(v);
	ck_assert_str_eq(v->cfg.image, "hello.elf");
	ck_assert_uint_eq(v->cfg.memory, CFG_MEM_DEFAULT);
	ck_assert_str_eq(v->cfg.cmdline, "");
	ck_assert_str_eq(v->cfg.initrd, "");
	ck_assert(v->cfg.has_image);
	ck_assert_int_eq(v->cfg.cpus, 1);
	ck_assert(strstr(req("{\"id\":2,\"cmd\":\"create\",\"vm\":\"Linux_2-x\","
			     "\"image\":\"sub/vmlinuz\",\"initrd\":\"i.gz\","
			     "\"memory\":\"256M\",\"cpus\":2,\"cmdline\":\"console=ttyS0 "
			     "a=b\\tc \\u00e9\"}"), "\"ok\":true"));
	v = fake_find("Linux_2-x");
	ck_assert_str_eq(v->cfg.image, "sub/vmlinuz");
	ck_assert_str_eq(v->cfg.initrd, "i.gz");
	ck_assert_uint_eq(v->cfg.memory, 256ULL << 20);
	ck_assert_str_eq(v->cfg.cmdline, "console=ttyS0 a=b\tc \xc3\xa9");
	ck_assert_int_eq(v->cfg.cpus, 2);
	req("{\"id\":3,\"cmd\":\"create\",\"vm\":\"e\",\"image\":\"e\","
	    "\"cpus\":\"4\"}");
	ck_assert_int_eq(fake_find("e")->cfg.cpus, 4);
	/* memory in bytes, and uhv.cfg's other spellings */
	req("{\"id\":3,\"cmd\":\"create\",\"vm\":\"b\",\"image\":\"b\","
	    "\"memory\":33554432}");
	ck_assert_uint_eq(fake_find("b")->cfg.memory, 32ULL << 20);
	req("{\"id\":3,\"cmd\":\"create\",\"vm\":\"c\",\"image\":\"c\","
	    "\"memory\":\"3g\"}");
	ck_assert_uint_eq(fake_find("c")->cfg.memory, 3ULL << 30);
	req("{\"id\":3,\"cmd\":\"create\",\"vm\":\"d\",\"image\":\"d\","
	    "\"memory\":\"2048K\"}");
	ck_assert_uint_eq(fake_find("d")->cfg.memory, 2ULL << 20);
	/* the longest name, image and cmdline uhv.cfg takes */
	req("{\"id\":3,\"cmd\":\"create\",\"vm\":\"abcdefghijklmno\",\"image\":"
	    "\"iiiiiiiiiiiiiiiiiiiiiiiiiiiiiiiiiiiiiiiiiiiiiiiiiiiiiiiiiiiiiii\"}");
	ck_assert(strstr(reply, "\"ok\":true"));
}
END_TEST

/* create's agent field: "on"/"off" as in uhv.cfg, or a boolean. */
START_TEST(create_agent)
{
	req("{\"id\":3,\"cmd\":\"create\",\"vm\":\"g0\",\"image\":\"g\"}");
	ck_assert(!fake_find("g0")->cfg.agent);
	req("{\"id\":3,\"cmd\":\"create\",\"vm\":\"g1\",\"image\":\"g\","
	    "\"agent\":true}");
	ck_assert(fake_find("g1")->cfg.agent);
	req("{\"id\":3,\"cmd\":\"create\",\"vm\":\"g2\",\"image\":\"g\","
	    "\"agent\":\"on\"}");
	ck_assert(fake_find("g2")->cfg.agent);
	req("{\"id\":3,\"cmd\":\"create\",\"vm\":\"g3\",\"image\":\"g\","
	    "\"agent\":false}");
	ck_assert(!fake_find("g3")->cfg.agent);
}
END_TEST

static void create_expect(const char *fields, const char *code, const char *sub)
{
	char line[1200];

	snprintf(line, sizeof(line), "{\"id\":7,\"cmd\":\"create\",%s}", fields);
	expect_error(line, code, sub);
	ck_assert(!strncmp(reply, "{\"id\":7,\"ok\":false", 18));
}

START_TEST(create_errors)
{
	char f[1100];

	fk.calls = 0;
	create_expect("\"image\":\"x\"", "missing_field", "'vm'");
	create_expect("\"vm\":\"a\"", "missing_field", "missing field 'image'");
	create_expect("\"vm\":\"a\",\"image\":\"x\",\"timeout\":1",
		      "unknown_field", "'timeout' for command 'create'");
	create_expect("\"vm\":\"a\",\"image\":\"x\",\"memroy\":\"16M\"",
		      "unknown_field", "'memroy'");
	create_expect("\"vm\":\"a\",\"image\":\"x\",\"image\":\"y\"",
		      "duplicate_field", "'image' appears twice");
	create_expect("\"vm\":\"a\",\"image\":1", "wrong_type",
		      "'image' must be a string");
	create_expect("\"vm\":\"a\",\"image\":\"x\",\"agent\":1", "wrong_type",
		      "'agent' must be a string or a boolean");
	create_expect("\"vm\":\"a\",\"image\":\"x\",\"agent\":\"yes\"",
		      "invalid_value", "agent: 'yes' must be on or off");
	create_expect("\"vm\":\"a\",\"image\":\"x\",\"memory\":true", "wrong_type",
		      "'memory' must be a string or an integer");
	create_expect("\"vm\":\"a\",\"image\":\"x\",\"memory\":[1]", "wrong_type",
		      "'memory'");
	create_expect("\"vm\":\"a\",\"image\":\"x\",\"cmdline\":null",
		      "wrong_type", "'cmdline'");
	/* config.c's rules and messages */
	create_expect("\"vm\":\"a b\",\"image\":\"x\"", "invalid_value",
		      "VM name 'a b' must be 1-15 characters of A-Z a-z 0-9 - _");
	create_expect("\"vm\":\"\",\"image\":\"x\"", "invalid_value", "VM name ''");
	create_expect("\"vm\":\"abcdefghijklmnop\",\"image\":\"x\"", "invalid_value",
		      "VM name 'abcdefghijklmnop'");
	create_expect("\"vm\":\"a]\",\"image\":\"x\"", "invalid_value", "VM name 'a]'");
	create_expect("\"vm\":\"a\",\"image\":\"\"", "invalid_value",
		      "image: expected a file name of 1-63 characters");
	create_expect("\"vm\":\"a\",\"image\":\"x\",\"initrd\":\"\"", "invalid_value",
		      "initrd: expected a file name");
	create_expect("\"vm\":\"a\",\"image\":\"x\",\"memory\":\"16X\"",
		      "invalid_value", "memory: '16X' is not a size (e.g. 16M)");
	create_expect("\"vm\":\"a\",\"image\":\"x\",\"memory\":\"1M\"",
		      "invalid_value", "'1M' is out of range: whole MiB from 2M to 3G");
	create_expect("\"vm\":\"a\",\"image\":\"x\",\"memory\":\"4G\"",
		      "invalid_value", "memory: '4G' is out of range");
	create_expect("\"vm\":\"a\",\"image\":\"x\",\"memory\":\"2049K\"",
		      "invalid_value", "whole MiB");
	create_expect("\"vm\":\"a\",\"image\":\"x\",\"memory\":-16777216",
		      "invalid_value", "memory: '-16777216' is not a size");
	create_expect("\"vm\":\"a\",\"image\":\"x\",\"memory\":0",
		      "invalid_value", "memory: '0' is out of range");
	create_expect("\"vm\":\"a\",\"image\":\"x\",\"memory\":18446744073709551615",
		      "invalid_value", "is out of range");
	create_expect("\"vm\":\"a\",\"image\":\"x\",\"cpus\":5",
		      "invalid_value", "cpus: '5' must be 1 to 4");
	create_expect("\"vm\":\"a\",\"image\":\"x\",\"cpus\":\"0\"",
		      "invalid_value", "cpus: '0' must be 1 to 4");
	create_expect("\"vm\":\"a\",\"image\":\"x\",\"cpus\":[2]",
		      "wrong_type", "'cpus' must be a string or an integer");
	/* values uhv.cfg could not hold */
	create_expect("\"vm\":\"a\",\"image\":\"x\",\"cmdline\":\"a\\nimage = y\"",
		      "invalid_value", "'cmdline' must not contain control characters");
	create_expect("\"vm\":\"a\\n\",\"image\":\"x\"", "invalid_value",
		      "'vm' must not contain control");
	create_expect("\"vm\":\"a\",\"image\":\"x\",\"cmdline\":\"a\\rb\"",
		      "invalid_value", "control");
	create_expect("\"vm\":\"a\",\"image\":\"x\\u0000y\"", "invalid_value",
		      "'image' must not contain control characters");
	create_expect("\"vm\":\"a\",\"image\":\"x\",\"cmdline\":\"a # b\"",
		      "invalid_value", "'cmdline' must not contain '#'");
	create_expect("\"vm\":\"a#\",\"image\":\"x\"", "invalid_value", "'#'");
	create_expect("\"vm\":\"a\",\"image\":\" x\"", "invalid_value",
		      "'image' must not start or end with a blank");
	create_expect("\"vm\":\"a\",\"image\":\"x\\t\"", "invalid_value", "blank");
	/* too long: config.c's limit, then the line's */
	memset(f, 0, sizeof(f));
	snprintf(f, sizeof(f), "\"vm\":\"a\",\"image\":\"x\",\"cmdline\":\"%0256d\"", 1);
	create_expect(f, "invalid_value", "cmdline: longer than 255 characters");
	snprintf(f, sizeof(f), "\"vm\":\"a\",\"image\":\"%064d\"", 1);
	create_expect(f, "invalid_value", "image: expected a file name of 1-63");
	snprintf(f, sizeof(f), "\"vm\":\"a\",\"image\":\"x\",\"cmdline\":\"%0384d\"", 1);
	create_expect(f, "invalid_value", "'cmdline' is longer than 383 bytes");
	snprintf(f, sizeof(f), "\"vm\":\"%01000d\",\"image\":\"x\"", 1);
	create_expect(f, "invalid_value", "'vm' is longer than 383 bytes");
	ck_assert_int_eq(fk.calls, 0);          /* none reached the manager */
}
END_TEST

/* disk repeats in uhv.cfg: an array here, one line per value */
START_TEST(create_disks)
{
	struct fake_vm *v;

	req("{\"id\":1,\"cmd\":\"create\",\"vm\":\"a\",\"image\":\"a\","
	    "\"disk\":\"root.img\"}");
	ck_assert(strstr(reply, "\"ok\":true"));
	v = fake_find("a");
	ck_assert_int_eq(v->cfg.nr_disks, 1);
	ck_assert_str_eq(v->cfg.disks[0].image, "root.img");
	ck_assert(!v->cfg.disks[0].read_only);
	req("{\"id\":1,\"cmd\":\"create\",\"vm\":\"b\",\"image\":\"b\","
	    "\"disk\":[\"b.img,serial=B1\",\"shared.img,ro\"]}");
	ck_assert(strstr(reply, "\"ok\":true"));
	v = fake_find("b");
	ck_assert_int_eq(v->cfg.nr_disks, 2);
	ck_assert_str_eq(v->cfg.disks[0].serial, "B1");
	ck_assert_str_eq(v->cfg.disks[1].image, "shared.img");
	ck_assert(v->cfg.disks[1].read_only);
	req("{\"id\":1,\"cmd\":\"create\",\"vm\":\"c\",\"image\":\"c\","
	    "\"disk\":[]}");
	ck_assert_int_eq(fake_find("c")->cfg.nr_disks, 0);
	create_expect("\"vm\":\"d\",\"image\":\"x\",\"disk\":[\"a\",1]",
		      "wrong_type", "'disk' must be a string or an array of strings");
	create_expect("\"vm\":\"d\",\"image\":\"x\",\"disk\":[[\"a\"]]",
		      "wrong_type", "'disk'");
	create_expect("\"vm\":\"d\",\"image\":\"x\",\"disk\":3", "wrong_type",
		      "'disk'");
	create_expect("\"vm\":\"d\",\"image\":\"x\",\"disk\":[\"a\",\"b\","
		      "\"c\",\"d\",\"e\"]", "invalid_value",
		      "'disk' takes at most 4 values");
	create_expect("\"vm\":\"d\",\"image\":\"x\",\"disk\":[\"a\",\"b\","
		      "\"c\"]", "invalid_value", "disk: at most 2 disks");
	create_expect("\"vm\":\"d\",\"image\":\"x\",\"disk\":[\"a\",\"a\"]",
		      "invalid_value", "disk 'a' is already given");
	create_expect("\"vm\":\"d\",\"image\":\"x\",\"disk\":\"a,fast\"",
		      "invalid_value", "disk: unknown option 'fast'");
	create_expect("\"vm\":\"d\",\"image\":\"x\",\"disk\":[\"a\",\"b#\"]",
		      "invalid_value", "'disk' must not contain '#'");
	create_expect("\"vm\":\"d\",\"image\":\"x\",\"disk\":[\"a\",\"b\\n\"]",
		      "invalid_value", "'disk' must not contain control");
}
END_TEST

START_TEST(create_refused)
{
	add_vm("a", CTL_VM_STOPPED);
	create_expect("\"vm\":\"a\",\"image\":\"x\"", "vm_exists",
		      "a VM named 'a' exists");
	for (int i = 1; i < CTL_MAX_VMS; i++)
		add_vm("z", CTL_VM_STOPPED);
	create_expect("\"vm\":\"b\",\"image\":\"x\"", "no_room",
		      "all 8 VM slots are in use");
	memset(fk.vms, 0, sizeof(fk.vms));
	fk.fail = CTL_E_NO_ROOM;                /* without a message */
	create_expect("\"vm\":\"b\",\"image\":\"x\"", "no_room", "create failed");
	fk.fail = (enum ctl_code)1234;          /* a bogus code */
	create_expect("\"vm\":\"b\",\"image\":\"x\"", "internal_error",
		      "create failed");
}
END_TEST

/* Sends {"id":1,"cmd":cmd,"vm":vm} and returns the reply. */
static const char *vm_req(const char *cmd, const char *vm)
{
	char line[200];

	snprintf(line, sizeof(line), "{\"id\":1,\"cmd\":\"%s\",\"vm\":\"%s\"}",
		 cmd, vm);
	return req(line);
}

START_TEST(lifecycle)
{
	add_vm("a", CTL_VM_CREATED);
	ck_assert_str_eq(vm_req("start", "a"),
			 "{\"id\":1,\"ok\":true,\"state\":\"running\"}");
	ck_assert_str_eq(vm_req("pause", "a"),
			 "{\"id\":1,\"ok\":true,\"state\":\"paused\"}");
	ck_assert_str_eq(vm_req("resume", "a"),
			 "{\"id\":1,\"ok\":true,\"state\":\"running\"}");
	ck_assert_str_eq(vm_req("stop", "a"),
			 "{\"id\":1,\"ok\":true,\"state\":\"stopping\"}");
	ck_assert_uint_eq(fk.timeout, CTL_STOP_TIMEOUT_DEFAULT);
	/* a second stop shortens the deadline */
	ck_assert_str_eq(req("{\"id\":2,\"cmd\":\"stop\",\"vm\":\"a\",\"timeout\":0}"),
			 "{\"id\":2,\"ok\":true,\"state\":\"stopped\"}");
	ck_assert_uint_eq(fk.timeout, 0);
	ck_assert_str_eq(vm_req("start", "a"),
			 "{\"id\":1,\"ok\":true,\"state\":\"running\"}");
	ck_assert(strstr(req("{\"id\":2,\"cmd\":\"stop\",\"vm\":\"a\","
			     "\"timeout\":3600}"), "\"ok\":true"));
	ck_assert_uint_eq(fk.timeout, 3600);
	fk.vms[0].state = CTL_VM_STOPPED;
	ck_assert_str_eq(vm_req("destroy", "a"), "{\"id\":1,\"ok\":true}");
	ck_assert_ptr_null(fake_find("a"));
	ck_assert_int_eq(fk.calls, 8);
}
END_TEST

/* Each action in each state it does not take: bad_state, no call. */
START_TEST(bad_states)
{
	static const struct {
		const char *cmd;
		u32 ok;                 /* BIT(state) the command takes */
		const char *needs;
	} cmds[] = {
		{ "start", BIT(CTL_VM_CREATED) | BIT(CTL_VM_STOPPED),
		  "start needs it created or stopped" },
		{ "pause", BIT(CTL_VM_RUNNING), "pause needs it running" },
		{ "resume", BIT(CTL_VM_PAUSED), "resume needs it paused" },
		{ "stop", BIT(CTL_VM_RUNNING) | BIT(CTL_VM_PAUSED) |
		  BIT(CTL_VM_STOPPING), "stop needs it running, paused or stopping" },
		{ "destroy", BIT(CTL_VM_CREATED) | BIT(CTL_VM_STOPPED),
		  "destroy needs it created or stopped" },
	};
	struct fake_vm *v = add_vm("a", CTL_VM_CREATED);
	char want[160];

	for (size_t i = 0; i < sizeof(cmds) / sizeof(cmds[0]); i++) {
		for (int s = 0; s < CTL_VM_STATE_COUNT; s++) {
			if (cmds[i].ok & BIT(s))
				continue;
			v->state = (enum ctl_vm_state)s;
			fk.calls = 0;
			snprintf(want, sizeof(want), "VM 'a' is %s; %s",
				 ctl_state_name(v->state), cmds[i].needs);
			vm_req(cmds[i].cmd, "a");
			ck_assert_msg(strstr(reply, "\"code\":\"bad_state\"") &&
				      strstr(reply, want), "%s", reply);
			ck_assert_int_eq(fk.calls, 0);
			ck_assert_int_eq(v->state, s);
		}
	}
}
END_TEST

START_TEST(action_errors)
{
	static const char *const cmds[] = { "start", "pause", "resume", "stop",
					    "destroy", "info", "stats", "agent" };
	struct fake_vm *v = add_vm("a", CTL_VM_CREATED);

	for (size_t i = 0; i < sizeof(cmds) / sizeof(cmds[0]); i++) {
		char line[100];

		snprintf(line, sizeof(line), "{\"id\":1,\"cmd\":\"%s\"}", cmds[i]);
		expect_error(line, "missing_field", "missing field 'vm'");
		snprintf(line, sizeof(line), "{\"id\":1,\"cmd\":\"%s\",\"vm\":"
			 "\"ghost\",\"data\":\"\"}", cmds[i]);
		if (strcmp(cmds[i], "agent"))
			vm_req(cmds[i], "ghost");
		else
			req(line);
		ck_assert(strstr(reply, "\"no_such_vm\",\"message\":\"no VM named "
				 "'ghost'\""));
		snprintf(line, sizeof(line), "{\"id\":1,\"cmd\":\"%s\",\"vm\":[]}",
			 cmds[i]);
		expect_error(line, "wrong_type", "'vm' must be a string");
		snprintf(line, sizeof(line), "{\"id\":1,\"cmd\":\"%s\",\"vm\":\"a\","
			 "\"force\":true}", cmds[i]);
		expect_error(line, "unknown_field", "'force'");
	}
	/* the manager's own failures, with and without a message */
	fk.fail = CTL_E_NO_ROOM;
	fk.fail_msg = "not enough memory for 'a' (16M)";
	expect_error("{\"id\":1,\"cmd\":\"start\",\"vm\":\"a\"}", "no_room",
		     "not enough memory for 'a' (16M)");
	fk.fail_msg = NULL;
	v->state = CTL_VM_RUNNING;
	fk.fail = CTL_E_INTERNAL;
	expect_error("{\"id\":1,\"cmd\":\"pause\",\"vm\":\"a\"}", "internal_error",
		     "pause failed");
	v->state = CTL_VM_PAUSED;
	fk.fail = CTL_E_STATE;
	expect_error("{\"id\":1,\"cmd\":\"resume\",\"vm\":\"a\"}", "bad_state",
		     "resume failed");
	fk.fail = CTL_E_INTERNAL;
	expect_error("{\"id\":1,\"cmd\":\"stop\",\"vm\":\"a\"}", "internal_error",
		     "stop failed");
	v->state = CTL_VM_STOPPED;
	fk.fail = CTL_E_INTERNAL;
	expect_error("{\"id\":1,\"cmd\":\"destroy\",\"vm\":\"a\"}", "internal_error",
		     "destroy failed");
	ck_assert_ptr_nonnull(fake_find("a"));
}
END_TEST

START_TEST(stop_timeout)
{
	add_vm("a", CTL_VM_RUNNING);
	expect_error("{\"id\":1,\"cmd\":\"stop\",\"vm\":\"a\",\"timeout\":3601}",
		     "invalid_value", "'timeout' must be 0..3600 seconds");
	expect_error("{\"id\":1,\"cmd\":\"stop\",\"vm\":\"a\",\"timeout\":-1}",
		     "invalid_value", "'timeout'");
	expect_error("{\"id\":1,\"cmd\":\"stop\",\"vm\":\"a\",\"timeout\":"
		     "99999999999999999999}", "parse_error", "out of the 64-bit");
	expect_error("{\"id\":1,\"cmd\":\"stop\",\"vm\":\"a\",\"timeout\":\"5\"}",
		     "wrong_type", "'timeout' must be an integer");
	expect_error("{\"id\":1,\"cmd\":\"stop\",\"vm\":\"a\",\"timeout\":5,"
		     "\"timeout\":6}", "duplicate_field", "'timeout'");
	ck_assert_int_eq(fk.calls, 0);
	ck_assert(strstr(req("{\"id\":1,\"cmd\":\"stop\",\"vm\":\"a\","
			     "\"timeout\":-0}"), "\"state\":\"stopped\""));
}
END_TEST

START_TEST(cmd_stats)
{
	add_vm("a", CTL_VM_RUNNING);
	add_vm("vanish", CTL_VM_RUNNING);
	fk.nr_reasons = 4;
	ck_assert_str_eq(vm_req("stats", "a"),
			 "{\"id\":1,\"ok\":true,\"vm\":\"a\",\"state\":\"running\","
			 "\"cpu_us\":1500,\"now_us\":9000,\"exits\":374,"
			 "\"slices\":38,\"by_reason\":{\"IO_INSTRUCTION\":1,"
			 "\"HLT\":2,\"CPUID\":4},\"disks\":[],\"nics\":[]}");
	fk.nr_reasons = 0;
	ck_assert(strstr(vm_req("stats", "a"), "\"by_reason\":{},"));
	add_vm("dev", CTL_VM_RUNNING);
	ck_assert(strstr(vm_req("stats", "dev"), "\"disks\":[{\"name\":\"d.img\","
			 "\"reads\":3,\"writes\":0,\"read_bytes\":12288,"
			 "\"write_bytes\":0,\"flushes\":0,\"errors\":0}],"
			 "\"nics\":[{\"mac\":\"02:00:00:00:00:0a\",\"network\":"
			 "\"lan\",\"tx_frames\":5,\"tx_bytes\":0,\"rx_frames\":0,"
			 "\"rx_bytes\":0,\"drops\":1}]}"));
	fk.nr_reasons = 1000;                   /* more than the array holds */
	ck_assert(strstr(vm_req("stats", "a"), "\"ok\":true"));
	/* gone between the lookup and the stats */
	expect_error("{\"id\":1,\"cmd\":\"stats\",\"vm\":\"vanish\"}", "no_such_vm",
		     "'vanish'");
}
END_TEST

START_TEST(cmd_shutdown)
{
	ck_assert_str_eq(req("{\"id\":4,\"cmd\":\"shutdown\"}"),
			 "{\"id\":4,\"ok\":true}");
	ck_assert_int_eq(fk.calls, 1);
	expect_error("{\"id\":4,\"cmd\":\"shutdown\",\"vm\":\"a\"}",
		     "unknown_field", "'vm'");
	ck_assert_int_eq(fk.calls, 1);
}
END_TEST

START_TEST(cmd_agent)
{
	struct fake_vm *v = add_vm("a", CTL_VM_RUNNING);
	char line[CTL_AGENT_MAX + 100];

	expect_error("{\"id\":3,\"cmd\":\"agent\",\"vm\":\"a\",\"data\":\"x\"}",
		     "bad_state", "VM 'a' has no guest agent connected");
	v->agent = true;
	ck_assert_str_eq(req("{\"id\":42,\"cmd\":\"agent\",\"vm\":\"a\",\"data\":"
			     "\"{\\\"ping\\\":1}\\n\"}"),
			 "{\"id\":42,\"ok\":true,\"state\":\"running\"}");
	ck_assert_uint_eq(fk.agent_id, 42);
	ck_assert_uint_eq(fk.agent_len, 11);
	ck_assert(!memcmp(fk.agent_data, "{\"ping\":1}\n", 11));
	expect_error("{\"id\":3,\"cmd\":\"agent\",\"vm\":\"a\"}", "missing_field",
		     "missing field 'data'");
	expect_error("{\"id\":3,\"cmd\":\"agent\",\"vm\":\"a\",\"data\":1}",
		     "wrong_type", "'data' must be a string");
	expect_error("{\"id\":3,\"cmd\":\"agent\",\"vm\":\"a\",\"data\":\"\\u0000\"}",
		     "invalid_value", "'data' must not contain \\\\u0000");
	snprintf(line, sizeof(line), "{\"id\":3,\"cmd\":\"agent\",\"vm\":\"a\","
		 "\"data\":\"%0*d\"}", CTL_AGENT_MAX, 0);
	ck_assert(strstr(req(line), "\"ok\":true"));
	ck_assert_uint_eq(fk.agent_len, CTL_AGENT_MAX);
	snprintf(line, sizeof(line), "{\"id\":3,\"cmd\":\"agent\",\"vm\":\"a\","
		 "\"data\":\"%0*d\"}", CTL_AGENT_MAX + 1, 0);
	expect_error(line, "invalid_value", "'data' is longer than 512 bytes");
	v->state = CTL_VM_PAUSED;
	expect_error("{\"id\":3,\"cmd\":\"agent\",\"vm\":\"a\",\"data\":\"x\"}",
		     "bad_state", "agent needs it running");
}
END_TEST

START_TEST(reply_too_big)
{
	char small[120];
	int n;

	for (int i = 0; i < CTL_MAX_VMS; i++)
		add_vm("abcdefghijklmno", CTL_VM_RUNNING);
	n = ctl_handle(c, "{\"id\":1,\"cmd\":\"list\"}", 21, small, sizeof(small));
	check_line(small, n);
	ck_assert_str_eq(small, "{\"id\":1,\"ok\":false,\"error\":{\"code\":"
			 "\"internal_error\",\"message\":\"the reply does not fit "
			 "in 120 bytes\"}}\n");
}
END_TEST

/* ---- trace ---- */

/* n records in the fake's ring: CPUID at rip 0x1000 + seq, then an OUT. */
static void trace_fill(u64 n)
{
	for (u64 i = 0; i < n; i++) {
		u64 seq = trace_newest(&fk.ring) + 1;
		struct trace_rec *r = trace_add(&fk.ring, 100 * seq);

		r->rip = 0x1000 + seq;
		r->reason = seq % 2 ? 10 : 30;
		r->kind = seq % 2 ? TRACE_CPUID : TRACE_IO;
		r->detail = seq % 2 ? 1 : 0x3f8;
		r->aux = seq % 2 ? 0 : 1;
	}
}

/* The number of records in the reply, and the first one's seq (0: none). */
static int trace_records(const char *r, u64 *first)
{
	const char *p = strstr(r, "\"records\":[");
	int n = 0;

	ck_assert_ptr_nonnull(p);
	*first = 0;
	if (p[11] == '[')
		*first = strtoull(p + 12, NULL, 10);
	for (p += 11; (p = strchr(p, '[')); p++)
		n++;
	return n;
}

START_TEST(cmd_trace)
{
	u64 first;

	add_vm("t", CTL_VM_RUNNING)->cfg.trace = CFG_TRACE_ON;
	trace_init(&fk.ring, ring_recs);
	trace_fill(2);
	ck_assert_str_eq(req("{\"id\":1,\"cmd\":\"trace\",\"vm\":\"t\"}"),
			 "{\"id\":1,\"ok\":true,\"vm\":\"t\",\"on\":true,"
			 "\"console\":false,\"newest\":2,\"missed\":0,\"records\":["
			 "[1,0,\"CPUID\",\"0x1001\",\"leaf 0x1 sub 0x0\",0],"
			 "[2,0,\"IO_INSTRUCTION\",\"0x1002\",\"out 0x3f8/1\",100]]}");
	/* without after: the newest count, at most CTL_TRACE_MAX */
	trace_fill(100);
	ck_assert_int_eq(trace_records(req("{\"id\":2,\"cmd\":\"trace\","
					   "\"vm\":\"t\"}"), &first), CTL_TRACE_MAX);
	ck_assert_uint_eq(first, 102 - CTL_TRACE_MAX + 1);
	ck_assert_int_eq(trace_records(req("{\"id\":2,\"cmd\":\"trace\","
					   "\"vm\":\"t\",\"count\":3}"), &first), 3);
	ck_assert_uint_eq(first, 100);
	ck_assert_ptr_nonnull(strstr(reply, "\"newest\":102,\"missed\":0,"));
	/* after: the oldest ones after it, none after the newest */
	trace_records(req("{\"id\":3,\"cmd\":\"trace\",\"vm\":\"t\","
			  "\"after\":50,\"count\":2}"), &first);
	ck_assert_uint_eq(first, 51);
	ck_assert_ptr_nonnull(strstr(reply, "[52,"));
	ck_assert_int_eq(trace_records(req("{\"id\":4,\"cmd\":\"trace\","
					   "\"vm\":\"t\",\"after\":102}"), &first), 0);
	/* overwritten before it asked: missed, then the oldest held */
	trace_fill(TRACE_RECORDS);
	trace_records(req("{\"id\":5,\"cmd\":\"trace\",\"vm\":\"t\","
			  "\"after\":50}"), &first);
	ck_assert_uint_eq(first, 102 + 1);
	ck_assert_ptr_nonnull(strstr(reply, "\"missed\":52,"));
}
END_TEST

START_TEST(trace_on_off)
{
	add_vm("t", CTL_VM_RUNNING);
	add_vm("c", CTL_VM_CREATED)->cfg.trace = CFG_TRACE_CONSOLE;
	trace_init(&fk.ring, ring_recs);
	ck_assert_ptr_nonnull(strstr(req("{\"id\":1,\"cmd\":\"trace\","
					 "\"vm\":\"t\"}"), "\"on\":false,"));
	ck_assert_ptr_nonnull(strstr(req("{\"id\":2,\"cmd\":\"trace\","
		"\"vm\":\"t\",\"on\":true}"), "\"on\":true,\"console\":false,"));
	ck_assert_int_eq(fake_find("t")->cfg.trace, CFG_TRACE_ON);
	req("{\"id\":3,\"cmd\":\"trace\",\"vm\":\"t\",\"on\":false}");
	ck_assert_int_eq(fake_find("t")->cfg.trace, CFG_TRACE_OFF);
	/* a VM not started has no records; on keeps its console */
	ck_assert_str_eq(req("{\"id\":4,\"cmd\":\"trace\",\"vm\":\"c\","
			     "\"on\":true}"), "{\"id\":4,\"ok\":true,\"vm\":\"c\","
			 "\"on\":true,\"console\":true,\"newest\":0,\"missed\":0,"
			 "\"records\":[]}");
	fk.fail = CTL_E_INTERNAL;
	expect_error("{\"id\":5,\"cmd\":\"trace\",\"vm\":\"t\",\"on\":true}",
		     "internal_error", "\"no\"");
	ck_assert_int_eq(fake_find("t")->cfg.trace, CFG_TRACE_OFF);
	/* create takes the key as uhv.cfg does */
	req("{\"id\":6,\"cmd\":\"create\",\"vm\":\"k\",\"image\":\"g\","
	    "\"trace\":\"console\"}");
	ck_assert_int_eq(fake_find("k")->cfg.trace, CFG_TRACE_CONSOLE);
	req("{\"id\":6,\"cmd\":\"create\",\"vm\":\"k2\",\"image\":\"g\","
	    "\"trace\":true}");
	ck_assert_int_eq(fake_find("k2")->cfg.trace, CFG_TRACE_ON);
	expect_error("{\"id\":7,\"cmd\":\"create\",\"vm\":\"k3\",\"image\":"
		     "\"g\",\"trace\":\"yes\"}", "invalid_value",
		     "trace: 'yes' must be off, on or console");
}
END_TEST

START_TEST(trace_errors)
{
	struct ctl_ops none = fake_ops;

	add_vm("t", CTL_VM_STOPPED);
	trace_init(&fk.ring, ring_recs);
	trace_fill(5);
	expect_error("{\"id\":1,\"cmd\":\"trace\",\"vm\":\"nosuch\"}",
		     "no_such_vm", "no VM named 'nosuch'");
	expect_error("{\"id\":1,\"cmd\":\"trace\"}", "missing_field", "'vm'");
	expect_error("{\"id\":2,\"cmd\":\"trace\",\"vm\":\"t\",\"after\":6}",
		     "invalid_value", "'after' 6 is beyond the newest record "
		     "of VM 't', 5");
	expect_error("{\"id\":3,\"cmd\":\"trace\",\"vm\":\"t\",\"after\":-1}",
		     "invalid_value", "'after' must be 0..9007199254740991");
	expect_error("{\"id\":3,\"cmd\":\"trace\",\"vm\":\"t\",\"after\":\"1\"}",
		     "wrong_type", "'after' must be an integer");
	expect_error("{\"id\":4,\"cmd\":\"trace\",\"vm\":\"t\",\"count\":0}",
		     "invalid_value", "'count' must be 1..15");
	expect_error("{\"id\":4,\"cmd\":\"trace\",\"vm\":\"t\",\"count\":16}",
		     "invalid_value", "'count' must be 1..15");
	expect_error("{\"id\":5,\"cmd\":\"trace\",\"vm\":\"t\",\"on\":\"on\"}",
		     "wrong_type", "'on' must be a boolean");
	expect_error("{\"id\":6,\"cmd\":\"trace\",\"vm\":\"t\",\"seq\":1}",
		     "unknown_field", "unknown field 'seq' for command 'trace'");
	/* a bad value acts not: trace stays off */
	expect_error("{\"id\":7,\"cmd\":\"trace\",\"vm\":\"t\",\"on\":true,"
		     "\"count\":99}", "invalid_value", "'count'");
	ck_assert_int_eq(fake_find("t")->cfg.trace, CFG_TRACE_OFF);
	none.trace = NULL;
	ctl_init(c, &none, &fk, "x");
	expect_error("{\"id\":8,\"cmd\":\"trace\",\"vm\":\"t\"}",
		     "internal_error", "trace is not available");
}
END_TEST

/* The longest records (every field at its widest) still make a reply uhv
   itself could read back: CTL_TRACE_MAX of them within JSON_LINE_MAX
   bytes and JSON_MAX_TOKENS values (check_line parses it so). */
START_TEST(trace_reply_fits)
{
	const char *r;
	u64 first;

	add_vm("abcdefghijklmno", CTL_VM_RUNNING);
	trace_init(&fk.ring, ring_recs);
	for (int i = 0; i < TRACE_RECORDS; i++)    /* the longest name: 43 */
		ring_recs[i] = (struct trace_rec){ .rip = ~0ULL,
			.detail = ~0ULL, .delta = ~0ULL, .kind = TRACE_EPT,
			.aux = ~0u, .vcpu = 255, .reason = 43 };
	fk.ring.made = ~0ULL >> 11;           /* 2^53 - 1: the largest seq */
	r = req("{\"id\":9007199254740991,\"cmd\":\"trace\","
		"\"vm\":\"abcdefghijklmno\"}");
	ck_assert_int_eq(trace_records(r, &first), CTL_TRACE_MAX);
	ck_assert_uint_lt(strlen(r), JSON_LINE_MAX);
}
END_TEST

/* ---- events ---- */

START_TEST(events)
{
	int n;

	n = ctl_event_vm_started(reply, sizeof(reply), "web");
	check_line(reply, n);
	ck_assert_str_eq(reply, "{\"event\":\"vm_started\",\"vm\":\"web\"}\n");
	n = ctl_event_vm_stopped(reply, sizeof(reply), "web", "exit", 3,
				 "debug exit, status 3");
	check_line(reply, n);
	ck_assert_str_eq(reply, "{\"event\":\"vm_stopped\",\"vm\":\"web\",\"result\":"
			 "\"exit\",\"status\":3,\"why\":\"debug exit, status 3\"}\n");
	n = ctl_event_vm_stopped(reply, sizeof(reply), "web", NULL, 0, NULL);
	check_line(reply, n);
	ck_assert(strstr(reply, "\"result\":\"\",\"status\":0,\"why\":\"\""));
	/* whatever a guest says arrives as valid JSON */
	n = ctl_event_guest_panicked(reply, sizeof(reply), "web",
				     "Kernel panic - \"not syncing\"\n\x01\xff");
	check_line(reply, n);
	ck_assert_str_eq(reply, "{\"event\":\"guest_panicked\",\"vm\":\"web\",\"why\":"
			 "\"Kernel panic - \\\"not syncing\\\"\\n\\u0001\\ufffd\"}\n");
	n = ctl_event_guest_panicked(reply, sizeof(reply), "web", NULL);
	check_line(reply, n);
	n = ctl_event_agent_lost(reply, sizeof(reply), "web");
	check_line(reply, n);
	ck_assert_str_eq(reply, "{\"event\":\"agent_lost\",\"vm\":\"web\"}\n");
	n = ctl_event_agent_message(reply, sizeof(reply), "web", 42, "{\"pong\":1}\0z", 12);
	check_line(reply, n);
	ck_assert_str_eq(reply, "{\"event\":\"agent_message\",\"vm\":\"web\",\"id\":42,"
			 "\"data\":\"{\\\"pong\\\":1}\\u0000z\"}\n");
	/* too small a buffer: -1, nothing half-written claimed */
	ck_assert_int_eq(ctl_event_vm_started(reply, 20, "web"), -1);
	ck_assert_int_eq(ctl_event_vm_started(reply, 34, "web"), -1);
	ck_assert_int_eq(ctl_event_vm_started(reply, 35, "web"), 34);
	ck_assert_int_eq(ctl_event_agent_lost(reply, 0, "web"), -1);
}
END_TEST

/* ---- gdb ---- */

/* Queues bytes for gdb in the fake stub. */
static void gdb_queue(const void *b, size_t n)
{
	ck_assert_uint_le(fk.gdb_q_len + n, sizeof(fk.gdb_q));
	memcpy(fk.gdb_q + fk.gdb_q_len, b, n);
	fk.gdb_q_len += n;
}

/* The last reply's "data", as bytes; their number. */
static size_t reply_data(u8 *buf, size_t size)
{
	struct json_error pe;
	enum json_err e;
	int i, n;

	ck_assert_int_gt(json_parse(reply, strlen(reply), toks,
				    JSON_MAX_TOKENS, &pe), 0);
	i = json_member(reply, toks, 0, "data");
	ck_assert_int_gt(i, 0);
	n = json_str_bytes(reply, &toks[i], buf, size, &e);
	ck_assert_int_ge(n, 0);
	return (size_t)n;
}

START_TEST(gdb_relay)
{
	add_vm("a", CTL_VM_RUNNING);
	gdb_queue("+$S05#b8", 8);
	ck_assert_str_eq(req("{\"id\":1,\"cmd\":\"gdb\",\"vm\":\"a\",\"data\":"
			     "\"$?#3f\"}"),
			 "{\"id\":1,\"ok\":true,\"data\":\"+$S05#b8\"}");
	ck_assert_uint_eq(fk.gdb_in_len, 5);
	ck_assert(!memcmp(fk.gdb_in, "$?#3f", 5));
	/* nothing to send, nothing queued: an empty reply; data may go */
	ck_assert_str_eq(req("{\"id\":2,\"cmd\":\"gdb\",\"vm\":\"a\",\"data\":"
			     "\"\"}"), "{\"id\":2,\"ok\":true,\"data\":\"\"}");
	ck_assert_str_eq(req("{\"id\":3,\"cmd\":\"gdb\",\"vm\":\"a\"}"),
			 "{\"id\":3,\"ok\":true,\"data\":\"\"}");
	ck_assert_uint_eq(fk.gdb_in_len, 5);
	ck_assert_int_eq(fk.gdb_calls, 3);
}
END_TEST

START_TEST(gdb_states_and_fields)
{
	static const enum ctl_vm_state bad[] = { CTL_VM_CREATED,
		CTL_VM_STOPPING, CTL_VM_STOPPED };
	struct fake_vm *v = add_vm("a", CTL_VM_PAUSED);
	const char *line = "{\"id\":1,\"cmd\":\"gdb\",\"vm\":\"a\","
			   "\"data\":\"+\"}";

	ck_assert_str_eq(req(line), "{\"id\":1,\"ok\":true,\"data\":\"\"}");
	for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
		v->state = bad[i];
		expect_error(line, "bad_state", "gdb needs it running or paused");
	}
	ck_assert_int_eq(fk.gdb_calls, 1);
	v->state = CTL_VM_RUNNING;
	expect_error("{\"id\":1,\"cmd\":\"gdb\",\"vm\":\"b\",\"data\":\"\"}",
		     "no_such_vm", "no VM named 'b'");
	expect_error("{\"id\":1,\"cmd\":\"gdb\",\"data\":\"\"}",
		     "missing_field", "missing field 'vm'");
	expect_error("{\"id\":1,\"cmd\":\"gdb\",\"vm\":\"a\",\"data\":3}",
		     "wrong_type", "'data' must be a string");
	expect_error("{\"id\":1,\"cmd\":\"gdb\",\"vm\":\"a\",\"more\":true}",
		     "unknown_field", "'more'");
	expect_error("{\"id\":1,\"cmd\":\"gdb\",\"vm\":\"a\",\"data\":"
		     "\"\\u0100\"}", "invalid_value", "U+0000..U+00FF");
	expect_error("{\"id\":1,\"cmd\":\"gdb\",\"vm\":\"a\",\"data\":"
		     "\"\xe2\x82\xac\"}", "invalid_value", "U+0000..U+00FF");
	ck_assert_int_eq(fk.gdb_calls, 1);
	/* the stub's own failure */
	fk.fail = CTL_E_INTERNAL;
	expect_error(line, "internal_error", "the stub broke");
	/* a uhv without a stub */
	ctl_init(c, &(struct ctl_ops){ .info = f_info }, &fk, "t");
	expect_error(line, "internal_error", "gdb is not available");
}
END_TEST

/* Ctrl-C (0x03), NUL and bytes from 0x80 go through both ways. */
START_TEST(gdb_bytes_escaped)
{
	static const u8 out[] = { 0x03, 0x00, '"', '\\', 0x7f, 0x80, 0xff, '$' };
	u8 got[16];

	add_vm("a", CTL_VM_RUNNING);
	gdb_queue(out, sizeof(out));
	ck_assert_str_eq(req("{\"id\":1,\"cmd\":\"gdb\",\"vm\":\"a\",\"data\":"
			     "\"\\u0003\\u0000\\u00e9\xc3\xbf}\"}"),
			 "{\"id\":1,\"ok\":true,\"data\":\"\\u0003\\u0000\\\""
			 "\\\\\x7f\xc2\x80\xc3\xbf$\"}");
	ck_assert_uint_eq(fk.gdb_in_len, 5);
	ck_assert(!memcmp(fk.gdb_in, "\x03\x00\xe9\xff}", 5));
	ck_assert_uint_eq(reply_data(got, sizeof(got)), sizeof(out));
	ck_assert(!memcmp(got, out, sizeof(out)));
}
END_TEST

/* Requests carry at most CTL_GDB_IN_MAX bytes: uhvctl cuts gdb's. */
START_TEST(gdb_input_limit)
{
	char line[CTL_GDB_IN_MAX * 2 + 100];
	int n;

	add_vm("a", CTL_VM_RUNNING);
	n = snprintf(line, sizeof(line), "{\"id\":1,\"cmd\":\"gdb\",\"vm\":"
		     "\"a\",\"data\":\"");
	memset(line + n, 'x', CTL_GDB_IN_MAX);
	snprintf(line + n + CTL_GDB_IN_MAX, sizeof(line) - (size_t)n -
		 CTL_GDB_IN_MAX, "\"}");
	ck_assert_str_eq(req(line), "{\"id\":1,\"ok\":true,\"data\":\"\"}");
	ck_assert_uint_eq(fk.gdb_in_len, CTL_GDB_IN_MAX);
	memset(line + n, 'x', CTL_GDB_IN_MAX + 1);
	snprintf(line + n + CTL_GDB_IN_MAX + 1, sizeof(line) - (size_t)n -
		 CTL_GDB_IN_MAX - 1, "\"}");
	expect_error(line, "invalid_value", "'data' is longer than 512 bytes");
	ck_assert_uint_eq(fk.gdb_in_len, CTL_GDB_IN_MAX);
}
END_TEST

/* Takes everything the stub holds, a reply at a time while "more";
   the number of replies. Each keeps to JSON_LINE_MAX. */
static int gdb_drain(u8 *buf, size_t size, size_t *len)
{
	int replies = 0;

	*len = 0;
	do {
		static const char line[] = "{\"id\":9,\"cmd\":\"gdb\",\"vm\":\"a\"}";
		int n = ctl_handle(c, line, sizeof(line) - 1, reply,
				   sizeof(reply));

		check_line(reply, n);
		ck_assert_msg(n <= JSON_LINE_MAX + 1 &&
			      strstr(reply, "\"ok\":true"), "%.300s", reply);
		reply[n - 1] = 0;
		*len += reply_data(buf + *len, size - *len);
		replies++;
	} while (strstr(reply, ",\"more\":true}"));
	return replies;
}

START_TEST(gdb_more)
{
	static u8 big[2 * CTL_GDB_OUT_MAX + 100], got[sizeof(big)];
	size_t len;

	add_vm("a", CTL_VM_RUNNING);
	for (size_t i = 0; i < sizeof(big); i++)
		big[i] = (u8)('0' + i % 10);
	gdb_queue(big, sizeof(big));
	ck_assert_int_eq(gdb_drain(got, sizeof(got), &len), 3);
	ck_assert_uint_eq(len, sizeof(big));
	ck_assert(!memcmp(got, big, len));
	/* bytes that escape to 6 each: fewer per reply, none lost */
	memset(big, 0x01, sizeof(big));
	gdb_queue(big, CTL_GDB_OUT_MAX);
	ck_assert_int_ge(gdb_drain(got, sizeof(got), &len), 3);
	ck_assert_uint_eq(len, CTL_GDB_OUT_MAX);
	ck_assert(!memcmp(got, big, len));
	ck_assert_uint_eq(fk.gdb_q_len, 0);
}
END_TEST

START_TEST(gdb_event)
{
	int n = ctl_event_gdb(reply, sizeof(reply), "web",
			      (const u8 *)"$T05thread:01;#07\x03", 18);
	static u8 big[CTL_GDB_OUT_MAX + 1];

	check_line(reply, n);
	ck_assert_str_eq(reply, "{\"event\":\"gdb\",\"vm\":\"web\",\"data\":"
			 "\"$T05thread:01;#07\\u0003\"}\n");
	memset(big, 'x', sizeof(big));
	ck_assert_int_gt(ctl_event_gdb(reply, sizeof(reply), "web", big,
				       CTL_GDB_OUT_MAX), 0);
	ck_assert_int_eq(ctl_event_gdb(reply, sizeof(reply), "web", big,
				       sizeof(big)), -1);
	memset(big, 0x01, sizeof(big));  /* escaped, beyond a line */
	ck_assert_int_eq(ctl_event_gdb(reply, sizeof(reply), "web", big,
				       CTL_GDB_OUT_MAX), -1);
	ck_assert_int_eq(ctl_event_gdb(reply, 10, "web", big, 1), -1);
}
END_TEST

START_TEST(names)
{
	static const char *const codes[CTL_CODE_COUNT] = {
		"ok", "parse_error", "line_too_long", "unknown_command",
		"unknown_field", "duplicate_field", "wrong_type", "missing_field",
		"invalid_value", "no_such_vm", "bad_state", "vm_exists", "no_room",
		"internal_error",
	};

	for (int i = 0; i < CTL_CODE_COUNT; i++)
		ck_assert_str_eq(ctl_code_name((enum ctl_code)i), codes[i]);
	ck_assert_str_eq(ctl_code_name(CTL_CODE_COUNT), "unknown");
	ck_assert_str_eq(ctl_state_name(CTL_VM_CREATED), "created");
	ck_assert_str_eq(ctl_state_name(CTL_VM_STOPPED), "stopped");
	ck_assert_str_eq(ctl_state_name((enum ctl_vm_state)-1), "unknown");
}
END_TEST

Suite *ctl_suite(void)
{
	Suite *s = suite_create("ctl");
	TCase *tc = tcase_create("protocol");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, version_and_greeting);
	tcase_add_test(tc, request_errors);
	tcase_add_test(tc, long_names_quoted_short);
	tcase_add_test(tc, blank_and_too_long);
	tcase_add_test(tc, feed_bytes);
	tcase_add_test(tc, reply_too_big);
	tcase_add_test(tc, events);
	tcase_add_test(tc, names);
	suite_add_tcase(s, tc);
	tc = tcase_create("commands");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, cmd_list);
	tcase_add_test(tc, cmd_info);
	tcase_add_test(tc, create_good);
	tcase_add_test(tc, create_agent);
	tcase_add_test(tc, create_errors);
	tcase_add_test(tc, create_disks);
	tcase_add_test(tc, create_refused);
	tcase_add_test(tc, lifecycle);
	tcase_add_test(tc, bad_states);
	tcase_add_test(tc, action_errors);
	tcase_add_test(tc, stop_timeout);
	tcase_add_test(tc, cmd_stats);
	tcase_add_test(tc, cmd_shutdown);
	tcase_add_test(tc, cmd_agent);
	tcase_add_test(tc, cmd_trace);
	tcase_add_test(tc, trace_on_off);
	tcase_add_test(tc, trace_errors);
	tcase_add_test(tc, trace_reply_fits);
	tcase_add_test(tc, gdb_relay);
	tcase_add_test(tc, gdb_states_and_fields);
	tcase_add_test(tc, gdb_bytes_escaped);
	tcase_add_test(tc, gdb_input_limit);
	tcase_add_test(tc, gdb_more);
	tcase_add_test(tc, gdb_event);
	suite_add_tcase(s, tc);
	return s;
}
