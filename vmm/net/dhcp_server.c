/*
 * The DHCP server (vmm/net/dhcp_server.h). Messages follow RFC 2131 §2
 * (the fixed BOOTP layout, then the magic cookie and options, RFC 2132);
 * the server's behaviour follows §4.3: an DHCP_OFFER holds an address for the
 * client a while, a DHCP_REQUEST binds it (or any free one the client asks for
 * by address) or gets a DHCP_NAK, DHCP_RELEASE and DHCP_DECLINE give it back (a declined
 * address is in use by someone else: it rests for a lease time).
 */
#include "vmm/net/dhcp_server.h"
#include "vmm/net/dhcp_msg.h"
#include "lib/string.h"
#include "lib/bytes.h"

/* What a client's message says. */
struct request {
	u8 type;
	const u8 *chaddr;
	u8 ciaddr[4], requested[4], server_id[4];
	bool has_requested, has_server_id;
};

int dhcp_server_init(struct dhcp_server *s, const u8 *ip, const u8 *mask,
		     const u8 *first, u32 count, u32 lease_s, u64 hz)
{
	u32 m = be32_get(mask), a = be32_get(first), me = be32_get(ip);

	if (!count || count > DHCP_MAX_LEASES || !lease_s || !hz ||
	    (a & m) != (me & m) || ((a + count - 1) & m) != (me & m) ||
	    (me >= a && me < a + count))
		return -1;
	memset(s, 0, sizeof(*s));
	memcpy(s->ip, ip, 4);
	memcpy(s->mask, mask, 4);
	memcpy(s->first, first, 4);
	s->count = count;
	s->lease_s = lease_s;
	s->hz = hz;
	return 0;
}

/* The pool index of address ip, or -1 if it is not in the pool. */
static int pool_index(const struct dhcp_server *s, const u8 *ip)
{
	u32 off = be32_get(ip) - be32_get(s->first);

	return off < s->count ? (int)off : -1;
}

static bool expired(const struct dhcp_lease *l, u64 now)
{
	return now >= l->expires;
}

/* The lease this client holds or was offered (expired or not), or -1. */
static int lease_of(const struct dhcp_server *s, const u8 *mac)
{
	for (u32 i = 0; i < s->count; i++)
		if ((s->lease[i].state == DHCP_OFFERED ||
		     s->lease[i].state == DHCP_BOUND) &&
		    !memcmp(s->lease[i].mac, mac, DHCP_HLEN_ETH))
			return (int)i;
	return -1;
}

/* Whether lease i may go to a client with mac now. */
static bool available(const struct dhcp_server *s, int i, const u8 *mac,
		      u64 now)
{
	const struct dhcp_lease *l = &s->lease[i];

	return l->state == DHCP_FREE || expired(l, now) ||
	       (l->state != DHCP_DECLINED && !memcmp(l->mac, mac, DHCP_HLEN_ETH));
}

bool dhcp_server_lease_of(const struct dhcp_server *s, const u8 *mac,
			  u8 *ip, u64 now)
{
	int i = lease_of(s, mac);

	if (i < 0 || s->lease[i].state != DHCP_BOUND || expired(&s->lease[i], now))
		return false;
	be32_put(ip, be32_get(s->first) + (u32)i);
	return true;
}

/* ---- messages ---- */

/* Reads a client's message; false if it is not a well-formed request
   (a BOOTREQUEST over Ethernet, with the cookie and a message type). */
static bool parse(const u8 *msg, u32 len, struct request *r)
{
	u32 at = DHCP_OPTIONS;
	const u8 *val;
	u8 code, vlen;

	if (!dhcp_msg_valid(msg, len, DHCP_BOOTREQUEST))
		return false;
	*r = (struct request){ .chaddr = msg + DHCP_CHADDR };
	memcpy(r->ciaddr, msg + DHCP_CIADDR, 4);
	while (dhcp_next_option(msg, len, &at, &code, &val, &vlen)) {
		if (code == DHCP_OPT_TYPE && vlen == 1)
			r->type = val[0];
		if (code == DHCP_OPT_REQUESTED && vlen == 4) {
			memcpy(r->requested, val, 4);
			r->has_requested = true;
		}
		if (code == DHCP_OPT_SERVER_ID && vlen == 4) {
			memcpy(r->server_id, val, 4);
			r->has_server_id = true;
		}
	}
	return r->type >= DHCP_DISCOVER && r->type <= DHCP_INFORM;
}

/* The answer of type `type` to msg, with address yiaddr (NULL: none),
   in out: DHCP_REPLY_MAX bytes, padded as BOOTP's 300 (RFC 1542 §3.4). */
static u32 reply(const struct dhcp_server *s, const u8 *msg, u8 type,
		 const u8 *yiaddr, u8 *out)
{
	u8 lease[4], *p = dhcp_msg_start(out, DHCP_BOOTREPLY, msg + DHCP_XID,
					 msg + DHCP_CHADDR);

	memcpy(out + DHCP_FLAGS, msg + DHCP_FLAGS, 2);
	memcpy(out + DHCP_GIADDR, msg + DHCP_GIADDR, 4);
	memcpy(out + DHCP_CHADDR, msg + DHCP_CHADDR, DHCP_CHADDR_LEN);
	if (type == DHCP_ACK && !yiaddr)             /* to an INFORM (§4.3.5) */
		memcpy(out + DHCP_CIADDR, msg + DHCP_CIADDR, 4);
	if (yiaddr)
		memcpy(out + DHCP_YIADDR, yiaddr, 4);
	p = dhcp_put_option(p, DHCP_OPT_TYPE, &type, 1);
	p = dhcp_put_option(p, DHCP_OPT_SERVER_ID, s->ip, 4);
	if (type != DHCP_NAK) {
		if (yiaddr) {
			be32_put(lease, s->lease_s);
			p = dhcp_put_option(p, DHCP_OPT_LEASE_TIME, lease, 4);
		}
		p = dhcp_put_option(p, DHCP_OPT_MASK, s->mask, 4);
		if (s->gateway) {
			p = dhcp_put_option(p, DHCP_OPT_ROUTER, s->ip, 4);
			p = dhcp_put_option(p, DHCP_OPT_DNS, s->ip, 4);
		}
	}
	*p = DHCP_OPT_END;
	return DHCP_REPLY_MAX;
}

/* DISCOVER (§4.3.1): the client's own address if it has one, else the
   one it asks for if free, else the first free; held for a while. */
static u32 on_discover(struct dhcp_server *s, const struct request *r,
		       const u8 *msg, u8 *out, u64 now)
{
	int i = lease_of(s, r->chaddr);
	u8 ip[4];

	s->stats.discovers++;
	if (i < 0 && r->has_requested && (i = pool_index(s, r->requested)) >= 0 &&
	    !available(s, i, r->chaddr, now))
		i = -1;
	for (u32 k = 0; i < 0 && k < s->count; k++)
		if (available(s, (int)k, r->chaddr, now))
			i = (int)k;
	if (i < 0) {
		s->stats.pool_full++;
		return 0;
	}
	if (s->lease[i].state != DHCP_BOUND || expired(&s->lease[i], now)) {
		s->lease[i].state = DHCP_OFFERED;
		s->lease[i].expires = now + DHCP_OFFER_HOLD_S * s->hz;
	}
	memcpy(s->lease[i].mac, r->chaddr, DHCP_HLEN_ETH);
	be32_put(ip, be32_get(s->first) + (u32)i);
	s->stats.offers++;
	return reply(s, msg, DHCP_OFFER, ip, out);
}

/* REQUEST (§4.3.2): a client that chose another server lets its offer
   go; the address it asks for is bound if it is free or its own, else
   NAKed when it is in this server's subnet (the client moved). */
static u32 on_request(struct dhcp_server *s, const struct request *r,
		      const u8 *msg, u8 *out, u64 now)
{
	const u8 *want = r->has_requested ? r->requested : r->ciaddr;
	int i = lease_of(s, r->chaddr), k;

	s->stats.requests++;
	if (r->has_server_id && memcmp(r->server_id, s->ip, 4)) {
		if (i >= 0 && s->lease[i].state == DHCP_OFFERED)
			s->lease[i].state = DHCP_FREE;
		return 0;
	}
	k = pool_index(s, want);
	if (k < 0 || !available(s, k, r->chaddr, now)) {
		if ((be32_get(want) & be32_get(s->mask)) != (be32_get(s->ip) & be32_get(s->mask)))
			return 0;
		s->stats.naks++;
		return reply(s, msg, DHCP_NAK, NULL, out);
	}
	if (i >= 0 && i != k)            /* it moves to the one it asked for */
		s->lease[i].state = DHCP_FREE;
	s->lease[k].state = DHCP_BOUND;
	memcpy(s->lease[k].mac, r->chaddr, DHCP_HLEN_ETH);
	s->lease[k].expires = now + (u64)s->lease_s * s->hz;
	s->stats.acks++;
	return reply(s, msg, DHCP_ACK, want, out);
}

/* RELEASE and DECLINE (§4.3.3, §4.3.4): no answer. */
static void on_release(struct dhcp_server *s, const struct request *r,
		       u64 now)
{
	bool decline = r->type == DHCP_DECLINE;
	int i = pool_index(s, decline ? r->requested : r->ciaddr);

	if (decline)
		s->stats.declines++;
	else
		s->stats.releases++;
	if (i < 0 || (decline && !r->has_requested) ||
	    memcmp(s->lease[i].mac, r->chaddr, DHCP_HLEN_ETH))
		return;
	s->lease[i].state = decline ? DHCP_DECLINED : DHCP_FREE;
	s->lease[i].expires = now + (u64)s->lease_s * s->hz;
}

u32 dhcp_server_handle(struct dhcp_server *s, const u8 *msg, u32 len,
		       u8 *out, u64 now)
{
	struct request r;

	if (!parse(msg, len, &r)) {
		s->stats.malformed++;
		return 0;
	}
	switch (r.type) {
	case DHCP_DISCOVER:
		return on_discover(s, &r, msg, out, now);
	case DHCP_REQUEST:
		return on_request(s, &r, msg, out, now);
	case DHCP_RELEASE:
	case DHCP_DECLINE:
		on_release(s, &r, now);
		return 0;
	case DHCP_INFORM:                     /* §4.3.5: options, no address */
		s->stats.informs++;
		return reply(s, msg, DHCP_ACK, NULL, out);
	default:                         /* OFFER, ACK, NAK: a server's */
		s->stats.ignored++;
		return 0;
	}
}
