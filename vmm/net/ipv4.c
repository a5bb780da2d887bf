/*
 * Frame builders and parsers for uhv's own addresses (vmm/net/ipv4.h).
 */
#include "vmm/net/ipv4.h"
#include "vmm/net/inet_csum.h"
#include "lib/string.h"
#include "lib/bytes.h"

#define IP_VERSION_SHIFT 4
#define IP_IHL_MASK      0xfU
#define IP_WORD          4
#define L4_MIN           8             /* an ICMP or UDP header */

const u8 eth_broadcast[ETH_ALEN] = { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff };
const u8 ipv4_broadcast[IPV4_ALEN] = { 255, 255, 255, 255 };
const u8 ipv4_any[IPV4_ALEN] = { 0, 0, 0, 0 };
/* RFC 826's fixed part for Ethernet and IPv4: htype 1, ptype 0x0800,
   hlen 6, plen 4. */
static const u8 arp_fixed[6] = { 0, 1, 8, 0, ETH_ALEN, IPV4_ALEN };

u16 eth_type(const u8 *frame, u32 len)
{
	return len >= ETH_HLEN ? be16_get(frame + ETH_TYPE_OFF) : 0;
}

void eth_put(u8 *f, const u8 *dst, const u8 *src, u16 type)
{
	memcpy(f, dst, ETH_ALEN);
	memcpy(f + ETH_ALEN, src, ETH_ALEN);
	be16_put(f + ETH_TYPE_OFF, type);
}

const u8 *arp_msg(const u8 *frame, u32 len)
{
	if (eth_type(frame, len) != ETHERTYPE_ARP || len < ETH_HLEN + ARP_LEN ||
	    memcmp(frame + ETH_HLEN, arp_fixed, sizeof(arp_fixed)))
		return NULL;
	return frame + ETH_HLEN;
}

u32 arp_frame(u8 *f, const u8 *eth_dst, u16 op, const u8 *sha,
	      const u8 *spa, const u8 *tha, const u8 *tpa)
{
	u8 *a = f + ETH_HLEN;

	eth_put(f, eth_dst, sha, ETHERTYPE_ARP);
	memcpy(a, arp_fixed, sizeof(arp_fixed));
	be16_put(a + ARP_OP_OFF, op);
	memcpy(a + ARP_SHA_OFF, sha, ETH_ALEN);
	memcpy(a + ARP_SPA_OFF, spa, IPV4_ALEN);
	memcpy(a + ARP_THA_OFF, tha, ETH_ALEN);
	memcpy(a + ARP_TPA_OFF, tpa, IPV4_ALEN);
	return ETH_HLEN + ARP_LEN;
}

bool ipv4_frame(const u8 *frame, u32 len, u32 *hlen, u32 *total)
{
	const u8 *ip = frame + ETH_HLEN;

	if (eth_type(frame, len) != ETHERTYPE_IPV4 ||
	    len < ETH_HLEN + IP_MIN_HLEN || (ip[0] >> IP_VERSION_SHIFT) != 4)
		return false;
	*hlen = (ip[0] & IP_IHL_MASK) * IP_WORD;
	*total = be16_get(ip + IP_TOTAL_OFF);
	return *hlen >= IP_MIN_HLEN && *total >= *hlen + L4_MIN &&
	       ETH_HLEN + *total <= len;
}

/* The IPv4 header of a packet of proto, total bytes long, at ip. */
static void ip_header(u8 *ip, u8 proto, const u8 *src, const u8 *dst,
		      u32 total)
{
	memset(ip, 0, IP_MIN_HLEN);
	ip[0] = IP_VERSION_IHL;
	be16_put(ip + IP_TOTAL_OFF, (u16)total);
	ip[IP_TTL_OFF] = IP_TTL;
	ip[IP_PROTO_OFF] = proto;
	memcpy(ip + IP_SRC_OFF, src, IPV4_ALEN);
	memcpy(ip + IP_DST_OFF, dst, IPV4_ALEN);
	be16_put(ip + IP_CSUM_OFF, inet_fold(inet_sum(ip, IP_MIN_HLEN, 0)));
}

u32 ip_frame(u8 *f, const u8 *eth_dst, const u8 *eth_src, const u8 *src,
	     const u8 *dst, u8 proto, const u8 *payload, u32 len)
{
	eth_put(f, eth_dst, eth_src, ETHERTYPE_IPV4);
	ip_header(f + ETH_HLEN, proto, src, dst, IP_MIN_HLEN + len);
	memcpy(f + ETH_HLEN + IP_MIN_HLEN, payload, len);
	return ETH_HLEN + IP_MIN_HLEN + len;
}

u32 udp_frame(u8 *f, const u8 *eth_dst, const u8 *eth_src, const u8 *src,
	      u16 sport, const u8 *dst, u16 dport, const u8 *payload, u32 len)
{
	u32 total = IP_MIN_HLEN + UDP_HLEN + len;
	u8 *ip = f + ETH_HLEN, *udp = ip + IP_MIN_HLEN;
	u64 pseudo;
	u16 csum;

	eth_put(f, eth_dst, eth_src, ETHERTYPE_IPV4);
	ip_header(ip, IP_PROTO_UDP, src, dst, total);
	memset(udp, 0, UDP_HLEN);
	be16_put(udp + UDP_SPORT_OFF, sport);
	be16_put(udp + UDP_DPORT_OFF, dport);
	be16_put(udp + UDP_LEN_OFF, (u16)(UDP_HLEN + len));
	memcpy(udp + UDP_HLEN, payload, len);
	/* RFC 768: the pseudo-header (addresses, protocol, UDP length) */
	pseudo = inet_sum(ip + IP_SRC_OFF, 2 * IPV4_ALEN,
			  IP_PROTO_UDP + UDP_HLEN + len);
	csum = inet_fold(inet_sum(udp, UDP_HLEN + len, pseudo));
	be16_put(udp + UDP_CSUM_OFF, csum ? csum : UDP_CSUM_ZERO);
	return ETH_HLEN + total;
}

/* The same packet back, turned around (RFC 792: the data returned). */
u32 icmp_echo_answer(u8 *r, const u8 *frame, u32 len, const u8 *mac,
		     const u8 *ip)
{
	const u8 *req = frame + ETH_HLEN;
	u32 hlen, total;
	u8 *rip, *icmp;

	if (!ipv4_frame(frame, len, &hlen, &total) ||
	    req[IP_PROTO_OFF] != IP_PROTO_ICMP || req[hlen] != ICMP_ECHO_REQUEST ||
	    memcmp(req + IP_DST_OFF, ip, IPV4_ALEN))
		return 0;
	eth_put(r, frame + ETH_ALEN, mac, ETHERTYPE_IPV4);
	rip = r + ETH_HLEN;
	memcpy(rip, req, total);
	memcpy(rip + IP_SRC_OFF, ip, IPV4_ALEN);
	memcpy(rip + IP_DST_OFF, req + IP_SRC_OFF, IPV4_ALEN);
	be16_put(rip + IP_CSUM_OFF, 0);
	be16_put(rip + IP_CSUM_OFF, inet_fold(inet_sum(rip, hlen, 0)));
	icmp = rip + hlen;
	icmp[0] = ICMP_ECHO_REPLY;
	be16_put(icmp + ICMP_CSUM_OFF, 0);
	be16_put(icmp + ICMP_CSUM_OFF, inet_fold(inet_sum(icmp, total - hlen, 0)));
	return ETH_HLEN + total;
}
