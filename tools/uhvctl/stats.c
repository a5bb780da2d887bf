/*
 * stats replies (docs/protocol.md, stats): printing one for people, and
 * turning two of the same VM into rates for top and record. Members that
 * an older uhv lacks (state, cpu_us, now_us, disks, nics) are optional:
 * rates fall back on the host's clock and a missing CPU time shows "-".
 */
#define _GNU_SOURCE
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "tools/uhvctl/uhvctl.h"

#define US_PER_S 1e6

/* The unsigned member key of o, or 0. */
static uint64_t j_u64(json_object *o, const char *key)
{
	json_object *v;

	if (!o || !json_object_object_get_ex(o, key, &v) ||
	    !json_object_is_type(v, json_type_int))
		return 0;
	return json_object_get_uint64(v);
}

/* The array member key of o, and its length in *n (0 if absent). */
static json_object *j_array(json_object *o, const char *key, size_t *n)
{
	json_object *v;

	*n = 0;
	if (!o || !json_object_object_get_ex(o, key, &v) ||
	    !json_object_is_type(v, json_type_array))
		return NULL;
	*n = json_object_array_length(v);
	return v;
}

void sample_from_reply(struct sample *s, json_object *r)
{
	json_object *br, *arr;
	size_t n;

	memset(s, 0, sizeof(*s));
	snprintf(s->vm, sizeof(s->vm), "%s", j_str(r, "vm", "?"));
	snprintf(s->state, sizeof(s->state), "%s", j_str(r, "state", "-"));
	s->host_t = mono_now();
	s->has_clock = j_has(r, "cpu_us") && j_has(r, "now_us");
	s->cpu_us = j_u64(r, "cpu_us");
	s->now_us = j_u64(r, "now_us");
	s->exits = j_u64(r, "exits");
	if (json_object_object_get_ex(r, "by_reason", &br) &&
	    json_object_is_type(br, json_type_object)) {
		json_object_object_foreach(br, key, val) {
			if (s->nr_reasons == REASONS_MAX)
				break;
			snprintf(s->reasons[s->nr_reasons].name,
				 sizeof(s->reasons[0].name), "%s", key);
			s->reasons[s->nr_reasons++].count =
				(uint64_t)json_object_get_int64(val);
		}
	}
	arr = j_array(r, "disks", &n);
	for (size_t i = 0; i < n; i++) {
		json_object *d = json_object_array_get_idx(arr, i);

		s->disk_rd += j_u64(d, "read_bytes");
		s->disk_wr += j_u64(d, "write_bytes");
	}
	arr = j_array(r, "nics", &n);
	for (size_t i = 0; i < n; i++) {
		json_object *d = json_object_array_get_idx(arr, i);

		s->net_rx += j_u64(d, "rx_bytes");
		s->net_tx += j_u64(d, "tx_bytes");
	}
}

/* A counter's growth; 0 if it went back (the VM restarted afresh). */
static double delta(uint64_t a, uint64_t b)
{
	return b >= a ? (double)(b - a) : 0;
}

/* Sorts r->top by rate, keeping the TOP_REASONS largest (nonzero). */
static void top_reasons(const struct sample *a, const struct sample *b,
			double dt, struct rates *r)
{
	r->nr_top = 0;
	for (int i = 0; i < b->nr_reasons; i++) {
		uint64_t before = 0;
		double ps;
		int j;

		for (j = 0; j < a->nr_reasons; j++)
			if (!strcmp(a->reasons[j].name, b->reasons[i].name))
				before = a->reasons[j].count;
		ps = delta(before, b->reasons[i].count) / dt;
		if (ps <= 0)
			continue;
		for (j = r->nr_top; j > 0 && r->top[j - 1].ps < ps; j--)
			if (j < TOP_REASONS)
				r->top[j] = r->top[j - 1];
		if (j < TOP_REASONS) {
			r->top[j].name = b->reasons[i].name;
			r->top[j].ps = ps;
			if (r->nr_top < TOP_REASONS)
				r->nr_top++;
		}
	}
}

bool sample_rates(const struct sample *a, const struct sample *b,
		  struct rates *r)
{
	bool uhv_clock = a->has_clock && b->has_clock && b->now_us > a->now_us;
	double dt = uhv_clock ? (double)(b->now_us - a->now_us) / US_PER_S
			      : b->host_t - a->host_t;

	memset(r, 0, sizeof(*r));
	if (dt <= 0)
		return false;
	r->t_s = uhv_clock ? (double)b->now_us / US_PER_S : b->host_t;
	r->cpu_share = uhv_clock ? delta(a->cpu_us, b->cpu_us) /
				   (double)(b->now_us - a->now_us) : -1;
	r->exits_ps = delta(a->exits, b->exits) / dt;
	top_reasons(a, b, dt, r);
	r->disk_rd_Bps = delta(a->disk_rd, b->disk_rd) / dt;
	r->disk_wr_Bps = delta(a->disk_wr, b->disk_wr) / dt;
	r->net_rx_Bps = delta(a->net_rx, b->net_rx) / dt;
	r->net_tx_Bps = delta(a->net_tx, b->net_tx) / dt;
	return true;
}

int list_names(json_object *reply, char names[][32], char states[][16],
	       int max)
{
	size_t n;
	json_object *vms = j_array(reply, "vms", &n);
	int k = 0;

	for (size_t i = 0; i < n && k < max; i++, k++) {
		json_object *v = json_object_array_get_idx(vms, i);

		snprintf(names[k], 32, "%s", j_str(v, "vm", "?"));
		if (states)
			snprintf(states[k], 16, "%s", j_str(v, "state", "-"));
	}
	return k;
}
