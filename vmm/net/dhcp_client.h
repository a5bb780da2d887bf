/*
 * A DHCP client (RFC 2131 §4.4) for uhv's own address on the uplink of a
 * NAT network: DISCOVER, take the first OFFER, REQUEST it, and on the
 * ACK hold the lease (address, mask, router, DNS server); renew it with
 * its server at T1 (half the lease), with any server at T2 (7/8), and
 * start again when it ends or a NAK comes. Retransmissions back off from
 * DHCPC_RETRY_S, doubling, to DHCPC_RETRY_MAX_S (§4.1 says 4 s to 64 s;
 * uhv starts faster, as its guests wait for it).
 *
 * Pure C over DHCP messages (UDP payloads): nat_router.c carries them.
 * Time comes in as `now`, in ticks of hz.
 */
#ifndef UHV_VMM_DHCP_CLIENT_H
#define UHV_VMM_DHCP_CLIENT_H

#include "lib/types.h"

#define DHCPC_MSG_MAX     300      /* what the client's messages take */
#define DHCPC_RETRY_S     2
#define DHCPC_RETRY_MAX_S 16

enum dhcpc_state {
	DHCPC_INIT,                /* nothing sent yet */
	DHCPC_SELECTING,           /* DISCOVER sent, waiting for an OFFER */
	DHCPC_REQUESTING,          /* REQUEST sent for an offer */
	DHCPC_BOUND,
	DHCPC_RENEWING,            /* past T1: REQUEST to its server */
	DHCPC_REBINDING,           /* past T2: REQUEST to anyone */
};

/* What a lease says (zero where the server said nothing). */
struct dhcpc_lease {
	u8 ip[4], mask[4], router[4], dns[4], server[4];
	u32 lease_s;
};

struct dhcpc_stats {
	u64 discovers, requests, offers, acks, naks, expired, ignored;
};

struct dhcp_client {
	u8 mac[6];
	u8 state;                  /* enum dhcpc_state */
	u32 xid;
	u64 hz;
	u64 next;                  /* when to send (again) */
	u32 retry_s;               /* the current backoff */
	u64 t1, t2, expires;       /* of the lease held */
	u8 offered[4], offer_server[4];
	struct dhcpc_lease lease;
	struct dhcpc_stats stats;
};

/* A client for the NIC with mac; xid seeds its transaction ids. */
void dhcp_client_init(struct dhcp_client *c, const u8 *mac, u32 xid, u64 hz);
/* The message due now, if any, into out (DHCPC_MSG_MAX bytes): its
   length, and in to the server's address for a renewal (unicast) or
   255.255.255.255. 0 if nothing is due. A lease past its end is dropped
   here (state INIT again). */
u32 dhcp_client_poll(struct dhcp_client *c, u64 now, u8 *out, u8 *to);
/* A message to the client (UDP port 68). True if the lease changed
   (a new ACK, or a NAK that ended it). */
bool dhcp_client_input(struct dhcp_client *c, const u8 *msg, u32 len,
		       u64 now);
/* Whether the client holds a lease (bound, renewing or rebinding). */
bool dhcp_client_bound(const struct dhcp_client *c);

#endif
