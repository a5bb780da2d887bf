/*
 * The uplink (uplink.c): one of uhv's own NICs as a port of a bridge
 * network (config: uplink = NIC, bridged = NETWORK), so the VMs on that
 * network are peers on the NIC's LAN (bridged, as desktop hypervisors
 * call it). uhv takes no interrupts: the run loop polls the NIC every
 * UPLINK_POLL_US (no guest slice runs past the next poll), so that is
 * about how long a frame from the LAN waits; work in the run loop itself
 * (console lines at 115200 baud) can stretch a gap, and the summary
 * reports the longest one measured. Frames to the LAN go out at once,
 * from the bridge's delivery.
 */
#ifndef UHV_VMM_UPLINK_H
#define UHV_VMM_UPLINK_H

#include "lib/types.h"

#define UPLINK_POLL_US   1000     /* between polls of the NIC */
#define UPLINK_RX_BUDGET 64       /* frames taken a poll, then the guests run */

struct uhv;
struct uhv_config;

/* Probes uhv's NICs and lists them; with an uplink in the config, makes
   it a port of the bridged network (promiscuous). Says what it did, or
   why not (no such NIC, no room on the network). */
void uplink_init(struct uhv *h, const struct uhv_config *c);
/* Moves frames the NIC received into the bridge; the TSC value by
   which it wants to be called again (~0 without an uplink). */
u64 uplink_poll(u64 now);
/* The uplink's and the NAT's counters in Prometheus's text format into
   buf (size bytes); the length (0 without an uplink). */
u32 uplink_metrics(char *buf, u32 size);
/* The uplink's counters, for the summary (nothing without one). */
void uplink_summary(void);

#endif
