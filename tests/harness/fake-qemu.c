/*
 * fake-qemu: a stand-in for qemu-system-x86_64 that boots nothing, for
 * tools/uhv-run's own tests (tests/harness/uhv-run.sh). Like QEMU with
 * "-chardev socket,id=com1,...,port=0,server=on,wait=on" it listens on a
 * free port of 127.0.0.1, says where on stderr, and waits for uhv-run to
 * connect; then it sends the file $FAKE_QEMU_CONSOLE as COM1's output (a
 * line every 20 ms), closes the connection and exits with status
 * $FAKE_QEMU_STATUS (default 0), as QEMU does when the guest powers off.
 * Its arguments go to $FAKE_QEMU_ARGS (a file, one a line) if set.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

int main(int argc, char **argv)
{
	const char *console = getenv("FAKE_QEMU_CONSOLE");
	const char *status = getenv("FAKE_QEMU_STATUS");
	const char *args = getenv("FAKE_QEMU_ARGS");
	struct sockaddr_in a = { .sin_family = AF_INET };
	socklen_t alen = sizeof(a);
	struct timespec pause = { 0, 20 * 1000 * 1000 };
	char line[4096];
	int ls, fd;
	FILE *in;

	if (args) {
		FILE *f = fopen(args, "w");

		for (int i = 1; f && i < argc; i++)
			fprintf(f, "%s\n", argv[i]);
		if (f)
			fclose(f);
	}
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	ls = socket(AF_INET, SOCK_STREAM, 0);
	if (ls < 0 || bind(ls, (struct sockaddr *)&a, sizeof(a)) ||
	    listen(ls, 1) || getsockname(ls, (struct sockaddr *)&a, &alen)) {
		perror("fake-qemu: listen");
		return 1;
	}
	fprintf(stderr, "QEMU waiting for connection on: disconnected:tcp:"
		"127.0.0.1:%u,server=on\n", ntohs(a.sin_port));
	fflush(stderr);
	fd = accept(ls, NULL, NULL);
	if (fd < 0) {
		perror("fake-qemu: accept");
		return 1;
	}
	in = console ? fopen(console, "r") : NULL;
	while (in && fgets(line, sizeof(line), in)) {
		size_t n = strlen(line);

		if (n && line[n - 1] == '\n') {        /* the console's "\r\n" */
			line[n - 1] = '\r';
			line[n++] = '\n';
		}
		if (write(fd, line, n) != (ssize_t)n)
			break;
		nanosleep(&pause, NULL);
	}
	if (in)
		fclose(in);
	close(fd);
	return status ? atoi(status) : 0;
}
