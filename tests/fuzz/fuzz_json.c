/*
 * libFuzzer harness for the management protocol: lib/json.c,
 * lib/json_write.c, vmm/ctl/ctl.c, vmm/ctl/ctl_create.c and vmm/ctl/ctl_line.c
 * (with the exit trace's ring, vmm/trace/exit_trace.c). The input is what a
 * client sends on the port: its bytes go through ctl_feed one at a time,
 * to a fake VM manager that starts with a VM in each state. Each line is
 * also parsed on its own.
 *
 * Besides the sanitizers, the harness checks the promises:
 * - an accepted text's tokens form a tree inside the text (offsets in
 *   bounds, children counted by size, subtrees nested by next), every
 *   string unescapes to valid UTF-8 no longer than its raw form, and the
 *   writer's rendering of the tree parses back to the same tree;
 * - every reply is one line of valid JSON with "id", "ok" and, on error,
 *   a known error code;
 * - the manager is only asked to act on a VM in a state the command
 *   takes, and to create only VMs that config.c's rules accept.
 *
 *   clang -g -O1 -fsanitize=fuzzer,address,undefined -I. \
 *         tests/fuzz/fuzz_json.c lib/json.c lib/json_write.c vmm/ctl/ctl.c \
 *         vmm/ctl/ctl_create.c vmm/ctl/ctl_line.c vmm/config.c lib/fmt.c \
 *         vmm/trace/exit_trace.c string_renamed.o -o fuzz_json
 * where string_renamed.o is lib/string.c built as tests/unit.mk builds it
 * (-fno-builtin -Dmemcpy=uhv_memcpy ...), for str_copy.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "vmm/ctl/ctl.h"

#define CHECK(cond) do { if (!(cond)) { \
	fprintf(stderr, "%s:%d: %s\n", __FILE__, __LINE__, #cond); \
	abort(); } } while (0)

/* Round trips write strings escaped: up to 6 bytes for each input byte. */
#define ECHO_MAX (6 * JSON_LINE_MAX + 64)

/* ---- the fake VM manager ---- */

static struct fake_vm {
	bool used;
	struct vm_config cfg;
	enum ctl_vm_state state;
	bool agent;
} vms[CTL_MAX_VMS];

static struct fake_vm *find(const char *name)
{
	for (int i = 0; i < CTL_MAX_VMS; i++)
		if (vms[i].used && !strcmp(vms[i].cfg.name, name))
			return &vms[i];
	return NULL;
}

static void add(const char *name, enum ctl_vm_state s, bool agent)
{
	for (int i = 0; i < CTL_MAX_VMS; i++) {
		if (!vms[i].used) {
			vms[i] = (struct fake_vm){ .used = true, .state = s,
						   .agent = agent };
			snprintf(vms[i].cfg.name, CFG_NAME_MAX, "%s", name);
			snprintf(vms[i].cfg.image, CFG_PATH_MAX, "%s.elf", name);
			vms[i].cfg.memory = CFG_MEM_DEFAULT;
			vms[i].cfg.cpus = 1;
			return;
		}
	}
}

static int f_list(void *ctx, struct ctl_vm_brief *out, int max)
{
	int n = 0;

	(void)ctx;
	for (int i = 0; i < CTL_MAX_VMS && n < max; i++) {
		if (vms[i].used) {
			memcpy(out[n].name, vms[i].cfg.name, CFG_NAME_MAX);
			out[n++].state = vms[i].state;
		}
	}
	return n;
}

static bool f_info(void *ctx, const char *vm, struct ctl_vm_info *info)
{
	struct fake_vm *v = find(vm);

	(void)ctx;
	if (!v)
		return false;
	memset(info, 0, sizeof(*info));
	info->state = v->state;
	info->cfg = v->cfg;
	info->agent = v->agent;
	if (v->state == CTL_VM_STOPPED) {
		info->result = "exit";
		info->status = 3;
		snprintf(info->why, sizeof(info->why), "debug exit, status 3");
	}
	return true;
}

/* An action on vm, which must be in one of the states in mask. */
static enum ctl_code act(const char *vm, char *msg, u32 mask,
			 enum ctl_vm_state to)
{
	struct fake_vm *v = find(vm);

	CHECK(v && msg[0] == 0);
	CHECK(mask & BIT(v->state));
	if (v->cfg.name[0] == 'x') {            /* names from x fail */
		snprintf(msg, CTL_MSG_MAX, "refused \"%s\"\n", vm);
		return CTL_E_NO_ROOM;
	}
	v->state = to;
	return CTL_OK;
}

/* config.c's rules, restated: a create must only pass valid configs. */
static bool valid_config(const struct vm_config *cfg)
{
	size_t n = strlen(cfg->name);

	if (n == 0 || n >= CFG_NAME_MAX || !cfg->image[0] || !cfg->has_image)
		return false;
	for (size_t i = 0; i < n; i++) {
		char c = cfg->name[i];

		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		      (c >= '0' && c <= '9') || c == '-' || c == '_'))
			return false;
	}
	return cfg->memory >= CFG_MEM_MIN && cfg->memory <= CFG_MEM_MAX &&
	       cfg->memory % MiB(1) == 0 && cfg->cpus >= 1 &&
	       cfg->cpus <= CFG_MAX_CPUS;
}

static enum ctl_code f_create(void *ctx, const struct vm_config *cfg,
			      char *msg)
{
	(void)ctx;
	CHECK(valid_config(cfg) && !find(cfg->name) && msg[0] == 0);
	for (int i = 0; i < CTL_MAX_VMS; i++) {
		if (!vms[i].used) {
			vms[i] = (struct fake_vm){ .used = true, .cfg = *cfg };
			return CTL_OK;
		}
	}
	return CTL_E_NO_ROOM;                   /* no message: the default */
}

static enum ctl_code f_start(void *ctx, const char *vm, char *msg)
{
	(void)ctx;
	return act(vm, msg, BIT(CTL_VM_CREATED) | BIT(CTL_VM_STOPPED),
		   CTL_VM_RUNNING);
}

static enum ctl_code f_pause(void *ctx, const char *vm, char *msg)
{
	(void)ctx;
	return act(vm, msg, BIT(CTL_VM_RUNNING), CTL_VM_PAUSED);
}

static enum ctl_code f_resume(void *ctx, const char *vm, char *msg)
{
	(void)ctx;
	return act(vm, msg, BIT(CTL_VM_PAUSED), CTL_VM_RUNNING);
}

static enum ctl_code f_stop(void *ctx, const char *vm, u32 timeout, char *msg)
{
	(void)ctx;
	CHECK(timeout <= CTL_STOP_TIMEOUT_MAX);
	return act(vm, msg, BIT(CTL_VM_RUNNING) | BIT(CTL_VM_PAUSED) |
		   BIT(CTL_VM_STOPPING),
		   timeout ? CTL_VM_STOPPING : CTL_VM_STOPPED);
}

static enum ctl_code f_destroy(void *ctx, const char *vm, char *msg)
{
	enum ctl_code code = act(vm, msg, BIT(CTL_VM_CREATED) |
				 BIT(CTL_VM_STOPPED), CTL_VM_STOPPED);

	(void)ctx;
	if (!code)
		find(vm)->used = false;
	return code;
}

static bool f_stats(void *ctx, const char *vm, struct ctl_vm_stats *st)
{
	(void)ctx;
	if (!find(vm))
		return false;
	st->exits = 100;
	st->slices = 7;
	st->nr_reasons = 2;
	st->reasons[0] = (struct ctl_counter){ "HLT", 60 };
	st->reasons[1] = (struct ctl_counter){ "IO_INSTRUCTION", 40 };
	st->nr_disks = 1;
	snprintf(st->disks[0].name, sizeof(st->disks[0].name), "%s.img", vm);
	st->nr_nics = 1;
	snprintf(st->nics[0].network, sizeof(st->nics[0].network), "lan");
	return true;
}

/* Every VM is stopped; a second shutdown is as good as the first. */
static enum ctl_code f_shutdown(void *ctx, char *msg)
{
	(void)ctx;
	(void)msg;
	for (int i = 0; i < CTL_MAX_VMS; i++)
		if (vms[i].used && vms[i].state != CTL_VM_CREATED)
			vms[i].state = CTL_VM_STOPPED;
	return CTL_OK;
}

static enum ctl_code f_agent(void *ctx, const char *vm, u64 id,
			     const char *data, size_t len, char *msg)
{
	(void)ctx;
	CHECK(id <= CTL_ID_MAX && len <= CTL_AGENT_MAX);
	CHECK(memchr(data, 0, len) == NULL);
	CHECK(find(vm)->agent);
	return act(vm, msg, BIT(CTL_VM_RUNNING), CTL_VM_RUNNING);
}

/* One exit trace for every VM: more records than the ring holds, of
   every kind, with the largest values (the longest reply). */
static struct trace_rec ring_recs[TRACE_RECORDS];
static struct trace ring;

static const char *reason_name(u32 reason)
{
	return reason % 2 ? "TPR_BELOW_THRESHOLD" : "CPUID";
}

static void fill_ring(void)
{
	trace_init(&ring, ring_recs);
	for (u64 i = 0; i < TRACE_RECORDS + 40; i++) {
		struct trace_rec *r = trace_add(&ring, i ? ~0ULL - i : 1);

		*r = (struct trace_rec){ .rip = ~0ULL - i, .detail = ~0ULL,
			.delta = r->delta, .reason = (u16)i,
			.kind = (u8)(i % (TRACE_KINDS + 1)), .vcpu = 3,
			.aux = ~0u };
	}
}

static bool f_trace(void *ctx, const char *vm, struct ctl_trace *tr)
{
	struct fake_vm *v = find(vm);

	(void)ctx;
	if (!v)
		return false;
	tr->mode = v->cfg.trace;
	tr->ring = v->state == CTL_VM_CREATED ? NULL : &ring;
	tr->reason_name = reason_name;
	return true;
}

static enum ctl_code f_trace_set(void *ctx, const char *vm, bool on,
				 char *msg)
{
	(void)ctx;
	(void)msg;
	CHECK(find(vm));
	find(vm)->cfg.trace = on ? CFG_TRACE_ON : CFG_TRACE_OFF;
	return CTL_OK;
}

static const struct ctl_ops fake_ops = {
	f_list, f_info, f_create, f_start, f_pause, f_resume, f_stop,
	f_destroy, f_stats, f_agent, f_shutdown, f_trace, f_trace_set,
};

/* ---- the parser's promises ---- */

static struct json_tok toks[JSON_MAX_TOKENS], again[JSON_MAX_TOKENS];
static char strbuf[JSON_LINE_MAX + 1], strbuf2[JSON_LINE_MAX + 1];

static void check_utf8(const char *s, size_t n)
{
	for (size_t i = 0, k; i < n; i += k)
		CHECK((k = json_utf8_len((const u8 *)s + i, n - i)) != 0);
}

/* Token i: in bounds, nested, its children counted. */
static void check_token(const char *js, size_t len, int n, int i, bool *nul)
{
	const struct json_tok *t = &toks[i];
	enum json_err e;
	int kids = 0, r;

	CHECK(t->start <= t->end && t->end <= len);
	CHECK(t->next > i && t->next <= n);
	CHECK(t->parent < i && (i == 0) == (t->parent == -1));
	if (t->parent >= 0)
		CHECK(t->next <= toks[t->parent].next);
	for (int k = i + 1; k < t->next; k = toks[k].next)
		kids++;
	if (t->type == JSON_OBJECT)
		CHECK(kids == 2 * t->size);
	else if (t->type == JSON_ARRAY)
		CHECK(kids == t->size);
	else
		CHECK(kids == 0 && t->size == 0);
	if (t->type != JSON_STRING)
		return;
	r = json_str_copy(js, t, strbuf, (size_t)(t->end - t->start) + 1, &e);
	CHECK(r >= 0 || e == JSON_E_NUL);
	*nul |= r < 0;
	if (r >= 0) {
		check_utf8(strbuf, (size_t)r);
		CHECK(json_str_eq(js, t, strbuf));
	}
}

/* Writes the subtree at token i with the writer; the index after it. */
static int echo(const char *js, int i, struct json_writer *w)
{
	const struct json_tok *t = &toks[i];
	enum json_err e;
	s64 v;

	switch (t->type) {
	case JSON_OBJECT:
		json_w_object(w);
		for (i++; i < t->next; ) {
			json_str_copy(js, &toks[i], strbuf, sizeof(strbuf), &e);
			json_w_key(w, strbuf);
			i = echo(js, i + 1, w);
		}
		json_w_object_end(w);
		return i;
	case JSON_ARRAY:
		json_w_array(w);
		for (i++; i < t->next; )
			i = echo(js, i, w);
		json_w_array_end(w);
		return i;
	case JSON_STRING:
		json_str_copy(js, t, strbuf, sizeof(strbuf), &e);
		json_w_str(w, strbuf);
		return i + 1;
	case JSON_INTEGER:
		if (json_get_s64(t, &v) == JSON_OK)
			json_w_s64(w, v);
		else
			json_w_u64(w, t->magnitude);
		return i + 1;
	default:
		if (t->type == JSON_NULL)
			json_w_null(w);
		else
			json_w_bool(w, t->type == JSON_TRUE);
		return i + 1;
	}
}

/* Token a of the text js and token b of the echo are the same value. */
static void check_same(const char *js, const char *out, int a, int b)
{
	const struct json_tok *x = &toks[a], *y = &again[b];
	enum json_err e;
	s64 sx, sy;
	u64 ux, uy;
	int nx, ny;

	CHECK(x->type == y->type && x->size == y->size);
	CHECK(x->parent == y->parent && x->next == y->next);
	if (x->type == JSON_INTEGER) {
		CHECK(json_get_s64(x, &sx) == json_get_s64(y, &sy));
		CHECK(json_get_u64(x, &ux) == json_get_u64(y, &uy));
		CHECK(x->magnitude == y->magnitude);
	}
	if (x->type != JSON_STRING)
		return;
	nx = json_str_copy(js, x, strbuf, sizeof(strbuf), &e);
	ny = json_str_copy(out, y, strbuf2, sizeof(strbuf2), &e);
	CHECK(nx >= 0 && nx == ny && !memcmp(strbuf, strbuf2, (size_t)nx));
}

/* One line parsed on its own, and the promises of an accepted text. */
static void check_parse(const char *js, size_t len)
{
	static char out[ECHO_MAX];
	struct json_error err;
	struct json_writer w;
	bool nul = false;
	int n = json_parse(js, len, toks, JSON_MAX_TOKENS, &err);
	int m;

	if (n < 0) {
		CHECK(err.code != JSON_OK && err.pos <= len);
		CHECK(json_strerror(err.code)[0] != 0);
		return;
	}
	CHECK(n >= 1 && toks[0].next == n && len <= JSON_LINE_MAX);
	for (int i = 0; i < n; i++)
		check_token(js, len, n, i, &nul);
	if (nul)
		return;                 /* \u0000 has no C string to echo */
	json_w_init(&w, out, sizeof(out));
	CHECK(echo(js, 0, &w) == n);
	CHECK((m = json_w_end(&w)) > 0);
	if ((size_t)m > JSON_LINE_MAX)
		return;
	CHECK(json_parse(out, (size_t)m, again, JSON_MAX_TOKENS, &err) == n);
	for (int i = 0; i < n; i++)
		check_same(js, out, i, i);
}

/* A reply: one line of JSON with id, ok and, on error, a known code. */
static void check_reply(const char *r, int n)
{
	struct json_error err;
	int ok, id, e, code;
	bool known = false;

	if (n == 0)
		return;                 /* a blank line */
	CHECK(n > 0 && strlen(r) == (size_t)n && r[n - 1] == '\n');
	CHECK(json_parse(r, (size_t)n - 1, again, JSON_MAX_TOKENS, &err) > 0);
	CHECK(again[0].type == JSON_OBJECT);
	CHECK((id = json_member(r, again, 0, "id")) > 0);
	CHECK(again[id].type == JSON_INTEGER || again[id].type == JSON_NULL);
	CHECK((ok = json_member(r, again, 0, "ok")) > 0);
	if (again[ok].type == JSON_TRUE)
		return;
	CHECK(again[ok].type == JSON_FALSE);
	CHECK((e = json_member(r, again, 0, "error")) > 0);
	CHECK((code = json_member(r, again, e, "code")) > 0);
	CHECK(json_member(r, again, e, "message") > 0);
	for (int k = 1; k < CTL_CODE_COUNT; k++)
		known |= json_str_eq(r, &again[code], ctl_code_name(k));
	CHECK(known);
}

int LLVMFuzzerTestOneInput(const u8 *data, size_t size);

int LLVMFuzzerTestOneInput(const u8 *data, size_t size)
{
	static struct ctl c;
	static char reply[CTL_REPLY_MAX];
	const char *s = (const char *)data;
	size_t line = 0;

	memset(vms, 0, sizeof(vms));
	if (!ring.recs)
		fill_ring();
	add("a", CTL_VM_CREATED, false);
	add("b", CTL_VM_RUNNING, true);
	add("c", CTL_VM_PAUSED, false);
	add("d", CTL_VM_STOPPED, false);
	add("x", CTL_VM_RUNNING, true);         /* its actions fail */
	add("s", CTL_VM_STOPPING, false);
	ctl_init(&c, &fake_ops, NULL, "fuzz");
	for (size_t i = 0; i < size; i++) {
		int n = ctl_feed(&c, s[i], reply, sizeof(reply));

		if (s[i] != '\n') {
			CHECK(n == 0);
			continue;
		}
		check_reply(reply, n);
		check_parse(s + line, i - line);
		line = i + 1;
	}
	check_parse(s + line, size - line);
	return 0;
}
