/*
 * NAPT (vmm/net/nat.h). A connection is the 5-tuple as the VM sees it
 * (protocol, its address and port, the far end's) plus the port uhv
 * gave it outside. Mapping is endpoint-independent (RFC 4787 REQ-1: one
 * VM address and port keep one outside port, whatever the far end), and
 * filtering is address-and-port-dependent (only the far end of a
 * connection gets in, or whoever a port forward lets in).
 */
#include "vmm/net/nat.h"
#include "vmm/net/inet_csum.h"
#include "lib/string.h"
#include "lib/bytes.h"

/* IPv4 header (RFC 791 §3.1): byte offsets and fields. */
#define IP_VER_IHL      0
#define IP_TOTAL_LEN    2
#define IP_FRAG         6
#define IP_PROTO        9
#define IP_CSUM         10
#define IP_SRC          12
#define IP_DST          16
#define IP_MIN_HLEN     20
#define IP_VERSION_4    4
#define IP_VER_SHIFT    4
#define IP_IHL_MASK     0xf
#define IP_WORD         4               /* IHL counts 32-bit words */
#define IP_FRAG_OFFSET  0x1fff          /* in 8-byte units; 0: first */
/* Transport headers (RFC 9293 §3.1, RFC 768, RFC 792): offsets. */
#define L4_SPORT        0
#define L4_DPORT        2
#define TCP_FLAGS       13
#define TCP_CSUM        16
#define TCP_MIN_LEN     20
#define UDP_CSUM        6
#define UDP_LEN         8
#define ICMP_CSUM       2
#define ICMP_ID         4
#define ICMP_LEN        8               /* type, code, csum, id, seq */
#define ICMP_QUOTE      8               /* an error quotes IP + 8 bytes */
#define TCP_FIN         0x01
#define TCP_SYN         0x02
#define TCP_RST         0x04
#define TCP_ACK         0x10
/* ICMP types (RFC 792) translated: echo and the errors that quote. */
#define ICMP_ECHO_REPLY       0
#define ICMP_DEST_UNREACH     3
#define ICMP_ECHO_REQUEST     8
#define ICMP_TIME_EXCEEDED    11
#define ICMP_PARAM_PROBLEM    12
#define CSUM_ALL_ONES   0xffff

/* A parsed packet: where its header, transport header and end are. */
struct pkt {
	u8 *ip, *l4;
	u32 l4_len;
	u8 proto;
};

/* Keeps checksum c right after a 16-bit word it covers went from old to
   new, without summing the data again: RFC 1624 eqn. 3,
   HC' = ~(~HC + ~m + m'). A UDP checksum that comes out 0 is sent as
   all ones, its other form, since 0 means "none" there (RFC 768). */
static void csum_fix(u8 *c, u16 old, u16 new, bool udp)
{
	inet_csum_update16(c, old, new);
	if (udp && !be16_get(c))
		be16_put(c, CSUM_ALL_ONES);
}

/*
 * Changes the word at f to v and keeps every checksum over it right:
 * sum0 and sum1 (NULL: none; sum1 a UDP one if udp, which stays 0 when
 * it is 0: no checksum) cover f; outer (NULL: none) covers f and both of
 * them, as an ICMP error's checksum covers the packet it quotes.
 */
static void rewrite16(u8 *f, u16 v, u8 *sum0, u8 *sum1, bool udp, u8 *outer)
{
	u8 *sum[2] = { sum0, udp && sum1 && !be16_get(sum1) ? NULL : sum1 };
	u16 old = be16_get(f);

	be16_put(f, v);
	if (outer)
		csum_fix(outer, old, v, false);
	for (int i = 0; i < 2; i++) {
		u16 before;

		if (!sum[i])
			continue;
		before = be16_get(sum[i]);
		csum_fix(sum[i], old, v, udp && i == 1);
		if (outer)
			csum_fix(outer, before, be16_get(sum[i]), false);
	}
}

/* rewrite16 for an IPv4 address (two words) at f. */
static void rewrite_addr(u8 *f, const u8 *a, u8 *sum0, u8 *sum1, bool udp,
			 u8 *outer)
{
	rewrite16(f, be16_get(a), sum0, sum1, udp, outer);
	rewrite16(f + 2, be16_get(a + 2), sum0, sum1, udp, outer);
}

/* Finds the IPv4 header's length and the transport header; false if
   the packet is not a whole, well-formed IPv4 packet (header checksum
   included). *frag says whether it is a later fragment. */
static bool parse(u8 *ip, u32 len, struct pkt *p, bool *frag)
{
	u32 hlen, total;

	if (len < IP_MIN_HLEN || ip[IP_VER_IHL] >> IP_VER_SHIFT != IP_VERSION_4)
		return false;
	hlen = (ip[IP_VER_IHL] & IP_IHL_MASK) * IP_WORD;
	total = be16_get(ip + IP_TOTAL_LEN);
	if (hlen < IP_MIN_HLEN || total < hlen || total > len ||
	    inet_fold(inet_sum(ip, hlen, 0)) != 0)     /* RFC 1071: sums to ~0 */
		return false;
	*p = (struct pkt){ ip, ip + hlen, total - hlen, ip[IP_PROTO] };
	*frag = (be16_get(ip + IP_FRAG) & IP_FRAG_OFFSET) != 0;
	return true;
}

/* ---- the connection table ---- */

static const char *const drop_names[NAT_DROP_MAX] = {
	[NAT_DROP_MALFORMED] = "malformed",
	[NAT_DROP_PROTOCOL] = "protocol",
	[NAT_DROP_FRAGMENT] = "fragment",
	[NAT_DROP_NO_CONN] = "no_conn",
	[NAT_DROP_TABLE_FULL] = "table_full",
};

const char *nat_drop_name(enum nat_verdict v)
{
	return v > NAT_PASS && v < NAT_DROP_MAX ? drop_names[v] : "?";
}

static enum nat_verdict drop(struct nat *n, enum nat_verdict why)
{
	n->stats.drops[why]++;
	return why;
}

void nat_init(struct nat *n, const u8 *out_ip, u64 hz)
{
	memset(n, 0, sizeof(*n));
	memcpy(n->out_ip, out_ip, 4);
	n->hz = hz;
	n->next_port = NAT_PORT_FIRST;
}

/* How long c may stay quiet, in seconds (nat.h, after conntrack). */
static u64 timeout_s(const struct nat_conn *c)
{
	if (c->proto == NAT_ICMP)
		return NAT_ICMP_S;
	if (c->proto == NAT_UDP)
		return c->answered ? NAT_UDP_STREAM_S : NAT_UDP_S;
	if (c->tcp == NAT_TCP_OPEN)
		return NAT_TCP_ESTABLISHED_S;
	return c->tcp == NAT_TCP_RESET ? NAT_TCP_CLOSE_S : NAT_TCP_TRANSITORY_S;
}

static bool expired(const struct nat *n, const struct nat_conn *c, u64 now)
{
	return now > c->last && now - c->last > timeout_s(c) * n->hz;
}

void nat_expire(struct nat *n, u64 now)
{
	for (u32 i = 0; i < NAT_MAX_CONNS; i++)
		if (n->conn[i].used && expired(n, &n->conn[i], now)) {
			n->conn[i].used = false;
			n->stats.expired++;
		}
}

u32 nat_used(const struct nat *n)
{
	u32 used = 0;

	for (u32 i = 0; i < NAT_MAX_CONNS; i++)
		used += n->conn[i].used;
	return used;
}

/* Whether outside port `port` of proto is taken (a forward or a
   connection's). */
static bool port_taken(const struct nat *n, u8 proto, u16 port)
{
	for (u32 i = 0; i < NAT_MAX_FORWARDS; i++)
		if (n->fwd[i].used && n->fwd[i].proto == proto &&
		    n->fwd[i].out_port == port)
			return true;
	for (u32 i = 0; i < NAT_MAX_CONNS; i++)
		if (n->conn[i].used && n->conn[i].proto == proto &&
		    n->conn[i].out_port == port)
			return true;
	return false;
}

int nat_set_relay(struct nat *n, u8 proto, u16 port, const u8 *shown,
		  const u8 *real)
{
	struct nat_relay *free = NULL;

	if ((proto != NAT_TCP && proto != NAT_UDP) || !port)
		return -1;
	for (u32 i = 0; i < NAT_MAX_RELAYS; i++) {
		struct nat_relay *r = &n->relay[i];

		if (r->used && r->proto == proto && r->port == port)
			free = r;
		else if (!r->used && !free)
			free = r;
	}
	if (!free)
		return -1;
	*free = (struct nat_relay){ true, proto, port,
		{ shown[0], shown[1], shown[2], shown[3] },
		{ real[0], real[1], real[2], real[3] } };
	return 0;
}

void nat_set_outside(struct nat *n, const u8 *out_ip)
{
	if (!memcmp(n->out_ip, out_ip, 4))
		return;
	memcpy(n->out_ip, out_ip, 4);
	for (u32 i = 0; i < NAT_MAX_CONNS; i++)
		n->conn[i].used = false;
}

/* Where a VM's packet of proto to dst:port really goes: a relay's real
   address, or dst itself. */
static const u8 *relayed(const struct nat *n, u8 proto, const u8 *dst, u16 port)
{
	for (u32 i = 0; i < NAT_MAX_RELAYS; i++) {
		const struct nat_relay *r = &n->relay[i];

		if (r->used && r->proto == proto && r->port == port &&
		    !memcmp(r->shown, dst, 4))
			return r->real;
	}
	return dst;
}

int nat_forward(struct nat *n, u8 proto, u16 out_port, const u8 *in_ip,
		u16 in_port)
{
	if ((proto != NAT_TCP && proto != NAT_UDP) || !out_port || !in_port ||
	    port_taken(n, proto, out_port))
		return -1;
	for (u32 i = 0; i < NAT_MAX_FORWARDS; i++)
		if (!n->fwd[i].used) {
			n->fwd[i] = (struct nat_forward){ true, proto, out_port,
				{ in_ip[0], in_ip[1], in_ip[2], in_ip[3] }, in_port };
			return 0;
		}
	return -1;
}

/* The outside port for the VM's (proto, ip, port): the one it already
   has (endpoint-independent mapping), else the next free one; 0 if the
   range is used up. */
static u16 outside_port(struct nat *n, u8 proto, const u8 *ip, u16 port)
{
	const u32 range = NAT_PORT_LAST - NAT_PORT_FIRST + 1;

	for (u32 i = 0; i < NAT_MAX_CONNS; i++) {
		const struct nat_conn *c = &n->conn[i];

		if (c->used && c->proto == proto && c->in_port == port &&
		    !memcmp(c->in_ip, ip, 4))
			return c->out_port;
	}
	for (u32 tries = 0; tries < range; tries++) {
		u16 p = n->next_port;

		n->next_port = p == NAT_PORT_LAST ? NAT_PORT_FIRST : (u16)(p + 1);
		if (!port_taken(n, proto, p))
			return p;
	}
	return 0;
}

/* A free slot; when the table is full, the quietest connection that is
   not an open TCP one or an answered flow gives way (as conntrack's
   early drop). NULL if every connection is in use. */
static struct nat_conn *free_slot(struct nat *n)
{
	struct nat_conn *victim = NULL;

	for (u32 i = 0; i < NAT_MAX_CONNS; i++) {
		struct nat_conn *c = &n->conn[i];

		if (!c->used)
			return c;
		if ((c->proto == NAT_TCP ? c->tcp != NAT_TCP_OPEN : !c->answered) &&
		    (!victim || c->last < victim->last))
			victim = c;
	}
	if (victim)
		n->stats.expired++;
	return victim;
}

/* ---- translation ---- */

/* The fields NAT rewrites in a transport header: the two ports (ICMP
   echo: the identifier, on the VM's side of the pair; 0 on the far
   end's) and the checksum, which covers the addresses too (pseudo) for
   TCP and UDP. */
struct l4 {
	u16 sport, dport;
	u8 *id;                    /* the field that holds the VM's port */
	u8 *csum;
	bool pseudo, udp;
};

/* p's transport fields; false if the header is cut short, or the kind
   is not translated (ICMP other than echo request out, reply in). */
static bool l4_fields(const struct pkt *p, bool inbound, struct l4 *t)
{
	u8 *h = p->l4;

	if (p->proto == NAT_TCP || p->proto == NAT_UDP) {
		if (p->l4_len < (p->proto == NAT_TCP ? TCP_MIN_LEN : UDP_LEN))
			return false;
		*t = (struct l4){ be16_get(h + L4_SPORT), be16_get(h + L4_DPORT),
			h + (inbound ? L4_DPORT : L4_SPORT),
			h + (p->proto == NAT_TCP ? TCP_CSUM : UDP_CSUM), true,
			p->proto == NAT_UDP };
		return true;
	}
	if (p->proto != NAT_ICMP || p->l4_len < ICMP_LEN ||
	    h[0] != (inbound ? ICMP_ECHO_REPLY : ICMP_ECHO_REQUEST))
		return false;
	*t = (struct l4){ inbound ? 0 : be16_get(h + ICMP_ID),
			  inbound ? be16_get(h + ICMP_ID) : 0, h + ICMP_ID,
			  h + ICMP_CSUM, false, false };
	return true;
}

/* The connection with this 5-tuple as seen from inside (VM address and
   port, far end as the VM addressed it) or, inbound, from outside (uhv's
   port, far end). */
static struct nat_conn *find(struct nat *n, u8 proto, bool inbound,
			     const u8 *ip, u16 port, const u8 *rem, u16 rem_port)
{
	for (u32 i = 0; i < NAT_MAX_CONNS; i++) {
		struct nat_conn *c = &n->conn[i];

		if (!c->used || c->proto != proto || c->rem_port != rem_port ||
		    memcmp(inbound ? c->rem_ip : c->seen_ip, rem, 4))
			continue;
		if (inbound ? c->out_port == port
			    : c->in_port == port && !memcmp(c->in_ip, ip, 4))
			return c;
	}
	return NULL;
}

/* A new connection (NULL if the table or the port range is full); the
   VM sees the far end rem as seen. */
static struct nat_conn *open_conn(struct nat *n, u8 proto, const u8 *in_ip,
				  u16 in_port, const u8 *rem, const u8 *seen,
				  u16 rem_port, u16 out_port)
{
	struct nat_conn *c;

	if (!out_port && !(out_port = outside_port(n, proto, in_ip, in_port)))
		return NULL;
	if (!(c = free_slot(n)))
		return NULL;
	*c = (struct nat_conn){ .used = true, .proto = proto,
		.in_port = in_port, .rem_port = rem_port, .out_port = out_port };
	memcpy(c->in_ip, in_ip, 4);
	memcpy(c->rem_ip, rem, 4);
	memcpy(c->seen_ip, seen, 4);
	n->stats.conns++;
	return c;
}

/* What a packet says about its connection: its time, an answer, TCP's
   progress (for the timeout only: the end hosts keep the real state). */
static void track(struct nat_conn *c, const struct pkt *p, bool inbound,
		  u64 now)
{
	u8 f = p->proto == NAT_TCP ? p->l4[TCP_FLAGS] : 0;

	c->last = now;
	c->answered |= inbound;
	if (f & TCP_RST)
		c->tcp = NAT_TCP_RESET;
	else if (f & TCP_FIN)
		c->tcp = NAT_TCP_CLOSING;
	else if (c->tcp == NAT_TCP_OPENING && c->answered &&
		 (f & (TCP_ACK | TCP_SYN)) == TCP_ACK)
		c->tcp = NAT_TCP_OPEN;
}

/* Parses pkt for either direction: NAT_PASS, or the drop cause. */
static enum nat_verdict prepare(struct nat *n, u8 *pkt, u32 len, struct pkt *p)
{
	bool frag;

	if (!parse(pkt, len, p, &frag))
		return drop(n, NAT_DROP_MALFORMED);
	return frag ? drop(n, NAT_DROP_FRAGMENT) : NAT_PASS;
}

/* Word f becomes v; what that adds to the checksums over it (RFC 1624
   eqn. 3's ~m + m'), summed for apply_delta. */
static u32 swap16(u8 *f, u16 v)
{
	u32 d = (u16)~be16_get(f) + (u32)v;

	be16_put(f, v);
	return d;
}

/* Applies the changes summed in d to the checksum at c (RFC 1624 eqn. 3,
   several words at once: HC' = ~(~HC + sum of (~m + m'))). A UDP
   checksum of 0 (none) stays 0, and one that comes out 0 is sent as all
   ones (RFC 768). */
static void apply_delta(u8 *c, u32 d, bool udp)
{
	u32 s;

	if (udp && !be16_get(c))
		return;
	s = (u16)~be16_get(c) + d;
	s = (s & CSUM_ALL_ONES) + (s >> 16);
	s = (s & CSUM_ALL_ONES) + (s >> 16);
	be16_put(c, (u16)~s || !udp ? (u16)~s : CSUM_ALL_ONES);
}

/* The translation itself: the address at addr (source out, destination
   in) and the VM-side port become ip and port, each checksum updated
   once for all three words (the fast path of every packet; ICMP errors
   take rewrite16's word-by-word way, as their checksums nest). */
static void translate(u8 *pkt, u32 addr, const u8 *ip, const struct l4 *t,
		      u16 port)
{
	u32 d_ip = swap16(pkt + addr, be16_get(ip)) +
		   swap16(pkt + addr + 2, be16_get(ip + 2));
	u32 d_l4 = (t->pseudo ? d_ip : 0) + swap16(t->id, port);

	apply_delta(pkt + IP_CSUM, d_ip, false);
	apply_delta(t->csum, d_l4, t->udp);
}

enum nat_verdict nat_outbound(struct nat *n, u8 *pkt, u32 len, u64 now)
{
	enum nat_verdict v;
	struct nat_conn *c;
	struct pkt p;
	struct l4 t;

	if ((v = prepare(n, pkt, len, &p)) != NAT_PASS)
		return v;
	if (!l4_fields(&p, false, &t))
		return drop(n, NAT_DROP_PROTOCOL);
	c = find(n, p.proto, false, pkt + IP_SRC, t.sport, pkt + IP_DST, t.dport);
	if (!c && !(c = open_conn(n, p.proto, pkt + IP_SRC, t.sport,
				  relayed(n, p.proto, pkt + IP_DST, t.dport),
				  pkt + IP_DST, t.dport, 0)))
		return drop(n, NAT_DROP_TABLE_FULL);
	track(c, &p, false, now);
	translate(pkt, IP_SRC, n->out_ip, &t, c->out_port);
	if (memcmp(c->seen_ip, c->rem_ip, 4))
		rewrite_addr(pkt + IP_DST, c->rem_ip, pkt + IP_CSUM,
			     t.pseudo ? t.csum : NULL, t.udp, NULL);
	n->stats.out++;
	return NAT_PASS;
}

/* A connection for a packet from outside to a forwarded port, to the VM
   the forward names; NULL if no forward has the port (or no room). */
static struct nat_conn *forwarded(struct nat *n, u8 proto, u16 port,
				  const u8 *rem, u16 rem_port)
{
	for (u32 i = 0; i < NAT_MAX_FORWARDS; i++) {
		const struct nat_forward *f = &n->fwd[i];

		if (f->used && f->proto == proto && f->out_port == port)
			return open_conn(n, proto, f->in_ip, f->in_port, rem,
					 rem, rem_port, port);
	}
	return NULL;
}

static bool is_icmp_error(u8 type)
{
	return type == ICMP_DEST_UNREACH || type == ICMP_TIME_EXCEEDED ||
	       type == ICMP_PARAM_PROBLEM;
}

/* The fields of the packet an ICMP error quotes (one uhv sent out: the
   IP header and at least 8 bytes, RFC 792): the ports are in those 8,
   TCP's checksum only if more was quoted. */
static bool quoted_fields(const struct pkt *q, struct l4 *t)
{
	u8 *h = q->l4;
	u32 off = q->proto == NAT_TCP ? TCP_CSUM : UDP_CSUM;

	if (q->l4_len < ICMP_QUOTE)
		return false;
	if (q->proto == NAT_TCP || q->proto == NAT_UDP) {
		*t = (struct l4){ be16_get(h + L4_SPORT), be16_get(h + L4_DPORT),
			h + L4_SPORT, q->l4_len >= off + 2 ? h + off : NULL,
			true, q->proto == NAT_UDP };
		return true;
	}
	if (q->proto != NAT_ICMP || h[0] != ICMP_ECHO_REQUEST)
		return false;
	*t = (struct l4){ be16_get(h + ICMP_ID), 0, h + ICMP_ID, h + ICMP_CSUM,
			  false, false };
	return true;
}

/*
 * An ICMP error about a packet uhv sent for a VM (RFC 5508 §4.2): the
 * quoted packet gets the VM's address and port back, with its header
 * checksum and (where quoted) its transport checksum, the ICMP checksum
 * following every word changed; then the error goes to the VM.
 */
static enum nat_verdict inbound_error(struct nat *n, struct pkt *p)
{
	u8 *q = p->l4 + ICMP_LEN, *icsum = p->l4 + ICMP_CSUM;
	u32 qlen = p->l4_len - ICMP_LEN, qh;
	struct nat_conn *c;
	struct pkt qp;
	struct l4 t;

	if (qlen < IP_MIN_HLEN || q[IP_VER_IHL] >> IP_VER_SHIFT != IP_VERSION_4)
		return drop(n, NAT_DROP_MALFORMED);
	qh = (q[IP_VER_IHL] & IP_IHL_MASK) * IP_WORD;
	if (qh < IP_MIN_HLEN || qlen < qh)
		return drop(n, NAT_DROP_MALFORMED);
	qp = (struct pkt){ q, q + qh, qlen - qh, q[IP_PROTO] };
	if (!quoted_fields(&qp, &t))
		return drop(n, NAT_DROP_PROTOCOL);
	if (memcmp(q + IP_SRC, n->out_ip, 4) ||
	    !(c = find(n, qp.proto, true, NULL, t.sport, q + IP_DST, t.dport)))
		return drop(n, NAT_DROP_NO_CONN);
	rewrite_addr(q + IP_SRC, c->in_ip, q + IP_CSUM,
		     t.pseudo ? t.csum : NULL, t.udp, icsum);
	rewrite16(t.id, c->in_port, NULL, t.csum, t.udp, icsum);
	if (memcmp(c->seen_ip, c->rem_ip, 4))
		rewrite_addr(q + IP_DST, c->seen_ip, q + IP_CSUM,
			     t.pseudo ? t.csum : NULL, t.udp, icsum);
	rewrite_addr(p->ip + IP_DST, c->in_ip, p->ip + IP_CSUM, NULL, false, NULL);
	n->stats.in++;
	return NAT_PASS;
}

enum nat_verdict nat_inbound(struct nat *n, u8 *pkt, u32 len, u64 now)
{
	enum nat_verdict v;
	struct nat_conn *c;
	struct pkt p;
	struct l4 t;

	if ((v = prepare(n, pkt, len, &p)) != NAT_PASS)
		return v;
	if (memcmp(pkt + IP_DST, n->out_ip, 4))
		return drop(n, NAT_DROP_NO_CONN);
	if (p.proto == NAT_ICMP && p.l4_len >= ICMP_LEN && is_icmp_error(p.l4[0]))
		return inbound_error(n, &p);
	if (!l4_fields(&p, true, &t))
		return drop(n, NAT_DROP_PROTOCOL);
	c = find(n, p.proto, true, NULL, t.dport, pkt + IP_SRC, t.sport);
	if (!c && !(c = forwarded(n, p.proto, t.dport, pkt + IP_SRC, t.sport)))
		return drop(n, NAT_DROP_NO_CONN);
	track(c, &p, true, now);
	translate(pkt, IP_DST, c->in_ip, &t, c->in_port);
	if (memcmp(c->seen_ip, c->rem_ip, 4))
		rewrite_addr(pkt + IP_SRC, c->seen_ip, pkt + IP_CSUM,
			     t.pseudo ? t.csum : NULL, t.udp, NULL);
	n->stats.in++;
	return NAT_PASS;
}
