/*
 * The frames uhv's own addresses read and write (netif.c inside a bridge
 * network, nat_router.c on the uplink), their layouts named once:
 *
 *   Ethernet (IEEE 802.3): destination, source, EtherType
 *   ARP (EtherType 0x0806, RFC 826): htype 1, ptype 0x0800, hlen 6, plen 4,
 *     op (1 request, 2 reply), sha, spa, tha, tpa
 *   IPv4 (0x0800, RFC 791 §3.1): version/IHL, TOS, total length, id,
 *     flags/fragment offset, TTL, protocol, header checksum, source,
 *     destination
 *   UDP (RFC 768): ports, length, checksum over a pseudo-header
 *   ICMP (RFC 792): type, code, checksum, identifier, sequence, data
 *
 * Pure C, no state: builders return the frame's length.
 */
#ifndef UHV_VMM_IPV4_H
#define UHV_VMM_IPV4_H

#include "vmm/net/bridge.h"

#define IPV4_ALEN      4
#define ETHERTYPE_ARP  0x0806
#define ETHERTYPE_IPV4 0x0800
#define ETH_TYPE_OFF   (2 * ETH_ALEN)

#define ARP_LEN        28
#define ARP_OP_REQUEST 1
#define ARP_OP_REPLY   2
#define ARP_OP_OFF     6
#define ARP_SHA_OFF    8
#define ARP_SPA_OFF    14
#define ARP_THA_OFF    18
#define ARP_TPA_OFF    24

#define IP_MIN_HLEN    20
#define IP_VERSION_IHL 0x45            /* version 4, 20-byte header */
#define IP_TOTAL_OFF   2
#define IP_TTL_OFF     8
#define IP_PROTO_OFF   9
#define IP_CSUM_OFF    10
#define IP_SRC_OFF     12
#define IP_DST_OFF     16
#define IP_TTL         64
#define IP_PROTO_ICMP  1
#define IP_PROTO_TCP   6
#define IP_PROTO_UDP   17

#define UDP_HLEN       8
#define UDP_SPORT_OFF  0
#define UDP_DPORT_OFF  2
#define UDP_LEN_OFF    4
#define UDP_CSUM_OFF   6
#define UDP_CSUM_ZERO  0xffff          /* a sum of 0, sent (RFC 768) */

#define ICMP_ECHO_REPLY   0
#define ICMP_ECHO_REQUEST 8
#define ICMP_CSUM_OFF     2

extern const u8 eth_broadcast[ETH_ALEN];
extern const u8 ipv4_broadcast[IPV4_ALEN];
extern const u8 ipv4_any[IPV4_ALEN];

/* The frame's EtherType; 0 if it is shorter than an Ethernet header. */
u16 eth_type(const u8 *frame, u32 len);
/* An Ethernet header at f. */
void eth_put(u8 *f, const u8 *dst, const u8 *src, u16 type);

/* The ARP message in frame (len bytes) if it is a whole Ethernet/IPv4
   one (RFC 826's fixed part); NULL if not. */
const u8 *arp_msg(const u8 *frame, u32 len);
/* An ARP frame of op into f (ETH_HLEN + ARP_LEN bytes), to eth_dst. */
u32 arp_frame(u8 *f, const u8 *eth_dst, u16 op, const u8 *sha,
	      const u8 *spa, const u8 *tha, const u8 *tpa);

/* The IPv4 packet in frame: *hlen its header's length, *total its own
   (at least hlen + 8: room for an ICMP or UDP header); false if it is
   not one, or runs past the frame. */
bool ipv4_frame(const u8 *frame, u32 len, u32 *hlen, u32 *total);

/* A UDP datagram from src:sport to dst:dport with len bytes of payload,
   in an IPv4 packet in an Ethernet frame from eth_src to eth_dst, both
   checksums computed, into f (room for ETH_FRAME_MAX). */
u32 udp_frame(u8 *f, const u8 *eth_dst, const u8 *eth_src, const u8 *src,
	      u16 sport, const u8 *dst, u16 dport, const u8 *payload, u32 len);

/* An IPv4 packet of proto from src to dst around len bytes of payload
   (its transport header and data, checksummed by the caller), in an
   Ethernet frame from eth_src to eth_dst, into f (room for
   ETH_FRAME_MAX; len at most ETH_FRAME_MAX - ETH_HLEN - IP_MIN_HLEN). */
u32 ip_frame(u8 *f, const u8 *eth_dst, const u8 *eth_src, const u8 *src,
	     const u8 *dst, u8 proto, const u8 *payload, u32 len);

/* If frame is an ICMP echo request to ip: the reply, from mac, into r
   (room for len bytes), and its length; else 0. */
u32 icmp_echo_answer(u8 *r, const u8 *frame, u32 len, const u8 *mac,
		     const u8 *ip);

#endif
