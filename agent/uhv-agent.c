/*
 * uhv-agent: the guest agent for Linux guests of uhv (agent/README.md).
 * It talks to uhv over the VM's virtio-console port (/dev/hvc0: uhv's
 * device has one port and no MULTIPORT, so Linux's virtio_console makes
 * it a console) in raw mode, one line per message:
 *
 *   uhv -> agent   "<id> <request>\n"   request: ping, info, shutdown
 *   agent -> uhv   "hb\n"               every second
 *                  "<id> <json>\n"      one answer per request, one line
 *
 * Answers fit uhv's bound of 512 bytes a line (AGENT_LINE_MAX in
 * vmm/ctl/agent.h): info leaves out the addresses that do not fit. The port
 * may not be there yet (the module loads later) or may go away: the
 * agent retries every second, and it never busy-waits: it sleeps in
 * poll() until a byte arrives or the next heartbeat is due.
 *
 * usage: uhv-agent [-d DEVICE]      (default /dev/hvc0)
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <ifaddrs.h>
#include <net/if.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/reboot.h>
#include <sys/sysinfo.h>
#include <sys/utsname.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

#define DEFAULT_DEVICE   "/dev/hvc0"
#define LINE_MAX_BYTES   512          /* uhv's bound, without the newline */
#define IN_MAX           1024         /* a request line: id, space, 512 */
#define HEARTBEAT_MS     1000
#define RETRY_S          1
#define SHOWN_MAX        32           /* of an unknown request, in errors */
#define KIB              1024ULL

static const char *device = DEFAULT_DEVICE;

static long long now_ms(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (long long)t.tv_sec * 1000 + t.tv_nsec / 1000000;
}

/* Opens the port in raw mode (no echo, no line editing, no CR/LF
   translation either way); -1 if it is not there (yet). */
static int open_port(void)
{
	struct termios t;
	int fd = open(device, O_RDWR | O_NOCTTY | O_CLOEXEC);

	if (fd < 0)
		return -1;
	if (tcgetattr(fd, &t) == 0) {
		cfmakeraw(&t);
		tcsetattr(fd, TCSANOW, &t);
	}
	tcflush(fd, TCIFLUSH);             /* nothing from before we came */
	return fd;
}

/* Waits for the port, one try a second; says so once. */
static int wait_port(void)
{
	bool said = false;
	int fd;

	while ((fd = open_port()) < 0) {
		if (!said)
			fprintf(stderr, "uhv-agent: waiting for %s: %s\n", device,
				strerror(errno));
		said = true;
		sleep(RETRY_S);
	}
	fprintf(stderr, "uhv-agent: talking to uhv on %s\n", device);
	return fd;
}

/* Writes all of s[0..n); -1 if the port failed. */
static int write_all(int fd, const char *s, size_t n)
{
	while (n) {
		ssize_t k = write(fd, s, n);

		if (k < 0 && errno == EINTR)
			continue;
		if (k <= 0)
			return -1;
		s += k;
		n -= (size_t)k;
	}
	return 0;
}

/* A growing answer line that never exceeds LINE_MAX_BYTES. */
struct out {
	char buf[LINE_MAX_BYTES + 1];
	size_t len;
	bool full;
};

static void put(struct out *o, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/* Appends, or leaves o as it was (and full) if it would not fit. */
static void put(struct out *o, const char *fmt, ...)
{
	size_t room = sizeof(o->buf) - o->len;
	va_list ap;
	int n;

	if (o->full)
		return;
	va_start(ap, fmt);
	n = vsnprintf(o->buf + o->len, room, fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= room) {
		o->buf[o->len] = 0;
		o->full = true;
		return;
	}
	o->len += (size_t)n;
}

/* Each address of an interface that is up, as "NAME ADDR", while the
   line has room for it and the closing "]}" (reserve bytes). */
static void put_addresses(struct out *o, size_t reserve)
{
	struct ifaddrs *all, *i;
	char addr[INET6_ADDRSTRLEN], item[IF_NAMESIZE + INET6_ADDRSTRLEN + 8];
	bool first = true;

	if (getifaddrs(&all) < 0)
		return;
	for (i = all; i; i = i->ifa_next) {
		const void *a;
		int n;

		if (!i->ifa_addr || (i->ifa_addr->sa_family != AF_INET &&
				     i->ifa_addr->sa_family != AF_INET6))
			continue;
		a = i->ifa_addr->sa_family == AF_INET ?
		    (const void *)&((struct sockaddr_in *)i->ifa_addr)->sin_addr :
		    (const void *)&((struct sockaddr_in6 *)i->ifa_addr)->sin6_addr;
		if (!inet_ntop(i->ifa_addr->sa_family, a, addr, sizeof(addr)))
			continue;
		n = snprintf(item, sizeof(item), "%s\"%.*s %s\"", first ? "" : ",",
			     IF_NAMESIZE, i->ifa_name, addr);
		if (n < 0 || o->len + (size_t)n + reserve >= LINE_MAX_BYTES)
			break;                 /* the rest do not fit */
		put(o, "%s", item);
		first = false;
	}
	freeifaddrs(all);
}

/* {"kernel":..,"uptime_s":..,"mem_total_kib":..,"mem_free_kib":..,
    "load":[1m,5m,15m],"addresses":["eth0 10.0.0.1",...]} */
static void info(struct out *o)
{
	const double load_unit = (double)(1 << SI_LOAD_SHIFT);
	struct utsname u;
	struct sysinfo si;

	if (uname(&u) < 0 || sysinfo(&si) < 0) {
		put(o, "{\"error\":\"uname or sysinfo failed: %s\"}", strerror(errno));
		return;
	}
	put(o, "{\"kernel\":\"%.64s\",\"uptime_s\":%ld,\"mem_total_kib\":%llu,"
	    "\"mem_free_kib\":%llu,\"load\":[%.2f,%.2f,%.2f],\"addresses\":[",
	    u.release, si.uptime,
	    (unsigned long long)si.totalram * si.mem_unit / KIB,
	    (unsigned long long)si.freeram * si.mem_unit / KIB,
	    si.loads[0] / load_unit, si.loads[1] / load_unit,
	    si.loads[2] / load_unit);
	put_addresses(o, 2);
	put(o, "]}");
}

/* The request, shown in an error: printable ASCII but quote and
   backslash, others as '?', at most SHOWN_MAX characters. */
static void put_shown(struct out *o, const char *req)
{
	char s[SHOWN_MAX + 1];
	size_t n = 0;

	for (; req[n] && n < SHOWN_MAX; n++)
		s[n] = req[n] >= 0x20 && req[n] < 0x7f && req[n] != '"' &&
		       req[n] != '\\' ? req[n] : '?';
	s[n] = 0;
	put(o, "%s", s);
}

/*
 * Answers one request line "<id> <request>": the answer goes out before
 * anything the request does (shutdown). Returns -1 if the port failed.
 */
static int handle(int fd, char *line)
{
	struct out o = { .len = 0 };
	char *req = strchr(line, ' ');
	bool shutdown = false;

	if (!req || req == line || strspn(line, "0123456789") != (size_t)(req - line))
		return 0;                  /* not from uhv: no id to answer */
	*req++ = 0;
	put(&o, "%s ", line);
	if (!strcmp(req, "ping")) {
		put(&o, "{\"pong\":true}");
	} else if (!strcmp(req, "info")) {
		info(&o);
	} else if (!strcmp(req, "shutdown")) {
		put(&o, "{\"shutdown\":true}");
		shutdown = true;
	} else {
		put(&o, "{\"error\":\"unknown request '");
		put_shown(&o, req);
		put(&o, "' (ping, info, shutdown)\"}");
	}
	if (o.full)                        /* cannot happen: bounded above */
		return 0;
	put(&o, "\n");
	if (write_all(fd, o.buf, o.len) < 0)
		return -1;
	if (shutdown) {
		tcdrain(fd);
		sync();
		reboot(RB_POWER_OFF);      /* ACPI S5: uhv ends the VM */
	}
	return 0;
}

/* Lines from uhv, split at '\n'; an overlong one is skipped whole. */
struct in {
	char buf[IN_MAX + 1];
	size_t len;
	bool skipping;
};

static int take_bytes(int fd, struct in *in, const char *p, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		if (p[i] == '\n') {
			bool skip = in->skipping;

			in->buf[in->len] = 0;
			in->len = 0;
			in->skipping = false;
			if (!skip && handle(fd, in->buf) < 0)
				return -1;
		} else if (in->len < IN_MAX) {
			in->buf[in->len++] = p[i];
		} else {
			in->skipping = true;
		}
	}
	return 0;
}

/* Serves the port until it fails: heartbeats and answers. */
static void serve(int fd)
{
	struct in in = { .len = 0 };
	long long next = now_ms();
	char buf[256];

	for (;;) {
		struct pollfd p = { .fd = fd, .events = POLLIN };
		long long wait = next - now_ms();
		ssize_t n;

		if (wait <= 0) {
			if (write_all(fd, "hb\n", 3) < 0)
				return;
			next += HEARTBEAT_MS;
			if (next < now_ms())       /* we were stopped: no burst */
				next = now_ms() + HEARTBEAT_MS;
			continue;
		}
		if (poll(&p, 1, (int)wait) < 0) {
			if (errno == EINTR)
				continue;
			return;
		}
		if (p.revents & (POLLERR | POLLNVAL))
			return;
		if (!(p.revents & (POLLIN | POLLHUP)))
			continue;
		n = read(fd, buf, sizeof(buf));
		if (n < 0 && (errno == EINTR || errno == EAGAIN))
			continue;
		if (n <= 0 || take_bytes(fd, &in, buf, (size_t)n) < 0)
			return;
	}
}

int main(int argc, char **argv)
{
	int opt;

	while ((opt = getopt(argc, argv, "d:")) != -1) {
		if (opt != 'd') {
			fprintf(stderr, "usage: uhv-agent [-d DEVICE]\n");
			return 2;
		}
		device = optarg;
	}
	for (;;) {
		int fd = wait_port();

		serve(fd);
		fprintf(stderr, "uhv-agent: %s failed (%s); reopening\n", device,
			strerror(errno));
		close(fd);
		sleep(RETRY_S);
	}
}
