/*
 * The create command's VM, checked by config.c itself: the request is
 * written as a uhv.cfg [vm NAME] section and parsed as one, so a VM made
 * over the wire obeys exactly the rules of a VM in the file, with the
 * same messages ("memory: '5G' is out of range: whole MiB from 2M to 3G").
 *
 * The file cannot hold every string: config.c ends a value at a newline,
 * cuts it at '#' (a comment) and trims blanks from both ends. Values it
 * would change are refused here rather than changed, so what config.c
 * checks is exactly what the client sent.
 */
#include "vmm/ctl/ctl.h"
#include "lib/fmt.h"
#include "lib/string.h"

/* config.c reads lines of up to 399 bytes, and the longest key with its
   " = " takes 10 of them ("cmdline = "). */
#define CFG_VALUE_MAX 384
_Static_assert(CFG_VALUE_MAX <= sizeof(((struct ctl *)0)->value),
	       "struct ctl's value buffer holds a uhv.cfg value");

/* invalid_value, with fmt's one %s being key */
static enum ctl_code refuse(struct ctl *c, const char *fmt, const char *key)
{
	fmt_sn(c->msg, sizeof(c->msg), fmt, key);
	return CTL_E_VALUE;
}

static bool is_blank(char ch)
{
	return ch == ' ' || ch == '\t';
}

/* A string as it would be written in uhv.cfg: whether config.c reads it
   back unchanged. */
static enum ctl_code check_text(struct ctl *c, const char *key,
				const char *v)
{
	size_t n = strlen(v);

	if (n && (is_blank(v[0]) || is_blank(v[n - 1])))
		return refuse(c, "'%s' must not start or end with a blank "
			      "(uhv.cfg trims them)", key);
	for (size_t i = 0; i < n; i++) {
		if ((u8)v[i] < 0x20 && v[i] != '\t')
			return refuse(c, "'%s' must not contain control "
				      "characters", key);
		if (v[i] == '#')
			return refuse(c, "'%s' must not contain '#' (uhv.cfg "
				      "starts a comment with it)", key);
	}
	return CTL_OK;
}

/* Token t, the value of key, as uhv.cfg text in c->value. An integer is
   written in decimal, so "memory": -5 is judged as "memory = -5" is;
   true and false as on and off ("agent": true is "agent = on"). */
static enum ctl_code cfg_value(struct ctl *c, const char *js, const char *key,
			       const struct json_tok *t)
{
	enum json_err e;

	if (t->type == JSON_INTEGER) {
		fmt_sn(c->value, CFG_VALUE_MAX, "%s%llu",
		       t->negative ? "-" : "", (unsigned long long)t->magnitude);
		return CTL_OK;
	}
	if (t->type == JSON_TRUE || t->type == JSON_FALSE) {
		str_copy(c->value, t->type == JSON_TRUE ? "on" : "off",
			 CFG_VALUE_MAX);
		return CTL_OK;
	}
	if (json_str_copy(js, t, c->value, CFG_VALUE_MAX, &e) >= 0)
		return check_text(c, key, c->value);
	if (e == JSON_E_NUL)
		return refuse(c, "'%s' must not contain control characters",
			      key);
	fmt_sn(c->msg, sizeof(c->msg), "'%s' is longer than %d bytes", key,
	       CFG_VALUE_MAX - 1);
	return CTL_E_VALUE;
}

/* Appends "key = <c->value>" to c->text, or the header if key is NULL. */
static enum ctl_code put_line(struct ctl *c, size_t *len, const char *key)
{
	size_t room = sizeof(c->text) - *len;
	size_t n = key ? (size_t)fmt_sn(c->text + *len, room, "%s = %s\n", key,
					c->value) :
		(size_t)fmt_sn(c->text + *len, room, "[vm %s]\n", c->value);

	if (n >= room) {        /* 10 lines of < 400 bytes: never */
		fmt_sn(c->msg, sizeof(c->msg), "create: request too large");
		return CTL_E_INTERNAL;
	}
	*len += n;
	return CTL_OK;
}

/* One key's line, or one line per value if its value is an array. */
static enum ctl_code put_key(struct ctl *c, const char *js, size_t *len,
			     const struct ctl_cfg_key *k)
{
	const struct json_tok *t = &c->toks[k->tok];
	enum ctl_code code;

	if (t->type != JSON_ARRAY) {
		if ((code = cfg_value(c, js, k->key, t)))
			return code;
		return put_line(c, len, k->key);
	}
	if (t->size > CTL_LIST_MAX) {
		fmt_sn(c->msg, sizeof(c->msg), "'%s' takes at most %d values",
		       k->key, CTL_LIST_MAX);
		return CTL_E_VALUE;
	}
	for (int i = k->tok + 1; i < t->next; i = c->toks[i].next)
		if ((code = cfg_value(c, js, k->key, &c->toks[i])) ||
		    (code = put_line(c, len, k->key)))
			return code;
	return CTL_OK;
}

enum ctl_code ctl_vm_config(struct ctl *c, const char *js, int name,
			    const struct ctl_cfg_key *set, int n,
			    const struct vm_config **vm)
{
	struct cfg_error err;
	enum ctl_code code;
	size_t len = 0;

	if ((code = cfg_value(c, js, "vm", &c->toks[name])) ||
	    (code = put_line(c, &len, NULL)))
		return code;
	for (int k = 0; k < n; k++)
		if ((code = put_key(c, js, &len, &set[k])))
			return code;
	if (config_parse(c->text, len, &c->cfg, &err)) {
		fmt_sn(c->msg, sizeof(c->msg), "%s", err.msg);
		return CTL_E_VALUE;
	}
	*vm = &c->cfg.vms[0];
	return CTL_OK;
}
