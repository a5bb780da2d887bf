/*
 * uhvctl's plumbing: HOST:PORT addresses, TCP sockets, and a buffer that
 * cuts a byte stream into the protocol's newline-ended lines
 * (docs/protocol.md, Transport).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <netdb.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>
#include "tools/uhvctl/uhvctl.h"

#define LISTEN_BACKLOG 16
#define LINE_BUF_START 4096

#define PORT_MAX 65535

bool net_addr_ok(const char *addr, const char **why)
{
	const char *colon = strrchr(addr, ':');
	char *end;
	unsigned long port;

	if (!colon || colon == addr || !colon[1]) {
		*why = "an address is HOST:PORT";
		return false;
	}
	port = strtoul(colon + 1, &end, 10);
	if (*end || colon[1] < '0' || colon[1] > '9' || port == 0 ||
	    port > PORT_MAX) {
		*why = "the port must be a number from 1 to 65535";
		return false;
	}
	return true;
}

/*
 * Splits "HOST:PORT" (the last colon; "[v6]:PORT" brackets dropped) and
 * resolves it. Returns getaddrinfo's list or NULL with *why set.
 */
static struct addrinfo *resolve(const char *addr, bool passive,
				const char **why)
{
	char host[256];
	const char *colon = strrchr(addr, ':');
	struct addrinfo hints = { .ai_socktype = SOCK_STREAM }, *res;
	size_t n;

	if (!net_addr_ok(addr, why))
		return NULL;
	n = (size_t)(colon - addr);
	if (addr[0] == '[' && n >= 2 && addr[n - 1] == ']') {
		addr++;
		n -= 2;
	}
	if (n >= sizeof(host)) {
		*why = "host name too long";
		return NULL;
	}
	memcpy(host, addr, n);
	host[n] = 0;
	hints.ai_flags = passive ? AI_PASSIVE : 0;
	if (getaddrinfo(host, colon + 1, &hints, &res) != 0) {
		*why = "cannot resolve the address";
		return NULL;
	}
	return res;
}

int net_connect(const char *addr, const char **why)
{
	struct addrinfo *res = resolve(addr, false, why), *a;
	int fd = -1, err = ECONNREFUSED;

	if (!res)
		return -1;
	for (a = res; a; a = a->ai_next) {
		fd = socket(a->ai_family, a->ai_socktype | SOCK_CLOEXEC, 0);
		if (fd < 0)
			continue;
		if (connect(fd, a->ai_addr, a->ai_addrlen) == 0)
			break;
		err = errno;
		close(fd);
		fd = -1;
	}
	freeaddrinfo(res);
	if (fd < 0) {
		errno = err;
		*why = strerror(err);
	}
	return fd;
}

int net_listen(const char *addr, const char **why)
{
	struct addrinfo *res = resolve(addr, true, why), *a;
	int fd = -1, one = 1;

	if (!res)
		return -1;
	for (a = res; a; a = a->ai_next) {
		fd = socket(a->ai_family, a->ai_socktype | SOCK_CLOEXEC, 0);
		if (fd < 0)
			continue;
		setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
		if (bind(fd, a->ai_addr, a->ai_addrlen) == 0 &&
		    listen(fd, LISTEN_BACKLOG) == 0)
			break;
		*why = strerror(errno);
		close(fd);
		fd = -1;
	}
	freeaddrinfo(res);
	return fd;
}

ssize_t line_fill(struct line_buf *lb, int fd)
{
	ssize_t n;

	if (lb->cap - lb->len < LINE_BUF_START) {
		size_t cap = lb->cap ? lb->cap * 2 : LINE_BUF_START * 2;
		char *p = realloc(lb->buf, cap);

		if (!p)
			return -1;
		lb->buf = p;
		lb->cap = cap;
	}
	do
		n = read(fd, lb->buf + lb->len, lb->cap - lb->len);
	while (n < 0 && errno == EINTR);
	if (n > 0)
		lb->len += (size_t)n;
	return n;
}

/* Removes the first n bytes of lb. */
static void line_drop(struct line_buf *lb, size_t n)
{
	memmove(lb->buf, lb->buf + n, lb->len - n);
	lb->len -= n;
}

char *line_next(struct line_buf *lb, bool *cut)
{
	char *nl = lb->len ? memchr(lb->buf, '\n', lb->len) : NULL;
	size_t n;
	char *s;

	*cut = false;
	if (!nl) {
		/* an endless line: keep its start, drop the rest as it comes */
		if (lb->len > LINE_MAX_BYTES) {
			lb->len = LINE_MAX_BYTES;
			lb->overflow = true;
		}
		return NULL;
	}
	n = (size_t)(nl - lb->buf);
	if (n > 0 && lb->buf[n - 1] == '\r')
		n--;
	s = strndup(lb->buf, n);
	*cut = lb->overflow;
	lb->overflow = false;
	line_drop(lb, (size_t)(nl - lb->buf) + 1);
	return s;
}

void line_free(struct line_buf *lb)
{
	free(lb->buf);
	*lb = (struct line_buf){ 0 };
}

bool write_all(int fd, const char *buf, size_t len)
{
	while (len) {
		ssize_t n = send(fd, buf, len, MSG_NOSIGNAL);

		if (n < 0 && errno == ENOTSOCK)     /* a serial device */
			n = write(fd, buf, len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return false;
		buf += n;
		len -= (size_t)n;
	}
	return true;
}

double mono_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}
