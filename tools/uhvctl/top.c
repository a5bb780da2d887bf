/*
 * uhvctl top and uhvctl record: sample every VM's stats each interval
 * (list, then stats per VM: docs/protocol.md) and turn two samples into
 * rates (stats.c). top shows them like top(1): the screen cleared with
 * plain ANSI codes when stdout is a terminal, successive tables otherwise
 * (so that a script can read them). record writes them as CSV rows,
 * and its progress on stderr.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include "tools/uhvctl/uhvctl.h"

#define SAMPLE_MAX_VMS   64
#define DEFAULT_INTERVAL 1.0            /* seconds */
#define KIB              1024.0
#define ANSI_HOME_CLEAR  "\033[H\033[2J"

struct sampler {
	struct client c;
	struct sample a[SAMPLE_MAX_VMS], b[SAMPLE_MAX_VMS];
	struct sample *prev, *cur;
	int nprev, ncur;
};

/* Takes a sample of every VM into s->cur (the old one becomes prev). */
static void sample_all(struct sampler *s)
{
	char names[SAMPLE_MAX_VMS][32], states[SAMPLE_MAX_VMS][16];
	json_object *r;
	struct sample *t = s->prev;
	int n;

	s->prev = s->cur;
	s->nprev = s->ncur;
	s->cur = t;
	s->ncur = 0;
	r = client_call(&s->c, "list", NULL, NULL, NULL);
	if (reply_status(r))
		exit(EXIT_UHV_ERROR);
	n = list_names(r, names, states, SAMPLE_MAX_VMS);
	json_object_put(r);
	for (int i = 0; i < n; i++) {
		json_object *a = json_object_new_object();

		json_object_object_add(a, "vm", json_object_new_string(names[i]));
		r = client_call(&s->c, "stats", a, NULL, NULL);
		/* a VM destroyed between list and stats is left out */
		if (json_object_get_boolean(json_object_object_get(r, "ok"))) {
			struct sample *c = &s->cur[s->ncur];

			sample_from_reply(c, r);
			memcpy(c->vm, names[i], sizeof(names[i]));
			/* an older uhv's stats have no state: list's */
			if (!j_has(r, "state"))
				memcpy(c->state, states[i], sizeof(states[i]));
			s->ncur++;
		}
		json_object_put(r);
	}
}

/* The previous sample of VM vm, or NULL. */
static const struct sample *prev_of(const struct sampler *s, const char *vm)
{
	for (int i = 0; i < s->nprev; i++)
		if (!strcmp(s->prev[i].vm, vm))
			return &s->prev[i];
	return NULL;
}

static void sampler_open(struct sampler *s, const struct opts *o)
{
	memset(s, 0, sizeof(*s));
	s->prev = s->a;
	s->cur = s->b;
	client_open(&s->c, o->addr, o->timeout >= 0 ? o->timeout
						    : UHVCTL_REPLY_TIMEOUT);
}

static void sleep_s(double t)
{
	struct timespec ts = { (time_t)t, (long)((t - floor(t)) * 1e9) };

	while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
		;
}

/* Parses a positive number of seconds (or a count), or exits. */
static double pos_num(const char *s, const char *what)
{
	char *end;
	double v = strtod(s, &end);

	if (*end || !(v > 0))
		die(EXIT_USAGE, "%s wants a positive number, not '%s'", what, s);
	return v;
}

/* One row of top: rates, or dashes for a VM seen for the first time. */
static void top_row(const struct sample *a, const struct sample *b)
{
	struct rates r;
	char cpu[16] = "-", top[128] = "";

	if (!a || !sample_rates(a, b, &r)) {
		printf("%-16s %-9s %6s %10s %9s %9s %9s %9s\n", b->vm, b->state,
		       "-", "-", "-", "-", "-", "-");
		return;
	}
	if (r.cpu_share >= 0)
		snprintf(cpu, sizeof(cpu), "%.1f", r.cpu_share * 100);
	for (int i = 0; i < r.nr_top; i++) {
		size_t n = strlen(top);

		snprintf(top + n, sizeof(top) - n, "%s%s %.0f", i ? ", " : "",
			 r.top[i].name, r.top[i].ps);
	}
	printf("%-16s %-9s %6s %10.0f %9.1f %9.1f %9.1f %9.1f  %s\n", b->vm,
	       b->state, cpu, r.exits_ps, r.disk_rd_Bps / KIB,
	       r.disk_wr_Bps / KIB, r.net_rx_Bps / KIB, r.net_tx_Bps / KIB, top);
}

static void top_screen(const struct sampler *s, bool tty, double interval)
{
	time_t now = time(NULL);
	char hms[16];

	strftime(hms, sizeof(hms), "%H:%M:%S", localtime(&now));
	if (tty)
		fputs(ANSI_HOME_CLEAR, stdout);
	printf("uhvctl top - %s, %d VMs, every %.1f s\n", hms, s->ncur,
	       interval);
	printf("%-16s %-9s %6s %10s %9s %9s %9s %9s  %s\n", "VM", "STATE",
	       "CPU%", "EXITS/s", "DISK_R/k", "DISK_W/k", "NET_RX/k",
	       "NET_TX/k", "TOP EXIT REASONS /s");
	for (int i = 0; i < s->ncur; i++)
		top_row(prev_of(s, s->cur[i].vm), &s->cur[i]);
	if (!tty)
		putchar('\n');
	fflush(stdout);
}

int top_main(const struct opts *o, int argc, char **argv)
{
	static const struct option lo[] = {
		{ "interval", 1, NULL, 'i' }, { "count", 1, NULL, 'n' }, { 0 }
	};
	double interval = DEFAULT_INTERVAL;
	long count = 0;         /* 0: until interrupted */
	struct sampler s;
	int ch;

	optind = 1;
	while ((ch = getopt_long(argc, argv, "", lo, NULL)) != -1) {
		if (ch == 'i')
			interval = pos_num(optarg, "--interval");
		else if (ch == 'n')
			count = (long)pos_num(optarg, "--count");
		else
			die(EXIT_USAGE, "usage: uhvctl top [--interval S] [--count N]");
	}
	if (optind != argc)
		die(EXIT_USAGE, "usage: uhvctl top [--interval S] [--count N]");
	sampler_open(&s, o);
	sample_all(&s);
	for (long i = 0; !count || i < count; i++) {
		sleep_s(interval);
		sample_all(&s);
		top_screen(&s, isatty(STDOUT_FILENO), interval);
	}
	client_close(&s.c);
	return EXIT_OK;
}

/* One CSV row per VM with a previous sample; how many were written. */
static long record_rows(FILE *f, const struct sampler *s)
{
	long rows = 0;

	for (int i = 0; i < s->ncur; i++) {
		const struct sample *b = &s->cur[i], *a = prev_of(s, b->vm);
		struct rates r;

		if (!a || !sample_rates(a, b, &r))
			continue;
		fprintf(f, "%.6f,%s,%s,", r.t_s, b->vm, b->state);
		if (r.cpu_share >= 0)
			fprintf(f, "%.4f", r.cpu_share);
		fprintf(f, ",%.1f", r.exits_ps);
		for (int k = 0; k < TOP_REASONS; k++) {
			if (k < r.nr_top)
				fprintf(f, ",%s,%.1f", r.top[k].name, r.top[k].ps);
			else
				fprintf(f, ",,");
		}
		fprintf(f, ",%.1f,%.1f,%.1f,%.1f\n", r.disk_rd_Bps,
			r.disk_wr_Bps, r.net_rx_Bps, r.net_tx_Bps);
		rows++;
	}
	fflush(f);
	return rows;
}

/*
 * Samples count times (0: until interrupted) into f, telling on stderr
 * how far it has come: a line at the start, one every
 * RECORD_PROGRESS_EVERY samples, and one at the end (a long record is
 * otherwise silent for its whole run).
 */
#define RECORD_PROGRESS_EVERY 10

static void record_loop(struct sampler *s, FILE *f, const char *path,
			double interval, long count)
{
	long rows = 0, i;

	fprintf(stderr, "uhvctl: record: a sample every %g s into %s, ", interval,
		path);
	if (count)
		fprintf(stderr, "%ld samples (%g s)\n", count, count * interval);
	else
		fprintf(stderr, "until interrupted (Ctrl-C)\n");
	sample_all(s);
	for (i = 0; !count || i < count; i++) {
		sleep_s(interval);
		sample_all(s);
		rows += record_rows(f, s);
		if ((i + 1) % RECORD_PROGRESS_EVERY == 0 && i + 1 != count)
			fprintf(stderr, "uhvctl: record: %ld samples, %ld rows\n",
				i + 1, rows);
	}
	fprintf(stderr, "uhvctl: record: done: %ld samples, %ld rows in %s\n",
		i, rows, path);
}

int record_main(const struct opts *o, int argc, char **argv)
{
	static const struct option lo[] = {
		{ "interval", 1, NULL, 'i' }, { "count", 1, NULL, 'n' },
		{ "duration", 1, NULL, 'd' }, { 0 }
	};
	static const char *usage = "usage: uhvctl record FILE [--interval S] "
				   "[--count N | --duration S]";
	double interval = DEFAULT_INTERVAL, duration = 0;
	long count = 0;
	struct sampler s;
	FILE *f;
	int ch;

	optind = 1;
	while ((ch = getopt_long(argc, argv, "", lo, NULL)) != -1) {
		if (ch == 'i')
			interval = pos_num(optarg, "--interval");
		else if (ch == 'n')
			count = (long)pos_num(optarg, "--count");
		else if (ch == 'd')
			duration = pos_num(optarg, "--duration");
		else
			die(EXIT_USAGE, "%s", usage);
	}
	if (optind != argc - 1 || (count && duration))
		die(EXIT_USAGE, "%s", usage);
	if (duration)
		count = (long)ceil(duration / interval);
	sampler_open(&s, o);
	if (!(f = fopen(argv[optind], "w")))
		die(EXIT_LOCAL, "cannot write %s: %s", argv[optind],
		    strerror(errno));
	fprintf(f, "t_s,vm,state,cpu_share,exits_per_s,reason1,reason1_per_s,"
		"reason2,reason2_per_s,reason3,reason3_per_s,disk_read_Bps,"
		"disk_write_Bps,net_rx_Bps,net_tx_Bps\n");
	record_loop(&s, f, argv[optind], interval, count);
	fclose(f);
	client_close(&s.c);
	return EXIT_OK;
}
