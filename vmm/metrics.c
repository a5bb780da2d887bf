/*
 * GET /metrics (vmm/metrics.h). The exposition format: "# HELP" and
 * "# TYPE" lines, then one "name{label="value",...} number" line per
 * sample (https://prometheus.io/docs/instrumenting/exposition_formats/).
 */
#include "vmm/vmm.h"
#include "vmm/metrics.h"
#include "vmm/exit.h"
#include "vmm/uplink.h"
#include "vmm/net/tcp.h"
#include "drivers/console.h"
#include "lib/fmt.h"
#include "lib/string.h"

struct client {
	bool used, answering;
	int id;                    /* its TCP connection */
	u64 since;
	u32 req_len, off, len;
	char req[METRICS_REQ_MAX];
	char out[METRICS_BODY_MAX + 256];
};

static struct {
	struct uhv *h;
	struct tcp *tcp;
	u64 requests, not_found, refused;
	struct client c[METRICS_CONNS];
} m;

static char body[METRICS_BODY_MAX];

bool metrics_init(struct uhv *h, struct tcp *t, u16 port)
{
	m.h = h;
	m.tcp = t;
	return tcp_listen(t, port) == 0;
}

typedef unsigned long long ull;

/* fmt_sn at buf + *len, keeping *len at most size - 1. */
#define PUT(...) (*len += (u32)fmt_sn(buf + *len, size - *len, __VA_ARGS__), \
		  *len = MIN(*len, size - 1))

static void vm_lines(char *buf, u32 size, u32 *len)
{
	PUT("# HELP uhv_vm_running Whether the VM runs (1) or has ended (0).\n"
	    "# TYPE uhv_vm_running gauge\n");
	for (int i = 0; i < m.h->nr_vms; i++)
		if (m.h->vms[i].built)
			PUT("uhv_vm_running{vm=\"%s\"} %d\n", m.h->vms[i].name,
			    m.h->vms[i].result == VM_RUNNING);
	PUT("# HELP uhv_vm_cpu_ticks_total TSC ticks the VM's vCPUs ran.\n"
	    "# TYPE uhv_vm_cpu_ticks_total counter\n");
	for (int i = 0; i < m.h->nr_vms; i++)
		if (m.h->vms[i].built)
			PUT("uhv_vm_cpu_ticks_total{vm=\"%s\"} %llu\n",
			    m.h->vms[i].name, (ull)m.h->vms[i].cpu_ticks);
	PUT("# HELP uhv_vm_exits_total VM exits by reason.\n"
	    "# TYPE uhv_vm_exits_total counter\n");
	for (int i = 0; i < m.h->nr_vms; i++)
		for (u32 r = 0; m.h->vms[i].built && r < EXIT_REASON_MAX; r++)
			if (m.h->vms[i].exits[r])
				PUT("uhv_vm_exits_total{vm=\"%s\",reason=\"%s\"} "
				    "%llu\n", m.h->vms[i].name, exit_reason_name(r),
				    (ull)m.h->vms[i].exits[r]);
}

u32 metrics_render(char *buf, u32 size)
{
	u32 n = 0;

	if (!size)
		return 0;
	buf[0] = 0;
	vm_lines(buf, size, &n);
	n += uplink_metrics(buf + n, size - n);
	return MIN(n, size - 1);
}

/* The answer to the request in c->req: the metrics, or 404. */
static void answer(struct client *c)
{
	static const char get[] = "GET /metrics ";
	bool ok = !strncmp(c->req, get, sizeof(get) - 1) ||
		  !strncmp(c->req, "GET /metrics?", sizeof(get) - 1);
	u32 blen = ok ? metrics_render(body, sizeof(body)) : 10;

	m.requests++;
	m.not_found += !ok;
	c->len = (u32)fmt_sn(c->out, sizeof(c->out), "HTTP/1.1 %s\r\n"
			     "Content-Type: text/plain; version=0.0.4\r\n"
			     "Content-Length: %u\r\nConnection: close\r\n\r\n%s",
			     ok ? "200 OK" : "404 Not Found", blen,
			     ok ? body : "not found\n");
	c->len = MIN(c->len, (u32)sizeof(c->out) - 1);
	c->off = 0;
	c->answering = true;
}

/* Whether the request has its blank line (HTTP/1.1 §2.1: the header
   ends with an empty line; a bare LF is taken too). */
static bool complete(const char *req, u32 len)
{
	for (u32 i = 0; i + 1 < len; i++)
		if (req[i] == '\n' && (req[i + 1] == '\n' ||
				       (req[i + 1] == '\r' && i + 2 < len &&
					req[i + 2] == '\n')))
			return true;
	return false;
}

static void end(struct client *c, bool abort, u64 now)
{
	if (abort)
		tcp_abort(m.tcp, c->id);
	else
		tcp_close(m.tcp, c->id, now);
	c->used = false;
}

/* Reads the request until its blank line; then writes the answer out
   as the send buffer drains, and closes. */
static void serve(struct client *c, u64 now, u64 idle)
{
	if (tcp_state(m.tcp, c->id) == TCP_CLOSED) {
		end(c, true, now);
		return;
	}
	if (!c->answering) {
		c->req_len += tcp_read(m.tcp, c->id, (u8 *)c->req + c->req_len,
				       METRICS_REQ_MAX - 1 - c->req_len, now);
		c->req[c->req_len] = 0;
		if (complete(c->req, c->req_len) ||
		    c->req_len == METRICS_REQ_MAX - 1 || tcp_eof(m.tcp, c->id))
			answer(c);
		else if (now - c->since > idle)
			end(c, true, now);
	}
	if (c->answering) {
		c->off += tcp_write(m.tcp, c->id, (const u8 *)c->out + c->off,
				    c->len - c->off, now);
		if (c->off == c->len)
			end(c, false, now);
	}
}

void metrics_poll(u64 now)
{
	int id;

	if (!m.tcp)
		return;
	while ((id = tcp_accept(m.tcp)) >= 0) {
		struct client *c = NULL;

		for (int i = 0; i < METRICS_CONNS && !c; i++)
			if (!m.c[i].used)
				c = &m.c[i];
		if (!c) {
			m.refused++;
			tcp_abort(m.tcp, id);
			continue;
		}
		*c = (struct client){ .used = true, .id = id, .since = now };
	}
	for (int i = 0; i < METRICS_CONNS; i++)
		if (m.c[i].used)
			serve(&m.c[i], now, METRICS_IDLE_S * m.h->tsc_hz);
}
