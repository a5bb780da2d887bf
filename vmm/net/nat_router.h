/*
 * A NAT network's router: uhv's inside address on a bridge network (a
 * netif, as on a host-only network) is the VMs' gateway, and uhv's
 * address on the uplink NIC is what the LAN sees of all of them. Between
 * the two it routes IPv4 through the translator (nat.h): it answers and
 * asks ARP (RFC 826) on both sides, holds a packet while its next hop is
 * being resolved, sends what is not on the uplink's subnet to the
 * gateway, decrements TTL (RFC 1812 §5.2.4.2: TTL 1 or less is dropped,
 * counted), relays DNS sent to uhv's inside address to the resolver
 * outside, and answers ping on its outside address.
 *
 * The outside address is static (nat_router_address) or leased by the
 * DHCP client (dhcp_client.h) the router runs on the uplink when the
 * config says so; until it has one, packets from inside are dropped
 * (counted as no_address).
 *
 *   VM --bridge--> netif (inside: 10.0.2.1) --forward hook--> router
 *      router --nat_outbound--> ARP/next hop --> ops->send_outside (NIC)
 *   NIC --uplink poll--> router --nat_inbound--> ops->send_inside (netif queue)
 *
 * Pure C, bounded memory, no clock: time comes in as `now`, in ticks of
 * hz. Sends go through ops; the inside one must queue (netif_queue), as
 * the bridge is not reentrant.
 */
#ifndef UHV_VMM_NAT_ROUTER_H
#define UHV_VMM_NAT_ROUTER_H

#include "vmm/net/nat.h"
#include "vmm/net/ipv4.h"
#include "vmm/net/dhcp_client.h"
#include "vmm/net/tcp.h"

#define NAT_NEIGH_MAX    16        /* ARP entries per side */
#define NAT_ARP_RETRY_S  1         /* between requests for one address */
#define NAT_ARP_TRIES    3         /* then its held packets are dropped */
#define NAT_HELD_MAX     8         /* packets waiting for ARP, both sides
				      (Linux keeps 3 a neighbour: unres_qlen) */
#define NAT_NEIGH_TTL_S  300       /* an answer is trusted this long */

/* A neighbour (RFC 826's translation table entry) on one side. */
struct nat_neigh {
	bool used, resolved;
	u8 ip[IPV4_ALEN], mac[ETH_ALEN];
	u64 when;                  /* resolved: when learned; else: asked */
	u8 tries;
};

/* A packet waiting for its next hop's MAC (Ethernet header to fill). */
struct nat_held {
	bool used;
	u8 side;                   /* 0 inside, 1 outside */
	u8 ip[IPV4_ALEN];          /* the next hop */
	u64 when;
	u32 len;
	u8 frame[ETH_FRAME_MAX];
};

/* One of the router's two interfaces. */
struct nat_side {
	u8 mac[ETH_ALEN], ip[IPV4_ALEN], mask[IPV4_ALEN];
	struct nat_neigh nb[NAT_NEIGH_MAX];
};

struct nat_router_ops {
	void (*send_outside)(void *ctx, const u8 *frame, u32 len);
	void (*send_inside)(void *ctx, const u8 *frame, u32 len);  /* queues */
};

struct nat_router_stats {
	u64 out, in;               /* packets routed each way */
	u64 arp_requests, arp_replies;   /* sent, both sides */
	u64 unresolved;            /* held packets dropped: no ARP answer */
	u64 no_address;            /* from inside before uhv has an address */
	u64 no_route;              /* off the uplink's subnet, no gateway */
	u64 ttl_expired;
	u64 not_routed;            /* to the inside subnet or uhv, not relayed */
	u64 spoofed;               /* from inside, a source off its subnet */
	u64 echo_replies;          /* pings of uhv's outside address */
	u64 ignored;               /* outside frames for no one here */
};

struct nat_router {
	struct nat nat;
	struct nat_side in, out;
	struct nat_held held[NAT_HELD_MAX];
	u8 gateway[IPV4_ALEN];     /* the uplink's default route; 0: none */
	u8 dns[IPV4_ALEN];         /* the resolver DNS is relayed to; 0: none */
	bool addressed;            /* out.ip is set */
	bool use_dhcp;
	struct dhcp_client dhcp;
	const struct nat_router_ops *ops;
	void *ctx;
	struct tcp *tcp;           /* uhv's own TCP on the outside address */
	u64 hz, next_expire, now;
	struct nat_router_stats stats;
	u8 buf[ETH_FRAME_MAX];
	u8 tcp_buf[ETH_FRAME_MAX]; /* its segments, framed */
};

/* A router for inside address in_ip/in_mask (uhv's netif, MAC in_mac)
   and the uplink's MAC out_mac, without an outside address yet. */
void nat_router_init(struct nat_router *r, const struct nat_router_ops *ops,
		     void *ctx, u64 hz, const u8 *in_mac, const u8 *in_ip,
		     const u8 *in_mask, const u8 *out_mac);
/* uhv's outside address ip/mask, default gateway gw and resolver dns
   (either 0.0.0.0: none). Connections of an earlier address are gone. */
void nat_router_address(struct nat_router *r, const u8 *ip, const u8 *mask,
			const u8 *gw, const u8 *dns);
/* From now on the outside address comes from a DHCP server on the
   uplink (the client starts at the next tick). */
void nat_router_use_dhcp(struct nat_router *r, u32 xid_seed);

/* uhv's own TCP endpoint on the outside address (nat_router_tcp_ops
   are its ops, with the router as ctx): segments to its ports and
   connections go to it, not to the translator (its ports win over a
   forward of the same port). */
void nat_router_attach_tcp(struct nat_router *r, struct tcp *t);
extern const struct tcp_ops nat_router_tcp_ops;

/* A frame from inside that uhv's netif did not answer (its forward
   hook): routed out if it is addressed to the router. */
void nat_router_inside(struct nat_router *r, const u8 *frame, u32 len,
		       u64 now);
/* A frame from the uplink NIC. */
void nat_router_outside(struct nat_router *r, const u8 *frame, u32 len,
			u64 now);
/* Timers: ARP retries, NAT expiry, the DHCP client. Call every few ms. */
void nat_router_tick(struct nat_router *r, u64 now);

#endif
