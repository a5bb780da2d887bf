/*
 * uhv's own address on a bridge network (host-only networking): a port
 * of the bridge with a MAC and an IPv4 address that answers ARP requests
 * (RFC 826) and ICMP echo requests (RFC 792), so a guest can ping uhv.
 * Pure C. The bridge is not reentrant, so replies are queued by the
 * receive path and sent by netif_flush() once bridge_send has returned.
 */
#ifndef UHV_VMM_NETIF_H
#define UHV_VMM_NETIF_H

#include "vmm/net/bridge.h"

#define NETIF_QUEUE 4                /* replies waiting to be sent */
#define IPV4_ALEN   4

struct netif {
	struct bridge *br;
	int port;
	u8 mac[ETH_ALEN];
	u8 ip[IPV4_ALEN];
	u8 queue[NETIF_QUEUE][ETH_FRAME_MAX];
	u32 queue_len[NETIF_QUEUE];
	int queued;
	u64 arp_replies, echo_replies, ignored, overflow;
};

/* Attaches n to network net of b with mac and ip. 0, or -1 if the bridge
   refused the port. */
int netif_attach(struct netif *n, struct bridge *b, int net,
		 const u8 *mac, const u8 *ip);
/* The bridge's deliver callback (ctx: n): queues the answer, if any. */
bool netif_receive(void *ctx, const u8 *frame, u32 len);
/* Sends the queued answers into the bridge (never from inside it). */
void netif_flush(struct netif *n, u64 now);

#endif
