/*
 * uhvctl plot FILE [-o PNG] [--script GP]: draws a record (top.c's CSV)
 * with gnuplot into a PNG: three panels, one above the other, against
 * uhv's clock: each VM's CPU share, its exits per second, and its disk
 * and network rates. The panels share one time axis (the same x range
 * and the same left and right margins, so a moment lines up across
 * them) and count up from 0 (rates are never negative: an idle VM draws
 * a flat line at 0, not one in the middle of [-1:1]). uhvctl writes a
 * gnuplot script (kept with --script) and runs gnuplot on it. The PNG
 * terminal is pngcairo when gnuplot has it (Debian's gnuplot-nox does),
 * else the libgd png terminal.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>
#include "tools/uhvctl/uhvctl.h"

#define PLOT_MAX_VMS 64
#define PLOT_SIZE    "1000,1000"
/* the panels' edges, as fractions of the image: the same for every
   panel, whatever its tick labels' width, so their time axes line up;
   the key (each line's title) goes right of the right edge */
#define PLOT_LMARGIN 0.10
#define PLOT_RMARGIN 0.74
/* the record's columns (top.c, record_main), counted from 1 */
#define COL_T        1
#define COL_VM       2
#define COL_CPU      4
#define COL_EXITS    5
#define COL_DISK_RD  12
#define COL_DISK_WR  13
#define COL_NET_RX   14
#define COL_NET_TX   15
#define PERCENT      0.01       /* cpu_share / PERCENT: per cent */
#define KIB_BYTES    1024       /* bytes/s / KIB_BYTES: KiB/s */

/* What record_vms finds: the VMs, the rows, the time span. */
struct record_info {
	int rows;
	double t_min, t_max;
};

/* The distinct VM names of the record (column 2), in order of first
   appearance, and in *ri its rows and the span of its times (column 1);
   their number, or -1 if the file cannot be read. */
static int record_vms(const char *path, char vms[][32], int max,
		      struct record_info *ri)
{
	FILE *f = fopen(path, "r");
	char line[1024];
	int n = 0;

	*ri = (struct record_info){ 0 };
	if (!f)
		return -1;
	if (!fgets(line, sizeof(line), f) || strncmp(line, "t_s,vm,", 7)) {
		fclose(f);
		errno = EINVAL;
		return -1;
	}
	while (fgets(line, sizeof(line), f)) {
		char *vm = strchr(line, ','), *end;
		double t = strtod(line, NULL);
		int i;

		if (!vm || !(end = strchr(++vm, ',')) || end - vm >= 32)
			continue;
		*end = 0;
		ri->t_min = ri->rows ? fmin(ri->t_min, t) : t;
		ri->t_max = ri->rows ? fmax(ri->t_max, t) : t;
		ri->rows++;
		for (i = 0; i < n && strcmp(vms[i], vm); i++)
			;
		if (i == n && n < max)
			snprintf(vms[n++], 32, "%s", vm);
	}
	fclose(f);
	return n;
}

/* Does this gnuplot have the terminal? (`set terminal` lists them.) */
static bool has_terminal(const char *name)
{
	FILE *p = popen("gnuplot -e 'set terminal' 2>&1", "r");
	char line[256];
	bool found = false;

	if (!p)
		return false;
	while (fgets(line, sizeof(line), p))
		if (sscanf(line, " %255s", line) == 1 && !strcmp(line, name))
			found = true;
	pclose(p);
	return found;
}

/* One panel: its title and axis label, and the columns it draws for
   every VM (divided by div), each with its title after the VM's name. */
struct panel {
	const char *title, *ylabel;
	int ncols;
	int cols[4];
	const char *what[4];
	double div;
};

static const struct panel panels[] = {
	{ "CPU share", "% of the CPU", 1, { COL_CPU }, { "" }, PERCENT },
	{ "VM exits per second", "exits/s", 1, { COL_EXITS }, { "" }, 1 },
	{ "I/O rates", "KiB/s", 4,
	  { COL_DISK_RD, COL_DISK_WR, COL_NET_RX, COL_NET_TX },
	  { " disk read", " disk write", " net rx", " net tx" }, KIB_BYTES },
};

/* One panel's plot command: its columns for every VM. */
static void plot_panel(FILE *g, const char *csv, char vms[][32], int n,
		       const struct panel *p)
{
	const char *sep = "plot ";

	fprintf(g, "set title '%s'\nset ylabel '%s'\n", p->title, p->ylabel);
	for (int i = 0; i < n; i++) {
		for (int k = 0; k < p->ncols; k++) {
			fprintf(g, "%s'%s' every ::1 using %d:(strcol(%d) eq "
				"\"%s\" ? $%d/%g : NaN) with linespoints "
				"title '%s%s'", sep, csv, COL_T, COL_VM, vms[i],
				p->cols[k], p->div, vms[i], p->what[k]);
			sep = ", \\\n     ";
		}
	}
	fprintf(g, "\n");
}

/* The settings every panel shares: the time axis (its range and the
   panels' left and right edges) and y counting up from 0. */
static void shared_axes(FILE *g, const struct record_info *ri)
{
	fprintf(g, "set lmargin at screen %g\nset rmargin at screen %g\n",
		PLOT_LMARGIN, PLOT_RMARGIN);
	if (ri->t_max > ri->t_min)
		fprintf(g, "set xrange [%.6f:%.6f]\n", ri->t_min, ri->t_max);
	/* a flat line at the top of the range would hide in the border:
	   5% of room above it (none below: 0 stays the bottom) */
	fprintf(g, "set xlabel 'uhv time (s)'\nset yrange [0:*]\n"
		"set offsets 0, 0, graph 0.05, 0\n");
}

static void write_script(FILE *g, const char *csv, const char *png,
			 char vms[][32], int n, const struct record_info *ri)
{
	fprintf(g, "# generated by uhvctl plot from %s\n", csv);
	fprintf(g, "set terminal %s size %s\n", has_terminal("pngcairo") ?
		"pngcairo" : "png", PLOT_SIZE);
	fprintf(g, "set output '%s'\nset datafile separator ','\n", png);
	fprintf(g, "set key outside right\nset grid\n");
	fprintf(g, "set multiplot layout %zu,1 title 'uhv: %s'\n",
		sizeof(panels) / sizeof(panels[0]), csv);
	shared_axes(g, ri);
	for (size_t i = 0; i < sizeof(panels) / sizeof(panels[0]); i++)
		plot_panel(g, csv, vms, n, &panels[i]);
	fprintf(g, "unset multiplot\n");
}

/* Runs gnuplot on the script; its exit status (-1: not run). Its
   complaints are shown only if it fails: a VM whose rates are all zero
   draws a flat line, and gnuplot warns about the empty range. */
static int run_gnuplot(const char *script)
{
	FILE *err = tmpfile();
	pid_t pid = err ? fork() : -1;
	int st;

	if (pid < 0)
		return -1;
	if (pid == 0) {
		dup2(fileno(err), STDERR_FILENO);
		execlp("gnuplot", "gnuplot", script, (char *)NULL);
		_exit(127);
	}
	if (waitpid(pid, &st, 0) < 0 || !WIFEXITED(st))
		st = -1;
	else
		st = WEXITSTATUS(st);
	if (st) {
		char line[512];

		rewind(err);
		while (fgets(line, sizeof(line), err))
			fputs(line, stderr);
	}
	fclose(err);
	return st;
}

int plot_main(int argc, char **argv)
{
	static const struct option lo[] = {
		{ "output", 1, NULL, 'o' }, { "script", 1, NULL, 's' }, { 0 }
	};
	char vms[PLOT_MAX_VMS][32], *png = NULL, tmp[] = "/tmp/uhvctl-plot.XXXXXX";
	const char *script = NULL, *csv;
	struct record_info ri;
	int ch, n, fd, st;
	FILE *g;

	optind = 1;
	while ((ch = getopt_long(argc, argv, "o:", lo, NULL)) != -1) {
		if (ch == 'o')
			png = strdup(optarg);
		else if (ch == 's')
			script = optarg;
		else
			die(EXIT_USAGE, "usage: uhvctl plot FILE [-o PNG] [--script GP]");
	}
	if (optind != argc - 1)
		die(EXIT_USAGE, "usage: uhvctl plot FILE [-o PNG] [--script GP]");
	csv = argv[optind];
	if (!png && asprintf(&png, "%.*s.png", (int)(strrchr(csv, '.') &&
		     !strchr(strrchr(csv, '.'), '/') ? strrchr(csv, '.') - csv
		     : (long)strlen(csv)), csv) < 0)
		die(EXIT_LOCAL, "out of memory");
	if (strchr(csv, '\'') || strchr(png, '\''))
		die(EXIT_USAGE, "plot: file names must not contain a quote");
	n = record_vms(csv, vms, PLOT_MAX_VMS, &ri);
	if (n < 0)
		die(EXIT_LOCAL, "cannot read the record %s: %s", csv,
		    errno == EINVAL ? "not a uhvctl record" : strerror(errno));
	if (n == 0)
		die(EXIT_LOCAL, "the record %s has no samples", csv);
	fd = script ? open(script, O_WRONLY | O_CREAT | O_TRUNC, 0644)
		    : mkstemp(tmp);
	if (fd < 0 || !(g = fdopen(fd, "w")))
		die(EXIT_LOCAL, "cannot write the gnuplot script: %s",
		    strerror(errno));
	write_script(g, csv, png, vms, n, &ri);
	fclose(g);
	st = run_gnuplot(script ? script : tmp);
	if (!script)
		unlink(tmp);
	if (st != 0)
		die(EXIT_LOCAL, "gnuplot failed (status %d); is gnuplot-nox "
		    "installed?", st);
	printf("%s: %d VMs, %d samples\n", png, n, ri.rows);
	free(png);
	return EXIT_OK;
}
