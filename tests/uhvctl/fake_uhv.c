/*
 * A fake uhv for uhvctl's host tests: uhv's own protocol code (vmm/ctl*.c,
 * vmm/json*.c, vmm/config.c) behind a simulated VM manager, on a TCP port
 * that takes one connection, as Bochs's COM2 socket does
 * (docs/protocol.md, Transport). It greets, answers requests and writes
 * events as uhv does; its VMs' counters advance with the host's clock
 * while they run, so rates can be measured.
 *
 *   fake_uhv PORT     listens on 127.0.0.1:PORT; exits when the client
 *                     closes the connection
 *   fake_uhv --pty F  serves on a pseudo-terminal instead, as uhv on the
 *                     far end of a serial cable: writes the device's path
 *                     (/dev/pts/N) into file F and greets once it is open
 *
 * The simulated VMs: "alpha" (running, guest agent connected) and "beta"
 * (running); a VM created with the image "agent.elf" gets an agent once
 * it runs. A stop with a
 * timeout powers off 300 ms later (vm_stopped, result poweroff); timeout
 * 0 at once. Every VM has a disk NAME.img and a NIC on network "lan"
 * whose counters grow with it; its CPU time is half the time it ran.
 * shutdown stops every VM and ends the program. The agent answers {"pong":1} to any message, except that
 * the message "lose" makes it vanish (agent_lost).
 * A running VM whose trace is on (create's "trace", or the trace command)
 * exits every TRACE_EVERY_US into uhv's own exit trace ring
 * (vmm/trace/exit_trace.c): odd records a CPUID (leaf 1) at rip 0x100010,
 * even ones an OUT to 0x3f8 at rip 0x100020.
 * The gdb command reaches a tiny gdb stub (one for all VMs) that
 * acknowledges each packet ('+') and answers "$OK#9a", except: "c"
 * (continue) gets its stop reply GDB_STOP_US later, as a gdb event;
 * "qLong" gets GDB_LONG digits, more than one reply holds ("more");
 * "E<bytes>" gets the bytes back, whatever their values; Ctrl-C (0x03)
 * gets "$S02#b5". A VM made from the image "nogdb.elf" has no stub
 * (internal_error). FAKE_GDB_LOG=FILE: every byte gdb sent is appended
 * to FILE.
 */
#define _GNU_SOURCE
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <stdbool.h>
#include <termios.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>
#include "vmm/ctl/ctl.h"

#define FAKE_VERSION     "0.1-fake"
#define STOP_DELAY_US    300000         /* a graceful stop's duration */
#define TICK_MS          50
#define EXITS_PER_MS     10             /* a running VM's exit rate */
#define CPU_SHARE_PCT    50             /* of the time it is running */
#define DISK_RD_PER_MS   4096           /* bytes per ms of running */
#define DISK_WR_PER_MS   2048
#define NET_TX_PER_MS    1500
#define NET_RX_PER_MS    1000
#define SECTOR           512
#define FRAME            1000           /* bytes of a simulated frame */
#define TRACE_EVERY_US   5000           /* a traced exit every 5 ms */
#define TRACE_TSC_PER_US 3000           /* a 3 GHz TSC, for deltas */
#define REASON_CPUID     10
#define REASON_IO        30
#define GDB_OUT_MAX      8192           /* the stub's bytes for gdb */
#define GDB_PKT_MAX      2048           /* a packet's payload */
#define GDB_SUM_DIGITS   2              /* "#xx" after a payload */
#define GDB_STOP_US      200000         /* a continue runs this long */
#define GDB_LONG         3000           /* qLong's answer */
#define GDB_INTERRUPT    0x03
#define GDB_STOP         "T05thread:01;"        /* a breakpoint's reply */
#define GDB_CTRL_C_STOP  "S02"

struct fvm {
	bool used;
	struct vm_config cfg;
	enum ctl_vm_state state;
	bool agent;
	const char *result;
	u32 status;
	char why[CTL_MSG_MAX];
	u64 run_us;                     /* time it has been running */
	u64 stop_at;                    /* stopping: power off then (µs) */
	u64 slices;
	struct trace trace;             /* emptied at each start */
	struct trace_rec recs[TRACE_RECORDS];
	u64 trace_us;                   /* running time not yet traced */
};

static struct fvm vms[CTL_MAX_VMS];
static u64 last_tick, boot_us;
static bool powering_off;               /* shutdown: after the reply */
static int conn = -1;
static char pty_path[64];               /* --pty: the far end's device */
static struct ctl ctl;
static char *pending;           /* an event to send after the reply */

static u64 now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (u64)ts.tv_sec * 1000000 + (u64)ts.tv_nsec / 1000;
}

static void send_line(const char *out, int len)
{
	if (len > 0 && write(conn, out, (size_t)len) != len)
		exit(0);
}

static struct fvm *find(const char *name)
{
	for (int i = 0; i < CTL_MAX_VMS; i++)
		if (vms[i].used && !strcmp(vms[i].cfg.name, name))
			return &vms[i];
	return NULL;
}

static struct fvm *add(const char *name, const char *image, bool agent)
{
	for (int i = 0; i < CTL_MAX_VMS; i++) {
		struct fvm *v = &vms[i];

		if (v->used)
			continue;
		*v = (struct fvm){ .used = true, .state = CTL_VM_CREATED,
				   .agent = agent };
		snprintf(v->cfg.name, sizeof(v->cfg.name), "%s", name);
		snprintf(v->cfg.image, sizeof(v->cfg.image), "%s", image);
		v->cfg.memory = CFG_MEM_DEFAULT;
		v->cfg.cpus = 1;
		return v;
	}
	return NULL;
}

/* The VM is off: state, result, the vm_stopped event. */
static void power_off(struct fvm *v, const char *result, const char *why)
{
	char out[CTL_REPLY_MAX];

	v->state = CTL_VM_STOPPED;
	v->result = result;
	v->status = 0;
	v->agent = false;
	snprintf(v->why, sizeof(v->why), "%s", why);
	send_line(out, ctl_event_vm_stopped(out, sizeof(out), v->cfg.name,
					    result, 0, why));
}

/* d µs of running: a traced exit every TRACE_EVERY_US of them. */
static void trace_run(struct fvm *v, u64 d)
{
	if (v->cfg.trace == CFG_TRACE_OFF || !v->trace.recs)
		return;
	for (v->trace_us += d; v->trace_us >= TRACE_EVERY_US;
	     v->trace_us -= TRACE_EVERY_US) {
		u64 seq = trace_newest(&v->trace) + 1;
		struct trace_rec *r = trace_add(&v->trace,
						seq * TRACE_EVERY_US * TRACE_TSC_PER_US);
		bool cpuid = seq % 2;

		r->reason = cpuid ? REASON_CPUID : REASON_IO;
		r->kind = cpuid ? TRACE_CPUID : TRACE_IO;
		r->rip = cpuid ? 0x100010 : 0x100020;
		r->detail = cpuid ? 1 : 0x3f8;
		r->aux = cpuid ? 0 : 1;
	}
}

/* ---- the gdb stub ---- */

static struct {
	u8 out[GDB_OUT_MAX];            /* bytes for gdb, not yet taken */
	size_t out_len;
	char pkt[GDB_PKT_MAX];          /* the payload coming in */
	size_t pkt_len;
	bool in_pkt;
	int sum_left;                   /* checksum digits still to come */
	char vm[CFG_NAME_MAX];          /* the VM of the last request */
	u64 stop_at;                    /* a continue's stop is due (0: none) */
} stub;

/* A packet with payload p[0..n) into dst (room for n + 5: "$", "#xx"
   and a NUL); its length, the NUL left out. */
static size_t gdb_packet(char *dst, const char *p, size_t n)
{
	u8 sum = 0;

	for (size_t i = 0; i < n; i++)
		sum = (u8)(sum + (u8)p[i]);
	dst[0] = '$';
	memcpy(dst + 1, p, n);
	snprintf(dst + 1 + n, GDB_SUM_DIGITS + 2, "#%02x", sum);
	return n + GDB_SUM_DIGITS + 2;
}

/* A packet for gdb, after what it has (dropped if there is no room). */
static void gdb_put(const char *p, size_t n)
{
	static char pkt[GDB_OUT_MAX + GDB_SUM_DIGITS + 3];
	size_t k = gdb_packet(pkt, p, n);

	if (stub.out_len + k <= GDB_OUT_MAX) {
		memcpy(stub.out + stub.out_len, pkt, k);
		stub.out_len += k;
	}
}

/* A whole packet came: its '+' and its answer. */
static void gdb_answer(void)
{
	static char digits[GDB_LONG];
	const char *p = stub.pkt;
	size_t n = stub.pkt_len;

	if (stub.out_len < GDB_OUT_MAX)
		stub.out[stub.out_len++] = '+';
	if (n == 1 && p[0] == 'c') {
		stub.stop_at = now_us() + GDB_STOP_US;
	} else if (n == 5 && !memcmp(p, "qLong", n)) {
		for (size_t i = 0; i < GDB_LONG; i++)
			digits[i] = (char)('0' + i % 10);
		gdb_put(digits, GDB_LONG);
	} else if (n && p[0] == 'E') {
		gdb_put(p + 1, n - 1);
	} else {
		gdb_put("OK", 2);
	}
}

/* One byte from gdb: packets are "$payload#xx" (the checksum is not
   checked); acknowledgements between them are ignored. */
static void gdb_byte(u8 c)
{
	if (stub.sum_left) {
		if (--stub.sum_left == 0)
			gdb_answer();
	} else if (stub.in_pkt && c == '#') {
		stub.in_pkt = false;
		stub.sum_left = GDB_SUM_DIGITS;
	} else if (stub.in_pkt) {
		if (stub.pkt_len < GDB_PKT_MAX)
			stub.pkt[stub.pkt_len++] = (char)c;
	} else if (c == '$') {
		stub.in_pkt = true;
		stub.pkt_len = 0;
	} else if (c == GDB_INTERRUPT) {
		gdb_put(GDB_CTRL_C_STOP, strlen(GDB_CTRL_C_STOP));
	}
}

/* FAKE_GDB_LOG: what gdb sent, appended. */
static void gdb_log(const u8 *in, size_t len)
{
	const char *path = getenv("FAKE_GDB_LOG");
	FILE *f = path && len ? fopen(path, "ab") : NULL;

	if (f) {
		fwrite(in, 1, len, f);
		fclose(f);
	}
}

/* A continue's stop, when due: the stop reply as a gdb event. */
static void gdb_tick(u64 now)
{
	char pkt[sizeof(GDB_STOP) + GDB_SUM_DIGITS + 2], out[CTL_REPLY_MAX];
	struct fvm *v = find(stub.vm);
	size_t n;

	if (!stub.stop_at || now < stub.stop_at)
		return;
	stub.stop_at = 0;
	if (!v || v->state != CTL_VM_RUNNING)
		return;
	n = gdb_packet(pkt, GDB_STOP, strlen(GDB_STOP));
	send_line(out, ctl_event_gdb(out, sizeof(out), stub.vm, (u8 *)pkt, n));
}

/* Time passes: running VMs run; stopping ones power off when due. */
static void tick(void)
{
	u64 now = now_us(), d = now - last_tick;

	last_tick = now;
	for (int i = 0; i < CTL_MAX_VMS; i++) {
		struct fvm *v = &vms[i];

		if (!v->used)
			continue;
		if (v->state == CTL_VM_RUNNING || v->state == CTL_VM_STOPPING) {
			v->run_us += d;
			v->slices += d / 1000;
			trace_run(v, d);
		}
		if (v->state == CTL_VM_STOPPING && now >= v->stop_at)
			power_off(v, "poweroff", "ACPI power off (S5)");
	}
	gdb_tick(now);
}

/* ---- the manager (struct ctl_ops) ---- */

static int f_list(void *ctx, struct ctl_vm_brief *out, int max)
{
	int n = 0;

	(void)ctx;
	for (int i = 0; i < CTL_MAX_VMS && n < max; i++) {
		if (!vms[i].used)
			continue;
		snprintf(out[n].name, sizeof(out[n].name), "%s", vms[i].cfg.name);
		out[n++].state = vms[i].state;
	}
	return n;
}

static bool f_info(void *ctx, const char *vm, struct ctl_vm_info *info)
{
	struct fvm *v = find(vm);

	(void)ctx;
	if (!v)
		return false;
	memset(info, 0, sizeof(*info));
	info->state = v->state;
	info->cfg = v->cfg;
	info->agent = v->agent;
	info->result = v->state == CTL_VM_STOPPED ? v->result : NULL;
	info->status = v->status;
	snprintf(info->why, sizeof(info->why), "%s", v->why);
	return true;
}

static enum ctl_code f_create(void *ctx, const struct vm_config *cfg,
			      char *msg)
{
	struct fvm *v = add(cfg->name, cfg->image, false);

	(void)ctx;
	if (!v) {
		snprintf(msg, CTL_MSG_MAX, "all %d VM slots are in use",
			 CTL_MAX_VMS);
		return CTL_E_NO_ROOM;
	}
	v->cfg = *cfg;
	return CTL_OK;
}

static enum ctl_code f_start(void *ctx, const char *vm, char *msg)
{
	struct fvm *v = find(vm);
	char out[CTL_REPLY_MAX];

	(void)ctx;
	(void)msg;
	v->state = CTL_VM_RUNNING;
	v->run_us = 0;
	v->slices = 0;
	trace_init(&v->trace, v->recs);
	v->trace_us = 0;
	v->agent = !strcmp(v->cfg.image, "agent.elf") ||
		   !strcmp(v->cfg.name, "alpha");
	send_line(out, ctl_event_vm_started(out, sizeof(out), vm));
	return CTL_OK;
}

static enum ctl_code f_pause(void *ctx, const char *vm, char *msg)
{
	(void)ctx;
	(void)msg;
	find(vm)->state = CTL_VM_PAUSED;
	return CTL_OK;
}

static enum ctl_code f_resume(void *ctx, const char *vm, char *msg)
{
	(void)ctx;
	(void)msg;
	find(vm)->state = CTL_VM_RUNNING;
	return CTL_OK;
}

static enum ctl_code f_stop(void *ctx, const char *vm, u32 timeout_s,
			    char *msg)
{
	struct fvm *v = find(vm);

	(void)ctx;
	(void)msg;
	if (!timeout_s) {
		power_off(v, "halted", "stopped by the management client");
		return CTL_OK;
	}
	v->state = CTL_VM_STOPPING;
	v->stop_at = now_us() + STOP_DELAY_US;
	return CTL_OK;
}

static enum ctl_code f_destroy(void *ctx, const char *vm, char *msg)
{
	(void)ctx;
	(void)msg;
	find(vm)->used = false;
	return CTL_OK;
}

/* A simulated disk and NIC, their counters grown with the time it ran. */
static void io_stats(const struct fvm *v, u64 ms, struct ctl_vm_stats *st)
{
	struct ctl_disk_stats *d = &st->disks[0];
	struct ctl_nic_stats *n = &st->nics[0];
	int idx = (int)(v - vms);

	st->nr_disks = 1;
	snprintf(d->name, sizeof(d->name), "%s.img", v->cfg.name);
	d->read_bytes = ms * DISK_RD_PER_MS;
	d->write_bytes = ms * DISK_WR_PER_MS;
	d->reads = d->read_bytes / SECTOR;
	d->writes = d->write_bytes / SECTOR;
	st->nr_nics = 1;
	memcpy(n->mac, (const u8[6]){ 0x02, 0, 0, 0, 0, (u8)(idx + 1) }, 6);
	snprintf(n->network, sizeof(n->network), "lan");
	n->tx_bytes = ms * NET_TX_PER_MS;
	n->rx_bytes = ms * NET_RX_PER_MS;
	n->tx_frames = n->tx_bytes / FRAME;
	n->rx_frames = n->rx_bytes / FRAME;
}

/* Exits by reason in fixed shares of the total: 60% I/O, 30% timer,
   10% HLT; the counters grow with the time the VM ran. */
static bool f_stats(void *ctx, const char *vm, struct ctl_vm_stats *st)
{
	static const char *const names[] = { "IO_INSTRUCTION",
		"PREEMPTION_TIMER", "HLT" };
	static const int share[] = { 60, 30, 10 };
	struct fvm *v = find(vm);
	u64 ms;

	(void)ctx;
	if (!v)
		return false;
	tick();
	ms = v->run_us / 1000;
	memset(st, 0, sizeof(*st));
	st->state = v->state;
	st->cpu_us = v->run_us * CPU_SHARE_PCT / 100;
	st->now_us = last_tick - boot_us;
	st->exits = ms * EXITS_PER_MS;
	st->slices = v->slices;
	for (int i = 0; i < 3 && ms; i++) {
		st->reasons[i].name = names[i];
		st->reasons[i].count = st->exits * (u64)share[i] / 100;
		st->nr_reasons++;
	}
	io_stats(v, ms, st);
	return true;
}

/* Every VM stops; the program ends once the reply is out. */
static enum ctl_code f_shutdown(void *ctx, char *msg)
{
	(void)ctx;
	(void)msg;
	for (int i = 0; i < CTL_MAX_VMS; i++)
		if (vms[i].used && vms[i].state != CTL_VM_STOPPED &&
		    vms[i].state != CTL_VM_CREATED)
			power_off(&vms[i], "poweroff", "uhv shuts down");
	powering_off = true;
	return CTL_OK;
}

static enum ctl_code f_agent(void *ctx, const char *vm, u64 id,
			     const char *data, size_t len, char *msg)
{
	static const char pong[] = "{\"pong\":1}";
	struct fvm *v = find(vm);
	char out[CTL_REPLY_MAX];

	(void)ctx;
	(void)msg;
	/* the answer comes after the reply: queued as an event line */
	if (len == 4 && !memcmp(data, "lose", 4)) {
		v->agent = false;
		ctl_event_agent_lost(out, sizeof(out), vm);
	} else {
		ctl_event_agent_message(out, sizeof(out), vm, id, pong,
					sizeof(pong) - 1);
	}
	free(pending);
	pending = strdup(out);
	return CTL_OK;
}

static const char *reason_name(u32 r)
{
	return r == REASON_CPUID ? "CPUID" : r == REASON_IO ? "IO_INSTRUCTION" :
		"UNKNOWN";
}

static bool f_trace(void *ctx, const char *vm, struct ctl_trace *tr)
{
	struct fvm *v = find(vm);

	(void)ctx;
	if (!v)
		return false;
	tick();
	tr->mode = v->cfg.trace;
	tr->ring = &v->trace;
	tr->reason_name = reason_name;
	return true;
}

/* As uhv: the VM's config key; on again, the next delta is 0. */
static enum ctl_code f_trace_set(void *ctx, const char *vm, bool on,
				 char *msg)
{
	struct fvm *v = find(vm);

	(void)ctx;
	(void)msg;
	if (on && v->cfg.trace == CFG_TRACE_OFF) {
		v->cfg.trace = CFG_TRACE_ON;
		trace_restart_clock(&v->trace);
		v->trace_us = 0;
	} else if (!on) {
		v->cfg.trace = CFG_TRACE_OFF;
	}
	return CTL_OK;
}

/* gdb's bytes to the stub, and its bytes for gdb, out_max at a time. */
static enum ctl_code f_gdb(void *ctx, const char *vm, const u8 *in,
			   size_t len, u8 *out, size_t out_max,
			   size_t *out_len, bool *more, char *msg)
{
	(void)ctx;
	if (!strcmp(find(vm)->cfg.image, "nogdb.elf")) {
		snprintf(msg, CTL_MSG_MAX, "VM '%s' has no gdb stub", vm);
		return CTL_E_INTERNAL;
	}
	gdb_log(in, len);
	snprintf(stub.vm, sizeof(stub.vm), "%s", vm);
	for (size_t i = 0; i < len; i++)
		gdb_byte(in[i]);
	*out_len = stub.out_len < out_max ? stub.out_len : out_max;
	memcpy(out, stub.out, *out_len);
	stub.out_len -= *out_len;
	memmove(stub.out, stub.out + *out_len, stub.out_len);
	*more = stub.out_len > 0;
	return CTL_OK;
}

static const struct ctl_ops ops = {
	.list = f_list, .info = f_info, .create = f_create, .start = f_start,
	.pause = f_pause, .resume = f_resume, .stop = f_stop,
	.destroy = f_destroy, .stats = f_stats, .agent = f_agent,
	.shutdown = f_shutdown, .trace = f_trace, .trace_set = f_trace_set,
	.gdb = f_gdb,
};

/* ---- the port ---- */

static int listen_on(int port)
{
	struct sockaddr_in a = { .sin_family = AF_INET,
				 .sin_port = htons((u16)port),
				 .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	int fd = socket(AF_INET, SOCK_STREAM, 0), one = 1;

	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (fd < 0 || bind(fd, (struct sockaddr *)&a, sizeof(a)) ||
	    listen(fd, 1)) {
		perror("fake_uhv: listen");
		exit(2);
	}
	return fd;
}

/*
 * A pseudo-terminal standing in for a serial cable; its path goes into
 * file. Returns the master side once the far end (the relay) has opened
 * the device: before that the master reports POLLHUP.
 */
static int open_pty(const char *file)
{
	int m = posix_openpt(O_RDWR | O_NOCTTY);
	FILE *f;

	struct termios t;

	if (m < 0 || grantpt(m) || unlockpt(m) || tcgetattr(m, &t) ||
	    !(f = fopen(file, "w"))) {
		perror("fake_uhv: pty");
		exit(2);
	}
	/* A cable has no line discipline: raw before the relay opens it, or
	   the greeting sent as it opens would be echoed back to us. */
	cfmakeraw(&t);
	if (tcsetattr(m, TCSANOW, &t)) {
		perror("fake_uhv: pty raw");
		exit(2);
	}
	snprintf(pty_path, sizeof(pty_path), "%s", ptsname(m));
	fprintf(f, "%s\n", pty_path);
	fclose(f);
	for (;;) {
		struct pollfd p = { .fd = m, .events = POLLIN };

		poll(&p, 1, 50);
		if (!(p.revents & POLLHUP))
			return m;
	}
}

/* Ends the fake as uhv powers off. On a pseudo-terminal, as on a cable,
   the line stays there after uhv is off: the far end sees no hangup, and
   what it has not read yet stays readable. The fake waits (30 s at most)
   for the relay to close its end: a master that closed first would
   discard the relay's unread bytes, the last reply among them. */
static void fake_exit(void)
{
	for (int i = 0; pty_path[0] && i < 600; i++) {
		struct pollfd p = { .fd = conn, .events = 0 };

		if (poll(&p, 1, 50) > 0 && (p.revents & POLLHUP))
			break;
	}
	exit(0);
}

/* FAKE_STRAY=1: every reply comes after the reply uhv would give to line
   noise (no id), as a cable can cause; the relay must not pass it on. */
#define STRAY_REPLY "{\"id\":null,\"ok\":false,\"error\":{\"code\":" \
	"\"parse_error\",\"message\":\"byte 0: not JSON\"}}\n"
static bool stray;

/* Feeds received bytes to the dispatcher; a reply goes out at once, and
   an agent's answer after it. */
static void serve(const char *buf, size_t n)
{
	static char out[CTL_REPLY_MAX];

	for (size_t i = 0; i < n; i++) {
		int len = ctl_feed(&ctl, buf[i], out, sizeof(out));

		if (len > 0 && stray)   /* line noise answered first */
			send_line(STRAY_REPLY, (int)strlen(STRAY_REPLY));
		send_line(out, len);
		if (pending) {
			send_line(pending, (int)strlen(pending));
			free(pending);
			pending = NULL;
		}
		if (powering_off)
			fake_exit();
	}
}

int main(int argc, char **argv)
{
	char out[CTL_REPLY_MAX], buf[4096];
	int lfd;

	if (argc != 2 && !(argc == 3 && !strcmp(argv[1], "--pty"))) {
		fprintf(stderr, "usage: fake_uhv PORT | fake_uhv --pty FILE\n");
		return 2;
	}
	stray = getenv("FAKE_STRAY") != NULL;
	lfd = argc == 2 ? listen_on(atoi(argv[1])) : -1;
	last_tick = boot_us = now_us();
	add("alpha", "progress.elf", false);
	add("beta", "progress.elf", false);
	ctl_init(&ctl, &ops, NULL, FAKE_VERSION);
	if (lfd >= 0) {
		conn = accept(lfd, NULL, NULL);
		close(lfd);
	} else {
		conn = open_pty(argv[2]);
	}
	send_line(out, ctl_greeting(&ctl, out, sizeof(out)));
	f_start(NULL, "alpha", NULL);   /* the VMs of uhv.cfg boot */
	f_start(NULL, "beta", NULL);
	for (;;) {
		struct pollfd p = { .fd = conn, .events = POLLIN };
		ssize_t n;

		if (poll(&p, 1, TICK_MS) > 0) {
			n = read(conn, buf, sizeof(buf));
			if (n <= 0)
				return 0;
			serve(buf, (size_t)n);
		}
		tick();
	}
}
