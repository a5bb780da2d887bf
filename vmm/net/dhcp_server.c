/*
 * The DHCP server (vmm/net/dhcp_server.h). Messages follow RFC 2131 §2
 * (the fixed BOOTP layout, then the magic cookie and options, RFC 2132);
 * the server's behaviour follows §4.3: an OFFER holds an address for the
 * client a while, a REQUEST binds it (or any free one the client asks for
 * by address) or gets a NAK, RELEASE and DECLINE give it back (a declined
 * address is in use by someone else: it rests for a lease time).
 */
#include "vmm/net/dhcp_server.h"
#include "lib/string.h"
#include "lib/bytes.h"

/* RFC 2131 §2, Figure 1: byte offsets of the fixed part. */
#define OP              0
#define HTYPE           1
#define HLEN            2
#define XID             4
#define FLAGS           10
#define CIADDR          12
#define YIADDR          16
#define GIADDR          24
#define CHADDR          28
#define COOKIE          236
#define OPTIONS         240
#define BOOTREQUEST     1
#define BOOTREPLY       2
#define HTYPE_ETHERNET  1
#define ETH_ALEN        6
static const u8 cookie[4] = { 99, 130, 83, 99 };     /* RFC 2131 §3 */

/* RFC 2132 options and the message types of option 53 (§9.6). */
#define OPT_PAD         0
#define OPT_MASK        1
#define OPT_ROUTER      3
#define OPT_DNS         6
#define OPT_REQUESTED   50
#define OPT_LEASE_TIME  51
#define OPT_TYPE        53
#define OPT_SERVER_ID   54
#define OPT_END         255
#define DISCOVER 1
#define OFFER    2
#define REQUEST  3
#define DECLINE  4
#define ACK      5
#define NAK      6
#define RELEASE  7
#define INFORM   8

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
		    !memcmp(s->lease[i].mac, mac, ETH_ALEN))
			return (int)i;
	return -1;
}

/* Whether lease i may go to a client with mac now. */
static bool available(const struct dhcp_server *s, int i, const u8 *mac,
		      u64 now)
{
	const struct dhcp_lease *l = &s->lease[i];

	return l->state == DHCP_FREE || expired(l, now) ||
	       (l->state != DHCP_DECLINED && !memcmp(l->mac, mac, ETH_ALEN));
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

/* One option (code, len, value) at *at, which moves past it; false at
   the end of the options or if they run past len. */
static bool next_option(const u8 *msg, u32 len, u32 *at, u8 *code,
			const u8 **val, u8 *vlen)
{
	while (*at < len && msg[*at] == OPT_PAD)
		(*at)++;
	if (*at >= len || msg[*at] == OPT_END || *at + 2 > len ||
	    *at + 2 + msg[*at + 1] > len)
		return false;
	*code = msg[*at];
	*vlen = msg[*at + 1];
	*val = msg + *at + 2;
	*at += 2u + *vlen;
	return true;
}

/* Reads a client's message; false if it is not a well-formed request
   (a BOOTREQUEST over Ethernet, with the cookie and a message type). */
static bool parse(const u8 *msg, u32 len, struct request *r)
{
	u32 at = OPTIONS;
	const u8 *val;
	u8 code, vlen;

	if (len < OPTIONS || msg[OP] != BOOTREQUEST ||
	    msg[HTYPE] != HTYPE_ETHERNET || msg[HLEN] != ETH_ALEN ||
	    memcmp(msg + COOKIE, cookie, sizeof(cookie)))
		return false;
	*r = (struct request){ .chaddr = msg + CHADDR };
	memcpy(r->ciaddr, msg + CIADDR, 4);
	while (next_option(msg, len, &at, &code, &val, &vlen)) {
		if (code == OPT_TYPE && vlen == 1)
			r->type = val[0];
		if (code == OPT_REQUESTED && vlen == 4) {
			memcpy(r->requested, val, 4);
			r->has_requested = true;
		}
		if (code == OPT_SERVER_ID && vlen == 4) {
			memcpy(r->server_id, val, 4);
			r->has_server_id = true;
		}
	}
	return r->type >= DISCOVER && r->type <= INFORM;
}

static u8 *put_option(u8 *p, u8 code, const u8 *val, u8 len)
{
	p[0] = code;
	p[1] = len;
	memcpy(p + 2, val, len);
	return p + 2 + len;
}

/* The answer of type `type` to msg, with address yiaddr (NULL: none),
   in out: DHCP_REPLY_MAX bytes, padded as BOOTP's 300 (RFC 1542 §3.4). */
static u32 reply(const struct dhcp_server *s, const u8 *msg, u8 type,
		 const u8 *yiaddr, u8 *out)
{
	u8 lease[4], *p = out + OPTIONS;

	memset(out, 0, DHCP_REPLY_MAX);
	out[OP] = BOOTREPLY;
	out[HTYPE] = HTYPE_ETHERNET;
	out[HLEN] = ETH_ALEN;
	memcpy(out + XID, msg + XID, 4);
	memcpy(out + FLAGS, msg + FLAGS, 2);
	memcpy(out + GIADDR, msg + GIADDR, 4);
	memcpy(out + CHADDR, msg + CHADDR, 16);
	memcpy(out + COOKIE, cookie, sizeof(cookie));
	if (type == ACK && !yiaddr)             /* to an INFORM (§4.3.5) */
		memcpy(out + CIADDR, msg + CIADDR, 4);
	if (yiaddr)
		memcpy(out + YIADDR, yiaddr, 4);
	p = put_option(p, OPT_TYPE, &type, 1);
	p = put_option(p, OPT_SERVER_ID, s->ip, 4);
	if (type != NAK) {
		if (yiaddr) {
			be32_put(lease, s->lease_s);
			p = put_option(p, OPT_LEASE_TIME, lease, 4);
		}
		p = put_option(p, OPT_MASK, s->mask, 4);
		if (s->gateway) {
			p = put_option(p, OPT_ROUTER, s->ip, 4);
			p = put_option(p, OPT_DNS, s->ip, 4);
		}
	}
	*p = OPT_END;
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
	memcpy(s->lease[i].mac, r->chaddr, ETH_ALEN);
	be32_put(ip, be32_get(s->first) + (u32)i);
	s->stats.offers++;
	return reply(s, msg, OFFER, ip, out);
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
		return reply(s, msg, NAK, NULL, out);
	}
	if (i >= 0 && i != k)            /* it moves to the one it asked for */
		s->lease[i].state = DHCP_FREE;
	s->lease[k].state = DHCP_BOUND;
	memcpy(s->lease[k].mac, r->chaddr, ETH_ALEN);
	s->lease[k].expires = now + (u64)s->lease_s * s->hz;
	s->stats.acks++;
	return reply(s, msg, ACK, want, out);
}

/* RELEASE and DECLINE (§4.3.3, §4.3.4): no answer. */
static void on_release(struct dhcp_server *s, const struct request *r,
		       u64 now)
{
	bool decline = r->type == DECLINE;
	int i = pool_index(s, decline ? r->requested : r->ciaddr);

	if (decline)
		s->stats.declines++;
	else
		s->stats.releases++;
	if (i < 0 || (decline && !r->has_requested) ||
	    memcmp(s->lease[i].mac, r->chaddr, ETH_ALEN))
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
	case DISCOVER:
		return on_discover(s, &r, msg, out, now);
	case REQUEST:
		return on_request(s, &r, msg, out, now);
	case RELEASE:
	case DECLINE:
		on_release(s, &r, now);
		return 0;
	case INFORM:                     /* §4.3.5: options, no address */
		s->stats.informs++;
		return reply(s, msg, ACK, NULL, out);
	default:                         /* OFFER, ACK, NAK: a server's */
		s->stats.ignored++;
		return 0;
	}
}
