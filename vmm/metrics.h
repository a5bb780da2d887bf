/*
 * Metrics over HTTP (metrics.c): uhv serves GET /metrics in Prometheus's
 * text exposition format (version 0.0.4) on a TCP port of its address on
 * the uplink (config: metrics = PORT, with a NAT network), so that a
 * monitoring system can scrape it: per VM whether it runs, its CPU time
 * and its exits by reason; the uplink's and the NAT's counters.
 * HTTP/1.1, one request per connection (Connection: close), at most
 * METRICS_CONNS at once; anything but GET /metrics gets 404, a request
 * that never ends is cut off after METRICS_IDLE_S.
 */
#ifndef UHV_VMM_METRICS_H
#define UHV_VMM_METRICS_H

#include "lib/types.h"

#define METRICS_CONNS     2
#define METRICS_REQ_MAX   1024
#define METRICS_BODY_MAX  32768
#define METRICS_IDLE_S    10

struct uhv;
struct tcp;

/* Serves metrics on port of t from now on; false if t refused the port. */
bool metrics_init(struct uhv *h, struct tcp *t, u16 port);
/* Accepts, reads requests and writes answers; call after t's input. */
void metrics_poll(u64 now);
/* The exposition itself into buf (size bytes); its length. */
u32 metrics_render(char *buf, u32 size);

#endif
