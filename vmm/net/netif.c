/*
 * ARP and ICMP echo for uhv's own address (see netif.h).
 *
 * The frames it reads and writes, after the 14-byte Ethernet header:
 *   ARP (EtherType 0x0806, RFC 826): htype 1, ptype 0x0800, hlen 6, plen 4,
 *     op (1 request, 2 reply), sha, spa, tha, tpa
 *   IPv4 (0x0800, RFC 791): version/IHL, ..., protocol 1 (ICMP), header
 *     checksum, source, destination; ICMP (RFC 792): type 8 request /
 *     0 reply, code, checksum, identifier, sequence, data
 */
#include "vmm/net/netif.h"
#include "vmm/net/dhcp_server.h"
#include "vmm/net/inet_csum.h"
#include "lib/string.h"
#include "lib/bytes.h"

#define ETHERTYPE_ARP  0x0806
#define ETHERTYPE_IPV4 0x0800
#define ARP_LEN        28
#define ARP_OP_REQUEST 1
#define ARP_OP_REPLY   2
#define ARP_OP_OFF     6
#define ARP_SHA_OFF    8
#define ARP_SPA_OFF    14
#define ARP_THA_OFF    18
#define ARP_TPA_OFF    24
static const u8 arp_fixed[6] = { 0, 1, 8, 0, ETH_ALEN, IPV4_ALEN };
#define IP_MIN_HLEN    20
#define IP_PROTO_OFF   9
#define IP_CSUM_OFF    10
#define IP_SRC_OFF     12
#define IP_DST_OFF     16
#define IP_PROTO_ICMP  1
#define ICMP_ECHO_REQUEST 8
#define ICMP_ECHO_REPLY   0
#define ICMP_CSUM_OFF  2
#define IP_TOTAL_OFF   2
#define IP_TTL_OFF     8
#define IP_PROTO_UDP   17
#define IP_VERSION_IHL 0x45            /* version 4, 20-byte header */
#define IP_TTL         64
#define UDP_HLEN       8
#define UDP_SPORT_OFF  0
#define UDP_DPORT_OFF  2
#define UDP_LEN_OFF    4
#define UDP_CSUM_OFF   6
#define UDP_CSUM_ZERO  0xffff          /* a sum of 0, sent (RFC 768) */
static const u8 broadcast[ETH_ALEN] = { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff };
static const u8 ip_broadcast[IPV4_ALEN] = { 255, 255, 255, 255 };

int netif_attach(struct netif *n, struct bridge *b, int net,
		 const u8 *mac, const u8 *ip)
{
	static const struct bridge_port_ops ops = { .deliver = netif_receive };
	struct bridge_port_config cfg = { "uhv", mac, &ops, n, 0, 0 };

	memset(n, 0, sizeof(*n));
	n->br = b;
	memcpy(n->mac, mac, ETH_ALEN);
	memcpy(n->ip, ip, IPV4_ALEN);
	n->port = bridge_attach(b, net, &cfg);
	return n->port < 0 ? -1 : 0;
}

/* A slot for an answer of len bytes, its Ethernet header filled in. */
static u8 *answer(struct netif *n, const u8 *to, u16 type, u32 len)
{
	u8 *f;

	if (n->queued == NETIF_QUEUE) {
		n->overflow++;
		return NULL;
	}
	f = n->queue[n->queued];
	n->queue_len[n->queued++] = len;
	memcpy(f, to, ETH_ALEN);
	memcpy(f + ETH_ALEN, n->mac, ETH_ALEN);
	be16_put(f + 2 * ETH_ALEN, type);
	return f;
}

static bool arp(struct netif *n, const u8 *a)
{
	u8 *r;

	if (memcmp(a, arp_fixed, sizeof(arp_fixed)) ||
	    be16_get(a + ARP_OP_OFF) != ARP_OP_REQUEST ||
	    memcmp(a + ARP_TPA_OFF, n->ip, IPV4_ALEN))
		return false;
	r = answer(n, a + ARP_SHA_OFF, ETHERTYPE_ARP, ETH_HLEN + ARP_LEN);
	if (!r)
		return true;
	r += ETH_HLEN;
	memcpy(r, arp_fixed, sizeof(arp_fixed));
	be16_put(r + ARP_OP_OFF, ARP_OP_REPLY);
	memcpy(r + ARP_SHA_OFF, n->mac, ETH_ALEN);
	memcpy(r + ARP_SPA_OFF, n->ip, IPV4_ALEN);
	memcpy(r + ARP_THA_OFF, a + ARP_SHA_OFF, ETH_ALEN);
	memcpy(r + ARP_TPA_OFF, a + ARP_SPA_OFF, IPV4_ALEN);
	n->arp_replies++;
	return true;
}

/* The IPv4 packet in frame: *hlen its header's length, *total its own
   (at least hlen + 8: room for an ICMP or UDP header); false if it is
   not one, or runs past the frame. */
static bool ipv4(const u8 *frame, u32 len, u32 *hlen, u32 *total)
{
	const u8 *ip = frame + ETH_HLEN;

	if (len < ETH_HLEN + IP_MIN_HLEN || (ip[0] >> 4) != 4)
		return false;
	*hlen = (ip[0] & 0xfU) * 4;
	*total = be16_get(ip + IP_TOTAL_OFF);
	return *hlen >= IP_MIN_HLEN && *total >= *hlen + 8 &&
	       ETH_HLEN + *total <= len;
}

/* An echo request to our address: the same packet back, turned around. */
static bool icmp_echo(struct netif *n, const u8 *frame, u32 len)
{
	const u8 *ip = frame + ETH_HLEN;
	u32 hlen, total;
	u8 *r, *rip, *icmp;

	if (!ipv4(frame, len, &hlen, &total) ||
	    ip[IP_PROTO_OFF] != IP_PROTO_ICMP || ip[hlen] != ICMP_ECHO_REQUEST ||
	    memcmp(ip + IP_DST_OFF, n->ip, IPV4_ALEN))
		return false;
	r = answer(n, frame + ETH_ALEN, ETHERTYPE_IPV4, ETH_HLEN + total);
	if (!r)
		return true;
	rip = r + ETH_HLEN;
	memcpy(rip, ip, total);
	memcpy(rip + IP_SRC_OFF, n->ip, IPV4_ALEN);
	memcpy(rip + IP_DST_OFF, ip + IP_SRC_OFF, IPV4_ALEN);
	be16_put(rip + IP_CSUM_OFF, 0);
	be16_put(rip + IP_CSUM_OFF, inet_fold(inet_sum(rip, hlen, 0)));
	icmp = rip + hlen;
	icmp[0] = ICMP_ECHO_REPLY;
	be16_put(icmp + ICMP_CSUM_OFF, 0);
	be16_put(icmp + ICMP_CSUM_OFF, inet_fold(inet_sum(icmp, total - hlen, 0)));
	n->echo_replies++;
	return true;
}

/* The DHCP server's answer (payload, len bytes) from port 67 to 68,
   broadcast: a client without an address takes it there (RFC 2131
   §4.1), whatever its broadcast flag says. */
static void dhcp_answer(struct netif *n, const u8 *payload, u32 len)
{
	u32 total = IP_MIN_HLEN + UDP_HLEN + len;
	u8 *r = answer(n, broadcast, ETHERTYPE_IPV4, ETH_HLEN + total), *ip, *udp;
	u64 pseudo;
	u16 csum;

	if (!r)
		return;
	ip = r + ETH_HLEN;
	udp = ip + IP_MIN_HLEN;
	memset(ip, 0, IP_MIN_HLEN + UDP_HLEN);
	ip[0] = IP_VERSION_IHL;
	be16_put(ip + IP_TOTAL_OFF, (u16)total);
	ip[IP_TTL_OFF] = IP_TTL;
	ip[IP_PROTO_OFF] = IP_PROTO_UDP;
	memcpy(ip + IP_SRC_OFF, n->ip, IPV4_ALEN);
	memcpy(ip + IP_DST_OFF, ip_broadcast, IPV4_ALEN);
	be16_put(ip + IP_CSUM_OFF, inet_fold(inet_sum(ip, IP_MIN_HLEN, 0)));
	be16_put(udp + UDP_SPORT_OFF, DHCP_SERVER_PORT);
	be16_put(udp + UDP_DPORT_OFF, DHCP_CLIENT_PORT);
	be16_put(udp + UDP_LEN_OFF, (u16)(UDP_HLEN + len));
	memcpy(udp + UDP_HLEN, payload, len);
	/* RFC 768: the pseudo-header (addresses, protocol, UDP length) */
	pseudo = inet_sum(ip + IP_SRC_OFF, 2 * IPV4_ALEN, IP_PROTO_UDP + UDP_HLEN + len);
	csum = inet_fold(inet_sum(udp, UDP_HLEN + len, pseudo));
	be16_put(udp + UDP_CSUM_OFF, csum ? csum : UDP_CSUM_ZERO);
	n->dhcp_replies++;
}

/* A datagram to the DHCP server's port, broadcast or to our address. */
static bool dhcp(struct netif *n, const u8 *frame, u32 len)
{
	const u8 *ip = frame + ETH_HLEN, *udp;
	u8 reply[DHCP_REPLY_MAX];
	u32 hlen, total, ulen, rlen;

	if (!n->dhcp || !ipv4(frame, len, &hlen, &total) ||
	    ip[IP_PROTO_OFF] != IP_PROTO_UDP ||
	    be16_get(ip + hlen + UDP_DPORT_OFF) != DHCP_SERVER_PORT ||
	    (memcmp(ip + IP_DST_OFF, n->ip, IPV4_ALEN) &&
	     memcmp(ip + IP_DST_OFF, ip_broadcast, IPV4_ALEN)))
		return false;
	udp = ip + hlen;
	ulen = MIN((u32)be16_get(udp + UDP_LEN_OFF), total - hlen);
	if (ulen < UDP_HLEN)
		return false;
	rlen = dhcp_server_handle(n->dhcp, udp + UDP_HLEN, ulen - UDP_HLEN,
				  reply, n->now());
	if (rlen)
		dhcp_answer(n, reply, rlen);
	return true;
}

void netif_serve_dhcp(struct netif *n, struct dhcp_server *d, u64 (*now)(void))
{
	n->dhcp = d;
	n->now = now;
}

bool netif_receive(void *ctx, const u8 *frame, u32 len)
{
	struct netif *n = ctx;
	u16 type = len >= ETH_HLEN ? be16_get(frame + 2 * ETH_ALEN) : 0;
	bool handled = false;

	if (type == ETHERTYPE_ARP && len >= ETH_HLEN + ARP_LEN)
		handled = arp(n, frame + ETH_HLEN);
	else if (type == ETHERTYPE_IPV4)
		handled = icmp_echo(n, frame, len) || dhcp(n, frame, len);
	n->ignored += !handled;
	return true;                 /* taken: uhv never lacks a buffer */
}

void netif_flush(struct netif *n, u64 now)
{
	for (int i = 0; i < n->queued; i++)
		bridge_send(n->br, n->port, n->queue[i], n->queue_len[i], now);
	n->queued = 0;
}
