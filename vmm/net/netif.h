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
#include "vmm/net/ipv4.h"

#define NETIF_QUEUE 32               /* frames waiting to be sent: replies,
					and a router's (nat_router.h) */

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
	/* what uhv does not answer itself (NULL: ignored): a router's */
	void (*forward)(void *ctx, const u8 *frame, u32 len);
	void *forward_ctx;
	u64 arp_replies, echo_replies, dhcp_replies, forwarded, ignored;
	u64 overflow;
};

/* Attaches n to network net of b with mac and ip. 0, or -1 if the bridge
   refused the port. */
int netif_attach(struct netif *n, struct bridge *b, int net,
		 const u8 *mac, const u8 *ip);
/* From now on n answers DHCP clients with d (leases timed by now). */
void netif_serve_dhcp(struct netif *n, struct dhcp_server *d, u64 (*now)(void));
/* From now on frames n does not answer (ARP but requests for its
   address, IPv4 but echo requests and DHCP for it) go to fwd(ctx, ...):
   a router, which sends through netif_queue. */
void netif_set_forward(struct netif *n,
		       void (*fwd)(void *ctx, const u8 *frame, u32 len),
		       void *ctx);
/* Queues a whole frame (len <= ETH_FRAME_MAX) to send into the network at
   the next netif_flush; false if the queue is full (counted). */
bool netif_queue(struct netif *n, const u8 *frame, u32 len);
/* The bridge's deliver callback (ctx: n): queues the answer, if any. */
bool netif_receive(void *ctx, const u8 *frame, u32 len);
/* Sends the queued answers into the bridge (never from inside it). */
void netif_flush(struct netif *n, u64 now);

#endif
