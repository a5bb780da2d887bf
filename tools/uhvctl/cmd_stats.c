/*
 * uhvctl stats [VM]: one VM's counters (docs/protocol.md, stats) for
 * people, or every VM's: stats without a VM is not a protocol command,
 * so it is list, then stats per VM. With --json each reply line is
 * printed as uhv sent it, one per line.
 */
#define _GNU_SOURCE
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "tools/uhvctl/uhvctl.h"

#define STATS_MAX_VMS 64

/* Members shown by the code below; any other is printed as it is. */
static const char *const known[] = {
	"id", "ok", "vm", "state", "exits", "slices", "cpu_us", "now_us",
	"by_reason", "disks", "nics", NULL
};

static const char *str_of(json_object *v)
{
	if (json_object_is_type(v, json_type_string))
		return json_object_get_string(v);
	return json_object_to_json_string_ext(v, JSON_C_TO_STRING_PLAIN |
					      JSON_C_TO_STRING_NOSLASHESCAPE);
}

/* A table of an array of objects: one column per listed member. */
static void print_table(json_object *r, const char *key,
			const char *const *cols)
{
	json_object *arr;
	size_t n;

	if (!json_object_object_get_ex(r, key, &arr) ||
	    !json_object_is_type(arr, json_type_array))
		return;
	n = json_object_array_length(arr);
	if (!n)
		return;
	printf("%s:\n ", key);
	for (int c = 0; cols[c]; c++)
		printf(" %12s", cols[c]);
	putchar('\n');
	for (size_t i = 0; i < n; i++) {
		json_object *row = json_object_array_get_idx(arr, i), *v;

		putchar(' ');
		for (int c = 0; cols[c]; c++)
			printf(" %12s", json_object_object_get_ex(row, cols[c], &v)
			       ? str_of(v) : "-");
		putchar('\n');
	}
}

static void print_stats(json_object *r)
{
	static const char *const disk_cols[] = {
		"name", "reads", "writes", "read_bytes", "write_bytes", NULL };
	static const char *const nic_cols[] = {
		"mac", "network", "tx_frames", "tx_bytes", "rx_frames",
		"rx_bytes", "drops", NULL };
	struct sample s;

	sample_from_reply(&s, r);
	printf("VM %s: %s\n", s.vm, s.state);
	printf("exits:     %" PRIu64 "\n", s.exits);
	printf("slices:    %" PRId64 "\n", j_int(r, "slices", 0));
	if (j_has(r, "cpu_us"))
		printf("cpu time:  %.6f s\n", (double)s.cpu_us / 1e6);
	if (j_has(r, "now_us"))
		printf("uhv clock: %.6f s\n", (double)s.now_us / 1e6);
	if (s.nr_reasons)
		printf("by reason:\n");
	for (int i = 0; i < s.nr_reasons; i++)
		printf("  %-24s %" PRIu64 "\n", s.reasons[i].name,
		       s.reasons[i].count);
	print_table(r, "disks", disk_cols);
	print_table(r, "nics", nic_cols);
	json_object_object_foreach(r, key, val) {
		bool shown = false;

		for (int i = 0; known[i]; i++)
			shown |= !strcmp(known[i], key);
		if (!shown)
			printf("%s: %s\n", key, str_of(val));
	}
}

/* stats of one VM: its exit status; prints the reply. */
static int stats_one(const struct opts *o, struct client *c, const char *vm,
		     bool row)
{
	json_object *a = json_object_new_object(), *r;
	char *raw = NULL;
	int st;

	json_object_object_add(a, "vm", json_object_new_string(vm));
	r = client_call(c, "stats", a, &raw, NULL);
	st = reply_status(r);
	if (o->json) {
		puts(raw);
	} else if (!st && row) {
		char cpu[32] = "-";

		if (j_has(r, "cpu_us"))
			snprintf(cpu, sizeof(cpu), "%.3f",
				 (double)j_int(r, "cpu_us", 0) / 1e6);
		printf(" %-16s %-9s %14" PRId64 " %10" PRId64 " %12s\n", vm,
		       j_str(r, "state", "-"), j_int(r, "exits", 0),
		       j_int(r, "slices", 0), cpu);
	} else if (!st) {
		print_stats(r);
	}
	free(raw);
	json_object_put(r);
	return st;
}

int cmd_stats(const struct opts *o, struct client *c, const char *vm)
{
	char names[STATS_MAX_VMS][32];
	json_object *r;
	char *raw = NULL;
	int n, st, worst = EXIT_OK;

	if (vm)
		return stats_one(o, c, vm, false);
	r = client_call(c, "list", NULL, &raw, NULL);
	st = reply_status(r);
	n = st ? 0 : list_names(r, names, NULL, STATS_MAX_VMS);
	free(raw);
	json_object_put(r);
	if (st)
		return st;
	if (!o->json) {
		printf(" %-16s %-9s %14s %10s %12s\n", "Name", "State", "Exits",
		       "Slices", "CPU_s");
		printf("-----------------------------------------------------"
		       "-------------\n");
	}
	for (int i = 0; i < n; i++) {
		/* a VM destroyed meanwhile is no_such_vm: go on */
		st = stats_one(o, c, names[i], true);
		if (st && st != EXIT_UHV_ERROR)
			return st;
		if (st)
			worst = st;
	}
	return worst;
}
