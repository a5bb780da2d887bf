/*
 * The NAT network's router (vmm/net/nat_router.h).
 */
#include "vmm/net/nat_router.h"
#include "vmm/net/inet_csum.h"
#include "vmm/net/dhcp_msg.h"
#include "lib/string.h"
#include "lib/bytes.h"

#define DNS_PORT       53
#define DHCP_SERVER_UDP 67
#define DHCP_CLIENT_UDP 68
#define GROUP_BIT      0x01            /* multicast, first octet (802.3) */

static const u8 no_mac[ETH_ALEN];

enum side { INSIDE, OUTSIDE };

static struct nat_side *side_of(struct nat_router *r, enum side s)
{
	return s == INSIDE ? &r->in : &r->out;
}

static void send(struct nat_router *r, enum side s, const u8 *f, u32 len)
{
	if (s == INSIDE)
		r->ops->send_inside(r->ctx, f, len);
	else
		r->ops->send_outside(r->ctx, f, len);
}

static bool zero_ip(const u8 *ip)
{
	return !be32_get(ip);
}

/* Whether ip is on the side's subnet. */
static bool on_link(const struct nat_side *s, const u8 *ip)
{
	u32 m = be32_get(s->mask);

	return (be32_get(ip) & m) == (be32_get(s->ip) & m);
}

void nat_router_init(struct nat_router *r, const struct nat_router_ops *ops,
		     void *ctx, u64 hz, const u8 *in_mac, const u8 *in_ip,
		     const u8 *in_mask, const u8 *out_mac)
{
	memset(r, 0, sizeof(*r));
	r->ops = ops;
	r->ctx = ctx;
	r->hz = hz;
	memcpy(r->in.mac, in_mac, ETH_ALEN);
	memcpy(r->in.ip, in_ip, IPV4_ALEN);
	memcpy(r->in.mask, in_mask, IPV4_ALEN);
	memcpy(r->out.mac, out_mac, ETH_ALEN);
	nat_init(&r->nat, ipv4_any, hz);
}

/* Forgets the outside neighbours (a new address may be a new LAN). */
static void forget_outside(struct nat_router *r)
{
	memset(r->out.nb, 0, sizeof(r->out.nb));
}

void nat_router_address(struct nat_router *r, const u8 *ip, const u8 *mask,
			const u8 *gw, const u8 *dns)
{
	if (memcmp(r->out.ip, ip, IPV4_ALEN))
		forget_outside(r);
	memcpy(r->out.ip, ip, IPV4_ALEN);
	memcpy(r->out.mask, mask, IPV4_ALEN);
	memcpy(r->gateway, gw, IPV4_ALEN);
	memcpy(r->dns, dns, IPV4_ALEN);
	r->addressed = !zero_ip(ip);
	nat_set_outside(&r->nat, ip);
	if (r->tcp)
		tcp_set_ip(r->tcp, ip);
	memset(r->nat.relay, 0, sizeof(r->nat.relay));
	if (r->addressed && !zero_ip(dns)) {
		nat_set_relay(&r->nat, NAT_UDP, DNS_PORT, r->in.ip, dns);
		nat_set_relay(&r->nat, NAT_TCP, DNS_PORT, r->in.ip, dns);
	}
}

void nat_router_use_dhcp(struct nat_router *r, u32 xid_seed)
{
	r->use_dhcp = true;
	dhcp_client_init(&r->dhcp, r->out.mac, xid_seed, r->hz);
}

/* ---- neighbours (ARP, RFC 826) ---- */

static struct nat_neigh *neigh_find(struct nat_side *s, const u8 *ip)
{
	for (u32 i = 0; i < NAT_NEIGH_MAX; i++)
		if (s->nb[i].used && !memcmp(s->nb[i].ip, ip, IPV4_ALEN))
			return &s->nb[i];
	return NULL;
}

/* An entry for ip: its own, a free one, or the oldest. */
static struct nat_neigh *neigh_get(struct nat_side *s, const u8 *ip)
{
	struct nat_neigh *n = neigh_find(s, ip), *old = NULL;

	for (u32 i = 0; !n && i < NAT_NEIGH_MAX; i++) {
		if (!s->nb[i].used) {
			n = &s->nb[i];
			break;
		}
		if (!old || s->nb[i].when < old->when)
			old = &s->nb[i];
	}
	n = n ? n : old;
	if (!n->used || memcmp(n->ip, ip, IPV4_ALEN)) {
		memset(n, 0, sizeof(*n));
		n->used = true;
		memcpy(n->ip, ip, IPV4_ALEN);
	}
	return n;
}

/* Holds frame f for next hop ip on side s; with every slot taken, the
   oldest packet gives way (counted). */
static void hold(struct nat_router *r, enum side s, const u8 *ip,
		 const u8 *f, u32 len, u64 now)
{
	struct nat_held *h = NULL;

	for (u32 i = 0; i < NAT_HELD_MAX; i++) {
		if (!r->held[i].used) {
			h = &r->held[i];
			break;
		}
		if (!h || r->held[i].when < h->when)
			h = &r->held[i];
	}
	r->stats.unresolved += h->used;
	h->used = true;
	h->side = (u8)s;
	h->when = now;
	h->len = len;
	memcpy(h->ip, ip, IPV4_ALEN);
	memcpy(h->frame, f, len);
}

/* Sends frame f (Ethernet header still to fill) to n's MAC. */
static void send_to_mac(struct nat_router *r, enum side s,
			const struct nat_neigh *n, u8 *f, u32 len)
{
	eth_put(f, n->mac, side_of(r, s)->mac, ETHERTYPE_IPV4);
	send(r, s, f, len);
}

/* Asks who has n's address (broadcast request). */
static void arp_ask(struct nat_router *r, enum side s, struct nat_neigh *n,
		    u64 now)
{
	struct nat_side *sd = side_of(r, s);
	u8 f[ETH_HLEN + ARP_LEN];

	n->when = now;
	n->tries++;
	send(r, s, f, arp_frame(f, eth_broadcast, ARP_OP_REQUEST, sd->mac,
				 sd->ip, no_mac, n->ip));
	r->stats.arp_requests++;
}

/* A packet (frame f, len bytes) for next hop ip on side s: sent if its
   MAC is known, else held while ARP asks. */
static void send_ip(struct nat_router *r, enum side s, const u8 *ip, u8 *f,
		    u32 len, u64 now)
{
	struct nat_neigh *n = neigh_find(side_of(r, s), ip);

	if (n && n->resolved && now - n->when <= NAT_NEIGH_TTL_S * r->hz) {
		send_to_mac(r, s, n, f, len);
		return;
	}
	n = neigh_get(side_of(r, s), ip);
	hold(r, s, ip, f, len, now);
	if (n->resolved) {              /* stale: ask again, from scratch */
		n->resolved = false;
		n->tries = 0;
	}
	if (!n->tries || now - n->when >= NAT_ARP_RETRY_S * r->hz)
		arp_ask(r, s, n, now);
}

/* The packets held for n on side s: sent (n resolved) or dropped. */
static void release(struct nat_router *r, enum side s, struct nat_neigh *n)
{
	for (u32 i = 0; i < NAT_HELD_MAX; i++) {
		struct nat_held *h = &r->held[i];

		if (!h->used || h->side != s || memcmp(h->ip, n->ip, IPV4_ALEN))
			continue;
		if (n->resolved)
			send_to_mac(r, s, n, h->frame, h->len);
		else
			r->stats.unresolved++;
		h->used = false;
	}
}

/* n's address is at mac (learned now): the packets held for it go. */
static void resolved(struct nat_router *r, enum side s, struct nat_neigh *n,
		     const u8 *mac, u64 now)
{
	memcpy(n->mac, mac, ETH_ALEN);
	n->resolved = true;
	n->when = now;
	n->tries = 0;
	release(r, s, n);
}

/* What an ARP message from side s teaches (RFC 826's merge: the sender's
   address is on the link): packets held for it go out now. */
static void arp_learn(struct nat_router *r, enum side s, const u8 *a,
		      u64 now)
{
	struct nat_side *sd = side_of(r, s);
	const u8 *spa = a + ARP_SPA_OFF;
	struct nat_neigh *n = neigh_find(sd, spa);

	if (!n && (memcmp(a + ARP_TPA_OFF, sd->ip, IPV4_ALEN) ||
		   !on_link(sd, spa) || zero_ip(spa)))
		return;              /* not about us: no new entry */
	resolved(r, s, n ? n : neigh_get(sd, spa), a + ARP_SHA_OFF, now);
}

/* ARP on side s: learn, and answer a request for our address. */
static void arp_input(struct nat_router *r, enum side s, const u8 *a,
		      u64 now)
{
	struct nat_side *sd = side_of(r, s);
	u8 f[ETH_HLEN + ARP_LEN];

	arp_learn(r, s, a, now);
	if (s == INSIDE || !r->addressed ||
	    be16_get(a + ARP_OP_OFF) != ARP_OP_REQUEST ||
	    memcmp(a + ARP_TPA_OFF, sd->ip, IPV4_ALEN))
		return;               /* inside, netif answers for uhv */
	send(r, s, f, arp_frame(f, a + ARP_SHA_OFF, ARP_OP_REPLY, sd->mac,
				 sd->ip, a + ARP_SHA_OFF, a + ARP_SPA_OFF));
	r->stats.arp_replies++;
}

/* ---- routing ---- */

/* One hop less (RFC 1812 §5.2.4.2 and §5.3.1): false if the packet's
   time is up (dropped, counted; no ICMP time-exceeded is sent). The
   header checksum follows (RFC 1624: the TTL/protocol word changed). */
static bool hop(struct nat_router *r, u8 *ip)
{
	u16 old = be16_get(ip + IP_TTL_OFF);

	if (ip[IP_TTL_OFF] <= 1) {
		r->stats.ttl_expired++;
		return false;
	}
	ip[IP_TTL_OFF]--;
	inet_csum_update16(ip + IP_CSUM_OFF, old, be16_get(ip + IP_TTL_OFF));
	return true;
}

/* Whether a VM's packet to uhv's inside address is one the router
   relays (DNS over UDP or TCP, with a resolver known). */
static bool relayed(const struct nat_router *r, const u8 *ip, u32 hlen)
{
	u8 proto = ip[IP_PROTO_OFF];

	return (proto == IP_PROTO_UDP || proto == IP_PROTO_TCP) &&
	       be16_get(ip + hlen + UDP_DPORT_OFF) == DNS_PORT &&
	       !zero_ip(r->dns);
}

/* The outside next hop for dst: itself on the uplink's subnet, else the
   gateway; NULL if there is none. */
static const u8 *next_hop(const struct nat_router *r, const u8 *dst)
{
	if (on_link(&r->out, dst))
		return dst;
	return zero_ip(r->gateway) ? NULL : r->gateway;
}

/* A VM that sends through the router is its own neighbour entry (its
   source MAC and address), so answers need no ARP round first. */
static void inside_learn(struct nat_router *r, const u8 *frame,
			 const u8 *ip, u64 now)
{
	const u8 *src = ip + IP_SRC_OFF;

	struct nat_neigh *n;

	if (frame[ETH_ALEN] & GROUP_BIT)
		return;               /* (the source address is checked) */
	n = neigh_find(&r->in, src);
	if (n && n->resolved && !memcmp(n->mac, frame + ETH_ALEN, ETH_ALEN)) {
		n->when = now;           /* known: nothing held for it */
		return;
	}
	resolved(r, INSIDE, n ? n : neigh_get(&r->in, src), frame + ETH_ALEN, now);
}

void nat_router_inside(struct nat_router *r, const u8 *frame, u32 len,
		       u64 now)
{
	const u8 *a = arp_msg(frame, len), *ip = frame + ETH_HLEN, *via;
	u8 *pkt = r->buf + ETH_HLEN;
	u32 hlen, total;

	if (a) {
		arp_input(r, INSIDE, a, now);
		return;
	}
	if (memcmp(frame, r->in.mac, ETH_ALEN) ||
	    !ipv4_frame(frame, len, &hlen, &total))
		return;              /* not for the router */
	if (!on_link(&r->in, ip + IP_SRC_OFF) || zero_ip(ip + IP_SRC_OFF) ||
	    !memcmp(ip + IP_SRC_OFF, r->in.ip, IPV4_ALEN)) {
		r->stats.spoofed++;  /* its answers could reach no VM */
		return;
	}
	inside_learn(r, frame, ip, now);
	if (!r->addressed) {
		r->stats.no_address++;
		return;
	}
	if (on_link(&r->in, ip + IP_DST_OFF) &&
	    (memcmp(ip + IP_DST_OFF, r->in.ip, IPV4_ALEN) ||
	     !relayed(r, ip, hlen))) {
		r->stats.not_routed++;
		return;
	}
	memcpy(pkt, ip, total);
	if (nat_outbound(&r->nat, pkt, total, now) != NAT_PASS || !hop(r, pkt))
		return;              /* counted by the translator or hop */
	if (!(via = next_hop(r, pkt + IP_DST_OFF))) {
		r->stats.no_route++;
		return;
	}
	r->stats.out++;
	send_ip(r, OUTSIDE, via, r->buf, ETH_HLEN + total, now);
}

/* A UDP datagram to the DHCP client's port (ip: its IPv4 header). */
static bool dhcp_input(struct nat_router *r, const u8 *ip, u32 hlen,
		       u32 total, u64 now)
{
	const u8 *udp = ip + hlen;
	u32 ulen;

	if (!r->use_dhcp || ip[IP_PROTO_OFF] != IP_PROTO_UDP ||
	    be16_get(udp + UDP_DPORT_OFF) != DHCP_CLIENT_UDP)
		return false;
	ulen = MIN((u32)be16_get(udp + UDP_LEN_OFF), total - hlen);
	if (ulen >= UDP_HLEN &&
	    dhcp_client_input(&r->dhcp, udp + UDP_HLEN, ulen - UDP_HLEN, now)) {
		const struct dhcpc_lease *l = &r->dhcp.lease;

		nat_router_address(r, l->ip, l->mask, l->router, l->dns);
	}
	return true;
}

void nat_router_attach_tcp(struct nat_router *r, struct tcp *t)
{
	r->tcp = t;
	tcp_set_ip(t, r->out.ip);
}

/* uhv's TCP sends seg to ip: framed from the outside address, to the
   next hop (ARP as for any packet). */
static void tcp_send(void *ctx, const u8 *ip, const u8 *seg, u32 len)
{
	struct nat_router *r = ctx;
	const u8 *via = next_hop(r, ip);
	u32 flen;

	if (!r->addressed || !via || len > ETH_FRAME_MAX - ETH_HLEN - IP_MIN_HLEN)
		return;
	flen = ip_frame(r->tcp_buf, eth_broadcast, r->out.mac, r->out.ip, ip,
			IP_PROTO_TCP, seg, len);
	send_ip(r, OUTSIDE, via, r->tcp_buf, flen, r->now);
}

const struct tcp_ops nat_router_tcp_ops = { tcp_send };

/* A TCP segment to the outside address that uhv's own TCP takes. */
static bool own_tcp(struct nat_router *r, const u8 *ip, u32 hlen, u32 total,
		    u64 now)
{
	const u8 *seg = ip + hlen;

	if (!r->tcp || ip[IP_PROTO_OFF] != IP_PROTO_TCP ||
	    total - hlen < UDP_HLEN ||
	    !tcp_wants(r->tcp, ip + IP_SRC_OFF, be16_get(seg + UDP_SPORT_OFF),
		       be16_get(seg + UDP_DPORT_OFF)))
		return false;
	r->now = now;
	tcp_input(r->tcp, ip + IP_SRC_OFF, seg, total - hlen, now);
	return true;
}

/* A frame on the uplink for us: our MAC, or broadcast (ARP, DHCP). */
static bool for_us(const struct nat_router *r, const u8 *frame)
{
	return !memcmp(frame, r->out.mac, ETH_ALEN) ||
	       !memcmp(frame, eth_broadcast, ETH_ALEN);
}

void nat_router_outside(struct nat_router *r, const u8 *frame, u32 len,
			u64 now)
{
	const u8 *a = arp_msg(frame, len), *ip = frame + ETH_HLEN;
	u8 *pkt = r->buf + ETH_HLEN;
	u32 hlen, total, rlen;

	if (len < ETH_HLEN || !for_us(r, frame)) {
		r->stats.ignored++;
		return;
	}
	if (a) {
		arp_input(r, OUTSIDE, a, now);
		return;
	}
	if (!ipv4_frame(frame, len, &hlen, &total) ||
	    dhcp_input(r, ip, hlen, total, now))
		return;
	if (!r->addressed || memcmp(ip + IP_DST_OFF, r->out.ip, IPV4_ALEN)) {
		r->stats.ignored++;
		return;
	}
	if (own_tcp(r, ip, hlen, total, now))
		return;
	if (ip[IP_PROTO_OFF] == IP_PROTO_ICMP &&
	    (rlen = icmp_echo_answer(r->buf, frame, len, r->out.mac, r->out.ip))) {
		r->stats.echo_replies++;
		send(r, OUTSIDE, r->buf, rlen);
		return;
	}
	memcpy(pkt, ip, total);
	if (nat_inbound(&r->nat, pkt, total, now) != NAT_PASS || !hop(r, pkt))
		return;
	r->stats.in++;
	send_ip(r, INSIDE, pkt + IP_DST_OFF, r->buf, ETH_HLEN + total, now);
}

/* ---- timers ---- */

/* Re-asks for addresses still unanswered; gives up after NAT_ARP_TRIES
   (the packets held for them are dropped). */
static void arp_retry(struct nat_router *r, enum side s, u64 now)
{
	struct nat_side *sd = side_of(r, s);

	for (u32 i = 0; i < NAT_NEIGH_MAX; i++) {
		struct nat_neigh *n = &sd->nb[i];

		if (!n->used || n->resolved || now - n->when < NAT_ARP_RETRY_S * r->hz)
			continue;
		if (n->tries < NAT_ARP_TRIES) {
			arp_ask(r, s, n, now);
			continue;
		}
		release(r, s, n);
		n->used = false;
	}
}

/* The DHCP client's message due now, if any, out on the uplink: from
   0.0.0.0 while it has no address (§4.1), broadcast unless renewing. */
static void dhcp_poll(struct nat_router *r, u64 now)
{
	u8 msg[DHCPC_MSG_MAX], to[IPV4_ALEN];
	bool had = dhcp_client_bound(&r->dhcp);
	u32 len = dhcp_client_poll(&r->dhcp, now, msg, to);
	const u8 *from = dhcp_client_bound(&r->dhcp) ? r->out.ip : ipv4_any;
	u32 flen;

	if (had && !dhcp_client_bound(&r->dhcp))     /* the lease ended */
		nat_router_address(r, ipv4_any, ipv4_any, ipv4_any, ipv4_any);
	if (!len)
		return;
	flen = udp_frame(r->buf, eth_broadcast, r->out.mac, from,
			 DHCP_CLIENT_UDP, to, DHCP_SERVER_UDP, msg, len);
	if (!memcmp(to, ipv4_broadcast, IPV4_ALEN))
		send(r, OUTSIDE, r->buf, flen);
	else
		send_ip(r, OUTSIDE, to, r->buf, flen, now);
}

void nat_router_tick(struct nat_router *r, u64 now)
{
	r->now = now;
	if (r->tcp)
		tcp_tick(r->tcp, now);
	arp_retry(r, INSIDE, now);
	arp_retry(r, OUTSIDE, now);
	if (r->use_dhcp)
		dhcp_poll(r, now);
	if (now >= r->next_expire) {
		nat_expire(&r->nat, now);
		r->next_expire = now + r->hz;
	}
}
