/*
 * The DHCP client (vmm/net/dhcp_client.h), after RFC 2131 §4.4's state
 * diagram (Figure 5): INIT -> SELECTING -> REQUESTING -> BOUND ->
 * RENEWING -> REBINDING, and back to INIT on a NAK or the lease's end.
 */
#include "vmm/net/dhcp_client.h"
#include "vmm/net/dhcp_msg.h"
#include "lib/string.h"
#include "lib/bytes.h"

#define T1_NUM 1                   /* T1 = lease / 2 (§4.4.5) */
#define T1_DEN 2
#define T2_NUM 7                   /* T2 = lease * 7/8 */
#define T2_DEN 8
#define LEASE_MIN_S 10             /* shorter leases are taken as 10 s */

static const u8 broadcast[4] = { 255, 255, 255, 255 };
/* The options the client asks for (option 55, RFC 2132 §9.8). */
static const u8 wanted[] = { DHCP_OPT_MASK, DHCP_OPT_ROUTER, DHCP_OPT_DNS,
			     DHCP_OPT_LEASE_TIME };

void dhcp_client_init(struct dhcp_client *c, const u8 *mac, u32 xid, u64 hz)
{
	memset(c, 0, sizeof(*c));
	memcpy(c->mac, mac, 6);
	c->xid = xid;
	c->hz = hz;
	c->retry_s = DHCPC_RETRY_S;
}

bool dhcp_client_bound(const struct dhcp_client *c)
{
	return c->state >= DHCPC_BOUND;
}

/* Starts over: a new transaction, DISCOVER at once. */
static void restart(struct dhcp_client *c, u64 now)
{
	memset(&c->lease, 0, sizeof(c->lease));
	c->state = DHCPC_INIT;
	c->xid++;
	c->next = now;
	c->retry_s = DHCPC_RETRY_S;
}

/* A message of type: DISCOVER, or REQUEST for ip (in the options while
   selecting, as ciaddr when renewing or rebinding, §4.3.2). */
static u32 message(struct dhcp_client *c, u8 type, u8 *out)
{
	u8 xid[4], *p;

	be32_put(xid, c->xid);
	p = dhcp_msg_start(out, DHCP_BOOTREQUEST, xid, c->mac);
	/* no address yet: ask for the answer by broadcast (§4.1) */
	if (c->state < DHCPC_BOUND)
		be16_put(out + DHCP_FLAGS, DHCP_FLAG_BROADCAST);
	p = dhcp_put_option(p, DHCP_OPT_TYPE, &type, 1);
	if (c->state == DHCPC_REQUESTING) {
		p = dhcp_put_option(p, DHCP_OPT_REQUESTED, c->offered, 4);
		p = dhcp_put_option(p, DHCP_OPT_SERVER_ID, c->offer_server, 4);
	} else if (c->state > DHCPC_BOUND) {
		memcpy(out + DHCP_CIADDR, c->lease.ip, 4);
	}
	p = dhcp_put_option(p, DHCP_OPT_PARAMS, wanted, sizeof(wanted));
	*p = DHCP_OPT_END;
	return DHCPC_MSG_MAX;
}

/* The next retransmission: backoff doubles up to its cap. */
static void backoff(struct dhcp_client *c, u64 now)
{
	c->next = now + (u64)c->retry_s * c->hz;
	c->retry_s = c->retry_s * 2 > DHCPC_RETRY_MAX_S ? DHCPC_RETRY_MAX_S
							: c->retry_s * 2;
}

/* Moves a held lease along its timers (T1, T2, end). */
static void lease_timers(struct dhcp_client *c, u64 now)
{
	if (!dhcp_client_bound(c))
		return;
	if (now >= c->expires) {
		c->stats.expired++;
		restart(c, now);
	} else if (now >= c->t2 && c->state < DHCPC_REBINDING) {
		c->state = DHCPC_REBINDING;
		c->next = now;
	} else if (now >= c->t1 && c->state < DHCPC_RENEWING) {
		c->state = DHCPC_RENEWING;
		c->next = now;
		c->retry_s = DHCPC_RETRY_S;
	}
}

u32 dhcp_client_poll(struct dhcp_client *c, u64 now, u8 *out, u8 *to)
{
	lease_timers(c, now);
	if (now < c->next || c->state == DHCPC_BOUND)
		return 0;
	/* an offer whose REQUEST went unanswered at the longest backoff:
	   look for another server (§4.4.1) */
	if (c->state == DHCPC_REQUESTING && c->retry_s == DHCPC_RETRY_MAX_S)
		restart(c, now);
	memcpy(to, c->state == DHCPC_RENEWING ? c->lease.server : broadcast, 4);
	backoff(c, now);
	if (c->state == DHCPC_INIT || c->state == DHCPC_SELECTING) {
		c->state = DHCPC_SELECTING;
		c->stats.discovers++;
		return message(c, DHCP_DISCOVER, out);
	}
	c->stats.requests++;
	return message(c, DHCP_REQUEST, out);
}

/* Reads a server's answer into l; its message type, or 0 if it is not
   one for this client's transaction. */
static u8 parse(const struct dhcp_client *c, const u8 *msg, u32 len,
		struct dhcpc_lease *l)
{
	u32 at = DHCP_OPTIONS;
	const u8 *val;
	u8 code, vlen, type = 0;

	if (!dhcp_msg_valid(msg, len, DHCP_BOOTREPLY) ||
	    be32_get(msg + DHCP_XID) != c->xid ||
	    memcmp(msg + DHCP_CHADDR, c->mac, 6))
		return 0;
	memset(l, 0, sizeof(*l));
	memcpy(l->ip, msg + DHCP_YIADDR, 4);
	while (dhcp_next_option(msg, len, &at, &code, &val, &vlen)) {
		if (code == DHCP_OPT_TYPE && vlen == 1)
			type = val[0];
		else if (code == DHCP_OPT_LEASE_TIME && vlen == 4)
			l->lease_s = be32_get(val);
		else if (vlen >= 4 && code == DHCP_OPT_MASK)
			memcpy(l->mask, val, 4);
		else if (vlen >= 4 && code == DHCP_OPT_ROUTER)
			memcpy(l->router, val, 4);   /* the first of the list */
		else if (vlen >= 4 && code == DHCP_OPT_DNS)
			memcpy(l->dns, val, 4);
		else if (vlen == 4 && code == DHCP_OPT_SERVER_ID)
			memcpy(l->server, val, 4);
	}
	return type;
}

/* An ACK: the lease is held, its timers start now (§4.4.5). */
static void bind(struct dhcp_client *c, const struct dhcpc_lease *l, u64 now)
{
	u64 s = l->lease_s < LEASE_MIN_S ? LEASE_MIN_S : l->lease_s;

	c->lease = *l;
	if (!be32_get(c->lease.server))
		memcpy(c->lease.server, c->offer_server, 4);
	c->state = DHCPC_BOUND;
	c->t1 = now + s * c->hz * T1_NUM / T1_DEN;
	c->t2 = now + s * c->hz * T2_NUM / T2_DEN;
	c->expires = now + s * c->hz;
	c->retry_s = DHCPC_RETRY_S;
	c->stats.acks++;
}

bool dhcp_client_input(struct dhcp_client *c, const u8 *msg, u32 len,
		       u64 now)
{
	struct dhcpc_lease l;
	u8 type = parse(c, msg, len, &l);

	if (type == DHCP_OFFER && c->state == DHCPC_SELECTING &&
	    be32_get(l.ip) && be32_get(l.server)) {
		c->stats.offers++;
		memcpy(c->offered, l.ip, 4);
		memcpy(c->offer_server, l.server, 4);
		c->state = DHCPC_REQUESTING;
		c->next = now;
		c->retry_s = DHCPC_RETRY_S;
		return false;
	}
	if (type == DHCP_ACK && c->state >= DHCPC_REQUESTING && be32_get(l.ip)) {
		bool changed = memcmp(&c->lease, &l, sizeof(l)) != 0;

		bind(c, &l, now);
		return changed;
	}
	if (type == DHCP_NAK && c->state >= DHCPC_REQUESTING) {
		bool had = dhcp_client_bound(c);

		c->stats.naks++;
		restart(c, now);
		return had;
	}
	c->stats.ignored++;
	return false;
}
