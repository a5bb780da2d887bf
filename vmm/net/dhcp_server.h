/*
 * A DHCP server (RFC 2131, options RFC 2132) for uhv's own address on a
 * bridge network, so guests on a host-only (later: NAT) network get an
 * address, a mask, a router and a DNS server without any configuration.
 * On a host-only network uhv is no router: its answers then carry the
 * address and mask only; with `gateway` set (NAT) they name uhv as the
 * router and DNS server too. It leases a pool of consecutive addresses, remembers each client by its
 * hardware address, and answers DISCOVER, REQUEST, RELEASE, DECLINE and
 * INFORM; everything else is ignored and counted.
 *
 * Pure C over DHCP messages (the UDP payload): netif.c carries them in
 * and out of frames. Bounded memory; time comes in as `now`, in ticks of
 * hz.
 */
#ifndef UHV_VMM_DHCP_SERVER_H
#define UHV_VMM_DHCP_SERVER_H

#include "lib/types.h"

#define DHCP_MAX_LEASES   64
#define DHCP_SERVER_PORT  67
#define DHCP_CLIENT_PORT  68
#define DHCP_MSG_MIN      240        /* the fixed part and the cookie */
#define DHCP_REPLY_MAX    300        /* what uhv's replies take */
#define DHCP_OFFER_HOLD_S 60         /* an offered address is kept this long */

enum dhcp_lease_state { DHCP_FREE, DHCP_OFFERED, DHCP_BOUND, DHCP_DECLINED };

struct dhcp_lease {
	u8 state;                    /* enum dhcp_lease_state */
	u8 mac[6];
	u64 expires;                 /* in ticks */
};

struct dhcp_stats {
	u64 discovers, offers, requests, acks, naks, releases, declines;
	u64 informs, ignored, malformed, pool_full;
};

struct dhcp_server {
	u8 ip[4];                    /* uhv's: server identifier, router, DNS */
	u8 mask[4];
	u8 first[4];                 /* the pool: first .. first + count - 1 */
	u32 count;
	u32 lease_s;
	u64 hz;
	bool gateway;                /* uhv routes (NAT): router, DNS = uhv */
	struct dhcp_lease lease[DHCP_MAX_LEASES];   /* lease[i]: first + i */
	struct dhcp_stats stats;
};

/* A server at ip (mask) leasing count addresses from first for lease_s
   seconds each, not a gateway. -1 if count is 0 or over DHCP_MAX_LEASES, the pool is
   not inside ip's subnet, or holds ip itself. */
int dhcp_server_init(struct dhcp_server *s, const u8 *ip, const u8 *mask,
		     const u8 *first, u32 count, u32 lease_s, u64 hz);

/*
 * A client's message (msg, len bytes: a UDP datagram to port 67) at now.
 * Writes the answer (a UDP payload for port 68, to be broadcast) into
 * out (DHCP_REPLY_MAX bytes) and returns its length, or 0 if there is
 * none (not a request, not for this server, malformed: counted).
 */
u32 dhcp_server_handle(struct dhcp_server *s, const u8 *msg, u32 len,
		       u8 *out, u64 now);

/* The address leased to mac (bound, not expired) in ip; false if none. */
bool dhcp_server_lease_of(const struct dhcp_server *s, const u8 *mac,
			  u8 *ip, u64 now);

#endif
