/*
 * uhv's own address on a bridge network (host-only networking): a port
 * of the bridge with a MAC and an IPv4 address that answers ARP requests
 * (RFC 826) and ICMP echo requests (RFC 792), so a guest can ping uhv,
 * and, where the config asks, DHCP (dhcp_server.h), so guests get their
 * addresses from uhv.
 * Pure C. The bridge is not reentrant, so replies are queued by the
 * receive path and sent by netif_flush() once bridge_send has returned.
 */
#ifndef UHV_VMM_NETIF_H
#define UHV_VMM_NETIF_H

#include "vmm/net/bridge.h"

#define NETIF_QUEUE 4                /* replies waiting to be sent */
#define IPV4_ALEN   4

struct dhcp_server;

struct netif {
	struct bridge *br;
	int port;
	u8 mac[ETH_ALEN];
	u8 ip[IPV4_ALEN];
	u8 queue[NETIF_QUEUE][ETH_FRAME_MAX];
	u32 queue_len[NETIF_QUEUE];
	int queued;
	struct dhcp_server *dhcp;     /* NULL: no DHCP server here */
	u64 (*now)(void);             /* the clock for DHCP leases */
	u64 arp_replies, echo_replies, dhcp_replies, ignored, overflow;
};

/* Attaches n to network net of b with mac and ip. 0, or -1 if the bridge
   refused the port. */
int netif_attach(struct netif *n, struct bridge *b, int net,
		 const u8 *mac, const u8 *ip);
/* From now on n answers DHCP clients with d (leases timed by now). */
void netif_serve_dhcp(struct netif *n, struct dhcp_server *d, u64 (*now)(void));
/* The bridge's deliver callback (ctx: n): queues the answer, if any. */
bool netif_receive(void *ctx, const u8 *frame, u32 len);
/* Sends the queued answers into the bridge (never from inside it). */
void netif_flush(struct netif *n, u64 now);

#endif
